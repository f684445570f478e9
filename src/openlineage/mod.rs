//! OpenLineage events as Weir reads them: our own serde models plus the parsing rules.
//!
//! Real emitters are sloppy in ways the spec does not allow, and a lineage service that rejects
//! what `openlineage-python`, dbt-ol, Spark or Airflow send is useless. So parsing is split in two:
//!
//! * **Lenient** where clients are known to deviate: unknown fields and custom facets are kept,
//!   `eventType`, `inputs`/`outputs` and facet maps may be absent or null, null facets are dropped,
//!   `eventTime` may lack an offset or use a space for `T`, run ids may be any non-empty string
//!   ([`normalize_run_id`]), and Python's bare `NaN`/`Infinity` tokens become `null`
//!   (`sanitize.rs`).
//! * **Strict** where a wrong value would corrupt the graph: identity fields (job and dataset
//!   namespace/name, `run.runId`) and `eventTime` must be present and well typed. Every
//!   rejection is a [`ParseError`] naming the field path, so the API can answer a 4xx that says
//!   what is wrong and where.
//!
//! Facets are stored raw (`Facets` maps and [`Event::raw`]); [`facets`] interprets the standard
//! ones on demand and never fails: a malformed facet is just no evidence.

mod error;
pub mod facets;
mod model;
mod parse;
mod run_id;
mod sanitize;
mod time;

#[cfg(test)]
mod examples_test;

pub use error::ParseError;
pub use model::{Dataset, Event, EventKind, Facets, Job, Run, RunEventType};
pub use parse::{parse_batch, parse_event};
pub use run_id::{RUN_ID_NAMESPACE, normalize_run_id};
pub use time::parse_timestamp;
