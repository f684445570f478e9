//! The current lineage graph in memory, kept in step with the database.
//!
//! A walk over the database costs a query per level and decodes every edge row it touches;
//! most of a depth-10 answer's time went there. This copy holds only what a walk needs (edge
//! ends and node names) and answers from memory. It stays correct with several replicas and
//! with `weir import` writing the same database: every committed change to the current graph
//! raises the graph's generation and stamps the edge rows it changed with it (see
//! `WriteTx::commit`), so before each walk the index reads the generation (one small query)
//! and, when it moved, reads only the edge rows changed since the one it holds.
//!
//! Lineage as of a past time and walks inside a write transaction (an incident's blast
//! radius, which must see uncommitted edges) read the database instead.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use tokio::sync::RwLock;

use super::traverse::{self, GraphSource, LineageError, LineageGraph, LineageNode, LineageQuery, Node, describe_stored, resolve, walk};
use crate::model::{DatasetId, EdgeChange, JobId};
use crate::store::{Snapshot, StoreError};

/// A shared handle on the in-memory graph; cheap to clone.
#[derive(Clone, Default)]
pub struct LineageIndex {
    graph: Arc<RwLock<Graph>>,
}

#[derive(Default)]
struct Graph {
    /// The generation this copy reflects; `None` before the first load.
    generation: Option<i64>,
    /// Current edge rows, by row id.
    edges: FxHashMap<i64, EdgeChange>,
    /// The current edges by the node and side they touch, as (edge id, node at the other
    /// end): `(to, true)` for the walk upstream, `(from, false)` downstream, so a step reads
    /// only the edges it follows, without looking each one up.
    adjacent: FxHashMap<(Node, bool), Vec<(i64, Node)>>,
    /// Every node that has had a current edge, described once (its id is formatted here, not
    /// per answer). Kept when its edges retire, like its name: a node's identity never changes.
    nodes: FxHashMap<Node, LineageNode>,
}

impl LineageIndex {
    /// The lineage graph around `query.start`: the current one from memory, or, with
    /// `query.as_of`, the one of that time from the database.
    pub async fn lineage(&self, store: &Snapshot<'_>, query: &LineageQuery) -> Result<LineageGraph, LineageError> {
        if query.as_of.is_some() {
            return traverse::lineage(store, query).await;
        }
        let start = resolve(store, &query.start).await?;
        let generation = store.graph_generation().await?;
        if self.graph.read().await.generation != Some(generation) {
            let mut graph = self.graph.write().await;
            // Read again under the lock: another walk may have caught up meanwhile, past the
            // generation read above, and only a database that went back (a restored backup)
            // is behind this copy now.
            let generation = store.graph_generation().await?;
            graph.catch_up(store, generation).await?;
        }
        let graph = self.graph.read().await;
        walk(&InMemory { graph: &graph, store }, start, query).await
    }

    /// Loads the current graph now, so that the first query after a start does not pay for it.
    pub async fn warm(&self, store: &Snapshot<'_>) -> Result<(), StoreError> {
        let mut graph = self.graph.write().await;
        // Read under the lock, like `lineage` does: a generation read before a walk caught
        // up further would look like a database gone back, and reload everything.
        let generation = store.graph_generation().await?;
        graph.catch_up(store, generation).await
    }
}

impl Graph {
    /// Brings this copy to `generation` (or later): the edge rows changed since the one it
    /// holds, or every current edge on the first call. Safe to repeat after a failure:
    /// applying a change twice is a no-op.
    async fn catch_up(&mut self, store: &Snapshot<'_>, generation: i64) -> Result<(), StoreError> {
        let since = match self.generation {
            Some(held) if held == generation => return Ok(()),
            // The database is behind this copy: it was restored from a backup. Start over.
            Some(held) if held > generation => None,
            held => held,
        };
        if since.is_none() {
            *self = Graph::default();
        }
        let changes = store.edge_changes(since).await?;
        for change in &changes {
            self.apply(*change);
        }
        self.learn_names(store, &changes).await?;
        self.generation = Some(generation);
        Ok(())
    }

