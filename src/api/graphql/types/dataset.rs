use async_graphql::{Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use async_graphql::connection::{Connection, Edge};

use super::{CheckResultObject, HealthObject, JobObject, OutcomeGql, RunObject, WaiverObject, loaders, state};
use crate::api::graphql::pagination::{decode_cursor, encode_cursor, page_size};
use crate::quality::records::CheckFilter;
use crate::api::error::{GqlResult, IntoGql};
use crate::api::graphql::loaders::{DatasetEdges, RunKey, VersionId};
use crate::lineage::{NodeId, NodeKind};
use crate::model::{AssertionObservation, Dataset, DatasetVersion, Direction};
use crate::openlineage::{Facets, facets};

pub struct DatasetObject(pub Dataset);

/// One column of a dataset's schema; `fields` holds the children of a nested (struct) column.
#[derive(SimpleObject)]
#[graphql(name = "SchemaField")]
pub struct SchemaFieldObject {
    name: String,
    #[graphql(name = "type")]
    data_type: Option<String>,
    description: Option<String>,
    fields: Vec<SchemaFieldObject>,
}

impl From<facets::SchemaField> for SchemaFieldObject {
    fn from(f: facets::SchemaField) -> Self {
        SchemaFieldObject {
            name: f.name,
            data_type: f.data_type,
            description: f.description,
            fields: f.fields.into_iter().map(Into::into).collect(),
        }
    }
}

/// Reads stored schema `fields` back through the same lenient facet reader that ingested them.
fn schema_of(fields: &Value) -> Option<Vec<SchemaFieldObject>> {
    let mut map = Facets::new();
    map.insert("schema".into(), serde_json::json!({ "fields": fields }));
    facets::schema_fields(&map).map(|fs| fs.into_iter().map(Into::into).collect())
}

/// A dataset version: a new one exists only when the schema or the `version` facet changed.
pub struct DatasetVersionObject(DatasetVersion);

#[Object(name = "DatasetVersion")]
impl DatasetVersionObject {
    /// `v:<datasetVersion>` from the version facet, else `s:<schema hash>`.
    async fn version(&self) -> &str {
        &self.0.version
    }
    async fn schema(&self) -> Option<Vec<SchemaFieldObject>> {
        self.0.schema_fields.as_ref().and_then(schema_of)
    }
    /// The run that first reported this version, if a run did.
    async fn run_id(&self) -> Option<ID> {
        self.0.run_id.clone().map(ID)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Another (namespace, name) under which the dataset is known (the `symlinks` facet).
#[derive(SimpleObject)]
pub struct DatasetAlias {
    namespace: String,
    name: String,
}

/// One metric value reported about the dataset.
#[derive(SimpleObject)]
#[graphql(name = "MetricObservation")]
pub struct MetricObservationObject {
    metric: String,
    /// `null` for dataset-level metrics such as `row_count`.
    column: Option<String>,
    value: Option<f64>,
    /// The facet it came from: `dataQualityMetrics`, `outputStatistics`, `inputStatistics`.
    source: String,
    run_id: Option<ID>,
    observed_at: DateTime<Utc>,
}

/// One external assertion (dbt test, Great Expectations expectation, ...) about the dataset.
#[derive(SimpleObject)]
#[graphql(name = "AssertionObservation")]
pub struct AssertionObservationObject {
    assertion: String,
    column: Option<String>,
    success: bool,
    severity: Option<String>,
    /// The facet it came from: `dataQualityAssertions`, `greatExpectations_assertions`, `test`.
    source: String,
    details: Option<Json<Value>>,
    run_id: Option<ID>,
    observed_at: DateTime<Utc>,
}

impl From<AssertionObservation> for AssertionObservationObject {
    fn from(a: AssertionObservation) -> Self {
        AssertionObservationObject {
            assertion: a.assertion,
            column: a.column,
            success: a.success,
            severity: a.severity,
            source: a.source,
            details: a.details.map(Json),
            run_id: a.run_id.map(ID),
            observed_at: a.observed_at,
        }
    }
}

/// Quality evidence that arrived in events about this dataset, newest first.
#[derive(SimpleObject)]
pub struct DatasetObservations {
    metrics: Vec<MetricObservationObject>,
    assertions: Vec<AssertionObservationObject>,
}

// GraphQL arguments are resolver parameters: a filterable connection needs many.
#[allow(clippy::too_many_arguments)]
#[Object(name = "Dataset")]
impl DatasetObject {
    /// The node id used by `lineage`: `dataset:NAMESPACE:NAME`.
    async fn id(&self) -> ID {
        ID(NodeId::new(NodeKind::Dataset, &self.0.namespace, &self.0.name).to_string())
    }
    async fn namespace(&self) -> &str {
        &self.0.namespace
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The current schema (from the latest version that carried one).
    async fn schema(&self, ctx: &Context<'_>) -> GqlResult<Option<Vec<SchemaFieldObject>>> {
        let Some(id) = self.0.schema_version_id else { return Ok(None) };
        let version = loaders(ctx)?.load_one(VersionId(id)).await.gql()?;
        Ok(version.and_then(|v| v.schema_fields).as_ref().and_then(schema_of))
    }
    /// The latest value of every dataset facet received, by facet name.
    async fn facets(&self) -> Json<Value> {
        Json(self.0.facets.clone())
    }
    /// Versions, newest first.
    async fn versions(&self, ctx: &Context<'_>) -> GqlResult<Vec<DatasetVersionObject>> {
        let versions = state(ctx)?.store.versions_of(self.0.id).await.gql()?;
        Ok(versions.into_iter().map(DatasetVersionObject).collect())
    }
    async fn current_version(&self, ctx: &Context<'_>) -> GqlResult<Option<DatasetVersionObject>> {
        let Some(current) = self.0.current_version_id else { return Ok(None) };
        let versions = state(ctx)?.store.versions_of(self.0.id).await.gql()?;
        Ok(versions.into_iter().find(|v| v.id == current).map(DatasetVersionObject))
    }
    async fn aliases(&self, ctx: &Context<'_>) -> GqlResult<Vec<DatasetAlias>> {
        let aliases = state(ctx)?.store.aliases_of(self.0.id).await.gql()?;
        Ok(aliases.into_iter().map(|a| DatasetAlias { namespace: a.namespace, name: a.name }).collect())
    }
    /// Jobs whose most recent run wrote this dataset.
    async fn producers(&self, ctx: &Context<'_>) -> GqlResult<Vec<JobObject>> {
        self.jobs(ctx, Direction::Output).await
    }
    /// Jobs whose most recent run read this dataset.
    async fn consumers(&self, ctx: &Context<'_>) -> GqlResult<Vec<JobObject>> {
        self.jobs(ctx, Direction::Input).await
    }
    async fn observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100, validator(minimum = 0, maximum = 1000))] limit: i32,
    ) -> GqlResult<DatasetObservations> {
        let store = &state(ctx)?.store;
        let metrics = store.metrics_of(self.0.id, limit as u64).await.gql()?;
        let assertions = store.assertions_of(self.0.id, limit as u64).await.gql()?;
        Ok(DatasetObservations {
            metrics: metrics
                .into_iter()
                .map(|m| MetricObservationObject {
                    metric: m.metric,
                    column: m.column,
                    value: m.value,
                    source: m.source,
                    run_id: m.run_id.map(ID),
                    observed_at: m.observed_at,
                })
                .collect(),
            assertions: assertions.into_iter().map(Into::into).collect(),
        })
    }
    /// Event time of the latest successful run that wrote it.
    async fn last_written_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_written_at
    }
    async fn last_writer_run(&self, ctx: &Context<'_>) -> GqlResult<Option<RunObject>> {
        let Some(id) = &self.0.last_writer_run_id else { return Ok(None) };
        let run = loaders(ctx)?.load_one(RunKey(id.clone())).await.gql()?;
        Ok(run.map(RunObject))
    }
    /// Derived from the latest result of every rule that applies to the dataset, the taint it
    /// inherited from the run that last wrote it, and waivers.
    async fn health(&self, ctx: &Context<'_>) -> GqlResult<HealthObject> {
        let state = state(ctx)?;
        let snapshot = state.store.snapshot();
        let rules = crate::gate::load_rules(&snapshot).await.gql()?;
        let health = crate::gate::assess::assess(&snapshot, &rules, &(&self.0).into(), None, state.clock.now()).await.gql()?;
        Ok(HealthObject(health))
    }
    /// Waivers of this dataset, newest first (only those in force with `activeOnly`).
    async fn waivers(&self, ctx: &Context<'_>, #[graphql(default = false)] active_only: bool) -> GqlResult<Vec<WaiverObject>> {
        let state = state(ctx)?;
        let waivers = crate::gate::waivers::waivers_of(&state.store, self.0.id, active_only, state.clock.now()).await.gql()?;
        Ok(waivers.into_iter().map(WaiverObject).collect())
    }
    /// Check history, newest first, filtered by rule, outcome and evaluation time
    /// (`since` inclusive, `until` exclusive).
    async fn check_results(
        &self,
        ctx: &Context<'_>,
        rule_id: Option<String>,
        outcome: Option<OutcomeGql>,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, CheckResultObject>> {
        let state = state(ctx)?;
        let first = page_size(first, state.config.max_page_size).gql()?;
        let offset = match after {
            Some(cursor) => decode_cursor(&cursor).gql()? + 1,
            None => 0,
        };
        let filter = CheckFilter { rule_id, outcome: outcome.map(Into::into), since, until };
        let page = state.store.check_results(self.0.id, &filter, offset as u64, first).await.gql()?;
        let mut connection = Connection::new(offset > 0, page.has_next);
        for (i, result) in page.items.into_iter().enumerate() {
            connection.edges.push(Edge::new(encode_cursor(offset + i as i64), CheckResultObject(result)));
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

impl DatasetObject {
    async fn jobs(&self, ctx: &Context<'_>, direction: Direction) -> GqlResult<Vec<JobObject>> {
        let loaders = loaders(ctx)?;
        let edges = loaders.load_one(DatasetEdges(self.0.id)).await.gql()?.unwrap_or_default();
        let ids: Vec<_> = edges.iter().filter(|e| e.direction == direction).map(|e| e.job_id).collect();
        let mut jobs: Vec<_> = loaders.load_many(ids).await.gql()?.into_values().collect();
        jobs.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(jobs.into_iter().map(JobObject).collect())
    }
}
