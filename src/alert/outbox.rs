//! Queueing an alert for every enabled channel whose filter wants it. Called inside the
//! transaction of the change that causes the alert, so the alert exists exactly when the
//! change does.

use globset::Glob;
use serde_json::Value;

use super::model::{AlertEvent, Channel, ChannelFilter};
use crate::model::DatasetRef;
use crate::quality::Severity;
use crate::store::{StoreError, WriteTx};

/// What an alert is about, for channel filters.
pub struct Subject<'a> {
    pub event: AlertEvent,
    pub dataset: Option<&'a DatasetRef>,
    pub severity: Severity,
}

fn glob_matches(patterns: &[String], value: &str) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|p| Glob::new(p).map(|g| g.compile_matcher().is_match(value)).unwrap_or(false))
}

/// Whether a channel's filter wants this alert.
pub fn wants(filter: &ChannelFilter, subject: &Subject<'_>) -> bool {
    let event_ok = filter.events.is_empty() || filter.events.iter().any(|e| e == subject.event.as_str());
    let severity_ok = match filter.min_severity.as_deref().and_then(Severity::parse) {
        Some(Severity::Block) => subject.severity == Severity::Block,
        _ => true,
    };
    let dataset_ok = match subject.dataset {
        Some(d) => glob_matches(&filter.namespaces, &d.namespace) && glob_matches(&filter.datasets, &d.name),
        None => filter.namespaces.is_empty() && filter.datasets.is_empty(),
    };
    event_ok && severity_ok && dataset_ok
}

/// Queues `payload` (with its delivery id added) for every channel that wants it; returns the
/// channels it was queued for.
pub async fn queue(tx: &WriteTx, subject: &Subject<'_>, payload: &Value) -> Result<Vec<Channel>, StoreError> {
    let mut queued = Vec::new();
    for channel in tx.enabled_channels().await? {
        if !wants(&channel.filter, subject) {
            continue;
        }
        let delivery_id = uuid::Uuid::new_v4().to_string();
        let mut body = payload.clone();
        body["delivery_id"] = Value::String(delivery_id.clone());
        tx.enqueue_alert(channel.id, &delivery_id, subject.event.as_str(), &body).await?;
        queued.push(channel);
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(event: AlertEvent, severity: Severity) -> (DatasetRef, AlertEvent, Severity) {
        (DatasetRef { namespace: "postgres://prod".into(), name: "analytics.orders".into() }, event, severity)
    }

    #[test]
    fn filters_by_dataset_severity_and_event() {
        let (d, e, s) = subject(AlertEvent::IncidentOpened, Severity::Block);
        let s = Subject { event: e, dataset: Some(&d), severity: s };
        assert!(wants(&ChannelFilter::default(), &s));
        let f = ChannelFilter { namespaces: vec!["postgres://*".into()], datasets: vec!["analytics.*".into()], ..Default::default() };
        assert!(wants(&f, &s));
        let f = ChannelFilter { datasets: vec!["staging.*".into()], ..Default::default() };
        assert!(!wants(&f, &s));
        let f = ChannelFilter { events: vec!["gate.violation".into()], ..Default::default() };
        assert!(!wants(&f, &s));
        let warn = Subject { event: AlertEvent::WarnCheckFailed, dataset: Some(&d), severity: Severity::Warn };
        let f = ChannelFilter { min_severity: Some("block".into()), ..Default::default() };
        assert!(!wants(&f, &warn));
        assert!(wants(&f, &s));
    }
}
