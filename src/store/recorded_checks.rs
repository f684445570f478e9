//! What recording check results has taught one write transaction about the latest result of
//! each (rule, dataset): which result is the latest now, and the verdict it replaced.
//!
//! Right after an event's rules are evaluated, the gate asks of every new result whether it
//! replaced a failure, and incidents ask whether it is the latest and whether an incident can
//! be open. `record_check` has just read and written exactly that row, so answering from here
//! saves two or three statements per result, several results per event. Entries are only ever
//! written by this transaction's own `record_check`; anything else that changes latest results
//! in the transaction forgets the rule's entries, and the database answers instead.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::model::DatasetId;
use crate::quality::Severity;
use crate::quality::evaluate::Outcome;

/// The latest result of one (rule, dataset), as recorded in this transaction.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recorded {
    pub check_id: i64,
    /// The outcome and severity of the latest result this one replaced, when that previous
    /// latest is also the result it supersedes (its evidence had a time); `None`: unknown here.
    pub replaced: Option<(Outcome, Severity)>,
}

#[derive(Debug, Default)]
pub(super) struct RecordedChecks(Mutex<HashMap<(String, DatasetId), Recorded>>);

impl RecordedChecks {
    pub fn remember(&self, rule_id: &str, dataset: DatasetId, recorded: Recorded) {
        self.map().insert((rule_id.to_string(), dataset), recorded);
    }

    pub fn get(&self, rule_id: &str, dataset: DatasetId) -> Option<Recorded> {
        self.map().get(&(rule_id.to_string(), dataset)).copied()
    }

    pub fn forget_rule(&self, rule_id: &str) {
        self.map().retain(|(rule, _), _| rule != rule_id);
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(String, DatasetId), Recorded>> {
        // Never held across an await, and every write leaves the map consistent: a panic
        // elsewhere cannot have left it half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
