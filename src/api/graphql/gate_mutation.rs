//! Waivers over GraphQL.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::quality_mutation::author_of;
use super::types::{WaiverObject, state};
use crate::api::error::{ApiError, GqlResult, IntoGql};
use crate::gate::waivers::{self, NewWaiver};


#[derive(Default)]
pub struct GateMutation;

// GraphQL arguments are resolver parameters.
#[allow(clippy::too_many_arguments)]
#[Object]
impl GateMutation {
    /// Lets a failing rule on a dataset pass until `expiresAt` (or, without `ruleId`, every
    /// rule of the dataset and its taint). The failure still shows, marked as waived.
    async fn waive(
        &self,
        ctx: &Context<'_>,
        namespace: String,
        name: String,
        rule_id: Option<String>,
        reason: String,
        expires_at: DateTime<Utc>,
        author: Option<String>,
    ) -> GqlResult<WaiverObject> {
        let state = state(ctx)?;
        let new = NewWaiver { namespace, name, rule_id, reason, author: author_of(ctx, author), expires_at };
        let waiver = waivers::waive(&state.store, new, state.clock.now()).await.gql()?;
        Ok(WaiverObject(waiver))
    }

    /// Ends a waiver now. It stays, revoked, for audit.
    async fn revoke_waiver(&self, ctx: &Context<'_>, id: ID, author: Option<String>) -> GqlResult<WaiverObject> {
        let state = state(ctx)?;
        let id: i64 = id.parse().map_err(|_| ApiError::BadRequest(format!("invalid waiver id `{}`", id.0)).into_graphql())?;
        let waiver = waivers::revoke(&state.store, id, &author_of(ctx, author), state.clock.now()).await.gql()?;
        Ok(WaiverObject(waiver))
    }
}
