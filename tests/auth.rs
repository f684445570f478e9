//! Authentication and roles: every route and GraphQL operation kind against no token, each
//! role, a revoked token and a made-up one; what each refusal looks like; revocation on a
//! running server; the token's name as the author of changes; and when auth is off.

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use weir::auth::Role;

use common::TestApp;
use common::events::{dataset, run_event, run_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    NoToken,
    Ingest,
    Read,
    Admin,
    Revoked,
    MadeUp,
}

const CALLERS: [Caller; 6] = [Caller::NoToken, Caller::Ingest, Caller::Read, Caller::Admin, Caller::Revoked, Caller::MadeUp];

struct Tokens {
    ingest: String,
    read: String,
    admin: String,
    revoked: String,
}

impl Tokens {
    async fn create(app: &TestApp) -> Tokens {
        let tokens = Tokens {
            ingest: app.create_token(Role::Ingest, "airflow").await,
            read: app.create_token(Role::Read, "catalog").await,
            admin: app.create_token(Role::Admin, "platform-admin").await,
            revoked: app.create_token(Role::Admin, "former-admin").await,
        };
        app.revoke_token("former-admin").await;
        tokens
    }

    fn of(&self, caller: Caller) -> Option<&str> {
        match caller {
            Caller::NoToken => None,
            Caller::Ingest => Some(&self.ingest),
            Caller::Read => Some(&self.read),
            Caller::Admin => Some(&self.admin),
            Caller::Revoked => Some(&self.revoked),
            Caller::MadeUp => Some("not-a-token-anyone-was-given"),
        }
    }
}

/// Who may use an endpoint.
#[derive(Debug, Clone, Copy)]
enum Needs {
    Nothing,
    Ingest,
    Read,
    Admin,
}

/// The status a caller gets: `ok` when allowed, else 401 (no valid token) or 403.
fn expected(needs: Needs, caller: Caller, ok: u16) -> u16 {
    let allowed = match (needs, caller) {
        (Needs::Nothing, _) => true,
        (_, Caller::NoToken | Caller::Revoked | Caller::MadeUp) => return 401,
        (_, Caller::Admin) => true,
        (Needs::Ingest, Caller::Ingest) | (Needs::Read, Caller::Read) => true,
        _ => false,
    };
    if allowed { ok } else { 403 }
}

fn event(job: &str) -> Value {
    run_event("COMPLETE", "2024-05-01T10:00:00Z", &run_id(), ("auth", job), vec![], vec![dataset("auth", &format!("{job}_out"))])
}

fn rule(id: &str) -> Value {
    json!({"id": id, "kind": "metric", "target": {"namespace": "auth", "name": "*"}, "metric": "row_count", "op": ">", "value": 0.0})
}

const CREATE_RULE: &str = r#"mutation($r: RuleInput!) { createRule(rule: $r, author: "someone-else") { id } }"#;

/// Sends one request of `route` as `caller`; returns the status and the `WWW-Authenticate`
/// header.
async fn call(app: &TestApp, route: &str, token: Option<&str>, tag: &str) -> (u16, Option<String>) {
    let request = match route {
        "POST /api/v1/lineage" => app.request(Method::POST, "/api/v1/lineage", token).json(&event(tag)),
        "POST /api/v1/lineage/batch" => app.request(Method::POST, "/api/v1/lineage/batch", token).json(&json!([event(tag)])),
        // The job the admin's event of the first route created.
        "GET /api/v1/lineage" => app.request(Method::GET, "/api/v1/lineage", token).query(&[("nodeId", "job:auth:admin_post__api_v1_lineage")]),
        "GET /graphql (GraphiQL)" => app.request(Method::GET, "/graphql", token).header("accept", "text/html"),
        "GET /graphql query" => app.request(Method::GET, "/graphql", token).query(&[("query", "{ namespaces { name } }")]),
        "POST /graphql query" => {
            app.request(Method::POST, "/graphql", token).json(&json!({"query": "{ namespaces { name } }"}))
        }
        "POST /graphql introspection" => {
            app.request(Method::POST, "/graphql", token).json(&json!({"query": "{ __schema { queryType { name } } }"}))
        }
        "POST /graphql mutation" => app
            .request(Method::POST, "/graphql", token)
            .json(&json!({"query": CREATE_RULE, "variables": {"r": rule(tag)}})),
        "GET /api/v1/gate" => app.request(Method::GET, "/api/v1/gate", token).query(&[("namespace", "auth"), ("job", tag)]),
        "POST /graphql gate" => app
            .request(Method::POST, "/graphql", token)
            .json(&json!({"query": "query($j: String!) { gate(namespace: \"auth\", job: $j) { decision } }", "variables": {"j": tag}})),
        "GET /readyz" => app.request(Method::GET, "/readyz", token),
        "GET /metrics" => app.request(Method::GET, "/metrics", token),
        "GET /healthz" => app.request(Method::GET, "/healthz", token),
        other => panic!("unknown route {other}"),
    };
    let response = request.send().await.expect("request");
    let challenge = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_string);
    (response.status().as_u16(), challenge)
}

