//! `GET /api/v1/gate?namespace=NS&job=JOB[&input=NS:NAME...]`: the gate for `curl` and
//! orchestrators without a GraphQL client. Answers 200 with the decision (ALLOW or BLOCK) and
//! every reason; the decision is recorded.

use axum::Json;
use axum::extract::{RawQuery, State};

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::gate::decide::{GateRequest, decide_now};
use crate::gate::model::GateDecision;
use crate::model::DatasetRef;

pub async fn get_gate(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<GateDecision>, ApiError> {
    let query = query.unwrap_or_default();
    let mut namespace = None;
    let mut job = None;
    let mut inputs: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "namespace" => namespace = Some(value.into_owned()),
            "job" => job = Some(value.into_owned()),
            "input" => inputs.push(value.into_owned()),
            other => return Err(ApiError::BadRequest(format!("unknown query parameter `{other}`: expected namespace, job, input"))),
        }
    }
    let namespace = namespace.filter(|n| !n.is_empty()).ok_or_else(|| ApiError::BadRequest("query parameter `namespace` is required".into()))?;
    let job = job.filter(|j| !j.is_empty()).ok_or_else(|| ApiError::BadRequest("query parameter `job` is required".into()))?;
    let inputs = if inputs.is_empty() {
        None
    } else {
        let mut refs = Vec::with_capacity(inputs.len());
        for input in &inputs {
            refs.push(resolve_input(&state, input).await?);
        }
        Some(refs)
    };
    let request = GateRequest { namespace, job, inputs };
    let decision = decide_now(&state.store, &request, state.clock.now(), state.config.gate_unknown_inputs).await?;
    Ok(Json(decision))
}

/// `NS:NAME`, where the namespace may itself contain `:` (`postgres://db:5432:public.orders`):
/// the split naming a known dataset wins; otherwise the name is what follows the last `:`.
async fn resolve_input(state: &AppState, input: &str) -> Result<DatasetRef, ApiError> {
    let splits: Vec<(&str, &str)> = input
        .match_indices(':')
        .map(|(i, _)| (&input[..i], &input[i + 1..]))
        .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
        .collect();
    let Some(&(last_ns, last_name)) = splits.last() else {
        return Err(ApiError::BadRequest(format!("`input` `{input}` must be NAMESPACE:NAME")));
    };
    let snapshot = state.store.snapshot();
    for (namespace, name) in splits.iter().rev() {
        if snapshot.named_dataset_by_ref(namespace, name).await?.is_some() {
            return Ok(DatasetRef { namespace: namespace.to_string(), name: name.to_string() });
        }
    }
    Ok(DatasetRef { namespace: last_ns.to_string(), name: last_name.to_string() })
}
