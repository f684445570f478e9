//! The lineage walk over the in-memory graph ([`super::LineageIndex`]).
//!
//! It answers exactly what the walk over the database ([`super::traverse::walk`]) answers for
//! the current graph, with nodes as slot numbers: a side's reached nodes are bits, an edge is
//! two numbers, and the answer is sorted by rank. An answer of thousands of nodes spent a
//! third of its time in the hash sets and the sort by id text of the general walk.

use fixedbitset::FixedBitSet;

use super::index::Graph;
use super::traverse::{LineageEdge, LineageError, LineageGraph, LineageNode, LineageQuery, Node, describe_nodes};
use crate::store::Snapshot;

/// The lineage graph around `start`, from `graph` (the current graph, caught up).
pub(super) async fn lineage(graph: &Graph, store: &Snapshot<'_>, start: Node, query: &LineageQuery) -> Result<LineageGraph, LineageError> {
    let Some(start_slot) = graph.slot_of(start) else {
        // No current edge touches it: the answer is the node alone.
        let described = describe_nodes(store, &[start]).await?;
        let nodes = described.into_iter().map(|(_, node)| node).collect();
        return Ok(LineageGraph { nodes, edges: Vec::new(), truncated: false });
    };
    let walked = walk(graph, start_slot, query);
    // Nodes the index could not name (the database did not, when they joined) are asked for
    // again; one still unnamed is left out with its edges, as the database walk does.
    let unnamed: Vec<Node> =
        walked.nodes.iter().filter(|&&s| graph.slots[s as usize].described.is_none()).map(|&s| graph.slots[s as usize].node).collect();
    let late = if unnamed.is_empty() { Vec::new() } else { describe_nodes(store, &unnamed).await? };
    Ok(answer(graph, walked, &late))
}

/// The walk's nodes and edges in answer order; `late` names nodes the index has no name for.
fn answer(graph: &Graph, walked: Walked, late: &[(Node, LineageNode)]) -> LineageGraph {
    let mut nodes: Vec<(u32, &LineageNode)> = Vec::with_capacity(walked.nodes.len());
    for &slot in &walked.nodes {
        let this = &graph.slots[slot as usize];
        let described = this.described.as_ref().or_else(|| late.iter().find(|(node, _)| *node == this.node).map(|(_, n)| n));
        if let Some(described) = described {
            nodes.push((slot, described));
        }
    }
    nodes.sort_unstable_by(|&a, &b| graph.answer_order(a, b));
    // Each slot's position in the answer, to sort edges by their ends' positions (their ids'
    // order) without comparing text.
    let mut position = vec![u32::MAX; graph.slots.len()];
    for (i, &(slot, _)) in nodes.iter().enumerate() {
        position[slot as usize] = i as u32;
    }
    let mut ends: Vec<(u32, u32)> = walked
        .edges
        .iter()
        .map(|&(from, to)| (position[from as usize], position[to as usize]))
        .filter(|&(from, to)| from != u32::MAX && to != u32::MAX)
        .collect();
    ends.sort_unstable();
    ends.dedup();
    let edges = ends.into_iter().map(|(from, to)| LineageEdge { from, to }).collect();
    let nodes = nodes.into_iter().map(|(_, node)| node.clone()).collect();
    LineageGraph { nodes, edges, truncated: walked.truncated }
}

/// What a walk reached: nodes (the start first) and edges `(from, to)`, as slots.
struct Walked {
    nodes: Vec<u32>,
    edges: Vec<(u32, u32)>,
    truncated: bool,
}

/// One direction of a walk: which way it goes, the nodes it has reached (as bits, and in the
/// order reached).
struct Side {
    upstream: bool,
    seen: FixedBitSet,
    reached: Vec<u32>,
}

impl Side {
    fn new(upstream: bool, slots: usize, start: u32) -> Side {
        let mut seen = FixedBitSet::with_capacity(slots);
        seen.insert(start as usize);
        Side { upstream, seen, reached: Vec::new() }
    }
}

/// How many more nodes a bounded walk may reach, and whether it has had to stop.
struct Budget {
    room: Option<usize>,
    truncated: bool,
}

