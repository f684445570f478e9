//! The tools users already run, installed from PyPI, against a Weir started by the test:
//!
//! - the `openlineage-python` client, configured by `OPENLINEAGE_URL`, and by an
//!   `openlineage.yml` with `api_key` auth and gzip against a Weir with authentication on;
//! - dbt (`dbt-ol build`, from openlineage-dbt, with dbt-duckdb) on the project in
//!   `examples/dbt/`, with its rules file, and `weir gate` before and after the seed is fixed.
//!
//! The tools live in one Python venv per machine, made on first use and reused after:
//! `$WEIR_PY_VENV`, by default `weir-real-tools-venv` in the temp directory. It holds
//! [`REQUIREMENTS`] at the versions of `tests/real_tools/constraints.txt`; a marker file says
//! which, so a changed pin makes a fresh venv. Python is `$WEIR_PYTHON`, else `python3`
//! (or `/usr/bin/python3`).
//!
//! When the venv cannot be made (no Python, no PyPI), each test prints `skipped: <reason>` and
//! returns, unless `WEIR_REQUIRE_REAL_TOOLS` is set (to anything but `0` or `false`; `.ci/run`
//! sets `1`): then the test fails.
//!
//! At the end, tests of issues the real tools revealed: a singular test no longer hides a
//! failing generic one; one `#[ignore]`d test shows a known issue with dbt-ol's event times
//! (`cargo test --test real_tools -- --ignored`).

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

/// What the venv holds: the versions the shared notes say install here (newer dbt-core
/// fetches a wheel from outside the package registry while installing, which fails).
const REQUIREMENTS: &[&str] = &["openlineage-python==1.54.0", "dbt-core==1.10.*", "dbt-duckdb==1.10.*", "openlineage-dbt==1.54.0"];
const CONSTRAINTS: &str = include_str!("real_tools/constraints.txt");

/// The longest any one tool invocation may take before the test gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

// ---------------------------------------------------------------------------------------------
// The venv
// ---------------------------------------------------------------------------------------------

/// A venv with the real tools in it.
struct Tools {
    venv: PathBuf,
}

impl Tools {
    fn bin(&self, name: &str) -> PathBuf {
        self.venv.join("bin").join(name)
    }

    /// PATH with the venv's bin/ first: `dbt-ol` runs the `dbt` it finds on PATH.
    fn path_env(&self) -> OsString {
        let mut paths = vec![self.venv.join("bin")];
        if let Some(path) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(paths).unwrap_or_default()
    }
}

static TOOLS: OnceLock<Result<Tools, String>> = OnceLock::new();

/// The real tools, installed once per machine; `None` (after saying why) when they cannot be
/// installed and `WEIR_REQUIRE_REAL_TOOLS` is not set.
async fn real_tools() -> Option<&'static Tools> {
    let tools = tokio::task::spawn_blocking(|| TOOLS.get_or_init(install)).await.expect("venv setup thread");
    match tools {
        Ok(tools) => Some(tools),
        Err(reason) if required() => {
            panic!("WEIR_REQUIRE_REAL_TOOLS is set, and the real tools could not be installed: {reason}")
        }
        Err(reason) => {
            eprintln!("skipped: the real tools could not be installed ({reason}); set WEIR_REQUIRE_REAL_TOOLS=1 to fail instead");
            None
        }
    }
}

/// Whether a failed install fails the tests: `WEIR_REQUIRE_REAL_TOOLS` set to anything but
/// empty, `0` or `false`.
fn required() -> bool {
    std::env::var("WEIR_REQUIRE_REAL_TOOLS").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

fn venv_dir() -> PathBuf {
    match std::env::var_os("WEIR_PY_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::temp_dir().join("weir-real-tools-venv"),
    }
}

/// Makes the venv, or finds it made. Another process (a second `cargo test`) may be doing the
/// same: a lock directory beside the venv makes it wait, then reuse what the other made.
fn install() -> Result<Tools, String> {
    let venv = venv_dir();
    let wanted = format!("{}\n{CONSTRAINTS}", REQUIREMENTS.join("\n"));
    let marker = venv.join(".weir-real-tools");
    let ready = || {
        std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) && venv.join("bin/python").exists() && venv.join("bin/dbt-ol").exists()
    };
    if ready() {
        eprintln!("real tools: reusing the venv at {}", venv.display());
        return Ok(Tools { venv });
    }
    let _lock = DirLock::acquire(&venv.with_extension("lock"))?;
    if ready() {
        eprintln!("real tools: reusing the venv at {}, made meanwhile", venv.display());
        return Ok(Tools { venv });
    }
    let started = Instant::now();
    match std::fs::remove_dir_all(&venv) {
        Ok(()) => eprintln!("real tools: the venv at {} is out of date or incomplete; making it again", venv.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove the old venv {}: {e}", venv.display())),
    }
    let python = python()?;
    eprintln!("real tools: making a venv at {} with {python} and installing {}", venv.display(), REQUIREMENTS.join(" "));
    run_blocking(std::process::Command::new(&python).arg("-m").arg("venv").arg(&venv), &format!("`{python} -m venv`"))?;
    let constraints = venv.join("constraints.txt");
    std::fs::write(&constraints, CONSTRAINTS).map_err(|e| format!("cannot write {}: {e}", constraints.display()))?;
    run_blocking(
        std::process::Command::new(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c"])
            .arg(&constraints)
            .args(REQUIREMENTS),
        "pip install",
    )?;
    if !venv.join("bin/dbt-ol").exists() {
        return Err("pip install succeeded but the venv has no bin/dbt-ol".into());
    }
    std::fs::write(&marker, &wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    eprintln!("real tools: installed in {:.1?}", started.elapsed());
    Ok(Tools { venv })
}

/// `$WEIR_PYTHON`, else the first of `python3` on PATH and the system's `/usr/bin/python3`
/// that runs.
fn python() -> Result<String, String> {
    if let Ok(python) = std::env::var("WEIR_PYTHON") {
        return Ok(python);
    }
    for candidate in ["python3", "/usr/bin/python3"] {
        if std::process::Command::new(candidate).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Ok(candidate.to_string());
        }
    }
    Err("no Python: neither `python3` on PATH nor /usr/bin/python3 runs (set WEIR_PYTHON)".into())
}

fn run_blocking(command: &mut std::process::Command, what: &str) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{what} could not start: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!("{what} failed ({}): {}{}", output.status, tail(&output.stdout), tail(&output.stderr)))
}

