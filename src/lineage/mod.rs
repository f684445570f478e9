//! Lineage queries over the stored graph: up/downstream walks with a depth, as of a time, and
//! column-level lineage. Answers come from the edge indexes level by level (one query per BFS
//! level and direction), never from scanning run history.

mod column;
mod node_id;
mod traverse;

pub use column::{ColumnLineageEdge, ColumnNode, column_lineage};
pub use node_id::{NodeId, NodeKind, parse_node_id};
pub use traverse::{Direction, LineageEdge, LineageError, LineageGraph, LineageNode, LineageQuery, lineage};
