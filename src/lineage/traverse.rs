//! Breadth-first lineage walks over dataset -> job -> dataset edges.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::node_id::{NodeId, NodeKind};
use crate::model::{self, DatasetId, Edge, JobId};
use crate::store::{Snapshot, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Upstream,
    Downstream,
    Both,
}

impl Direction {
    fn up(self) -> bool {
        matches!(self, Direction::Upstream | Direction::Both)
    }
    fn down(self) -> bool {
        matches!(self, Direction::Downstream | Direction::Both)
    }
}

pub struct LineageQuery {
    pub start: NodeId,
    pub direction: Direction,
    /// Job hops from the start node.
    pub depth: u32,
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineageNode {
    pub id: String,
    pub kind: NodeKind,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineageEdge {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineageGraph {
    pub nodes: Vec<LineageNode>,
    pub edges: Vec<LineageEdge>,
}

#[derive(Debug, thiserror::Error)]
pub enum LineageError {
    #[error("no dataset or job with id `{0}`")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Dataset(DatasetId),
    Job(JobId),
}

/// The lineage graph around `query.start`. Depth counts jobs: depth 1 from a dataset reaches
/// the jobs that read or write it and their other datasets.
pub async fn lineage(store: &Snapshot<'_>, query: &LineageQuery) -> Result<LineageGraph, LineageError> {
    let start = resolve(store, &query.start).await?;
    let mut seen: HashSet<Node> = HashSet::from([start]);
    let mut edges: HashSet<(Node, Node)> = HashSet::new();
    // Two frontiers: a node reached going upstream keeps going upstream only, and likewise
    // downstream, so BOTH returns ancestors and descendants, not siblings.
    let mut up_frontier = if query.direction.up() { vec![start] } else { vec![] };
    let mut down_frontier = if query.direction.down() { vec![start] } else { vec![] };
    let mut up_seen: HashSet<Node> = HashSet::from([start]);
    let mut down_seen: HashSet<Node> = HashSet::from([start]);
    // From a job, its own inputs and outputs come free; each further job hop is two
    // expansions (dataset -> job -> dataset), so `depth` counts jobs beyond the start.
    if matches!(start, Node::Job(_)) {
        up_frontier = step(store, &up_frontier, true, query.as_of, &mut up_seen, &mut edges).await?;
        down_frontier = step(store, &down_frontier, false, query.as_of, &mut down_seen, &mut edges).await?;
    }
    for _ in 0..query.depth {
        if up_frontier.is_empty() && down_frontier.is_empty() {
            break;
        }
        for _ in 0..2 {
            up_frontier = step(store, &up_frontier, true, query.as_of, &mut up_seen, &mut edges).await?;
            down_frontier = step(store, &down_frontier, false, query.as_of, &mut down_seen, &mut edges).await?;
        }
    }
    seen.extend(up_seen);
    seen.extend(down_seen);
    describe(store, seen, edges).await
}

async fn resolve(store: &Snapshot<'_>, id: &NodeId) -> Result<Node, LineageError> {
    for (namespace, name) in id.candidates() {
        match id.kind {
            NodeKind::Dataset => {
                if let Some(d) = store.dataset_by_ref(namespace, name).await? {
                    return Ok(Node::Dataset(d.id));
                }
            }
            NodeKind::Job => {
                if let Some(j) = store.job_by_ref(namespace, name).await? {
                    return Ok(Node::Job(j.id));
                }
            }
        }
    }
    Err(LineageError::NotFound(id.to_string()))
}

/// One expansion from `frontier` against the edge direction: upstream follows edges backwards
/// (dataset <- job that wrote it; job <- datasets it read), downstream forwards.
async fn step(
    store: &Snapshot<'_>,
    frontier: &[Node],
    upstream: bool,
    as_of: Option<DateTime<Utc>>,
    seen: &mut HashSet<Node>,
    edges: &mut HashSet<(Node, Node)>,
) -> Result<Vec<Node>, StoreError> {
    if frontier.is_empty() {
        return Ok(Vec::new());
    }
    let datasets: Vec<DatasetId> = frontier.iter().filter_map(|n| match n { Node::Dataset(d) => Some(*d), _ => None }).collect();
    let jobs: Vec<JobId> = frontier.iter().filter_map(|n| match n { Node::Job(j) => Some(*j), _ => None }).collect();
    let mut found: Vec<Edge> = store.edges_of_datasets(&datasets, as_of).await?;
    found.extend(store.edges_of_jobs(&jobs, as_of).await?);

    let in_frontier: HashSet<Node> = frontier.iter().copied().collect();
    let mut next = Vec::new();
    for edge in found {
        let (from, to) = match edge.direction {
            model::Direction::Input => (Node::Dataset(edge.dataset_id), Node::Job(edge.job_id)),
            model::Direction::Output => (Node::Job(edge.job_id), Node::Dataset(edge.dataset_id)),
        };
        let (here, there) = if upstream { (to, from) } else { (from, to) };
        if !in_frontier.contains(&here) {
            continue;
        }
        edges.insert((from, to));
        if seen.insert(there) {
            next.push(there);
        }
    }
    Ok(next)
}

async fn describe(
    store: &Snapshot<'_>,
    nodes: HashSet<Node>,
    edges: HashSet<(Node, Node)>,
) -> Result<LineageGraph, LineageError> {
    let dataset_ids: Vec<DatasetId> = nodes.iter().filter_map(|n| match n { Node::Dataset(d) => Some(*d), _ => None }).collect();
    let job_ids: Vec<JobId> = nodes.iter().filter_map(|n| match n { Node::Job(j) => Some(*j), _ => None }).collect();
    let mut names: HashMap<Node, LineageNode> = HashMap::new();
    for (dataset, namespace, name) in store.dataset_names(&dataset_ids).await? {
        let id = NodeId::new(NodeKind::Dataset, &namespace, &name).to_string();
        names.insert(Node::Dataset(dataset), LineageNode { id, kind: NodeKind::Dataset, namespace, name });
    }
    for (job, namespace, name) in store.job_names(&job_ids).await? {
        let id = NodeId::new(NodeKind::Job, &namespace, &name).to_string();
        names.insert(Node::Job(job), LineageNode { id, kind: NodeKind::Job, namespace, name });
    }
    let mut graph = LineageGraph::default();
    for (from, to) in edges {
        if let (Some(f), Some(t)) = (names.get(&from), names.get(&to)) {
            graph.edges.push(LineageEdge { from: f.id.clone(), to: t.id.clone() });
        }
    }
    graph.nodes = names.into_values().collect();
    // Deterministic output: clients diff lineage graphs.
    graph.nodes.sort_by(|a, b| a.id.cmp(&b.id));
    graph.edges.sort();
    Ok(graph)
}
