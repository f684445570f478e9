use async_graphql::{Context, Enum, ID, Json, Object};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{DatasetObject, GateDecisionObject, JobObject, loaders, state};
use crate::api::error::{ApiError, GqlResult, IntoGql};
use crate::api::graphql::loaders::{RunIoKey, RunKey};
use crate::model::{Direction, Run, RunState};

/// The state of a run, as OpenLineage's event types name them.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "RunState")]
pub enum RunStateGql {
    Start,
    Running,
    Complete,
    Fail,
    Abort,
    Other,
}

impl From<RunState> for RunStateGql {
    fn from(s: RunState) -> Self {
        match s {
            RunState::Start => RunStateGql::Start,
            RunState::Running => RunStateGql::Running,
            RunState::Complete => RunStateGql::Complete,
            RunState::Fail => RunStateGql::Fail,
            RunState::Abort => RunStateGql::Abort,
            RunState::Other => RunStateGql::Other,
        }
    }
}

pub struct RunObject(pub Run);

#[Object(name = "Run")]
impl RunObject {
    /// The canonical UUID of the run.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The run id exactly as the emitter sent it.
    async fn raw_id(&self) -> &str {
        &self.0.raw_run_id
    }
    async fn job(&self, ctx: &Context<'_>) -> GqlResult<JobObject> {
        loaders(ctx)?
            .load_one(self.0.job_id)
            .await
            .gql()?
            .map(JobObject)
            .ok_or_else(|| ApiError::internal("run without job", &self.0.id).into_graphql())
    }
    async fn state(&self) -> RunStateGql {
        self.0.state.into()
    }
    /// Event time of the event that set the state.
    async fn state_time(&self) -> DateTime<Utc> {
        self.0.state_time
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at
    }
    async fn nominal_start_time(&self) -> Option<DateTime<Utc>> {
        self.0.nominal_start_time
    }
    async fn nominal_end_time(&self) -> Option<DateTime<Utc>> {
        self.0.nominal_end_time
    }
    /// From the `errorMessage` run facet of a failed run.
    async fn error_message(&self) -> Option<&str> {
        self.0.error_message.as_deref()
    }
    async fn parent_run_id(&self) -> Option<ID> {
        self.0.parent_run_id.clone().map(ID)
    }
    /// The parent run, when Weir has seen it.
    async fn parent_run(&self, ctx: &Context<'_>) -> GqlResult<Option<RunObject>> {
        let Some(id) = &self.0.parent_run_id else { return Ok(None) };
        Ok(loaders(ctx)?.load_one(RunKey(id.clone())).await.gql()?.map(RunObject))
    }
    async fn facets(&self) -> Json<Value> {
        Json(self.0.facets.clone())
    }
    /// Exactly what this run read.
    async fn inputs(&self, ctx: &Context<'_>) -> GqlResult<Vec<DatasetObject>> {
        self.datasets(ctx, Direction::Input).await
    }
    /// Exactly what this run wrote.
    async fn outputs(&self, ctx: &Context<'_>) -> GqlResult<Vec<DatasetObject>> {
        self.datasets(ctx, Direction::Output).await
    }
    /// Whether this run read failing or tainted data (judged on its inputs' health as of its
    /// start); null until the run completed.
    async fn tainted(&self, ctx: &Context<'_>) -> GqlResult<Option<bool>> {
        let snapshot = state(ctx)?.store.snapshot();
        Ok(snapshot.run_taint(&self.0.id).await.gql()?.map(|t| t.tainted))
    }
    /// The gate decision that blocked this run, if it started anyway (a gate violation).
    async fn gate_violation(&self, ctx: &Context<'_>) -> GqlResult<Option<GateDecisionObject>> {
        let snapshot = state(ctx)?.store.snapshot();
        let Some(violation) = snapshot.violation_of(&self.0.id).await.gql()? else { return Ok(None) };
        Ok(snapshot.decision(violation.decision_id).await.gql()?.map(GateDecisionObject))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

impl RunObject {
    async fn datasets(&self, ctx: &Context<'_>, direction: Direction) -> GqlResult<Vec<DatasetObject>> {
        let loaders = loaders(ctx)?;
        let io = loaders.load_one(RunIoKey(self.0.id.clone())).await.gql()?.unwrap_or_default();
        let ids: Vec<_> = io.iter().filter(|r| r.direction == direction).map(|r| r.dataset_id).collect();
        let mut datasets: Vec<_> = loaders.load_many(ids).await.gql()?.into_values().collect();
        datasets.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(datasets.into_iter().map(DatasetObject).collect())
    }
}
