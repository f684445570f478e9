//! Facets that shape the lineage graph: `symlinks` (aliases of a dataset) and `columnLineage`.

use super::{Facets, facet, objects, string};
use serde_json::{Map, Value};

/// The `symlinks` facet's identifiers as (namespace, name): other names of the same dataset
/// (a Hive table name for a file path, say). Identifiers lacking either part are skipped.
pub fn symlinks(facets: &Facets) -> Vec<(String, String)> {
    let Some(symlinks) = facet(facets, "symlinks") else {
        return Vec::new();
    };
    objects(symlinks, "identifiers")
        .filter_map(|i| Some((string(i, "namespace")?, string(i, "name")?)))
        .collect()
}

/// One input column that an output column is computed from, with one transformation.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnLineageInput {
    pub namespace: String,
    pub name: String,
    pub field: String,
    /// `DIRECT`/`INDIRECT` in the current facet; `IDENTITY`/`MASKED` in the deprecated form.
    pub transformation_type: Option<String>,
    pub transformation_subtype: Option<String>,
    pub description: Option<String>,
}

/// An output column and the input columns it is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnLineage {
    pub output_field: String,
    pub inputs: Vec<ColumnLineageInput>,
}

/// The `columnLineage` facet's `fields`.
///
/// Two forms exist. The current one lists `transformations` on each input field; an input field
/// with several transformations (Spark: DIRECT IDENTITY plus INDIRECT JOIN, ...) yields one entry
/// per transformation. The deprecated one puts `transformationType`/`transformationDescription`
/// on the output field; those apply to every input field without its own `transformations`.
/// The facet's dataset-wide `dataset` dependencies are not column-to-column and are not read.
pub fn column_lineage(facets: &Facets) -> Vec<ColumnLineage> {
    let Some(fields) = facet(facets, "columnLineage")
        .and_then(|f| f.get("fields"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    fields
        .iter()
        .filter_map(|(output_field, spec)| {
            let spec = spec.as_object()?;
            let mut inputs = Vec::new();
            for input in objects(spec, "inputFields") {
                push_inputs(spec, input, &mut inputs);
            }
            Some(ColumnLineage {
                output_field: output_field.clone(),
                inputs,
            })
        })
        .collect()
}

fn push_inputs(
    spec: &Map<String, Value>,
    input: &Map<String, Value>,
    out: &mut Vec<ColumnLineageInput>,
) {
    let (Some(namespace), Some(name), Some(field)) = (
        string(input, "namespace"),
        string(input, "name"),
        string(input, "field"),
    ) else {
        return;
    };
    let entry = |transformation_type, transformation_subtype, description| ColumnLineageInput {
        namespace: namespace.clone(),
        name: name.clone(),
        field: field.clone(),
        transformation_type,
        transformation_subtype,
        description,
    };
    let transformations: Vec<_> = objects(input, "transformations").collect();
    if transformations.is_empty() {
        out.push(entry(
            string(spec, "transformationType"),
            None,
            string(spec, "transformationDescription"),
        ));
    }
    for t in transformations {
        out.push(entry(
            string(t, "type"),
            string(t, "subtype"),
            string(t, "description"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::facets_of;
    use super::*;
    use serde_json::json;

    #[test]
    fn symlinks_skip_incomplete_identifiers() {
        let f = facets_of(json!({"symlinks": {"identifiers": [
            {"namespace": "hive://h", "name": "db.t", "type": "TABLE"}, {"namespace": "x"}]}}));
        assert_eq!(
            symlinks(&f),
            vec![("hive://h".to_string(), "db.t".to_string())]
        );
        assert!(symlinks(&facets_of(json!({"symlinks": null}))).is_empty());
    }

    #[test]
    fn column_lineage_reads_new_and_old_forms() {
        let f = facets_of(json!({"columnLineage": {"fields": {
            "a": {"inputFields": [
                {"namespace": "n", "name": "t", "field": "x", "transformations": [
                    {"type": "DIRECT", "subtype": "IDENTITY", "description": "x AS a"},
                    {"type": "INDIRECT", "subtype": "FILTER"}]},
                {"namespace": "n", "name": "t"}]},
            "b": {"inputFields": [{"namespace": "n", "name": "t", "field": "y"}],
                  "transformationType": "MASKED", "transformationDescription": "sha1(y)"},
            "c": "junk"}}}));
        let got = column_lineage(&f);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].output_field, "a");
        let a: Vec<_> = got[0]
            .inputs
            .iter()
            .map(|i| {
                (
                    i.field.as_str(),
                    i.transformation_type.as_deref(),
                    i.transformation_subtype.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            a,
            [
                ("x", Some("DIRECT"), Some("IDENTITY")),
                ("x", Some("INDIRECT"), Some("FILTER"))
            ]
        );
        assert_eq!(got[0].inputs[0].description.as_deref(), Some("x AS a"));
        assert_eq!(
            got[1].inputs,
            vec![ColumnLineageInput {
                namespace: "n".into(),
                name: "t".into(),
                field: "y".into(),
                transformation_type: Some("MASKED".into()),
                transformation_subtype: None,
                description: Some("sha1(y)".into()),
            }]
        );
    }
}
