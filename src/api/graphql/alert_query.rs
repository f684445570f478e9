//! Queries over incidents and alert channels.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object};

use super::pagination::{decode_cursor, encode_cursor, page_size};
use super::types::{ChannelObject, IncidentObject, IncidentStatusGql, state};
use crate::api::error::{ApiError, GqlResult, IntoGql};
use crate::store::IncidentFilter;

#[derive(Default)]
pub struct AlertQuery;

#[Object]
impl AlertQuery {
    /// Incidents, newest first, by status and/or dataset.
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        status: Option<IncidentStatusGql>,
        namespace: Option<String>,
        dataset: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, IncidentObject>> {
        let state = state(ctx)?;
        let first = page_size(first, state.config.max_page_size).gql()?;
        let offset = match after {
            Some(cursor) => decode_cursor(&cursor).gql()? + 1,
            None => 0,
        };
        let filter = IncidentFilter { status: status.map(Into::into), namespace, dataset };
        let page = state.store.incidents(&filter, offset as u64, first).await.gql()?;
        let mut connection = Connection::new(offset > 0, page.has_next);
        for (i, incident) in page.items.into_iter().enumerate() {
            connection.edges.push(Edge::new(encode_cursor(offset + i as i64), IncidentObject(incident)));
        }
        Ok(connection)
    }

    async fn incident(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<IncidentObject>> {
        let id: i64 = id.parse().map_err(|_| ApiError::BadRequest(format!("invalid incident id `{}`", id.0)).into_graphql())?;
        Ok(state(ctx)?.store.incident(id).await.gql()?.map(IncidentObject))
    }

    /// Alert channels, by name.
    async fn channels(&self, ctx: &Context<'_>) -> GqlResult<Vec<ChannelObject>> {
        Ok(state(ctx)?.store.channels().await.gql()?.into_iter().map(ChannelObject).collect())
    }
}
