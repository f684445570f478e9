//! GraphQL types of alerting: incidents, channels and deliveries.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::gate::DatasetRefObject;
use super::{CheckResultObject, DatasetObject, loaders, state};
use crate::alert::model::{Channel, ChannelFilter, Delivery, DeliveryStatus, Incident, IncidentStatus, TimelineEntry};
use crate::api::auth::Access;
use crate::api::error::{GqlResult, IntoGql};
use crate::auth::Permission;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "IncidentStatus")]
pub enum IncidentStatusGql {
    Open,
    Acknowledged,
    Resolved,
}

impl From<IncidentStatus> for IncidentStatusGql {
    fn from(s: IncidentStatus) -> Self {
        match s {
            IncidentStatus::Open => IncidentStatusGql::Open,
            IncidentStatus::Acknowledged => IncidentStatusGql::Acknowledged,
            IncidentStatus::Resolved => IncidentStatusGql::Resolved,
        }
    }
}

impl From<IncidentStatusGql> for IncidentStatus {
    fn from(s: IncidentStatusGql) -> Self {
        match s {
            IncidentStatusGql::Open => IncidentStatus::Open,
            IncidentStatusGql::Acknowledged => IncidentStatus::Acknowledged,
            IncidentStatusGql::Resolved => IncidentStatus::Resolved,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "JobRef")]
pub struct JobRefObject {
    namespace: String,
    name: String,
}

#[derive(SimpleObject)]
pub struct Owner {
    name: String,
    #[graphql(name = "type")]
    owner_type: Option<String>,
    /// The node id of what they own.
    owns: ID,
}

/// What was downstream of the failing dataset when the incident opened, and who owns it: up to
/// 500 datasets and jobs, the nearest first.
#[derive(SimpleObject)]
#[graphql(name = "BlastRadius")]
pub struct BlastRadiusObject {
    datasets: Vec<DatasetRefObject>,
    jobs: Vec<JobRefObject>,
    /// Owners of the failing dataset and of the datasets and jobs listed.
    owners: Vec<Owner>,
    /// More was downstream than the 500 datasets and jobs listed; the `lineage` query gives
    /// all of it.
    truncated: bool,
}

#[derive(SimpleObject)]
#[graphql(name = "IncidentEvent")]
pub struct TimelineObject {
    /// `opened`, `acknowledged`, `resolved`.
    kind: String,
    actor: Option<String>,
    note: Option<String>,
    details: Option<Json<Value>>,
    at: DateTime<Utc>,
}

impl From<TimelineEntry> for TimelineObject {
    fn from(t: TimelineEntry) -> Self {
        TimelineObject { kind: t.kind, actor: t.actor, note: t.note, details: t.details.map(Json), at: t.at }
    }
}

pub struct IncidentObject(pub Incident);

#[Object(name = "Incident")]
impl IncidentObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn status(&self) -> IncidentStatusGql {
        self.0.status.into()
    }
    async fn dataset(&self, ctx: &Context<'_>) -> GqlResult<Option<DatasetObject>> {
        Ok(loaders(ctx)?.load_one(self.0.dataset_id).await.gql()?.map(DatasetObject))
    }
    async fn rule_id(&self) -> &str {
        &self.0.rule_id
    }
    /// The failing result that opened it.
    async fn opening_check(&self, ctx: &Context<'_>) -> GqlResult<Option<CheckResultObject>> {
        let snapshot = state(ctx)?.store.snapshot();
        Ok(snapshot.check_result(self.0.opening_check_id).await.gql()?.map(CheckResultObject))
    }
    async fn blast_radius(&self) -> BlastRadiusObject {
        let r = &self.0.blast_radius;
        BlastRadiusObject {
            datasets: r.datasets.iter().cloned().map(Into::into).collect(),
            jobs: r.jobs.iter().map(|j| JobRefObject { namespace: j.namespace.clone(), name: j.name.clone() }).collect(),
            owners: r
                .owners
                .iter()
                .map(|o| Owner { name: o.name.clone(), owner_type: o.owner_type.clone(), owns: ID(o.owns.clone()) })
                .collect(),
            truncated: r.truncated,
        }
    }
    async fn timeline(&self, ctx: &Context<'_>) -> GqlResult<Vec<TimelineObject>> {
        let timeline = state(ctx)?.store.incident_timeline(self.0.id).await.gql()?;
        Ok(timeline.into_iter().map(Into::into).collect())
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.acknowledged_at
    }
    async fn acknowledged_by(&self) -> Option<&str> {
        self.0.acknowledged_by.as_deref()
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    /// Who resolved it; null when it resolved itself (the rule passed again).
    async fn resolved_by(&self) -> Option<&str> {
        self.0.resolved_by.as_deref()
    }
}

/// Which alerts a channel wants; empty lists mean all.
#[derive(SimpleObject, InputObject, Clone, Default)]
#[graphql(input_name = "ChannelFilterInput", name = "ChannelFilter")]
pub struct ChannelFilterObject {
    /// Globs over dataset namespaces.
    #[graphql(default)]
    pub namespaces: Vec<String>,
    /// Globs over dataset names.
    #[graphql(default)]
    pub datasets: Vec<String>,
    /// `block` to hear only block-level failures; `warn` (default) for both.
    pub min_severity: Option<String>,
    /// incident.opened, incident.acknowledged, incident.resolved, gate.violation, check.warn_failed.
    #[graphql(default)]
    pub events: Vec<String>,
}

impl From<ChannelFilter> for ChannelFilterObject {
    fn from(f: ChannelFilter) -> Self {
        ChannelFilterObject { namespaces: f.namespaces, datasets: f.datasets, min_severity: f.min_severity, events: f.events }
    }
}

impl From<ChannelFilterObject> for ChannelFilter {
    fn from(f: ChannelFilterObject) -> Self {
        ChannelFilter { namespaces: f.namespaces, datasets: f.datasets, min_severity: f.min_severity, events: f.events }
    }
}

#[derive(InputObject)]
pub struct ChannelInput {
    pub name: String,
    /// `webhook` or `slack`.
    pub kind: String,
    pub url: String,
    /// Signs webhook bodies (`X-Weir-Signature: sha256=...`).
    pub secret: Option<String>,
    pub filter: Option<ChannelFilterObject>,
    #[graphql(default = true)]
    pub enabled: bool,
}

pub struct ChannelObject(pub Channel);

/// `scheme://host[:port]/...` of `url`; `...` when it does not parse (saved URLs always do).
fn url_origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(url) => format!("{}/...", url.origin().ascii_serialization()),
        Err(_) => "...".to_string(),
    }
}

