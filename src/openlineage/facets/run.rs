//! Run facets: `parent`, `nominalTime`, `errorMessage`.

use chrono::{DateTime, Utc};

use super::{Facets, facet, string};
use crate::openlineage::{normalize_run_id, parse_timestamp};

/// The run (and its job) that this run belongs to, e.g. the Airflow DAG run above a task run.
#[derive(Debug, Clone, PartialEq)]
pub struct ParentRef {
    pub run_id: uuid::Uuid,
    pub job_namespace: String,
    pub job_name: String,
}

/// The `parent` facet; `None` unless `run.runId`, `job.namespace` and `job.name` are all there,
/// since a half-known parent cannot be linked to anything.
pub fn parent(run_facets: &Facets) -> Option<ParentRef> {
    let parent = facet(run_facets, "parent")?;
    let run = parent.get("run")?.as_object()?;
    let job = parent.get("job")?.as_object()?;
    Some(ParentRef {
        run_id: normalize_run_id(&string(run, "runId")?),
        job_namespace: string(job, "namespace")?,
        job_name: string(job, "name")?,
    })
}

/// The `nominalTime` facet: the scheduled (start, end) of the run. An unreadable end is dropped
/// rather than losing the start.
pub fn nominal_time(run_facets: &Facets) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    let nominal = facet(run_facets, "nominalTime")?;
    let start = parse_timestamp(&string(nominal, "nominalStartTime")?)?;
    Some((
        start,
        string(nominal, "nominalEndTime").and_then(|s| parse_timestamp(&s)),
    ))
}

/// The `errorMessage` facet's `message`.
pub fn error_message(run_facets: &Facets) -> Option<String> {
    string(facet(run_facets, "errorMessage")?, "message")
}

#[cfg(test)]
mod tests {
    use super::super::facets_of;
    use super::*;
    use serde_json::json;

    #[test]
    fn parent_needs_run_id_and_job() {
        let ok = facets_of(
            json!({"parent": {"run": {"runId": "{3F5E83FA-3480-44FF-99C5-FF943904E5E8}"}, "job": {"namespace": "ns", "name": "dag"}}}),
        );
        assert_eq!(
            parent(&ok),
            Some(ParentRef {
                run_id: normalize_run_id("3f5e83fa-3480-44ff-99c5-ff943904e5e8"),
                job_namespace: "ns".into(),
                job_name: "dag".into(),
            })
        );
        assert_eq!(
            parent(&ok).map(|p| p.run_id.to_string()).as_deref(),
            Some("3f5e83fa-3480-44ff-99c5-ff943904e5e8")
        );
        assert_eq!(
            parent(&facets_of(
                json!({"parent": {"run": {"noRunId": "x"}, "job": {"namespace": "ns", "name": "dag"}}})
            )),
            None
        );
        assert_eq!(
            parent(&facets_of(
                json!({"parent": {"run": {"runId": "r"}, "job": {"name": "dag"}}})
            )),
            None
        );
    }

    #[test]
    fn nominal_time_and_error_message() {
        let f = facets_of(json!({
            "nominalTime": {"nominalStartTime": "2020-12-17T03:00:00.001Z", "nominalEndTime": "soon"},
            "errorMessage": {"message": "Got 78 results", "programmingLanguage": "sql"}}));
        let (start, end) = nominal_time(&f).unwrap();
        assert_eq!(start.to_rfc3339(), "2020-12-17T03:00:00.001+00:00");
        assert_eq!(end, None);
        assert_eq!(error_message(&f).as_deref(), Some("Got 78 results"));
        assert_eq!(
            nominal_time(&facets_of(
                json!({"nominalTime": {"nominalEndTime": "2020-12-17T03:00:00Z"}})
            )),
            None
        );
        assert_eq!(
            error_message(&facets_of(json!({"errorMessage": {"message": 5}}))),
            None
        );
    }
}
