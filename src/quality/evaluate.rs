//! Evaluating one rule on one dataset's evidence. Pure: the engine gathers the evidence, this
//! decides pass, fail or error, and says what was observed and expected.
//!
//! Missing or malformed evidence is an `Error` with a message saying what was missing — never
//! a silent pass.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::rule::{Check, Metric, Rule, Severity, VolumeBound};
use crate::model::RunState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Outcome {
        match s {
            "pass" => Outcome::Pass,
            "fail" => Outcome::Fail,
            _ => Outcome::Error,
        }
    }
}

/// A column of a schema, as evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub data_type: Option<String>,
}

/// An assertion result, as evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct AssertionResult {
    pub assertion: String,
    pub column: Option<String>,
    pub success: bool,
    pub severity: Option<String>,
}

impl AssertionResult {
    /// `unique(id)` for a column assertion, `row_count_between` for a dataset one.
    pub fn label(&self) -> String {
        match &self.column {
            Some(c) => format!("{}({c})", self.assertion),
            None => self.assertion.clone(),
        }
    }
}

/// Everything known about one dataset that rules may look at.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub now: DateTime<Utc>,
    /// Latest value of each `(column or "", metric)`; `None` when reported without a value.
    pub metrics: HashMap<(String, String), Option<f64>>,
    /// Row counts of the most recent writes, newest first.
    pub row_counts: Vec<f64>,
    pub last_written_at: Option<DateTime<Utc>>,
    pub schema: Option<Vec<Column>>,
    pub previous_schema: Option<Vec<Column>>,
    /// The assertions of the most recent evidence that carried any.
    pub assertions: Vec<AssertionResult>,
    /// State of the most recent run that had the dataset as an output.
    pub last_writer_state: Option<RunState>,
}

/// What a set of rules looks at, so that only that is read from the store: a dataset's
/// evidence history grows with every event, and reading all of it for every evaluation made
/// each event slower than the last.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceNeeds {
    /// The `(column or "", stored metric name)` whose latest values are needed.
    pub metrics: Vec<(String, String)>,
    /// How many recent written row counts (volume change); 0 for none.
    pub row_count_history: u64,
    pub schema: bool,
    pub assertions: bool,
    pub last_written: bool,
    pub last_writer_state: bool,
}

