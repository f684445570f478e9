//! Alerting end to end, with a real HTTP receiver on loopback: incidents, signed webhooks,
//! Slack, retries with a stable delivery id, restarts, two Weir processes, subscriptions.

mod common;

use std::time::Duration;

use common::events::{dataset, run_event, run_id};
use common::receiver::Receiver;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use weir::alert::model::DeliveryStatus;

const RULES: &str = r#"
rules:
  - id: has_rows
    kind: metric
    severity: block
    target: { namespace: wh, name: "*" }
    metric: row_count
    op: ">="
    value: 100
  - id: few_rows_warning
    kind: metric
    severity: warn
    target: { namespace: wh, name: "*" }
    metric: row_count
    op: ">="
    value: 1000
"#;

const SECRET: &str = "s3cret-for-tests";

async fn setup(app: &common::TestApp, receiver: &Receiver, kind: &str, events: &[&str]) {
    app.query("mutation($y: String!) { applyRules(yaml: $y) { applied } }", json!({"y": RULES})).await;
    let channel = json!({"name": "oncall", "kind": kind, "url": receiver.url(), "secret": SECRET, "filter": {"events": events}});
    app.query("mutation($c: ChannelInput!) { saveChannel(channel: $c) { name hasSecret } }", json!({"c": channel})).await;
}

/// `orders` written with `rows` rows by a run of `load`; it feeds `report` through `build`.
async fn write_orders(app: &common::TestApp, rows: f64, minute: u32) {
    let mut out = dataset("wh", "orders");
    out["facets"]["dataQualityMetrics"] = json!({"_producer": "x", "_schemaURL": "y", "rowCount": rows});
    out["facets"]["ownership"] = json!({"_producer": "x", "_schemaURL": "y", "owners": [{"name": "team:orders", "type": "TEAM"}]});
    app.ingest(&run_event("COMPLETE", &format!("2024-05-01T00:{minute:02}:00Z"), &run_id(), ("etl", "load"), vec![], vec![out])).await;
}

async fn downstream(app: &common::TestApp) {
    let mut report = dataset("wh", "report");
    report["facets"]["ownership"] = json!({"_producer": "x", "_schemaURL": "y", "owners": [{"name": "ana@example.com", "type": "USER"}]});
    // A malformed ownership facet further down is ignored, not an error.
    let mut archive = dataset("wh", "report_archive");
    archive["facets"]["ownership"] = json!("team:archive");
    let mut event = run_event("COMPLETE", "2024-04-30T00:00:00Z", &run_id(), ("etl", "build"), vec![dataset("wh", "orders")], vec![report, archive]);
    event["job"]["facets"]["ownership"] = json!({"_producer": "x", "_schemaURL": "y", "owners": [{"name": "team:platform", "type": "TEAM"}]});
    app.ingest(&event).await;
}

