//! Gating end to end: taint that follows runs (in order and out of order), decisions with
//! every reason, waivers, gate violations, the HTTP endpoint and the `weir gate` binary.

mod common;

use chrono::Duration;
use common::events::{dataset, run_event, run_id};
use serde_json::{Value, json};

/// One block rule: every dataset in `wh` must have at least 100 rows.
const RULES: &str = r#"
rules:
  - id: has_rows
    kind: metric
    target: { namespace: wh, name: "*" }
    metric: row_count
    op: ">="
    value: 100
"#;

async fn setup(app: &common::TestApp) {
    app.query("mutation($y: String!) { applyRules(yaml: $y) { applied } }", json!({"y": RULES})).await;
}

/// A dataset reference carrying a row count (quality evidence).
fn with_rows(name: &str, rows: f64) -> Value {
    let mut d = dataset("wh", name);
    d["facets"]["dataQualityMetrics"] = json!({"_producer": "x", "_schemaURL": "y", "rowCount": rows});
    d
}

/// A DatasetEvent reporting `name`'s row count at `time`: evidence without a run.
fn evidence(name: &str, rows: f64, time: &str) -> Value {
    json!({"eventTime": time, "dataset": with_rows(name, rows), "producer": "x", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent"})
}

/// START then COMPLETE of one run of `job` reading `inputs` and writing `outputs`.
async fn run(app: &common::TestApp, job: &str, inputs: &[&str], outputs: &[&str], start: &str, end: &str) -> String {
    let id = run_id();
    let ins: Vec<Value> = inputs.iter().map(|n| dataset("wh", n)).collect();
    let outs: Vec<Value> = outputs.iter().map(|n| dataset("wh", n)).collect();
    app.ingest(&run_event("START", start, &id, ("etl", job), ins.clone(), vec![])).await;
    app.ingest(&run_event("COMPLETE", end, &id, ("etl", job), ins, outs)).await;
    id
}

const HEALTH: &str = r#"query($name: String!) { dataset(namespace: "wh", name: $name) { health {
  status reasons { ruleId waived } taint { origin { name } originRuleId path gateViolation originCheck { observed } waiver { reason } } } } }"#;

async fn health(app: &common::TestApp, name: &str) -> Value {
    app.query(HEALTH, json!({"name": name})).await["dataset"]["health"].clone()
}

const GATE: &str = r#"query($job: String!, $inputs: [DatasetRefInput!]) { gate(namespace: "etl", job: $job, inputs: $inputs) {
  id decision inputs { name } reasons { kind message dataset { name } status ruleId observed expected evaluatedAt origin { name } path waiver { reason } } } }"#;

async fn gate(app: &common::TestApp, job: &str) -> Value {
    app.query(GATE, json!({"job": job, "inputs": null})).await["gate"].clone()
}

/// The gate for a job about to read exactly `inputs`.
async fn gate_on(app: &common::TestApp, job: &str, inputs: &[&str]) -> Value {
    let inputs: Vec<Value> = inputs.iter().map(|n| json!({"namespace": "wh", "name": n})).collect();
    app.query(GATE, json!({"job": job, "inputs": inputs})).await["gate"].clone()
}

fn kinds(decision: &Value) -> Vec<String> {
    decision["reasons"].as_array().into_iter().flatten().map(|r| r["kind"].as_str().unwrap_or("").to_string()).collect()
}

