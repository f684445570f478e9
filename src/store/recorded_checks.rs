//! Recording check results: the history row, the latest result of each (rule, dataset), and
//! what recording taught the write transaction.
//!
//! An event's results are recorded together, in three statements whatever their number: the
//! latest rows of their datasets are read (and locked), the results inserted, the latest rows
//! written. Right after an event's rules are evaluated, the gate asks of every new result whether it
//! replaced a failure, and incidents ask whether it is the latest and whether an incident can
//! be open. `record_checks` has just read and written exactly that row, so answering from here
//! saves two or three statements per result, several results per event. Entries are only ever
//! written by this transaction's own `record_checks`; anything else that changes latest results
//! in the transaction forgets the rule's entries, and the database answers instead.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::entities::{check_result, latest_check};
use super::quality::check_record;
use super::write::{ROWS_PER_INSERT, last_of_each};
use super::{StoreError, WriteTx};
use crate::model::DatasetId;
use crate::quality::evaluate::Outcome;
use crate::quality::records::{CheckResult, Trigger};
use crate::quality::{CheckOutcomeRecord, Severity};

impl WriteTx {
    /// Stores results in the history and makes each the latest for its (rule, dataset) unless
    /// the latest already rests on newer evidence (a late event goes into history only).
    /// Returns the stored results in the order given.
    pub async fn record_checks(&self, records: &[CheckOutcomeRecord<'_>], trigger: Trigger) -> Result<Vec<CheckResult>, StoreError> {
        let mut stored = Vec::with_capacity(records.len());
        for chunk in records.chunks(ROWS_PER_INSERT) {
            stored.extend(self.record_chunk(chunk, trigger).await?);
        }
        Ok(stored)
    }

    async fn record_chunk(&self, records: &[CheckOutcomeRecord<'_>], trigger: Trigger) -> Result<Vec<CheckResult>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut datasets: Vec<i64> = records.iter().map(|r| r.dataset_id.0).collect();
        datasets.sort_unstable();
        datasets.dedup();
        // Locked first, as the single-result path did: concurrent writers of the same latest
        // rows (PostgreSQL) take turns instead of overwriting each other.
        let mut latest: HashMap<(String, i64), latest_check::Model> = latest_check::Entity::find()
            .filter(latest_check::Column::DatasetId.is_in(datasets))
            .lock_exclusive()
            .all(&self.tx)
            .await?
            .into_iter()
            .map(|l| ((l.rule_id.clone(), l.dataset_id), l))
            .collect();

        let rows = records.iter().map(|record| check_result::ActiveModel {
            rule_id: Set(record.rule_id.to_string()),
            rule_version: Set(record.rule_version),
            dataset_id: Set(record.dataset_id.0),
            outcome: Set(record.outcome.outcome.as_str().to_string()),
            severity: Set(record.outcome.severity.as_str().to_string()),
            observed: Set(record.outcome.observed.clone()),
            expected: Set(record.outcome.expected.clone()),
            message: Set(record.outcome.message.clone()),
            run_id: Set(record.run_id.map(str::to_string)),
            trigger: Set(trigger.as_str().to_string()),
            evaluated_at: Set(record.at),
            evidence_time: Set(Some(record.evidence_time)),
            ..Default::default()
        });
        let mut inserted = check_result::Entity::insert_many(rows).exec_with_returning(&self.tx).await?;
        // Only where write transactions run one at a time (SQLite, `BEGIN IMMEDIATE`) does a
        // missing latest row mean the rule has no result on the dataset: on PostgreSQL another
        // writer may have inserted one after the read above (a row that did not exist could
        // not be locked), and the rules deleted since this transaction read them are unknown.
        let serialised = self.tx.get_database_backend() == sea_orm::DbBackend::Sqlite;
        let first_results = inserted.iter().any(|row| !latest.contains_key(&(row.rule_id.clone(), row.dataset_id)));
        let deleted = if first_results && serialised { self.deleted_rules().await? } else { Default::default() };
        // Ids are handed out in the order of the VALUES list on both backends; RETURNING's own
        // order is not promised.
        inserted.sort_by_key(|row| row.id);

        let mut newest = Vec::with_capacity(inserted.len());
        for row in &inserted {
            let key = (row.rule_id.clone(), row.dataset_id);
            let evidence = row.evidence_time;
            let replaced = match latest.get(&key) {
                // A result judged on older evidence (a late event) goes into history, but the
                // latest stays the one with the newest evidence: remembered as the latest, so
                // "is this result the latest?" is answered here too (it is not).
                Some(found) if found.evidence_time.is_some_and(|t| evidence.is_some_and(|e| t > e)) => {
                    // Unless that latest was recorded here: its entry knows what it replaced.
                    let dataset = DatasetId(row.dataset_id);
                    if self.recorded.get(&row.rule_id, dataset).is_none_or(|r| r.check_id != found.check_result_id) {
                        let kept = Recorded { check_id: found.check_result_id, replaced: Replaced::Unknown };
                        self.recorded.remember(&row.rule_id, dataset, kept);
                    }
                    continue;
                }
                // The latest had the newest evidence (ties go to the later result), so when its
                // evidence has a time it is also the result this one supersedes.
                Some(found) => match found.evidence_time {
                    Some(_) => Replaced::Verdict(verdict(&found.outcome, &found.severity)),
                    None => Replaced::Unknown,
                },
                // Every result recorded makes or keeps a latest row, and only deleting its rule
                // removes those: without one, the rule has no history on the dataset unless it
                // was deleted and made again (or, on PostgreSQL, a concurrent writer recorded
                // one), when what this result supersedes is left for the database to say.
                None if !serialised || deleted.contains(&row.rule_id) => Replaced::Unknown,
                None => Replaced::Nothing,
            };
            self.recorded.remember(&row.rule_id, DatasetId(row.dataset_id), Recorded { check_id: row.id, replaced });
            let model = latest_check::Model {
                id: latest.get(&key).map(|l| l.id).unwrap_or_default(),
                rule_id: row.rule_id.clone(),
                dataset_id: row.dataset_id,
                check_result_id: row.id,
                outcome: row.outcome.clone(),
                severity: row.severity.clone(),
                evaluated_at: row.evaluated_at,
                evidence_time: evidence,
            };
            latest.insert(key, model.clone());
            newest.push(model);
        }
        self.upsert_latest(&newest).await?;
        Ok(inserted.into_iter().map(check_record).collect())
    }

    /// Writes the new latest rows: one statement, inserting the first result of a (rule,
    /// dataset) and replacing the rest. The evidence-time condition keeps a newer latest that a
    /// concurrent writer inserted meanwhile (a row that did not exist could not be locked).
    async fn upsert_latest(&self, newest: &[latest_check::Model]) -> Result<(), StoreError> {
        let unique = last_of_each(newest, |l| (l.rule_id.clone(), l.dataset_id));
        if unique.is_empty() {
            return Ok(());
        }
        let rows = unique.iter().map(|l| latest_check::ActiveModel {
            rule_id: Set(l.rule_id.clone()),
            dataset_id: Set(l.dataset_id),
            check_result_id: Set(l.check_result_id),
            outcome: Set(l.outcome.clone()),
            severity: Set(l.severity.clone()),
            evaluated_at: Set(l.evaluated_at),
            evidence_time: Set(l.evidence_time),
            ..Default::default()
        });
        use latest_check::Column as C;
        let excluded = |column: C| Expr::col((Alias::new("excluded"), column));
        let current = |column: C| Expr::col((latest_check::Entity, column));
        latest_check::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([C::RuleId, C::DatasetId])
                    .update_columns([C::CheckResultId, C::Outcome, C::Severity, C::EvaluatedAt, C::EvidenceTime])
                    .action_and_where(
                        current(C::EvidenceTime).is_null().or(current(C::EvidenceTime).lte(excluded(C::EvidenceTime))),
                    )
                    .to_owned(),
            )
            .exec_without_returning(&self.tx)
            .await?;
        Ok(())
    }
}

fn verdict(outcome: &str, severity: &str) -> (Outcome, Severity) {
    (Outcome::parse(outcome), Severity::parse(severity).unwrap_or(Severity::Block))
}

/// The latest result of one (rule, dataset), as recorded in this transaction.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recorded {
    pub check_id: i64,
    pub replaced: Replaced,
}