/// The same walk as [`super::traverse::walk`]: two frontiers (a node reached upstream keeps
/// going upstream only, so BOTH gives ancestors and descendants, not siblings), `depth` job
/// hops, and a node budget counted per direction.
fn walk(graph: &Graph, start: u32, query: &LineageQuery) -> Walked {
    let slots = graph.slots.len();
    let mut edges = Vec::new();
    let mut up_frontier = if query.direction.up() { vec![start] } else { vec![] };
    let mut down_frontier = if query.direction.down() { vec![start] } else { vec![] };
    let mut up = Side::new(true, slots, start);
    let mut down = Side::new(false, slots, start);
    let mut budget = Budget { room: query.max_nodes, truncated: false };
    // From a job, its own inputs and outputs come free; each further job hop is two
    // expansions (dataset -> job -> dataset).
    if matches!(graph.slots[start as usize].node, Node::Job(_)) {
        up_frontier = step(graph, &up_frontier, &mut up, &mut edges, &mut budget);
        down_frontier = step(graph, &down_frontier, &mut down, &mut edges, &mut budget);
    }
    for _ in 0..query.depth {
        if up_frontier.is_empty() && down_frontier.is_empty() {
            break;
        }
        for _ in 0..2 {
            up_frontier = step(graph, &up_frontier, &mut up, &mut edges, &mut budget);
            down_frontier = step(graph, &down_frontier, &mut down, &mut edges, &mut budget);
        }
    }
    let mut nodes = Vec::with_capacity(1 + up.reached.len() + down.reached.len());
    nodes.push(start);
    nodes.extend_from_slice(&up.reached);
    nodes.extend(down.reached.iter().filter(|&&s| !up.seen.contains(s as usize)));
    Walked { nodes, edges, truncated: budget.truncated }
}

/// One expansion from `frontier`: upstream follows edges backwards (dataset <- job that wrote
/// it; job <- datasets it read), downstream forwards. Returns the nodes reached for the first
/// time, within the budget, and adds the edges that lead to reached nodes.
fn step(graph: &Graph, frontier: &[u32], side: &mut Side, edges: &mut Vec<(u32, u32)>, budget: &mut Budget) -> Vec<u32> {
    // With no room left the step still runs: whether it finds anything new is what tells a
    // walk that filled its bound exactly from one that was cut.
    if frontier.is_empty() {
        return Vec::new();
    }
    let upstream = side.upstream;
    // The frontier's slots and their edge lists lie scattered over the graph's memory. Read
    // them first, in loops whose reads do not depend on each other, so that the CPU fetches
    // many at once; the loop that follows the edges would wait for each in turn (the walk of
    // a large answer was mostly such waits).
    let lists: Vec<(u32, &[(i64, u32)])> = frontier
        .iter()
        .map(|&node| {
            let this = &graph.slots[node as usize];
            (node, if upstream { &this.into[..] } else { &this.out_of[..] })
        })
        .collect();
    std::hint::black_box(lists.iter().fold(0, |acc, (_, list)| acc ^ list.first().map_or(0, |&(_, other)| other)));
    let mut found: Vec<(u32, u32)> = Vec::new();
    let mut next = Vec::new();
    for &(node, adjacent) in &lists {
        for &(_, other) in adjacent {
            found.push(if upstream { (other, node) } else { (node, other) });
            // Marked at once, so that a node found twice in this step is kept once; the
            // nodes cut by the budget are unmarked below.
            if !side.seen.put(other as usize) {
                next.push(other);
            }
        }
    }
    if let Some(room) = budget.room.as_mut() {
        if next.len() > *room {
            // Which nodes fit must not depend on the order the graph holds edges in.
            next.sort_unstable_by_key(|&slot| match graph.slots[slot as usize].node {
                Node::Dataset(d) => (0, d.0),
                Node::Job(j) => (1, j.0),
            });
            for &cut in &next[*room..] {
                side.seen.set(cut as usize, false);
            }
            next.truncate(*room);
            budget.truncated = true;
        }
        *room -= next.len();
    }
    side.reached.extend_from_slice(&next);
    edges.extend(found.into_iter().filter(|&(from, to)| side.seen.contains(if upstream { from } else { to } as usize)));
    next
}

#[cfg(test)]
mod tests {
    use rustc_hash::FxHashMap;

    use super::*;
    use crate::lineage::NodeKind;
    use crate::lineage::traverse::{Direction, GraphSource, walk as stored_walk};
    use crate::model::{self, DatasetId, EdgeChange, JobId};
    use crate::store::StoreError;

