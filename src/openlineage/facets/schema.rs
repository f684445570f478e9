//! Dataset description facets: `schema`, `version`, `ownership`.

use super::{Facets, facet, objects, string};
use serde_json::{Map, Value};

/// One column of the `schema` facet; `fields` holds the children of a struct/record column.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaField {
    pub name: String,
    pub data_type: Option<String>,
    pub description: Option<String>,
    pub fields: Vec<SchemaField>,
}

/// The `schema` facet's columns; `None` when there is no usable facet (which is different from a
/// schema with no columns, so a schema contract can tell "unknown" from "empty").
pub fn schema_fields(facets: &Facets) -> Option<Vec<SchemaField>> {
    let schema = facet(facets, "schema")?;
    schema.get("fields")?.as_array()?;
    Some(fields(schema))
}

fn fields(obj: &Map<String, Value>) -> Vec<SchemaField> {
    objects(obj, "fields")
        .filter_map(|f| {
            Some(SchemaField {
                name: string(f, "name")?,
                data_type: string(f, "type"),
                description: string(f, "description"),
                fields: fields(f),
            })
        })
        .collect()
}

/// The `version` facet's `datasetVersion` (Delta/Iceberg table versions). Numbers are accepted
/// and printed, since the facet's meaning is an opaque label either way.
pub fn dataset_version(facets: &Facets) -> Option<String> {
    match facet(facets, "version")?.get("datasetVersion")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An owner from the `ownership` facet (dataset or job), e.g. `team:data-eng` of type `MAINTAINER`.
#[derive(Debug, Clone, PartialEq)]
pub struct Owner {
    pub name: String,
    pub owner_type: Option<String>,
}

/// Owners that have a name; nameless ones cannot be alerted, so they are skipped.
pub fn ownership(facets: &Facets) -> Vec<Owner> {
    facets.get("ownership").map(owners).unwrap_or_default()
}

/// The owners an `ownership` facet value names (none when it is not an object).
pub fn owners(ownership: &serde_json::Value) -> Vec<Owner> {
    let Some(ownership) = ownership.as_object() else {
        return Vec::new();
    };
    objects(ownership, "owners")
        .filter_map(|o| {
            Some(Owner {
                name: string(o, "name")?,
                owner_type: string(o, "type"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::facets_of;
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_nests_and_skips_nameless_fields() {
        let f = facets_of(json!({"schema": {"fields": [
            {"name": "id", "type": "BIGINT", "description": "pk"},
            {"type": "INT"},
            {"name": "address", "type": "STRUCT", "fields": [{"name": "city", "type": 5}]}]}}));
        let got = schema_fields(&f).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (
                got[0].name.as_str(),
                got[0].data_type.as_deref(),
                got[0].description.as_deref()
            ),
            ("id", Some("BIGINT"), Some("pk"))
        );
        assert_eq!(
            got[1].fields,
            vec![SchemaField {
                name: "city".into(),
                data_type: None,
                description: None,
                fields: vec![]
            }]
        );
        assert_eq!(
            schema_fields(&facets_of(json!({"schema": {"fields": []}}))),
            Some(vec![])
        );
        assert_eq!(
            schema_fields(&facets_of(json!({"schema": {"fields": "id"}}))),
            None
        );
        assert_eq!(schema_fields(&facets_of(json!({}))), None);
    }

    #[test]
    fn version_and_ownership() {
        assert_eq!(
            dataset_version(&facets_of(json!({"version": {"datasetVersion": "2"}}))).as_deref(),
            Some("2")
        );
        assert_eq!(
            dataset_version(&facets_of(json!({"version": {"datasetVersion": 7}}))).as_deref(),
            Some("7")
        );
        assert_eq!(
            dataset_version(&facets_of(json!({"version": {"datasetVersion": ""}}))),
            None
        );
        let f = facets_of(
            json!({"ownership": {"owners": [{"name": "team:a", "type": "MAINTAINER"}, {"no-name": "x"}, "junk", {"name": "bob"}]}}),
        );
        assert_eq!(
            ownership(&f),
            vec![
                Owner {
                    name: "team:a".into(),
                    owner_type: Some("MAINTAINER".into())
                },
                Owner {
                    name: "bob".into(),
                    owner_type: None
                },
            ]
        );
        assert!(ownership(&facets_of(json!({"ownership": {"owners": {}}}))).is_empty());
    }
}
