use async_graphql::resolver_utils::enum_value;
use async_graphql::{Enum, ID, SimpleObject, Value};

use super::plain_list::{PlainList, PlainObject};

use crate::lineage::{self, ColumnLineageEdge, ColumnNode, LineageGraph, NodeKind};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum LineageDirection {
    Upstream,
    Downstream,
    Both,
}

impl From<LineageDirection> for lineage::Direction {
    fn from(d: LineageDirection) -> Self {
        match d {
            LineageDirection::Upstream => lineage::Direction::Upstream,
            LineageDirection::Downstream => lineage::Direction::Downstream,
            LineageDirection::Both => lineage::Direction::Both,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "NodeKind")]
pub enum NodeKindGql {
    Dataset,
    Job,
}

impl From<NodeKind> for NodeKindGql {
    fn from(k: NodeKind) -> Self {
        match k {
            NodeKind::Dataset => NodeKindGql::Dataset,
            NodeKind::Job => NodeKindGql::Job,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "LineageNode")]
pub struct LineageNodeObject {
    /// `dataset:NAMESPACE:NAME` or `job:NAMESPACE:NAME`.
    id: ID,
    kind: NodeKindGql,
    namespace: String,
    name: String,
}

impl PlainObject for LineageNodeObject {
    fn field(&self, name: &str) -> Value {
        match name {
            "id" => Value::String(self.id.0.clone()),
            "kind" => enum_value(self.kind),
            "namespace" => Value::String(self.namespace.clone()),
            "name" => Value::String(self.name.clone()),
            _ => Value::Null,
        }
    }
}

/// `from` feeds `to`: dataset -> job for an input, job -> dataset for an output.
#[derive(SimpleObject)]
#[graphql(name = "LineageEdge")]
pub struct LineageEdgeObject {
    from: ID,
    to: ID,
}

impl PlainObject for LineageEdgeObject {
    fn field(&self, name: &str) -> Value {
        match name {
            "from" => Value::String(self.from.0.clone()),
            "to" => Value::String(self.to.0.clone()),
            _ => Value::Null,
        }
    }
}

// Nodes and edges are plain lists: an answer can hold thousands of each.
#[derive(SimpleObject)]
#[graphql(name = "LineageGraph")]
pub struct LineageGraphObject {
    nodes: PlainList<LineageNodeObject>,
    edges: PlainList<LineageEdgeObject>,
}

impl From<LineageGraph> for LineageGraphObject {
    fn from(g: LineageGraph) -> Self {
        LineageGraphObject {
            nodes: PlainList(
                g.nodes
                    .into_iter()
                    .map(|n| LineageNodeObject { id: ID(n.id), kind: n.kind.into(), namespace: n.namespace, name: n.name })
                    .collect(),
            ),
            edges: PlainList(g.edges.into_iter().map(|e| LineageEdgeObject { from: ID(e.from), to: ID(e.to) }).collect()),
        }
    }
}

/// A column of a dataset.
#[derive(SimpleObject)]
pub struct ColumnRef {
    namespace: String,
    name: String,
    field: String,
}

impl From<ColumnNode> for ColumnRef {
    fn from(c: ColumnNode) -> Self {
        ColumnRef { namespace: c.namespace, name: c.name, field: c.field }
    }
}

/// `to` (an output column) is computed from `from` (an input column).
#[derive(SimpleObject)]
#[graphql(name = "ColumnLineageEdge")]
pub struct ColumnLineageEdgeObject {
    from: ColumnRef,
    to: ColumnRef,
    /// `DIRECT` or `INDIRECT` (or the older `IDENTITY`, `TRANSFORMED`, `MASKED`).
    transformation_type: Option<String>,
    transformation_subtype: Option<String>,
    description: Option<String>,
}

impl From<ColumnLineageEdge> for ColumnLineageEdgeObject {
    fn from(e: ColumnLineageEdge) -> Self {
        ColumnLineageEdgeObject {
            from: e.from.into(),
            to: e.to.into(),
            transformation_type: e.transformation_type,
            transformation_subtype: e.transformation_subtype,
            description: e.description,
        }
    }
}

/// A dataset or job whose name matched a search.
#[derive(SimpleObject)]
pub struct SearchResult {
    pub id: ID,
    pub kind: NodeKindGql,
    pub namespace: String,
    pub name: String,
}