backend_tests! {
    async fn failure_upstream_taints_the_chain_and_blocks_with_reasons(app) {
        setup(&app).await;
        app.ingest(&evidence("a", 10.0, "2024-05-01T00:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        run(&app, "j2", &["b"], &["c"], "2024-05-01T02:00:00Z", "2024-05-01T02:10:00Z").await;

        assert_eq!(health(&app, "a").await["status"], "FAILING");
        let b = health(&app, "b").await;
        assert_eq!(b["status"], "TAINTED", "{b}");
        assert_eq!(b["taint"]["origin"]["name"], "a");
        assert_eq!(b["taint"]["originRuleId"], "has_rows");
        assert_eq!(b["taint"]["path"], json!(["dataset:wh:a", "job:etl:j1", "dataset:wh:b"]));
        assert_eq!(b["taint"]["originCheck"]["observed"], 10.0);
        let c = health(&app, "c").await;
        assert_eq!(c["taint"]["path"], json!(["dataset:wh:a", "job:etl:j1", "dataset:wh:b", "job:etl:j2", "dataset:wh:c"]));

        let j1 = gate(&app, "j1").await;
        assert_eq!(j1["decision"], "BLOCK");
        assert_eq!(j1["inputs"], json!([{"name": "a"}]));
        let reason = &j1["reasons"][0];
        assert_eq!(reason["kind"], "BLOCKING");
        assert_eq!(reason["dataset"]["name"], "a");
        assert_eq!(reason["status"], "FAILING");
        assert_eq!(reason["ruleId"], "has_rows");
        assert_eq!(reason["observed"], 10.0);
        assert_eq!(reason["expected"], "row_count >= 100");
        assert!(reason["evaluatedAt"].is_string());

        let j2 = gate(&app, "j2").await;
        assert_eq!(j2["decision"], "BLOCK");
        let reason = &j2["reasons"][0];
        assert_eq!(reason["status"], "TAINTED");
        assert_eq!(reason["origin"]["name"], "a");
        assert_eq!(reason["path"], json!(["dataset:wh:a", "job:etl:j1", "dataset:wh:b"]));
        assert_eq!(reason["observed"], 10.0);

        // Every decision is recorded: j2's START was checked (it read the tainted b, so it was
        // a violation), and this request.
        let recorded = app.query(r#"{ gateDecisions(namespace: "etl", job: "j2") { edges { node { id decision context runId } } } }"#, json!({})).await;
        let edges = recorded["gateDecisions"]["edges"].as_array().cloned().unwrap_or_default();
        assert_eq!(edges.len(), 2, "{recorded}");
        assert_eq!(edges[0]["node"]["id"], j2["id"]);
        assert_eq!(edges[0]["node"]["context"], "request");
        assert_eq!(edges[1]["node"]["context"], "violation_check");
        assert!(edges[1]["node"]["runId"].is_string());
    }

    async fn a_rebuild_before_the_failure_stays_clean(app) {
        setup(&app).await;
        app.ingest(&evidence("a", 500.0, "2024-05-01T00:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        // a goes bad after b was built from it.
        app.ingest(&evidence("a", 10.0, "2024-05-01T05:00:00Z")).await;
        assert_eq!(health(&app, "a").await["status"], "FAILING");
        assert_eq!(health(&app, "b").await["taint"], Value::Null);
        assert_eq!(gate(&app, "j1").await["decision"], "BLOCK");
        let j2 = app.query(GATE, json!({"job": "j2", "inputs": [{"namespace": "wh", "name": "b"}]})).await["gate"].clone();
        assert_eq!(j2["decision"], "ALLOW", "{j2}");
    }

    async fn a_rewrite_from_clean_inputs_clears_the_taint(app) {
        setup(&app).await;
        app.ingest(&evidence("a", 10.0, "2024-05-01T00:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        run(&app, "j2", &["b"], &["c"], "2024-05-01T02:00:00Z", "2024-05-01T02:10:00Z").await;
        assert_eq!(health(&app, "c").await["status"], "TAINTED");
        // a is fixed, then b is rebuilt: b is clean; c still comes from the bad b until rebuilt.
        app.ingest(&evidence("a", 1000.0, "2024-05-01T03:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T04:00:00Z", "2024-05-01T04:10:00Z").await;
        assert_eq!(health(&app, "b").await["taint"], Value::Null);
        assert_eq!(health(&app, "c").await["status"], "TAINTED");
        run(&app, "j2", &["b"], &["c"], "2024-05-01T05:00:00Z", "2024-05-01T05:10:00Z").await;
        assert_eq!(health(&app, "c").await["taint"], Value::Null);
        assert_eq!(gate(&app, "j3_reads_c").await["decision"], "ALLOW");
        let j2 = gate(&app, "j2").await;
        assert_eq!(j2["decision"], "ALLOW", "{j2}");
    }

    async fn diamond_gives_one_reason_per_bad_input(app) {
        setup(&app).await;
        app.ingest(&evidence("a", 10.0, "2024-05-01T00:00:00Z")).await;
        run(&app, "left", &["a"], &["b"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        run(&app, "right", &["a"], &["c"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        run(&app, "join", &["b", "c"], &["d"], "2024-05-01T02:00:00Z", "2024-05-01T02:10:00Z").await;
        let d = health(&app, "d").await;
        assert_eq!(d["status"], "TAINTED");
        assert_eq!(d["taint"]["origin"]["name"], "a");
        let join = gate(&app, "join").await;
        assert_eq!(join["decision"], "BLOCK");
        let tainted: Vec<&str> = join["reasons"].as_array().into_iter().flatten().filter(|r| r["kind"] == "BLOCKING").filter_map(|r| r["dataset"]["name"].as_str()).collect();
        assert_eq!(tainted, vec!["b", "c"]);
    }

    async fn each_input_is_judged_on_its_own_evidence(app) {
        setup(&app).await;
        // One job reads a healthy, a failing, a tainted and an unchecked dataset: the gate and
        // the run's verdict read all of their evidence at once and must keep it apart.
        app.ingest(&evidence("a", 500.0, "2024-05-01T00:00:00Z")).await;
        app.ingest(&evidence("f", 10.0, "2024-05-01T00:00:00Z")).await;
        // One run writes two of the inputs: each inherits its verdict.
        run(&app, "makes_t", &["f"], &["t", "t2"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        run(&app, "makes_u", &["a"], &["u"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        let blocking = |decision: &Value| -> Vec<(String, String)> {
            decision["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["kind"] == "BLOCKING")
                .map(|r| (r["dataset"]["name"].as_str().unwrap_or("").to_string(), r["status"].as_str().unwrap_or("").to_string()))
                .collect()
        };
        // Named in an order other than the datasets' ids: the reasons follow the request.
        let mix = gate_on(&app, "mix", &["u", "t", "f", "a", "t2"]).await;
        assert_eq!(mix["decision"], "BLOCK");
        let expected = [("t", "TAINTED"), ("f", "FAILING"), ("t2", "TAINTED")].map(|(d, s)| (d.to_string(), s.to_string()));
        assert_eq!(blocking(&mix), expected.to_vec(), "{mix}");
        let on_f = mix["reasons"].as_array().into_iter().flatten().find(|r| r["dataset"]["name"] == "f").cloned().unwrap_or_default();
        assert_eq!(on_f["observed"], 10.0, "{mix}");
        let on_t = mix["reasons"].as_array().into_iter().flatten().find(|r| r["dataset"]["name"] == "t").cloned().unwrap_or_default();
        assert_eq!(on_t["origin"]["name"], "f", "{mix}");
        assert_eq!(gate_on(&app, "clean", &["a", "u"]).await["decision"], "ALLOW");

        // A run of the job at 03:00 is judged as of its start; a turns bad only at 05:00. Its
        // first bad input in name order is f (failing), before t (tainted).
        run(&app, "mix", &["a", "u", "t", "f"], &["m"], "2024-05-01T03:00:00Z", "2024-05-01T03:10:00Z").await;
        run(&app, "clean", &["a", "u"], &["n"], "2024-05-01T03:00:00Z", "2024-05-01T03:10:00Z").await;
        app.ingest(&evidence("a", 1.0, "2024-05-01T05:00:00Z")).await;
        let m = health(&app, "m").await;
        assert_eq!(m["status"], "TAINTED", "{m}");
        assert_eq!(m["taint"]["path"], json!(["dataset:wh:f", "job:etl:mix", "dataset:wh:m"]), "{m}");
        assert_eq!(m["taint"]["originCheck"]["observed"], 10.0, "{m}");
        assert_eq!(health(&app, "n").await["taint"], Value::Null, "a was healthy when `clean` ran");
        let now = gate_on(&app, "clean", &["a", "u"]).await;
        assert_eq!(blocking(&now), vec![("a".to_string(), "FAILING".to_string())], "{now}");
    }

    async fn a_complete_that_names_nothing_is_judged_on_what_its_start_named(app) {
        setup(&app).await;
        // The reader of y arrives first; then y's writer, whose START names its input and
        // output and whose COMPLETE names neither (emitters may send them only once). That f
        // was failing before the writer started arrives between the two: the START was no
        // gate violation, the verdict at the COMPLETE must find f among the run's inputs.
        run(&app, "reader", &["y"], &["z"], "2024-05-01T02:00:00Z", "2024-05-01T02:10:00Z").await;
        let id = run_id();
        app.ingest(&run_event("START", "2024-05-01T01:00:00Z", &id, ("etl", "writer"), vec![dataset("wh", "f")], vec![dataset("wh", "y")])).await;
        app.ingest(&evidence("f", 10.0, "2024-05-01T00:00:00Z")).await;
        app.ingest(&run_event("COMPLETE", "2024-05-01T01:10:00Z", &id, ("etl", "writer"), vec![], vec![])).await;
        let y = health(&app, "y").await;
        assert_eq!(y["status"], "TAINTED", "{y}");
        assert_eq!(y["taint"]["gateViolation"], false, "{y}");
        assert_eq!(y["taint"]["path"], json!(["dataset:wh:f", "job:etl:writer", "dataset:wh:y"]), "{y}");
        // The reader ran after the writer ended: judged again, on the writer's verdict.
        let z = health(&app, "z").await;
        assert_eq!(z["taint"]["path"], json!(["dataset:wh:f", "job:etl:writer", "dataset:wh:y", "job:etl:reader", "dataset:wh:z"]), "{z}");
    }

    async fn out_of_order_delivery_gives_the_in_order_result(app) {
        setup(&app).await;
        // The runs arrive first; the evidence that a was bad *before* they ran arrives last.
        run(&app, "j1", &["a"], &["b"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        run(&app, "j2", &["b"], &["c"], "2024-05-01T02:00:00Z", "2024-05-01T02:10:00Z").await;
        assert_eq!(health(&app, "c").await["taint"], Value::Null);
        app.ingest(&evidence("a", 10.0, "2024-05-01T00:00:00Z")).await;
        let c = health(&app, "c").await;
        assert_eq!(c["status"], "TAINTED", "{c}");
        assert_eq!(c["taint"]["path"], json!(["dataset:wh:a", "job:etl:j1", "dataset:wh:b", "job:etl:j2", "dataset:wh:c"]));
        // And a late COMPLETE of an older clean rebuild does not clear a newer tainted write.
        let id = run_id();
        app.ingest(&run_event("COMPLETE", "2024-04-30T00:10:00Z", &id, ("etl", "j1"), vec![dataset("wh", "a")], vec![dataset("wh", "b")])).await;
        assert_eq!(health(&app, "b").await["status"], "TAINTED");
    }

    async fn late_evidence_about_the_past_is_judged_on_the_past(app) {
        setup(&app).await;
        // a is good at 09:00 (arrives first); b is built from a at 07:00; a was bad at 06:00
        // (arrives last). In order, b read bad data; a is fine now.
        app.ingest(&evidence("a", 500.0, "2024-05-01T09:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T07:00:00Z", "2024-05-01T07:10:00Z").await;
        app.ingest(&evidence("a", 5.0, "2024-05-01T06:00:00Z")).await;
        assert_eq!(health(&app, "a").await["status"], "HEALTHY");
        let b = health(&app, "b").await;
        assert_eq!(b["status"], "TAINTED", "{b}");
        assert_eq!(b["taint"]["originCheck"]["observed"], 5.0);
        // No incident for a failure that is already over.
        let incidents = app.query("{ incidents { edges { node { id } } } }", json!({})).await;
        assert_eq!(incidents["incidents"]["edges"], json!([]));
    }

    async fn late_good_evidence_about_the_past_does_not_taint_or_heal_wrongly(app) {
        setup(&app).await;
        // a is bad at 09:00 (arrives first); b is built at 07:00; a was good at 06:00.
        app.ingest(&evidence("a", 5.0, "2024-05-01T09:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T07:00:00Z", "2024-05-01T07:10:00Z").await;
        app.ingest(&evidence("a", 500.0, "2024-05-01T06:00:00Z")).await;
        assert_eq!(health(&app, "a").await["status"], "FAILING");
        assert_eq!(health(&app, "b").await["taint"], Value::Null);
    }

    async fn a_late_fix_about_the_past_clears_the_taint_it_explains(app) {
        setup(&app).await;
        // a was bad at 06:00 (arrives first) and b is built from it at 07:00: tainted. Then
        // evidence arrives that a was fixed at 06:30, before b was built: a passing result that
        // replaces a failing one as of b's start, so b must be judged again, and is clean.
        app.ingest(&evidence("a", 5.0, "2024-05-01T06:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T07:00:00Z", "2024-05-01T07:10:00Z").await;
        assert_eq!(health(&app, "b").await["status"], "TAINTED");
        app.ingest(&evidence("a", 500.0, "2024-05-01T06:30:00Z")).await;
        let b = health(&app, "b").await;
        assert_eq!(b["taint"], Value::Null, "{b}");
        // A passing result after a passing one changes nothing either way.
        app.ingest(&evidence("a", 600.0, "2024-05-01T06:45:00Z")).await;
        assert_eq!(health(&app, "b").await["taint"], Value::Null);
    }

    async fn waivers_let_failures_pass_until_they_expire_or_are_revoked(app) {
        setup(&app).await;
        app.ingest(&evidence("a", 10.0, "2024-05-01T00:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        // The test clock is at 2024-06-01T00:00Z.
        let waived = app.query(r#"mutation { waive(namespace: "wh", name: "a", ruleId: "has_rows", reason: "known short load, INC-42", expiresAt: "2024-06-01T12:00:00Z", author: "ana") { id active ruleId } }"#, json!({})).await;
        assert_eq!(waived["waive"]["active"], true);
        let a = health(&app, "a").await;
        assert_eq!(a["status"], "WARNING");
        assert_eq!(a["reasons"], json!([{"ruleId": "has_rows", "waived": true}]));
        let j1 = gate(&app, "j1").await;
        assert_eq!(j1["decision"], "ALLOW", "{j1}");
        assert_eq!(kinds(&j1), vec!["WAIVED"]);
        assert_eq!(j1["reasons"][0]["waiver"]["reason"], "known short load, INC-42");
        // The taint that came from the waived failure is waived too.
        let j2 = gate_on(&app, "j2", &["b"]).await;
        assert_eq!(j2["decision"], "ALLOW", "{j2}");
        assert_eq!(health(&app, "b").await["taint"]["waiver"]["reason"], "known short load, INC-42");

        app.clock.advance(Duration::hours(13));
        assert_eq!(gate(&app, "j1").await["decision"], "BLOCK");
        assert_eq!(gate_on(&app, "j2", &["b"]).await["decision"], "BLOCK");

        // A dataset-wide waiver, revoked by hand.
        let w = app.query(r#"mutation { waive(namespace: "wh", name: "b", reason: "rebuilt by hand", expiresAt: "2024-07-01T00:00:00Z") { id ruleId } }"#, json!({})).await;
        assert_eq!(w["waive"]["ruleId"], Value::Null);
        assert_eq!(gate_on(&app, "j2", &["b"]).await["decision"], "ALLOW");
        let id = w["waive"]["id"].as_str().unwrap_or_default().to_string();
        let revoked = app.query("mutation($id: ID!) { revokeWaiver(id: $id, author: \"bo\") { revokedBy active } }", json!({"id": id})).await;
        assert_eq!(revoked["revokeWaiver"], json!({"revokedBy": "bo", "active": false}));
        assert_eq!(gate_on(&app, "j2", &["b"]).await["decision"], "BLOCK");
        let all = app.query(r#"{ dataset(namespace: "wh", name: "a") { waivers { author active } } }"#, json!({})).await;
        assert_eq!(all["dataset"]["waivers"], json!([{"author": "ana", "active": false}]));
    }

    async fn bad_waivers_are_refused(app) {
        setup(&app).await;
        app.ingest(&evidence("a", 10.0, "2024-05-01T00:00:00Z")).await;
        let cases = [
            (r#"mutation { waive(namespace: "wh", name: "nope", reason: "r", expiresAt: "2024-07-01T00:00:00Z") { id } }"#, "NOT_FOUND"),
            (r#"mutation { waive(namespace: "wh", name: "a", ruleId: "ghost", reason: "r", expiresAt: "2024-07-01T00:00:00Z") { id } }"#, "NOT_FOUND"),
            (r#"mutation { waive(namespace: "wh", name: "a", reason: "  ", expiresAt: "2024-07-01T00:00:00Z") { id } }"#, "BAD_USER_INPUT"),
            (r#"mutation { waive(namespace: "wh", name: "a", reason: "r", expiresAt: "2024-01-01T00:00:00Z") { id } }"#, "BAD_USER_INPUT"),
            (r#"mutation { revokeWaiver(id: "999") { id } }"#, "NOT_FOUND"),
            (r#"mutation { revokeWaiver(id: "x") { id } }"#, "BAD_USER_INPUT"),
        ];
        for (query, expected) in cases {
            let (code, message) = app.query_error_code(query, json!({})).await;
            assert_eq!(code, expected, "{query}: {message}");
        }
    }

    async fn unknown_jobs_and_inputs_follow_the_policy(app) {
        setup(&app).await;
        let never = gate(&app, "never_seen").await;
        assert_eq!(never["decision"], "ALLOW");
        assert_eq!(kinds(&never), vec!["NOTE"]);
        assert!(never["reasons"][0]["message"].as_str().is_some_and(|m| m.contains("never been seen")));
        let named = app.query(GATE, json!({"job": "new_job", "inputs": [{"namespace": "wh", "name": "mystery"}]})).await["gate"].clone();
        assert_eq!(named["decision"], "ALLOW");
        assert_eq!(named["reasons"][0]["status"], "UNKNOWN");
    }

    async fn a_blocked_job_that_starts_anyway_is_a_violation_and_taints_its_outputs(app) {
        setup(&app).await;
        app.ingest(&evidence("a", 10.0, "2024-05-01T00:00:00Z")).await;
        app.ingest(&evidence("x", 1000.0, "2024-05-01T00:00:00Z")).await;
        // The job's history says it reads a.
        run(&app, "j1", &["a"], &["b"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        // It runs again although blocked; this time it says it read only the clean x.
        let id = run_id();
        app.ingest(&run_event("START", "2024-05-01T02:00:00Z", &id, ("etl", "j1"), vec![], vec![])).await;
        app.ingest(&run_event("COMPLETE", "2024-05-01T02:10:00Z", &id, ("etl", "j1"), vec![dataset("wh", "x")], vec![dataset("wh", "b2")])).await;
        let run = app.query("query($id: ID!) { run(id: $id) { tainted gateViolation { decision reasons { kind dataset { name } } } } }", json!({"id": id})).await;
        assert_eq!(run["run"]["tainted"], true);
        assert_eq!(run["run"]["gateViolation"]["decision"], "BLOCK");
        assert_eq!(run["run"]["gateViolation"]["reasons"][0]["dataset"]["name"], "a");
        let b2 = health(&app, "b2").await;
        assert_eq!(b2["status"], "TAINTED", "{b2}");
        assert_eq!(b2["taint"]["gateViolation"], true);
        assert_eq!(b2["taint"]["origin"]["name"], "a");
        // A run that was allowed is no violation.
        let ok = run_id();
        app.ingest(&run_event("START", "2024-05-01T03:00:00Z", &ok, ("etl", "clean_job"), vec![dataset("wh", "x")], vec![])).await;
        let run = app.query("query($id: ID!) { run(id: $id) { gateViolation { id } } }", json!({"id": ok})).await;
        assert_eq!(run["run"]["gateViolation"], Value::Null);
    }

    async fn http_gate_answers_like_graphql(app) {
        setup(&app).await;
        app.ingest(&evidence("a", 10.0, "2024-05-01T00:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        let response = app.client.get(app.url("/api/v1/gate")).query(&[("namespace", "etl"), ("job", "j1")]).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["decision"], "BLOCK");
        assert_eq!(body["reasons"][0]["kind"], "BLOCKING");
        assert_eq!(body["reasons"][0]["rule_id"], "has_rows");
        let response = app
            .client
            .get(app.url("/api/v1/gate"))
            .query(&[("namespace", "etl"), ("job", "other"), ("input", "wh:b")])
            .send()
            .await
            .expect("request");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["decision"], "BLOCK");
        assert_eq!(body["inputs"], json!([{"namespace": "wh", "name": "b"}]));
        for bad in [vec![("job", "j1")], vec![("namespace", "etl")], vec![("namespace", "etl"), ("job", "j1"), ("input", "nocolon")], vec![("namespace", "etl"), ("job", "j1"), ("color", "red")]] {
            let response = app.client.get(app.url("/api/v1/gate")).query(&bad).send().await.expect("request");
            assert_eq!(response.status().as_u16(), 400, "{bad:?}");
        }
    }

    async fn weir_gate_exit_codes(app) {
        setup(&app).await;
        app.ingest(&evidence("a", 10.0, "2024-05-01T00:00:00Z")).await;
        app.ingest(&evidence("ok", 1000.0, "2024-05-01T00:00:00Z")).await;
        run(&app, "j1", &["a"], &["b"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;
        run(&app, "fine", &["ok"], &["ok_out"], "2024-05-01T01:00:00Z", "2024-05-01T01:10:00Z").await;

        let out = weir(&["gate", "--namespace", "etl", "--job", "j1", "--server", &app.base]);
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("BLOCK etl/j1 (1 input checked)"), "{text}");
        assert!(text.contains("rule has_rows: observed 10.0, expected row_count >= 100"), "{text}");

        let out = weir(&["gate", "--namespace", "etl", "--job", "fine", "--server", &app.base, "--json"]);
        assert_eq!(out.status.code(), Some(0));
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON decision");
        assert_eq!(json["decision"], "ALLOW");

        let out = weir(&["gate", "--namespace", "etl", "--job", "x", "--input", "wh:b", "--server", &app.base]);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
        assert!(String::from_utf8_lossy(&out.stdout).contains("path: dataset:wh:a -> job:etl:j1 -> dataset:wh:b"));

        // Waiting: still blocked when the time is up.
        let out = weir(&["gate", "--namespace", "etl", "--job", "j1", "--server", &app.base, "--wait", "300ms", "--poll-interval", "100ms"]);
        assert_eq!(out.status.code(), Some(1));

        // Could not decide: nothing listening, or a bad request.
        let out = weir(&["gate", "--namespace", "etl", "--job", "j1", "--server", "http://127.0.0.1:9"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("could not decide"));
        let out = weir(&["gate", "--namespace", "etl", "--job", "j1", "--input", "nocolon", "--server", &app.base]);
        assert_eq!(out.status.code(), Some(2));
        let out = weir(&["gate", "--job", "j1", "--server", &app.base]);
        assert_eq!(out.status.code(), Some(2));
    }
}

fn weir(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_weir")).args(args).output().expect("run weir")
}

/// With `--gate-unknown-inputs block`, an input nothing is known about blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_inputs_can_be_made_to_block() {
    let app = common::TestApp::spawn_with(common::Backend::Sqlite, |c| c.gate_unknown_inputs = weir::gate::decide::UnknownInputPolicy::Block)
        .await
        .expect("sqlite");
    let decision = app.query(GATE, json!({"job": "j", "inputs": [{"namespace": "wh", "name": "mystery"}]})).await["gate"].clone();
    assert_eq!(decision["decision"], "BLOCK");
    assert_eq!(decision["reasons"][0]["kind"], "BLOCKING");
}
