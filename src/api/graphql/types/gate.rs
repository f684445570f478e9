//! GraphQL types of gating: health with taint, decisions, reasons and waivers.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::quality::{CheckResultObject, HealthStatusGql};
use super::{DatasetObject, loaders};
use crate::api::error::{GqlResult, IntoGql};
use crate::gate::assess::{Assessment, Taint};
use crate::gate::model::{Decision, GateDecision, GateReason, ReasonKind, Waiver};
use crate::model::DatasetRef;

/// A dataset's identity.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "DatasetRefInput", name = "DatasetRef")]
pub struct DatasetRefObject {
    pub namespace: String,
    pub name: String,
}

impl From<DatasetRef> for DatasetRefObject {
    fn from(r: DatasetRef) -> Self {
        DatasetRefObject { namespace: r.namespace, name: r.name }
    }
}

impl From<DatasetRefObject> for DatasetRef {
    fn from(r: DatasetRefObject) -> Self {
        DatasetRef { namespace: r.namespace, name: r.name }
    }
}

pub struct WaiverObject(pub Waiver);

#[Object(name = "Waiver")]
impl WaiverObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn dataset(&self, ctx: &Context<'_>) -> GqlResult<Option<DatasetObject>> {
        Ok(loaders(ctx)?.load_one(self.0.dataset_id).await.gql()?.map(DatasetObject))
    }
    /// The waived rule; null when the waiver covers every rule (and the taint) of the dataset.
    async fn rule_id(&self) -> Option<&str> {
        self.0.rule_id.as_deref()
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn author(&self) -> &str {
        &self.0.author
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    async fn revoked_by(&self) -> Option<&str> {
        self.0.revoked_by.as_deref()
    }
    /// In force now (not expired, not revoked).
    async fn active(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        Ok(self.0.active_at(super::state(ctx)?.clock.now()))
    }
}

/// Badness inherited from upstream: where it started and how it got here.
pub struct TaintObject(Taint);

#[Object(name = "Taint")]
impl TaintObject {
    /// The dataset whose failing check is the origin.
    async fn origin(&self) -> DatasetRefObject {
        self.0.origin.clone().into()
    }
    async fn origin_rule_id(&self) -> Option<&str> {
        self.0.origin_rule_id.as_deref()
    }
    /// The failing check at the origin.
    async fn origin_check(&self) -> Option<CheckResultObject> {
        self.0.origin_check.clone().map(CheckResultObject)
    }
    /// Node ids from the origin to this dataset (`dataset:...`, `job:...`, ...).
    async fn path(&self) -> Vec<ID> {
        self.0.path.iter().cloned().map(ID).collect()
    }
    /// The run that wrote this dataset from bad data.
    async fn run_id(&self) -> ID {
        ID(self.0.run_id.clone())
    }
    /// The writing run started although the gate blocked it.
    async fn gate_violation(&self) -> bool {
        self.0.violation
    }
    async fn waiver(&self) -> Option<WaiverObject> {
        self.0.waiver.clone().map(WaiverObject)
    }
}

/// Why a dataset is not healthy: one failing check (possibly waived) or one warning.
pub struct HealthReasonObject {
    check: crate::quality::records::CheckResult,
    waiver: Option<Waiver>,
}

#[Object(name = "HealthReason")]
impl HealthReasonObject {
    async fn rule_id(&self) -> &str {
        &self.check.rule_id
    }
    async fn rule_version(&self) -> i64 {
        self.check.rule_version
    }
    async fn outcome(&self) -> super::OutcomeGql {
        self.check.outcome.into()
    }
    async fn severity(&self) -> super::quality::SeverityGql {
        self.check.severity.into()
    }
    async fn observed(&self) -> Option<Json<Value>> {
        self.check.observed.clone().map(Json)
    }
    async fn expected(&self) -> &str {
        &self.check.expected
    }
    async fn message(&self) -> &str {
        &self.check.message
    }
    async fn run_id(&self) -> Option<ID> {
        self.check.run_id.clone().map(ID)
    }
    async fn evaluated_at(&self) -> DateTime<Utc> {
        self.check.evaluated_at
    }
    /// A waiver lets this failure pass (it still shows).
    async fn waived(&self) -> bool {
        self.waiver.is_some()
    }
    async fn waiver(&self) -> Option<WaiverObject> {
        self.waiver.clone().map(WaiverObject)
    }
}

pub struct HealthObject(pub Assessment);

#[Object(name = "DatasetHealth")]
impl HealthObject {
    async fn status(&self) -> HealthStatusGql {
        self.0.status.into()
    }
    /// Failing checks (block-level first, waived ones marked) and warnings.
    async fn reasons(&self) -> Vec<HealthReasonObject> {
        let failures = self.0.failures.iter().map(|f| HealthReasonObject { check: f.check.clone(), waiver: f.waiver.clone() });
        let warnings = self.0.warnings.iter().map(|c| HealthReasonObject { check: c.clone(), waiver: None });
        failures.chain(warnings).collect()
    }
    /// Set when the dataset was last written by a run that read failing or tainted data.
    async fn taint(&self) -> Option<TaintObject> {
        self.0.taint.clone().map(TaintObject)
    }
    /// The latest result of every rule that applies.
    async fn checks(&self) -> Vec<CheckResultObject> {
        self.0.checks.iter().cloned().map(CheckResultObject).collect()
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "GateOutcome")]
pub enum DecisionGql {
    Allow,
    Block,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "GateReasonKind")]
