//! Test harness: start the real server (`App::build`, as `main` does) on port 0 against a
//! fresh database, and talk HTTP to it.
//!
//! Every test written with [`backend_tests!`] runs twice: on SQLite (always, a new file per
//! test) and on PostgreSQL (a new database per test on the server named by
//! `WEIR_TEST_DATABASE_URL`; skipped with a message when that variable is unset, which CI
//! never leaves it).
#![allow(dead_code)]

pub mod events;
pub mod receiver;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use weir::auth::Role;
use weir::clock::ManualClock;
use weir::store::Store;
use weir::{App, Config};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a test's database lives, removed when the test ends.
enum TestDb {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
    /// Another app's database (a replica's): that app removes it.
    Shared,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { admin_url, name } => {
                // Drop runs inside the test's runtime; use a thread with its own runtime.
                let (url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                    rt.block_on(async {
                        if let Ok(db) = Database::connect(&url).await {
                            let _ = db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                        }
                    });
                })
                .join();
            }
            TestDb::Shared => {}
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub database_url: String,
    /// The server's clock: tests move it instead of sleeping.
    pub clock: ManualClock,
    /// The server's database, for setting up what has no HTTP surface (tokens).
    pub store: Store,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    _db: TestDb,
}

/// Port 0, and no background freshness sweep or retention: tests evaluate on demand with a
/// manual clock, and a moved clock must not make raw events disappear under them.
fn test_config(database_url: &str) -> Config {
    let mut config = Config::with_database(database_url);
    config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    config.freshness_interval = std::time::Duration::ZERO;
    config.retention_interval = std::time::Duration::ZERO;
    // Alerts go out (and are retried) quickly; the backoff shape is the same.
    config.alert_poll_interval = std::time::Duration::from_millis(50);
    config.alert_retry_base = std::time::Duration::from_millis(50);
    config.alert_retry_max = std::time::Duration::from_millis(400);
    config
}

/// Where every test's clock starts: after all the event times the tests use.
pub fn start_of_test_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2024-06-01T00:00:00Z").map(|t| t.with_timezone(&chrono::Utc)).unwrap_or_default()
}

/// A fresh, empty database (no migrations) and the guard that removes it when dropped.
pub struct EmptyDatabase {
    pub url: String,
    _db: TestDb,
}

pub async fn empty_database(backend: Backend) -> Option<EmptyDatabase> {
    let (url, db) = fresh_database(backend).await?;
    Some(EmptyDatabase { url, _db: db })
}

/// The configuration tests run the server with, on `database_url`.
pub fn config_for(database_url: &str) -> Config {
    test_config(database_url)
}

/// A fresh database URL for one test, or `None` for PostgreSQL when it is not configured.
async fn fresh_database(backend: Backend) -> Option<(String, TestDb)> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("weir-test-{id}.db"));
            Some((format!("sqlite://{}?mode=rwc", path.display()), TestDb::Sqlite(path)))
        }
        Backend::Postgres => {
            let admin_url = std::env::var("WEIR_TEST_DATABASE_URL").ok()?;
            let name = format!("weir_test_{id}");
            let admin = Database::connect(&admin_url).await.expect("connect to WEIR_TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).expect("database URL has a path");
            Some((format!("{base}/{name}"), TestDb::Postgres { admin_url, name }))
        }
    }
}

