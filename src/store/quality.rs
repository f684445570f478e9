//! Rules, rule history, check results and the evidence rules are evaluated on.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, ModelTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::{
    assertion_observation, check_result, dataset, dataset_version, latest_check, rule,
    rule_change, run,
};
use super::convert::version_schema;
use super::gating::{runs_with, writer_query};
use super::recorded_checks::Replaced;
use super::{Store, StoreError, WriteTx};
use crate::model::{DatasetId, Direction, Page, RunState};
use crate::quality::evaluate::{AssertionResult, Column, Evidence, EvidenceNeeds, Outcome};
use crate::quality::records::{CheckFilter, CheckResult, RuleAction, RuleChange, RuleRecord};
use crate::quality::{RuleDefinition, Severity};

fn definition_of(json: serde_json::Value) -> Result<RuleDefinition, StoreError> {
    serde_json::from_value(json).map_err(|e| StoreError::Corrupt(format!("stored rule definition: {e}")))
}

pub(super) fn rule_record(row: rule::Model) -> Result<RuleRecord, StoreError> {
    Ok(RuleRecord {
        definition: definition_of(row.definition)?,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(super) fn check_record(row: check_result::Model) -> CheckResult {
    CheckResult {
        id: row.id,
        rule_id: row.rule_id,
        rule_version: row.rule_version,
        dataset_id: DatasetId(row.dataset_id),
        outcome: Outcome::parse(&row.outcome),
        severity: Severity::parse(&row.severity).unwrap_or(Severity::Block),
        observed: row.observed,
        expected: row.expected,
        message: row.message,
        run_id: row.run_id,
        trigger: row.trigger,
        evaluated_at: row.evaluated_at,
        evidence_time: row.evidence_time.unwrap_or(row.evaluated_at),
    }
}

/// A schema as stored (`fields` of the schema facet) read as evidence columns.
fn columns_of(fields: &serde_json::Value) -> Vec<Column> {
    let mut facets = crate::openlineage::Facets::new();
    facets.insert("schema".into(), serde_json::json!({ "fields": fields }));
    crate::openlineage::facets::schema_fields(&facets)
        .unwrap_or_default()
        .into_iter()
        .map(|f| Column { name: f.name, data_type: f.data_type })
        .collect()
}

impl Store {
    pub async fn rules(&self) -> Result<Vec<RuleRecord>, StoreError> {
        let rows = rule::Entity::find().order_by_asc(rule::Column::Id).all(&self.db).await?;
        rows.into_iter().map(rule_record).collect()
    }

    pub async fn rule(&self, id: &str) -> Result<Option<RuleRecord>, StoreError> {
        rule::Entity::find_by_id(id.to_string()).one(&self.db).await?.map(rule_record).transpose()
    }

    pub async fn rule_history(&self, id: &str) -> Result<Vec<RuleChange>, StoreError> {
        let rows = rule_change::Entity::find()
            .filter(rule_change::Column::RuleId.eq(id))
            .order_by_asc(rule_change::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(RuleChange {
                    rule_id: r.rule_id,
                    version: r.version,
                    action: RuleAction::parse(&r.action),
                    definition: r.definition.map(definition_of).transpose()?,
                    author: r.author,
                    changed_at: r.changed_at,
                })
            })
            .collect()
    }

    /// The latest result of every rule on a dataset (for health).
    pub async fn latest_checks_of(&self, dataset: DatasetId) -> Result<Vec<CheckResult>, StoreError> {
        let latest = latest_check::Entity::find()
            .filter(latest_check::Column::DatasetId.eq(dataset.0))
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = latest.iter().map(|l| l.check_result_id).collect();
        self.check_results_by_ids(&ids).await
    }

    async fn check_results_by_ids(&self, ids: &[i64]) -> Result<Vec<CheckResult>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = check_result::Entity::find()
            .filter(check_result::Column::Id.is_in(ids.iter().copied()))
            .order_by_asc(check_result::Column::RuleId)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(check_record).collect())
    }

    /// Latest results that are block-level failures, across all datasets.
    pub async fn failing_checks(&self) -> Result<Vec<CheckResult>, StoreError> {
        let latest = latest_check::Entity::find()
            .filter(latest_check::Column::Outcome.eq(Outcome::Fail.as_str()))
            .filter(latest_check::Column::Severity.eq(Severity::Block.as_str()))
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = latest.iter().map(|l| l.check_result_id).collect();
        self.check_results_by_ids(&ids).await
    }

    /// A dataset's check history, newest first, `offset`-paginated.
    pub async fn check_results(
        &self,
        dataset: DatasetId,
        filter: &CheckFilter,
        offset: u64,
        first: u64,
    ) -> Result<Page<CheckResult>, StoreError> {
        let mut query = check_result::Entity::find()
            .filter(check_result::Column::DatasetId.eq(dataset.0))
            .order_by_desc(check_result::Column::EvaluatedAt)
            .order_by_desc(check_result::Column::Id);
        if let Some(rule_id) = &filter.rule_id {
            query = query.filter(check_result::Column::RuleId.eq(rule_id.as_str()));
        }
        if let Some(outcome) = filter.outcome {
            query = query.filter(check_result::Column::Outcome.eq(outcome.as_str()));
        }
        if let Some(since) = filter.since {
            query = query.filter(check_result::Column::EvaluatedAt.gte(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(check_result::Column::EvaluatedAt.lt(until));
        }
        let mut rows = query.offset(offset).limit(first + 1).all(&self.db).await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page { items: rows.into_iter().map(check_record).collect(), has_next })
    }

    /// Every dataset (id, namespace, name): the freshness sweep and on-demand evaluation walk
    /// them to find the ones a rule's target matches.
    pub async fn dataset_identities(&self) -> Result<Vec<(DatasetId, String, String)>, StoreError> {
        let rows: Vec<(i64, String, String)> = dataset::Entity::find()
            .select_only()
            .column(dataset::Column::Id)
            .column(dataset::Column::Namespace)
            .column(dataset::Column::Name)
            .order_by_asc(dataset::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|(id, ns, name)| (DatasetId(id), ns, name)).collect())
    }
}

