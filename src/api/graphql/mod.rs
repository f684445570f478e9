//! GraphQL at `/graphql`: the schema (one query object per domain, merged), per-request
//! DataLoaders, limits, GraphiQL for browsers, and SDL export for `graphql/schema.graphql`.

mod alert_mutation;
mod alert_query;
mod catalog_query;
mod gate_mutation;
mod gate_query;
mod guard;
mod lineage_query;
mod loaders;
mod pagination;
mod quality_mutation;
mod quality_query;
mod response_json;
mod subscription;
mod types;

pub use guard::GuardedSchema;

use std::sync::Arc;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource, MultipartOptions};
use async_graphql::parser::types::OperationType;
use async_graphql::{Executor, MergedObject, Schema};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::WebSocketUpgrade;
use axum::Extension;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::auth::Access;
use super::body::read_body;
use super::error::{ApiError, graphql_status};
use crate::config::Config;

#[derive(MergedObject, Default)]
pub struct Query(
    catalog_query::CatalogQuery,
    lineage_query::LineageQuery,
    quality_query::QualityQuery,
    gate_query::GateQuery,
    alert_query::AlertQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(quality_mutation::QualityMutation, gate_mutation::GateMutation, alert_mutation::AlertMutation);

pub type WeirSchema = Schema<Query, Mutation, subscription::Subscriptions>;

/// The schema with its limits, behind the guard. The app state is attached per request (it
/// holds the schema).
pub fn build_schema(config: &Config) -> GuardedSchema {
    let schema = Schema::build(Query::default(), Mutation::default(), subscription::Subscriptions)
        .limit_depth(config.graphql_max_depth)
        .limit_complexity(config.graphql_max_complexity)
        .finish();
    GuardedSchema::new(schema, config.graphql_max_aliases)
}

/// The SDL checked in as `graphql/schema.graphql`.
pub fn schema_sdl() -> String {
    build_schema_for_sdl().sdl()
}

fn build_schema_for_sdl() -> WeirSchema {
    Schema::build(Query::default(), Mutation::default(), subscription::Subscriptions).finish()
}

/// A POST body is read like an event's: within `max_body_bytes` (413 above it), gzip or not.
pub async fn post_graphql(
    State(state): State<AppState>,
    access: Option<Extension<Access>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match read_body(&headers, body, state.config.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(e) => return e.into_response(),
    };
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    match async_graphql::http::receive_body(content_type, futures::io::Cursor::new(bytes), MultipartOptions::default()).await {
        Ok(request) => run(state, access, request).await,
        Err(e) => ApiError::BadRequest(format!("invalid GraphQL request: {e}")).into_response(),
    }
}

/// A browser (asking for HTML) gets GraphiQL; anything else is a GraphQL GET request.
/// Mutations are refused over GET (405), as GraphQL over HTTP requires: a GET can be
/// triggered by any web page, and must not change anything.
pub async fn get_graphql(
    State(state): State<AppState>,
    access: Option<Extension<Access>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let wants_html = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let query = query.unwrap_or_default();
    if wants_html || query.is_empty() {
        return Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql/ws").finish()).into_response();
    }
    let mut request = match async_graphql::http::parse_query_string(&query) {
        Ok(request) => request,
        Err(err) => return ApiError::BadRequest(format!("invalid GraphQL GET request: {err}")).into_response(),
    };
    let name = request.operation_name.clone();
    if let Ok(document) = request.parsed_query()
        && guard::operation_type(document, name.as_deref()) == Some(OperationType::Mutation)
    {
        return ApiError::MethodNotAllowed("mutations must be sent with POST".into()).into_response();
    }
    run(state, access, request).await
}

async fn run(state: AppState, access: Option<Extension<Access>>, request: async_graphql::Request) -> Response {
    // The auth middleware always sets it on /graphql; without it, refuse rather than guess.
    let Some(Extension(access)) = access else {
        return ApiError::internal("graphql", "no access in request extensions").into_response();
    };
    let written = Arc::new(types::plain_list::WrittenLists::default());
    let request = request
        .data(loaders::loaders(state.store.clone()))
        .data(access)
        .data(written.clone())
        .data(state.clone());
    let response = state.schema.execute(request).await;
    let body = match response_json::write(&response, &written) {
        Ok(body) => body,
        Err(err) => return ApiError::internal("writing a GraphQL answer", err).into_response(),
    };
    // The headers async-graphql-axum would set.
    let mut answer = (graphql_status(&response), body).into_response();
    let headers = answer.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/graphql-response+json"));
    if response.is_ok()
        && let Some(cache_control) = response.cache_control.value()
        && let Ok(value) = HeaderValue::from_str(&cache_control)
    {
        headers.insert(CACHE_CONTROL, value);
    }
    headers.extend(response.http_headers);
    answer
}

/// GraphQL subscriptions over websocket (graphql-transport-ws and graphql-ws). The token, when
/// auth is on, comes in the `connection_init` payload.
pub async fn graphql_ws(State(state): State<AppState>, protocol: GraphQLProtocol, upgrade: WebSocketUpgrade) -> Response {
    let schema = state.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let mut data = async_graphql::Data::default();
            data.insert(loaders::loaders(state.store.clone()));
            data.insert(state.clone());
            let auth = state.auth.clone();
            GraphQLWebSocket::new(socket, schema, protocol)
                .with_data(data)
                .on_connection_init(move |payload| async move {
                    let access = super::auth::access_of_connection(&auth, &payload)
                        .await
                        .map_err(|e| e.into_graphql())?;
                    let mut data = async_graphql::Data::default();
                    data.insert(access);
                    Ok(data)
                })
                .serve()
        })
        .into_response()
}
