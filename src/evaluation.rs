//! Evaluating rules outside event ingestion — the periodic freshness sweep and `evaluateRules`
//! — with everything that follows from the results: taint judged again, incidents opened or
//! resolved, alerts queued. All of it in one transaction, as ingestion does, so an alert exists
//! exactly when the result that caused it does.

use chrono::{DateTime, Utc};

use crate::alert::incidents::{IncidentChange, on_results};
use crate::gate;
use crate::model::DatasetId;
use crate::quality::Rule;
use crate::quality::engine;
use crate::quality::records::CheckResult;
use crate::quality::rule::Check;
use crate::store::{Store, StoreError};

/// What an evaluation stored and changed.
pub struct Evaluated {
    pub results: Vec<CheckResult>,
    pub incidents: Vec<IncidentChange>,
}

fn is_freshness(rule: &Rule) -> bool {
    matches!(rule.check, Check::Freshness { .. })
}

/// The datasets, of `(id, namespace, name)`, that a freshness rule among `rules` targets.
fn freshness_targets(rules: &[Rule], datasets: Vec<(DatasetId, String, String)>) -> Vec<DatasetId> {
    let freshness: Vec<&Rule> = rules.iter().filter(|r| is_freshness(r)).collect();
    datasets
        .into_iter()
        .filter(|(_, namespace, name)| freshness.iter().any(|r| r.target.matches(namespace, name)))
        .map(|(id, _, _)| id)
        .collect()
}

#[derive(Clone, Copy)]
pub enum Scope {
    /// Freshness rules only, storing only changes of outcome.
    FreshnessSweep,
    /// Every rule, every result stored.
    AllRules,
}

/// Evaluates `scope` on `datasets` (every dataset when `None`; for the sweep, every dataset a
/// freshness rule targets) now.
pub async fn evaluate(store: &Store, scope: Scope, datasets: Option<Vec<DatasetId>>, now: DateTime<Utc>) -> Result<Evaluated, StoreError> {
    let ids = match (datasets, scope) {
        (Some(ids), _) => ids,
        (None, Scope::AllRules) => store.dataset_identities().await?.into_iter().map(|d| d.0).collect(),
        (None, Scope::FreshnessSweep) => {
            let rules = gate::load_rules(&store.snapshot()).await?;
            if rules.iter().any(is_freshness) { freshness_targets(&rules, store.dataset_identities().await?) } else { Vec::new() }
        }
    };
    // The sweep runs every minute on every replica: with nothing to evaluate it must not
    // take the write turn (and read every dataset's name under it), which held up events and
    // gate decisions for tenths of a second at 100,000 datasets.
    if ids.is_empty() {
        return Ok(Evaluated { results: Vec::new(), incidents: Vec::new() });
    }
    let tx = store.begin_write().await?;
    let results = match scope {
        Scope::FreshnessSweep => engine::sweep_freshness(&tx, &ids, now).await?,
        Scope::AllRules => engine::evaluate_now(&tx, &ids, now).await?,
    };
    gate::hooks::after_evaluation(&tx, &results, now).await?;
    let incidents = on_results(&tx, &results, now).await?;
    tx.commit().await?;
    Ok(Evaluated { results, incidents })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::parse_rules_file;

    const RULES: &str = r#"
rules:
  - id: orders_have_rows
    kind: metric
    severity: block
    target: { namespace: wh, name: "*" }
    metric: row_count
    op: ">"
    value: 0
  - id: marts_fresh
    kind: freshness
    severity: warn
    target: { namespace: wh, name: "marts.*" }
    max_age: 6h
"#;

    fn datasets() -> Vec<(DatasetId, String, String)> {
        [(1, "wh", "staging.orders"), (2, "wh", "marts.orders"), (3, "other", "marts.orders"), (4, "wh", "marts.customers")]
            .into_iter()
            .map(|(id, namespace, name)| (DatasetId(id), namespace.to_string(), name.to_string()))
            .collect()
    }

    #[test]
    fn the_sweep_looks_only_at_datasets_a_freshness_rule_targets() -> Result<(), String> {
        let rules = parse_rules_file(RULES).map_err(|e| format!("{e:?}"))?;
        assert_eq!(freshness_targets(&rules, datasets()), [DatasetId(2), DatasetId(4)]);
        // Without a freshness rule, none: the metric rule targets every dataset.
        let others: Vec<Rule> = rules.into_iter().filter(|r| !is_freshness(r)).collect();
        assert_eq!(freshness_targets(&others, datasets()), []);
        Ok(())
    }
}
