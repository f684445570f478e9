//! GraphQL at `/graphql`: the schema (one query object per domain, merged), per-request
//! DataLoaders, limits, GraphiQL for browsers, and SDL export for `graphql/schema.graphql`.

mod catalog_query;
mod gate_mutation;
mod gate_query;
mod lineage_query;
mod loaders;
mod pagination;
mod quality_mutation;
mod quality_query;
mod types;

use async_graphql::http::GraphiQLSource;
use async_graphql::{EmptySubscription, MergedObject, Schema};
use async_graphql_axum::GraphQLResponse;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::http::header::ACCEPT;
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::body::read_body;
use super::error::ApiError;
use crate::config::Config;

#[derive(MergedObject, Default)]
pub struct Query(
    catalog_query::CatalogQuery,
    lineage_query::LineageQuery,
    quality_query::QualityQuery,
    gate_query::GateQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(quality_mutation::QualityMutation, gate_mutation::GateMutation);

pub type WeirSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema with its limits. The app state is attached per request (it holds the schema).
pub fn build_schema(config: &Config) -> WeirSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(config.graphql_max_depth)
        .limit_complexity(config.graphql_max_complexity)
        .finish()
}

/// The SDL checked in as `graphql/schema.graphql`.
pub fn schema_sdl() -> String {
    build_schema_for_sdl().sdl()
}

fn build_schema_for_sdl() -> WeirSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).finish()
}

/// A JSON GraphQL request, read within the body limit; a body that is not one gets the API's
/// usual JSON error, not the framework's plain-text rejection.
pub async fn post_graphql(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let bytes = match read_body(&headers, body, state.config.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(err) => return err.into_response(),
    };
    match serde_json::from_slice::<async_graphql::Request>(&bytes) {
        Ok(request) => run(state, request).await.into_response(),
        Err(e) => ApiError::BadRequest(format!("invalid GraphQL request body: {e}")).into_response(),
    }
}

/// A browser (asking for HTML) gets GraphiQL; anything else is a GraphQL GET request.
pub async fn get_graphql(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let wants_html = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let query = query.unwrap_or_default();
    if wants_html || query.is_empty() {
        return Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response();
    }
    match async_graphql::http::parse_query_string(&query) {
        Ok(request) => run(state, request).await.into_response(),
        Err(err) => ApiError::BadRequest(format!("invalid GraphQL GET request: {err}")).into_response(),
    }
}

async fn run(state: AppState, request: async_graphql::Request) -> GraphQLResponse {
    let request = request
        .data(loaders::loaders(state.store.clone()))
        .data(state.clone());
    state.schema.execute(request).await.into()
}