    fn apply(&mut self, change: EdgeChange) {
        if let Some(old) = self.edges.remove(&change.id) {
            let (from, to) = Node::ends(old.job_id, old.dataset_id, old.direction);
            remove_id(&mut self.adjacent, (to, true), old.id);
            remove_id(&mut self.adjacent, (from, false), old.id);
        }
        if change.current {
            self.edges.insert(change.id, change);
            let (from, to) = Node::ends(change.job_id, change.dataset_id, change.direction);
            self.adjacent.entry((to, true)).or_default().push((change.id, from));
            self.adjacent.entry((from, false)).or_default().push((change.id, to));
        }
    }

    /// Describes the nodes of `changes` not described yet (names never change: they are the
    /// nodes' identity).
    async fn learn_names(&mut self, store: &Snapshot<'_>, changes: &[EdgeChange]) -> Result<(), StoreError> {
        let current = || changes.iter().filter(|c| c.current);
        let mut datasets: Vec<DatasetId> =
            current().map(|c| c.dataset_id).filter(|&d| !self.nodes.contains_key(&Node::Dataset(d))).collect();
        let mut jobs: Vec<JobId> = current().map(|c| c.job_id).filter(|&j| !self.nodes.contains_key(&Node::Job(j))).collect();
        datasets.sort();
        datasets.dedup();
        jobs.sort();
        jobs.dedup();
        self.nodes.extend(describe_stored(store, &datasets, &jobs).await?);
        Ok(())
    }
}

/// Takes edge `id` off `node`'s list, and the node off the map when it has no edge left.
fn remove_id<K: std::hash::Hash + Eq>(lists: &mut FxHashMap<K, Vec<(i64, Node)>>, node: K, id: i64) {
    if let Some(ids) = lists.get_mut(&node) {
        ids.retain(|&(e, _)| e != id);
        if ids.is_empty() {
            lists.remove(&node);
        }
    }
}

/// A walk's view of the in-memory graph. Nodes without current edges (a start node that lost
/// them) are named from the database.
struct InMemory<'a, 'b> {
    graph: &'a Graph,
    store: &'a Snapshot<'b>,
}

impl GraphSource for InMemory<'_, '_> {
    async fn edges_toward(&self, nodes: &[Node], upstream: bool) -> Result<Vec<(Node, Node)>, StoreError> {
        let g = self.graph;
        let adjacent = nodes.iter().flat_map(|&node| g.adjacent.get(&(node, upstream)).into_iter().flatten().map(move |&(_, other)| (node, other)));
        Ok(adjacent.map(|(node, other)| if upstream { (other, node) } else { (node, other) }).collect())
    }

    async fn describe(&self, nodes: &[Node]) -> Result<Vec<(Node, LineageNode)>, StoreError> {
        let mut described = Vec::with_capacity(nodes.len());
        let (mut missing_datasets, mut missing_jobs) = (Vec::new(), Vec::new());
        for &node in nodes {
            match (self.graph.nodes.get(&node), node) {
                (Some(described_node), _) => described.push((node, described_node.clone())),
                (None, Node::Dataset(d)) => missing_datasets.push(d),
                (None, Node::Job(j)) => missing_jobs.push(j),
            }
        }
        described.extend(describe_stored(self.store, &missing_datasets, &missing_jobs).await?);
        Ok(described)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Direction;

    fn change(id: i64, job: i64, dataset: i64, direction: Direction, current: bool) -> EdgeChange {
        EdgeChange { id, job_id: JobId(job), dataset_id: DatasetId(dataset), direction, current }
    }

    #[test]
    fn a_retired_edge_leaves_both_of_its_nodes_and_a_repeated_change_is_a_no_op() {
        let mut graph = Graph::default();
        graph.apply(change(1, 10, 100, Direction::Input, true));
        graph.apply(change(2, 10, 200, Direction::Output, true));
        graph.apply(change(2, 10, 200, Direction::Output, true));
        let job = Node::Job(JobId(10));
        let (input, output) = (Node::Dataset(DatasetId(100)), Node::Dataset(DatasetId(200)));
        assert_eq!((&graph.adjacent[&(job, true)], &graph.adjacent[&(job, false)]), (&vec![(1, input)], &vec![(2, output)]));
        graph.apply(change(1, 10, 100, Direction::Input, false));
        graph.apply(change(1, 10, 100, Direction::Input, false));
        assert!(!graph.adjacent.contains_key(&(job, true)));
        assert_eq!(graph.adjacent[&(job, false)], vec![(2, output)]);
        assert!(!graph.adjacent.contains_key(&(Node::Dataset(DatasetId(100)), false)));
        assert_eq!(graph.edges.len(), 1);
    }
}
