//! Quality evidence: metrics and assertions, from the standard facets plus Great Expectations'
//! custom `greatExpectations_assertions` facet and the dbt `test` run facet.

use serde_json::{Map, Value};

use super::{Facets, facet, objects, string};
use crate::openlineage::Dataset;

/// One observed number about a dataset (or one of its columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The facet it came from, e.g. `dataQualityMetrics`.
    pub source: &'static str,
    pub column: Option<String>,
    /// `row_count`, `bytes`, `file_count`, `null_count`, `distinct_count`, `sum`, `count`, `min`,
    /// `max` or `quantile(q)`.
    pub metric: String,
    /// `None` when the emitter sent `null` (or a non-finite float, which parsing turns into null):
    /// the metric was reported but has no usable value.
    pub value: Option<f64>,
}

/// Table-level members of the statistics facets and the metric each one is.
const DQ_TABLE: [(&str, &str); 3] = [
    ("rowCount", "row_count"),
    ("bytes", "bytes"),
    ("fileCount", "file_count"),
];
const STATS_TABLE: [(&str, &str); 3] = [
    ("rowCount", "row_count"),
    ("size", "bytes"),
    ("fileCount", "file_count"),
];
/// Members of a `columnMetrics` entry (besides `quantiles`).
const DQ_COLUMN: [(&str, &str); 6] = [
    ("nullCount", "null_count"),
    ("distinctCount", "distinct_count"),
    ("sum", "sum"),
    ("count", "count"),
    ("min", "min"),
    ("max", "max"),
];

/// All metrics of one dataset in one event. When several facets report the same metric (an
/// input's `dataQualityMetrics` and `inputStatistics` both give a row count), only the first in
/// this order is kept, so rules never see two values for one thing: `dataQualityMetrics` (input
/// facet, then dataset facet), `outputStatistics`, `inputStatistics`.
pub fn metrics(dataset: &Dataset) -> Vec<Metric> {
    const DQ: &str = "dataQualityMetrics";
    let mut found = Found(Vec::new());
    for facets in [&dataset.input_facets, &dataset.facets] {
        let Some(dq) = facet(facets, DQ) else {
            continue;
        };
        found.table(DQ, dq, &DQ_TABLE);
        for (column, values) in members(dq, "columnMetrics") {
            let Some(values) = values.as_object() else {
                continue;
            };
            for (key, metric) in DQ_COLUMN {
                found.add(DQ, Some(column), metric, values.get(key));
            }
            for (q, value) in members(values, "quantiles") {
                // Keys are strings: parsing makes "0.50" and "0.5" one metric, `quantile(0.5)`.
                if let Ok(q) = q.trim().parse::<f64>() {
                    found.add(DQ, Some(column), &format!("quantile({q})"), Some(value));
                }
            }
        }
    }
    if let Some(stats) = facet(&dataset.output_facets, "outputStatistics") {
        found.table("outputStatistics", stats, &STATS_TABLE);
    }
    if let Some(stats) = facet(&dataset.input_facets, "inputStatistics") {
        found.table("inputStatistics", stats, &STATS_TABLE);
    }
    found.0
}

/// The members of an object member, if it is an object.
fn members<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = (&'a String, &'a Value)> {
    obj.get(key)
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

struct Found(Vec<Metric>);

impl Found {
    fn table(&mut self, source: &'static str, facet: &Map<String, Value>, table: &[(&str, &str)]) {
        for (key, metric) in table {
            self.add(source, None, metric, facet.get(*key));
        }
    }

    /// Adds a metric unless it is absent, not a number, or already known from a preferred facet.
    fn add(
        &mut self,
        source: &'static str,
        column: Option<&String>,
        metric: &str,
        value: Option<&Value>,
    ) {
        let value = match value {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::Null) => None,
            _ => return,
        };
        if self
            .0
            .iter()
            .any(|m| m.column.as_ref() == column && m.metric == metric)
        {
            return;
        }
        let (column, metric) = (column.cloned(), metric.to_owned());
        self.0.push(Metric {
            source,
            column,
            metric,
            value,
        });
    }
}

/// One pass/fail result of a test that an emitter ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    /// The facet it came from: `dataQualityAssertions`, `greatExpectations_assertions` or `test`.
    pub source: &'static str,
    /// What was tested: `not_null`, `expect_column_values_to_not_be_null`, a dbt test name, ...
    pub assertion: String,
    /// `None` for a test of the whole dataset.
    pub column: Option<String>,
    pub success: bool,
    /// The configured severity (`error`, `warn`) if the emitter says.
    pub severity: Option<String>,
    /// The assertion's original JSON object (expected/actual values, params, SQL, ...).
    pub details: Option<Value>,
}

/// Assertions about one dataset in one event: `dataQualityAssertions` and
/// `greatExpectations_assertions`, each looked up in the input facets and the dataset facets.
/// dbt puts the same `dataQualityAssertions` list in both places, so identical entries are kept
/// once; entries lacking a name or a boolean `success` are skipped.
pub fn assertions(dataset: &Dataset) -> Vec<Assertion> {
    // Each facet and the member that names the assertion in it.
    const SOURCES: [(&str, &str); 2] = [
        ("dataQualityAssertions", "assertion"),
        ("greatExpectations_assertions", "expectationType"),
    ];
    let mut out: Vec<Assertion> = Vec::new();
    for facets in [&dataset.input_facets, &dataset.facets] {
        for (source, name_key) in SOURCES {
            let Some(list) = facet(facets, source) else {
                continue;
            };
            for item in objects(list, "assertions") {
                let success = item.get("success").and_then(Value::as_bool);
                let (Some(assertion), Some(success)) = (string(item, name_key), success) else {
                    continue;
                };
                let found = Assertion {
                    source,
                    assertion,
                    column: string(item, "column"),
                    success,
                    severity: string(item, "severity"),
                    details: Some(Value::Object(item.clone())),
                };
                if !out.contains(&found) {
                    out.push(found);
                }
            }
        }
    }
    out
}

