//! `weir rules check` and `weir rules apply`.

use std::path::Path;

use serde_json::{Value, json};

use super::ServerArgs;
use super::client::graphql;
use crate::quality::parse_rules_file;

/// Reads and validates a rules file; every problem is reported as `FILE:LINE: rule `ID`: ...`.
fn read_valid(file: &Path) -> Result<(String, usize), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    match parse_rules_file(&text) {
        Ok(rules) => Ok((text, rules.len())),
        Err(errors) => {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| match e.line {
                    Some(line) => format!("{}:{line}: {}", file.display(), FileErrorBody(e)),
                    None => format!("{}: {}", file.display(), FileErrorBody(e)),
                })
                .collect();
            Err(lines.join("\n"))
        }
    }
}

/// A file error without its `line N: ` prefix (the CLI puts the line after the file name).
struct FileErrorBody<'a>(&'a crate::quality::FileError);

impl std::fmt::Display for FileErrorBody<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(rule) = &self.0.rule {
            write!(f, "rule `{rule}`: ")?;
        }
        write!(f, "{}", self.0.message)
    }
}

pub fn check(file: &Path) -> Result<String, String> {
    let (_, count) = read_valid(file)?;
    Ok(format!("{}: {count} rules, all valid", file.display()))
}

const APPLY: &str = "mutation($yaml: String!, $dryRun: Boolean!, $author: String) {
  applyRules(yaml: $yaml, dryRun: $dryRun, author: $author) { created updated deleted unchanged applied }
}";

/// [`APPLY`] with `allowEmpty`, sent only when asked for, so that servers from before the
/// argument still take every other apply.
const APPLY_ALLOWING_EMPTY: &str = "mutation($yaml: String!, $dryRun: Boolean!, $author: String) {
  applyRules(yaml: $yaml, dryRun: $dryRun, author: $author, allowEmpty: true) { created updated deleted unchanged applied }
}";

/// Validates locally first (a bad file is never sent), then applies on the server in one
/// transaction. Returns the plan as text.
pub async fn apply(file: &Path, server: &ServerArgs, dry_run: bool, allow_empty: bool, author: &str) -> Result<String, String> {
    let (yaml, _) = read_valid(file)?;
    let mutation = if allow_empty { APPLY_ALLOWING_EMPTY } else { APPLY };
    let data = graphql(server, mutation, json!({ "yaml": yaml, "dryRun": dry_run, "author": author }))
        .await
        .map_err(|e| e.to_string())?;
    Ok(describe_plan(&data["applyRules"]))
}

fn describe_plan(plan: &Value) -> String {
    let ids = |key: &str| -> Vec<String> {
        plan[key].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    let mut out = Vec::new();
    for (sign, key) in [("+", "created"), ("~", "updated"), ("-", "deleted")] {
        for id in ids(key) {
            out.push(format!("{sign} {id}"));
        }
    }
    let (created, updated, deleted, unchanged) = (ids("created").len(), ids("updated").len(), ids("deleted").len(), ids("unchanged").len());
    let verb = if plan["applied"].as_bool() == Some(true) { "applied" } else { "dry run, nothing changed" };
    out.push(format!("{created} created, {updated} updated, {deleted} deleted, {unchanged} unchanged ({verb})"));
    out.join("\n")
}
