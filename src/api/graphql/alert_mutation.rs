//! Mutations over alert channels and incidents.

use async_graphql::{Context, ID, Object};

use super::quality_mutation::author_of;
use super::types::{ChannelInput, ChannelObject, ChannelTestResult, IncidentObject, state};
use crate::alert::channels::{self, ChannelSpec};
use crate::alert::{incidents, notices};
use crate::api::error::{ApiError, GqlResult, IntoGql};

fn incident_id(id: &ID) -> GqlResult<i64> {
    id.parse().map_err(|_| ApiError::BadRequest(format!("invalid incident id `{}`", id.0)).into_graphql())
}

#[derive(Default)]
pub struct AlertMutation;

#[Object]
impl AlertMutation {
    /// Creates a channel, or replaces the one with the same name.
    async fn save_channel(&self, ctx: &Context<'_>, channel: ChannelInput) -> GqlResult<ChannelObject> {
        let state = state(ctx)?;
        let spec = ChannelSpec {
            name: channel.name,
            kind: channel.kind,
            url: channel.url,
            secret: channel.secret,
            filter: channel.filter.map(Into::into).unwrap_or_default(),
            enabled: channel.enabled,
        };
        Ok(ChannelObject(channels::save(&state.store, spec, state.clock.now()).await.gql()?))
    }

    async fn delete_channel(&self, ctx: &Context<'_>, name: String) -> GqlResult<bool> {
        channels::delete(&state(ctx)?.store, &name).await.gql()?;
        Ok(true)
    }

    /// Sends a test message to a channel now and reports what the receiver answered.
    async fn test_channel(&self, ctx: &Context<'_>, name: String) -> GqlResult<ChannelTestResult> {
        let state = state(ctx)?;
        let outcome = channels::test(&state.store, &name, state.clock.now()).await.gql()?;
        Ok(ChannelTestResult { ok: outcome.ok, status: outcome.status.map(i32::from), error: outcome.error })
    }

    /// Someone is on it: open -> acknowledged, with a note.
    async fn acknowledge_incident(&self, ctx: &Context<'_>, id: ID, note: Option<String>, author: Option<String>) -> GqlResult<IncidentObject> {
        let state = state(ctx)?;
        let change = incidents::acknowledge(&state.store, incident_id(&id)?, &author_of(ctx, author), note, state.clock.now()).await.gql()?;
        let _ = notices::publish(&state.notices, &state.store, &[], std::slice::from_ref(&change), None).await;
        Ok(IncidentObject(change.incident))
    }

    /// Resolves an incident by hand, with a note.
    async fn resolve_incident(&self, ctx: &Context<'_>, id: ID, note: Option<String>, author: Option<String>) -> GqlResult<IncidentObject> {
        let state = state(ctx)?;
        let change = incidents::resolve(&state.store, incident_id(&id)?, &author_of(ctx, author), note, state.clock.now()).await.gql()?;
        let _ = notices::publish(&state.notices, &state.store, &[], std::slice::from_ref(&change), None).await;
        Ok(IncidentObject(change.incident))
    }
}
