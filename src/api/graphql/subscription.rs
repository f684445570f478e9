//! GraphQL subscriptions (graphql-ws and graphql-transport-ws over websocket at
//! `/graphql/ws`): incidents changing, check results recorded, gate violations. They carry
//! what this Weir process committed.

use async_graphql::{Context, Subscription};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;

use super::types::{CheckResultObject, GateDecisionObject, IncidentObject, OutcomeGql, state};
use crate::alert::notices::Notice;

#[derive(Default)]
pub struct Subscriptions;

fn matches(filter: &Option<String>, value: &str) -> bool {
    filter.as_deref().is_none_or(|f| f == value)
}

#[Subscription(name = "Subscription")]
impl Subscriptions {
    /// An incident opened, was acknowledged or resolved.
    async fn incident_changed(
        &self,
        ctx: &Context<'_>,
        namespace: Option<String>,
        dataset: Option<String>,
    ) -> Result<impl Stream<Item = IncidentObject>, async_graphql::Error> {
        let receiver = state(ctx)?.notices.subscribe();
        Ok(BroadcastStream::new(receiver).filter_map(move |notice| {
            let out = match notice {
                Ok(Notice::IncidentChanged { incident, dataset: d, .. }) if matches(&namespace, &d.namespace) && matches(&dataset, &d.name) => {
                    Some(IncidentObject(incident))
                }
                _ => None,
            };
            async move { out }
        }))
    }

    /// A check result was recorded.
    async fn check_result_recorded(
        &self,
        ctx: &Context<'_>,
        namespace: Option<String>,
        dataset: Option<String>,
        outcome: Option<OutcomeGql>,
    ) -> Result<impl Stream<Item = CheckResultObject>, async_graphql::Error> {
        let receiver = state(ctx)?.notices.subscribe();
        let outcome: Option<crate::quality::evaluate::Outcome> = outcome.map(Into::into);
        Ok(BroadcastStream::new(receiver).filter_map(move |notice| {
            let out = match notice {
                Ok(Notice::CheckResultRecorded { result, dataset: d })
                    if matches(&namespace, &d.namespace) && matches(&dataset, &d.name) && outcome.is_none_or(|o| o == result.outcome) =>
                {
                    Some(CheckResultObject(result))
                }
                _ => None,
            };
            async move { out }
        }))
    }

    /// A job ran although the gate blocked it.
    async fn gate_violation(&self, ctx: &Context<'_>, namespace: Option<String>, job: Option<String>) -> Result<impl Stream<Item = GateDecisionObject>, async_graphql::Error> {
        let receiver = state(ctx)?.notices.subscribe();
        Ok(BroadcastStream::new(receiver).filter_map(move |notice| {
            let out = match notice {
                Ok(Notice::GateViolation { decision, .. }) if matches(&namespace, &decision.namespace) && matches(&job, &decision.job) => {
                    Some(GateDecisionObject(decision))
                }
                _ => None,
            };
            async move { out }
        }))
    }
}