impl WriteTx {
    /// The stored rules, read once per transaction (see `TxMemo`).
    pub async fn rules(&self) -> Result<Vec<RuleRecord>, StoreError> {
        if let Some(rules) = self.memo.lock().ok().and_then(|memo| memo.rules.clone()) {
            return Ok(rules);
        }
        let rows = rule::Entity::find().order_by_asc(rule::Column::Id).all(&self.tx).await?;
        let rules: Vec<RuleRecord> = rows.into_iter().map(rule_record).collect::<Result<_, _>>()?;
        if let Ok(mut memo) = self.memo.lock() {
            memo.rules = Some(rules.clone());
        }
        Ok(rules)
    }

    /// The ids of the rules ever deleted (some may exist again), read once per transaction:
    /// on SQLite, only those can have results on a dataset without a latest one (see
    /// `record_checks`).
    pub(super) async fn deleted_rules(&self) -> Result<rustc_hash::FxHashSet<String>, StoreError> {
        if let Some(deleted) = self.memo.lock().ok().and_then(|memo| memo.deleted_rules.clone()) {
            return Ok(deleted);
        }
        let ids: Vec<String> = rule_change::Entity::find()
            .select_only()
            .column(rule_change::Column::RuleId)
            .filter(rule_change::Column::Action.eq(RuleAction::Deleted.as_str()))
            .distinct()
            .into_tuple()
            .all(&self.tx)
            .await?;
        let deleted: rustc_hash::FxHashSet<String> = ids.into_iter().collect();
        if let Ok(mut memo) = self.memo.lock() {
            memo.deleted_rules = Some(deleted.clone());
        }
        Ok(deleted)
    }

