//! Breadth-first lineage walks over dataset -> job -> dataset edges.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::node_id::{NodeId, NodeKind};
use crate::model::{self, DatasetId, JobId};
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

/// A node of the walk: a dataset or a job, by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Node {
    Dataset(DatasetId),
    Job(JobId),
}

impl Node {
    /// `(from, to)` of an edge: `dataset -> job` for an input, `job -> dataset` for an output.
    pub(super) fn ends(job: JobId, dataset: DatasetId, direction: model::Direction) -> (Node, Node) {
        match direction {
            model::Direction::Input => (Node::Dataset(dataset), Node::Job(job)),
            model::Direction::Output => (Node::Job(job), Node::Dataset(dataset)),
        }
    }
}

/// Where a walk reads the graph: the database (any time, also inside a write transaction) or
/// the in-memory copy of the current graph ([`super::LineageIndex`]).
pub(super) trait GraphSource {
    /// `(from, to)` of the edges touching any of these datasets and jobs.
    async fn edges_around(&self, datasets: &[DatasetId], jobs: &[JobId]) -> Result<Vec<(Node, Node)>, StoreError>;
    /// (id, namespace, name) of these datasets and of these jobs.
    async fn names(&self, datasets: &[DatasetId], jobs: &[JobId]) -> Result<Names, StoreError>;
}

pub(super) type Names = (Vec<(DatasetId, String, String)>, Vec<(JobId, String, String)>);

/// The stored graph, current or as of a time.
struct Stored<'a, 'b> {
    store: &'a Snapshot<'b>,
    as_of: Option<DateTime<Utc>>,
}

impl GraphSource for Stored<'_, '_> {
    async fn edges_around(&self, datasets: &[DatasetId], jobs: &[JobId]) -> Result<Vec<(Node, Node)>, StoreError> {
        let found = self.store.edge_ends(datasets, jobs, self.as_of).await?;
        Ok(found.into_iter().map(|(job, dataset, direction)| Node::ends(job, dataset, direction)).collect())
    }

    async fn names(&self, datasets: &[DatasetId], jobs: &[JobId]) -> Result<Names, StoreError> {
        Ok((self.store.dataset_names(datasets).await?, self.store.job_names(jobs).await?))
    }
}

/// The lineage graph around `query.start`, read from the database. Depth counts jobs: depth 1
/// from a dataset reaches the jobs that read or write it and their other datasets.
pub async fn lineage(store: &Snapshot<'_>, query: &LineageQuery) -> Result<LineageGraph, LineageError> {
    let start = resolve(store, &query.start).await?;
    walk(&Stored { store, as_of: query.as_of }, start, query).await
}

/// The walk itself, on whichever source holds the graph.
pub(super) async fn walk(source: &impl GraphSource, start: Node, query: &LineageQuery) -> Result<LineageGraph, LineageError> {
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
        up_frontier = step(source, &up_frontier, true, &mut up_seen, &mut edges).await?;
        down_frontier = step(source, &down_frontier, false, &mut down_seen, &mut edges).await?;
    }
    for _ in 0..query.depth {
        if up_frontier.is_empty() && down_frontier.is_empty() {
            break;
        }
        for _ in 0..2 {
            up_frontier = step(source, &up_frontier, true, &mut up_seen, &mut edges).await?;
            down_frontier = step(source, &down_frontier, false, &mut down_seen, &mut edges).await?;
        }
    }
    seen.extend(up_seen);
    seen.extend(down_seen);
    describe(source, seen, edges).await
}

pub(super) async fn resolve(store: &Snapshot<'_>, id: &NodeId) -> Result<Node, LineageError> {
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

fn split(nodes: impl IntoIterator<Item = Node>) -> (Vec<DatasetId>, Vec<JobId>) {
    let (mut datasets, mut jobs) = (Vec::new(), Vec::new());
    for node in nodes {
        match node {
            Node::Dataset(d) => datasets.push(d),
            Node::Job(j) => jobs.push(j),
        }
    }
    (datasets, jobs)
}

/// One expansion from `frontier` against the edge direction: upstream follows edges backwards
/// (dataset <- job that wrote it; job <- datasets it read), downstream forwards.
async fn step(
    source: &impl GraphSource,
    frontier: &[Node],
    upstream: bool,
    seen: &mut HashSet<Node>,
    edges: &mut HashSet<(Node, Node)>,
) -> Result<Vec<Node>, StoreError> {
    if frontier.is_empty() {
        return Ok(Vec::new());
    }
    let (datasets, jobs) = split(frontier.iter().copied());
    let found = source.edges_around(&datasets, &jobs).await?;

    let in_frontier: HashSet<Node> = frontier.iter().copied().collect();
    let mut next = Vec::new();
    for (from, to) in found {
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
    source: &impl GraphSource,
    nodes: HashSet<Node>,
    edges: HashSet<(Node, Node)>,
) -> Result<LineageGraph, LineageError> {
    let (dataset_ids, job_ids) = split(nodes);
    let (dataset_names, job_names) = source.names(&dataset_ids, &job_ids).await?;
    let mut names: HashMap<Node, LineageNode> = HashMap::new();
    for (dataset, namespace, name) in dataset_names {
        let id = NodeId::new(NodeKind::Dataset, &namespace, &name).to_string();
        names.insert(Node::Dataset(dataset), LineageNode { id, kind: NodeKind::Dataset, namespace, name });
    }
    for (job, namespace, name) in job_names {
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
