//! The parsed event: what the rest of Weir codes against. Identity fields are typed; everything
//! else stays JSON, because facets are open-ended and are interpreted on demand by `facets`.

use chrono::{DateTime, Utc};

use super::parse::{facets, non_blank};

/// Facets by name. A facet whose value was JSON `null` is never in the map.
pub type Facets = serde_json::Map<String, serde_json::Value>;

/// The three event kinds of the spec, told apart by which fields are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Run,
    Dataset,
    Job,
}

/// A RunEvent's `eventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunEventType {
    Start,
    Running,
    Complete,
    Fail,
    Abort,
    Other,
}

impl RunEventType {
    /// A terminal state is never overwritten by a later-arriving non-terminal event.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Complete | Self::Fail | Self::Abort)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "START",
            Self::Running => "RUNNING",
            Self::Complete => "COMPLETE",
            Self::Fail => "FAIL",
            Self::Abort => "ABORT",
            Self::Other => "OTHER",
        }
    }

    /// Case-insensitive, since some hand-written emitters send `complete`. `None` for unknown
    /// words; the event parser maps those to `Other` rather than rejecting the event.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Start,
            Self::Running,
            Self::Complete,
            Self::Fail,
            Self::Abort,
            Self::Other,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One parsed OpenLineage event of any kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    /// `None` when absent (allowed leniently); unknown words become `Some(Other)`.
    pub event_type: Option<RunEventType>,
    pub event_time: DateTime<Utc>,
    pub producer: Option<String>,
    pub schema_url: Option<String>,
    /// `Some` iff `kind == Run`.
    pub run: Option<Run>,
    /// `Some` for Run and Job events.
    pub job: Option<Job>,
    /// `Some` iff `kind == Dataset` (the DatasetEvent's `dataset`).
    pub dataset: Option<Dataset>,
    /// Absent or null in the body gives an empty list.
    pub inputs: Vec<Dataset>,
    pub outputs: Vec<Dataset>,
    /// The event as JSON after sanitising (`NaN`/`Infinity` -> `null`), with unknown fields and
    /// custom facets kept, so the stored event can be replayed into future versions of Weir.
    pub raw: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Canonical form of `raw_run_id` (see `normalize_run_id`).
    pub run_id: uuid::Uuid,
    /// The id exactly as sent, for display and for matching what the emitter logs.
    pub raw_run_id: String,
    pub facets: Facets,
}

/// Deserialises with the lenient/strict rules of `parse.rs` (non-blank names, null facets dropped).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(expecting = "a job object")]
pub struct Job {
    #[serde(deserialize_with = "non_blank")]
    pub namespace: String,
    #[serde(deserialize_with = "non_blank")]
    pub name: String,
    #[serde(default, deserialize_with = "facets")]
    pub facets: Facets,
}

/// Deserialises with the lenient/strict rules of `parse.rs`, like [`Job`].
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a dataset object")]
pub struct Dataset {
    #[serde(deserialize_with = "non_blank")]
    pub namespace: String,
    #[serde(deserialize_with = "non_blank")]
    pub name: String,
    #[serde(default, deserialize_with = "facets")]
    pub facets: Facets,
    /// Spec-wise only on inputs, but accepted on any dataset: being picky here loses evidence.
    #[serde(default, deserialize_with = "facets")]
    pub input_facets: Facets,
    /// Spec-wise only on outputs; accepted anywhere for the same reason.
    #[serde(default, deserialize_with = "facets")]
    pub output_facets: Facets,
}

#[cfg(test)]
mod tests {
    use super::RunEventType::{self, *};

    #[test]
    fn run_event_type_round_trips_and_knows_terminal_states() {
        for t in ["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"] {
            assert_eq!(RunEventType::parse(t).map(|t| t.as_str()), Some(t));
        }
        assert_eq!(RunEventType::parse("complete"), Some(Complete));
        assert_eq!(RunEventType::parse("FINISHED"), None);
        let all = [Start, Running, Complete, Fail, Abort, Other];
        let terminal: Vec<_> = all.into_iter().filter(|t| t.is_terminal()).collect();
        assert_eq!(terminal, [Complete, Fail, Abort]);
    }
}