/// A lock shared by processes: a directory, made atomically, removed when dropped. One older
/// than an install can take is left over from a killed run and is taken over.
struct DirLock(PathBuf);

impl DirLock {
    fn acquire(path: &Path) -> Result<DirLock, String> {
        let deadline = Instant::now() + Duration::from_secs(30 * 60);
        loop {
            match std::fs::create_dir(path) {
                Ok(()) => return Ok(DirLock(path.to_path_buf())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
                    if age.is_some_and(|age| age > Duration::from_secs(30 * 60)) {
                        eprintln!("real tools: taking over the stale lock {}", path.display());
                        let _ = std::fs::remove_dir(path);
                        continue;
                    }
                    if Instant::now() > deadline {
                        return Err(format!("another process has held {} for 30 minutes", path.display()));
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
                Err(e) => return Err(format!("cannot make the lock {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The last lines of a command's output, for failure messages.
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(40);
    lines[start..].join("\n") + "\n"
}

fn describe(output: &Output) -> String {
    format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", output.status.code(), tail(&output.stdout), tail(&output.stderr))
}

/// A directory of its own under the temp directory, removed at the end unless the test
/// failed (then it is kept, and named, for a look at what the tools left).
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(prefix: &str) -> WorkDir {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("make work dir");
        WorkDir(path)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for inspection", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A command with none of the caller's OpenLineage settings (an `OPENLINEAGE_URL` in a
/// developer's shell, a `~/.openlineage/openlineage.yml`), run in `dir` with HOME there.
fn clean_command(program: &Path, dir: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OPENLINEAGE") {
            command.env_remove(key);
        }
    }
    command.current_dir(dir).env("HOME", dir).kill_on_drop(true);
    command
}

async fn output_of(command: &mut tokio::process::Command, what: &str) -> Output {
    match tokio::time::timeout(COMMAND_TIMEOUT, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("{what} could not start: {e}"),
        Err(_) => panic!("{what} took longer than {COMMAND_TIMEOUT:?}"),
    }
}

/// A GraphQL query (with a bearer token when given) that must succeed; its `data`.
async fn gql(app: &common::TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let (status, body) = app.graphql_as(token, query, variables).await;
    assert_eq!(status, 200, "GraphQL HTTP status ({:?}): {body}", app.backend);
    assert!(body.get("errors").is_none(), "GraphQL errors ({:?}): {body}", app.backend);
    body["data"].clone()
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = value.as_array().into_iter().flatten().filter_map(|v| v[key].as_str().map(str::to_string)).collect();
    out.sort();
    out
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// 1. openlineage-python
// ---------------------------------------------------------------------------------------------

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/real_tools/emit_pipeline.py");
const DB: &str = "postgres://db:5432";

/// Runs tests/real_tools/emit_pipeline.py in `dir` with `env`.
async fn emit_pipeline(tools: &Tools, dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = clean_command(&tools.bin("python"), dir);
    command.arg(SCRIPT).envs(env.iter().copied());
    output_of(&mut command, "emit_pipeline.py").await
}

/// The script's report: run ids by job, and what was seen of each request.
fn report(output: &Output) -> Value {
    assert!(output.status.success(), "emit_pipeline.py failed: {}", describe(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("emit_pipeline.py printed no report ({e}): {}", describe(output)))
}

/// Every event went to `/api/v1/lineage`, one request each, and Weir answered 201.
fn assert_requests(report: &Value, content_encoding: Value, auth_scheme: Value) {
    let requests = report["requests"].as_array().cloned().unwrap_or_default();
    // START + end of three runs, one DatasetEvent, one JobEvent.
    assert_eq!(requests.len(), 8, "{report}");
    for request in requests {
        assert_eq!(
            request,
            json!({"method": "POST", "path": "/api/v1/lineage", "status": 201, "contentEncoding": content_encoding, "authScheme": auth_scheme}),
            "{report}"
        );
    }
}

const JOB: &str = r#"query($name: String!) { job(namespace: "etl", name: $name) {
  inputs { id } outputs { id } facets
  latestRun { id state startedAt endedAt errorMessage }
  runs { nodes { id } } } }"#;

/// A metric observation: metric, column, value, source, run id, observed at.
type MetricRow = (String, Option<String>, f64, String, Option<String>, String);

/// One metric observation as a comparable tuple.
fn metric_rows(observations: &Value) -> Vec<MetricRow> {
    let mut rows: Vec<_> = observations["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["metric"].as_str().unwrap_or_default().to_string(),
                m["column"].as_str().map(str::to_string),
                m["value"].as_f64().unwrap_or(f64::NAN),
                m["source"].as_str().unwrap_or_default().to_string(),
                m["runId"].as_str().map(str::to_string),
                m["observedAt"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    rows
}

fn metric(metric: &str, column: Option<&str>, value: f64, source: &str, run: Option<&str>, at: &str) -> MetricRow {
    (metric.into(), column.map(str::to_string), value, source.into(), run.map(str::to_string), at.into())
}

fn sorted_rows(mut rows: Vec<MetricRow>) -> Vec<MetricRow> {
    rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    rows
}

/// Weir holds exactly the pipeline that emit_pipeline.py sent.
async fn assert_pipeline(app: &common::TestApp, token: Option<&str>, report: &Value) {
    let run = |job: &str| report["runs"][job].as_str().unwrap_or_else(|| panic!("no run id for {job}: {report}")).to_string();
    let (ingest, clean, daily) = (run("ingest_orders"), run("clean_orders"), run("orders_daily"));

    // What exists: namespaces, jobs, datasets.
    let all = gql(app, token, "{ namespaces { name } jobs(first: 100) { nodes { id } } datasets(first: 100) { nodes { id } } }", json!({})).await;
    assert_eq!(strings(&all["namespaces"], "name"), sorted(&["etl", DB, "s3://landing"]));
    assert_eq!(strings(&all["jobs"]["nodes"], "id"), sorted(&["job:etl:ingest_orders", "job:etl:clean_orders", "job:etl:orders_daily", "job:etl:customers_agg"]));
    assert_eq!(
        strings(&all["datasets"]["nodes"], "id"),
        sorted(&[
            "dataset:s3://landing:orders/2024-05-31.csv",
            "dataset:postgres://db:5432:shop.public.orders",
            "dataset:postgres://db:5432:shop.public.orders_clean",
            "dataset:postgres://db:5432:shop.mart.orders_daily",
            "dataset:postgres://db:5432:shop.public.customers",
            "dataset:postgres://db:5432:shop.mart.customers_agg",
        ])
    );

    // The graph, from the landing file downstream, and the JobEvent's static lineage.
    let graph = gql(app, token, "{ lineage(nodeId: \"dataset:s3://landing:orders/2024-05-31.csv\", direction: DOWNSTREAM) { nodes { id } edges { from to } } }", json!({})).await;
    assert_eq!(
        common::edge_list(&graph["lineage"]),
        sorted(&[
            "dataset:s3://landing:orders/2024-05-31.csv -> job:etl:ingest_orders",
            "job:etl:ingest_orders -> dataset:postgres://db:5432:shop.public.orders",
            "dataset:postgres://db:5432:shop.public.orders -> job:etl:clean_orders",
            "job:etl:clean_orders -> dataset:postgres://db:5432:shop.public.orders_clean",
            "dataset:postgres://db:5432:shop.public.orders_clean -> job:etl:orders_daily",
            "job:etl:orders_daily -> dataset:postgres://db:5432:shop.mart.orders_daily",
        ])
    );
    let graph = gql(app, token, "{ lineage(nodeId: \"job:etl:customers_agg\") { nodes { id } edges { from to } } }", json!({})).await;
    assert_eq!(
        common::edge_list(&graph["lineage"]),
        sorted(&[
            "dataset:postgres://db:5432:shop.public.customers -> job:etl:customers_agg",
            "job:etl:customers_agg -> dataset:postgres://db:5432:shop.mart.customers_agg",
        ])
    );

    // Jobs: inputs, outputs, run states and times.
    let job = gql(app, token, JOB, json!({"name": "ingest_orders"})).await["job"].clone();
    assert_eq!(job["inputs"], json!([{"id": "dataset:s3://landing:orders/2024-05-31.csv"}]));
    assert_eq!(job["outputs"], json!([{"id": "dataset:postgres://db:5432:shop.public.orders"}]));
    assert_eq!(
        job["latestRun"],
        json!({"id": ingest, "state": "COMPLETE", "startedAt": "2024-05-31T10:00:00+00:00", "endedAt": "2024-05-31T10:05:00+00:00", "errorMessage": null})
    );
    assert_eq!(job["runs"]["nodes"], json!([{"id": ingest}]));

    let job = gql(app, token, JOB, json!({"name": "clean_orders"})).await["job"].clone();
    assert_eq!(job["inputs"], json!([{"id": "dataset:postgres://db:5432:shop.public.orders"}]));
    assert_eq!(job["outputs"], json!([{"id": "dataset:postgres://db:5432:shop.public.orders_clean"}]));
    assert_eq!(
        job["latestRun"],
        json!({"id": clean, "state": "COMPLETE", "startedAt": "2024-05-31T11:00:00+00:00", "endedAt": "2024-05-31T11:10:00+00:00", "errorMessage": null})
    );
    assert_eq!(job["facets"]["sql"]["query"], "SELECT id, customer_id, amount FROM shop.public.orders WHERE id IS NOT NULL");
    assert_eq!(job["facets"]["jobType"]["integration"], "CUSTOM");

    let job = gql(app, token, JOB, json!({"name": "orders_daily"})).await["job"].clone();
    assert_eq!(
        job["latestRun"],
        json!({"id": daily, "state": "FAIL", "startedAt": "2024-05-31T12:00:00+00:00", "endedAt": "2024-05-31T12:01:00+00:00", "errorMessage": "division by zero in daily_totals"})
    );

    let job = gql(app, token, JOB, json!({"name": "customers_agg"})).await["job"].clone();
    assert_eq!(job["inputs"], json!([{"id": "dataset:postgres://db:5432:shop.public.customers"}]));
    assert_eq!(job["outputs"], json!([{"id": "dataset:postgres://db:5432:shop.mart.customers_agg"}]));
    assert_eq!(job["latestRun"], Value::Null, "a JobEvent has no run");
    assert_eq!(job["runs"]["nodes"], json!([]));

    // The failed run, as the client sent it: error facet, and the client's own tags facet,
    // which names the client version that sent it.
    let failed = gql(app, token, "query($id: ID!) { run(id: $id) { state stateTime errorMessage facets job { id } inputs { name } outputs { name } } }", json!({"id": daily})).await["run"].clone();
    assert_eq!(failed["state"], "FAIL");
    assert_eq!(failed["stateTime"], "2024-05-31T12:01:00+00:00");
    assert_eq!(failed["job"]["id"], "job:etl:orders_daily");
    assert_eq!(failed["inputs"], json!([{"name": "shop.public.orders_clean"}]));
    assert_eq!(failed["outputs"], json!([{"name": "shop.mart.orders_daily"}]));
    let error = &failed["facets"]["errorMessage"];
    assert_eq!(error["message"], "division by zero in daily_totals");
    assert_eq!(error["programmingLanguage"], "PYTHON");
    assert!(error["stackTrace"].as_str().is_some_and(|s| s.ends_with("ZeroDivisionError: division by zero")), "{error}");
    assert!(
        failed["facets"]["tags"]["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["key"] == "openlineage_client_version" && t["value"] == "1.54.0"),
        "the run was not sent by openlineage-python 1.54.0: {failed}"
    );

    // shop.public.orders: schema with a nested column, metrics and assertions.
    let orders = gql(
        app,
        token,
        r#"{ dataset(namespace: "postgres://db:5432", name: "shop.public.orders") {
            schema { name type description fields { name type description } }
            producers { id } consumers { id } lastWriterRun { id }
            observations { metrics { metric column value source runId observedAt } assertions { assertion column success source runId observedAt } } } }"#,
        json!({}),
    )
    .await["dataset"]
        .clone();
    assert_eq!(
        orders["schema"],
        json!([
            {"name": "id", "type": "BIGINT", "description": "order id", "fields": []},
            {"name": "customer_id", "type": "BIGINT", "description": null, "fields": []},
            {"name": "amount", "type": "DECIMAL(10,2)", "description": null, "fields": []},
            {"name": "address", "type": "STRUCT", "description": null, "fields": [
                {"name": "city", "type": "VARCHAR", "description": null},
                {"name": "zip", "type": "VARCHAR", "description": null}]}
        ])
    );
    assert_eq!(orders["producers"], json!([{"id": "job:etl:ingest_orders"}]));
    assert_eq!(orders["consumers"], json!([{"id": "job:etl:clean_orders"}]));
    assert_eq!(orders["lastWriterRun"], json!({"id": ingest}));
    let (c, dqm, at) = (Some(clean.as_str()), "dataQualityMetrics", "2024-05-31T11:10:00+00:00");
    assert_eq!(
        metric_rows(&orders["observations"]),
        sorted_rows(vec![
            metric("row_count", None, 1000.0, "outputStatistics", Some(&ingest), "2024-05-31T10:05:00+00:00"),
            metric("bytes", None, 65536.0, "outputStatistics", Some(&ingest), "2024-05-31T10:05:00+00:00"),
            metric("row_count", None, 1000.0, dqm, c, at),
            metric("bytes", None, 65536.0, dqm, c, at),
            metric("file_count", None, 2.0, dqm, c, at),
            metric("null_count", Some("id"), 0.0, dqm, c, at),
            metric("distinct_count", Some("id"), 1000.0, dqm, c, at),
            metric("sum", Some("id"), 500500.0, dqm, c, at),
            metric("count", Some("id"), 1000.0, dqm, c, at),
            metric("min", Some("id"), 1.0, dqm, c, at),
            metric("max", Some("id"), 1000.0, dqm, c, at),
            metric("quantile(0.5)", Some("id"), 500.0, dqm, c, at),
            metric("null_count", Some("amount"), 3.0, dqm, c, at),
        ])
    );
    let mut assertions: Vec<Value> = orders["observations"]["assertions"].as_array().cloned().unwrap_or_default();
    assertions.sort_by_key(|a| a["assertion"].to_string());
    let seen = |assertion: &str, column: Value, success: bool| {
        json!({"assertion": assertion, "column": column, "success": success, "source": "dataQualityAssertions", "runId": clean, "observedAt": at})
    };
    assert_eq!(
        assertions,
        vec![seen("not_null", json!("id"), true), seen("row_count_between", Value::Null, false), seen("unique", json!("id"), true)]
    );

    // shop.public.orders_clean: written by clean_orders, with column lineage.
    let clean_ds = gql(
        app,
        token,
        r#"{ dataset(namespace: "postgres://db:5432", name: "shop.public.orders_clean") {
            schema { name type } lastWrittenAt lastWriterRun { id }
            observations { metrics { metric column value source runId observedAt } assertions { assertion } } } }"#,
        json!({}),
    )
    .await["dataset"]
        .clone();
    assert_eq!(clean_ds["schema"], json!([{"name": "id", "type": "BIGINT"}, {"name": "customer_id", "type": "BIGINT"}, {"name": "amount", "type": "DECIMAL(10,2)"}]));
    assert_eq!(clean_ds["lastWrittenAt"], at);
    assert_eq!(clean_ds["lastWriterRun"], json!({"id": clean}));
    assert_eq!(
        metric_rows(&clean_ds["observations"]),
        sorted_rows(vec![metric("row_count", None, 990.0, "outputStatistics", c, at), metric("bytes", None, 60000.0, "outputStatistics", c, at)])
    );
    assert_eq!(clean_ds["observations"]["assertions"], json!([]));
    let columns = gql(
        app,
        token,
        r#"{ columnLineage(namespace: "postgres://db:5432", name: "shop.public.orders_clean") { from { name field } to { name field } transformationType transformationSubtype } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        columns["columnLineage"],
        json!([{"from": {"name": "shop.public.orders", "field": "amount"}, "to": {"name": "shop.public.orders_clean", "field": "amount"},
                "transformationType": "DIRECT", "transformationSubtype": "IDENTITY"}])
    );

    // The failed run wrote nothing.
    let daily_ds = gql(app, token, r#"{ dataset(namespace: "postgres://db:5432", name: "shop.mart.orders_daily") { lastWrittenAt lastWriterRun { id } producers { id } } }"#, json!({})).await;
    assert_eq!(daily_ds["dataset"], json!({"lastWrittenAt": null, "lastWriterRun": null, "producers": [{"id": "job:etl:orders_daily"}]}));

    // The DatasetEvent's dataset: schema and metrics, no run, no writer.
    let customers = gql(
        app,
        token,
        r#"{ dataset(namespace: "postgres://db:5432", name: "shop.public.customers") {
            schema { name type } lastWrittenAt producers { id } consumers { id }
            observations { metrics { metric column value source runId observedAt } assertions { assertion } } } }"#,
        json!({}),
    )
    .await["dataset"]
        .clone();
    assert_eq!(customers["schema"], json!([{"name": "id", "type": "INT"}, {"name": "email", "type": "VARCHAR"}]));
    assert_eq!(customers["lastWrittenAt"], Value::Null);
    assert_eq!(customers["producers"], json!([]));
    assert_eq!(customers["consumers"], json!([{"id": "job:etl:customers_agg"}]));
    assert_eq!(
        metric_rows(&customers["observations"]),
        sorted_rows(vec![
            metric("row_count", None, 250.0, dqm, None, "2024-05-31T13:00:00+00:00"),
            metric("null_count", Some("email"), 7.0, dqm, None, "2024-05-31T13:00:00+00:00"),
        ])
    );
}

mod openlineage_python {
    use super::*;

    backend_tests! {
        async fn openlineage_python_client_configured_by_openlineage_url(app) {
            let Some(tools) = real_tools().await else { return };
            let dir = WorkDir::new("weir-ol-url");
            let output = emit_pipeline(tools, &dir.0, &[("OPENLINEAGE_URL", &app.base)]).await;
            let report = report(&output);
            assert_requests(&report, Value::Null, Value::Null);
            assert_pipeline(&app, None, &report).await;
        }

        async fn openlineage_python_client_configured_by_openlineage_yml_with_api_key_and_gzip(app) {
            let Some(tools) = real_tools().await else { return };
            // Authentication is on once a token exists: the pipeline gets an ingest token, the
            // checks below read with a read token.
            let ingest = app.create_token(weir::auth::Role::Ingest, "pipeline").await;
            let read = app.create_token(weir::auth::Role::Read, "checker").await;
            let dir = WorkDir::new("weir-ol-yml");
            let write_config = |key: &str| {
                let yaml = format!(
                    "transport:\n  type: http\n  url: {}\n  compression: gzip\n  auth:\n    type: api_key\n    apiKey: {key}\n",
                    app.base
                );
                std::fs::write(dir.0.join("openlineage.yml"), yaml).expect("write openlineage.yml");
            };

            // A wrong key: Weir refuses, the client raises, and nothing is stored.
            write_config("not-a-weir-token");
            let output = emit_pipeline(tools, &dir.0, &[]).await;
            assert!(!output.status.success(), "a wrong api key was accepted: {}", describe(&output));
            assert!(String::from_utf8_lossy(&output.stderr).contains("401 Client Error: Unauthorized"), "{}", describe(&output));
            let jobs = gql(&app, Some(&read), "{ jobs { nodes { id } } }", json!({})).await;
            assert_eq!(jobs["jobs"]["nodes"], json!([]));

            // The ingest token, from openlineage.yml in the working directory.
            write_config(&ingest);
            let report = report(&emit_pipeline(tools, &dir.0, &[]).await);
            assert_requests(&report, json!("gzip"), json!("Bearer"));
            assert_pipeline(&app, Some(&read), &report).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. dbt
// ---------------------------------------------------------------------------------------------

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/dbt");
/// dbt-ol's job namespace, from OPENLINEAGE_NAMESPACE.
const DBT_NS: &str = "dbt";
const MODELS: &[&str] = &["stg_customers", "stg_orders", "stg_payments", "int_order_payments", "fct_orders", "dim_customers"];
/// The bad row of seeds/raw_orders.csv (it arrives on 2024-01-02), and the row fixed.
const BAD_ROW: &str = "8,3,2024-01-02,shiped,2024-01-02";
const FIXED_ROW: &str = "8,3,2024-01-02,shipped,2024-01-02";

/// How dbt-ol names the job that builds a model of the `weir_shop` project, and its tests.
fn build_job(model: &str) -> String {
    format!("shop.main.weir_shop.{model}.build.run")
}

fn test_job(model: &str) -> String {
    format!("shop.main.weir_shop.{model}.build.test")
}

/// The example project, copied without what a local run may have left in it.
fn copy_project(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("make project dir");
    for entry in std::fs::read_dir(from).expect("read example").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if ["target", "logs", "dbt_packages", ".user.yml"].contains(&name.as_str()) || name.contains(".duckdb") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_project(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy example file");
        }
    }
}

struct DbtProject {
    dir: PathBuf,
    duckdb: PathBuf,
}

impl DbtProject {
    /// `duckdb://<path>`: the namespace of every dataset dbt-ol reports for this project.
    fn namespace(&self) -> String {
        format!("duckdb://{}", self.duckdb.display())
    }

    fn dataset_id(&self, model: &str) -> String {
        format!("dataset:{}:shop.main.{model}", self.namespace())
    }

    async fn dbt_ol(&self, tools: &Tools, app: &common::TestApp, args: &[&str]) -> Output {
        let mut command = clean_command(&tools.bin("dbt-ol"), &self.dir);
        command
            .args(args)
            .env("PATH", tools.path_env())
            .env("DBT_PROFILES_DIR", &self.dir)
            .env("DBT_DUCKDB_PATH", &self.duckdb)
            .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
            .env("DBT_USE_COLORS", "false")
            .env("OPENLINEAGE_URL", &app.base)
            .env("OPENLINEAGE_NAMESPACE", DBT_NS);
        output_of(&mut command, &format!("dbt-ol {}", args.join(" "))).await
    }
}

/// The example project copied to a work directory, with its rules applied to `app`: first, so
/// that every event is evaluated as it arrives.
async fn prepare_project(app: &common::TestApp) -> (WorkDir, DbtProject) {
    let work = WorkDir::new("weir-dbt");
    let project = DbtProject { dir: work.0.join("weir_shop"), duckdb: work.0.join("shop.duckdb") };
    copy_project(Path::new(EXAMPLE), &project.dir);
    let seed = std::fs::read_to_string(project.dir.join("seeds/raw_orders.csv")).expect("seed");
    assert!(seed.contains(BAD_ROW), "the example seed lost its bad row");
    let rules = project.dir.join("weir-rules.yaml");
    let output = weir_cli(&["rules", "apply", &rules.to_string_lossy(), "--server", &app.base, "--author", "dbt-example"]).await;
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(stdout(&output), "+ dbt_tests_pass\n1 created, 0 updated, 0 deleted, 0 unchanged (applied)\n");
    (work, project)
}

async fn weir_cli(args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(WEIR);
    command.args(args).kill_on_drop(true);
    output_of(&mut command, &format!("weir {}", args.join(" "))).await
}

async fn gate(app: &common::TestApp, model: &str) -> Output {
    weir_cli(&["gate", "--namespace", DBT_NS, "--job", &build_job(model), "--server", &app.base]).await
}

const HEALTH: &str = r#"query($ns: String!, $name: String!) { dataset(namespace: $ns, name: $name) {
  health { status reasons { ruleId ruleVersion outcome severity observed expected message } }
  checkResults(ruleId: "dbt_tests_pass", first: 1) { nodes { outcome severity observed expected message trigger runId } }
  observations(limit: 20) { assertions { assertion column success source details } } } }"#;

async fn model_health(app: &common::TestApp, project: &DbtProject, model: &str) -> Value {
    app.query(HEALTH, json!({"ns": project.namespace(), "name": format!("shop.main.{model}")})).await["dataset"].clone()
}

/// The newest observation of the accepted_values test on stg_orders.status.
fn accepted_values(dataset: &Value) -> Value {
    dataset["observations"]["assertions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["assertion"] == "accepted_values" && a["column"] == "status")
        .cloned()
        .unwrap_or_else(|| panic!("no accepted_values(status) observation: {dataset}"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

mod dbt {
    use super::*;

    backend_tests! {
        async fn dbt_ol_build_feeds_lineage_checks_and_the_gate(app) {
            let Some(tools) = real_tools().await else { return };
            let (_work, project) = prepare_project(&app).await;
            let seed = project.dir.join("seeds/raw_orders.csv");

            // Day 1: the rows loaded on 2024-01-01 are clean; everything builds and passes.
            let output = project.dbt_ol(tools, &app, &["build", "--vars", "load_date: 2024-01-01"]).await;
            assert!(output.status.success(), "{}", describe(&output));
            assert!(stdout(&output).contains("PASS=26 WARN=0 ERROR=0 SKIP=0"), "{}", describe(&output));

            // The lineage: one job per model and one per model's tests, the singular test, and
            // dbt-ol's parent job for the invocation.
            let jobs = app.query("query($ns: String!) { jobs(namespace: $ns, first: 100) { nodes { name } } }", json!({"ns": DBT_NS})).await;
            let mut expected: Vec<String> = MODELS.iter().flat_map(|m| [build_job(m), test_job(m)]).collect();
            expected.push("test.weir_shop.assert_order_amounts_not_negative".into());
            expected.push("dbt-run-weir_shop".into());
            expected.sort();
            assert_eq!(strings(&jobs["jobs"]["nodes"], "name"), expected);
            let io = "query($name: String!) { job(namespace: \"dbt\", name: $name) { inputs { name } outputs { name } latestRun { state } } }";
            for (model, inputs) in [
                ("stg_customers", vec![]),
                ("stg_orders", vec![]),
                ("stg_payments", vec![]),
                ("int_order_payments", vec!["shop.main.stg_orders", "shop.main.stg_payments"]),
                ("fct_orders", vec!["shop.main.int_order_payments", "shop.main.stg_customers"]),
                ("dim_customers", vec!["shop.main.stg_customers"]),
            ] {
                // Seeds are not inputs: dbt-ol does not report them.
                let job = app.query(io, json!({"name": build_job(model)})).await["job"].clone();
                assert_eq!(strings(&job["inputs"], "name"), sorted(&inputs), "{model}: {job}");
                assert_eq!(job["outputs"], json!([{"name": format!("shop.main.{model}")}]), "{model}");
                assert_eq!(job["latestRun"]["state"], "COMPLETE", "{model}");
                let tests = app.query(io, json!({"name": test_job(model)})).await["job"].clone();
                assert_eq!(tests["inputs"], json!([{"name": format!("shop.main.{model}")}]), "{model} tests");
                assert_eq!(tests["outputs"], json!([]), "{model} tests");
            }
            let singular = app.query(io, json!({"name": "test.weir_shop.assert_order_amounts_not_negative"})).await["job"].clone();
            assert_eq!(singular["inputs"], json!([{"name": "shop.main.int_order_payments"}]));
            let job_id = |model: &str| format!("job:{DBT_NS}:{}", build_job(model));
            let graph = app.query("query($id: ID!) { lineage(nodeId: $id, direction: UPSTREAM) { nodes { id } edges { from to } } }", json!({"id": project.dataset_id("fct_orders")})).await;
            let mut upstream = vec![
                format!("{} -> {}", project.dataset_id("int_order_payments"), job_id("fct_orders")),
                format!("{} -> {}", project.dataset_id("stg_customers"), job_id("fct_orders")),
                format!("{} -> {}", project.dataset_id("stg_orders"), job_id("int_order_payments")),
                format!("{} -> {}", project.dataset_id("stg_payments"), job_id("int_order_payments")),
            ];
            for model in ["fct_orders", "int_order_payments", "stg_customers", "stg_orders", "stg_payments"] {
                upstream.push(format!("{} -> {}", job_id(model), project.dataset_id(model)));
            }
            upstream.sort();
            assert_eq!(common::edge_list(&graph["lineage"]), upstream);

            // Every model's tests passed: check results PASS, every model HEALTHY.
            for model in MODELS {
                let dataset = model_health(&app, &project, model).await;
                assert_eq!(dataset["health"]["status"], "HEALTHY", "{model}: {dataset}");
            }
            let orders = model_health(&app, &project, "stg_orders").await;
            let check = &orders["checkResults"]["nodes"][0];
            assert_eq!(check["outcome"], "PASS", "{orders}");
            assert_eq!(check["message"], "5 assertions passed");
            assert_eq!(check["observed"], json!({"failed": [], "missing": [], "passed": 5}));
            assert_eq!(check["trigger"], "event");
            let test = accepted_values(&orders);
            assert_eq!(test["success"], true);
            assert_eq!(test["details"]["actual"], "0");

            // Day 2: the bad row arrives. accepted_values fails, dbt skips what depends on it.
            let output = project.dbt_ol(tools, &app, &["build"]).await;
            assert_eq!(output.status.code(), Some(1), "dbt-ol passes dbt's exit code on: {}", describe(&output));
            assert!(stdout(&output).contains("FAIL 1 accepted_values_stg_orders_status"), "{}", describe(&output));

            let orders = model_health(&app, &project, "stg_orders").await;
            assert_eq!(
                orders["health"],
                json!({"status": "FAILING", "reasons": [{
                    "ruleId": "dbt_tests_pass", "ruleVersion": 1, "outcome": "FAIL", "severity": "BLOCK",
                    "observed": {"failed": ["accepted_values(status)"], "missing": [], "passed": 4},
                    "expected": "all assertions pass", "message": "failed: accepted_values(status)"}]}),
            );
            let check = &orders["checkResults"]["nodes"][0];
            assert_eq!(check["outcome"], "FAIL");
            assert_eq!(check["trigger"], "event");
            let test = accepted_values(&orders);
            assert_eq!(test["success"], false);
            assert_eq!(test["details"]["actual"], "1", "one bad row: {test}");
            assert_eq!(test["details"]["name"], "accepted_values_stg_orders_status__placed__shipped__completed__returned");
            let tests = app.query(io, json!({"name": test_job("stg_orders")})).await["job"].clone();
            assert_eq!(tests["latestRun"]["state"], "FAIL");
            // The history keeps day 1's pass.
            let history = app.query(
                "query($ns: String!) { dataset(namespace: $ns, name: \"shop.main.stg_orders\") { checkResults(ruleId: \"dbt_tests_pass\", first: 100) { nodes { outcome } } } }",
                json!({"ns": project.namespace()}),
            ).await;
            let outcomes = strings(&history["dataset"]["checkResults"]["nodes"], "outcome");
            assert!(outcomes.contains(&"PASS".to_string()) && outcomes.contains(&"FAIL".to_string()), "{history}");

            let failing = app.query("{ failingDatasets { namespace name } }", json!({})).await;
            let failing = strings(&failing["failingDatasets"], "name");
            assert!(failing.contains(&"shop.main.stg_orders".to_string()), "{failing:?}");
            for clean in ["stg_customers", "stg_payments", "dim_customers"] {
                assert!(!failing.contains(&format!("shop.main.{clean}")), "{clean} is failing: {failing:?}");
                assert_eq!(model_health(&app, &project, clean).await["health"]["status"], "HEALTHY", "{clean}");
            }

            // The gate: int_order_payments reads stg_orders, so it is blocked; dim_customers does not.
            let output = gate(&app, "int_order_payments").await;
            assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
            let text = stdout(&output);
            assert!(text.starts_with(&format!("BLOCK dbt/{} (2 inputs checked)\n", build_job("int_order_payments"))), "{text}");
            assert!(
                text.contains(&format!("input {}/shop.main.stg_orders fails block rule `dbt_tests_pass`: failed: accepted_values(status)", project.namespace())),
                "{text}"
            );
            let output = gate(&app, "dim_customers").await;
            assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
            assert_eq!(stdout(&output), format!("ALLOW dbt/{} (1 input checked)\n", build_job("dim_customers")));

            // Day 3: the seed is fixed and dbt runs again; the gate lets int_order_payments run.
            let text = std::fs::read_to_string(&seed).expect("seed");
            std::fs::write(&seed, text.replace(BAD_ROW, FIXED_ROW)).expect("fix the seed");
            let output = project.dbt_ol(tools, &app, &["build"]).await;
            assert!(output.status.success(), "{}", describe(&output));
            assert!(stdout(&output).contains("PASS=26 WARN=0 ERROR=0 SKIP=0"), "{}", describe(&output));

            let orders = model_health(&app, &project, "stg_orders").await;
            assert_eq!(orders["health"], json!({"status": "HEALTHY", "reasons": []}));
            assert_eq!(orders["checkResults"]["nodes"][0]["message"], "5 assertions passed");
            assert_eq!(accepted_values(&orders)["details"]["actual"], "0");
            assert_eq!(app.query("{ failingDatasets { name } }", json!({})).await["failingDatasets"], json!([]));
            let output = gate(&app, "int_order_payments").await;
            assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
            assert_eq!(stdout(&output), format!("ALLOW dbt/{} (2 inputs checked)\n", build_job("int_order_payments")));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Known issues, found with the real tools. Ignored (so they show as such in every run) until
// Weir handles them; run them with `cargo test --test real_tools -- --ignored`.
// ---------------------------------------------------------------------------------------------

/// dbt-ol stamps test events with the time it sends them (after the whole invocation), not the
/// time the tests ran. After the seed is fixed, int_order_payments is built from a stg_orders
/// whose tests passed just before, in the same `dbt build`; but the passing test event's time
/// is after int_order_payments' START, so Weir judges the run on day 2's failure and taints
/// int_order_payments and fct_orders: the gate blocks fct_orders until one more clean build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "known issue: dbt-ol's event times put a model's START before its upstream's rebuild completes"]
async fn dbt_a_fixed_build_leaves_nothing_tainted() {
    let app = common::TestApp::spawn(common::Backend::Sqlite).await.expect("SQLite");
    let Some(tools) = real_tools().await else { return };
    let (_work, project) = prepare_project(&app).await;
    assert!(project.dbt_ol(tools, &app, &["build", "--vars", "load_date: 2024-01-01"]).await.status.success());
    assert_eq!(project.dbt_ol(tools, &app, &["build"]).await.status.code(), Some(1));
    let seed = project.dir.join("seeds/raw_orders.csv");
    let text = std::fs::read_to_string(&seed).expect("seed");
    std::fs::write(&seed, text.replace(BAD_ROW, FIXED_ROW)).expect("fix the seed");
    let output = project.dbt_ol(tools, &app, &["build"]).await;
    assert!(output.status.success(), "{}", describe(&output));

    for model in MODELS {
        let health = model_health(&app, &project, model).await["health"].clone();
        assert_eq!(health["status"], "HEALTHY", "{model} after a clean build: {health}");
    }
    let output = gate(&app, "fct_orders").await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
}

/// A model with a singular test gets two runs of test evidence with the same event time: the
/// aggregate `MODEL.build.test` run (every test, as dataQualityAssertions) and the singular
/// test's own run (the `test` facet, one test). Weir's `assertions` rules must see the failing
/// generic test although the singular test's run came last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dbt_a_singular_test_does_not_hide_a_failing_generic_test() {
    let app = common::TestApp::spawn(common::Backend::Sqlite).await.expect("SQLite");
    let Some(tools) = real_tools().await else { return };
    let (_work, project) = prepare_project(&app).await;
    std::fs::write(
        project.dir.join("tests/assert_no_negative_order_ids.sql"),
        "select * from {{ ref('stg_orders') }} where order_id < 0\n",
    )
    .expect("add a singular test on stg_orders");
    // The bad row is in: accepted_values(status) fails on stg_orders, the new singular test passes.
    let output = project.dbt_ol(tools, &app, &["build"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(stdout(&output).contains("FAIL 1 accepted_values_stg_orders_status"), "{}", describe(&output));

    let orders = model_health(&app, &project, "stg_orders").await;
    assert_eq!(orders["health"]["status"], "FAILING", "{orders}");
    let input = format!("{}:shop.main.stg_orders", project.namespace());
    let output = weir_cli(&["gate", "--namespace", DBT_NS, "--job", &build_job("int_order_payments"), "--input", &input, "--server", &app.base]).await;
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
}
