//! A rule as users write it: in a rules file (YAML), in a GraphQL mutation, and as stored.
//!
//! One flat shape for every kind (`kind:` says which fields apply), so a file, a mutation and
//! the database all hold the same thing and are validated by the same code
//! ([`super::rule::Rule::from_definition`]).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDefinition {
    /// Stable identifier, kept across edits (letters, digits, `_`, `-`, `.`).
    pub id: String,
    /// `metric`, `freshness`, `volume_change`, `schema`, `assertions` or `run_status`.
    pub kind: String,
    /// `warn` or `block` (default `block`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub target: TargetDefinition,

    // metric
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// `<`, `<=`, `>`, `>=`, `==`, `!=` or `between`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,

    // freshness
    /// `90m`, `6h`, `1d`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,

    // volume_change
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_drop_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_growth_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub z_score: Option<f64>,

    // schema
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_columns: Vec<ColumnDefinition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_breaking_changes: Option<bool>,

    // assertions
    /// Only these assertions; all of them when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<String>,
}

/// Which datasets a rule applies to: globs over namespace and name (`*`, `?`, `[abc]`); a
/// pattern without wildcards names one dataset exactly.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDefinition {
    pub namespace: String,
    pub name: String,
}

/// A required column: the name, and the type when it matters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDefinition {
    pub name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
}