    /// The general walk's view of the same graph and of every node's name, to compare the two
    /// walks on it.
    struct General<'a> {
        graph: &'a Graph,
        names: &'a FxHashMap<Node, LineageNode>,
    }

    impl GraphSource for General<'_> {
        async fn edges_toward(&self, nodes: &[Node], upstream: bool) -> Result<Vec<(Node, Node)>, StoreError> {
            let slots = &self.graph.slots;
            let mut out = Vec::new();
            for &node in nodes {
                let Some(slot) = self.graph.slot_of(node) else { continue };
                let this = &slots[slot as usize];
                for &(_, other) in if upstream { &this.into } else { &this.out_of } {
                    let other = slots[other as usize].node;
                    out.push(if upstream { (other, node) } else { (node, other) });
                }
            }
            Ok(out)
        }

        async fn describe(&self, nodes: &[Node]) -> Result<Vec<(Node, LineageNode)>, StoreError> {
            Ok(nodes.iter().filter_map(|&n| Some((n, self.names.get(&n)?.clone()))).collect())
        }
    }

    /// Adds `edges` random edges (ids from `first_id`) between datasets and jobs numbered
    /// below `datasets` and `jobs`, retiring some again, and names the new nodes with names
    /// that share prefixes, contain `:` and share ids.
    fn add_random_edges(graph: &mut Graph, seed: u64, datasets: i64, jobs: i64, first_id: i64, edges: i64) {
        let mut state = seed;
        let mut next = |below: i64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) % below as u64) as i64
        };
        for id in first_id..first_id + edges {
            let direction = if next(2) == 0 { model::Direction::Input } else { model::Direction::Output };
            let change = EdgeChange { id, job_id: JobId(next(jobs)), dataset_id: DatasetId(next(datasets)), direction, current: true };
            graph.apply(change);
            if next(5) == 0 {
                graph.apply(EdgeChange { current: false, ..change });
            }
        }
        for slot in graph.slots.iter_mut().filter(|slot| slot.described.is_none()) {
            slot.described = Some(match slot.node {
                // Datasets 2k and 2k + 1 share the id `dataset:s3:b:tK`, split differently.
                Node::Dataset(d) if d.0 % 2 == 0 => LineageNode::new(NodeKind::Dataset, "s3", &format!("b:t{}", d.0 / 2)),
                Node::Dataset(d) => LineageNode::new(NodeKind::Dataset, "s3:b", &format!("t{}", d.0 / 2)),
                Node::Job(j) => LineageNode::new(NodeKind::Job, "airflow", &format!("dag.t{}", j.0)),
            });
        }
    }

    #[tokio::test]
    async fn the_memory_walk_answers_what_the_general_walk_answers() {
        let mut compared = 0;
        let mut late_named = 0;
        for seed in 0..6 {
            let mut graph = Graph::default();
            add_random_edges(&mut graph, seed, 24, 14, 0, 60);
            // Half the seeds ranked, then grown by nodes not ranked yet (numbers and text
            // compared in one sort); half never ranked (text only).
            if seed % 2 == 0 {
                graph.rank();
                add_random_edges(&mut graph, seed + 100, 30, 18, 60, 20);
            }
            let names: FxHashMap<Node, LineageNode> =
                graph.slots.iter().filter_map(|slot| Some((slot.node, slot.described.clone()?))).collect();
            // Some nodes the index could not name: the walk is given their names late, as the
            // database gives them.
            let mut late = Vec::new();
            if seed % 3 == 0 {
                for slot in graph.slots.iter_mut().step_by(5) {
                    late.extend(slot.described.take().map(|name| (slot.node, name)));
                }
            }
            let general = General { graph: &graph, names: &names };
            for slot in 0..graph.slots.len() as u32 {
                for direction in [Direction::Upstream, Direction::Downstream, Direction::Both] {
                    for depth in 0..4 {
                        for max_nodes in [None, Some(0), Some(1), Some(3), Some(8)] {
                            let start = graph.slots[slot as usize].node;
                            let query = LineageQuery {
                                start: crate::lineage::NodeId::new(NodeKind::Job, "unused", "unused"),
                                direction,
                                depth,
                                as_of: None,
                                max_nodes,
                            };
                            let expected = stored_walk(&general, start, &query).await.map_err(|e| e.to_string());
                            let got = answer(&graph, walk(&graph, slot, &query), &late);
                            assert_eq!(Ok(&got), expected.as_ref(), "seed {seed}, from {start:?}, {direction:?}, depth {depth}, max {max_nodes:?}");
                            compared += usize::from(!got.edges.is_empty());
                            late_named += got.nodes.iter().filter(|n| late.iter().any(|(_, l)| l == *n)).count();
                        }
                    }
                }
            }
        }
        // The graphs are connected enough that most answers hold edges and late names.
        assert!(compared > 1000 && late_named > 1000, "only {compared} answers with edges, {late_named} late names");
    }
}
