//! GraphQL output types. Each wraps a domain type and resolves its relations through the
//! request's DataLoaders; none exposes a database row.

mod alert;
mod dataset;
mod gate;
mod job;
mod lineage;
pub(super) mod plain_list;
mod quality;
mod run;

pub use dataset::DatasetObject;
pub use job::JobObject;
pub use lineage::{ColumnLineageEdgeObject, LineageDirection, LineageGraphObject, NodeKindGql, SearchResult};
pub use alert::{ChannelInput, ChannelObject, ChannelTestResult, IncidentObject, IncidentStatusGql};
pub use gate::{DatasetRefObject, GateDecisionObject, HealthObject, WaiverObject};
pub use quality::{CheckResultObject, OutcomeGql, RuleInput, RuleObject, RulesPlanObject};
pub use run::RunObject;

use async_graphql::Context;

use super::loaders::Loaders;
use crate::api::AppState;
use crate::api::error::{ApiError, GqlResult};

pub(crate) fn loaders<'a>(ctx: &'a Context<'_>) -> GqlResult<&'a Loaders> {
    ctx.data::<Loaders>().map_err(|_| ApiError::internal("graphql context", "loaders missing").into_graphql())
}

pub(crate) fn state<'a>(ctx: &'a Context<'_>) -> GqlResult<&'a AppState> {
    ctx.data::<AppState>().map_err(|_| ApiError::internal("graphql context", "state missing").into_graphql())
}
