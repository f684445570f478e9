use async_graphql::resolver_utils::EnumType;
use async_graphql::{Enum, ID, Object, SimpleObject};

use super::plain_list::{PlainList, PlainObject};
use crate::api::json_text::{write_str, write_str_known};

use crate::lineage::{self, ColumnLineageEdge, ColumnNode, LineageEdge, LineageGraph, LineageNode, NodeKind};

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

/// A dataset or job of a lineage graph.
pub struct LineageNodeObject(LineageNode);

#[Object(name = "LineageNode")]
impl LineageNodeObject {
    /// `dataset:NAMESPACE:NAME` or `job:NAMESPACE:NAME`.
    async fn id(&self) -> ID {
        ID(self.0.id().to_string())
    }

    async fn kind(&self) -> NodeKindGql {
        self.0.kind().into()
    }

    async fn namespace(&self) -> &str {
        self.0.namespace()
    }

    async fn name(&self) -> &str {
        self.0.name()
    }
}

// The namespace and name are parts of the id: they need escaping only if the id does.
impl PlainObject for LineageNodeObject {
    fn write_field(&self, name: &str, out: &mut Vec<u8>) {
        let node = &self.0;
        match name {
            "id" => write_str_known(out, node.id(), node.plain_json()),
            "kind" => write_str(out, enum_name(NodeKindGql::from(node.kind()))),
            "namespace" => write_str_known(out, node.namespace(), node.plain_json()),
            "name" => write_str_known(out, node.name(), node.plain_json()),
            _ => out.extend_from_slice(b"null"),
        }
    }
}

/// The name a value of a GraphQL enum goes by in answers.
fn enum_name<T: EnumType>(value: T) -> &'static str {
    T::items().iter().find(|item| item.value == value).map_or("", |item| item.name)
}

/// An edge by its ends.
pub struct LineageEdgeObject {
    from: LineageNode,
    to: LineageNode,
}

/// `from` feeds `to`: dataset -> job for an input, job -> dataset for an output.
#[Object(name = "LineageEdge")]
impl LineageEdgeObject {
    async fn from(&self) -> ID {
        ID(self.from.id().to_string())
    }

    async fn to(&self) -> ID {
        ID(self.to.id().to_string())
    }
}

impl PlainObject for LineageEdgeObject {
    fn write_field(&self, name: &str, out: &mut Vec<u8>) {
        match name {
            "from" => write_str_known(out, self.from.id(), self.from.plain_json()),
            "to" => write_str_known(out, self.to.id(), self.to.plain_json()),
            _ => out.extend_from_slice(b"null"),
        }
    }
}

// Nodes and edges are plain lists: an answer can hold thousands of each. They wrap the walk's
// own nodes, whose ids are shared strings: ids are copied into the answer's text (and, when a
// list is selected twice, into values).
#[derive(SimpleObject)]
#[graphql(name = "LineageGraph")]
pub struct LineageGraphObject {
    nodes: PlainList<LineageNodeObject>,
    edges: PlainList<LineageEdgeObject>,
}

impl From<LineageGraph> for LineageGraphObject {
    fn from(g: LineageGraph) -> Self {
        LineageGraphObject {
            edges: PlainList(g.edges.iter().filter_map(|e| edge_object(&g.nodes, e)).collect()),
            nodes: PlainList(g.nodes.into_iter().map(LineageNodeObject).collect()),
        }
    }
}

fn edge_object(nodes: &[LineageNode], edge: &LineageEdge) -> Option<LineageEdgeObject> {
    let node = |position: u32| nodes.get(position as usize).cloned();
    Some(LineageEdgeObject { from: node(edge.from)?, to: node(edge.to)? })
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

#[cfg(test)]
mod tests {
    use async_graphql::registry::{MetaType, Registry};
    use serde_json::json;

    use super::*;

    /// Every field the schema declares for `T` is answered: a field added to the type but not
    /// to its `PlainObject::write_field` would be null in every answer.
    fn declared_fields_are_answered<T: PlainObject>(item: &T) {
        let mut registry = Registry::default();
        T::create_type_info(&mut registry);
        let Some(MetaType::Object { fields, .. }) = registry.types.get(T::type_name().as_ref()) else {
            panic!("{} is not an object type", T::type_name());
        };
        for name in fields.keys().filter(|name| !name.starts_with("__")) {
            let mut out = Vec::new();
            item.write_field(name, &mut out);
            assert!(out != b"null" && !out.is_empty(), "{}.{name}", T::type_name());
        }
    }

    #[test]
    fn plain_lineage_objects_answer_every_field_they_declare() {
        let node = LineageNodeObject(LineageNode::new(NodeKind::Dataset, "wh", "a"));
        declared_fields_are_answered(&node);
        let edge = LineageEdgeObject { from: node.0.clone(), to: LineageNode::new(NodeKind::Job, "etl", "j") };
        declared_fields_are_answered(&edge);
    }

    fn field<T: PlainObject>(item: &T, name: &str) -> Option<serde_json::Value> {
        let mut out = Vec::new();
        item.write_field(name, &mut out);
        serde_json::from_slice(&out).ok()
    }

    /// Each field is the JSON of its value, ids that need escaping included.
    #[test]
    fn plain_lineage_fields_are_their_values_as_json() {
        let quoted = LineageNode::new(NodeKind::Dataset, "w\"h", "a\\b\n");
        let plain = LineageNode::new(NodeKind::Job, "etl", "j");
        let node = LineageNodeObject(quoted.clone());
        assert_eq!(field(&node, "id"), Some(json!("dataset:w\"h:a\\b\n")));
        assert_eq!(field(&node, "namespace"), Some(json!("w\"h")));
        assert_eq!(field(&node, "name"), Some(json!("a\\b\n")));
        assert_eq!(field(&node, "kind"), Some(json!("DATASET")));
        assert_eq!(field(&LineageNodeObject(plain.clone()), "kind"), Some(json!("JOB")));
        let edge = LineageEdgeObject { from: quoted, to: plain };
        assert_eq!(field(&edge, "from"), Some(json!("dataset:w\"h:a\\b\n")));
        assert_eq!(field(&edge, "to"), Some(json!("job:etl:j")));
    }
}