#[Object(name = "Channel")]
impl ChannelObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> &str {
        self.0.kind.as_str()
    }
    /// The receiver's URL, whole for admin tokens only: a Slack incoming webhook's path is its
    /// credential. Other callers get its scheme, host and port, the rest as `...`.
    async fn url(&self, ctx: &Context<'_>) -> String {
        let admin = ctx.data::<Access>().is_ok_and(|access| access.allows(Permission::Admin));
        if admin { self.0.url.clone() } else { url_origin(&self.0.url) }
    }
    /// Whether bodies are signed (the secret itself is never shown).
    async fn has_secret(&self) -> bool {
        self.0.secret.is_some()
    }
    async fn filter(&self) -> ChannelFilterObject {
        self.0.filter.clone().into()
    }
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Alerts queued for this channel, newest first.
    async fn deliveries(&self, ctx: &Context<'_>, status: Option<DeliveryStatusGql>, #[graphql(default = 50)] first: i32) -> GqlResult<Vec<DeliveryObject>> {
        let limit = first.clamp(0, 500) as u64;
        let rows = state(ctx)?.store.deliveries(Some(self.0.id), status.map(Into::into), limit).await.gql()?;
        Ok(rows.into_iter().map(DeliveryObject).collect())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "DeliveryStatus")]
pub enum DeliveryStatusGql {
    Pending,
    Delivered,
    /// Given up after the configured time.
    Failed,
}

impl From<DeliveryStatusGql> for DeliveryStatus {
    fn from(s: DeliveryStatusGql) -> Self {
        match s {
            DeliveryStatusGql::Pending => DeliveryStatus::Pending,
            DeliveryStatusGql::Delivered => DeliveryStatus::Delivered,
            DeliveryStatusGql::Failed => DeliveryStatus::Failed,
        }
    }
}

pub struct DeliveryObject(pub Delivery);

#[Object(name = "Delivery")]
impl DeliveryObject {
    /// The `X-Weir-Delivery` id, the same on every retry.
    async fn delivery_id(&self) -> &str {
        &self.0.delivery_id
    }
    async fn event(&self) -> &str {
        &self.0.event
    }
    async fn status(&self) -> DeliveryStatusGql {
        match self.0.status {
            DeliveryStatus::Pending => DeliveryStatusGql::Pending,
            DeliveryStatus::Delivered => DeliveryStatusGql::Delivered,
            DeliveryStatus::Failed => DeliveryStatusGql::Failed,
        }
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// The receiver's last HTTP status.
    async fn last_status(&self) -> Option<i32> {
        self.0.last_status
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn payload(&self) -> Json<Value> {
        Json(self.0.payload.clone())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }
}

/// What a receiver answered to a test message.
#[derive(SimpleObject)]
pub struct ChannelTestResult {
    pub ok: bool,
    pub status: Option<i32>,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::url_origin;

    #[test]
    fn a_url_shows_only_its_origin() {
        assert_eq!(url_origin("https://hooks.slack.com/services/T0/B0/XYZ"), "https://hooks.slack.com/...");
        assert_eq!(url_origin("http://127.0.0.1:9000/weir?token=abc"), "http://127.0.0.1:9000/...");
        assert_eq!(url_origin("not a url"), "...");
    }
}
