//! Mutations over quality rules: one rule at a time, a whole rules file, and evaluation now.

use async_graphql::{Context, Object};

use super::types::{CheckResultObject, RuleInput, RuleObject, RulesPlanObject, state};
use crate::api::auth::Access;
use crate::api::error::{ApiError, GqlResult, IntoGql};
use crate::quality::manage;
use crate::evaluation::{self, Scope};
use crate::quality::parse_rules_file;

/// Who made a change: the token's name when the request carried one (so the history cannot
/// be forged with the `author` argument), else the argument, else `anonymous`.
/// Who made a change: the token's name when authenticated, else the `author` argument.
pub(super) fn author_of(ctx: &Context<'_>, author: Option<String>) -> String {
    if let Some(name) = ctx.data_opt::<Access>().and_then(Access::principal_name) {
        return name.to_string();
    }
    author.filter(|a| !a.trim().is_empty()).unwrap_or_else(|| "anonymous".to_string())
}

#[derive(Default)]
pub struct QualityMutation;

#[Object]
impl QualityMutation {
    /// Creates a rule; fails with CONFLICT if the id is taken.
    async fn create_rule(&self, ctx: &Context<'_>, rule: RuleInput, author: Option<String>) -> GqlResult<RuleObject> {
        let state = state(ctx)?;
        let record = manage::create_rule(&state.store, rule.into(), &author_of(ctx, author), state.clock.now()).await.gql()?;
        Ok(RuleObject(record))
    }

    /// Replaces the definition of the rule with `rule.id`; its version goes up by one (unless
    /// nothing changed).
    async fn update_rule(&self, ctx: &Context<'_>, rule: RuleInput, author: Option<String>) -> GqlResult<RuleObject> {
        let state = state(ctx)?;
        let definition: crate::quality::RuleDefinition = rule.into();
        let id = definition.id.clone();
        let record = manage::update_rule(&state.store, &id, definition, &author_of(ctx, author), state.clock.now()).await.gql()?;
        Ok(RuleObject(record))
    }

    /// Deletes a rule. Its past results stay in the history.
    async fn delete_rule(&self, ctx: &Context<'_>, id: String, author: Option<String>) -> GqlResult<bool> {
        let state = state(ctx)?;
        manage::delete_rule(&state.store, &id, &author_of(ctx, author), state.clock.now()).await.gql()?;
        Ok(true)
    }

    /// Makes the stored rules exactly those of a rules file (YAML): creates, updates and
    /// deletes, all or nothing. With `dryRun`, only says what it would do.
    async fn apply_rules(
        &self,
        ctx: &Context<'_>,
        yaml: String,
        #[graphql(default = false)] dry_run: bool,
        author: Option<String>,
        #[graphql(default = false)] allow_empty: bool,
    ) -> GqlResult<RulesPlanObject> {
        let state = state(ctx)?;
        let rules = parse_rules_file(&yaml).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            ApiError::BadRequest(format!("invalid rules file: {}", lines.join("; "))).into_graphql()
        })?;
        let author = author_of(ctx, author);
        let plan = manage::apply_rules(&state.store, rules, dry_run, allow_empty, &author, state.clock.now()).await.gql()?;
        Ok(plan.into())
    }

    /// Evaluates every rule now (freshness included): on one dataset, or on all of them.
    async fn evaluate_rules(&self, ctx: &Context<'_>, namespace: Option<String>, name: Option<String>) -> GqlResult<Vec<CheckResultObject>> {
        let state = state(ctx)?;
        let datasets = match (namespace, name) {
            (Some(ns), Some(n)) => {
                let found = state.store.dataset_by_ref(&ns, &n).await.gql()?;
                let dataset = found.ok_or_else(|| ApiError::NotFound(format!("no dataset {ns}/{n}")).into_graphql())?;
                Some(vec![dataset.id])
            }
            (None, None) => None,
            _ => return Err(ApiError::BadRequest("give both `namespace` and `name`, or neither".into()).into_graphql()),
        };
        let now = state.clock.now();
        let evaluated = evaluation::evaluate(&state.store, Scope::AllRules, datasets, now).await.gql()?;
        crate::alert::notices::publish(&state.notices, &state.store, &evaluated.results, &evaluated.incidents, None).await.gql()?;
        Ok(evaluated.results.into_iter().map(CheckResultObject).collect())
    }
}