/// What a result recorded as the latest replaced, as far as recording it tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replaced {
    /// The previous latest, also the result this one supersedes (its evidence had a time).
    Verdict((Outcome, Severity)),
    /// Nothing: the first result of its rule on its dataset.
    Nothing,
    /// Not known here; the database says.
    Unknown,
}

#[derive(Debug, Default)]
pub(super) struct RecordedChecks(Mutex<HashMap<(String, DatasetId), Recorded>>);

impl RecordedChecks {
    pub fn remember(&self, rule_id: &str, dataset: DatasetId, recorded: Recorded) {
        self.map().insert((rule_id.to_string(), dataset), recorded);
    }

    pub fn get(&self, rule_id: &str, dataset: DatasetId) -> Option<Recorded> {
        self.map().get(&(rule_id.to_string(), dataset)).copied()
    }

    pub fn forget_rule(&self, rule_id: &str) {
        self.map().retain(|(rule, _), _| rule != rule_id);
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(String, DatasetId), Recorded>> {
        // Never held across an await, and every write leaves the map consistent: a panic
        // elsewhere cannot have left it half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::quality::evaluate::CheckOutcome;
    use crate::quality::{RuleDefinition, definition::TargetDefinition};
    use crate::store::Store;
    use crate::store::test_postgres::{PostgresDb, wait_for_a_lock_wait};

    fn at(hour: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(hour * 3600, 0).unwrap_or_default()
    }

    /// Records one result of rule `r` on `dataset` in a transaction of its own, and returns
    /// what that transaction says it supersedes and whether it replaced a pass or nothing (so
    /// that no incident can be open).
    async fn record(store: &Store, dataset: DatasetId, outcome: Outcome, hour: i64) -> (Option<(Outcome, Severity)>, bool) {
        let tx = store.begin_write().await.expect("begin");
        let answer = record_in(&tx, "r", dataset, outcome, hour).await;
        tx.commit().await.expect("commit");
        answer
    }

    async fn record_in(tx: &WriteTx, rule: &str, dataset: DatasetId, outcome: Outcome, hour: i64) -> (Option<(Outcome, Severity)>, bool) {
        let checked = CheckOutcome { outcome, severity: Severity::Block, observed: None, expected: String::new(), message: String::new() };
        let record =
            CheckOutcomeRecord { rule_id: rule, rule_version: 1, dataset_id: dataset, outcome: &checked, run_id: None, at: at(hour), evidence_time: at(hour) };
        let stored = tx.record_checks(&[record], Trigger::Event).await.expect("record");
        let superseded = tx.superseded_verdict(&stored[0]).await.expect("superseded");
        (superseded, tx.replaced_a_pass_or_nothing(&stored[0]))
    }

    async fn change_rule(store: &Store, delete: bool) {
        let tx = store.begin_write().await.expect("begin");
        change_rule_in(&tx, "r", delete).await;
        tx.commit().await.expect("commit");
    }

    async fn change_rule_in(tx: &WriteTx, rule: &str, delete: bool) {
        let definition = RuleDefinition {
            id: rule.into(),
            kind: "assertions".into(),
            target: TargetDefinition { namespace: "wh".into(), name: "*".into() },
            ..Default::default()
        };
        if delete {
            assert!(tx.delete_rule(rule, "test", at(0)).await.expect("delete"));
        } else {
            tx.save_rule(&definition, Severity::Block, "test", at(0)).await.expect("save");
        }
    }

    /// A rule's first result on a dataset supersedes nothing, known without asking the
    /// database; but a rule deleted and made again has history without a latest result, and
    /// its first new result supersedes the last before the deletion.
    #[tokio::test]
    async fn a_first_result_supersedes_nothing_unless_its_rule_was_deleted_before() {
        let store = Store::connect("sqlite::memory:").await.expect("connect");
        store.migrate().await.expect("migrations");
        change_rule(&store, false).await;
        let (a, b) = {
            let tx = store.begin_write().await.expect("begin");
            let a = tx.upsert_dataset("wh", "a", at(0)).await.expect("a").id;
            let b = tx.upsert_dataset("wh", "b", at(0)).await.expect("b").id;
            tx.commit().await.expect("commit");
            (a, b)
        };

        assert_eq!(record(&store, a, Outcome::Pass, 1).await, (None, true), "first result");
        assert_eq!(record(&store, a, Outcome::Fail, 2).await, (Some((Outcome::Pass, Severity::Block)), true));
        assert_eq!(record(&store, a, Outcome::Pass, 3).await, (Some((Outcome::Fail, Severity::Block)), false));
        assert_eq!(record(&store, b, Outcome::Fail, 1).await, (None, true), "a first failure");

        change_rule(&store, true).await;
        change_rule(&store, false).await;
        assert_eq!(record(&store, b, Outcome::Pass, 2).await, (Some((Outcome::Fail, Severity::Block)), false), "after re-creation");

        // The same within one transaction, which had read the deleted rules before, for a
        // rule never deleted until then.
        let tx = store.begin_write().await.expect("begin");
        change_rule_in(&tx, "s", false).await;
        let c = tx.upsert_dataset("wh", "c", at(0)).await.expect("c").id;
        assert_eq!(record_in(&tx, "s", c, Outcome::Fail, 1).await, (None, true), "first result on c");
        tx.commit().await.expect("commit");
        let tx = store.begin_write().await.expect("begin");
        let d = tx.upsert_dataset("wh", "d", at(0)).await.expect("d").id;
        assert_eq!(record_in(&tx, "s", d, Outcome::Pass, 1).await, (None, true), "first result on d: the deleted rules are read");
        change_rule_in(&tx, "s", true).await;
        change_rule_in(&tx, "s", false).await;
        assert_eq!(record_in(&tx, "s", c, Outcome::Pass, 2).await, (Some((Outcome::Fail, Severity::Block)), false), "deleted in this transaction");
        tx.commit().await.expect("commit");
    }

    /// On PostgreSQL writers run in parallel, and a latest row another writer is inserting
    /// cannot be locked: a result recorded meanwhile is not taken for the first, and knows
    /// the failure it replaced once that writer commits.
    #[tokio::test]
    async fn on_postgres_a_result_raced_by_the_first_knows_what_it_replaced() {
        let Some((store, _db)) = PostgresDb::migrated_store().await else { return };
        change_rule(&store, false).await;
        let a = {
            let tx = store.begin_write().await.expect("begin");
            let a = tx.upsert_dataset("wh", "a", at(0)).await.expect("a").id;
            tx.commit().await.expect("commit");
            a
        };
        let first = store.begin_write().await.expect("begin");
        assert_eq!(record_in(&first, "r", a, Outcome::Fail, 1).await, (None, false), "not claimed as the first");
        let racing = store.clone();
        let second = tokio::spawn(async move {
            let tx = racing.begin_write().await.expect("begin");
            let answer = record_in(&tx, "r", a, Outcome::Pass, 2).await;
            tx.commit().await.expect("commit");
            answer
        });
        // The second writer read no latest row and now waits for the first one's.
        assert!(wait_for_a_lock_wait(&store).await, "the second writer never waited for the first");
        first.commit().await.expect("commit");
        assert_eq!(second.await.expect("second writer"), (Some((Outcome::Fail, Severity::Block)), false));
    }
}
