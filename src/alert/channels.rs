//! Alert channels: where alerts go (a generic webhook or a Slack incoming webhook) and which
//! alerts each wants.

use chrono::{DateTime, Utc};
use globset::Glob;

use super::deliver::{SendOutcome, send};
use super::model::{AlertEvent, Channel, ChannelFilter, ChannelKind};
use super::payload;
use crate::quality::Severity;
use crate::store::{NewChannel, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("channel `{name}`: {message}")]
    Invalid { name: String, message: String },
    #[error("no channel named `{0}`")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct ChannelSpec {
    pub name: String,
    pub kind: String,
    pub url: String,
    /// Signs webhook bodies (`X-Weir-Signature`); ignored by Slack.
    pub secret: Option<String>,
    pub filter: ChannelFilter,
    pub enabled: bool,
}

fn validate(spec: &ChannelSpec) -> Result<ChannelKind, ChannelError> {
    let invalid = |message: String| ChannelError::Invalid { name: spec.name.clone(), message };
    if spec.name.trim().is_empty() {
        return Err(invalid("`name` must not be empty".into()));
    }
    let kind = ChannelKind::parse(&spec.kind).ok_or_else(|| invalid(format!("unknown `kind` `{}`: expected webhook or slack", spec.kind)))?;
    let url = reqwest::Url::parse(&spec.url).map_err(|e| invalid(format!("`url` `{}` is not a URL: {e}", spec.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!("`url` must be http or https, got {}", url.scheme())));
    }
    for pattern in spec.filter.namespaces.iter().chain(&spec.filter.datasets) {
        Glob::new(pattern).map_err(|e| invalid(format!("filter pattern `{pattern}` does not compile: {}", e.kind())))?;
    }
    for event in &spec.filter.events {
        if AlertEvent::parse(event).is_none() {
            return Err(invalid(format!(
                "unknown event `{event}`: expected incident.opened, incident.acknowledged, incident.resolved, gate.violation or check.warn_failed"
            )));
        }
    }
    if let Some(s) = &spec.filter.min_severity
        && Severity::parse(s).is_none()
    {
        return Err(invalid(format!("`minSeverity` `{s}` is not warn or block")));
    }
    Ok(kind)
}

/// Creates the channel, or replaces the one with the same name.
pub async fn save(store: &Store, spec: ChannelSpec, now: DateTime<Utc>) -> Result<Channel, ChannelError> {
    let kind = validate(&spec)?;
    let secret = spec.secret.as_deref().filter(|s| !s.is_empty());
    let channel = NewChannel { name: &spec.name, kind, url: &spec.url, secret, filter: &spec.filter, enabled: spec.enabled };
    Ok(store.save_channel(&channel, now).await?)
}

pub async fn delete(store: &Store, name: &str) -> Result<(), ChannelError> {
    if store.delete_channel(name).await? { Ok(()) } else { Err(ChannelError::NotFound(name.to_string())) }
}

/// Sends a test message now (not through the outbox) and reports what the receiver answered.
pub async fn test(store: &Store, name: &str, now: DateTime<Utc>) -> Result<SendOutcome, ChannelError> {
    let channel = store.channel_by_name(name).await?.ok_or_else(|| ChannelError::NotFound(name.to_string()))?;
    let mut body = payload::test_message(&channel.name, now);
    let delivery_id = uuid::Uuid::new_v4().to_string();
    body["delivery_id"] = serde_json::Value::String(delivery_id.clone());
    Ok(send(&reqwest::Client::new(), &channel, &delivery_id, AlertEvent::Test.as_str(), &body).await)
}
