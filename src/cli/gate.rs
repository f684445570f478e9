//! `weir gate`: ask the server's gate, print the decision for a person (or as JSON), and
//! exit 0 (allow), 1 (block) or 2 (could not decide), so a shell or an orchestrator task can
//! simply run it before the work.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::GateArgs;
use crate::gate::model::{Decision, GateDecision, ReasonKind};

/// Why no decision could be had.
#[derive(Debug)]
enum Undecided {
    Unreachable(String),
    Refused(String),
}

pub async fn run(args: &GateArgs) -> ExitCode {
    let started = Instant::now();
    loop {
        let answer = ask(args).await;
        let deadline_passed = args.wait.is_none_or(|w| started.elapsed() + args.poll_interval > w);
        match answer {
            Ok(decision) if decision.decision == Decision::Allow || deadline_passed => return report(args, &decision),
            Ok(_) => eprintln!("weir gate: {} is blocked; asking again in {}", job(args), humantime::format_duration(args.poll_interval)),
            // Bad arguments will not get better by waiting.
            Err(Undecided::Refused(message)) => return fail(&message),
            Err(Undecided::Unreachable(message)) if deadline_passed => return fail(&message),
            Err(Undecided::Unreachable(message)) => eprintln!("weir gate: {message}; asking again"),
        }
        tokio::time::sleep(args.poll_interval).await;
    }
}

fn job(args: &GateArgs) -> String {
    format!("{}/{}", args.namespace, args.job)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("weir gate: could not decide: {message}");
    ExitCode::from(2)
}

async fn ask(args: &GateArgs) -> Result<GateDecision, Undecided> {
    let url = format!("{}/api/v1/gate", args.server.server.trim_end_matches('/'));
    let mut query: Vec<(&str, &str)> = vec![("namespace", &args.namespace), ("job", &args.job)];
    query.extend(args.inputs.iter().map(|i| ("input", i.as_str())));
    let mut request = reqwest::Client::new().get(&url).query(&query).timeout(Duration::from_secs(30));
    if let Some(token) = &args.server.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| Undecided::Unreachable(format!("cannot reach {}: {e}", args.server.server)))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| Undecided::Unreachable(e.to_string()))?;
    if status.is_client_error() {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or(body);
        return Err(Undecided::Refused(format!("HTTP {status}: {message}")));
    }
    if !status.is_success() {
        return Err(Undecided::Unreachable(format!("HTTP {status} from {url}")));
    }
    serde_json::from_str(&body).map_err(|e| Undecided::Unreachable(format!("not a gate decision: {e}")))
}

fn report(args: &GateArgs, decision: &GateDecision) -> ExitCode {
    if args.json {
        match serde_json::to_string_pretty(decision) {
            Ok(json) => println!("{json}"),
            Err(e) => return fail(&e.to_string()),
        }
    } else {
        print!("{}", describe(decision));
    }
    match decision.decision {
        Decision::Allow => ExitCode::SUCCESS,
        Decision::Block => ExitCode::from(1),
    }
}

/// The decision as a person reads it: the verdict, then every reason with its evidence.
pub fn describe(decision: &GateDecision) -> String {
    let mut out = format!(
        "{} {}/{} ({} input{} checked)\n",
        decision.decision.as_str(),
        decision.namespace,
        decision.job,
        decision.inputs.len(),
        if decision.inputs.len() == 1 { "" } else { "s" }
    );
    for reason in &decision.reasons {
        let label = match reason.kind {
            ReasonKind::Blocking => "blocking",
            ReasonKind::Warning => "warning",
            ReasonKind::Waived => "waived",
            ReasonKind::Note => "note",
        };
        out.push_str(&format!("  [{label}] {}\n", reason.message));
        if let (Some(rule), Some(expected)) = (&reason.rule_id, &reason.expected) {
            let observed = reason.observed.as_ref().map(|o| o.to_string()).unwrap_or_else(|| "nothing".into());
            let when = reason.evaluated_at.map(|t| format!(", evaluated {}", t.to_rfc3339())).unwrap_or_default();
            out.push_str(&format!("      rule {rule}: observed {observed}, expected {expected}{when}\n"));
        }
        if !reason.path.is_empty() {
            out.push_str(&format!("      path: {}\n", reason.path.join(" -> ")));
        }
    }
    out
}
