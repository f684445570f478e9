//! Lineage queries over the stored graph: up/downstream walks with a depth, as of a time, and
//! column-level lineage. The current graph is walked in memory ([`LineageIndex`]); the past
//! and uncommitted edges are walked over the database's edge indexes, one query per level and
//! direction. Never from scanning run history.

mod column;
mod index;
mod memory_walk;
mod node_id;
mod traverse;

pub use column::{ColumnLineageEdge, ColumnNode, column_lineage};
pub use index::LineageIndex;
pub use node_id::{NodeId, NodeKind, parse_node_id};
pub use traverse::{Direction, LineageEdge, LineageError, LineageGraph, LineageNode, LineageQuery, lineage};
