//! Request-level limits: how many requests are served at once, and for how long.
//!
//! Over the concurrency limit a request is refused at once (503 with `Retry-After`) rather
//! than queued: queued requests would hold sockets and memory while the database is the
//! bottleneck, and clients (OpenLineage emitters included) retry. `/healthz` and `/metrics`
//! are exempt, so an overloaded server is not killed by its liveness probe and stays visible.
//! The timeout covers the whole request, body upload included, so a client that sends its body
//! slowly cannot hold a slot forever.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::AppState;
use super::error::ApiError;

/// Seconds a refused client is asked to wait.
const RETRY_AFTER_SECS: u64 = 1;

pub fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics")
}

pub fn semaphore(limit: usize) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(limit))
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if exempt(request.uri().path()) {
        return next.run(request).await;
    }
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        let limit = state.config.max_concurrent_requests;
        return ApiError::Overloaded { limit, retry_after_secs: RETRY_AFTER_SECS }.into_response();
    };
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        // The handler's future is dropped: an uncommitted transaction rolls back, and the
        // client, which got no 201, retries.
        Err(_) => {
            tracing::warn!(timeout = %humantime::format_duration(limit), "request timed out");
            ApiError::Timeout { limit }.into_response()
        }
    }
}
