//! Lineage queries: the dataset/job graph and column lineage.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::types::{ColumnLineageEdgeObject, LineageDirection, LineageGraphObject, state};
use crate::api::error::{GqlResult, IntoGql};
use crate::api::lineage_args::{check_depth, lineage_query};
use crate::lineage;

#[derive(Default)]
pub struct LineageQuery;

#[Object]
impl LineageQuery {
    /// The lineage graph around a node. `depth` counts job hops; `asOf` answers with the edges
    /// that existed at that time (event time) instead of the current ones.
    async fn lineage(
        &self,
        ctx: &Context<'_>,
        node_id: ID,
        #[graphql(default_with = "LineageDirection::Both")] direction: LineageDirection,
        #[graphql(default = 20)] depth: i32,
        as_of: Option<DateTime<Utc>>,
    ) -> GqlResult<LineageGraphObject> {
        let state = state(ctx)?;
        let query = lineage_query(&node_id, direction.into(), depth.into(), as_of, state.config.max_lineage_depth).gql()?;
        let graph = state.lineage.lineage(&state.store.snapshot(), &query).await.gql()?;
        Ok(graph.into())
    }

    /// Which columns a column is computed from (UPSTREAM) or feeds (DOWNSTREAM), transitively
    /// to `depth` column hops. Without `field`, every column of the dataset.
    async fn column_lineage(
        &self,
        ctx: &Context<'_>,
        namespace: String,
        name: String,
        field: Option<String>,
        #[graphql(default_with = "LineageDirection::Upstream")] direction: LineageDirection,
        #[graphql(default = 10)] depth: i32,
    ) -> GqlResult<Vec<ColumnLineageEdgeObject>> {
        let state = state(ctx)?;
        let depth = check_depth(depth.into(), state.config.max_lineage_depth).gql()?;
        let edges = lineage::column_lineage(&state.store, &namespace, &name, field.as_deref(), direction.into(), depth)
            .await
            .gql()?;
        Ok(edges.into_iter().map(Into::into).collect())
    }
}
