//! The API layer: HTTP routes (REST ingestion, health) and GraphQL. It converts between the
//! wire and the domain; domain modules never see a request or a GraphQL type.

mod body;
pub mod error;
mod graphql;
mod rest;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::store::Store;

pub use graphql::{WeirSchema, build_schema, schema_sdl};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: SharedClock,
    pub config: Arc<Config>,
    pub schema: WeirSchema,
}

pub fn router(store: Store, clock: SharedClock, config: &Config) -> Router {
    let state = AppState {
        store,
        clock,
        config: Arc::new(config.clone()),
        schema: build_schema(config),
    };
    Router::new()
        .route("/api/v1/lineage", post(rest::ingest::post_event))
        .route("/api/v1/lineage/batch", post(rest::ingest::post_batch))
        .route("/api/v1/gate", get(rest::gate::get_gate))
        .route("/graphql", get(graphql::get_graphql).post(graphql::post_graphql))
        .route("/healthz", get(rest::health::healthz))
        .route("/readyz", get(rest::health::readyz))
        // Bodies are read with our own limit (applied after gzip decompression too), so the
        // framework's default limit must not cut them first with a different answer.
        .layer(DefaultBodyLimit::disable())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
