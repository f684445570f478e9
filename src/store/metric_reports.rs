//! Metric values, stored as one report per dataset and evidence (a run, or an event without
//! a run): writing them, and reading them back for rules and for the API.
//!
//! A report's `metrics` object maps `metric` (dataset-wide) or `metric/column` to
//! `[value, source]` (see the migration `m20261127_000013_metric_reports` for why one row per
//! report and not per value). The source is written as its position in [`SOURCES`] and a
//! whole value without `.0` (`[4638058, 0]`, not `[4638058.0, "dataQualityMetrics"]`): the
//! repeated names were a third of a report's bytes. Reports written before keep the names and
//! read the same. Another event of the same run merges its values into the
//! report, key by key, by the database's own JSON merge: the values of the event with the
//! later event time win, whatever order the events arrive in.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Map, Value};

use super::entities::metric_report;
use super::write::ROWS_PER_INSERT;
use super::{Store, StoreError, WriteTx};
use crate::model::{DatasetId, MetricObservation};
use crate::quality::evaluate::{Evidence, EvidenceNeeds};

/// Reports read per statement by the API, and first by an evaluation: the newest reports
/// usually hold every value rules need.
const PAGE: u64 = 16;
/// How far back, in reports of any kind, an evaluation looks for the reports that hold the
/// values it needs: bounded, so that a rule on a metric nobody reports does not scan the
/// dataset's whole history on every evaluation.
const WINDOW: u64 = 2000;
/// The source of row counts a reader reports about its inputs: not a write, so not part of
/// a dataset's volume history.
const READ_SOURCE: &str = "inputStatistics";

/// The facets metric values come from, stored by position in this list. Append only: a
/// stored number names the source at that position for good.
const SOURCES: [&str; 3] = ["dataQualityMetrics", "outputStatistics", READ_SOURCE];

/// `[value, source]` as stored: the source by its position in [`SOURCES`] (by name if it is
/// not there), a whole value as an integer.
fn stored_entry(value: Option<f64>, source: &str) -> Value {
    // Beyond 2^53 an integer no longer reads back as the same double everywhere.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let value = match value {
        Some(v) if v.fract() == 0.0 && v.abs() < EXACT && !(v == 0.0 && v.is_sign_negative()) => Value::from(v as i64),
        Some(v) => Value::from(v),
        None => Value::Null,
    };
    let source = match SOURCES.iter().position(|s| *s == source) {
        Some(i) => Value::from(i),
        None => Value::from(source),
    };
    Value::Array(vec![value, source])
}

/// The key of a value in a report.
fn key(column: &str, metric: &str) -> String {
    if column.is_empty() { metric.to_string() } else { format!("{metric}/{column}") }
}

/// (column, metric) of a report key: metric names never hold a `/`.
fn split_key(key: &str) -> (&str, &str) {
    match key.split_once('/') {
        Some((metric, column)) => (column, metric),
        None => ("", key),
    }
}

/// A stored `[value, source]`; `None` when it is not one.
fn entry(stored: &Value) -> Option<(Option<f64>, &str)> {
    let pair = stored.as_array()?;
    let source = match pair.get(1)? {
        Value::String(name) => name.as_str(),
        position => SOURCES.get(usize::try_from(position.as_u64()?).ok()?)?,
    };
    Some((pair.first()?.as_f64(), source))
}

/// Newest first, as of `as_of` when given.
fn reports(dataset: DatasetId, as_of: Option<DateTime<Utc>>) -> sea_orm::Select<metric_report::Entity> {
    let query = metric_report::Entity::find()
        .filter(metric_report::Column::DatasetId.eq(dataset.0))
        .order_by_desc(metric_report::Column::ObservedAt)
        .order_by_desc(metric_report::Column::Id);
    match as_of {
        Some(t) => query.filter(metric_report::Column::ObservedAt.lte(t)),
        None => query,
    }
}

