//! What an alert says: the JSON body of a generic webhook (documented in docs/alerting.md), its
//! Slack rendering, and the signature receivers verify.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::model::{AlertEvent, Incident};
use crate::gate::model::{GateDecision, ReasonKind};
use crate::model::DatasetRef;
use crate::quality::records::CheckResult;

fn check_json(check: &CheckResult) -> Value {
    json!({
        "rule_id": check.rule_id,
        "rule_version": check.rule_version,
        "outcome": check.outcome.as_str(),
        "severity": check.severity.as_str(),
        "observed": check.observed,
        "expected": check.expected,
        "message": check.message,
        "run_id": check.run_id,
        "evaluated_at": check.evaluated_at,
    })
}

pub fn incident(event: AlertEvent, incident: &Incident, dataset: &DatasetRef, check: Option<&CheckResult>, note: Option<&str>, at: DateTime<Utc>) -> Value {
    json!({
        "event": event.as_str(),
        "occurred_at": at,
        "incident": {
            "id": incident.id,
            "status": incident.status.as_str(),
            "rule_id": incident.rule_id,
            "opened_at": incident.opened_at,
            "acknowledged_by": incident.acknowledged_by,
            "resolved_at": incident.resolved_at,
            "resolved_by": incident.resolved_by,
            "note": note,
        },
        "dataset": dataset,
        "check": check.map(check_json),
        "blast_radius": incident.blast_radius,
    })
}

pub fn warn_failed(dataset: &DatasetRef, check: &CheckResult, at: DateTime<Utc>) -> Value {
    json!({ "event": AlertEvent::WarnCheckFailed.as_str(), "occurred_at": at, "dataset": dataset, "check": check_json(check) })
}

pub fn violation(run_id: &str, decision: &GateDecision, tainted_outputs: &[DatasetRef], at: DateTime<Utc>) -> Value {
    let reasons: Vec<&crate::gate::model::GateReason> = decision.reasons.iter().filter(|r| r.kind == ReasonKind::Blocking).collect();
    json!({
        "event": AlertEvent::GateViolation.as_str(),
        "occurred_at": at,
        "run_id": run_id,
        "job": { "namespace": decision.namespace, "name": decision.job },
        "decision_id": decision.id,
        "blocking_reasons": reasons,
        "tainted_outputs": tainted_outputs,
    })
}

pub fn test_message(channel: &str, at: DateTime<Utc>) -> Value {
    json!({ "event": AlertEvent::Test.as_str(), "occurred_at": at, "message": format!("Test alert from Weir to channel `{channel}`") })
}

/// `sha256=<hex HMAC-SHA256 of body with secret>`, the `X-Weir-Signature` header.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The same alert in Slack's incoming-webhook format: a headline and a few facts.
pub fn slack(payload: &Value) -> Value {
    let event = payload["event"].as_str().unwrap_or("alert");
    let dataset = match (payload["dataset"]["namespace"].as_str(), payload["dataset"]["name"].as_str()) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        _ => String::new(),
    };
    let headline = match event {
        "incident.opened" => format!(":rotating_light: Incident opened on *{dataset}*: rule `{}` fails", payload["incident"]["rule_id"].as_str().unwrap_or("")),
        "incident.acknowledged" => format!(":eyes: Incident on *{dataset}* acknowledged by {}", payload["incident"]["acknowledged_by"].as_str().unwrap_or("someone")),
        "incident.resolved" => format!(":white_check_mark: Incident on *{dataset}* resolved (rule `{}`)", payload["incident"]["rule_id"].as_str().unwrap_or("")),
        "check.warn_failed" => format!(":warning: Warn-level check `{}` fails on *{dataset}*", payload["check"]["rule_id"].as_str().unwrap_or("")),
        "gate.violation" => format!(
            ":no_entry: Job *{}/{}* ran although the gate blocked it (run {})",
            payload["job"]["namespace"].as_str().unwrap_or(""),
            payload["job"]["name"].as_str().unwrap_or(""),
            payload["run_id"].as_str().unwrap_or("")
        ),
        _ => payload["message"].as_str().unwrap_or("Weir alert").to_string(),
    };
    let mut details = Vec::new();
    if let Some(check) = payload.get("check").filter(|c| c.is_object()) {
        details.push(format!("observed `{}`, expected `{}`: {}", check["observed"], check["expected"].as_str().unwrap_or(""), check["message"].as_str().unwrap_or("")));
    }
    if let Some(radius) = payload.get("blast_radius") {
        let datasets = radius["datasets"].as_array().map_or(0, Vec::len);
        let more = if radius["truncated"].as_bool() == Some(true) { " or more" } else { "" };
        let owners: Vec<&str> = radius["owners"].as_array().into_iter().flatten().filter_map(|o| o["name"].as_str()).collect();
        details.push(format!("{datasets}{more} downstream datasets; owners: {}", if owners.is_empty() { "none recorded".to_string() } else { owners.join(", ") }));
    }
    let text = std::iter::once(headline.clone()).chain(details.iter().cloned()).collect::<Vec<_>>().join("\n");
    json!({
        "text": text,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": headline } },
            { "type": "context", "elements": [{ "type": "mrkdwn", "text": if details.is_empty() { " ".to_string() } else { details.join("\n") } }] }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
