//! The rules file (checks as code): YAML with a top-level `rules:` list of
//! [`RuleDefinition`]s. Parsing reports every problem at once, each with its line and rule.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::definition::RuleDefinition;
use super::rule::Rule;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rules: Vec<Spanned<serde_json::Value>>,
}

/// One problem in a rules file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    pub line: Option<u64>,
    pub rule: Option<String>,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, "rule `{rule}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Parses and validates a whole rules file. Either every rule is valid, or nothing is
/// returned but the list of problems (so a bad file can never be half-applied).
pub fn parse_rules_file(text: &str) -> Result<Vec<Rule>, Vec<FileError>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let raw: RawFile = serde_saphyr::from_str(text).map_err(|e| {
        vec![FileError { line: e.location().map(|l| l.line()), rule: None, message: first_line(&e.to_string()) }]
    })?;
    let mut rules = Vec::with_capacity(raw.rules.len());
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for spanned in raw.rules {
        let line = Some(spanned.referenced.line());
        let id = spanned.value.get("id").and_then(|v| v.as_str()).map(str::to_string);
        let definition: RuleDefinition = match serde_json::from_value(spanned.value) {
            Ok(d) => d,
            Err(e) => {
                errors.push(FileError { line, rule: id, message: e.to_string() });
                continue;
            }
        };
        if !seen.insert(definition.id.clone()) {
            errors.push(FileError { line, rule: id, message: "the same `id` is used by an earlier rule".into() });
            continue;
        }
        match Rule::from_definition(definition) {
            Ok(rule) => rules.push(rule),
            Err(e) => {
                let line = e.field.as_deref().and_then(|f| field_line(text, line, f)).or(line);
                errors.push(FileError { line, rule: id, message: e.message });
            }
        }
    }
    if errors.is_empty() { Ok(rules) } else { Err(errors) }
}

/// The line of `field` (its last path segment, as a key) within the rule that starts at
/// `rule_line`: the rule's lines run until the next line indented no deeper than its `- `.
fn field_line(text: &str, rule_line: Option<u64>, field: &str) -> Option<u64> {
    let start = usize::try_from(rule_line?).ok()?.checked_sub(1)?;
    let key = field.rsplit('.').next()?;
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.get(start)?;
    let item_indent = first.len() - first.trim_start().len();
    for (offset, line) in lines.iter().enumerate().skip(start) {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if offset > start && !trimmed.is_empty() && indent <= item_indent {
            break;
        }
        let body = trimmed.trim_start_matches("- ");
        let is_key = body.starts_with(&format!("{key}:")) || body.contains(&format!("{{ {key}:")) || body.contains(&format!(", {key}:"));
        if is_key {
            return u64::try_from(offset + 1).ok();
        }
    }
    None
}

/// YAML errors carry a source snippet after the first line; the first line is the message.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
rules:
  - id: orders_have_rows
    kind: metric
    severity: block
    target: { namespace: "postgres://prod:5432", name: "analytics.*" }
    metric: row_count
    op: ">"
    value: 0
  - id: orders_fresh
    kind: freshness
    severity: warn
    target: { namespace: "postgres://prod:5432", name: analytics.orders }
    max_age: 6h
"#;

    #[test]
    fn good_file_parses_every_rule() {
        let rules = parse_rules_file(GOOD).expect("valid file");
        assert_eq!(rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["orders_have_rows", "orders_fresh"]);
    }

    #[test]
    fn errors_name_the_line_and_the_rule() {
        let bad = r#"
rules:
  - id: ok_rule
    kind: run_status
    target: { namespace: a, name: b }
  - id: broken_fresh
    kind: freshness
    target: { namespace: a, name: b }
    max_age: soon
  - id: typo_field
    kind: run_status
    targt: { namespace: a, name: b }
  - id: ok_rule
    kind: run_status
    target: { namespace: a, name: b }
"#;
        let errors = parse_rules_file(bad).expect_err("invalid file");
        assert_eq!(errors.len(), 3, "{errors:?}");
        // The line of the field at fault, not just of the rule.
        assert_eq!(errors[0].line, Some(9));
        assert_eq!(errors[0].rule.as_deref(), Some("broken_fresh"));
        assert!(errors[0].to_string().starts_with("line 9: rule `broken_fresh`: `max_age`"), "{}", errors[0]);
        assert_eq!(errors[1].line, Some(10));
        assert!(errors[1].message.contains("targt"), "{}", errors[1]);
        assert_eq!(errors[2].line, Some(13));
        assert!(errors[2].message.contains("same `id`"));
    }

    #[test]
    fn broken_yaml_reports_its_line() {
        let errors = parse_rules_file("rules:\n  - id: x\n    kind: [unclosed\n").expect_err("bad yaml");
        assert!(errors[0].line.is_some(), "{errors:?}");
        let errors = parse_rules_file("ruels: []\n").expect_err("unknown top-level key");
        assert!(errors[0].message.contains("ruels"), "{errors:?}");
    }
}
