//! The validated rule model: what a [`RuleDefinition`] means once checked.

use std::sync::Arc;
use std::time::Duration;

use globset::{Glob, GlobMatcher};

use super::definition::{ColumnDefinition, RuleDefinition};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Warn,
    Block,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Block => "block",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_lowercase().as_str() {
            "warn" | "warning" => Some(Severity::Warn),
            "block" | "error" => Some(Severity::Block),
            _ => None,
        }
    }
}

/// A comparison of an observed number with the rule's expectation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Condition {
    Lt(f64),
    Le(f64),
    Gt(f64),
    Ge(f64),
    Eq(f64),
    Ne(f64),
    Between(f64, f64),
}

impl Condition {
    pub fn holds(self, x: f64) -> bool {
        match self {
            Condition::Lt(v) => x < v,
            Condition::Le(v) => x <= v,
            Condition::Gt(v) => x > v,
            Condition::Ge(v) => x >= v,
            Condition::Eq(v) => x == v,
            Condition::Ne(v) => x != v,
            Condition::Between(lo, hi) => lo <= x && x <= hi,
        }
    }

    /// How the expectation reads in results: `> 0`, `between 10 and 20`.
    pub fn describe(self) -> String {
        match self {
            Condition::Lt(v) => format!("< {v}"),
            Condition::Le(v) => format!("<= {v}"),
            Condition::Gt(v) => format!("> {v}"),
            Condition::Ge(v) => format!(">= {v}"),
            Condition::Eq(v) => format!("== {v}"),
            Condition::Ne(v) => format!("!= {v}"),
            Condition::Between(lo, hi) => format!("between {lo} and {hi}"),
        }
    }
}

/// The metrics a `metric` rule can test. Ratios and the mean are derived from the stored
/// counts and sums of the same evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    RowCount,
    Bytes,
    FileCount,
    NullCount,
    NullRatio,
    DistinctCount,
    DistinctRatio,
    Min,
    Max,
    Sum,
    Mean,
    Quantile(f64),
}

impl Metric {
    fn parse(s: &str) -> Option<Metric> {
        let s = s.trim();
        if let Some(q) = s.strip_prefix("quantile(").and_then(|r| r.strip_suffix(')')) {
            let q: f64 = q.trim().parse().ok()?;
            return (0.0..=1.0).contains(&q).then_some(Metric::Quantile(q));
        }
        Some(match s {
            "row_count" => Metric::RowCount,
            "bytes" => Metric::Bytes,
            "file_count" => Metric::FileCount,
            "null_count" => Metric::NullCount,
            "null_ratio" => Metric::NullRatio,
            "distinct_count" => Metric::DistinctCount,
            "distinct_ratio" => Metric::DistinctRatio,
            "min" => Metric::Min,
            "max" => Metric::Max,
            "sum" => Metric::Sum,
            "mean" => Metric::Mean,
            _ => return None,
        })
    }

    /// Dataset-level metrics take no column; all others need one.
    pub fn is_dataset_level(self) -> bool {
        matches!(self, Metric::RowCount | Metric::Bytes | Metric::FileCount)
    }

    /// The stored values this metric is computed from, as `(column or "", stored name)`: a
    /// ratio divides the column's count by the dataset's row count; a mean, the column's sum
    /// by its count.
    pub fn inputs(self, column: Option<&str>) -> Vec<(String, String)> {
        let col = column.unwrap_or_default().to_string();
        let on_column = |name: &str| (col.clone(), name.to_string());
        match self {
            Metric::NullRatio => vec![on_column("null_count"), (String::new(), "row_count".into())],
            Metric::DistinctRatio => vec![on_column("distinct_count"), (String::new(), "row_count".into())],
            Metric::Mean => vec![on_column("sum"), on_column("count")],
            other => vec![on_column(&other.stored_name())],
        }
    }

