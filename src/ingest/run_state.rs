//! How a run's state follows its events, whatever order they arrive in.
//!
//! Rules (event time decides, not arrival time):
//! * a terminal state (COMPLETE, FAIL, ABORT) is never replaced by a non-terminal one, however
//!   late the non-terminal event claims to be: a START delivered after COMPLETE is old news;
//! * a terminal event always replaces a non-terminal state;
//! * within the same class, the event with the later event time wins (ties keep what is there);
//! * an event without `eventType`, or with OTHER, carries lineage but says nothing about the
//!   state, so it only sets OTHER on a run that has no state yet.

use chrono::{DateTime, Utc};

use crate::model::RunState;
use crate::openlineage::RunEventType;

pub fn state_of(event_type: RunEventType) -> RunState {
    match event_type {
        RunEventType::Start => RunState::Start,
        RunEventType::Running => RunState::Running,
        RunEventType::Complete => RunState::Complete,
        RunEventType::Fail => RunState::Fail,
        RunEventType::Abort => RunState::Abort,
        RunEventType::Other => RunState::Other,
    }
}

/// The state after an event of `incoming` type at `at`, given the current state and the time
/// it was set. `None` means the state does not change.
pub fn next_state(
    current: RunState,
    current_time: DateTime<Utc>,
    incoming: Option<RunEventType>,
    at: DateTime<Utc>,
) -> Option<RunState> {
    let incoming = state_of(incoming?);
    if incoming == RunState::Other {
        return None;
    }
    if current == RunState::Other {
        return Some(incoming);
    }
    match (current.is_terminal(), incoming.is_terminal()) {
        (true, false) => None,
        (false, true) => Some(incoming),
        _ if at > current_time => Some(incoming),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).single().unwrap_or_default()
    }

    #[test]
    fn in_order_events_walk_the_lifecycle() {
        assert_eq!(next_state(RunState::Start, t(0), Some(RunEventType::Running), t(1)), Some(RunState::Running));
        assert_eq!(next_state(RunState::Running, t(1), Some(RunEventType::Complete), t(2)), Some(RunState::Complete));
    }

    #[test]
    fn late_start_never_overwrites_a_terminal_state() {
        assert_eq!(next_state(RunState::Complete, t(5), Some(RunEventType::Start), t(1)), None);
        // Even a START that claims to be later: a terminal state is final.
        assert_eq!(next_state(RunState::Fail, t(5), Some(RunEventType::Running), t(9)), None);
    }

    #[test]
    fn terminal_replaces_non_terminal_even_with_skewed_clock() {
        assert_eq!(next_state(RunState::Running, t(5), Some(RunEventType::Fail), t(4)), Some(RunState::Fail));
    }

    #[test]
    fn later_terminal_event_wins_over_earlier_one() {
        assert_eq!(next_state(RunState::Fail, t(5), Some(RunEventType::Complete), t(6)), Some(RunState::Complete));
        assert_eq!(next_state(RunState::Complete, t(6), Some(RunEventType::Fail), t(5)), None);
    }

    #[test]
    fn events_without_state_do_not_change_it() {
        assert_eq!(next_state(RunState::Running, t(1), None, t(9)), None);
        assert_eq!(next_state(RunState::Running, t(1), Some(RunEventType::Other), t(9)), None);
        assert_eq!(next_state(RunState::Other, t(1), Some(RunEventType::Start), t(0)), Some(RunState::Start));
    }

    #[test]
    fn duplicate_time_keeps_current() {
        assert_eq!(next_state(RunState::Start, t(1), Some(RunEventType::Running), t(1)), None);
    }
}
