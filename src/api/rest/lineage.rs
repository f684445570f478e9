//! `GET /api/v1/lineage?nodeId=ID[&direction=UPSTREAM|DOWNSTREAM|BOTH][&depth=N][&asOf=TIME]`:
//! the lineage graph for `curl` and catalog tools without a GraphQL client, on the path where
//! Marquez serves its own. It answers exactly what the GraphQL `lineage` field does, with the
//! same defaults (BOTH, depth 20) and errors, as
//! `{"nodes": [{"id", "kind", "namespace", "name"}], "edges": [{"from", "to"}]}`.
//!
//! Large answers are why it exists besides GraphQL: the graph is written straight to the
//! response, where GraphQL first builds a value for every field of every node and edge
//! (about half the time of an answer of thousands of nodes).
//! `POST` on the same path ingests events (see `ingest.rs`).

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::{DateTime, Utc};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::lineage_args::lineage_query;
use crate::lineage::{Direction, LineageEdge, LineageGraph, LineageNode, NodeKind};

const PARAMETERS: &str = "nodeId, direction, depth, asOf";

/// The query parameters, before they are checked like GraphQL's arguments.
#[derive(Default)]
struct Params {
    node_id: Option<String>,
    direction: Option<Direction>,
    depth: Option<i64>,
    as_of: Option<DateTime<Utc>>,
}

pub async fn get_lineage(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<Answer>, ApiError> {
    let params = params(query.as_deref().unwrap_or_default())?;
    let node_id = params.node_id.ok_or_else(|| ApiError::BadRequest("query parameter `nodeId` is required".into()))?;
    let query = lineage_query(
        &node_id,
        params.direction.unwrap_or(Direction::Both),
        params.depth.unwrap_or(20),
        params.as_of,
        state.config.max_lineage_depth,
    )?;
    let graph = state.lineage.lineage(&state.store.snapshot(), &query).await?;
    Ok(Json(Answer(graph)))
}

fn params(query: &str) -> Result<Params, ApiError> {
    let mut params = Params::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let twice = || ApiError::BadRequest(format!("query parameter `{key}` is given more than once"));
        match key.as_ref() {
            "nodeId" if params.node_id.is_some() => return Err(twice()),
            "nodeId" => params.node_id = Some(value.into_owned()),
            "direction" if params.direction.is_some() => return Err(twice()),
            "direction" => params.direction = Some(direction(&value)?),
            "depth" if params.depth.is_some() => return Err(twice()),
            "depth" => {
                let depth = value.parse().map_err(|_| ApiError::BadRequest(format!("`depth` must be a whole number, got `{value}`")))?;
                params.depth = Some(depth);
            }
            "asOf" if params.as_of.is_some() => return Err(twice()),
            "asOf" => {
                let at = DateTime::parse_from_rfc3339(&value).map_err(|e| {
                    ApiError::BadRequest(format!("`asOf` must be an RFC 3339 time such as 2024-01-01T00:00:00Z, got `{value}`: {e}"))
                })?;
                params.as_of = Some(at.with_timezone(&Utc));
            }
            other => return Err(ApiError::BadRequest(format!("unknown query parameter `{other}`: expected {PARAMETERS}"))),
        }
    }
    Ok(params)
}

/// GraphQL's enum values; any case, for hand-written URLs.
fn direction(value: &str) -> Result<Direction, ApiError> {
    match value.to_ascii_uppercase().as_str() {
        "UPSTREAM" => Ok(Direction::Upstream),
        "DOWNSTREAM" => Ok(Direction::Downstream),
        "BOTH" => Ok(Direction::Both),
        _ => Err(ApiError::BadRequest(format!("`direction` must be UPSTREAM, DOWNSTREAM or BOTH, got `{value}`"))),
    }
}

/// A lineage answer as it goes on the wire, serialized straight from the walk's nodes and edges.
pub struct Answer(LineageGraph);

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut answer = serializer.serialize_struct("LineageGraph", 2)?;
        answer.serialize_field("nodes", &Nodes(&self.0.nodes))?;
        answer.serialize_field("edges", &Edges(&self.0.edges))?;
        answer.end()
    }
}

struct Nodes<'a>(&'a [LineageNode]);

impl Serialize for Nodes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Node))
    }
}

struct Node<'a>(&'a LineageNode);

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut node = serializer.serialize_struct("LineageNode", 4)?;
        node.serialize_field("id", &**self.0.id())?;
        node.serialize_field("kind", kind_name(self.0.kind()))?;
        node.serialize_field("namespace", self.0.namespace())?;
        node.serialize_field("name", self.0.name())?;
        node.end()
    }
}

/// As GraphQL's `NodeKind` values.
fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Dataset => "DATASET",
        NodeKind::Job => "JOB",
    }
}

struct Edges<'a>(&'a [LineageEdge]);

impl Serialize for Edges<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|e| Edge { from: &e.from, to: &e.to }))
    }
}

#[derive(serde::Serialize)]
struct Edge<'a> {
    from: &'a str,
    to: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_once_each_and_unknown_ones_are_refused() {
        let p = params("nodeId=dataset%3Awh%3Aa&direction=upstream&depth=3&asOf=2024-01-01T00%3A00%3A00%2B01%3A00").ok();
        let p = p.expect("valid parameters");
        assert_eq!(p.node_id.as_deref(), Some("dataset:wh:a"));
        assert_eq!((p.direction, p.depth), (Some(Direction::Upstream), Some(3)));
        assert_eq!(p.as_of.map(|t| t.to_rfc3339()), Some("2023-12-31T23:00:00+00:00".to_string()));
        for (bad, says) in [
            ("depth=1&depth=2", "`depth` is given more than once"),
            ("depth=two", "`depth` must be a whole number, got `two`"),
            ("direction=sideways", "got `sideways`"),
            ("asOf=yesterday", "`asOf` must be an RFC 3339 time"),
            ("node=x", "unknown query parameter `node`"),
        ] {
            let message = params(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains(says), "{bad}: {message}");
        }
    }
}