    /// The name as stored by ingestion (`quantile(0.5)` as the facet reader writes it).
    pub fn stored_name(self) -> String {
        match self {
            Metric::RowCount => "row_count".into(),
            Metric::Bytes => "bytes".into(),
            Metric::FileCount => "file_count".into(),
            Metric::NullCount => "null_count".into(),
            Metric::NullRatio => "null_ratio".into(),
            Metric::DistinctCount => "distinct_count".into(),
            Metric::DistinctRatio => "distinct_ratio".into(),
            Metric::Min => "min".into(),
            Metric::Max => "max".into(),
            Metric::Sum => "sum".into(),
            Metric::Mean => "mean".into(),
            Metric::Quantile(q) => format!("quantile({q})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum VolumeBound {
    /// Percent change of the latest row count against the mean of the previous writes.
    Percent { max_drop: Option<f64>, max_growth: Option<f64> },
    /// |latest - mean| / stddev of the previous writes.
    ZScore(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Metric { metric: Metric, column: Option<String>, condition: Condition },
    Freshness { max_age: Duration },
    VolumeChange { lookback: u32, bound: VolumeBound },
    Schema { required: Vec<ColumnDefinition>, forbidden: Vec<String>, no_breaking_changes: bool },
    Assertions { names: Vec<String> },
    RunStatus,
}

impl Check {
    pub fn kind(&self) -> &'static str {
        match self {
            Check::Metric { .. } => "metric",
            Check::Freshness { .. } => "freshness",
            Check::VolumeChange { .. } => "volume_change",
            Check::Schema { .. } => "schema",
            Check::Assertions { .. } => "assertions",
            Check::RunStatus => "run_status",
        }
    }
}

/// Compiled target globs, shared: a clone of a compiled regex gets caches of its own, empty,
/// and filling them again made every match of a freshly loaded rule cost ~35k instructions
/// (rules are loaded per transaction), 3% of ingest.
#[derive(Debug, Clone)]
pub struct Target {
    pub namespace: String,
    pub name: String,
    namespace_glob: Arc<GlobMatcher>,
    name_glob: Arc<GlobMatcher>,
}

impl Target {
    pub fn matches(&self, namespace: &str, name: &str) -> bool {
        self.namespace_glob.is_match(namespace) && self.name_glob.is_match(name)
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Self) -> bool {
        self.namespace == other.namespace && self.name == other.name
    }
}

/// A validated rule, ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub target: Target,
    pub check: Check,
    /// The definition it was built from (what is stored and shown).
    pub definition: RuleDefinition,
}

/// What is wrong with a rule definition. The message names the field; the caller adds the
/// rule id and, for a file, the line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    /// The field at fault (`max_age`, `target.name`), when there is one: a rules file uses it
    /// to point at the exact line.
    pub field: Option<String>,
    pub message: String,
}

/// An error about the rule as a whole (a missing field, a combination).
fn err<T>(message: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError { field: None, message: message.into() })
}

/// An error about one field's value.
fn field_err<T>(field: &str, message: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError { field: Some(field.to_string()), message: message.into() })
}

/// Glob over the whole value; `/` is an ordinary character (names and namespaces are not paths).
fn compile_glob(field: &str, pattern: &str) -> Result<Arc<GlobMatcher>, RuleError> {
    if pattern.trim().is_empty() {
        return field_err(field, format!("`{field}` must not be empty"));
    }
    if let Some(compiled) = glob_cache::get(pattern) {
        return Ok(compiled);
    }
    let compiled = globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map(|g: Glob| Arc::new(g.compile_matcher()))
        .or_else(|e| field_err(field, format!("`{field}` pattern `{pattern}` does not compile: {}", e.kind())))?;
    glob_cache::put(pattern, &compiled);
    Ok(compiled)
}

/// Compiled globs by pattern. Stored rules are validated again each time they are loaded
/// (every ingest transaction), and compiling a glob builds a regex automaton: that was a
/// visible part of each event's cost. A pattern always compiles to the same matcher, so the
/// cache is keyed by the pattern alone and is correct whatever database the rule came from.
mod glob_cache {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex};

    use globset::GlobMatcher;

    /// Rules are written by people; past this many distinct patterns the cache starts over.
    const MAX_ENTRIES: usize = 4096;

    static CACHE: LazyLock<Mutex<HashMap<String, Arc<GlobMatcher>>>> = LazyLock::new(Default::default);

    pub fn get(pattern: &str) -> Option<Arc<GlobMatcher>> {
        CACHE.lock().ok()?.get(pattern).cloned()
    }

    pub fn put(pattern: &str, compiled: &Arc<GlobMatcher>) {
        if let Ok(mut cache) = CACHE.lock() {
            if cache.len() >= MAX_ENTRIES {
                cache.clear();
            }
            cache.insert(pattern.to_string(), compiled.clone());
        }
    }
}

pub const KINDS: &str = "metric, freshness, volume_change, schema, assertions, run_status";

impl Rule {
    pub fn from_definition(def: RuleDefinition) -> Result<Rule, RuleError> {
        let id_ok = !def.id.is_empty()
            && def.id.len() <= 200
            && def.id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !id_ok {
            return field_err("id", format!("`id` `{}` must be 1-200 letters, digits, `_`, `-` or `.`", def.id));
        }
        let severity = match &def.severity {
            None => Severity::Block,
            Some(s) => match Severity::parse(s) {
                Some(s) => s,
                None => return field_err("severity", format!("`severity` `{s}` is not `warn` or `block`")),
            },
        };
        let target = Target {
            namespace: def.target.namespace.clone(),
            name: def.target.name.clone(),
            namespace_glob: compile_glob("target.namespace", &def.target.namespace)?,
            name_glob: compile_glob("target.name", &def.target.name)?,
        };
        let check = check_of(&def)?;
        Ok(Rule {
            id: def.id.clone(),
            severity,
            description: def.description.clone(),
            owner: def.owner.clone(),
            target,
            check,
            definition: def,
        })
    }
}

