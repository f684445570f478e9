//! Incidents, alert channels and the alert outbox.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, ModelTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde_json::Value;

use super::entities::{alert_channel, alert_outbox, dataset, incident, incident_event};
use super::packed_json::{pack, unpack};
use super::{Store, StoreError, WriteTx};
use crate::alert::model::{
    BlastRadius, Channel, ChannelFilter, ChannelKind, Delivery, DeliveryStatus, Incident, IncidentStatus, TimelineEntry,
};
use crate::model::{DatasetId, Page};

const ACTIVE: &str = "active";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn incident_of(row: incident::Model) -> Result<Incident, StoreError> {
    Ok(Incident {
        id: row.id,
        dataset_id: DatasetId(row.dataset_id),
        rule_id: row.rule_id,
        status: IncidentStatus::parse(&row.status),
        opening_check_id: row.opening_check_id,
        blast_radius: unpack(&row.blast_radius_zstd, || format!("incident {}: blast radius", row.id))?,
        opened_at: row.opened_at,
        acknowledged_at: row.acknowledged_at,
        acknowledged_by: row.acknowledged_by,
        resolved_at: row.resolved_at,
        resolved_by: row.resolved_by,
    })
}

fn channel_of(row: alert_channel::Model) -> Result<Channel, StoreError> {
    Ok(Channel {
        id: row.id,
        name: row.name,
        kind: ChannelKind::parse(&row.kind).ok_or_else(|| corrupt(format!("channel kind {}", row.kind)))?,
        url: row.url,
        secret: row.secret,
        filter: serde_json::from_value(row.filter).map_err(corrupt)?,
        enabled: row.enabled,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn delivery_of(row: alert_outbox::Model) -> Delivery {
    Delivery {
        id: row.id,
        channel_id: row.channel_id,
        delivery_id: row.delivery_id,
        event: row.event,
        payload: row.payload,
        status: DeliveryStatus::parse(&row.status),
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        last_error: row.last_error,
        last_status: row.last_status,
        created_at: row.created_at,
        delivered_at: row.delivered_at,
    }
}

/// A channel as saved.
#[derive(Clone, Copy)]
pub struct NewChannel<'a> {
    pub name: &'a str,
    pub kind: ChannelKind,
    pub url: &'a str,
    pub secret: Option<&'a str>,
    pub filter: &'a ChannelFilter,
    pub enabled: bool,
}

/// Filters of the incident listing.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<IncidentStatus>,
    pub namespace: Option<String>,
    pub dataset: Option<String>,
}

impl WriteTx {
    /// The open or acknowledged incident of (dataset, rule), locked.
    pub async fn active_incident(&self, dataset: DatasetId, rule_id: &str) -> Result<Option<Incident>, StoreError> {
        incident::Entity::find()
            .filter(incident::Column::DatasetId.eq(dataset.0))
            .filter(incident::Column::RuleId.eq(rule_id))
            .filter(incident::Column::ActiveKey.eq(ACTIVE))
            .lock_exclusive()
            .one(&self.tx)
            .await?
            .map(incident_of)
            .transpose()
    }

    pub async fn incident_locked(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        incident::Entity::find_by_id(id).lock_exclusive().one(&self.tx).await?.map(incident_of).transpose()
    }

    pub async fn open_incident(
        &self,
        dataset: DatasetId,
        rule_id: &str,
        check_id: i64,
        blast_radius: &BlastRadius,
        at: DateTime<Utc>,
    ) -> Result<Incident, StoreError> {
        let row = incident::ActiveModel {
            dataset_id: Set(dataset.0),
            rule_id: Set(rule_id.to_string()),
            status: Set(IncidentStatus::Open.as_str().to_string()),
            active_key: Set(Some(ACTIVE.to_string())),
            opening_check_id: Set(check_id),
            blast_radius_zstd: Set(pack(blast_radius)?),
            opened_at: Set(at),
            ..Default::default()
        }
        .insert(&self.tx)
        .await?;
        incident_of(row)
    }

    /// Moves an incident to `status`, recording who and when.
    pub async fn set_incident_status(
        &self,
        id: i64,
        status: IncidentStatus,
        actor: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Incident, StoreError> {
        let row = incident::Entity::find_by_id(id).one(&self.tx).await?.ok_or_else(|| corrupt(format!("incident {id}")))?;
        let mut active: incident::ActiveModel = row.into();
        active.status = Set(status.as_str().to_string());
        match status {
            IncidentStatus::Acknowledged => {
                active.acknowledged_at = Set(Some(at));
                active.acknowledged_by = Set(actor.map(str::to_string));
            }
            IncidentStatus::Resolved => {
                active.active_key = Set(None);
                active.resolved_at = Set(Some(at));
                active.resolved_by = Set(actor.map(str::to_string));
            }
            IncidentStatus::Open => {}
        }
        incident_of(active.update(&self.tx).await?)
    }

    pub async fn add_incident_event(&self, incident_id: i64, entry: &TimelineEntry) -> Result<(), StoreError> {
        incident_event::ActiveModel {
            incident_id: Set(incident_id),
            kind: Set(entry.kind.clone()),
            actor: Set(entry.actor.clone()),
            note: Set(entry.note.clone()),
            details: Set(entry.details.clone()),
            at: Set(entry.at),
            ..Default::default()
        }
        .insert(&self.tx)
        .await?;
        Ok(())
    }

    pub async fn enabled_channels(&self) -> Result<Vec<Channel>, StoreError> {
        let rows = alert_channel::Entity::find()
            .filter(alert_channel::Column::Enabled.eq(true))
            .order_by_asc(alert_channel::Column::Id)
            .all(&self.tx)
            .await?;
        rows.into_iter().map(channel_of).collect()
    }

    /// Queues one alert for one channel, due now. Delivery timing (due, retries, giving up)
    /// runs on the wall clock, whatever clock the domain uses.
    pub async fn enqueue_alert(&self, channel_id: i64, delivery_id: &str, event: &str, payload: &Value) -> Result<(), StoreError> {
        let now = Utc::now();
        alert_outbox::ActiveModel {
            channel_id: Set(channel_id),
            delivery_id: Set(delivery_id.to_string()),
            event: Set(event.to_string()),
            payload: Set(payload.clone()),
            status: Set(DeliveryStatus::Pending.as_str().to_string()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&self.tx)
        .await?;
        Ok(())
    }

    /// The outcome of the result before `before_id` of (rule, dataset), if any.
    pub async fn previous_outcome(&self, rule_id: &str, dataset: DatasetId, before_id: i64) -> Result<Option<String>, StoreError> {
        use super::entities::check_result;
        let found = check_result::Entity::find()
            .filter(check_result::Column::RuleId.eq(rule_id))
            .filter(check_result::Column::DatasetId.eq(dataset.0))
            .filter(check_result::Column::Id.lt(before_id))
            .order_by_desc(check_result::Column::Id)
            .one(&self.tx)
            .await?;
        Ok(found.map(|c| c.outcome))
    }
}

impl Store {
    pub async fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        incident::Entity::find_by_id(id).one(&self.db).await?.map(incident_of).transpose()
    }

    pub async fn incidents(&self, filter: &IncidentFilter, offset: u64, first: u64) -> Result<Page<Incident>, StoreError> {
        let mut query = incident::Entity::find().order_by_desc(incident::Column::OpenedAt).order_by_desc(incident::Column::Id);
        if let Some(status) = filter.status {
            query = query.filter(incident::Column::Status.eq(status.as_str()));
        }
        if filter.namespace.is_some() || filter.dataset.is_some() {
            let mut datasets = dataset::Entity::find().select_only().column(dataset::Column::Id);
            if let Some(ns) = &filter.namespace {
                datasets = datasets.filter(dataset::Column::Namespace.eq(ns.as_str()));
            }
            if let Some(name) = &filter.dataset {
                datasets = datasets.filter(dataset::Column::Name.eq(name.as_str()));
            }
            let ids: Vec<i64> = datasets.into_tuple().all(&self.db).await?;
            query = query.filter(incident::Column::DatasetId.is_in(ids));
        }
        let mut rows = query.offset(offset).limit(first + 1).all(&self.db).await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page { items: rows.into_iter().map(incident_of).collect::<Result<_, _>>()?, has_next })
    }

    pub async fn incident_timeline(&self, id: i64) -> Result<Vec<TimelineEntry>, StoreError> {
        let rows = incident_event::Entity::find()
            .filter(incident_event::Column::IncidentId.eq(id))
            .order_by_asc(incident_event::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| TimelineEntry { kind: r.kind, actor: r.actor, note: r.note, details: r.details, at: r.at })
            .collect())
    }

    pub async fn channels(&self) -> Result<Vec<Channel>, StoreError> {
        let rows = alert_channel::Entity::find().order_by_asc(alert_channel::Column::Name).all(&self.db).await?;
        rows.into_iter().map(channel_of).collect()
    }

    pub async fn channel(&self, id: i64) -> Result<Option<Channel>, StoreError> {
        alert_channel::Entity::find_by_id(id).one(&self.db).await?.map(channel_of).transpose()
    }

    pub async fn channel_by_name(&self, name: &str) -> Result<Option<Channel>, StoreError> {
        alert_channel::Entity::find()
            .filter(alert_channel::Column::Name.eq(name))
            .one(&self.db)
            .await?
            .map(channel_of)
            .transpose()
    }

    /// Creates or replaces the channel called `channel.name`.
    pub async fn save_channel(&self, channel: &NewChannel<'_>, now: DateTime<Utc>) -> Result<Channel, StoreError> {
        let NewChannel { name, kind, url, secret, filter, enabled } = *channel;
        let filter = serde_json::to_value(filter).map_err(corrupt)?;
        let existing = alert_channel::Entity::find().filter(alert_channel::Column::Name.eq(name)).one(&self.db).await?;
        let row = match existing {
            Some(row) => {
                let mut active: alert_channel::ActiveModel = row.into();
                active.kind = Set(kind.as_str().to_string());
                active.url = Set(url.to_string());
                active.secret = Set(secret.map(str::to_string));
                active.filter = Set(filter);
                active.enabled = Set(enabled);
                active.updated_at = Set(now);
                active.update(&self.db).await?
            }
            None => {
                alert_channel::ActiveModel {
                    name: Set(name.to_string()),
                    kind: Set(kind.as_str().to_string()),
                    url: Set(url.to_string()),
                    secret: Set(secret.map(str::to_string)),
                    filter: Set(filter),
                    enabled: Set(enabled),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&self.db)
                .await?
            }
        };
        channel_of(row)
    }

    pub async fn delete_channel(&self, name: &str) -> Result<bool, StoreError> {
        let Some(row) = alert_channel::Entity::find().filter(alert_channel::Column::Name.eq(name)).one(&self.db).await? else {
            return Ok(false);
        };
        row.delete(&self.db).await?;
        Ok(true)
    }

    /// Deliveries of a channel (or all), newest first.
    pub async fn deliveries(&self, channel_id: Option<i64>, status: Option<DeliveryStatus>, limit: u64) -> Result<Vec<Delivery>, StoreError> {
        let mut query = alert_outbox::Entity::find().order_by_desc(alert_outbox::Column::Id);
        if let Some(id) = channel_id {
            query = query.filter(alert_outbox::Column::ChannelId.eq(id));
        }
        if let Some(status) = status {
            query = query.filter(alert_outbox::Column::Status.eq(status.as_str()));
        }
        Ok(query.limit(limit).all(&self.db).await?.into_iter().map(delivery_of).collect())
    }

    /// Takes up to `limit` due deliveries for this worker until `lease_until`. On PostgreSQL
    /// rows another worker is claiming are skipped (`FOR UPDATE SKIP LOCKED`), so each alert
    /// goes to one worker; on SQLite the write transaction serialises claims.
    pub async fn claim_deliveries(&self, now: DateTime<Utc>, lease_until: DateTime<Utc>, limit: u64) -> Result<Vec<(Delivery, Channel)>, StoreError> {
        // IMMEDIATE on SQLite: wait for the write lock rather than fail when a write is under way.
        let options = sea_orm::TransactionOptions {
            isolation_level: None,
            access_mode: None,
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        };
        let tx = self.db.begin_with_options(options).await?;
        let due = alert_outbox::Entity::find()
            .filter(alert_outbox::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(alert_outbox::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(alert_outbox::Column::ClaimedUntil.is_null())
                    .add(alert_outbox::Column::ClaimedUntil.lt(now)),
            )
            .order_by_asc(alert_outbox::Column::Id)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&tx)
            .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for row in due {
            let channel = alert_channel::Entity::find_by_id(row.channel_id).one(&tx).await?;
            let mut active: alert_outbox::ActiveModel = row.into();
            active.claimed_until = Set(Some(lease_until));
            let row = active.update(&tx).await?;
            match channel {
                Some(channel) => claimed.push((delivery_of(row), channel_of(channel)?)),
                None => {
                    // The channel was deleted after the alert was queued: nothing to send to.
                    let mut active: alert_outbox::ActiveModel = row.into();
                    active.status = Set(DeliveryStatus::Failed.as_str().to_string());
                    active.last_error = Set(Some("channel deleted".into()));
                    active.update(&tx).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records the outcome of one attempt.
    pub async fn record_attempt(
        &self,
        id: i64,
        status: DeliveryStatus,
        http_status: Option<u16>,
        error: Option<&str>,
        next_attempt_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Some(row) = alert_outbox::Entity::find_by_id(id).one(&self.db).await? else { return Ok(()) };
        let attempts = row.attempts + 1;
        let mut active: alert_outbox::ActiveModel = row.into();
        active.attempts = Set(attempts);
        active.status = Set(status.as_str().to_string());
        active.last_status = Set(http_status.map(i32::from));
        active.last_error = Set(error.map(str::to_string));
        active.next_attempt_at = Set(next_attempt_at);
        active.claimed_until = Set(None);
        if status == DeliveryStatus::Delivered {
            active.delivered_at = Set(Some(now));
        }
        active.update(&self.db).await?;
        Ok(())
    }
}
