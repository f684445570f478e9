//! Quality rules end to end over HTTP: a rules file applied, events that break and then
//! satisfy rules, health, check history, freshness with a moved clock, and bad rules.

mod common;

use chrono::Duration;
use common::events::{dataset, run_event, run_id};
use serde_json::{Value, json};

const RULES: &str = r#"
rules:
  - id: orders_have_rows
    kind: metric
    severity: block
    description: An orders table must never be empty
    owner: orders-team@example.com
    target: { namespace: "postgres://prod:5432", name: "analytics.*" }
    metric: row_count
    op: ">="
    value: 100
  - id: orders_email_nulls
    kind: metric
    severity: warn
    target: { namespace: "postgres://prod:5432", name: analytics.orders }
    metric: null_ratio
    column: email
    op: "<="
    value: 0.1
  - id: orders_fresh
    kind: freshness
    severity: block
    target: { namespace: "postgres://prod:5432", name: analytics.orders }
    max_age: 6h
  - id: orders_dbt_tests
    kind: assertions
    target: { namespace: "postgres://prod:5432", name: analytics.orders }
"#;

const NS: &str = "postgres://prod:5432";

/// A COMPLETE run writing analytics.orders with the given row count and email null count.
fn orders_event(time: &str, rows: f64, email_nulls: f64) -> Value {
    let mut output = dataset(NS, "analytics.orders");
    output["facets"]["dataQualityMetrics"] = json!({
        "_producer": "x", "_schemaURL": "y",
        "rowCount": rows,
        "columnMetrics": { "email": { "nullCount": email_nulls } }
    });
    run_event("COMPLETE", time, &run_id(), ("etl", "build_orders"), vec![dataset(NS, "raw.orders")], vec![output])
}

async fn apply(app: &common::TestApp, yaml: &str, dry_run: bool) -> Value {
    app.query(
        "mutation($y: String!, $d: Boolean!) { applyRules(yaml: $y, dryRun: $d, author: \"ci\") { created updated deleted unchanged applied } }",
        json!({"y": yaml, "d": dry_run}),
    )
    .await["applyRules"]
        .clone()
}

const HEALTH: &str = r#"query($ns: String!, $name: String!) { dataset(namespace: $ns, name: $name) {
  health { status reasons { ruleId ruleVersion outcome severity observed expected message runId } }
} }"#;

async fn health(app: &common::TestApp, name: &str) -> Value {
    app.query(HEALTH, json!({"ns": NS, "name": name})).await["dataset"]["health"].clone()
}