impl EvidenceNeeds {
    pub fn of<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> EvidenceNeeds {
        let mut needs = EvidenceNeeds::default();
        for rule in rules {
            match &rule.check {
                Check::Metric { metric, column, .. } => needs.metrics.extend(metric.inputs(column.as_deref())),
                Check::Freshness { .. } => needs.last_written = true,
                Check::VolumeChange { lookback, .. } => {
                    needs.row_count_history = needs.row_count_history.max(u64::from(*lookback) + 1);
                }
                Check::Schema { .. } => needs.schema = true,
                // Assertions count only since the data was last written.
                Check::Assertions { .. } => {
                    needs.assertions = true;
                    needs.last_written = true;
                }
                Check::RunStatus => needs.last_writer_state = true,
            }
        }
        needs.metrics.sort();
        needs.metrics.dedup();
        needs
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    pub outcome: Outcome,
    /// The rule's severity, lowered to `warn` when only warn-level assertions failed.
    pub severity: Severity,
    pub observed: Option<Value>,
    pub expected: String,
    pub message: String,
}

fn result(outcome: Outcome, rule: &Rule, observed: Option<Value>, expected: String, message: String) -> CheckOutcome {
    CheckOutcome { outcome, severity: rule.severity, observed, expected, message }
}

pub fn evaluate(rule: &Rule, ev: &Evidence) -> CheckOutcome {
    match &rule.check {
        Check::Metric { metric, column, condition } => {
            let expected = format!("{} {}", metric_label(*metric, column.as_deref()), condition.describe());
            match metric_value(*metric, column.as_deref(), ev) {
                Err(message) => result(Outcome::Error, rule, None, expected, message),
                Ok(x) => {
                    let ok = condition.holds(x);
                    let message = format!("{} is {x}", metric_label(*metric, column.as_deref()));
                    let outcome = if ok { Outcome::Pass } else { Outcome::Fail };
                    result(outcome, rule, Some(json!(x)), expected, message)
                }
            }
        }
        Check::Freshness { max_age } => {
            let expected = format!("written within {}", humantime::format_duration(*max_age));
            let Some(written) = ev.last_written_at else {
                return result(Outcome::Error, rule, None, expected, "never written by a successful (COMPLETE) run".into());
            };
            let age = (ev.now - written).to_std().unwrap_or_default();
            let observed = json!({ "last_written_at": written.to_rfc3339(), "age_seconds": age.as_secs() });
            let age_text = humantime::format_duration(std::time::Duration::from_secs(age.as_secs()));
            let outcome = if age <= *max_age { Outcome::Pass } else { Outcome::Fail };
            result(outcome, rule, Some(observed), expected, format!("last written {age_text} ago"))
        }
        Check::VolumeChange { lookback, bound } => volume(rule, *lookback, bound, ev),
        Check::Schema { required, forbidden, no_breaking_changes } => {
            let expected = "schema contract".to_string();
            let Some(schema) = &ev.schema else {
                return result(Outcome::Error, rule, None, expected, "no schema has been reported for the dataset".into());
            };
            let find = |name: &str| schema.iter().find(|c| c.name == name);
            let mut problems = Vec::new();
            for column in required {
                match (find(&column.name), &column.data_type) {
                    (None, _) => problems.push(format!("required column `{}` is missing", column.name)),
                    (Some(found), Some(t)) if !same_type(found.data_type.as_deref(), t) => problems.push(format!(
                        "column `{}` has type {} instead of {t}",
                        column.name,
                        found.data_type.as_deref().unwrap_or("(none)")
                    )),
                    _ => {}
                }
            }
            for name in forbidden {
                if find(name).is_some() {
                    problems.push(format!("forbidden column `{name}` is present"));
                }
            }
            if *no_breaking_changes && let Some(previous) = &ev.previous_schema {
                for old in previous {
                    match find(&old.name) {
                        None => problems.push(format!("column `{}` was dropped", old.name)),
                        Some(new) if !same_type(new.data_type.as_deref(), old.data_type.as_deref().unwrap_or("")) && old.data_type.is_some() => {
                            problems.push(format!(
                                "column `{}` changed type from {} to {}",
                                old.name,
                                old.data_type.as_deref().unwrap_or("(none)"),
                                new.data_type.as_deref().unwrap_or("(none)")
                            ))
                        }
                        _ => {}
                    }
                }
            }
            let columns: Vec<&str> = schema.iter().map(|c| c.name.as_str()).collect();
            if problems.is_empty() {
                result(Outcome::Pass, rule, Some(json!({ "columns": columns })), expected, "schema satisfies the contract".into())
            } else {
                let message = problems.join("; ");
                result(Outcome::Fail, rule, Some(json!({ "columns": columns, "problems": problems })), expected, message)
            }
        }
        Check::Assertions { names } => assertions(rule, names, ev),
        Check::RunStatus => {
            let expected = "the last run that wrote it did not fail".to_string();
            match ev.last_writer_state {
                None => result(Outcome::Error, rule, None, expected, "no run has written the dataset".into()),
                Some(state) => {
                    let failed = matches!(state, RunState::Fail | RunState::Abort);
                    let outcome = if failed { Outcome::Fail } else { Outcome::Pass };
                    result(outcome, rule, Some(json!(state.as_str())), expected, format!("last writing run is {}", state.as_str()))
                }
            }
        }
    }
}

fn same_type(actual: Option<&str>, expected: &str) -> bool {
    actual.is_some_and(|a| a.trim().eq_ignore_ascii_case(expected.trim()))
}

fn metric_label(metric: Metric, column: Option<&str>) -> String {
    match column {
        Some(c) => format!("{}({c})", metric.stored_name()),
        None => metric.stored_name(),
    }
}

fn metric_value(metric: Metric, column: Option<&str>, ev: &Evidence) -> Result<f64, String> {
    let get = |column: &str, name: &str| -> Result<f64, String> {
        let label = if column.is_empty() { name.to_string() } else { format!("{name}({column})") };
        match ev.metrics.get(&(column.to_string(), name.to_string())) {
            None => Err(format!("no {label} has been reported for the dataset")),
            Some(None) => Err(format!("{label} was reported without a numeric value")),
            Some(Some(v)) => Ok(*v),
        }
    };
    let col = column.unwrap_or("");
    let ratio = |numerator: &str| -> Result<f64, String> {
        let n = get(col, numerator)?;
        let rows = get("", "row_count")?;
        if rows == 0.0 {
            return Err(format!("row_count is 0, so the ratio of {numerator}({col}) is undefined"));
        }
        Ok(n / rows)
    };
    match metric {
        Metric::NullRatio => ratio("null_count"),
        Metric::DistinctRatio => ratio("distinct_count"),
        Metric::Mean => {
            let (sum, count) = (get(col, "sum")?, get(col, "count")?);
            if count == 0.0 {
                return Err(format!("count({col}) is 0, so the mean is undefined"));
            }
            Ok(sum / count)
        }
        other => get(col, &other.stored_name()),
    }
}

fn volume(rule: &Rule, lookback: u32, bound: &VolumeBound, ev: &Evidence) -> CheckOutcome {
    let needed_previous = match bound {
        VolumeBound::ZScore(_) => 2,
        VolumeBound::Percent { .. } => 1,
    };
    let expected = match bound {
        VolumeBound::Percent { max_drop, max_growth } => {
            let mut parts = Vec::new();
            if let Some(d) = max_drop {
                parts.push(format!("drop <= {d}%"));
            }
            if let Some(g) = max_growth {
                parts.push(format!("growth <= {g}%"));
            }
            format!("{} against the mean of the previous {lookback} writes", parts.join(" and "))
        }
        VolumeBound::ZScore(z) => format!("|z-score| <= {z} over the previous {lookback} writes"),
    };
    let Some((&latest, rest)) = ev.row_counts.split_first() else {
        return result(Outcome::Error, rule, None, expected, "no row_count has been reported for the dataset".into());
    };
    let previous: Vec<f64> = rest.iter().take(lookback as usize).copied().collect();
    if previous.len() < needed_previous {
        let message = format!("needs at least {needed_previous} previous row counts to compare with, has {}", previous.len());
        return result(Outcome::Error, rule, Some(json!({ "row_count": latest })), expected, message);
    }
    let mean = previous.iter().sum::<f64>() / previous.len() as f64;
    match bound {
        VolumeBound::Percent { max_drop, max_growth } => {
            let change = if mean == 0.0 {
                if latest == 0.0 { 0.0 } else { f64::INFINITY }
            } else {
                (latest - mean) / mean * 100.0
            };
            let too_low = max_drop.is_some_and(|d| change < -d);
            let too_high = max_growth.is_some_and(|g| change > g);
            let change_json = if change.is_finite() { json!((change * 100.0).round() / 100.0) } else { json!("inf") };
            let observed = json!({ "row_count": latest, "baseline": mean, "change_pct": change_json });
            let message = format!("row_count {latest} is {change:+.2}% against a baseline of {mean}");
            let outcome = if too_low || too_high { Outcome::Fail } else { Outcome::Pass };
            result(outcome, rule, Some(observed), expected, message)
        }
        VolumeBound::ZScore(bound) => {
            let variance = previous.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / previous.len() as f64;
            let sd = variance.sqrt();
            let z = if sd == 0.0 {
                if latest == mean { 0.0 } else { f64::INFINITY }
            } else {
                (latest - mean) / sd
            };
            let z_json = if z.is_finite() { json!((z * 1000.0).round() / 1000.0) } else { json!("inf") };
            let observed = json!({ "row_count": latest, "mean": mean, "stddev": sd, "z_score": z_json });
            let outcome = if z.abs() > *bound { Outcome::Fail } else { Outcome::Pass };
            result(outcome, rule, Some(observed), expected, format!("row_count {latest} has z-score {z:.3}"))
        }
    }
}

fn assertions(rule: &Rule, names: &[String], ev: &Evidence) -> CheckOutcome {
    let expected = if names.is_empty() {
        "all assertions pass".to_string()
    } else {
        format!("assertions {} pass", names.join(", "))
    };
    if ev.assertions.is_empty() {
        return result(Outcome::Error, rule, None, expected, "no assertions have been reported for the dataset".into());
    }
    let mut selected: Vec<&AssertionResult> = Vec::new();
    let mut missing = Vec::new();
    if names.is_empty() {
        selected.extend(ev.assertions.iter());
    } else {
        for name in names {
            let found: Vec<&AssertionResult> = ev.assertions.iter().filter(|a| &a.assertion == name || &a.label() == name).collect();
            if found.is_empty() {
                missing.push(name.clone());
            }
            selected.extend(found);
        }
    }
    let failed: Vec<&AssertionResult> = selected.iter().copied().filter(|a| !a.success).collect();
    let failed_labels: Vec<String> = failed.iter().map(|a| a.label()).collect();
    let observed = json!({ "failed": failed_labels, "passed": selected.len() - failed.len(), "missing": missing });
    if !failed.is_empty() {
        // dbt's `severity: warn` tests only warn, whatever the rule says.
        let only_warnings = failed.iter().all(|a| a.severity.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("warn")));
        let mut outcome = result(Outcome::Fail, rule, Some(observed), expected, format!("failed: {}", failed_labels.join(", ")));
        if only_warnings {
            outcome.severity = Severity::Warn;
        }
        return outcome;
    }
    if !missing.is_empty() {
        return result(Outcome::Error, rule, Some(observed), expected, format!("not reported: {}", missing.join(", ")));
    }
    result(Outcome::Pass, rule, Some(observed), expected, format!("{} assertions passed", selected.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::definition::{RuleDefinition, TargetDefinition};

    fn rule(kind: &str, edit: impl FnOnce(&mut RuleDefinition)) -> Rule {
        let mut d = RuleDefinition {
            id: "r".into(),
            kind: kind.into(),
            target: TargetDefinition { namespace: "*".into(), name: "*".into() },
            ..Default::default()
        };
        edit(&mut d);
        Rule::from_definition(d).expect("valid rule")
    }

    fn metrics(pairs: &[(&str, &str, Option<f64>)]) -> Evidence {
        Evidence {
            metrics: pairs.iter().map(|(c, m, v)| ((c.to_string(), m.to_string()), *v)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn metric_threshold_pass_fail_and_missing() {
        let r = rule("metric", |d| {
            d.metric = Some("row_count".into());
            d.op = Some(">".into());
            d.value = Some(0.0);
        });
        let pass = evaluate(&r, &metrics(&[("", "row_count", Some(10.0))]));
        assert_eq!((pass.outcome, pass.observed.clone()), (Outcome::Pass, Some(json!(10.0))));
        assert_eq!(pass.expected, "row_count > 0");
        let fail = evaluate(&r, &metrics(&[("", "row_count", Some(0.0))]));
        assert_eq!(fail.outcome, Outcome::Fail);
        let missing = evaluate(&r, &Evidence::default());
        assert_eq!(missing.outcome, Outcome::Error);
        assert!(missing.message.contains("no row_count"));
        let nan = evaluate(&r, &metrics(&[("", "row_count", None)]));
        assert_eq!(nan.outcome, Outcome::Error);
    }

    #[test]
    fn derived_metrics() {
        let r = rule("metric", |d| {
            d.metric = Some("null_ratio".into());
            d.column = Some("email".into());
            d.op = Some("<=".into());
            d.value = Some(0.1);
        });
        let ev = metrics(&[("", "row_count", Some(100.0)), ("email", "null_count", Some(20.0))]);
        let out = evaluate(&r, &ev);
        assert_eq!((out.outcome, out.observed), (Outcome::Fail, Some(json!(0.2))));
        let mean = rule("metric", |d| {
            d.metric = Some("mean".into());
            d.column = Some("amount".into());
            d.op = Some("between".into());
            d.min = Some(1.0);
            d.max = Some(3.0);
        });
        let ev = metrics(&[("amount", "sum", Some(20.0)), ("amount", "count", Some(10.0))]);
        assert_eq!(evaluate(&mean, &ev).outcome, Outcome::Pass);
    }

    #[test]
    fn freshness_goes_stale() {
        let r = rule("freshness", |d| d.max_age = Some("6h".into()));
        let written = DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").expect("time").with_timezone(&Utc);
        let mut ev = Evidence { last_written_at: Some(written), now: written + chrono::Duration::hours(5), ..Default::default() };
        assert_eq!(evaluate(&r, &ev).outcome, Outcome::Pass);
        ev.now = written + chrono::Duration::hours(7);
        let out = evaluate(&r, &ev);
        assert_eq!(out.outcome, Outcome::Fail);
        assert_eq!(out.observed.map(|o| o["age_seconds"].clone()), Some(json!(7 * 3600)));
        ev.last_written_at = None;
        assert_eq!(evaluate(&r, &ev).outcome, Outcome::Error);
    }

    #[test]
    fn volume_change_percent_and_z_score() {
        let pct = rule("volume_change", |d| {
            d.lookback = Some(3);
            d.max_drop_pct = Some(50.0);
        });
        let mut ev = Evidence { row_counts: vec![40.0, 100.0, 100.0, 100.0, 1.0], ..Default::default() };
        let out = evaluate(&pct, &ev);
        assert_eq!(out.outcome, Outcome::Fail);
        assert_eq!(out.observed.map(|o| o["change_pct"].clone()), Some(json!(-60.0)));
        ev.row_counts = vec![60.0, 100.0];
        assert_eq!(evaluate(&pct, &ev).outcome, Outcome::Pass);
        ev.row_counts = vec![60.0];
        assert_eq!(evaluate(&pct, &ev).outcome, Outcome::Error);

        let z = rule("volume_change", |d| {
            d.lookback = Some(4);
            d.z_score = Some(3.0);
        });
        ev.row_counts = vec![1000.0, 100.0, 102.0, 98.0, 100.0];
        assert_eq!(evaluate(&z, &ev).outcome, Outcome::Fail);
        ev.row_counts = vec![101.0, 100.0, 102.0, 98.0, 100.0];
        assert_eq!(evaluate(&z, &ev).outcome, Outcome::Pass);
    }

    #[test]
    fn schema_contract_and_breaking_changes() {
        let r = rule("schema", |d| {
            d.required_columns = vec![crate::quality::ColumnDefinition { name: "id".into(), data_type: Some("BIGINT".into()) }];
            d.forbidden_columns = vec!["ssn".into()];
            d.no_breaking_changes = Some(true);
        });
        let col = |n: &str, t: &str| Column { name: n.into(), data_type: Some(t.into()) };
        let mut ev = Evidence { schema: Some(vec![col("id", "bigint"), col("name", "TEXT")]), ..Default::default() };
        assert_eq!(evaluate(&r, &ev).outcome, Outcome::Pass);
        ev.previous_schema = Some(vec![col("id", "BIGINT"), col("name", "TEXT"), col("email", "TEXT")]);
        let out = evaluate(&r, &ev);
        assert_eq!(out.outcome, Outcome::Fail);
        assert!(out.message.contains("`email` was dropped"), "{}", out.message);
        ev.previous_schema = None;
        ev.schema = Some(vec![col("id", "INT"), col("ssn", "TEXT")]);
        let out = evaluate(&r, &ev);
        assert!(out.message.contains("type INT instead of BIGINT") && out.message.contains("`ssn` is present"), "{}", out.message);
        ev.schema = None;
        assert_eq!(evaluate(&r, &ev).outcome, Outcome::Error);
    }

    #[test]
    fn assertions_all_named_and_warn_severity() {
        let all = rule("assertions", |_| {});
        let a = |name: &str, col: Option<&str>, ok: bool, sev: Option<&str>| AssertionResult {
            assertion: name.into(),
            column: col.map(str::to_string),
            success: ok,
            severity: sev.map(str::to_string),
        };
        let mut ev = Evidence { assertions: vec![a("not_null", Some("id"), true, None), a("unique", Some("id"), false, Some("ERROR"))], ..Default::default() };
        let out = evaluate(&all, &ev);
        assert_eq!((out.outcome, out.severity), (Outcome::Fail, Severity::Block));
        assert_eq!(out.observed.map(|o| o["failed"].clone()), Some(json!(["unique(id)"])));

        let named = rule("assertions", |d| d.assertions = vec!["not_null(id)".into()]);
        assert_eq!(evaluate(&named, &ev).outcome, Outcome::Pass);
        let missing = rule("assertions", |d| d.assertions = vec!["accepted_values".into()]);
        assert_eq!(evaluate(&missing, &ev).outcome, Outcome::Error);

        ev.assertions[1].severity = Some("warn".into());
        let out = evaluate(&all, &ev);
        assert_eq!((out.outcome, out.severity), (Outcome::Fail, Severity::Warn));
        ev.assertions.clear();
        assert_eq!(evaluate(&all, &ev).outcome, Outcome::Error);
    }

    #[test]
    fn run_status() {
        let r = rule("run_status", |_| {});
        let ev = |s| Evidence { last_writer_state: s, ..Default::default() };
        assert_eq!(evaluate(&r, &ev(Some(RunState::Complete))).outcome, Outcome::Pass);
        assert_eq!(evaluate(&r, &ev(Some(RunState::Fail))).outcome, Outcome::Fail);
        assert_eq!(evaluate(&r, &ev(None)).outcome, Outcome::Error);
    }
}
