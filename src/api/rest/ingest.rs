//! `POST /api/v1/lineage` and `POST /api/v1/lineage/batch`, as OpenLineage clients call them.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{Value, json};

use std::time::Instant;

use crate::api::body::read_body;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::ingest::committer::Ticket;
use crate::ingest::{IngestError, IngestOutcome, Prepared};
use crate::openlineage::{ParseError, parse_batch, parse_event};
use crate::alert::notices;
use crate::telemetry::metrics;

/// Label of an event that was refused before it could be parsed.
const UNPARSED: &str = "unknown";

/// Bodies above this are parsed and archived on a blocking thread: a few megabytes of JSON
/// take tens of milliseconds, which on a runtime worker (two on a 2-core machine) would stall
/// every other request that worker serves.
const INLINE_BODY_BYTES: usize = 256 * 1024;

/// Runs `work` here for a small body, on a blocking thread for a large one.
async fn by_body_size<T: Send + 'static>(body_bytes: usize, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    if body_bytes <= INLINE_BODY_BYTES {
        return Ok(work());
    }
    tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::internal("parsing a large body", e))
}

/// Ingests one archived event, counting it by type and outcome and timing it.
async fn ingest_counted(state: &AppState, event: Prepared) -> Result<IngestOutcome, IngestError> {
    let started = Instant::now();
    let label = metrics::event_type_label(&event.event);
    match state.committer.submit_prepared(event, state.clock.now()).await {
        Ok(ticket) => finish(state, label, started, ticket).await,
        Err(e) => Err(e),
    }
}

/// Waits for a submitted event's transaction and counts the outcome.
async fn finish(state: &AppState, label: &'static str, started: Instant, ticket: Ticket) -> Result<IngestOutcome, IngestError> {
    let result = ticket.wait().await;
    let outcome = match &result {
        Ok((IngestOutcome::Stored, _)) => "stored",
        Ok((IngestOutcome::Duplicate, _)) => "duplicate",
        Err(IngestError::RunIdConflict { .. }) => "rejected",
        Err(_) => "failed",
    };
    if result.is_ok() {
        metrics::record_ingest_duration(started.elapsed());
    }
    metrics::record_event_ingested(label, outcome);
    let (outcome, report) = result?;
    // Subscribers hear about what the committed event changed; a failure to look up names
    // for them must not fail the acknowledged event.
    if let Err(e) = notices::publish(&state.notices, &state.store, &report.results, &report.incidents, report.violation.as_ref()).await {
        tracing::warn!(error = %e, "could not publish notices for an ingested event");
    }
    Ok(outcome)
}

/// One event. 201 once it is committed (as Marquez answers), also for a duplicate, so a client
/// that retries after a lost response gets success without the event counting twice.
pub async fn post_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let rejected = |e| {
        metrics::record_event_ingested(UNPARSED, "rejected");
        e
    };
    let bytes = read_body(&headers, body, state.config.max_body_bytes).await.map_err(rejected)?;
    let committer = state.committer.clone();
    let parsed = by_body_size(bytes.len(), move || parse_event(&bytes).map(|event| committer.prepare(event))).await?;
    let event = parsed.map_err(|e| rejected(ApiError::from(e)))??;
    let outcome = ingest_counted(&state, event).await?;
    let status = match outcome {
        IngestOutcome::Stored => "stored",
        IngestOutcome::Duplicate => "duplicate",
    };
    Ok((StatusCode::CREATED, Json(json!({ "status": status }))))
}

/// A JSON array of events, each parsed and stored on its own; the answer follows the spec's
/// `OpenLineage.yml`: a summary and the index and reason of each failed event.
pub async fn post_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let bytes = read_body(&headers, body, state.config.max_body_bytes).await?;
    let committer = state.committer.clone();
    let events = by_body_size(bytes.len(), move || {
        let events = parse_batch(&bytes)?;
        let prepare = |event| (metrics::event_type_label(&event), committer.prepare(event));
        Ok::<_, ParseError>(events.into_iter().map(|parsed| parsed.map(prepare)).collect::<Vec<_>>())
    })
    .await??;
    let received = events.len();
    let mut failed = Vec::new();
    let mut retriable = 0;
    // Every valid event is queued first, in order, so that they can share transactions with
    // each other (and with other requests); then the answers are collected.
    let mut submitted = Vec::with_capacity(received);
    for (index, parsed) in events.into_iter().enumerate() {
        match parsed {
            Ok((label, prepared)) => {
                let started = Instant::now();
                let ticket = match prepared {
                    Ok(event) => state.committer.submit_prepared(event, state.clock.now()).await,
                    Err(e) => Err(e),
                };
                submitted.push((index, label, started, ticket));
            }
            Err(err) => {
                metrics::record_event_ingested(UNPARSED, "rejected");
                let mut entry = json!({ "index": index, "reason": err.message, "retriable": false });
                if !err.path.is_empty() {
                    entry["path"] = json!(err.path);
                }
                failed.push(entry);
            }
        }
    }
    for (index, label, started, ticket) in submitted {
        let result = match ticket {
            Ok(ticket) => finish(&state, label, started, ticket).await,
            Err(e) => Err(e),
        };
        if let Err(err) = result {
            let err = ApiError::from(err);
            let is_internal = matches!(err, ApiError::Internal(_));
            let mut entry = json!({
                "index": index,
                // Internal details were logged by the conversion; the client learns only that
                // it may retry this one.
                "reason": if is_internal { "Server error".to_string() } else { err.to_string() },
                "retriable": is_internal,
            });
            if let Some(path) = err.path() {
                entry["path"] = json!(path);
            }
            if is_internal {
                retriable += 1;
            }
            failed.push(entry);
        }
    }
    failed.sort_by_key(|entry| entry["index"].as_u64());
    let failed_count = failed.len();
    let body = json!({
        "status": if failed_count == 0 { "success" } else { "partial_success" },
        "summary": {
            "received": received,
            "successful": received - failed_count,
            "failed": failed_count,
            "retriable": retriable,
            "non_retriable": failed_count - retriable,
        },
        "failed_events": failed,
    });
    Ok((StatusCode::OK, Json(body)))
}
