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
//! Nodes are numbered densely (their slot) as they first appear, so a walk marks and looks
//! them up in flat arrays ([`super::memory_walk`]) instead of hash sets, and each node keeps
//! its rank in answer order, so an answer of thousands of nodes is sorted by numbers, not by
//! comparing ids that share long prefixes.
//!
//! Lineage as of a past time and walks inside a write transaction (an incident's blast
//! radius, which must see uncommitted edges) read the database instead.

use std::cmp::Ordering;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tokio::sync::RwLock;

use super::memory_walk;
use super::traverse::{self, LineageError, LineageGraph, LineageNode, LineageQuery, Node, describe_nodes, resolve};
use crate::model::EdgeChange;
use crate::store::{Snapshot, StoreError};

/// A shared handle on the in-memory graph; cheap to clone.
#[derive(Clone, Default)]
pub struct LineageIndex {
    graph: Arc<RwLock<Graph>>,
}

/// A slot's rank while it has none: it joined after the last ranking, or has no name yet.
const UNRANKED: u32 = u32::MAX;

#[derive(Default)]
pub(super) struct Graph {
    /// The generation this copy reflects; `None` before the first load.
    generation: Option<i64>,
    /// Current edge rows, by row id.
    edges: FxHashMap<i64, EdgeChange>,
    /// The slot of every node that has had a current edge. Slots are never given back: a
    /// node's identity (and name) never changes, and its edges may come back.
    slot_of: FxHashMap<Node, u32>,
    pub(super) slots: Vec<Slot>,
    /// Each slot's position among the named slots in answer order ([`by_id`]), or
    /// [`UNRANKED`]. Ranked again once the nodes named since the last ranking reach an eighth
    /// of all slots, so the cost of a full sort is spread over many new nodes.
    ranks: Vec<u32>,
    /// Nodes named since the last ranking (unranked, but comparable by text).
    unranked: usize,
    /// Slots made since the last catch-up, to be named from the database.
    unnamed: Vec<u32>,
}

/// One node of the graph.
pub(super) struct Slot {
    pub(super) node: Node,
    /// Described once (its id is formatted here, not per answer); `None` when the database did
    /// not name it (a walk then asks again).
    pub(super) described: Option<LineageNode>,
    /// The current edges into this node, as (edge row id, slot at the other end): what a walk
    /// upstream follows.
    pub(super) into: Vec<(i64, u32)>,
    /// The current edges out of it: what a walk downstream follows.
    pub(super) out_of: Vec<(i64, u32)>,
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
        memory_walk::lineage(&graph, store, start, query).await
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
        self.learn_names(store).await?;
        if self.unranked > 0 && self.unranked >= self.slots.len() / 8 {
            self.rank();
        }
        self.generation = Some(generation);
        Ok(())
    }

    pub(super) fn apply(&mut self, change: EdgeChange) {
        if let Some(old) = self.edges.remove(&change.id) {
            let (from, to) = Node::ends(old.job_id, old.dataset_id, old.direction);
            if let (Some(&from), Some(&to)) = (self.slot_of.get(&from), self.slot_of.get(&to)) {
                self.slots[to as usize].into.retain(|&(e, _)| e != old.id);
                self.slots[from as usize].out_of.retain(|&(e, _)| e != old.id);
            }
        }
        if change.current {
            self.edges.insert(change.id, change);
            let (from, to) = Node::ends(change.job_id, change.dataset_id, change.direction);
            let (from, to) = (self.slot(from), self.slot(to));
            self.slots[to as usize].into.push((change.id, from));
            self.slots[from as usize].out_of.push((change.id, to));
        }
    }

    /// `node`'s slot, made for it on its first edge.
    fn slot(&mut self, node: Node) -> u32 {
        if let Some(&slot) = self.slot_of.get(&node) {
            return slot;
        }
        let slot = self.slots.len() as u32;
        self.slots.push(Slot { node, described: None, into: Vec::new(), out_of: Vec::new() });
        self.ranks.push(UNRANKED);
        self.unnamed.push(slot);
        self.slot_of.insert(node, slot);
        slot
    }

    pub(super) fn slot_of(&self, node: Node) -> Option<u32> {
        self.slot_of.get(&node).copied()
    }

    /// Names the nodes that joined since the last catch-up (names never change: they are the
    /// nodes' identity). One the database does not name stays unnamed; walks ask again.
    async fn learn_names(&mut self, store: &Snapshot<'_>) -> Result<(), StoreError> {
        if self.unnamed.is_empty() {
            return Ok(());
        }
        let nodes: Vec<Node> = self.unnamed.iter().map(|&slot| self.slots[slot as usize].node).collect();
        for (node, described) in describe_nodes(store, &nodes).await? {
            if let Some(&slot) = self.slot_of.get(&node) {
                self.slots[slot as usize].described = Some(described);
                self.unranked += 1;
            }
        }
        self.unnamed.clear();
        Ok(())
    }

    /// Ranks every named slot in answer order.
    pub(super) fn rank(&mut self) {
        let slots = &self.slots;
        let mut named: Vec<(u32, &LineageNode)> =
            slots.iter().enumerate().filter_map(|(s, slot)| Some((s as u32, slot.described.as_ref()?))).collect();
        named.sort_unstable_by(|a, b| by_id(a.1, b.1));
        let named: Vec<u32> = named.into_iter().map(|(s, _)| s).collect();
        self.ranks.iter_mut().for_each(|r| *r = UNRANKED);
        for (rank, &slot) in named.iter().enumerate() {
            self.ranks[slot as usize] = rank as u32;
            // Ids copied again in answer order, so that an answer's ids lie in ascending
            // memory rather than in the order their nodes joined: reading them is most of
            // what writing a large answer waits for.
            let slot = &mut self.slots[slot as usize];
            slot.described = slot.described.as_ref().map(LineageNode::relocated);
        }
        // Slots the database did not name stay unranked without counting: they would
        // otherwise bring a full ranking on every catch-up once they were an eighth.
        self.unranked = 0;
    }

    /// Answer order of two described nodes, by their slots' ranks when both have one (the
    /// same order, without reading text).
    pub(super) fn answer_order(&self, a: (u32, &LineageNode), b: (u32, &LineageNode)) -> Ordering {
        match (self.ranks.get(a.0 as usize), self.ranks.get(b.0 as usize)) {
            (Some(&ra), Some(&rb)) if ra != UNRANKED && rb != UNRANKED => ra.cmp(&rb),
            _ => by_id(a.1, b.1),
        }
    }
}

