//! The domain model: plain types that the store returns and the API layer converts.
//!
//! They carry no database or GraphQL types, so domain modules (ingest, lineage, quality, gate)
//! and both API surfaces can share them without depending on how they are stored or served.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Surrogate key of a dataset. Only meaningful inside one Weir database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct DatasetId(pub i64);

/// Surrogate key of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub i64);

/// A dataset's public identity: OpenLineage's (namespace, name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct DatasetRef {
    pub namespace: String,
    pub name: String,
}

/// A dataset's id and identity: what health and the gate need of it. Reading only these (not
/// the facets of a whole row) is what keeps judging an event's inputs cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedDataset {
    pub id: DatasetId,
    pub namespace: String,
    pub name: String,
}

impl NamedDataset {
    pub fn reference(&self) -> DatasetRef {
        DatasetRef { namespace: self.namespace.clone(), name: self.name.clone() }
    }
}

impl From<&Dataset> for NamedDataset {
    fn from(d: &Dataset) -> Self {
        NamedDataset { id: d.id, namespace: d.namespace.clone(), name: d.name.clone() }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub id: DatasetId,
    pub namespace: String,
    pub name: String,
    /// Latest value of every dataset facet ever reported, merged by facet name.
    pub facets: Value,
    /// The version whose schema (`fields` as received) is the current one: the latest version
    /// that carried a schema. Not always the current version, which may carry none.
    pub schema_version_id: Option<i64>,
    pub current_version_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Event time of the latest successful (COMPLETE) run that wrote it.
    pub last_written_at: Option<DateTime<Utc>>,
    pub last_writer_run_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetVersion {
    pub id: i64,
    pub dataset_id: DatasetId,
    /// `v:<datasetVersion>` from the version facet, else `s:<schema hash>`.
    pub version: String,
    pub schema_fields: Option<Value>,
    pub run_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub namespace: String,
    pub name: String,
    pub parent_job_id: Option<JobId>,
    /// Latest value of every job facet (sql, sourceCodeLocation, jobType, ownership, ...).
    pub facets: Value,
    pub latest_run_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The state of a run, following OpenLineage's event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunState {
    Start,
    Running,
    Complete,
    Fail,
    Abort,
    Other,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Start => "START",
            RunState::Running => "RUNNING",
            RunState::Complete => "COMPLETE",
            RunState::Fail => "FAIL",
            RunState::Abort => "ABORT",
            RunState::Other => "OTHER",
        }
    }

    /// Unknown strings read back from the database become `Other` rather than an error:
    /// a newer Weir may have written a state this one does not know.
    pub fn parse(s: &str) -> RunState {
        match s {
            "START" => RunState::Start,
            "RUNNING" => RunState::Running,
            "COMPLETE" => RunState::Complete,
            "FAIL" => RunState::Fail,
            "ABORT" => RunState::Abort,
            _ => RunState::Other,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, RunState::Complete | RunState::Fail | RunState::Abort)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Canonical UUID (hyphenated, lower case).
    pub id: String,
    /// The run id exactly as the emitter sent it.
    pub raw_run_id: String,
    pub job_id: JobId,
    pub state: RunState,
    /// Event time of the event that set `state`.
    pub state_time: DateTime<Utc>,
    /// Event time of the run's earliest event.
    pub first_event_time: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub nominal_start_time: Option<DateTime<Utc>>,
    pub nominal_end_time: Option<DateTime<Utc>>,
    pub error_message: Option<String>,
    pub parent_run_id: Option<String>,
    pub facets: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether a dataset was read (input) or written (output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Input,
    Output,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Input => "INPUT",
            Direction::Output => "OUTPUT",
        }
    }

    pub fn parse(s: &str) -> Direction {
        if s == "OUTPUT" { Direction::Output } else { Direction::Input }
    }
}

/// One dataset a run read or wrote. The input/output facets reported for it are not kept
/// here: what Weir reads from them is stored as observations, and the raw archive keeps them.
#[derive(Debug, Clone, PartialEq)]
pub struct RunIo {
    pub run_id: String,
    pub dataset_id: DatasetId,
    pub direction: Direction,
    pub first_seen: DateTime<Utc>,
}

/// A dataset-level lineage edge: `dataset -> job` for an input, `job -> dataset` for an output.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub job_id: JobId,
    pub dataset_id: DatasetId,
    pub direction: Direction,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// When a later run of the job stopped using this edge; `None` while it is current.
    pub retired_at: Option<DateTime<Utc>>,
}

/// A lineage edge row as of its last change, for keeping a copy of the current graph in step
/// (see `crate::lineage::LineageIndex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeChange {
    /// The row's id: one interval of one edge.
    pub id: i64,
    pub job_id: JobId,
    pub dataset_id: DatasetId,
    pub direction: Direction,
    /// Whether the edge is part of the current graph (not retired).
    pub current: bool,
}

/// `dataset.field` is derived from `input_dataset.input_field`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnEdge {
    pub dataset_id: DatasetId,
    pub field: String,
    pub input_dataset_id: DatasetId,
    pub input_field: String,
    pub transformation_type: Option<String>,
    pub transformation_subtype: Option<String>,
    pub description: Option<String>,
}

/// One metric value reported about a dataset (by a run, or by a DatasetEvent).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricObservation {
    pub dataset_id: DatasetId,
    pub run_id: Option<String>,
    pub source: String,
    /// `None` for dataset-level metrics such as `row_count`.
    pub column: Option<String>,
    pub metric: String,
    pub value: Option<f64>,
    pub observed_at: DateTime<Utc>,
}

/// One external assertion (dbt test, Great Expectations expectation, ...) about a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct AssertionObservation {
    pub dataset_id: DatasetId,
    pub run_id: Option<String>,
    pub source: String,
    pub assertion: String,
    pub column: Option<String>,
    pub success: bool,
    pub severity: Option<String>,
    pub details: Option<Value>,
    pub observed_at: DateTime<Utc>,
}

/// A page of a keyset-paginated listing.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}
