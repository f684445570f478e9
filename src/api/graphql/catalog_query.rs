//! Queries over the catalog: namespaces, datasets, jobs, runs and search.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, SimpleObject};

use super::pagination::{decode_cursor, encode_cursor, page_size};
use super::types::{DatasetObject, JobObject, NodeKindGql, RunObject, SearchResult, state};
use crate::api::error::{ApiError, GqlResult, IntoGql};
use crate::lineage::{NodeId, NodeKind};
use crate::openlineage::normalize_run_id;
use crate::store::NameFilter;

#[derive(SimpleObject)]
pub struct Namespace {
    name: String,
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Every namespace a dataset or job has been seen in.
    async fn namespaces(&self, ctx: &Context<'_>) -> GqlResult<Vec<Namespace>> {
        let names = state(ctx)?.store.namespaces().await.gql()?;
        Ok(names.into_iter().map(|name| Namespace { name }).collect())
    }

    /// Datasets, optionally in one namespace and/or whose name contains `search`
    /// (case-insensitive), oldest first.
    async fn datasets(
        &self,
        ctx: &Context<'_>,
        namespace: Option<String>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, DatasetObject>> {
        let state = state(ctx)?;
        let first = page_size(first, state.config.max_page_size).gql()?;
        let after = after.map(|c| decode_cursor(&c)).transpose().gql()?;
        let filter = NameFilter { namespace, search };
        let page = state.store.datasets_page(&filter, after, first).await.gql()?;
        let mut connection = Connection::new(after.is_some(), page.has_next);
        connection.edges = page
            .items
            .into_iter()
            .map(|d| Edge::new(encode_cursor(d.id.0), DatasetObject(d)))
            .collect();
        Ok(connection)
    }

    /// Jobs, filtered like `datasets`.
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        namespace: Option<String>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, JobObject>> {
        let state = state(ctx)?;
        let first = page_size(first, state.config.max_page_size).gql()?;
        let after = after.map(|c| decode_cursor(&c)).transpose().gql()?;
        let filter = NameFilter { namespace, search };
        let page = state.store.jobs_page(&filter, after, first).await.gql()?;
        let mut connection = Connection::new(after.is_some(), page.has_next);
        connection.edges = page
            .items
            .into_iter()
            .map(|j| Edge::new(encode_cursor(j.id.0), JobObject(j)))
            .collect();
        Ok(connection)
    }

    /// A dataset by identity (an alias from the `symlinks` facet works too); null if unknown.
    async fn dataset(&self, ctx: &Context<'_>, namespace: String, name: String) -> GqlResult<Option<DatasetObject>> {
        let found = state(ctx)?.store.dataset_by_ref(&namespace, &name).await.gql()?;
        Ok(found.map(DatasetObject))
    }

    /// A job by identity; null if unknown.
    async fn job(&self, ctx: &Context<'_>, namespace: String, name: String) -> GqlResult<Option<JobObject>> {
        let found = state(ctx)?.store.job_by_ref(&namespace, &name).await.gql()?;
        Ok(found.map(JobObject))
    }

    /// A run by id, in any form an emitter may have sent it (canonical UUID, braced, `urn:uuid:`,
    /// without dashes, or the original non-UUID string).
    async fn run(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<RunObject>> {
        if id.trim().is_empty() {
            return Err(ApiError::BadRequest("`id` must not be empty".into()).into_graphql());
        }
        let canonical = normalize_run_id(&id).to_string();
        let found = state(ctx)?.store.runs_by_ids(&[canonical]).await.gql()?;
        Ok(found.into_iter().next().map(RunObject))
    }

    /// Datasets and jobs whose name contains `query` (case-insensitive), sorted by name.
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        #[graphql(default = 20)] first: i32,
    ) -> GqlResult<Vec<SearchResult>> {
        let state = state(ctx)?;
        if query.trim().is_empty() {
            return Err(ApiError::BadRequest("`query` must not be empty".into()).into_graphql());
        }
        let first = page_size(Some(first), state.config.max_page_size).gql()?;
        let filter = NameFilter { namespace: None, search: Some(query) };
        let datasets = state.store.datasets_page(&filter, None, first).await.gql()?;
        let jobs = state.store.jobs_page(&filter, None, first).await.gql()?;
        let mut results: Vec<SearchResult> = datasets
            .items
            .into_iter()
            .map(|d| SearchResult {
                id: ID(NodeId::new(NodeKind::Dataset, &d.namespace, &d.name).to_string()),
                kind: NodeKindGql::Dataset,
                namespace: d.namespace,
                name: d.name,
            })
            .chain(jobs.items.into_iter().map(|j| SearchResult {
                id: ID(NodeId::new(NodeKind::Job, &j.namespace, &j.name).to_string()),
                kind: NodeKindGql::Job,
                namespace: j.namespace,
                name: j.name,
            }))
            .collect();
        results.sort_by(|a, b| (&a.name, &a.namespace).cmp(&(&b.name, &b.namespace)));
        results.truncate(first as usize);
        Ok(results)
    }
}