/// [`reports`] among the newest [`WINDOW`], keeping those that may hold one of `keys`, so that
/// readers' reports (`inputStatistics` of every run that read the dataset) do not push a value
/// reported less often out of reach. On PostgreSQL the test is exact; on SQLite it is a search
/// of the stored text for `"key":`, exact enough to skip reports (the values read are checked
/// again), and skipped when a key holds characters JSON text may write another way.
fn reports_holding(
    backend: DatabaseBackend,
    dataset: DatasetId,
    as_of: Option<DateTime<Utc>>,
    keys: &[String],
) -> sea_orm::Select<metric_report::Entity> {
    use sea_orm::QueryTrait;
    use sea_orm::sea_query::ExprTrait;
    let window = reports(dataset, as_of).select_only().column(metric_report::Column::Id).limit(WINDOW).into_query();
    let query = reports(dataset, as_of).filter(metric_report::Column::Id.in_subquery(window));
    let column = || Expr::col((metric_report::Entity, metric_report::Column::Metrics));
    let mut any = sea_orm::Condition::any();
    for key in keys {
        let holds = match backend {
            DatabaseBackend::Postgres => Expr::expr(Func::cust("jsonb_exists").arg(column()).arg(key.as_str())),
            _ if !key.contains(|c: char| c == '"' || c == '\\' || c.is_control()) => {
                Expr::expr(Func::cust("instr").arg(column()).arg(format!("\"{key}\":"))).gt(0)
            }
            _ => return query,
        };
        any = any.add(holds);
    }
    if keys.is_empty() { query } else { query.filter(any) }
}

impl WriteTx {
    /// Stores metric values reported as `evidence_key`: one report per dataset, merged into
    /// the one already stored for the same evidence.
    pub async fn upsert_metrics(&self, evidence_key: &str, metrics: &[MetricObservation]) -> Result<(), StoreError> {
        struct Report {
            dataset: DatasetId,
            run_id: Option<String>,
            observed_at: DateTime<Utc>,
            values: Map<String, Value>,
        }
        let mut reports: Vec<Report> = Vec::new();
        for m in metrics {
            let position = match reports.iter().position(|r| r.dataset == m.dataset_id) {
                Some(position) => position,
                None => {
                    reports.push(Report { dataset: m.dataset_id, run_id: None, observed_at: m.observed_at, values: Map::new() });
                    reports.len() - 1
                }
            };
            let report = &mut reports[position];
            report.run_id = m.run_id.clone();
            report.observed_at = m.observed_at;
            report.values.insert(key(m.column.as_deref().unwrap_or_default(), &m.metric), stored_entry(m.value, &m.source));
        }
        use metric_report::Column as C;
        // The values of the later event win, whatever order the events arrive in; a report's
        // time is its latest event's.
        let (merged, latest) = match self.tx.get_database_backend() {
            DatabaseBackend::Postgres => (
                r#"CASE WHEN "excluded"."observed_at" >= "metric_reports"."observed_at"
                    THEN "metric_reports"."metrics" || "excluded"."metrics"
                    ELSE "excluded"."metrics" || "metric_reports"."metrics" END"#,
                r#"GREATEST("metric_reports"."observed_at", "excluded"."observed_at")"#,
            ),
            // Times are stored as RFC 3339 text of one format, which sorts as the times do.
            _ => (
                r#"CASE WHEN "excluded"."observed_at" >= "metric_reports"."observed_at"
                    THEN json_patch("metric_reports"."metrics", "excluded"."metrics")
                    ELSE json_patch("excluded"."metrics", "metric_reports"."metrics") END"#,
                r#"max("metric_reports"."observed_at", "excluded"."observed_at")"#,
            ),
        };
        for chunk in reports.chunks(ROWS_PER_INSERT) {
            let rows = chunk.iter().map(|r| metric_report::ActiveModel {
                dataset_id: Set(r.dataset.0),
                evidence_key: Set(evidence_key.to_string()),
                run_id: Set(r.run_id.clone()),
                observed_at: Set(r.observed_at),
                metrics: Set(Value::Object(r.values.clone())),
                ..Default::default()
            });
            metric_report::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([C::DatasetId, C::EvidenceKey])
                        .update_columns([C::RunId])
                        .value(C::Metrics, Expr::cust(merged))
                        .value(C::ObservedAt, Expr::cust(latest))
                        .to_owned(),
                )
                .exec_without_returning(&self.tx)
                .await?;
        }
        Ok(())
    }

    /// The latest value of each metric `needs` names, and the dataset's recent written row
    /// counts, newest first; reports are read a page at a time until both are complete.
    pub(super) async fn metric_evidence(
        &self,
        dataset: DatasetId,
        needs: &EvidenceNeeds,
        as_of: Option<DateTime<Utc>>,
        evidence: &mut Evidence,
    ) -> Result<(), StoreError> {
        let history = needs.row_count_history as usize;
        let mut wanted: Vec<&(String, String)> = needs.metrics.iter().collect();
        let mut latest = HashMap::new();
        let mut row_counts = Vec::new();
        let mut keys: Vec<String> = wanted.iter().map(|(column, metric)| key(column, metric)).collect();
        if history > 0 {
            keys.push("row_count".into());
        }
        let backend = self.tx.get_database_backend();
        let (mut read, mut asked) = (0, PAGE);
        while read < WINDOW && (!wanted.is_empty() || row_counts.len() < history) {
            let page = reports_holding(backend, dataset, as_of, &keys).offset(read).limit(asked).all(&self.tx).await?;
            read += asked;
            for report in &page {
                let Some(values) = report.metrics.as_object() else { continue };
                wanted.retain(|(column, metric)| match values.get(&key(column, metric)).and_then(entry) {
                    Some((value, _)) => {
                        latest.insert((column.clone(), metric.clone()), value);
                        false
                    }
                    None => true,
                });
                if row_counts.len() < history
                    && let Some((Some(rows), source)) = values.get("row_count").and_then(entry)
                    && source != READ_SOURCE
                {
                    row_counts.push(rows);
                }
            }
            if (page.len() as u64) < asked {
                break;
            }
            // Not all in the newest reports: the rest of the window in one statement.
            asked = WINDOW.saturating_sub(read);
        }
        evidence.metrics = latest;
        evidence.row_counts = row_counts;
        Ok(())
    }
}