impl TestApp {
    /// Starts Weir on the backend with default settings; `None` when the backend is not
    /// configured on this machine.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts Weir after `adjust` changed the configuration (limits, ...).
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let (database_url, db) = fresh_database(backend).await?;
        let mut config = test_config(&database_url);
        adjust(&mut config);
        let clock = ManualClock::new(start_of_test_time());
        let app = App::build_with_clock(config, Arc::new(clock.clone())).await.expect("App::build");
        let addr = app.local_addr().expect("bound address");
        let store = app.store().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Some(TestApp {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            backend,
            database_url,
            clock,
            store,
            shutdown: Some(tx),
            server: Some(server),
            _db: db,
        })
    }

    /// A second server on the same database and clock, as another replica would be.
    pub async fn replica(&self) -> TestApp {
        let app = App::build_with_clock(test_config(&self.database_url), Arc::new(self.clock.clone())).await.expect("App::build of a replica");
        let addr = app.local_addr().expect("bound address");
        let store = app.store().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            backend: self.backend,
            database_url: self.database_url.clone(),
            clock: self.clock.clone(),
            store,
            shutdown: Some(tx),
            server: Some(server),
            _db: TestDb::Shared,
        }
    }

    /// Stops the server gracefully and starts a new one on the same database (a restart).
    pub async fn restart(mut self) -> TestApp {
        self.shutdown_and_wait().await;
        let config = test_config(&self.database_url);
        let app = App::build_with_clock(config, Arc::new(self.clock.clone())).await.expect("App::build after restart");
        let addr = app.local_addr().expect("bound address");
        self.store = app.store().clone();
        let (tx, rx) = oneshot::channel::<()>();
        self.server = Some(tokio::spawn(app.run_until(async {
            let _ = rx.await;
        })));
        self.shutdown = Some(tx);
        self.addr = addr;
        self.base = format!("http://{addr}");
        self
    }

    /// Signals a graceful shutdown without waiting for it (to race it against requests).
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits until the server has shut down after a shutdown was signalled.
    pub async fn shutdown_and_wait(&mut self) {
        self.begin_shutdown();
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server result");
        }
    }

    /// Asks the server to shut down gracefully and waits until it has.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server result");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs one event as JSON.
    pub async fn post_event(&self, event: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/lineage"))
            .json(event)
            .send()
            .await
            .expect("request")
    }

    /// POSTs an event and asserts it was accepted (201).
    pub async fn ingest(&self, event: &Value) {
        let response = self.post_event(event).await;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status.as_u16(), 201, "event rejected ({:?}): {body}\n{event}", self.backend);
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// Runs a GraphQL query and returns the whole response (`data` and `errors`).
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        assert!(response.status().is_success(), "GraphQL HTTP status {}", response.status());
        response.json().await.expect("GraphQL JSON")
    }

    /// Runs a GraphQL query that must succeed and returns its `data`.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let response = self.graphql(query, variables).await;
        assert!(response.get("errors").is_none(), "GraphQL errors ({:?}): {response}", self.backend);
        response["data"].clone()
    }

    /// Creates an API token in the server's database and returns its secret.
    pub async fn create_token(&self, role: Role, name: &str) -> String {
        let (_, secret) = weir::auth::tokens::create(&self.store, name, role, chrono::Utc::now()).await.expect("create token");
        secret
    }

    pub async fn revoke_token(&self, name: &str) {
        weir::auth::tokens::revoke(&self.store, name, chrono::Utc::now()).await.expect("revoke token");
    }

    /// A request to `path`, with `token` as bearer token when given.
    pub fn request(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Runs a GraphQL request with `token`, returning the HTTP status and the body.
    pub async fn graphql_as(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .request(reqwest::Method::POST, "/graphql", token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The `extensions.code` of the first GraphQL error, asserting there is one.
    pub async fn query_error_code(&self, query: &str, variables: Value) -> (String, String) {
        let response = self.graphql(query, variables).await;
        let error = &response["errors"][0];
        assert!(error.is_object(), "expected a GraphQL error, got {response}");
        (
            error["extensions"]["code"].as_str().unwrap_or("<no code>").to_string(),
            error["message"].as_str().unwrap_or_default().to_string(),
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Declares async tests that run once per backend: `sqlite::NAME` and `postgres::NAME`.
///
/// ```ignore
/// backend_tests! {
///     async fn stores_an_event(app) { app.ingest(&event).await; ... }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $app = $crate::common::TestApp::spawn($crate::common::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($app) = $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await else {
                        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
                        return;
                    };
                    $body
                }
            )*
        }
    };
}

/// Node ids of a lineage graph response, sorted.
pub fn node_ids(graph: &Value) -> Vec<String> {
    let mut ids: Vec<String> = graph["nodes"]
        .as_array()
        .map(|nodes| nodes.iter().filter_map(|n| n["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

/// Edges of a lineage graph response as `from -> to` strings, sorted.
pub fn edge_list(graph: &Value) -> Vec<String> {
    let mut edges: Vec<String> = graph["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .map(|e| format!("{} -> {}", e["from"].as_str().unwrap_or("?"), e["to"].as_str().unwrap_or("?")))
                .collect()
        })
        .unwrap_or_default();
    edges.sort();
    edges
}

/// [`backend_tests!`] for tests that need a configuration of their own:
///
/// ```ignore
/// configured_backend_tests! {
///     async fn small_bodies_only(app) with |c| c.max_body_bytes = 64 => { ... }
/// }
/// ```
#[macro_export]
macro_rules! configured_backend_tests {
    ($(async fn $name:ident($app:ident) with $adjust:expr => $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $app = $crate::common::TestApp::spawn_with($crate::common::Backend::Sqlite, $adjust)
                        .await
                        .expect("SQLite is always available");
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($app) = $crate::common::TestApp::spawn_with($crate::common::Backend::Postgres, $adjust).await else {
                        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
                        return;
                    };
                    $body
                }
            )*
        }
    };
}
