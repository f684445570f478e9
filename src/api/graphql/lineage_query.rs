//! Lineage queries: the dataset/job graph and column lineage.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::types::{ColumnLineageEdgeObject, LineageDirection, LineageGraphObject, state};
use crate::api::error::{ApiError, GqlResult, IntoGql};
use crate::lineage::{self, LineageQuery as Query, parse_node_id};

#[derive(Default)]
pub struct LineageQuery;

fn check_depth(depth: i32, max: u32) -> Result<u32, ApiError> {
    if depth < 0 {
        return Err(ApiError::BadRequest(format!("`depth` must not be negative, got {depth}")));
    }
    if depth as u32 > max {
        return Err(ApiError::BadRequest(format!("`depth` is {depth}, above the maximum lineage depth {max}")));
    }
    Ok(depth as u32)
}

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
        let depth = check_depth(depth, state.config.max_lineage_depth).gql()?;
        let start = parse_node_id(&node_id).map_err(|e| ApiError::BadRequest(e.to_string())).gql()?;
        let query = Query { start, direction: direction.into(), depth, as_of, max_nodes: None };
        let snapshot = state.store.snapshot();
        let graph = match query.as_of {
            None => state.lineage.lineage(&snapshot, &query).await,
            Some(_) => lineage::lineage(&snapshot, &query).await,
        };
        let graph = graph.gql()?;
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
        let depth = check_depth(depth, state.config.max_lineage_depth).gql()?;
        let edges = lineage::column_lineage(&state.store, &namespace, &name, field.as_deref(), direction.into(), depth)
            .await
            .gql()?;
        Ok(edges.into_iter().map(Into::into).collect())
    }
}
