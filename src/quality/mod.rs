//! Quality rules: what users say must hold for their datasets, and its evaluation against the
//! evidence that events carry.
//!
//! * [`definition`] — the one shape a rule is written in (file, GraphQL, storage);
//! * [`rule`] — validation into the model that evaluation uses;
//! * [`rules_file`] — the YAML rules file, with line-numbered errors;
//! * [`evaluate`] — pure evaluation of one rule on one dataset's evidence;
//! * [`health`] — a dataset's health from its latest results;
//! * [`engine`] — which rules to run when, and storing the results;
//! * [`manage`] — creating, changing and deleting rules, and applying a rules file;
//! * [`records`] — stored rules, rule history and check results.

pub mod definition;
pub mod engine;
pub mod evaluate;
pub mod health;
pub mod manage;
pub mod records;
pub mod rule;
pub mod rules_file;

pub use definition::{ColumnDefinition, RuleDefinition, TargetDefinition};
pub use rule::{Rule, RuleError, Severity};
pub use engine::CheckOutcomeRecord;
pub use rules_file::{FileError, parse_rules_file};