pub enum ReasonKindGql {
    /// Makes the decision BLOCK.
    Blocking,
    /// Does not block: a warn-level failure, a check that could not run.
    Warning,
    /// Would block, but a waiver lets it pass.
    Waived,
    /// Context, such as a job never seen or an input with no evidence.
    Note,
}

pub struct GateReasonObject(GateReason);

#[Object(name = "GateReason")]
impl GateReasonObject {
    async fn kind(&self) -> ReasonKindGql {
        match self.0.kind {
            ReasonKind::Blocking => ReasonKindGql::Blocking,
            ReasonKind::Warning => ReasonKindGql::Warning,
            ReasonKind::Waived => ReasonKindGql::Waived,
            ReasonKind::Note => ReasonKindGql::Note,
        }
    }
    async fn message(&self) -> &str {
        &self.0.message
    }
    /// The input this reason is about.
    async fn dataset(&self) -> Option<DatasetRefObject> {
        self.0.dataset.clone().map(Into::into)
    }
    /// The input's health status when decided.
    async fn status(&self) -> Option<&str> {
        self.0.status.as_deref()
    }
    async fn rule_id(&self) -> Option<&str> {
        self.0.rule_id.as_deref()
    }
    async fn rule_version(&self) -> Option<i64> {
        self.0.rule_version
    }
    async fn observed(&self) -> Option<Json<Value>> {
        self.0.observed.clone().map(Json)
    }
    async fn expected(&self) -> Option<&str> {
        self.0.expected.as_deref()
    }
    /// When the failing check was evaluated.
    async fn evaluated_at(&self) -> Option<DateTime<Utc>> {
        self.0.evaluated_at
    }
    /// For a taint: the dataset where the failure is.
    async fn origin(&self) -> Option<DatasetRefObject> {
        self.0.origin.clone().map(Into::into)
    }
    /// For a taint: node ids from the origin to the input.
    async fn path(&self) -> Vec<ID> {
        self.0.path.iter().cloned().map(ID).collect()
    }
    async fn waiver(&self) -> Option<WaiverObject> {
        self.0.waiver.clone().map(WaiverObject)
    }
}

pub struct GateDecisionObject(pub GateDecision);

#[Object(name = "GateDecision")]
impl GateDecisionObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn namespace(&self) -> &str {
        &self.0.namespace
    }
    async fn job(&self) -> &str {
        &self.0.job
    }
    async fn decision(&self) -> DecisionGql {
        match self.0.decision {
            Decision::Allow => DecisionGql::Allow,
            Decision::Block => DecisionGql::Block,
        }
    }
    async fn reasons(&self) -> Vec<GateReasonObject> {
        self.0.reasons.iter().cloned().map(GateReasonObject).collect()
    }
    /// The inputs judged.
    async fn inputs(&self) -> Vec<DatasetRefObject> {
        self.0.inputs.iter().cloned().map(Into::into).collect()
    }
    async fn decided_at(&self) -> DateTime<Utc> {
        self.0.decided_at
    }
    /// `request` (someone asked) or `violation_check` (a START event was checked).
    async fn context(&self) -> &str {
        &self.0.context
    }
    /// For a violation check: the run whose START was checked.
    async fn run_id(&self) -> Option<ID> {
        self.0.run_id.clone().map(ID)
    }
}
