//! GraphQL types of quality rules, check results and health.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{DatasetObject, loaders, state};
use crate::api::error::{ApiError, GqlResult, IntoGql};
use crate::quality::evaluate::Outcome;
use crate::quality::health::HealthStatus;
use crate::quality::manage::RulesPlan;
use crate::quality::records::{CheckResult, RuleAction, RuleChange, RuleRecord};
use crate::quality::{ColumnDefinition, RuleDefinition, Severity, TargetDefinition};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "CheckOutcome")]
pub enum OutcomeGql {
    Pass,
    Fail,
    /// The evidence was missing or malformed; the message says what.
    Error,
}

impl From<Outcome> for OutcomeGql {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Pass => OutcomeGql::Pass,
            Outcome::Fail => OutcomeGql::Fail,
            Outcome::Error => OutcomeGql::Error,
        }
    }
}

impl From<OutcomeGql> for Outcome {
    fn from(o: OutcomeGql) -> Self {
        match o {
            OutcomeGql::Pass => Outcome::Pass,
            OutcomeGql::Fail => Outcome::Fail,
            OutcomeGql::Error => Outcome::Error,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Severity")]
pub enum SeverityGql {
    Warn,
    Block,
}

impl From<Severity> for SeverityGql {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Warn => SeverityGql::Warn,
            Severity::Block => SeverityGql::Block,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "HealthStatus")]
pub enum HealthStatusGql {
    /// Every applicable check passes.
    Healthy,
    /// A warn-level check fails, a check could not run, or a failure is waived.
    Warning,
    /// Last written by a run that read failing or tainted data.
    Tainted,
    /// A block-level check fails (and is not waived).
    Failing,
    /// No applicable check has a result yet.
    Unknown,
}

impl From<HealthStatus> for HealthStatusGql {
    fn from(s: HealthStatus) -> Self {
        match s {
            HealthStatus::Healthy => HealthStatusGql::Healthy,
            HealthStatus::Warning => HealthStatusGql::Warning,
            HealthStatus::Tainted => HealthStatusGql::Tainted,
            HealthStatus::Failing => HealthStatusGql::Failing,
            HealthStatus::Unknown => HealthStatusGql::Unknown,
        }
    }
}

/// The datasets a rule applies to (globs over namespace and name).
#[derive(SimpleObject, InputObject)]
#[graphql(input_name = "RuleTargetInput")]
pub struct RuleTarget {
    pub namespace: String,
    pub name: String,
}

pub struct RuleObject(pub RuleRecord);

#[Object(name = "Rule")]
impl RuleObject {
    async fn id(&self) -> &str {
        &self.0.definition.id
    }
    /// Bumped by every change; each check result records the version it used.
    async fn version(&self) -> i64 {
        self.0.version
    }
    async fn kind(&self) -> &str {
        &self.0.definition.kind
    }
    async fn severity(&self) -> SeverityGql {
        self.0.definition.severity.as_deref().and_then(Severity::parse).unwrap_or(Severity::Block).into()
    }
    async fn description(&self) -> Option<&str> {
        self.0.definition.description.as_deref()
    }
    async fn owner(&self) -> Option<&str> {
        self.0.definition.owner.as_deref()
    }
    async fn target(&self) -> RuleTarget {
        RuleTarget { namespace: self.0.definition.target.namespace.clone(), name: self.0.definition.target.name.clone() }
    }
    /// The whole definition, in the rules-file shape.
    async fn definition(&self) -> GqlResult<Json<Value>> {
        serde_json::to_value(&self.0.definition)
            .map(Json)
            .map_err(|e| ApiError::internal("rule definition", e).into_graphql())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Every change: who, when, what.
    async fn history(&self, ctx: &Context<'_>) -> GqlResult<Vec<RuleChangeObject>> {
        let history = state(ctx)?.store.rule_history(&self.0.definition.id).await.gql()?;
        Ok(history.into_iter().map(RuleChangeObject).collect())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RuleChangeAction {
    Created,
    Updated,
    Deleted,
}

pub struct RuleChangeObject(RuleChange);

#[Object(name = "RuleChange")]
impl RuleChangeObject {
    async fn version(&self) -> i64 {
        self.0.version
    }
    async fn action(&self) -> RuleChangeAction {
        match self.0.action {
            RuleAction::Created => RuleChangeAction::Created,
            RuleAction::Updated => RuleChangeAction::Updated,
            RuleAction::Deleted => RuleChangeAction::Deleted,
        }
    }
    async fn author(&self) -> &str {
        &self.0.author
    }
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
    /// The definition after the change; null for a deletion.
    async fn definition(&self) -> Option<Json<Value>> {
        self.0.definition.as_ref().and_then(|d| serde_json::to_value(d).ok()).map(Json)
    }
}

pub struct CheckResultObject(pub CheckResult);

#[Object(name = "CheckResult")]
impl CheckResultObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn rule_id(&self) -> &str {
        &self.0.rule_id
    }
    async fn rule_version(&self) -> i64 {
        self.0.rule_version
    }
    /// The rule as it is now (null if it was deleted since).
    async fn rule(&self, ctx: &Context<'_>) -> GqlResult<Option<RuleObject>> {
        Ok(state(ctx)?.store.rule(&self.0.rule_id).await.gql()?.map(RuleObject))
    }
    async fn dataset(&self, ctx: &Context<'_>) -> GqlResult<Option<DatasetObject>> {
        Ok(loaders(ctx)?.load_one(self.0.dataset_id).await.gql()?.map(DatasetObject))
    }
    async fn outcome(&self) -> OutcomeGql {
        self.0.outcome.into()
    }
    /// The rule's severity, or `WARN` when only warn-level assertions failed.
    async fn severity(&self) -> SeverityGql {
        self.0.severity.into()
    }
    /// What was observed (a number for metrics; an object for other kinds).
    async fn observed(&self) -> Option<Json<Value>> {
        self.0.observed.clone().map(Json)
    }
    /// What the rule expects, e.g. `row_count > 0`.
    async fn expected(&self) -> &str {
        &self.0.expected
    }
    async fn message(&self) -> &str {
        &self.0.message
    }
    /// The run whose event triggered the evaluation, if any.
    async fn run_id(&self) -> Option<ID> {
        self.0.run_id.clone().map(ID)
    }
    /// `event`, `schedule` or `on_demand`.
    async fn trigger(&self) -> &str {
        &self.0.trigger
    }
    async fn evaluated_at(&self) -> DateTime<Utc> {
        self.0.evaluated_at
    }
}

/// What applying a rules file changed (or would change, for a dry run).
#[derive(SimpleObject)]
#[graphql(name = "RulesPlan")]
pub struct RulesPlanObject {
    created: Vec<String>,
    updated: Vec<String>,
    deleted: Vec<String>,
    unchanged: Vec<String>,
    /// False for a dry run.
    applied: bool,
}

impl From<RulesPlan> for RulesPlanObject {
    fn from(p: RulesPlan) -> Self {
        RulesPlanObject { created: p.created, updated: p.updated, deleted: p.deleted, unchanged: p.unchanged, applied: p.applied }
    }
}

#[derive(InputObject)]
pub struct ColumnInput {
    name: String,
    #[graphql(name = "type")]
    data_type: Option<String>,
}

/// A rule, in the same shape as an entry of the rules file (see docs/rules.md). `kind` says
/// which of the optional fields apply.
#[derive(InputObject)]
pub struct RuleInput {
    id: String,
    /// metric, freshness, volume_change, schema, assertions or run_status.
    kind: String,
    /// `warn` or `block` (default `block`).
    severity: Option<String>,
    description: Option<String>,
    owner: Option<String>,
    target: RuleTarget,
    metric: Option<String>,
    column: Option<String>,
    op: Option<String>,
    value: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    max_age: Option<String>,
    lookback: Option<u32>,
    max_drop_pct: Option<f64>,
    max_growth_pct: Option<f64>,
    z_score: Option<f64>,
    required_columns: Option<Vec<ColumnInput>>,
    forbidden_columns: Option<Vec<String>>,
    no_breaking_changes: Option<bool>,
    assertions: Option<Vec<String>>,
}

impl From<RuleInput> for RuleDefinition {
    fn from(r: RuleInput) -> Self {
        RuleDefinition {
            id: r.id,
            kind: r.kind,
            severity: r.severity,
            description: r.description,
            owner: r.owner,
            target: TargetDefinition { namespace: r.target.namespace, name: r.target.name },
            metric: r.metric,
            column: r.column,
            op: r.op,
            value: r.value,
            min: r.min,
            max: r.max,
            max_age: r.max_age,
            lookback: r.lookback,
            max_drop_pct: r.max_drop_pct,
            max_growth_pct: r.max_growth_pct,
            z_score: r.z_score,
            required_columns: r
                .required_columns
                .unwrap_or_default()
                .into_iter()
                .map(|c| ColumnDefinition { name: c.name, data_type: c.data_type })
                .collect(),
            forbidden_columns: r.forbidden_columns.unwrap_or_default(),
            no_breaking_changes: r.no_breaking_changes,
            assertions: r.assertions.unwrap_or_default(),
        }
    }
}
