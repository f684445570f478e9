//! When a dataset gets a new version: when its `version` facet says so, or when its schema
//! changes. Never one per run: a run that writes the same schema adds no version.

use sha2::{Digest, Sha256};

use crate::openlineage::facets::{self, SchemaField};
use crate::openlineage::Facets;

/// The version key an event reports for a dataset, if it reports one, with the schema hash.
pub fn version_key(dataset_facets: &Facets) -> Option<(String, Option<String>)> {
    let schema_hash = facets::schema_fields(dataset_facets).map(|fields| schema_hash(&fields));
    if let Some(version) = facets::dataset_version(dataset_facets) {
        return Some((format!("v:{version}"), schema_hash));
    }
    let hash = schema_hash?;
    Some((format!("s:{hash}"), Some(hash)))
}

/// Hash of the column names and types (nested columns included, descriptions not: editing a
/// column's description does not change the data's shape).
pub fn schema_hash(fields: &[SchemaField]) -> String {
    fn feed(hasher: &mut Sha256, fields: &[SchemaField]) {
        for field in fields {
            hasher.update(field.name.as_bytes());
            hasher.update([0]);
            hasher.update(field.data_type.as_deref().unwrap_or("").as_bytes());
            hasher.update([1]);
            feed(hasher, &field.fields);
            hasher.update([2]);
        }
    }
    let mut hasher = Sha256::new();
    feed(&mut hasher, fields);
    hex::encode(&hasher.finalize()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facets_with(fields: serde_json::Value) -> Facets {
        let mut map = Facets::new();
        map.insert("schema".into(), serde_json::json!({ "fields": fields }));
        map
    }

    #[test]
    fn same_columns_same_version_description_ignored() {
        let a = version_key(&facets_with(serde_json::json!([{"name": "id", "type": "int", "description": "x"}])));
        let b = version_key(&facets_with(serde_json::json!([{"name": "id", "type": "int"}])));
        assert!(a.is_some());
        assert_eq!(a, b);
    }

    #[test]
    fn type_change_is_a_new_version() {
        let a = version_key(&facets_with(serde_json::json!([{"name": "id", "type": "int"}])));
        let b = version_key(&facets_with(serde_json::json!([{"name": "id", "type": "bigint"}])));
        assert_ne!(a, b);
    }

    #[test]
    fn version_facet_wins_and_no_evidence_means_no_version() {
        let mut map = Facets::new();
        map.insert("version".into(), serde_json::json!({"datasetVersion": "42"}));
        assert_eq!(version_key(&map).map(|k| k.0), Some("v:42".to_string()));
        assert_eq!(version_key(&Facets::new()), None);
    }
}