/// An assertion from the `test` run facet, with the dataset it names if it names one.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTestAssertion {
    /// (namespace, name). The facet (TestRunFacet 1-0-1) records tests "independently of dataset
    /// attribution", so today this is `None`; a `dataset: {namespace, name}` member is read if an
    /// emitter adds one.
    pub dataset: Option<(String, String)>,
    pub assertion: Assertion,
}

/// The `test` run facet (dbt singular tests): `{"tests": [{"name", "status": "pass"|"fail"|"skip",
/// "severity", "type", "description", "expected", "actual", "content", "contentType", "params"}]}`.
/// `assertion` is the test's `name` (else its `type`); `pass` is success, `fail`/`warn`/`error`
/// are failures, and skipped or unknown statuses give no evidence and are left out.
pub fn run_test_assertions(run_facets: &Facets) -> Vec<RunTestAssertion> {
    let Some(test) = facet(run_facets, "test") else {
        return Vec::new();
    };
    objects(test, "tests")
        .filter_map(|t| {
            let success = match string(t, "status")?.to_ascii_lowercase().as_str() {
                "pass" | "success" => true,
                "fail" | "warn" | "error" => false,
                _ => return None,
            };
            let dataset = t
                .get("dataset")
                .and_then(Value::as_object)
                .and_then(|d| Some((string(d, "namespace")?, string(d, "name")?)));
            let assertion = Assertion {
                source: "test",
                assertion: string(t, "name").or_else(|| string(t, "type"))?,
                column: string(t, "column"),
                success,
                severity: string(t, "severity"),
                details: Some(Value::Object(t.clone())),
            };
            Some(RunTestAssertion { dataset, assertion })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{facets_of, show_assertion, show_metric};
    use super::*;
    use serde_json::json;

    fn dataset(facets: Value, input_facets: Value, output_facets: Value) -> Dataset {
        let (facets, input_facets) = (facets_of(facets), facets_of(input_facets));
        let output_facets = facets_of(output_facets);
        let (namespace, name) = ("n".to_owned(), "t".to_owned());
        Dataset {
            namespace,
            name,
            facets,
            input_facets,
            output_facets,
        }
    }

    #[test]
    fn metrics_prefer_data_quality_and_keep_nulls() {
        let ds = dataset(
            json!({"dataQualityMetrics": {"rowCount": 7, "columnMetrics": {"a": {"nullCount": 9, "max": 3}}}}),
            json!({"dataQualityMetrics": {"rowCount": 10, "bytes": null, "fileCount": "2", "columnMetrics":
                        {"a": {"nullCount": 1, "min": -1.5, "quantiles": {"0.50": 5, "x": 1, "1": 9}}, "b": 3}},
                   "inputStatistics": {"rowCount": 11, "size": 100, "fileCount": 4}}),
            json!({"outputStatistics": {"rowCount": 12}}),
        );
        let got: Vec<_> = metrics(&ds).iter().map(show_metric).collect();
        let want = [
            "dataQualityMetrics row_count=10",
            "dataQualityMetrics bytes=null",
            "dataQualityMetrics a.null_count=1",
            "dataQualityMetrics a.min=-1.5",
            "dataQualityMetrics a.quantile(0.5)=5",
            "dataQualityMetrics a.quantile(1)=9",
            "dataQualityMetrics a.max=3",
            "inputStatistics file_count=4",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn assertions_dedupe_across_facets_and_read_great_expectations() {
        let list = json!({"assertions": [
            {"assertion": "unique", "column": "id", "success": false, "severity": "error"},
            {"assertion": "not_null", "column": "", "success": true},
            {"assertion": "no_success_flag"}]});
        let ge = json!({"assertions": [{"expectationType": "expect_x", "column": "c", "success": true}]});
        let ds = dataset(
            json!({"dataQualityAssertions": list}),
            json!({"dataQualityAssertions": list, "greatExpectations_assertions": ge}),
            json!({}),
        );
        let got: Vec<_> = assertions(&ds).iter().map(show_assertion).collect();
        let want = [
            "dataQualityAssertions unique(id) fail [error]",
            "dataQualityAssertions not_null pass",
            "greatExpectations_assertions expect_x(c) pass",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn run_test_facet() {
        let f = facets_of(json!({"test": {"tests": [
            {"name": "t.pass", "status": "pass", "severity": "error", "type": "singular"},
            {"type": "not_null", "status": "fail", "dataset": {"namespace": "n", "name": "d"}},
            {"name": "t.skip", "status": "skip"},
            {"status": "fail"}]}}));
        let got: Vec<_> = run_test_assertions(&f)
            .iter()
            .map(|r| (r.dataset.clone(), show_assertion(&r.assertion)))
            .collect();
        let nd = Some(("n".to_owned(), "d".to_owned()));
        let want = [
            (None, "test t.pass pass [error]".to_owned()),
            (nd, "test not_null fail".to_owned()),
        ];
        assert_eq!(got, want);
    }
}