impl Store {
    /// The most recent metric values of a dataset, newest report first, each report's values
    /// in key order; at most `limit`.
    pub async fn metrics_of(&self, dataset: DatasetId, limit: u64) -> Result<Vec<MetricObservation>, StoreError> {
        let mut values = Vec::new();
        let mut read = 0;
        while (values.len() as u64) < limit {
            let page = reports(dataset, None).offset(read).limit(PAGE).all(&self.db).await?;
            read += PAGE;
            for report in &page {
                let Some(stored) = report.metrics.as_object() else { continue };
                let mut keys: Vec<&String> = stored.keys().collect();
                keys.sort();
                for k in keys {
                    let Some((value, source)) = stored.get(k).and_then(entry) else { continue };
                    let (column, metric) = split_key(k);
                    values.push(MetricObservation {
                        dataset_id: dataset,
                        run_id: report.run_id.clone(),
                        source: source.to_string(),
                        column: (!column.is_empty()).then(|| column.to_string()),
                        metric: metric.to_string(),
                        value,
                        observed_at: report.observed_at,
                    });
                }
            }
            if (page.len() as u64) < PAGE {
                break;
            }
        }
        values.truncate(limit as usize);
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_split_back_into_column_and_metric() {
        assert_eq!(split_key(&key("", "row_count")), ("", "row_count"));
        assert_eq!(split_key(&key("amount", "null_count")), ("amount", "null_count"));
        // Only the first `/` separates: column names may hold more.
        assert_eq!(split_key(&key("a/b", "quantile(0.5)")), ("a/b", "quantile(0.5)"));
    }

    #[test]
    fn entries_read_back_with_and_without_a_value() {
        assert_eq!(entry(&json!([3, "dataQualityMetrics"])), Some((Some(3.0), "dataQualityMetrics")));
        assert_eq!(entry(&json!([null, "outputStatistics"])), Some((None, "outputStatistics")));
        assert_eq!(entry(&json!([2.5, 2])), Some((Some(2.5), "inputStatistics")));
        assert_eq!(entry(&json!({"value": 3})), None);
        // A position past the list is not a source.
        assert_eq!(entry(&json!([1, 3])), None);
    }

    #[test]
    fn entries_are_stored_short_and_read_back_the_same() {
        assert_eq!(stored_entry(Some(4638058.0), "dataQualityMetrics"), json!([4638058, 0]));
        assert_eq!(stored_entry(Some(0.25), "outputStatistics"), json!([0.25, 1]));
        assert_eq!(stored_entry(None, "inputStatistics"), json!([null, 2]));
        assert_eq!(stored_entry(Some(7.0), "somethingNew"), json!([7, "somethingNew"]));
        let values = [4638058.0, -3.0, 0.1, 1234567890123456.7, 9007199254740993.0, -0.0, 1e300, f64::MIN_POSITIVE];
        for value in values {
            for source in SOURCES.iter().copied().chain(["somethingNew"]) {
                let stored = stored_entry(Some(value), source);
                let (read, read_source) = entry(&stored).unwrap_or((None, "unreadable"));
                assert_eq!(read.map(f64::to_bits), Some(value.to_bits()), "{value} stored as {stored}");
                assert_eq!(read_source, source);
            }
        }
    }
}
