//! The API layer: HTTP routes (REST ingestion, health, metrics) and GraphQL. It converts
//! between the wire and the domain; domain modules never see a request or a GraphQL type.
//!
//! Every request passes, outermost first: a request id (kept from `x-request-id` or a new
//! UUID, echoed in the response), a tracing span that carries it, the concurrency limit and
//! timeout ([`limits`]), then authentication ([`auth`]).

mod body;
pub mod auth;
pub mod error;
mod graphql;
mod json_text;
mod limits;
mod lineage_args;
mod rest;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::middleware;
use axum::routing::{get, post};
use tokio::sync::Semaphore;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::alert::notices::Notices;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::ingest::committer::Committer;
use crate::lineage::LineageIndex;
use crate::store::Store;

pub use graphql::{GuardedSchema, WeirSchema, build_schema, schema_sdl};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: SharedClock,
    /// Changes for GraphQL subscriptions.
    pub notices: Notices,
    pub config: Arc<Config>,
    /// The GraphQL schema, behind the role and alias checks.
    pub schema: GuardedSchema,
    pub auth: Arc<auth::AuthState>,
    /// Permits for requests being served (`max_concurrent_requests`).
    pub in_flight: Arc<Semaphore>,
    /// The group-commit writer every ingested event goes through.
    pub committer: Committer,
    /// The current lineage graph in memory, for lineage queries.
    pub lineage: LineageIndex,
}

pub fn router(store: Store, clock: SharedClock, notices: Notices, lineage: LineageIndex, config: &Config) -> Router {
    let state = AppState {
        auth: auth::AuthState::new(store.clone(), config.require_auth),
        in_flight: limits::semaphore(config.max_concurrent_requests),
        committer: Committer::start(store.clone(), config.gate_unknown_inputs, config.archive_dictionary_after),
        store,
        clock,
        notices,
        config: Arc::new(config.clone()),
        schema: build_schema(config),
        lineage,
    };
    Router::new()
        .route("/api/v1/lineage", post(rest::ingest::post_event).get(rest::lineage::get_lineage))
        .route("/api/v1/lineage/batch", post(rest::ingest::post_batch))
        .route("/api/v1/gate", get(rest::gate::get_gate))
        .route("/graphql", get(graphql::get_graphql).post(graphql::post_graphql))
        .route("/graphql/ws", get(graphql::graphql_ws))
        .route("/healthz", get(rest::health::healthz))
        .route("/readyz", get(rest::health::readyz))
        .route("/metrics", get(rest::metrics::metrics))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(middleware::from_fn_with_state(state.clone(), limits::limit))
        // Bodies are read with our own limit (applied after gzip decompression too), so the
        // framework's default limit must not cut them first with a different answer.
        .layer(DefaultBodyLimit::disable())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The span every log line of a request is written in. It is at `info`, so that the request
/// id is on every line the default filter lets through. `principal` is filled in by auth.
fn request_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
        principal = tracing::field::Empty,
    )
}
