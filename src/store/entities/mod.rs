//! sea-orm entities, one per table. Private to the store: nothing outside `store` sees a row
//! type; the repository functions return the domain types of `crate::model`.
pub mod api_token;
pub mod alert_channel;
pub mod alert_outbox;
pub mod assertion_observation;
pub mod check_result;
pub mod column_lineage;
pub mod dataset;
pub mod dataset_alias;
pub mod dataset_version;
pub mod gate_decision;
pub mod gate_violation;
pub mod graph_state;
pub mod incident;
pub mod incident_event;
pub mod job;
pub mod latest_check;
pub mod lineage_edge;
pub mod metric_report;
pub mod namespace;
pub mod raw_event;
pub mod rule;
pub mod rule_change;
pub mod run;
pub mod run_io;
pub mod run_taint;
pub mod waiver;
