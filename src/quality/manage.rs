//! Changing rules: one at a time (GraphQL) or a whole rules file at once (checks as code).
//! Every change bumps the rule's version and is recorded with its author.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::definition::RuleDefinition;
use super::records::RuleRecord;
use super::rule::{Rule, RuleError};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("rule `{id}`: {source}")]
    Invalid { id: String, source: RuleError },
    #[error("no rule with id `{0}`")]
    NotFound(String),
    #[error("a rule with id `{0}` already exists; use updateRule")]
    AlreadyExists(String),
    /// An empty rules file is more often a broken template or a wrong path than a wish to
    /// delete every rule.
    #[error(
        "the rules file defines no rules, and applying it would delete every rule ({0}); \
         pass allowEmpty: true (weir rules apply --allow-empty) to delete them"
    )]
    WouldDeleteAll(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn validate(definition: RuleDefinition) -> Result<Rule, ManageError> {
    let id = definition.id.clone();
    Rule::from_definition(definition).map_err(|source| ManageError::Invalid { id, source })
}

async fn saved(store: &Store, id: &str) -> Result<RuleRecord, ManageError> {
    store.rule(id).await?.ok_or_else(|| ManageError::NotFound(id.to_string()))
}

pub async fn create_rule(store: &Store, definition: RuleDefinition, author: &str, now: DateTime<Utc>) -> Result<RuleRecord, ManageError> {
    let rule = validate(definition)?;
    let tx = store.begin_write().await?;
    if tx.rules().await?.iter().any(|r| r.definition.id == rule.id) {
        return Err(ManageError::AlreadyExists(rule.id));
    }
    tx.save_rule(&rule.definition, rule.severity, author, now).await?;
    tx.commit().await?;
    saved(store, &rule.id).await
}

pub async fn update_rule(store: &Store, id: &str, mut definition: RuleDefinition, author: &str, now: DateTime<Utc>) -> Result<RuleRecord, ManageError> {
    definition.id = id.to_string();
    let rule = validate(definition)?;
    let tx = store.begin_write().await?;
    if !tx.rules().await?.iter().any(|r| r.definition.id == id) {
        return Err(ManageError::NotFound(id.to_string()));
    }
    tx.save_rule(&rule.definition, rule.severity, author, now).await?;
    tx.commit().await?;
    saved(store, id).await
}

pub async fn delete_rule(store: &Store, id: &str, author: &str, now: DateTime<Utc>) -> Result<(), ManageError> {
    let tx = store.begin_write().await?;
    if !tx.delete_rule(id, author, now).await? {
        return Err(ManageError::NotFound(id.to_string()));
    }
    tx.commit().await?;
    Ok(())
}

/// What applying a rules file changes (or would change, for a dry run).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RulesPlan {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub deleted: Vec<String>,
    pub unchanged: Vec<String>,
    pub applied: bool,
}

/// Makes the stored rules exactly `rules`: creates, updates, and deletes the ones missing
/// from the file, in one transaction. Applying the same file twice changes nothing the second
/// time; a dry run computes the same plan and rolls back. A file without rules that would
/// delete some is refused unless `allow_empty` (a dry run shows the plan all the same).
pub async fn apply_rules(
    store: &Store,
    rules: Vec<Rule>,
    dry_run: bool,
    allow_empty: bool,
    author: &str,
    now: DateTime<Utc>,
) -> Result<RulesPlan, ManageError> {
    let file_is_empty = rules.is_empty();
    let tx = store.begin_write().await?;
    let mut existing: BTreeMap<String, RuleRecord> =
        tx.rules().await?.into_iter().map(|r| (r.definition.id.clone(), r)).collect();
    if file_is_empty && !existing.is_empty() && !allow_empty && !dry_run {
        tx.rollback().await?;
        return Err(ManageError::WouldDeleteAll(existing.len()));
    }
    let mut plan = RulesPlan::default();
    for rule in rules {
        let was_there = existing.remove(&rule.id).is_some();
        match tx.save_rule(&rule.definition, rule.severity, author, now).await? {
            None => plan.unchanged.push(rule.id),
            Some(_) if was_there => plan.updated.push(rule.id),
            Some(_) => plan.created.push(rule.id),
        }
    }
    for id in existing.into_keys() {
        tx.delete_rule(&id, author, now).await?;
        plan.deleted.push(id);
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
        plan.applied = true;
    }
    Ok(plan)
}
