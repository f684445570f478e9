use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Json, Object};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{DatasetObject, RunObject, loaders, state};
use crate::api::error::{GqlResult, IntoGql};
use crate::api::graphql::loaders::{JobEdges, RunKey};
use crate::api::graphql::pagination::{decode_cursor, encode_cursor, page_size};
use crate::lineage::{NodeId, NodeKind};
use crate::model::{Direction, Job};

pub struct JobObject(pub Job);

#[Object(name = "Job")]
impl JobObject {
    /// The node id used by `lineage`: `job:NAMESPACE:NAME`.
    async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Job, &self.0.namespace, &self.0.name).to_string())
    }
    async fn namespace(&self) -> &str {
        &self.0.namespace
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The latest value of every job facet (sql, sourceCodeLocation, jobType, ownership, ...).
    async fn facets(&self) -> Json<Value> {
        Json(self.0.facets.clone())
    }
    /// The job above this one (an Airflow DAG above its tasks), from the `parent` run facet.
    async fn parent(&self, ctx: &Context<'_>) -> GqlResult<Option<JobObject>> {
        let Some(parent) = self.0.parent_job_id else { return Ok(None) };
        Ok(loaders(ctx)?.load_one(parent).await.gql()?.map(JobObject))
    }
    async fn children(&self, ctx: &Context<'_>) -> GqlResult<Vec<JobObject>> {
        let children = state(ctx)?.store.child_jobs(self.0.id).await.gql()?;
        Ok(children.into_iter().map(JobObject).collect())
    }
    /// The datasets the job's most recent run read.
    async fn inputs(&self, ctx: &Context<'_>) -> GqlResult<Vec<DatasetObject>> {
        self.datasets(ctx, Direction::Input).await
    }
    /// The datasets the job's most recent run wrote.
    async fn outputs(&self, ctx: &Context<'_>) -> GqlResult<Vec<DatasetObject>> {
        self.datasets(ctx, Direction::Output).await
    }
    async fn latest_run(&self, ctx: &Context<'_>) -> GqlResult<Option<RunObject>> {
        let Some(id) = &self.0.latest_run_id else { return Ok(None) };
        Ok(loaders(ctx)?.load_one(RunKey(id.clone())).await.gql()?.map(RunObject))
    }
    /// Runs, newest first.
    async fn runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, RunObject>> {
        let state = state(ctx)?;
        let first = page_size(first, state.config.max_page_size).gql()?;
        let offset = match after {
            Some(cursor) => decode_cursor(&cursor).gql()? + 1,
            None => 0,
        };
        let page = state.store.runs_of_job(self.0.id, offset as u64, first).await.gql()?;
        let mut connection = Connection::new(offset > 0, page.has_next);
        for (i, run) in page.items.into_iter().enumerate() {
            connection.edges.push(Edge::new(encode_cursor(offset + i as i64), RunObject(run)));
        }
        Ok(connection)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

impl JobObject {
    async fn datasets(&self, ctx: &Context<'_>, direction: Direction) -> GqlResult<Vec<DatasetObject>> {
        let loaders = loaders(ctx)?;
        let edges = loaders.load_one(JobEdges(self.0.id)).await.gql()?.unwrap_or_default();
        let ids: Vec<_> = edges.iter().filter(|e| e.direction == direction).map(|e| e.dataset_id).collect();
        let mut datasets: Vec<_> = loaders.load_many(ids).await.gql()?.into_values().collect();
        datasets.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(datasets.into_iter().map(DatasetObject).collect())
    }
}
