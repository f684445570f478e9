//! Breadth-first lineage walks over dataset -> job -> dataset edges.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHashSet};

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
    pub(super) fn up(self) -> bool {
        matches!(self, Direction::Upstream | Direction::Both)
    }
    pub(super) fn down(self) -> bool {
        matches!(self, Direction::Downstream | Direction::Both)
    }
}

pub struct LineageQuery {
    pub start: NodeId,
    pub direction: Direction,
    /// Job hops from the start node.
    pub depth: u32,
    pub as_of: Option<DateTime<Utc>>,
    /// At most this many nodes besides the start: the walk stops there, keeping the nearest
    /// (the step that crosses the bound keeps its nodes of lowest id), and the answer says it
    /// was cut. Counted per direction: with `Both`, a node reached upstream and downstream
    /// counts twice. `None` walks the whole depth.
    pub max_nodes: Option<usize>,
}

/// A dataset or job of a lineage answer. Its id (`dataset:NAMESPACE:NAME`) holds its
/// namespace and name, so a node is one shared string: an answer of thousands of nodes takes
/// them from the in-memory graph without copying text or formatting ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineageNode {
    id: Arc<str>,
    kind: NodeKind,
    /// Where the name starts in `id`, after `kind:namespace:`.
    name_at: usize,
    /// No character of the id needs escaping in JSON (nor, then, of its namespace and name):
    /// known once here, not checked in every answer.
    plain_json: bool,
}

impl LineageNode {
    pub fn new(kind: NodeKind, namespace: &str, name: &str) -> LineageNode {
        let id = NodeId::new(kind, namespace, name).to_string();
        let plain_json = crate::json_plain::is_plain(&id);
        LineageNode { name_at: id.len() - name.len(), id: id.into(), kind, plain_json }
    }

    /// The same node in a new allocation (see `Graph::rank`).
    pub(super) fn relocated(&self) -> LineageNode {
        LineageNode { id: Arc::from(&*self.id), ..*self }
    }

    /// `dataset:NAMESPACE:NAME` or `job:NAMESPACE:NAME`.
    pub fn id(&self) -> &Arc<str> {
        &self.id
    }

    /// Whether the id (and so its namespace and name) can be written in JSON as it is.
    pub fn plain_json(&self) -> bool {
        self.plain_json
    }

    pub fn kind(&self) -> NodeKind {
        self.kind
    }

    pub fn namespace(&self) -> &str {
        &self.id[self.kind.prefix().len() + 1..self.name_at - 1]
    }

    pub fn name(&self) -> &str {
        &self.id[self.name_at..]
    }
}

