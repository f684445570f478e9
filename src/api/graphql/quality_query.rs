//! Queries over quality rules and the datasets that fail them.

use async_graphql::{Context, Object};

use super::types::{DatasetObject, RuleObject, state};
use crate::api::error::{GqlResult, IntoGql};

#[derive(Default)]
pub struct QualityQuery;

#[Object]
impl QualityQuery {
    /// Every rule, optionally of one kind, or only those whose target covers a dataset.
    async fn rules(
        &self,
        ctx: &Context<'_>,
        kind: Option<String>,
        #[graphql(desc = "Only rules that apply to this dataset namespace (with `name`).")] namespace: Option<String>,
        name: Option<String>,
    ) -> GqlResult<Vec<RuleObject>> {
        let records = state(ctx)?.store.rules().await.gql()?;
        let applies = |r: &crate::quality::records::RuleRecord| match (&namespace, &name) {
            (Some(ns), Some(n)) => crate::quality::Rule::from_definition(r.definition.clone())
                .map(|rule| rule.target.matches(ns, n))
                .unwrap_or(false),
            _ => true,
        };
        Ok(records
            .into_iter()
            .filter(|r| kind.as_deref().is_none_or(|k| r.definition.kind == k))
            .filter(applies)
            .map(RuleObject)
            .collect())
    }

    /// One rule with its history; null if there is none with this id.
    async fn rule(&self, ctx: &Context<'_>, id: String) -> GqlResult<Option<RuleObject>> {
        Ok(state(ctx)?.store.rule(&id).await.gql()?.map(RuleObject))
    }

    /// Datasets whose health is FAILING now (a block-level check's latest result is a failure
    /// that no waiver lets pass).
    async fn failing_datasets(&self, ctx: &Context<'_>) -> GqlResult<Vec<DatasetObject>> {
        let state = state(ctx)?;
        let datasets = crate::gate::assess::failing_datasets(&state.store, state.clock.now()).await.gql()?;
        Ok(datasets.into_iter().map(DatasetObject).collect())
    }
}