    /// Creates or updates a rule. Returns the new version and what happened, or `None` when
    /// the stored definition is already identical (nothing changes, no version bump).
    pub async fn save_rule(
        &self,
        definition: &RuleDefinition,
        severity: Severity,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(i64, RuleAction)>, StoreError> {
        let json = serde_json::to_value(definition).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let existing = rule::Entity::find_by_id(definition.id.clone()).lock_exclusive().one(&self.tx).await?;
        let (version, action) = match existing {
            Some(row) if row.definition == json => return Ok(None),
            Some(row) => {
                let version = row.version + 1;
                let mut active: rule::ActiveModel = row.into();
                active.version = Set(version);
                active.kind = Set(definition.kind.clone());
                active.severity = Set(severity.as_str().to_string());
                active.definition = Set(json.clone());
                active.updated_at = Set(now);
                active.update(&self.tx).await?;
                (version, RuleAction::Updated)
            }
            None => {
                // A re-created rule continues its old version numbers, so results never
                // point at an ambiguous version.
                let last = rule_change::Entity::find()
                    .filter(rule_change::Column::RuleId.eq(definition.id.as_str()))
                    .order_by_desc(rule_change::Column::Version)
                    .one(&self.tx)
                    .await?
                    .map_or(0, |c| c.version);
                let version = last + 1;
                rule::ActiveModel {
                    id: Set(definition.id.clone()),
                    version: Set(version),
                    kind: Set(definition.kind.clone()),
                    severity: Set(severity.as_str().to_string()),
                    definition: Set(json.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(&self.tx)
                .await?;
                (version, RuleAction::Created)
            }
        };
        self.record_rule_change(&definition.id, version, action, Some(json), author, now).await?;
        Ok(Some((version, action)))
    }

    /// Deletes a rule (its results stay in history; it stops counting for health).
    pub async fn delete_rule(&self, id: &str, author: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let Some(row) = rule::Entity::find_by_id(id.to_string()).one(&self.tx).await? else {
            return Ok(false);
        };
        let version = row.version + 1;
        row.delete(&self.tx).await?;
        self.recorded.forget_rule(id);
        latest_check::Entity::delete_many()
            .filter(latest_check::Column::RuleId.eq(id))
            .exec(&self.tx)
            .await?;
        self.record_rule_change(id, version, RuleAction::Deleted, None, author, now).await?;
        Ok(true)
    }

    async fn record_rule_change(
        &self,
        id: &str,
        version: i64,
        action: RuleAction,
        definition: Option<serde_json::Value>,
        author: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Ok(mut memo) = self.memo.lock() {
            memo.rules = None;
            memo.deleted_rules = None;
        }
        rule_change::ActiveModel {
            rule_id: Set(id.to_string()),
            version: Set(version),
            action: Set(action.as_str().to_string()),
            definition: Set(definition),
            author: Set(author.to_string()),
            changed_at: Set(now),
            ..Default::default()
        }
        .insert(&self.tx)
        .await?;
        Ok(())
    }

    /// Whether a result is (still) the latest of its rule and dataset.
    pub async fn is_latest_check(&self, result: &CheckResult) -> Result<bool, StoreError> {
        if let Some(recorded) = self.recorded.get(&result.rule_id, result.dataset_id) {
            return Ok(recorded.check_id == result.id);
        }
        let found = latest_check::Entity::find()
            .filter(latest_check::Column::RuleId.eq(result.rule_id.as_str()))
            .filter(latest_check::Column::DatasetId.eq(result.dataset_id.0))
            .one(&self.tx)
            .await?;
        Ok(found.is_some_and(|l| l.check_result_id == result.id))
    }

    /// The latest stored outcome of a rule on a dataset.
    pub async fn latest_outcome(&self, rule_id: &str, dataset: DatasetId) -> Result<Option<Outcome>, StoreError> {
        let found = latest_check::Entity::find()
            .filter(latest_check::Column::RuleId.eq(rule_id))
            .filter(latest_check::Column::DatasetId.eq(dataset.0))
            .one(&self.tx)
            .await?;
        Ok(found.map(|l| Outcome::parse(&l.outcome)))
    }

    /// The outcome and severity of the result `result` supersedes: the latest earlier-stored
    /// result of the same rule on the same dataset whose evidence is no later than `result`'s
    /// (what health as of that time read before `result` existed).
    pub async fn superseded_verdict(&self, result: &CheckResult) -> Result<Option<(Outcome, Severity)>, StoreError> {
        if let Some(recorded) = self.recorded.get(&result.rule_id, result.dataset_id)
            && recorded.check_id == result.id
        {
            match recorded.replaced {
                Replaced::Verdict(verdict) => return Ok(Some(verdict)),
                Replaced::Nothing => return Ok(None),
                Replaced::Unknown => {}
            }
        }
        let found = check_result::Entity::find()
            .filter(check_result::Column::DatasetId.eq(result.dataset_id.0))
            .filter(check_result::Column::RuleId.eq(result.rule_id.as_str()))
            .filter(check_result::Column::EvidenceTime.lte(result.evidence_time))
            .filter(check_result::Column::Id.lt(result.id))
            .order_by_desc(check_result::Column::EvidenceTime)
            .order_by_desc(check_result::Column::Id)
            .one(&self.tx)
            .await?;
        Ok(found.map(check_record).map(|c| (c.outcome, c.severity)))
    }

    /// True when this transaction recorded `result` as the latest in place of a passing
    /// result, or as the first result of its rule on its dataset. No incident can then be open
    /// for its rule and dataset: the pass it replaced resolved any when it was recorded, and
    /// only a failure opens one.
    pub fn replaced_a_pass_or_nothing(&self, result: &CheckResult) -> bool {
        self.recorded.get(&result.rule_id, result.dataset_id).is_some_and(|recorded| {
            recorded.check_id == result.id
                && matches!(recorded.replaced, Replaced::Verdict((Outcome::Pass, _)) | Replaced::Nothing)
        })
    }

    /// What rules may look at for one dataset, as of `now` (inside this transaction, so the
    /// event being ingested is included); only what `needs` asks for is read.
    pub async fn evidence(
        &self,
        dataset: DatasetId,
        needs: &EvidenceNeeds,
        now: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Evidence, StoreError> {
        let mut evidence = Evidence { now, ..Default::default() };
        if !needs.metrics.is_empty() || needs.row_count_history > 0 {
            self.metric_evidence(dataset, needs, as_of, &mut evidence).await?;
        }
        // Rules evaluated as of a time that need both the last write and the last writer's
        // state (assertions and run status on one dataset) get them in one statement.
        let mut writer_state = None;
        if let Some(t) = as_of
            && needs.last_writer_state
            && (needs.last_written || needs.schema)
        {
            let (written, state) = self.writes_as_of(dataset, t).await?;
            evidence.last_written_at = written;
            writer_state = Some(state);
        }
        if needs.last_written || needs.schema {
            self.write_evidence(dataset, needs.schema, as_of, writer_state.is_some(), &mut evidence).await?;
        }
        if needs.assertions {
            evidence.assertions = self.assertion_evidence(dataset, as_of, evidence.last_written_at).await?;
        }
        if needs.last_writer_state {
            evidence.last_writer_state = match writer_state {
                Some(state) => state,
                None => self.last_writer_state(dataset, as_of).await?,
            };
        }
        Ok(evidence)
    }

    /// When the dataset was last written (unless `written_known`), and (if `schema`) its
    /// current and previous schema.
    async fn write_evidence(
        &self,
        dataset: DatasetId,
        schema: bool,
        as_of: Option<DateTime<Utc>>,
        written_known: bool,
        evidence: &mut Evidence,
    ) -> Result<(), StoreError> {
        match as_of {
            None => {
                // Only these columns: the whole row would decode the dataset's facets for nothing.
                type Pointers = (Option<DateTime<Utc>>, Option<i64>, Option<i64>);
                let found: Option<Pointers> = dataset::Entity::find_by_id(dataset.0)
                    .select_only()
                    .columns([dataset::Column::LastWrittenAt, dataset::Column::SchemaVersionId, dataset::Column::CurrentVersionId])
                    .into_tuple()
                    .one(&self.tx)
                    .await?;
                let Some((last_written_at, schema_version_id, current_version_id)) = found else {
                    return Ok(());
                };
                evidence.last_written_at = last_written_at;
                if !schema {
                    return Ok(());
                }
                if let Some(id) = schema_version_id {
                    let fields: Option<Option<Vec<u8>>> = dataset_version::Entity::find_by_id(id)
                        .select_only()
                        .column(dataset_version::Column::SchemaFieldsZstd)
                        .into_tuple()
                        .one(&self.tx)
                        .await?;
                    evidence.schema = version_schema(id, fields.flatten().as_deref())?.as_ref().map(columns_of);
                }
                if let Some(current) = current_version_id {
                    let previous = dataset_version::Entity::find()
                        .filter(dataset_version::Column::DatasetId.eq(dataset.0))
                        .filter(dataset_version::Column::Id.ne(current))
                        .filter(dataset_version::Column::SchemaFieldsZstd.is_not_null())
                        .order_by_desc(dataset_version::Column::CreatedAt)
                        .order_by_desc(dataset_version::Column::Id)
                        .one(&self.tx)
                        .await?;
                    let previous = previous.map(|v| version_schema(v.id, v.schema_fields_zstd.as_deref())).transpose()?.flatten();
                    evidence.previous_schema = previous.as_ref().map(columns_of);
                }
            }
            Some(t) => {
                // The dataset as it was at `t`: the versions and the write known by then.
                if !written_known {
                    evidence.last_written_at = self.snapshot().writer_as_of(dataset, Some(t)).await?.map(|w| w.ended_at);
                }
                if !schema {
                    return Ok(());
                }
                let versions = dataset_version::Entity::find()
                    .filter(dataset_version::Column::DatasetId.eq(dataset.0))
                    .filter(dataset_version::Column::SchemaFieldsZstd.is_not_null())
                    .filter(dataset_version::Column::CreatedAt.lte(t))
                    .order_by_desc(dataset_version::Column::CreatedAt)
                    .order_by_desc(dataset_version::Column::Id)
                    .limit(2)
                    .all(&self.tx)
                    .await?;
                let schemas: Vec<Option<serde_json::Value>> =
                    versions.into_iter().map(|v| version_schema(v.id, v.schema_fields_zstd.as_deref())).collect::<Result<_, _>>()?;
                let mut schemas = schemas.into_iter().flatten();
                evidence.schema = schemas.next().as_ref().map(columns_of);
                evidence.previous_schema = schemas.next().as_ref().map(columns_of);
            }
        }
        Ok(())
    }

    /// Each assertion's latest result, among those reported since the data was last
    /// written: a test of yesterday's data says nothing about today's rewrite, and one run
    /// reporting a single test must not hide another run's failing ones.
    async fn assertion_evidence(
        &self,
        dataset: DatasetId,
        as_of: Option<DateTime<Utc>>,
        written: Option<DateTime<Utc>>,
    ) -> Result<Vec<AssertionResult>, StoreError> {
        let mut query = assertion_observation::Entity::find()
            .filter(assertion_observation::Column::DatasetId.eq(dataset.0))
            .order_by_desc(assertion_observation::Column::ObservedAt)
            .order_by_desc(assertion_observation::Column::Id)
            .limit(5000);
        if let Some(t) = as_of {
            query = query.filter(assertion_observation::Column::ObservedAt.lte(t));
        }
        if let Some(written) = written {
            query = query.filter(assertion_observation::Column::ObservedAt.gte(written));
        }
        let mut seen = std::collections::HashSet::new();
        let mut assertions: Vec<AssertionResult> = query
            .all(&self.tx)
            .await?
            .into_iter()
            .filter(|a| seen.insert((a.assertion.clone(), a.column_name.clone())))
            .map(|a| AssertionResult {
                assertion: a.assertion,
                column: if a.column_name.is_empty() { None } else { Some(a.column_name) },
                success: a.success,
                severity: a.severity,
            })
            .collect();
        assertions.sort_by(|a, b| (&a.assertion, &a.column).cmp(&(&b.assertion, &b.column)));
        Ok(assertions)
    }

    /// State of the most recent run (by first event time, as of `as_of`) that wrote the dataset.
    async fn last_writer_state(&self, dataset: DatasetId, as_of: Option<DateTime<Utc>>) -> Result<Option<RunState>, StoreError> {
        let state: Option<String> = last_writer_query(dataset, as_of).into_tuple().one(&self.tx).await?;
        Ok(state.map(|s| RunState::parse(&s)))
    }

    /// As of `t`: when the dataset was last written (what [`Snapshot::writer_as_of`] finds)
    /// and [`WriteTx::last_writer_state`], in one statement of two scalar subqueries.
    async fn writes_as_of(&self, dataset: DatasetId, t: DateTime<Utc>) -> Result<(Option<DateTime<Utc>>, Option<RunState>), StoreError> {
        use sea_orm::sea_query::{Alias, Expr, Query};
        use sea_orm::{ConnectionTrait, FromQueryResult, QueryTrait};
        #[derive(FromQueryResult)]
        struct Writes {
            last_written_at: Option<DateTime<Utc>>,
            last_state: Option<String>,
        }
        let ended = writer_query(dataset, Some(t)).select_only().column(run::Column::EndedAt).limit(1).into_query();
        let state = last_writer_query(dataset, Some(t)).limit(1).into_query();
        let select = Query::select()
            .expr_as(Expr::SubQuery(None, Box::new(ended.into())), Alias::new("last_written_at"))
            .expr_as(Expr::SubQuery(None, Box::new(state.into())), Alias::new("last_state"))
            .to_owned();
        let statement = self.tx.get_database_backend().build(&select);
        let found = Writes::find_by_statement(statement).one(&self.tx).await?;
        Ok(match found {
            Some(w) => (w.last_written_at, w.last_state.map(|s| RunState::parse(&s))),
            None => (None, None),
        })
    }
}

/// The state of the runs that wrote `dataset`, most recent (by first event time) first.
fn last_writer_query(dataset: DatasetId, as_of: Option<DateTime<Utc>>) -> sea_orm::Select<run::Entity> {
    let query = run::Entity::find()
        .select_only()
        .column(run::Column::State)
        .filter(run::Column::Id.in_subquery(runs_with(dataset, Direction::Output)))
        .order_by_desc(run::Column::FirstEventTime)
        .order_by_desc(run::Column::Id);
    match as_of {
        Some(t) => query.filter(run::Column::FirstEventTime.lte(t)),
        None => query,
    }
}