fn check_of(def: &RuleDefinition) -> Result<Check, RuleError> {
    match def.kind.trim() {
        "metric" => metric_check(def),
        "freshness" => {
            let Some(text) = &def.max_age else { return err("freshness rule needs `max_age` (e.g. `6h`)") };
            let max_age = match parse_duration(text) {
                Ok(d) => d,
                Err(m) => return field_err("max_age", format!("`max_age`: {m}")),
            };
            Ok(Check::Freshness { max_age })
        }
        "volume_change" => volume_check(def),
        "schema" => {
            if def.required_columns.is_empty() && def.forbidden_columns.is_empty() && def.no_breaking_changes != Some(true) {
                return err("schema rule needs `required_columns`, `forbidden_columns` or `no_breaking_changes: true`");
            }
            if let Some(c) = def.required_columns.iter().find(|c| c.name.trim().is_empty()) {
                return field_err("required_columns", format!("`required_columns` has a column with an empty name ({c:?})"));
            }
            Ok(Check::Schema {
                required: def.required_columns.clone(),
                forbidden: def.forbidden_columns.clone(),
                no_breaking_changes: def.no_breaking_changes.unwrap_or(false),
            })
        }
        "assertions" => Ok(Check::Assertions { names: def.assertions.clone() }),
        "run_status" => Ok(Check::RunStatus),
        other => field_err("kind", format!("unknown kind `{other}`: expected one of {KINDS}")),
    }
}

fn metric_check(def: &RuleDefinition) -> Result<Check, RuleError> {
    let Some(name) = &def.metric else { return err("metric rule needs `metric` (e.g. `row_count`)") };
    let Some(metric) = Metric::parse(name) else {
        return field_err("metric", format!(
            "unknown metric `{name}`: expected row_count, bytes, file_count, null_count, null_ratio, \
             distinct_count, distinct_ratio, min, max, sum, mean or quantile(Q) with 0 <= Q <= 1"
        ));
    };
    let column = def.column.clone().filter(|c| !c.trim().is_empty());
    match (metric.is_dataset_level(), &column) {
        (true, Some(c)) => return field_err("column", format!("metric `{name}` is dataset-level; remove `column: {c}`")),
        (false, None) => return err(format!("metric `{name}` is a column metric; it needs `column`")),
        _ => {}
    }
    let Some(op) = &def.op else { return err("metric rule needs `op` (<, <=, >, >=, ==, != or between)") };
    let finite = |field: &str, v: Option<f64>| -> Result<f64, RuleError> {
        match v {
            Some(v) if v.is_finite() => Ok(v),
            Some(v) => field_err(field, format!("`{field}` must be a finite number, got {v}")),
            None => err(format!("`op: {op}` needs `{field}`")),
        }
    };
    let condition = match op.trim() {
        "<" => Condition::Lt(finite("value", def.value)?),
        "<=" => Condition::Le(finite("value", def.value)?),
        ">" => Condition::Gt(finite("value", def.value)?),
        ">=" => Condition::Ge(finite("value", def.value)?),
        "==" => Condition::Eq(finite("value", def.value)?),
        "!=" => Condition::Ne(finite("value", def.value)?),
        "between" => {
            let (lo, hi) = (finite("min", def.min)?, finite("max", def.max)?);
            if lo > hi {
                return field_err("min", format!("`min` ({lo}) is greater than `max` ({hi})"));
            }
            Condition::Between(lo, hi)
        }
        other => return field_err("op", format!("unknown `op` `{other}`: expected <, <=, >, >=, ==, != or between")),
    };
    Ok(Check::Metric { metric, column, condition })
}

fn volume_check(def: &RuleDefinition) -> Result<Check, RuleError> {
    let lookback = def.lookback.unwrap_or(7);
    if !(1..=1000).contains(&lookback) {
        return field_err("lookback", format!("`lookback` must be between 1 and 1000 writes, got {lookback}"));
    }
    let non_negative = |field: &str, v: Option<f64>| -> Result<Option<f64>, RuleError> {
        match v {
            Some(v) if !v.is_finite() || v < 0.0 => field_err(field, format!("`{field}` must be a non-negative number, got {v}")),
            other => Ok(other),
        }
    };
    let bound = match (def.z_score, def.max_drop_pct, def.max_growth_pct) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return err("use either `z_score` or `max_drop_pct`/`max_growth_pct`, not both");
        }
        (Some(z), None, None) => {
            if !z.is_finite() || z <= 0.0 {
                return field_err("z_score", format!("`z_score` must be a positive number, got {z}"));
            }
            if lookback < 2 {
                return err("`z_score` needs `lookback` of at least 2 writes");
            }
            VolumeBound::ZScore(z)
        }
        (None, None, None) => return err("volume_change rule needs `max_drop_pct`, `max_growth_pct` or `z_score`"),
        (None, drop, growth) => {
            let drop = non_negative("max_drop_pct", drop)?;
            if drop.is_some_and(|d| d > 100.0) {
                return field_err("max_drop_pct", "`max_drop_pct` cannot be above 100");
            }
            VolumeBound::Percent { max_drop: drop, max_growth: non_negative("max_growth_pct", growth)? }
        }
    };
    Ok(Check::VolumeChange { lookback, bound })
}

