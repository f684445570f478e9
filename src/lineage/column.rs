//! Column-level lineage: which input columns an output column is computed from, walked
//! transitively up or down to a depth (in column hops).

use std::collections::{HashMap, HashSet};

use crate::model::{ColumnEdge, DatasetId};
use crate::store::{Store, StoreError};

use super::traverse::{Direction, LineageError};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ColumnNode {
    pub namespace: String,
    pub name: String,
    pub field: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnLineageEdge {
    /// The input column.
    pub from: ColumnNode,
    /// The output column computed from it.
    pub to: ColumnNode,
    pub transformation_type: Option<String>,
    pub transformation_subtype: Option<String>,
    pub description: Option<String>,
}

/// Column edges reachable from `namespace.name.field` (every field of the dataset when `field`
/// is `None`).
pub async fn column_lineage(
    store: &Store,
    namespace: &str,
    name: &str,
    field: Option<&str>,
    direction: Direction,
    depth: u32,
) -> Result<Vec<ColumnLineageEdge>, LineageError> {
    let start = store
        .snapshot()
        .named_dataset_by_ref(namespace, name)
        .await?
        .ok_or_else(|| LineageError::NotFound(format!("dataset:{namespace}:{name}")))?;
    let fields: Vec<String> = field.map(|f| vec![f.to_string()]).unwrap_or_default();
    let mut found: Vec<ColumnEdge> = Vec::new();
    if matches!(direction, Direction::Upstream | Direction::Both) {
        walk(store, start.id, &fields, depth, true, &mut found).await?;
    }
    if matches!(direction, Direction::Downstream | Direction::Both) {
        walk(store, start.id, &fields, depth, false, &mut found).await?;
    }
    describe(store, found).await
}

/// (input dataset, input field, output dataset, output field, transformation type, subtype).
type EdgeKey = (DatasetId, String, DatasetId, String, Option<String>, Option<String>);

async fn walk(
    store: &Store,
    dataset: DatasetId,
    fields: &[String],
    depth: u32,
    upstream: bool,
    out: &mut Vec<ColumnEdge>,
) -> Result<(), StoreError> {
    let mut frontier: Vec<(DatasetId, Vec<String>)> = vec![(dataset, fields.to_vec())];
    // Identity of an edge, transformation included: one input column may feed an output
    // column in several ways, and each way is an edge of its own.
    let mut seen: HashSet<EdgeKey> = HashSet::new();
    for _ in 0..depth {
        let mut next: HashMap<DatasetId, Vec<String>> = HashMap::new();
        for (ds, fields) in &frontier {
            let edges = if upstream {
                store.column_edges_into(*ds, fields).await?
            } else {
                store.column_edges_from(*ds, fields).await?
            };
            for edge in edges {
                let key = (
                    edge.input_dataset_id,
                    edge.input_field.clone(),
                    edge.dataset_id,
                    edge.field.clone(),
                    edge.transformation_type.clone(),
                    edge.transformation_subtype.clone(),
                );
                if !seen.insert(key) {
                    continue;
                }
                let (next_ds, next_field) = if upstream {
                    (edge.input_dataset_id, edge.input_field.clone())
                } else {
                    (edge.dataset_id, edge.field.clone())
                };
                next.entry(next_ds).or_default().push(next_field);
                out.push(edge);
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next.into_iter().collect();
    }
    Ok(())
}

async fn describe(store: &Store, edges: Vec<ColumnEdge>) -> Result<Vec<ColumnLineageEdge>, LineageError> {
    let mut ids: Vec<DatasetId> = edges.iter().flat_map(|e| [e.dataset_id, e.input_dataset_id]).collect();
    ids.sort();
    ids.dedup();
    let names: HashMap<DatasetId, (String, String)> = store
        .datasets_by_ids(&ids)
        .await?
        .into_iter()
        .map(|d| (d.id, (d.namespace, d.name)))
        .collect();
    let node = |id: DatasetId, field: String| {
        names.get(&id).map(|(namespace, name)| ColumnNode { namespace: namespace.clone(), name: name.clone(), field })
    };
    let mut out: Vec<ColumnLineageEdge> = edges
        .into_iter()
        .filter_map(|e| {
            Some(ColumnLineageEdge {
                from: node(e.input_dataset_id, e.input_field)?,
                to: node(e.dataset_id, e.field)?,
                transformation_type: e.transformation_type,
                transformation_subtype: e.transformation_subtype,
                description: e.description,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.to, &a.from, &a.transformation_type, &a.transformation_subtype)
            .cmp(&(&b.to, &b.from, &b.transformation_type, &b.transformation_subtype))
    });
    Ok(out)
}
