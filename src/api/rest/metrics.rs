//! `GET /metrics`: Prometheus text format (see `telemetry::metrics` for the list).

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::api::AppState;
use crate::telemetry::metrics;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (in_use, idle, max) = state.store.pool_stats();
    metrics::set_db_pool(in_use, idle, max);
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], metrics::render())
}