backend_tests! {
    async fn metrics_a_run_reports_in_two_events_merge_with_the_later_value_winning(app) {
        let run = run_id();
        let output = |facet: Value| {
            let mut output = dataset(NS, "analytics.orders");
            output["facets"]["dataQualityMetrics"] = facet;
            output
        };
        let running = output(json!({"_producer": "x", "_schemaURL": "y", "rowCount": 500.0, "columnMetrics": {"email": {"nullCount": 9.0}}}));
        app.ingest(&run_event("RUNNING", "2024-05-31T20:00:00Z", &run, ("etl", "build_orders"), vec![], vec![running])).await;
        let complete = output(json!({"_producer": "x", "_schemaURL": "y", "rowCount": 600.0}));
        app.ingest(&run_event("COMPLETE", "2024-05-31T21:00:00Z", &run, ("etl", "build_orders"), vec![], vec![complete])).await;
        // An event from before the COMPLETE arrives last: it adds what the report lacks, and
        // replaces nothing of the later events'.
        let late = output(json!({"_producer": "x", "_schemaURL": "y", "rowCount": 550.0, "columnMetrics": {"email": {"nullCount": 7.0, "distinctCount": 42.0}}}));
        app.ingest(&run_event("RUNNING", "2024-05-31T20:30:00Z", &run, ("etl", "build_orders"), vec![], vec![late])).await;

        let data = app
            .query(
                "query($ns: String!) { dataset(namespace: $ns, name: \"analytics.orders\") { observations { metrics { metric column value runId observedAt } } } }",
                json!({"ns": NS}),
            )
            .await;
        // One run, one set of values: the row count the COMPLETE reported replaced the
        // RUNNING one, the null count only the RUNNING reported stays, both as of the later event.
        assert_eq!(
            data["dataset"]["observations"]["metrics"],
            json!([
                {"metric": "distinct_count", "column": "email", "value": 42.0, "runId": run, "observedAt": "2024-05-31T21:00:00+00:00"},
                {"metric": "null_count", "column": "email", "value": 9.0, "runId": run, "observedAt": "2024-05-31T21:00:00+00:00"},
                {"metric": "row_count", "column": null, "value": 600.0, "runId": run, "observedAt": "2024-05-31T21:00:00+00:00"},
            ])
        );
    }

    async fn applying_a_rules_file_is_idempotent_and_dry_run_changes_nothing(app) {
        let plan = apply(&app, RULES, true).await;
        assert_eq!(plan["created"].as_array().map(Vec::len), Some(4));
        assert_eq!(plan["applied"], false);
        assert_eq!(app.query("{ rules { id } }", json!({})).await["rules"], json!([]));

        let plan = apply(&app, RULES, false).await;
        assert_eq!(plan["created"], json!(["orders_have_rows", "orders_email_nulls", "orders_fresh", "orders_dbt_tests"]));
        let plan = apply(&app, RULES, false).await;
        assert_eq!(plan["created"], json!([]));
        assert_eq!(plan["unchanged"].as_array().map(Vec::len), Some(4));

        // Edit one, drop one: one update, one deletion, versions and history follow.
        let edited = RULES.replace("value: 100", "value: 50");
        let edited = edited.split("  - id: orders_dbt_tests").next().unwrap_or_default().to_string();
        let plan = apply(&app, &edited, false).await;
        assert_eq!(plan["updated"], json!(["orders_have_rows"]));
        assert_eq!(plan["deleted"], json!(["orders_dbt_tests"]));
        let rule = app.query(r#"{ rule(id: "orders_have_rows") { version severity owner definition history { version action author } } }"#, json!({})).await["rule"].clone();
        assert_eq!(rule["version"], 2);
        assert_eq!(rule["severity"], "BLOCK");
        assert_eq!(rule["owner"], "orders-team@example.com");
        assert_eq!(rule["definition"]["value"], 50.0);
        assert_eq!(rule["history"], json!([
            {"version": 1, "action": "CREATED", "author": "ci"},
            {"version": 2, "action": "UPDATED", "author": "ci"},
        ]));
    }

    async fn an_empty_rules_file_deletes_every_rule_only_when_asked_to(app) {
        apply(&app, RULES, false).await;
        let apply_empty = |yaml: &'static str, allow: bool| {
            let query = "mutation($y: String!, $a: Boolean!) { applyRules(yaml: $y, allowEmpty: $a) { deleted applied } }";
            app.graphql(query, json!({"y": yaml, "a": allow}))
        };
        for empty in ["", "rules: []\n"] {
            let response = apply_empty(empty, false).await;
            assert_eq!(response["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{response}");
            let message = response["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains("would delete every rule (4)") && message.contains("allowEmpty"), "{message}");
            assert_eq!(app.query("{ rules { id } }", json!({})).await["rules"].as_array().map(Vec::len), Some(4));
        }
        // A dry run shows what it would do.
        assert_eq!(apply(&app, "", true).await["deleted"].as_array().map(Vec::len), Some(4));
        // Asked to, it does.
        let response = apply_empty("", true).await;
        assert_eq!(response["data"]["applyRules"]["deleted"].as_array().map(Vec::len), Some(4), "{response}");
        assert_eq!(app.query("{ rules { id } }", json!({})).await["rules"], json!([]));
        // With no rules left, an empty file is no change, and no error.
        let response = apply_empty("", false).await;
        assert_eq!(response["data"]["applyRules"], json!({"deleted": [], "applied": true}), "{response}");
    }

    async fn weir_rules_apply_refuses_an_empty_file_unless_allow_empty(app) {
        apply(&app, RULES, false).await;
        let path = std::env::temp_dir().join(format!("weir-rules-{}.yaml", run_id()));
        std::fs::write(&path, "rules: []\n").expect("write the rules file");
        let run = |extra: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
                .args(["rules", "apply"])
                .arg(&path)
                .args(["--server", &app.base])
                .args(extra)
                .output()
                .expect("run weir rules apply");
            (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
        };
        let (code, output) = run(&[]);
        assert_eq!(code, Some(1), "{output}");
        assert!(output.contains("would delete every rule (4)") && output.contains("--allow-empty"), "{output}");
        assert_eq!(app.query("{ rules { id } }", json!({})).await["rules"].as_array().map(Vec::len), Some(4));
        let (code, output) = run(&["--allow-empty"]);
        let _ = std::fs::remove_file(&path);
        assert_eq!(code, Some(0), "{output}");
        assert!(output.contains("0 created, 0 updated, 4 deleted, 0 unchanged (applied)"), "{output}");
        assert_eq!(app.query("{ rules { id } }", json!({})).await["rules"], json!([]));
    }

    async fn a_bad_rules_file_changes_nothing_and_names_line_and_rule(app) {
        apply(&app, RULES, false).await;
        let bad = RULES.replace("max_age: 6h", "max_age: soonish").replace("op: \"<=\"", "op: \"=~\"");
        let (code, message) = app
            .query_error_code("mutation($y: String!) { applyRules(yaml: $y) { applied } }", json!({"y": bad}))
            .await;
        assert_eq!(code, "BAD_USER_INPUT");
        assert!(message.contains("line 24: rule `orders_fresh`: `max_age`"), "{message}");
        assert!(message.contains("line 18: rule `orders_email_nulls`: unknown `op`"), "{message}");
        let rules = app.query("{ rules { id version } }", json!({})).await["rules"].clone();
        assert_eq!(rules.as_array().map(Vec::len), Some(4));
        assert!(rules.as_array().into_iter().flatten().all(|r| r["version"] == 1));
    }

    async fn metrics_that_break_a_block_rule_make_the_dataset_failing_then_healthy_again(app) {
        apply(&app, RULES, false).await;
        app.ingest(&orders_event("2024-05-31T20:00:00Z", 42.0, 1.0)).await;
        // No rule targets the input: nothing is known about it.
        assert_eq!(health(&app, "raw.orders").await, json!({"status": "UNKNOWN", "reasons": []}));
        let h = health(&app, "analytics.orders").await;
        assert_eq!(h["status"], "FAILING", "{h}");
        let reason = h["reasons"].as_array().and_then(|r| r.iter().find(|r| r["ruleId"] == "orders_have_rows")).cloned().expect("reason");
        assert_eq!(reason["outcome"], "FAIL");
        assert_eq!(reason["severity"], "BLOCK");
        assert_eq!(reason["observed"], 42.0);
        assert_eq!(reason["expected"], "row_count >= 100");
        assert_eq!(reason["ruleVersion"], 1);
        assert!(reason["runId"].is_string());
        // No assertions were reported: that rule errors (never a silent pass).
        let assertions = h["reasons"].as_array().and_then(|r| r.iter().find(|r| r["ruleId"] == "orders_dbt_tests")).cloned().expect("assertion reason");
        assert_eq!(assertions["outcome"], "ERROR");
        assert!(assertions["message"].as_str().is_some_and(|m| m.contains("no assertions")));

        let failing = app.query("{ failingDatasets { name } }", json!({})).await;
        assert_eq!(failing["failingDatasets"], json!([{"name": "analytics.orders"}]));

        // A later good write: the block rule passes again; the missing assertions still warn.
        app.ingest(&orders_event("2024-05-31T21:00:00Z", 5000.0, 100.0)).await;
        let h = health(&app, "analytics.orders").await;
        assert_eq!(h["status"], "WARNING", "{h}");
        assert!(h["reasons"].as_array().into_iter().flatten().all(|r| r["ruleId"] != "orders_have_rows"));
        assert_eq!(app.query("{ failingDatasets { name } }", json!({})).await["failingDatasets"], json!([]));

        // The history has both results of the block rule, newest first, and can be filtered.
        let history = app.query(r#"query($ns: String!) { dataset(namespace: $ns, name: "analytics.orders") {
            checkResults(ruleId: "orders_have_rows") { edges { node { outcome observed } } }
            failures: checkResults(outcome: FAIL) { edges { node { ruleId observed } } } } }"#, json!({"ns": NS})).await;
        assert_eq!(history["dataset"]["checkResults"]["edges"], json!([
            {"node": {"outcome": "PASS", "observed": 5000.0}},
            {"node": {"outcome": "FAIL", "observed": 42.0}},
        ]));
        assert_eq!(history["dataset"]["failures"]["edges"], json!([{"node": {"ruleId": "orders_have_rows", "observed": 42.0}}]));
    }

    // Rules match a dataset by its own name, also when an event names it by an alias (a
    // symlink): the alias is not the dataset's name.
    async fn an_event_naming_a_dataset_by_its_alias_is_judged_by_the_rules_of_its_own_name(app) {
        apply(&app, r#"
rules:
  - id: own_name_has_rows
    kind: metric
    severity: block
    target: { namespace: "postgres://prod:5432", name: analytics.orders }
    metric: row_count
    op: ">="
    value: 100
  - id: alias_name_has_rows
    kind: metric
    severity: block
    target: { namespace: "s3://lake", name: "*" }
    metric: row_count
    op: ">="
    value: 100
"#, false).await;
        let mut table = dataset(NS, "analytics.orders");
        table["facets"]["symlinks"] = json!({"_producer": "x", "_schemaURL": "y", "identifiers": [{"namespace": "s3://lake", "name": "orders", "type": "TABLE"}]});
        app.ingest(&run_event("COMPLETE", "2024-05-31T19:00:00Z", &run_id(), ("etl", "build_orders"), vec![], vec![table])).await;
        // Another event names it by the alias, with too few rows.
        let mut by_alias = dataset("s3://lake", "orders");
        by_alias["facets"]["dataQualityMetrics"] = json!({"_producer": "x", "_schemaURL": "y", "rowCount": 3.0});
        app.ingest(&run_event("COMPLETE", "2024-05-31T20:00:00Z", &run_id(), ("etl", "copy_orders"), vec![], vec![by_alias])).await;
        let h = health(&app, "analytics.orders").await;
        assert_eq!(h["status"], "FAILING", "{h}");
        let rules: Vec<&Value> = h["reasons"].as_array().into_iter().flatten().map(|r| &r["ruleId"]).collect();
        assert_eq!(rules, [&json!("own_name_has_rows")], "{h}");
    }

    async fn warn_rule_failure_is_a_warning_not_a_failure(app) {
        apply(&app, RULES.split("  - id: orders_fresh").next().unwrap_or_default(), false).await;
        app.ingest(&orders_event("2024-05-31T20:00:00Z", 1000.0, 500.0)).await;
        let h = health(&app, "analytics.orders").await;
        assert_eq!(h["status"], "WARNING", "{h}");
        assert_eq!(h["reasons"][0]["ruleId"], "orders_email_nulls");
        assert_eq!(h["reasons"][0]["observed"], 0.5);
    }

    async fn failed_dbt_assertion_fails_the_assertions_rule(app) {
        apply(&app, RULES, false).await;
        let mut input = dataset(NS, "analytics.orders");
        let assertions = json!({"_producer": "x", "_schemaURL": "y", "assertions": [
            {"assertion": "not_null", "column": "id", "success": true},
            {"assertion": "unique", "column": "id", "success": false, "severity": "ERROR"},
        ]});
        input["inputFacets"] = json!({"dataQualityAssertions": assertions.clone()});
        input["facets"]["dataQualityAssertions"] = assertions;
        app.ingest(&run_event("COMPLETE", "2024-05-31T22:00:00Z", &run_id(), ("dbt", "test.orders"), vec![input], vec![])).await;
        let h = health(&app, "analytics.orders").await;
        let reason = h["reasons"].as_array().and_then(|r| r.iter().find(|r| r["ruleId"] == "orders_dbt_tests")).cloned().expect("reason");
        assert_eq!(reason["outcome"], "FAIL");
        assert_eq!(reason["observed"]["failed"], json!(["unique(id)"]));
        assert_eq!(h["status"], "FAILING");
    }

    // Assertions reported about several datasets by one event, and by a DatasetEvent, each
    // count for their own dataset.
    async fn assertions_about_several_datasets_and_from_a_dataset_event_each_judge_their_dataset(app) {
        let rules = format!("rules:\n  - id: analytics_tests\n    kind: assertions\n    target: {{ namespace: \"{NS}\", name: \"analytics.*\" }}\n");
        apply(&app, &rules, false).await;
        let tested = |name: &str, assertion: &str, success: bool| {
            let mut input = dataset(NS, name);
            let facet = json!({"_producer": "x", "_schemaURL": "y", "assertions": [{"assertion": assertion, "column": "id", "success": success}]});
            input["inputFacets"] = json!({"dataQualityAssertions": facet});
            input
        };
        let inputs = vec![tested("analytics.orders", "unique", false), tested("analytics.customers", "not_null", true)];
        app.ingest(&run_event("COMPLETE", "2024-05-31T22:00:00Z", &run_id(), ("dbt", "test.all"), inputs, vec![])).await;
        let reason = |h: &Value| h["reasons"].as_array().and_then(|r| r.iter().find(|r| r["ruleId"] == "analytics_tests")).cloned().unwrap_or_default();
        let orders = health(&app, "analytics.orders").await;
        assert_eq!((orders["status"].clone(), reason(&orders)["observed"]["failed"].clone()), (json!("FAILING"), json!(["unique(id)"])), "{orders}");
        let checks = |name: &'static str| {
            let app = &app;
            async move {
                let q = r#"query($ns: String!, $name: String!) { dataset(namespace: $ns, name: $name) {
                    checkResults(ruleId: "analytics_tests") { edges { node { outcome observed } } } } }"#;
                app.query(q, json!({"ns": NS, "name": name})).await["dataset"]["checkResults"]["edges"].clone()
            }
        };
        assert_eq!(checks("analytics.customers").await, json!([{"node": {"outcome": "PASS", "observed": {"failed": [], "missing": [], "passed": 1}}}]));
        assert_eq!(health(&app, "analytics.customers").await["status"], "HEALTHY");

        let mut reported = dataset(NS, "analytics.customers");
        reported["facets"]["dataQualityAssertions"] =
            json!({"_producer": "x", "_schemaURL": "y", "assertions": [{"assertion": "accepted_values", "column": "status", "success": false}]});
        let event = json!({"eventTime": "2024-05-31T23:00:00Z", "dataset": reported, "producer": "x",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent"});
        app.ingest(&event).await;
        let customers = health(&app, "analytics.customers").await;
        assert_eq!(reason(&customers)["observed"]["failed"], json!(["accepted_values(status)"]), "{customers}");
        assert_eq!(customers["status"], "FAILING");

        // A JobEvent (static lineage) reporting that the orders test passes now.
        let event = json!({"eventTime": "2024-05-31T23:30:00Z", "job": {"namespace": "dbt", "name": "test.all"},
            "inputs": [tested("analytics.orders", "unique", true)], "outputs": [], "producer": "x",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent"});
        app.ingest(&event).await;
        assert_eq!(checks("analytics.orders").await[0], json!({"node": {"outcome": "PASS", "observed": {"failed": [], "missing": [], "passed": 1}}}));
        assert_eq!(health(&app, "analytics.orders").await["status"], "HEALTHY");

        // A dbt `test` run facet about the run's single input outranks what the input's own
        // facet says of the same assertion and column in the same event.
        let mut event = run_event("COMPLETE", "2024-06-01T00:00:00Z", &run_id(), ("dbt", "test.all"), vec![tested("analytics.orders", "unique", false)], vec![]);
        event["run"]["facets"]["test"] = json!({"_producer": "x", "_schemaURL": "y", "tests": [{"name": "unique", "column": "id", "status": "pass"}]});
        let before = checks("analytics.orders").await.as_array().map_or(0, Vec::len);
        app.ingest(&event).await;
        let after = checks("analytics.orders").await;
        assert_eq!(after.as_array().map_or(0, Vec::len), before + 1, "a new result: {after}");
        assert_eq!(after[0], json!({"node": {"outcome": "PASS", "observed": {"failed": [], "missing": [], "passed": 1}}}));
    }

    async fn a_run_in_progress_evaluates_only_the_rules_its_evidence_is_for_and_the_write_all(app) {
        let contract = "  - id: orders_contract\n    kind: schema\n    target: { namespace: \"postgres://prod:5432\", name: analytics.orders }\n    required_columns: [{ name: id }]\n";
        apply(&app, &format!("{RULES}{contract}"), false).await;
        let rule_ids = |data: Value| -> Vec<String> {
            let mut ids: Vec<String> = data["dataset"]["checkResults"]["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| format!("{} {}", e["node"]["ruleId"].as_str().unwrap_or(""), e["node"]["outcome"].as_str().unwrap_or("")))
                .collect();
            ids.sort();
            ids
        };
        let results = || app.query(
            r#"query($ns: String!) { dataset(namespace: $ns, name: "analytics.orders") { checkResults(first: 50) { edges { node { ruleId outcome } } } } }"#,
            json!({"ns": NS}),
        );

        // The writer starts and reports the schema it is writing: only the schema rule runs,
        // no "no assertions / no row_count reported" before the run could report them.
        let run = run_id();
        let mut output = dataset(NS, "analytics.orders");
        output["facets"]["schema"] = common::events::schema(&[("id", "BIGINT"), ("email", "TEXT")]);
        app.ingest(&run_event("START", "2024-05-31T20:00:00Z", &run, ("etl", "build_orders"), vec![], vec![output])).await;
        assert_eq!(rule_ids(results().await), vec!["orders_contract PASS"]);

        // The write completes: every rule on the dataset runs, whatever the event reported, so
        // the assertions nobody has reported yet show as an error.
        let mut output = dataset(NS, "analytics.orders");
        output["facets"]["dataQualityMetrics"] = json!({"_producer": "x", "_schemaURL": "y", "rowCount": 500.0, "columnMetrics": {"email": {"nullCount": 0.0}}});
        app.ingest(&run_event("COMPLETE", "2024-05-31T21:00:00Z", &run, ("etl", "build_orders"), vec![], vec![output])).await;
        let after_write = vec![
            "orders_contract PASS",
            "orders_contract PASS",
            "orders_dbt_tests ERROR",
            "orders_email_nulls PASS",
            "orders_fresh PASS",
            "orders_have_rows PASS",
        ];
        assert_eq!(rule_ids(results().await), after_write);

        // A reader reports assertions about it: only the assertions rule runs.
        let mut input = dataset(NS, "analytics.orders");
        input["inputFacets"] = json!({"dataQualityAssertions": {"_producer": "x", "_schemaURL": "y", "assertions": [
            {"assertion": "not_null", "column": "id", "success": true},
        ]}});
        app.ingest(&run_event("COMPLETE", "2024-05-31T21:30:00Z", &run_id(), ("dbt", "test.orders"), vec![input], vec![])).await;
        let mut after_read = after_write.clone();
        after_read.insert(3, "orders_dbt_tests PASS");
        assert_eq!(rule_ids(results().await), after_read);
    }

    async fn freshness_goes_stale_as_the_clock_moves(app) {
        apply(&app, RULES, false).await;
        // The test clock starts at 2024-06-01T00:00Z; the write is 1h before.
        app.ingest(&orders_event("2024-05-31T23:00:00Z", 1000.0, 0.0)).await;
        let results = app.query(r#"mutation($ns: String!) { evaluateRules(namespace: $ns, name: "analytics.orders") { ruleId outcome } }"#, json!({"ns": NS})).await;
        let fresh = results["evaluateRules"].as_array().and_then(|r| r.iter().find(|r| r["ruleId"] == "orders_fresh")).cloned();
        assert_eq!(fresh.map(|r| r["outcome"].clone()), Some(json!("PASS")));

        app.clock.advance(Duration::hours(6));
        app.query("mutation { evaluateRules { ruleId } }", json!({})).await;
        let h = health(&app, "analytics.orders").await;
        let stale = h["reasons"].as_array().and_then(|r| r.iter().find(|r| r["ruleId"] == "orders_fresh")).cloned().expect("freshness reason");
        assert_eq!(stale["outcome"], "FAIL");
        assert_eq!(stale["observed"]["age_seconds"], 7 * 3600);
        assert_eq!(stale["expected"], "written within 6h");
        assert_eq!(h["status"], "FAILING");

        // Rewritten: fresh again.
        app.ingest(&orders_event("2024-06-01T06:30:00Z", 1000.0, 0.0)).await;
        let h = health(&app, "analytics.orders").await;
        assert!(h["reasons"].as_array().into_iter().flatten().all(|r| r["ruleId"] != "orders_fresh"), "{h}");
    }

    async fn rule_mutations_validate_and_name_the_rule(app) {
        let create = r#"mutation($r: RuleInput!) { createRule(rule: $r, author: "ana") { id version kind } }"#;
        let rule = json!({"id": "rows", "kind": "metric", "target": {"namespace": "wh", "name": "*"}, "metric": "row_count", "op": ">", "value": 0.0});
        let created = app.query(create, json!({"r": rule})).await;
        assert_eq!(created["createRule"], json!({"id": "rows", "version": 1, "kind": "metric"}));
        let (code, _) = app.query_error_code(create, json!({"r": rule})).await;
        assert_eq!(code, "CONFLICT");

        let cases = [
            (json!({"id": "k", "kind": "magic", "target": {"namespace": "a", "name": "b"}}), "unknown kind `magic`"),
            (json!({"id": "t", "kind": "metric", "target": {"namespace": "a", "name": "b"}, "metric": "row_count", "op": "between", "min": 5.0, "max": 1.0}), "greater than `max`"),
            (json!({"id": "d", "kind": "freshness", "target": {"namespace": "a", "name": "b"}, "maxAge": "6 parsecs"}), "`max_age`"),
            (json!({"id": "p", "kind": "run_status", "target": {"namespace": "a", "name": "[unclosed"}}), "does not compile"),
            (json!({"id": "m", "kind": "metric", "target": {"namespace": "a", "name": "b"}, "metric": "median_nulls", "column": "x", "op": ">", "value": 1.0}), "unknown metric"),
        ];
        for (input, expected) in cases {
            let (code, message) = app.query_error_code(create, json!({"r": input})).await;
            assert_eq!(code, "BAD_USER_INPUT", "{message}");
            assert!(message.contains(expected), "{message} should contain {expected}");
            let id = input["id"].as_str().unwrap_or_default();
            assert!(message.contains(&format!("rule `{id}`")), "{message} should name the rule");
        }

        let update = r#"mutation($r: RuleInput!) { updateRule(rule: $r) { version definition } }"#;
        let mut changed = rule.clone();
        changed["value"] = json!(10.0);
        let updated = app.query(update, json!({"r": changed})).await;
        assert_eq!(updated["updateRule"]["version"], 2);
        let (code, _) = app.query_error_code(update, json!({"r": {"id": "ghost", "kind": "run_status", "target": {"namespace": "a", "name": "b"}}})).await;
        assert_eq!(code, "NOT_FOUND");
        let deleted = app.query(r#"mutation { deleteRule(id: "rows") }"#, json!({})).await;
        assert_eq!(deleted["deleteRule"], true);
        let (code, _) = app.query_error_code(r#"mutation { deleteRule(id: "rows") }"#, json!({})).await;
        assert_eq!(code, "NOT_FOUND");
        let history = app.query(r#"{ rule(id: "rows") { id } rules { id } }"#, json!({})).await;
        assert_eq!(history, json!({"rule": null, "rules": []}));
    }

    async fn cli_checks_and_applies_a_rules_file(app) {
        let dir = std::env::temp_dir().join(format!("weir-rules-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let good = dir.join("rules.yaml");
        std::fs::write(&good, RULES).expect("write rules");
        let bad = dir.join("bad.yaml");
        std::fs::write(&bad, RULES.replace("max_age: 6h", "max_age: whenever")).expect("write rules");

        let out = weir(&["rules", "check", good.to_str().unwrap_or_default()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("4 rules, all valid"));
        let out = weir(&["rules", "check", bad.to_str().unwrap_or_default()]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("bad.yaml:24: rule `orders_fresh`: `max_age`"), "{stderr}");

        // A bad file is refused before anything is sent.
        let out = weir(&["rules", "apply", bad.to_str().unwrap_or_default(), "--server", &app.base]);
        assert_eq!(out.status.code(), Some(1));
        let out = weir(&["rules", "apply", good.to_str().unwrap_or_default(), "--server", &app.base, "--dry-run"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("+ orders_fresh") && stdout.contains("4 created, 0 updated, 0 deleted, 0 unchanged (dry run, nothing changed)"), "{stdout}");
        assert_eq!(app.query("{ rules { id } }", json!({})).await["rules"], json!([]));

        let out = weir(&["rules", "apply", good.to_str().unwrap_or_default(), "--server", &app.base, "--author", "release-bot"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = weir(&["rules", "apply", good.to_str().unwrap_or_default(), "--server", &app.base]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("0 created, 0 updated, 0 deleted, 4 unchanged (applied)"));
        let rule = app.query(r#"{ rule(id: "orders_fresh") { version history { author } } }"#, json!({})).await;
        assert_eq!(rule["rule"], json!({"version": 1, "history": [{"author": "release-bot"}]}));

        let out = weir(&["rules", "apply", good.to_str().unwrap_or_default(), "--server", "http://127.0.0.1:9"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach Weir"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    async fn schema_contract_catches_a_breaking_change(app) {
        let rules = r#"
rules:
  - id: orders_contract
    kind: schema
    target: { namespace: wh, name: orders }
    required_columns: [{ name: id, type: BIGINT }]
    no_breaking_changes: true
"#;
        apply(&app, rules, false).await;
        let write = |cols: &[(&str, &str)], time: &str| {
            let mut out = dataset("wh", "orders");
            out["facets"]["schema"] = common::events::schema(cols);
            run_event("COMPLETE", time, &run_id(), ("etl", "orders"), vec![], vec![out])
        };
        app.ingest(&write(&[("id", "BIGINT"), ("email", "TEXT")], "2024-05-01T00:00:00Z")).await;
        let h = app.query(r#"{ dataset(namespace: "wh", name: "orders") { health { status } } }"#, json!({})).await;
        assert_eq!(h["dataset"]["health"]["status"], "HEALTHY");
        app.ingest(&write(&[("id", "BIGINT")], "2024-05-02T00:00:00Z")).await;
        let h = app.query(r#"{ dataset(namespace: "wh", name: "orders") { health { status reasons { message observed } } } }"#, json!({})).await;
        assert_eq!(h["dataset"]["health"]["status"], "FAILING");
        assert_eq!(h["dataset"]["health"]["reasons"][0]["message"], "column `email` was dropped");
    }

    async fn volume_change_compares_with_previous_writes(app) {
        let rules = r#"
rules:
  - id: orders_volume
    kind: volume_change
    severity: warn
    target: { namespace: "postgres://prod:5432", name: analytics.orders }
    lookback: 3
    max_drop_pct: 50
"#;
        apply(&app, rules, false).await;
        for (hour, rows) in [(1, 1000.0), (2, 1100.0), (3, 900.0)] {
            app.ingest(&orders_event(&format!("2024-05-31T0{hour}:00:00Z"), rows, 0.0)).await;
        }
        assert_eq!(health(&app, "analytics.orders").await["status"], "HEALTHY");
        app.ingest(&orders_event("2024-05-31T04:00:00Z", 100.0, 0.0)).await;
        let h = health(&app, "analytics.orders").await;
        assert_eq!(h["status"], "WARNING");
        assert_eq!(h["reasons"][0]["observed"], json!({"row_count": 100.0, "baseline": 1000.0, "change_pct": -90.0}));
    }

    async fn run_status_rule_fails_when_the_writer_fails(app) {
        let rules = "rules:\n  - id: last_run_ok\n    kind: run_status\n    target: { namespace: wh, name: 'daily_*' }\n";
        apply(&app, rules, false).await;
        app.ingest(&run_event("FAIL", "2024-05-01T00:00:00Z", &run_id(), ("etl", "daily"), vec![], vec![dataset("wh", "daily_sales")])).await;
        let h = app.query(r#"{ dataset(namespace: "wh", name: "daily_sales") { health { status reasons { observed } } } }"#, json!({})).await;
        assert_eq!(h["dataset"]["health"]["status"], "FAILING");
        assert_eq!(h["dataset"]["health"]["reasons"][0]["observed"], "FAIL");
    }
}

fn weir(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_weir")).args(args).output().expect("run weir")
}

/// The background sweep re-evaluates freshness on its own when time passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_sweep_marks_stale_datasets() {
    let app = common::TestApp::spawn_with(common::Backend::Sqlite, |c| c.freshness_interval = std::time::Duration::from_millis(50))
        .await
        .expect("sqlite");
    apply(&app, RULES, false).await;
    app.ingest(&orders_event("2024-05-31T23:00:00Z", 1000.0, 0.0)).await;
    app.clock.advance(Duration::hours(12));
    // Wait (bounded) for the sweep to record the stale result; no timing is asserted.
    let mut stale = None;
    for _ in 0..200 {
        let results = app
            .query(r#"query($ns: String!) { dataset(namespace: $ns, name: "analytics.orders") { checkResults(ruleId: "orders_fresh") { edges { node { outcome trigger } } } } }"#, json!({"ns": NS}))
            .await;
        if let Some(first) = results["dataset"]["checkResults"]["edges"].get(0)
            && first["node"]["trigger"] == "schedule"
        {
            stale = Some(first["node"].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stale, Some(json!({"outcome": "FAIL", "trigger": "schedule"})));
    // Only changes are stored by the sweep: the failure is recorded once however many ticks.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let results = app
        .query(r#"query($ns: String!) { dataset(namespace: $ns, name: "analytics.orders") { checkResults(ruleId: "orders_fresh") { edges { node { trigger } } } } }"#, json!({"ns": NS}))
        .await;
    let scheduled = results["dataset"]["checkResults"]["edges"].as_array().into_iter().flatten().filter(|e| e["node"]["trigger"] == "schedule").count();
    assert_eq!(scheduled, 1);
}