/// The order of nodes in an answer: by id, and, since two nodes can share one (`a:b` + `c`
/// and `a` + `b:c`), then by namespace. Clients diff lineage graphs: it must not vary.
pub(super) fn by_id(a: &LineageNode, b: &LineageNode) -> Ordering {
    a.id().cmp(b.id()).then_with(|| a.namespace().cmp(b.namespace()))
}

/// A node's edges as nodes, for the tests.
#[cfg(test)]
impl Graph {
    fn edges_into(&self, node: Node) -> Vec<(i64, Node)> {
        let slot = self.slot_of[&node] as usize;
        self.slots[slot].into.iter().map(|&(e, s)| (e, self.slots[s as usize].node)).collect()
    }

    fn edges_out_of(&self, node: Node) -> Vec<(i64, Node)> {
        let slot = self.slot_of[&node] as usize;
        self.slots[slot].out_of.iter().map(|&(e, s)| (e, self.slots[s as usize].node)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lineage::NodeKind;
    use crate::model::{DatasetId, Direction, JobId};

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
        assert_eq!((graph.edges_into(job), graph.edges_out_of(job)), (vec![(1, input)], vec![(2, output)]));
        graph.apply(change(1, 10, 100, Direction::Input, false));
        graph.apply(change(1, 10, 100, Direction::Input, false));
        assert!(graph.edges_into(job).is_empty());
        assert_eq!(graph.edges_out_of(job), vec![(2, output)]);
        assert!(graph.edges_out_of(input).is_empty());
        assert_eq!(graph.edges.len(), 1);
        // A node keeps its slot when it loses its edges, and gets no second one.
        graph.apply(change(3, 10, 100, Direction::Input, true));
        assert_eq!((graph.slots.len(), graph.edges_into(job)), (3, vec![(3, input)]));
    }

    #[test]
    fn ranks_give_the_order_of_ids_and_new_nodes_compare_by_text_until_ranked() {
        let mut graph = Graph::default();
        let names = ["b", "a:b", "a", "c"];
        for (i, name) in names.iter().enumerate() {
            graph.apply(change(i as i64, i as i64, i as i64, Direction::Input, true));
            let dataset = graph.slot_of[&Node::Dataset(DatasetId(i as i64))] as usize;
            graph.slots[dataset].described = Some(LineageNode::new(NodeKind::Dataset, "ns", name));
            let job = graph.slot_of[&Node::Job(JobId(i as i64))] as usize;
            graph.slots[job].described = Some(LineageNode::new(NodeKind::Job, "ns", name));
        }
        let in_order = |graph: &Graph| {
            let mut slots: Vec<u32> = (0..graph.slots.len() as u32).collect();
            let node = |s: u32| graph.slots[s as usize].described.as_ref().map(|n| (s, n));
            slots.sort_by(|&a, &b| match (node(a), node(b)) {
                (Some(a), Some(b)) => graph.answer_order(a, b),
                _ => Ordering::Equal,
            });
            slots.iter().map(|&s| graph.slots[s as usize].described.as_ref().map(|n| n.id().to_string())).collect::<Vec<_>>()
        };
        let by_text = in_order(&graph);
        graph.rank();
        assert!(graph.ranks.iter().all(|&r| r != UNRANKED));
        assert_eq!(in_order(&graph), by_text);
        let expected = ["dataset:ns:a", "dataset:ns:a:b", "dataset:ns:b", "dataset:ns:c", "job:ns:a", "job:ns:a:b", "job:ns:b", "job:ns:c"];
        assert_eq!(by_text, expected.map(|id| Some(id.to_string())));
        // A node added after the ranking sorts among the ranked ones by its text.
        graph.apply(change(9, 9, 9, Direction::Input, true));
        let new = graph.slot_of[&Node::Dataset(DatasetId(9))] as usize;
        graph.slots[new].described = Some(LineageNode::new(NodeKind::Dataset, "ns", "a:c"));
        let job = graph.slot_of[&Node::Job(JobId(9))] as usize;
        graph.slots[job].described = Some(LineageNode::new(NodeKind::Job, "ns", "0"));
        let ids = in_order(&graph);
        assert_eq!(ids[2], Some("dataset:ns:a:c".to_string()));
        assert_eq!(ids[5], Some("job:ns:0".to_string()));
    }
}
