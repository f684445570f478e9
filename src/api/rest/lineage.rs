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

use axum::extract::{RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::lineage_args::lineage_query;
use crate::api::json_text::write_str_known;
use crate::lineage::{Direction, LineageGraph, LineageNode, NodeKind};

const PARAMETERS: &str = "nodeId, direction, depth, asOf";

/// The query parameters, before they are checked like GraphQL's arguments.
#[derive(Default)]
struct Params {
    node_id: Option<String>,
    direction: Option<Direction>,
    depth: Option<i64>,
    as_of: Option<DateTime<Utc>>,
}

pub async fn get_lineage(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
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
    Ok(([(CONTENT_TYPE, "application/json")], answer_json(&graph)).into_response())
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

/// A lineage answer as it goes on the wire: `{"nodes":[...],"edges":[...]}`, written by hand
/// into one buffer of the right size. Answers run to megabytes (an answer of 10,000 nodes has
/// about 15,000 edges, each naming two node ids): through serde, checking every byte of every
/// id for characters to escape was a fifth of the request's time, and growing the buffer by
/// doubling copied it again. Ids almost never hold such characters: each node knows whether
/// its id does (`LineageNode::plain_json`, found once when the node is described), a plain
/// one is copied as it is, and one that does hold them is escaped by serde_json.
fn answer_json(graph: &LineageGraph) -> Vec<u8> {
    let node = |position: u32| graph.nodes.get(position as usize);
    let node_bytes: usize = graph.nodes.iter().map(|n| 2 * n.id().len() + 60).sum();
    let edge_bytes: usize = graph.edges.iter().filter_map(|e| Some(node(e.from)?.id().len() + node(e.to)?.id().len() + 24)).sum();
    // The ids lie scattered in memory, and copying them one after the other waited for each
    // in turn (a third of a large answer's time). Reading a byte of each end of each first,
    // in a loop whose reads do not depend on each other, lets the CPU fetch many at once.
    let first_and_last = |n: &LineageNode| n.id().as_bytes().first().zip(n.id().as_bytes().last()).map_or(0, |(a, b)| a ^ b);
    std::hint::black_box(graph.nodes.iter().fold(0, |acc, n| acc ^ first_and_last(n)));
    let mut out = Vec::with_capacity(node_bytes + edge_bytes + 32);
    out.extend_from_slice(b"{\"nodes\":[");
    for (i, node) in graph.nodes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let plain = node.plain_json();
        out.extend_from_slice(b"{\"id\":");
        write_str_known(&mut out, node.id(), plain);
        out.extend_from_slice(b",\"kind\":\"");
        out.extend_from_slice(kind_name(node.kind()).as_bytes());
        out.extend_from_slice(b"\",\"namespace\":");
        write_str_known(&mut out, node.namespace(), plain);
        out.extend_from_slice(b",\"name\":");
        write_str_known(&mut out, node.name(), plain);
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"edges\":[");
    let mut first = true;
    for edge in &graph.edges {
        // The walk gives positions in `nodes`; an edge with an end outside it is not an edge.
        let (Some(from), Some(to)) = (node(edge.from), node(edge.to)) else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"from\":");
        write_str_known(&mut out, from.id(), from.plain_json());
        out.extend_from_slice(b",\"to\":");
        write_str_known(&mut out, to.id(), to.plain_json());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// As GraphQL's `NodeKind` values.
fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Dataset => "DATASET",
        NodeKind::Job => "JOB",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::lineage::{LineageEdge, LineageNode};

    #[test]
    fn the_answer_is_the_json_of_its_nodes_and_edges_whatever_their_names_hold() {
        let names = ["orders", "quote\"d", "back\\slash", "tab\tand\u{1}", "ünïcode ✓", "", "a:b"];
        let nodes: Vec<LineageNode> = names
            .iter()
            .enumerate()
            .map(|(i, name)| if i % 2 == 0 { LineageNode::new(NodeKind::Dataset, "pg://db:5432", name) } else { LineageNode::new(NodeKind::Job, "air\"flow", name) })
            .collect();
        let edges: Vec<LineageEdge> = (1..nodes.len() as u32).map(|i| LineageEdge { from: i - 1, to: i }).collect();
        let wanted = json!({
            "nodes": nodes.iter().map(|n| json!({
                "id": &**n.id(),
                "kind": if n.kind() == NodeKind::Dataset { "DATASET" } else { "JOB" },
                "namespace": n.namespace(),
                "name": n.name(),
            })).collect::<Vec<_>>(),
            "edges": edges.iter().map(|e| json!({"from": &**nodes[e.from as usize].id(), "to": &**nodes[e.to as usize].id()})).collect::<Vec<_>>(),
        });
        let graph = LineageGraph { nodes, edges, truncated: false };
        let written = answer_json(&graph);
        let read: Value = serde_json::from_slice(&written).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&written)));
        assert_eq!(read, wanted);
        // Field order as GraphQL answers them.
        assert!(written.starts_with(br#"{"nodes":[{"id":"dataset:pg://db:5432:orders","kind":"DATASET","namespace":"pg://db:5432","name":"orders"},"#));
        assert_eq!(answer_json(&LineageGraph::default()), br#"{"nodes":[],"edges":[]}"#);
    }

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
