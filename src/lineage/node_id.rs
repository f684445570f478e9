//! Node ids in the Marquez form: `dataset:NAMESPACE:NAME` and `job:NAMESPACE:NAME`.
//!
//! A namespace may itself contain `:` (`postgres://db:5432`), so an id is ambiguous on its own;
//! [`NodeId::candidates`] lists every split and the caller keeps the one that exists.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    Dataset,
    Job,
}

impl NodeKind {
    pub fn prefix(self) -> &'static str {
        match self {
            NodeKind::Dataset => "dataset",
            NodeKind::Job => "job",
        }
    }
}

/// A parsed node id: its kind and the text after `kind:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeId {
    pub kind: NodeKind,
    rest: String,
}

impl NodeId {
    pub fn new(kind: NodeKind, namespace: &str, name: &str) -> NodeId {
        NodeId { kind, rest: format!("{namespace}:{name}") }
    }

    /// Every (namespace, name) the id can mean, the split at the last `:` first (dataset names
    /// rarely contain `:`; namespaces often do).
    pub fn candidates(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = self
            .rest
            .match_indices(':')
            .map(|(i, _)| (&self.rest[..i], &self.rest[i + 1..]))
            .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
            .collect();
        out.reverse();
        out
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.prefix(), self.rest)
    }
}

/// Why a node id could not be read; the message is meant for the API's user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid node id `{id}`: expected `dataset:NAMESPACE:NAME` or `job:NAMESPACE:NAME`")]
pub struct InvalidNodeId {
    pub id: String,
}

pub fn parse_node_id(id: &str) -> Result<NodeId, InvalidNodeId> {
    let invalid = || InvalidNodeId { id: id.to_string() };
    let (prefix, rest) = id.split_once(':').ok_or_else(invalid)?;
    let kind = match prefix {
        "dataset" => NodeKind::Dataset,
        "job" => NodeKind::Job,
        _ => return Err(invalid()),
    };
    let node = NodeId { kind, rest: rest.to_string() };
    if node.candidates().is_empty() {
        return Err(invalid());
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_with_colons_lists_every_split_last_first() -> Result<(), InvalidNodeId> {
        let node = parse_node_id("dataset:postgres://db:5432:shop.public.orders")?;
        assert_eq!(node.kind, NodeKind::Dataset);
        let c = node.candidates();
        assert_eq!(c[0], ("postgres://db:5432", "shop.public.orders"));
        assert!(c.contains(&("postgres", "//db:5432:shop.public.orders")));
        assert_eq!(node.to_string(), "dataset:postgres://db:5432:shop.public.orders");
        Ok(())
    }

    #[test]
    fn bad_ids_are_rejected() {
        for bad in ["", "dataset", "dataset:", "dataset:onlyns", "table:a:b", "job::x", "job:x:"] {
            assert!(parse_node_id(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn round_trip_through_new() -> Result<(), InvalidNodeId> {
        let id = NodeId::new(NodeKind::Job, "airflow", "dag.task");
        assert_eq!(parse_node_id(&id.to_string())?, id);
        Ok(())
    }
}
