//! Delivering queued alerts: a background worker claims due rows (a lease, so each is sent by
//! one worker at a time), sends them, and on failure tries again with exponential backoff and
//! jitter until the give-up time, when the failure is recorded. Delivery is at-least-once: a
//! receiver may see an alert twice, with the same `X-Weir-Delivery` id.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::watch;
use tracing::warn;

use super::model::{Channel, ChannelKind, Delivery, DeliveryStatus};
use super::payload;
use crate::store::Store;
use crate::telemetry::metrics;

/// Alerts claimed per pass; small, so one slow receiver holds back few others.
const CLAIM_BATCH: u64 = 10;

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub poll_interval: Duration,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub give_up_after: Duration,
    pub request_timeout: Duration,
}

/// What a receiver answered.
#[derive(Debug, Clone, PartialEq)]
pub struct SendOutcome {
    pub ok: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
}

/// Sends one alert to one channel.
pub async fn send(client: &reqwest::Client, channel: &Channel, delivery_id: &str, event: &str, body: &Value) -> SendOutcome {
    let bytes = match channel.kind {
        ChannelKind::Webhook => serde_json::to_vec(body),
        ChannelKind::Slack => serde_json::to_vec(&payload::slack(body)),
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(e) => return SendOutcome { ok: false, status: None, error: Some(e.to_string()) },
    };
    let mut request = client
        .post(&channel.url)
        .header("content-type", "application/json")
        .header("x-weir-delivery", delivery_id)
        .header("x-weir-event", event);
    if channel.kind == ChannelKind::Webhook
        && let Some(secret) = &channel.secret
    {
        request = request.header("x-weir-signature", payload::signature(secret, &bytes));
    }
    match request.body(bytes).send().await {
        Ok(response) => {
            let status = response.status();
            let ok = status.is_success();
            let error = if ok { None } else { Some(format!("receiver answered HTTP {status}")) };
            SendOutcome { ok, status: Some(status.as_u16()), error }
        }
        Err(e) => {
            // Without the URL: the message is stored, shown to read tokens and logged, and a
            // Slack webhook's URL is its credential.
            let e = e.without_url();
            // reqwest's top-level message hides the cause (DNS, TLS, refused): show the chain.
            let mut message = format!("cannot reach receiver: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            SendOutcome { ok: false, status: None, error: Some(message) }
        }
    }
}

/// Delay before attempt `attempts + 1`: base × 2^attempts, capped, with up to 50% jitter so
/// retries of many alerts do not arrive together.
fn backoff(settings: &DeliverySettings, attempts: i32) -> Duration {
    let exp = settings.retry_base.saturating_mul(2u32.saturating_pow(attempts.clamp(0, 20) as u32));
    let capped = exp.min(settings.retry_max);
    capped.mul_f64(1.0 + rand::random::<f64>() * 0.5)
}

/// One pass: claim what is due and deliver it. Returns how many were attempted.
pub async fn deliver_due(store: &Store, client: &reqwest::Client, settings: &DeliverySettings) -> Result<usize, crate::store::StoreError> {
    let now = Utc::now();
    // The lease covers sending the whole batch even if every receiver hangs until the timeout,
    // so another replica never takes a row this one is still sending.
    let lease = chrono::Duration::from_std(settings.request_timeout * (CLAIM_BATCH as u32 + 1)).unwrap_or(chrono::Duration::minutes(5));
    let claimed = store.claim_deliveries(now, now + lease, CLAIM_BATCH).await?;
    let count = claimed.len();
    for (delivery, channel) in claimed {
        let outcome = send(client, &channel, &delivery.delivery_id, &delivery.event, &delivery.payload).await;
        record(store, settings, &delivery, &outcome).await?;
    }
    Ok(count)
}

async fn record(store: &Store, settings: &DeliverySettings, delivery: &Delivery, outcome: &SendOutcome) -> Result<(), crate::store::StoreError> {
    let now = Utc::now();
    if outcome.ok {
        metrics::record_alert_delivery("delivered");
        return store.record_attempt(delivery.id, DeliveryStatus::Delivered, outcome.status, None, now, now).await;
    }
    let give_up_at: DateTime<Utc> = delivery.created_at + chrono::Duration::from_std(settings.give_up_after).unwrap_or(chrono::Duration::days(1));
    let next = now + chrono::Duration::from_std(backoff(settings, delivery.attempts)).unwrap_or(chrono::Duration::seconds(60));
    let status = if next > give_up_at { DeliveryStatus::Failed } else { DeliveryStatus::Pending };
    if status == DeliveryStatus::Failed {
        warn!(delivery = %delivery.delivery_id, error = ?outcome.error, "alert delivery failed for good");
        metrics::record_alert_delivery("failed");
    } else {
        metrics::record_alert_delivery("retrying");
    }
    store.record_attempt(delivery.id, status, outcome.status, outcome.error.as_deref(), next, now).await
}

/// The background worker: delivers until told to stop.
pub async fn run_worker(store: Store, settings: DeliverySettings, mut stop: watch::Receiver<bool>) {
    let client = match reqwest::Client::builder().timeout(settings.request_timeout).build() {
        Ok(client) => client,
        Err(e) => {
            warn!(error = %e, "cannot build the alert HTTP client; alerts stay queued");
            return;
        }
    };
    loop {
        match deliver_due(&store, &client, &settings).await {
            // More may be due right away.
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => warn!(error = %e, "alert delivery pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.poll_interval) => {}
            _ = stop.changed() => return,
        }
    }
}