/// `90m`, `6h`, `1d`, `1h30m`, `45s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| format!("`{text}` is not a duration like 90m, 6h or 1d ({e})"))?;
    if d.is_zero() {
        return Err(format!("`{text}` must be longer than zero"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::definition::TargetDefinition;

    fn def(kind: &str) -> RuleDefinition {
        RuleDefinition {
            id: "r1".into(),
            kind: kind.into(),
            target: TargetDefinition { namespace: "postgres://prod:5432".into(), name: "analytics.*".into() },
            ..Default::default()
        }
    }

    #[test]
    fn metric_rule_with_threshold_and_range() {
        let mut d = def("metric");
        d.metric = Some("row_count".into());
        d.op = Some(">".into());
        d.value = Some(0.0);
        let rule = Rule::from_definition(d.clone()).expect("valid");
        assert_eq!(rule.severity, Severity::Block);
        assert!(matches!(rule.check, Check::Metric { metric: Metric::RowCount, condition: Condition::Gt(v), .. } if v == 0.0));

        d.metric = Some("quantile(0.95)".into());
        d.column = Some("amount".into());
        d.op = Some("between".into());
        d.min = Some(1.0);
        d.max = Some(10.0);
        let rule = Rule::from_definition(d).expect("valid");
        assert!(matches!(rule.check, Check::Metric { metric: Metric::Quantile(q), condition: Condition::Between(..), .. } if q == 0.95));
    }

    #[test]
    fn bad_definitions_say_what_is_wrong() {
        let cases: Vec<(RuleDefinition, &str)> = vec![
            (def("nonsense"), "unknown kind `nonsense`"),
            ({ let mut d = def("metric"); d.metric = Some("row_count".into()); d.op = Some(">".into()); d }, "needs `value`"),
            ({ let mut d = def("metric"); d.metric = Some("rows".into()); d }, "unknown metric `rows`"),
            ({ let mut d = def("metric"); d.metric = Some("null_count".into()); d.op = Some(">".into()); d.value = Some(1.0); d }, "needs `column`"),
            ({ let mut d = def("metric"); d.metric = Some("row_count".into()); d.op = Some("between".into()); d.min = Some(5.0); d.max = Some(1.0); d }, "greater than `max`"),
            ({ let mut d = def("metric"); d.metric = Some("row_count".into()); d.op = Some("~".into()); d }, "unknown `op`"),
            ({ let mut d = def("freshness"); d.max_age = Some("soon".into()); d }, "not a duration"),
            (def("freshness"), "needs `max_age`"),
            (def("volume_change"), "needs `max_drop_pct`"),
            ({ let mut d = def("volume_change"); d.max_drop_pct = Some(150.0); d }, "above 100"),
            (def("schema"), "schema rule needs"),
            ({ let mut d = def("run_status"); d.target.name = "a[".into(); d }, "does not compile"),
            ({ let mut d = def("run_status"); d.severity = Some("fatal".into()); d }, "not `warn` or `block`"),
            ({ let mut d = def("run_status"); d.id = "has space".into(); d }, "`id`"),
        ];
        for (d, expected) in cases {
            let message = Rule::from_definition(d.clone()).map(|_| ()).expect_err(expected).message;
            assert!(message.contains(expected), "{message:?} should contain {expected:?}");
        }
    }

    #[test]
    fn targets_glob_over_namespace_and_name() {
        let rule = Rule::from_definition(def("run_status")).expect("valid");
        assert!(rule.target.matches("postgres://prod:5432", "analytics.orders"));
        assert!(!rule.target.matches("postgres://prod:5432", "staging.orders"));
        assert!(!rule.target.matches("postgres://dev:5432", "analytics.orders"));
        let mut d = def("run_status");
        d.target = TargetDefinition { namespace: "s3://*".into(), name: "exports/*".into() };
        let rule = Rule::from_definition(d).expect("valid");
        assert!(rule.target.matches("s3://bucket", "exports/2024/01/orders"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86400)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("6 hours-ish").is_err());
    }
}