/// `from` feeds `to`, by their positions in [`LineageGraph::nodes`]: a walk's answer of
/// thousands of edges neither copies nor shares ids for them (sharing is an atomic count per
/// id, and those counts made the CPU wait on each id's memory in turn). GraphQL, which needs
/// an object per edge, shares them there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineageEdge {
    pub from: u32,
    pub to: u32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineageGraph {
    pub nodes: Vec<LineageNode>,
    pub edges: Vec<LineageEdge>,
    /// The walk stopped at [`LineageQuery::max_nodes`]: more lies beyond these nodes.
    pub truncated: bool,
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

/// Where the general walk reads the graph: the database, at any time, also inside a write
/// transaction. (The in-memory copy of the current graph has its own walk,
/// `super::memory_walk`, which a test holds to this one's answers.)
pub(super) trait GraphSource {
    /// `(from, to)` of the edges that lead into these nodes (`upstream`: `to` is one of
    /// them) or out of them (`from` is one of them).
    async fn edges_toward(&self, nodes: &[Node], upstream: bool) -> Result<Vec<(Node, Node)>, StoreError>;
    /// These nodes as lineage nodes (ids and names).
    async fn describe(&self, nodes: &[Node]) -> Result<Vec<(Node, LineageNode)>, StoreError>;
}

/// Datasets and jobs named from the database, as lineage nodes.
pub(super) async fn describe_stored(
    store: &Snapshot<'_>,
    datasets: &[DatasetId],
    jobs: &[JobId],
) -> Result<Vec<(Node, LineageNode)>, StoreError> {
    let datasets = store.dataset_names(datasets).await?.into_iter();
    let datasets = datasets.map(|(id, namespace, name)| (Node::Dataset(id), LineageNode::new(NodeKind::Dataset, &namespace, &name)));
    let mut described: Vec<(Node, LineageNode)> = datasets.collect();
    let jobs = store.job_names(jobs).await?.into_iter();
    described.extend(jobs.map(|(id, namespace, name)| (Node::Job(id), LineageNode::new(NodeKind::Job, &namespace, &name))));
    Ok(described)
}

/// [`describe_stored`] for nodes of either kind.
pub(super) async fn describe_nodes(store: &Snapshot<'_>, nodes: &[Node]) -> Result<Vec<(Node, LineageNode)>, StoreError> {
    let (datasets, jobs) = split(nodes.iter().copied());
    describe_stored(store, &datasets, &jobs).await
}

/// The stored graph, current or as of a time.
struct Stored<'a, 'b> {
    store: &'a Snapshot<'b>,
    as_of: Option<DateTime<Utc>>,
}

impl GraphSource for Stored<'_, '_> {
    async fn edges_toward(&self, nodes: &[Node], upstream: bool) -> Result<Vec<(Node, Node)>, StoreError> {
        let (datasets, jobs) = split(nodes.iter().copied());
        let found = self.store.edge_ends(&datasets, &jobs, self.as_of).await?;
        // The rows touch the nodes on either side; keep the side asked for.
        let asked: FxHashSet<Node> = nodes.iter().copied().collect();
        let ends = found.into_iter().map(|(job, dataset, direction)| Node::ends(job, dataset, direction));
        Ok(ends.filter(|&(from, to)| asked.contains(if upstream { &to } else { &from })).collect())
    }

    async fn describe(&self, nodes: &[Node]) -> Result<Vec<(Node, LineageNode)>, StoreError> {
        describe_nodes(self.store, nodes).await
    }
}

/// The lineage graph around `query.start`, read from the database. Depth counts jobs: depth 1
/// from a dataset reaches the jobs that read or write it and their other datasets.
pub async fn lineage(store: &Snapshot<'_>, query: &LineageQuery) -> Result<LineageGraph, LineageError> {
    let start = resolve(store, &query.start).await?;
    walk(&Stored { store, as_of: query.as_of }, start, query).await
}

/// The walk itself, on the source that holds the graph.
pub(super) async fn walk(source: &impl GraphSource, start: Node, query: &LineageQuery) -> Result<LineageGraph, LineageError> {
    let mut seen: FxHashSet<Node> = FxHashSet::from_iter([start]);
    let mut edges: FxHashSet<(Node, Node)> = FxHashSet::default();
    // Two frontiers: a node reached going upstream keeps going upstream only, and likewise
    // downstream, so BOTH returns ancestors and descendants, not siblings.
    let mut up_frontier = if query.direction.up() { vec![start] } else { vec![] };
    let mut down_frontier = if query.direction.down() { vec![start] } else { vec![] };
    let mut up = Side { upstream: true, seen: FxHashSet::from_iter([start]) };
    let mut down = Side { upstream: false, seen: FxHashSet::from_iter([start]) };
    let mut budget = Budget { room: query.max_nodes, truncated: false };
    // From a job, its own inputs and outputs come free; each further job hop is two
    // expansions (dataset -> job -> dataset), so `depth` counts jobs beyond the start.
    if matches!(start, Node::Job(_)) {
        up_frontier = step(source, &up_frontier, &mut up, &mut edges, &mut budget).await?;
        down_frontier = step(source, &down_frontier, &mut down, &mut edges, &mut budget).await?;
    }
    for _ in 0..query.depth {
        if up_frontier.is_empty() && down_frontier.is_empty() {
            break;
        }
        for _ in 0..2 {
            up_frontier = step(source, &up_frontier, &mut up, &mut edges, &mut budget).await?;
            down_frontier = step(source, &down_frontier, &mut down, &mut edges, &mut budget).await?;
        }
    }
    seen.extend(up.seen);
    seen.extend(down.seen);
    let mut graph = describe(source, seen, edges).await?;
    graph.truncated = budget.truncated;
    Ok(graph)
}

/// One direction of a walk: which way it goes and the nodes it has reached.
struct Side {
    upstream: bool,
    seen: FxHashSet<Node>,
}

/// How many more nodes a bounded walk may reach, and whether it has had to stop.
struct Budget {
    room: Option<usize>,
    truncated: bool,
}

pub(super) async fn resolve(store: &Snapshot<'_>, id: &NodeId) -> Result<Node, LineageError> {
    for (namespace, name) in id.candidates() {
        match id.kind {
            NodeKind::Dataset => {
                if let Some(d) = store.named_dataset_by_ref(namespace, name).await? {
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
/// (dataset <- job that wrote it; job <- datasets it read), downstream forwards. Returns the
/// nodes reached for the first time, within the budget.
async fn step(
    source: &impl GraphSource,
    frontier: &[Node],
    side: &mut Side,
    edges: &mut FxHashSet<(Node, Node)>,
    budget: &mut Budget,
) -> Result<Vec<Node>, StoreError> {
    // With no room left the step still runs: whether it finds anything new is what tells a
    // walk that filled its bound exactly from one that was cut.
    if frontier.is_empty() {
        return Ok(Vec::new());
    }
    let upstream = side.upstream;
    let found = source.edges_toward(frontier, upstream).await?;
    let mut next = Vec::new();
    let mut new: FxHashSet<Node> = FxHashSet::default();
    for &(from, to) in &found {
        let there = if upstream { from } else { to };
        if !side.seen.contains(&there) && new.insert(there) {
            next.push(there);
        }
    }
    if let Some(room) = budget.room.as_mut() {
        if next.len() > *room {
            // Which nodes fit must not depend on the order the source returned edges in.
            next.sort_unstable_by_key(|node| match *node {
                Node::Dataset(d) => (0, d.0),
                Node::Job(j) => (1, j.0),
            });
            next.truncate(*room);
            budget.truncated = true;
        }
        *room -= next.len();
    }
    side.seen.extend(next.iter().copied());
    edges.extend(found.into_iter().filter(|&(from, to)| side.seen.contains(if upstream { &from } else { &to })));
    Ok(next)
}

async fn describe(
    source: &impl GraphSource,
    nodes: FxHashSet<Node>,
    edges: FxHashSet<(Node, Node)>,
) -> Result<LineageGraph, LineageError> {
    let nodes: Vec<Node> = nodes.into_iter().collect();
    let mut described = source.describe(&nodes).await?;
    // Deterministic output: clients diff lineage graphs. Nodes are sorted by id (two nodes can
    // share one, `a:b` + `c` and `a` + `b:c`: then by namespace), and edges by their ends'
    // positions in that order, which is their ids' order without comparing text.
    described.sort_unstable_by(|(_, a), (_, b)| a.id().cmp(b.id()).then_with(|| a.namespace().cmp(b.namespace())));
    let position: FxHashMap<Node, usize> = described.iter().enumerate().map(|(i, (node, _))| (*node, i)).collect();
    let mut ends: Vec<(usize, usize)> =
        edges.iter().filter_map(|(from, to)| Some((*position.get(from)?, *position.get(to)?))).collect();
    ends.sort_unstable();
    let nodes: Vec<LineageNode> = described.into_iter().map(|(_, node)| node).collect();
    let edges = ends.into_iter().map(|(from, to)| LineageEdge { from: from as u32, to: to as u32 }).collect();
    Ok(LineageGraph { nodes, edges, truncated: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_reads_its_namespace_and_name_back_out_of_its_id() {
        let node = LineageNode::new(NodeKind::Dataset, "postgres://db:5432", "shop:orders");
        assert_eq!(&**node.id(), "dataset:postgres://db:5432:shop:orders");
        assert_eq!((node.kind(), node.namespace(), node.name()), (NodeKind::Dataset, "postgres://db:5432", "shop:orders"));
        let job = LineageNode::new(NodeKind::Job, "airflow", "dag.task");
        assert_eq!((&**job.id(), job.namespace(), job.name()), ("job:airflow:dag.task", "airflow", "dag.task"));
    }
}