const ROUTES: [(&str, Needs, u16); 13] = [
    ("POST /api/v1/lineage", Needs::Ingest, 201),
    ("POST /api/v1/lineage/batch", Needs::Ingest, 200),
    ("GET /api/v1/lineage", Needs::Read, 200),
    ("GET /graphql (GraphiQL)", Needs::Read, 200),
    ("GET /graphql query", Needs::Read, 200),
    ("POST /graphql query", Needs::Read, 200),
    ("POST /graphql introspection", Needs::Read, 200),
    ("POST /graphql mutation", Needs::Admin, 200),
    ("GET /api/v1/gate", Needs::Read, 200),
    ("POST /graphql gate", Needs::Read, 200),
    ("GET /readyz", Needs::Read, 200),
    ("GET /metrics", Needs::Read, 200),
    ("GET /healthz", Needs::Nothing, 200),
];

backend_tests! {
    async fn every_route_and_operation_kind_against_every_caller(app) {
        let tokens = Tokens::create(&app).await;
        let mut failures = Vec::new();
        let mut ingested = 0;
        for (route, needs, ok) in ROUTES {
            for caller in CALLERS {
                let tag = format!("{:?}_{}", caller, route.replace(|c: char| !c.is_ascii_alphanumeric(), "_")).to_lowercase();
                let (status, challenge) = call(&app, route, tokens.of(caller), &tag).await;
                let want = expected(needs, caller, ok);
                if status != want {
                    failures.push(format!("{route} as {caller:?}: got {status}, want {want}"));
                }
                if status == 401 && !challenge.is_some_and(|c| c.starts_with("Bearer")) {
                    failures.push(format!("{route} as {caller:?}: 401 without a Bearer WWW-Authenticate"));
                }
                if route.starts_with("POST /api/v1/lineage") && want < 300 {
                    ingested += 1;
                }
            }
        }
        assert!(failures.is_empty(), "auth matrix ({:?}):\n{}", app.backend, failures.join("\n"));

        // What happened, not only the statuses: exactly the allowed events were stored...
        assert_eq!(app.store.raw_event_count().await.expect("count"), ingested);
        // ...and exactly the admin's rule was created, authored by the token's name rather
        // than the `author` argument.
        let (_, body) = app.graphql_as(Some(&tokens.admin), "{ rules { id history { author } } }", json!({})).await;
        assert_eq!(
            body["data"]["rules"],
            json!([{"id": "admin_post__graphql_mutation", "history": [{"author": "platform-admin"}]}]),
            "{body}"
        );
    }

    async fn refusals_say_why_in_json_and_graphql_form(app) {
        let tokens = Tokens::create(&app).await;
        let response = app.request(Method::POST, "/api/v1/lineage", None).json(&event("x")).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 401);
        assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="weir""#);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "UNAUTHENTICATED");

        let response = app.request(Method::POST, "/api/v1/lineage", Some(&tokens.revoked)).json(&event("x")).send().await.expect("request");
        assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="weir", error="invalid_token""#);
        let body: Value = response.json().await.expect("json");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains("revoked"), "{body}");

        let response = app.request(Method::POST, "/api/v1/lineage", Some(&tokens.read)).json(&event("x")).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 403);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "FORBIDDEN");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("catalog") && message.contains("`read`") && message.contains("`ingest` or `admin`"), "{message}");

        // A read token's mutation: a GraphQL error with code FORBIDDEN and HTTP 403, and nothing
        // was executed.
        let (status, body) = app.graphql_as(Some(&tokens.read), "mutation { deleteRule(id: \"nope\") }", json!({})).await;
        assert_eq!(status, 403);
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
        assert!(body["data"].is_null(), "{body}");

        // A document with a query and a mutation: the chosen operation decides.
        let doc = r#"query Q { namespaces { name } } mutation M { createRule(rule: {id: "m", kind: "metric", target: {namespace: "a", name: "b"}, metric: "row_count", op: ">", value: 0}) { id } }"#;
        let ask = |name: &'static str| app
            .request(Method::POST, "/graphql", Some(&tokens.read))
            .json(&json!({"query": doc, "operationName": name}))
            .send();
        assert_eq!(ask("Q").await.expect("request").status().as_u16(), 200);
        assert_eq!(ask("M").await.expect("request").status().as_u16(), 403);
        let (_, rules) = app.graphql_as(Some(&tokens.admin), "{ rules { id } }", json!({})).await;
        assert_eq!(rules["data"]["rules"], json!([]));

        // Mutations are refused over GET whoever asks: a GET must not change anything.
        let response = app
            .request(Method::GET, "/graphql", Some(&tokens.admin))
            .query(&[("query", "mutation { deleteRule(id: \"x\") }")])
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 405);
    }

    async fn revocation_applies_to_the_next_request_of_a_running_server(app) {
        let token = app.create_token(Role::Ingest, "short-lived").await;
        let send = || app.request(Method::POST, "/api/v1/lineage", Some(&token)).json(&event("revoked_later")).send();
        assert_eq!(send().await.expect("request").status().as_u16(), 201);
        app.revoke_token("short-lived").await;
        assert_eq!(send().await.expect("request").status().as_u16(), 401);
        assert_eq!(app.store.raw_event_count().await.expect("count"), 1);
    }

    async fn openlineage_clients_api_key_works_as_is(app) {
        // openlineage-python's `auth: {type: api_key, api_key: KEY}` sends exactly this header.
        let key = app.create_token(Role::Ingest, "spark").await;
        let response = app
            .client
            .post(app.url("/api/v1/lineage"))
            .header("Authorization", format!("Bearer {key}"))
            .json(&event("spark_job"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 201);
        // Any capitalisation of the scheme.
        let response = app
            .client
            .post(app.url("/api/v1/lineage"))
            .header("Authorization", format!("bearer {key}"))
            .json(&event("spark_job_2"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status().as_u16(), 201);
    }

    async fn without_tokens_a_loopback_server_is_open_and_authors_come_from_the_argument(app) {
        let response = app.post_event(&event("open")).await;
        assert_eq!(response.status().as_u16(), 201);
        let data = app.query(CREATE_RULE, json!({"r": rule("open_rule")})).await;
        assert_eq!(data["createRule"]["id"], "open_rule");
        let history = app.query(r#"{ rule(id: "open_rule") { history { author } } }"#, json!({})).await;
        assert_eq!(history["rule"]["history"], json!([{"author": "someone-else"}]));
    }

    async fn the_websocket_checks_the_token_and_the_operation_like_http(app) {
        let tokens = Tokens::create(&app).await;
        let query = "{ namespaces { name } }";
        let mutation = r#"mutation { deleteRule(id: "nothing") }"#;
        // No token, a made-up one: the session is refused at connection_init.
        for token in [None, Some("not-a-token-anyone-was-given")] {
            let answer = over_websocket(&app, token, query).await;
            assert_eq!(answer["refused"], json!(true), "{token:?}: {answer}");
        }
        // A session is open, but each operation still needs its role.
        let answer = over_websocket(&app, Some(&tokens.ingest), query).await;
        assert_eq!(error_code(&answer), "FORBIDDEN", "ingest token, query: {answer}");
        let answer = over_websocket(&app, Some(&tokens.read), mutation).await;
        assert_eq!(error_code(&answer), "FORBIDDEN", "read token, mutation: {answer}");
        let answer = over_websocket(&app, Some(&tokens.read), "subscription { incidentChanged { status } }").await;
        assert_eq!(answer["type"], "none yet", "read token, subscription: {answer}");
        let answer = over_websocket(&app, Some(&tokens.read), query).await;
        assert_eq!(answer["payload"]["data"]["namespaces"], json!([]), "read token, query: {answer}");
        // The alias limit holds on the websocket too.
        let aliases: String = (0..60).map(|i| format!("a{i}: namespaces {{ name }} ")).collect();
        let answer = over_websocket(&app, Some(&tokens.admin), &format!("{{ {aliases} }}")).await;
        assert_eq!(error_code(&answer), "LIMIT_EXCEEDED", "60 aliases: {answer}");
    }

    async fn only_admins_see_a_channels_url_whole(app) {
        let tokens = Tokens::create(&app).await;
        let url = "https://hooks.slack.com/services/T000/B000/the-credential";
        let save = format!(r#"mutation {{ saveChannel(channel: {{name: "team", kind: "slack", url: "{url}"}}) {{ url }} }}"#);
        let (status, body) = app.graphql_as(Some(&tokens.admin), &save, json!({})).await;
        assert_eq!((status, body["data"]["saveChannel"]["url"].clone()), (200, json!(url)), "{body}");
        let (_, body) = app.graphql_as(Some(&tokens.admin), "{ channels { url } }", json!({})).await;
        assert_eq!(body["data"]["channels"], json!([{"url": url}]), "{body}");
        let (_, body) = app.graphql_as(Some(&tokens.read), "{ channels { name url } }", json!({})).await;
        assert_eq!(body["data"]["channels"], json!([{"name": "team", "url": "https://hooks.slack.com/..."}]), "{body}");
        assert!(!body.to_string().contains("the-credential"), "{body}");
    }

    async fn revoking_every_token_keeps_authentication_on(app) {
        app.create_token(Role::Admin, "only-one").await;
        app.revoke_token("only-one").await;
        let response = app.post_event(&event("after_revocation")).await;
        assert_eq!(response.status().as_u16(), 401);
        assert_eq!(app.store.raw_event_count().await.expect("count"), 0);
    }
}

/// One graphql-transport-ws session: `connection_init` with the token, then one operation. The
/// first message that answers it; `{"refused": true}` when the session itself is refused, and
/// `{"type": "none yet"}` when nothing came within a second (a subscription waiting).
async fn over_websocket(app: &TestApp, token: Option<&str>, query: &str) -> Value {
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().expect("request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket");
    let payload = token.map(|t| json!({"Authorization": format!("Bearer {t}")})).unwrap_or(json!({}));
    let send = |v: Value| Message::Text(v.to_string().into());
    socket.send(send(json!({"type": "connection_init", "payload": payload}))).await.expect("send");
    let ack = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("an answer in time");
    let acked = matches!(&ack, Some(Ok(Message::Text(text))) if text.contains("connection_ack"));
    if !acked {
        return json!({"refused": true, "answer": format!("{ack:?}")});
    }
    socket.send(send(json!({"id": "1", "type": "subscribe", "payload": {"query": query}}))).await.expect("subscribe");
    match tokio::time::timeout(Duration::from_secs(1), socket.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str(&text).expect("json"),
        Ok(other) => json!({"type": "unexpected", "answer": format!("{other:?}")}),
        Err(_) => json!({"type": "none yet"}),
    }
}

/// The code of the first error of a websocket answer (`next` with errors, or `error`).
fn error_code(answer: &Value) -> String {
    let errors = if answer["type"] == "error" { &answer["payload"] } else { &answer["payload"]["errors"] };
    errors[0]["extensions"]["code"].as_str().unwrap_or_default().to_string()
}

/// `--require-auth` turns authentication on before any token exists.
#[tokio::test]
async fn require_auth_refuses_everything_but_healthz_before_any_token_exists() {
    for backend in [common::Backend::Sqlite, common::Backend::Postgres] {
        let Some(app) = TestApp::spawn_with(backend, |c| c.require_auth = true).await else { continue };
        assert_eq!(app.post_event(&event("x")).await.status().as_u16(), 401);
        let (status, _) = app.graphql_as(None, "{ namespaces { name } }", json!({})).await;
        assert_eq!(status, 401);
        let health = app.request(Method::GET, "/healthz", None).send().await.expect("request");
        assert_eq!(health.status().as_u16(), 200);
        let token = app.create_token(Role::Read, "reader").await;
        let (status, body) = app.graphql_as(Some(&token), "{ namespaces { name } }", json!({})).await;
        assert_eq!((status, body["data"]["namespaces"].clone()), (200, json!([])));
    }
}