fn signature(body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn incidents(app: &common::TestApp) -> Vec<Value> {
    let data = app.query("{ incidents { edges { node { id status ruleId resolvedBy } } } }", json!({})).await;
    data["incidents"]["edges"].as_array().into_iter().flatten().map(|e| e["node"].clone()).collect()
}

backend_tests! {
    async fn the_blast_radius_includes_lineage_committed_with_the_failure(app) {
        // One event reads `orders` (reporting 5 rows: the block rule fails) and writes a new
        // `report` through a new job. The incident is opened in the same transaction, so its
        // blast radius must be read inside it: `build` and `report` exist only there yet.
        let receiver = Receiver::start(&[]).await;
        setup(&app, &receiver, "webhook", &["incident.opened"]).await;
        let mut input = dataset("wh", "orders");
        input["inputFacets"] = json!({"inputStatistics": {"_producer": "x", "_schemaURL": "y", "rowCount": 5}});
        let mut report = dataset("wh", "report");
        report["facets"]["ownership"] = json!({"_producer": "x", "_schemaURL": "y", "owners": [{"name": "ana@example.com", "type": "USER"}]});
        app.ingest(&run_event("COMPLETE", "2024-05-01T00:10:00Z", &run_id(), ("etl", "build"), vec![input], vec![report])).await;
        let data = app
            .query("{ incidents { edges { node { ruleId dataset { name } blastRadius { datasets { name } jobs { name } owners { name } truncated } } } } }", json!({}))
            .await;
        let opened: Vec<&Value> = data["incidents"]["edges"].as_array().into_iter().flatten().map(|e| &e["node"]).filter(|n| n["ruleId"] == "has_rows").collect();
        assert_eq!(opened.len(), 1, "{data}");
        assert_eq!(opened[0]["dataset"]["name"], "orders");
        assert_eq!(opened[0]["blastRadius"]["datasets"], json!([{"name": "report"}]), "{data}");
        assert_eq!(opened[0]["blastRadius"]["jobs"], json!([{"name": "build"}]), "{data}");
        assert_eq!(opened[0]["blastRadius"]["owners"], json!([{"name": "ana@example.com"}]), "{data}");
        assert_eq!(opened[0]["blastRadius"]["truncated"], false, "{data}");
    }

    async fn a_blast_radius_lists_the_nearest_500_nodes_and_says_it_is_cut(app) {
        // `fan` turns `orders` into 300 datasets; `far` turns the first of them into 300
        // more; `probe` reads `orders` and finds 5 rows. Downstream of `orders`: 3 jobs, 300
        // near datasets and 300 far ones, 603 nodes. The walk keeps the nearest: every node
        // up to the step that crosses 500, then that step's nodes of lowest id (first seen).
        let receiver = Receiver::start(&[]).await;
        setup(&app, &receiver, "webhook", &["incident.opened"]).await;
        let near: Vec<Value> = (0..300).map(|i| dataset("wh", &format!("near_{i:03}"))).collect();
        let far: Vec<Value> = (0..300).map(|i| dataset("wh", &format!("far_{i:03}"))).collect();
        app.ingest(&run_event("COMPLETE", "2024-05-01T00:00:00Z", &run_id(), ("etl", "fan"), vec![dataset("wh", "orders")], near)).await;
        app.ingest(&run_event("COMPLETE", "2024-05-01T00:01:00Z", &run_id(), ("etl", "far"), vec![dataset("wh", "near_000")], far)).await;
        let mut input = dataset("wh", "orders");
        input["inputFacets"] = json!({"inputStatistics": {"_producer": "x", "_schemaURL": "y", "rowCount": 5}});
        app.ingest(&run_event("COMPLETE", "2024-05-01T00:02:00Z", &run_id(), ("etl", "probe"), vec![input], vec![])).await;

        let data = app.query("{ incidents { edges { node { ruleId blastRadius { datasets { name } jobs { name } truncated } } } } }", json!({})).await;
        let radius = &data["incidents"]["edges"][0]["node"]["blastRadius"];
        assert_eq!(data["incidents"]["edges"][0]["node"]["ruleId"], "has_rows", "{data}");
        assert_eq!(radius["truncated"], true);
        assert_eq!(radius["jobs"], json!([{"name": "fan"}, {"name": "far"}, {"name": "probe"}]));
        let names: Vec<&str> = radius["datasets"].as_array().into_iter().flatten().filter_map(|d| d["name"].as_str()).collect();
        let expected: Vec<String> = (0..197).map(|i| format!("far_{i:03}")).chain((0..300).map(|i| format!("near_{i:03}"))).collect();
        assert_eq!(names, expected);

        // The alert carries the same cut radius, and says so.
        let body = receiver.wait_for(1).await[0].json();
        assert_eq!(body["blast_radius"]["truncated"], true);
        assert_eq!(body["blast_radius"]["datasets"].as_array().map(Vec::len), Some(497));
    }

    async fn a_blast_radius_that_fills_500_exactly_still_says_more_is_downstream(app) {
        // `fan` and `probe` read `orders` (2 nodes), `fan` writes 498 datasets (500 in all),
        // and `far` reads one of those: the 501st node, one step past the bound.
        let receiver = Receiver::start(&[]).await;
        setup(&app, &receiver, "webhook", &["incident.opened"]).await;
        let near: Vec<Value> = (0..498).map(|i| dataset("wh", &format!("near_{i:03}"))).collect();
        app.ingest(&run_event("COMPLETE", "2024-05-01T00:00:00Z", &run_id(), ("etl", "fan"), vec![dataset("wh", "orders")], near)).await;
        app.ingest(&run_event("COMPLETE", "2024-05-01T00:01:00Z", &run_id(), ("etl", "far"), vec![dataset("wh", "near_000")], vec![])).await;
        let mut input = dataset("wh", "orders");
        input["inputFacets"] = json!({"inputStatistics": {"_producer": "x", "_schemaURL": "y", "rowCount": 5}});
        app.ingest(&run_event("COMPLETE", "2024-05-01T00:02:00Z", &run_id(), ("etl", "probe"), vec![input], vec![])).await;

        let data = app.query("{ incidents { edges { node { blastRadius { datasets { name } jobs { name } truncated } } } } }", json!({})).await;
        let radius = &data["incidents"]["edges"][0]["node"]["blastRadius"];
        assert_eq!(radius["jobs"], json!([{"name": "fan"}, {"name": "probe"}]), "{data}");
        assert_eq!(radius["datasets"].as_array().map(Vec::len), Some(498));
        assert_eq!(radius["truncated"], true, "`far` is downstream and not listed");
    }

    async fn a_failing_block_rule_opens_one_incident_and_sends_one_signed_alert(app) {
        let receiver = Receiver::start(&[]).await;
        setup(&app, &receiver, "webhook", &["incident.opened", "incident.resolved"]).await;
        downstream(&app).await;
        for minute in 0..100 {
            write_orders(&app, 5.0, minute % 60).await;
        }
        let open = incidents(&app).await;
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(open[0]["status"], "OPEN");

        let received = receiver.wait_for(1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.received().len(), 1, "one alert for 100 failing evaluations");
        let alert = &received[0];
        assert_eq!(alert.header("x-weir-signature"), Some(signature(&alert.body)));
        assert_eq!(alert.header("x-weir-event").as_deref(), Some("incident.opened"));
        let body = alert.json();
        assert_eq!(alert.header("x-weir-delivery"), body["delivery_id"].as_str().map(str::to_string));
        assert_eq!(body["event"], "incident.opened");
        assert_eq!(body["dataset"], json!({"namespace": "wh", "name": "orders"}));
        assert_eq!(body["check"]["observed"], 5.0);
        assert_eq!(body["check"]["expected"], "row_count >= 100");
        assert_eq!(body["blast_radius"]["datasets"], json!([{"namespace": "wh", "name": "report"}, {"namespace": "wh", "name": "report_archive"}]));
        assert_eq!(body["blast_radius"]["jobs"], json!([{"namespace": "etl", "name": "build"}]));
        let owners: Vec<&str> = body["blast_radius"]["owners"].as_array().into_iter().flatten().filter_map(|o| o["name"].as_str()).collect();
        assert_eq!(owners, vec!["team:orders", "ana@example.com", "team:platform"]);

        // The rule passes again: the incident resolves itself, with an alert.
        write_orders(&app, 5000.0, 59).await;
        let received = receiver.wait_for(2).await;
        assert_eq!(received[1].json()["event"], "incident.resolved");
        let after = incidents(&app).await;
        assert_eq!(after[0]["status"], "RESOLVED");
        assert_eq!(after[0]["resolvedBy"], Value::Null);
        let id = after[0]["id"].as_str().unwrap_or_default().to_string();
        let detail = app.query("query($id: ID!) { incident(id: $id) { timeline { kind } openingCheck { observed } dataset { name } blastRadius { owners { name owns } } } }", json!({"id": id})).await;
        assert_eq!(detail["incident"]["timeline"], json!([{"kind": "opened"}, {"kind": "resolved"}]));
        assert_eq!(detail["incident"]["openingCheck"]["observed"], 5.0);
        assert_eq!(detail["incident"]["blastRadius"]["owners"][1], json!({"name": "ana@example.com", "owns": "dataset:wh:report"}));
        assert_eq!(detail["incident"]["blastRadius"]["owners"][2], json!({"name": "team:platform", "owns": "job:etl:build"}));
    }

    async fn a_late_failure_on_older_evidence_opens_no_incident(app) {
        let receiver = Receiver::start(&[]).await;
        setup(&app, &receiver, "webhook", &["incident.opened"]).await;
        write_orders(&app, 5000.0, 30).await;
        // Evidence from before the passing write arrives afterwards: it goes into history,
        // but the dataset's latest result is still the pass, so nothing opens.
        write_orders(&app, 5.0, 10).await;
        assert_eq!(incidents(&app).await, Vec::<Value>::new());
        let data = app.query(r#"{ dataset(namespace: "wh", name: "orders") { health { status } checkResults(first: 10) { edges { node { ruleId outcome } } } } }"#, json!({})).await;
        assert_eq!(data["dataset"]["health"]["status"], "HEALTHY", "{data}");
        let has_rows: Vec<&Value> = data["dataset"]["checkResults"]["edges"].as_array().into_iter().flatten()
            .map(|e| &e["node"]).filter(|n| n["ruleId"] == "has_rows").map(|n| &n["outcome"]).collect();
        assert_eq!(has_rows.len(), 2, "both results are in history: {data}");
        assert!(has_rows.contains(&&json!("FAIL")), "{data}");
        // A failure on newer evidence does open one.
        write_orders(&app, 5.0, 40).await;
        let open = incidents(&app).await;
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(open[0]["ruleId"], "has_rows");
    }

    async fn acknowledge_and_resolve_by_hand(app) {
        let receiver = Receiver::start(&[]).await;
        setup(&app, &receiver, "webhook", &[]).await;
        write_orders(&app, 5.0, 0).await;
        let id = incidents(&app).await[0]["id"].as_str().unwrap_or_default().to_string();
        let acked = app.query("mutation($id: ID!) { acknowledgeIncident(id: $id, note: \"looking\", author: \"bo\") { status acknowledgedBy } }", json!({"id": id})).await;
        assert_eq!(acked["acknowledgeIncident"], json!({"status": "ACKNOWLEDGED", "acknowledgedBy": "bo"}));
        let (code, _) = app.query_error_code("mutation($id: ID!) { acknowledgeIncident(id: $id) { status } }", json!({"id": id})).await;
        assert_eq!(code, "CONFLICT");
        let resolved = app.query("mutation($id: ID!) { resolveIncident(id: $id, note: \"backfilled\", author: \"bo\") { status resolvedBy timeline { kind actor note } } }", json!({"id": id})).await;
        assert_eq!(resolved["resolveIncident"]["status"], "RESOLVED");
        assert_eq!(resolved["resolveIncident"]["timeline"], json!([
            {"kind": "opened", "actor": null, "note": null},
            {"kind": "acknowledged", "actor": "bo", "note": "looking"},
            {"kind": "resolved", "actor": "bo", "note": "backfilled"},
        ]));
        let mut events: Vec<String> = receiver.wait_for(4).await.iter().map(|r| r.json()["event"].as_str().unwrap_or("").to_string()).collect();
        // The first two come from one event (both rules fail at once), in either order.
        events[..2].sort();
        assert_eq!(events, vec!["check.warn_failed", "incident.opened", "incident.acknowledged", "incident.resolved"]);
        // Failing again after a manual resolution opens a new incident.
        write_orders(&app, 6.0, 1).await;
        let all = incidents(&app).await;
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["status"], "OPEN");
        let (code, _) = app.query_error_code(r#"mutation { resolveIncident(id: "999") { status } }"#, json!({})).await;
        assert_eq!(code, "NOT_FOUND");
    }

    async fn a_receiver_that_fails_then_recovers_gets_the_alert_with_one_delivery_id(app) {
        let receiver = Receiver::start(&[500, 503]).await;
        setup(&app, &receiver, "webhook", &["incident.opened"]).await;
        write_orders(&app, 5.0, 0).await;
        let received = receiver.wait_for(3).await;
        let ids: Vec<Option<String>> = received.iter().map(|r| r.header("x-weir-delivery")).collect();
        assert!(ids[0].is_some());
        assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
        let deliveries = app.query(r#"{ channels { deliveries { status attempts lastStatus } } }"#, json!({})).await;
        let mut delivery = Value::Null;
        for _ in 0..100 {
            let d = app.query(r#"{ channels { deliveries { status attempts lastStatus } } }"#, json!({})).await;
            delivery = d["channels"][0]["deliveries"][0].clone();
            if delivery["status"] == "DELIVERED" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(delivery, json!({"status": "DELIVERED", "attempts": 3, "lastStatus": 200}), "{deliveries}");
    }

    async fn pending_alerts_survive_a_restart(app) {
        let receiver = Receiver::start(&[]).await;
        receiver.set_default_status(503);
        setup(&app, &receiver, "webhook", &["incident.opened"]).await;
        write_orders(&app, 5.0, 0).await;
        receiver.wait_for(1).await;
        let app = app.restart().await;
        receiver.set_default_status(200);
        let delivery_id = receiver.received()[0].header("x-weir-delivery");
        for _ in 0..200 {
            if receiver.received().last().map(|r| r.header("x-weir-delivery")) == Some(delivery_id.clone())
                && app.query(r#"{ channels { deliveries { status } } }"#, json!({})).await["channels"][0]["deliveries"][0]["status"] == "DELIVERED"
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the alert queued before the restart was not delivered after it");
    }

    async fn slack_channels_get_slack_messages_and_test_channel_reports_the_answer(app) {
        let receiver = Receiver::start(&[]).await;
        setup(&app, &receiver, "slack", &["incident.opened"]).await;
        write_orders(&app, 5.0, 0).await;
        let body = receiver.wait_for(1).await[0].json();
        let text = body["text"].as_str().unwrap_or_default();
        assert!(text.contains("Incident opened on *wh/orders*") && text.contains("rule `has_rows`"), "{text}");
        assert_eq!(body["blocks"][0]["type"], "section");
        assert!(receiver.received()[0].header("x-weir-signature").is_none(), "Slack bodies are not signed");

        let tested = app.query(r#"mutation { testChannel(name: "oncall") { ok status error } }"#, json!({})).await;
        assert_eq!(tested["testChannel"], json!({"ok": true, "status": 200, "error": null}));
        receiver.set_default_status(500);
        let tested = app.query(r#"mutation { testChannel(name: "oncall") { ok status error } }"#, json!({})).await;
        assert_eq!(tested["testChannel"]["ok"], false);
        assert_eq!(tested["testChannel"]["status"], 500);
    }

    async fn bad_channels_are_refused(app) {
        let cases = [
            json!({"name": "x", "kind": "pager", "url": "http://127.0.0.1:1/x"}),
            json!({"name": "x", "kind": "webhook", "url": "not a url"}),
            json!({"name": "x", "kind": "webhook", "url": "ftp://host/x"}),
            json!({"name": "x", "kind": "webhook", "url": "http://h/x", "filter": {"events": ["incident.exploded"]}}),
            json!({"name": "x", "kind": "webhook", "url": "http://h/x", "filter": {"datasets": ["[bad"]}}),
            json!({"name": " ", "kind": "webhook", "url": "http://h/x"}),
        ];
        for channel in cases {
            let (code, message) = app.query_error_code("mutation($c: ChannelInput!) { saveChannel(channel: $c) { name } }", json!({"c": channel})).await;
            assert_eq!(code, "BAD_USER_INPUT", "{channel}: {message}");
        }
        let (code, _) = app.query_error_code(r#"mutation { testChannel(name: "nope") { ok } }"#, json!({})).await;
        assert_eq!(code, "NOT_FOUND");
    }

    async fn a_gate_violation_is_alerted_with_its_reasons_and_outputs(app) {
        let receiver = Receiver::start(&[]).await;
        setup(&app, &receiver, "webhook", &["gate.violation"]).await;
        downstream(&app).await;
        write_orders(&app, 5.0, 0).await;
        let id = run_id();
        app.ingest(&run_event("START", "2024-05-01T02:00:00Z", &id, ("etl", "build"), vec![dataset("wh", "orders")], vec![])).await;
        let body = receiver.wait_for(1).await[0].json();
        assert_eq!(body["event"], "gate.violation");
        assert_eq!(body["run_id"], id);
        assert_eq!(body["job"], json!({"namespace": "etl", "name": "build"}));
        assert_eq!(body["blocking_reasons"][0]["rule_id"], "has_rows");
        assert_eq!(body["tainted_outputs"], json!([{"namespace": "wh", "name": "report"}, {"namespace": "wh", "name": "report_archive"}]));
    }

    async fn retention_removes_alerts_whose_delivery_ended_and_keeps_pending_ones(app) {
        let ok = Receiver::start(&[]).await;
        setup(&app, &ok, "webhook", &["incident.opened"]).await;
        // A second channel whose receiver keeps failing: its alert stays pending, retrying.
        let failing = Receiver::start(&[]).await;
        failing.set_default_status(503);
        let channel = json!({"name": "flaky", "kind": "webhook", "url": failing.url(), "filter": {"events": ["incident.opened"]}});
        app.query("mutation($c: ChannelInput!) { saveChannel(channel: $c) { name } }", json!({"c": channel})).await;
        write_orders(&app, 5.0, 0).await;
        ok.wait_for(1).await;
        failing.wait_for(1).await;
        let statuses = || async {
            let mut s: Vec<DeliveryStatus> = app.store.deliveries(None, None, 10).await.expect("deliveries").into_iter().map(|d| d.status).collect();
            s.sort_by_key(|status| status.as_str());
            s
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while statuses().await != [DeliveryStatus::Delivered, DeliveryStatus::Pending] {
            assert!(std::time::Instant::now() < deadline, "{:?}", statuses().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // Alerts are queued on the wall clock; a month later both are past the period.
        let later = chrono::Utc::now() + chrono::Duration::days(31);
        let dry = weir::retention::run(&app.store, 30, later, 1, true, || false).await.expect("dry run").expect("on");
        assert_eq!(dry.alerts, 1);
        assert_eq!(statuses().await.len(), 2);
        let report = weir::retention::run(&app.store, 30, later, 1, false, || false).await.expect("run").expect("on");
        assert_eq!(report.alerts, 1);
        assert!(report.to_string().ends_with("and 1 delivered or failed alerts queued before it"), "{report}");
        assert_eq!(statuses().await, [DeliveryStatus::Pending]);
        // Within the period nothing goes.
        let now = weir::retention::run(&app.store, 30, chrono::Utc::now(), 1, false, || false).await.expect("run").expect("on");
        assert_eq!(now.alerts, 0);
    }

    async fn an_unreachable_receiver_is_reported_without_its_url(app) {
        app.query("mutation($y: String!) { applyRules(yaml: $y) { applied } }", json!({"y": RULES})).await;
        // Nothing listens on port 1; the path stands for a Slack webhook's credential.
        let channel = json!({"name": "gone", "kind": "slack", "url": "http://127.0.0.1:1/services/the-credential"});
        app.query("mutation($c: ChannelInput!) { saveChannel(channel: $c) { name } }", json!({"c": channel})).await;
        write_orders(&app, 5.0, 0).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let error = loop {
            let deliveries = app.store.deliveries(None, None, 10).await.expect("deliveries");
            if let Some(error) = deliveries.iter().find_map(|d| d.last_error.clone()) {
                break error;
            }
            assert!(std::time::Instant::now() < deadline, "no attempt was recorded: {deliveries:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(error.starts_with("cannot reach receiver"), "{error}");
        assert!(!error.contains("the-credential") && !error.contains("127.0.0.1:1"), "{error}");
    }

    async fn a_subscription_over_a_real_websocket_receives_incident_changes(app) {
        setup(&app, &Receiver::start(&[]).await, "webhook", &[]).await;
        let url = format!("ws://{}/graphql/ws", app.addr);
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket");
        socket.send(Message::Text(json!({"type": "connection_init", "payload": {}}).to_string().into())).await.expect("send");
        let ack = socket.next().await.expect("ack").expect("ack message");
        assert!(ack.to_text().unwrap_or_default().contains("connection_ack"), "{ack:?}");
        let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { incidentChanged(namespace: \"wh\") { status ruleId dataset { name } } }"}});
        socket.send(Message::Text(subscribe.to_string().into())).await.expect("subscribe");
        // Give the server a moment to register the subscription before the change happens.
        tokio::time::sleep(Duration::from_millis(200)).await;
        write_orders(&app, 5.0, 0).await;
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a message in time").expect("message").expect("ok");
        let value: Value = serde_json::from_str(message.to_text().unwrap_or_default()).expect("json");
        assert_eq!(value["type"], "next");
        assert_eq!(value["payload"]["data"]["incidentChanged"], json!({"status": "OPEN", "ruleId": "has_rows", "dataset": {"name": "orders"}}));
    }
}

/// Two Weir processes on one PostgreSQL: every alert is delivered by exactly one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_deliver_each_alert_once() {
    let Some(app) = common::TestApp::spawn(common::Backend::Postgres).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let receiver = Receiver::start(&[]).await;
    receiver.set_delay(Duration::from_millis(20));
    setup(&app, &receiver, "webhook", &["incident.opened"]).await;
    // A second replica on the same database, with its own delivery worker.
    let second = weir::App::build(common::config_for(&app.database_url)).await.expect("second replica");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(second.run_until(async {
        let _ = stopped.await;
    }));
    for i in 0..30 {
        let mut out = dataset("wh", &format!("t{i}"));
        out["facets"]["dataQualityMetrics"] = json!({"_producer": "x", "_schemaURL": "y", "rowCount": 1.0});
        app.ingest(&run_event("COMPLETE", "2024-05-01T00:00:00Z", &run_id(), ("etl", &format!("j{i}")), vec![], vec![out])).await;
    }
    let received = receiver.wait_for(30).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ids: Vec<String> = receiver.received().iter().filter_map(|r| r.header("x-weir-delivery")).collect();
    assert_eq!(received.len(), 30);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "each alert exactly once");
    assert_eq!(receiver.received().len(), 30, "no alert sent twice");
    let _ = stop.send(());
    let _ = server.await;
}
