//! `weir-bench`: the workload generator and the benchmark driver of docs/benchmarks.md.
//!
//! `weir-bench generate --out FILE` writes a deterministic synthetic warehouse's events as
//! NDJSON for `weir import`. `weir-bench run` measures everything in docs/benchmarks.md: it
//! starts the real `weir` binary (built beside this one), imports, serves, queries and loads it
//! over HTTP with concurrent clients, on SQLite and PostgreSQL, measures the raw floor of the
//! same work, prints a table and, with `--write`, puts the results into docs/benchmarks.md.
//! Not part of `cargo test`: build it with `cargo build --release --bins`.

mod workload;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use sha2::Digest;
use workload::{Size, Warehouse};

#[derive(Parser)]
#[command(name = "weir-bench", about = "Workload generator and benchmark driver for Weir")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write the events of a synthetic warehouse as NDJSON.
    Generate {
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        size: SizeArgs,
        /// Events to write (two per run).
        #[arg(long, default_value_t = 100_000)]
        events: usize,
    },
    /// Run the benchmarks.
    Run(RunArgs),
}

#[derive(Args, Clone, Copy)]
struct SizeArgs {
    #[arg(long, default_value_t = 100_000)]
    datasets: usize,
    #[arg(long, default_value_t = 50_000)]
    jobs: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(Args, Clone)]
struct RunArgs {
    /// A small run (minutes): 10k datasets, 5k jobs, 20k events.
    #[arg(long)]
    quick: bool,
    #[command(flatten)]
    size: SizeArgs,
    /// Events imported to build the graph (two per run).
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    /// Events sent over HTTP per backend.
    #[arg(long, default_value_t = 20_000)]
    http_events: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 48)]
    clients: usize,
    /// Queries per measured kind (lineage per depth, gate, dataset page).
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// PostgreSQL server where databases may be created (dropped afterwards).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// SQLite only.
    #[arg(long)]
    no_postgres: bool,
    /// Put the results into this Markdown file, between its results markers.
    #[arg(long)]
    write: Option<PathBuf>,
    /// Where generated files and SQLite databases go (default: a temp dir, removed after).
    #[arg(long)]
    workdir: Option<PathBuf>,
}

fn main() -> Result<(), String> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Generate { out, size, events } => {
            let wh = Warehouse::new(size.into());
            let (n, bytes) = write_ndjson(&wh, 0, events / 2, &out)?;
            eprintln!("{n} events, {bytes} bytes ({} bytes/event) -> {}", bytes / n.max(1), out.display());
            Ok(())
        }
        Cmd::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(run(args))
        }
    }
}

impl From<SizeArgs> for Size {
    fn from(s: SizeArgs) -> Size {
        Size { datasets: s.datasets, jobs: s.jobs, seed: s.seed }
    }
}

fn write_ndjson(wh: &Warehouse, first_run: usize, runs: usize, path: &Path) -> Result<(u64, u64), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let (mut n, mut bytes) = (0u64, 0u64);
    for event in wh.events(first_run, runs) {
        let line = serde_json::to_string(&event).map_err(|e| e.to_string())?;
        bytes += line.len() as u64 + 1;
        n += 1;
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok((n, bytes))
}

// ---------------------------------------------------------------- statistics

#[derive(Default, Clone)]
struct Latency {
    samples: Vec<Duration>,
}

impl Latency {
    fn add(&mut self, d: Duration) {
        self.samples.push(d);
    }
    fn pct(&self, p: f64) -> f64 {
        if self.samples.is_empty() {
            return f64::NAN;
        }
        let mut s = self.samples.clone();
        s.sort();
        let i = ((p / 100.0) * (s.len() - 1) as f64).round() as usize;
        s[i].as_secs_f64() * 1000.0
    }
    fn p50_p99(&self) -> String {
        format!("{} / {} ms", ms(self.pct(50.0)), ms(self.pct(99.0)))
    }
}

fn ms(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v < 1.0 {
        format!("{v:.3}")
    } else if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

// ---------------------------------------------------------------- the weir process

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn rss_kb(&self) -> u64 {
        rss_kb(self.child.id())
    }
    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn weir_bin() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = exe.with_file_name("weir");
    if !path.exists() {
        return Err(format!("{} not found: build it with `cargo build --release --bins`", path.display()));
    }
    Ok(path)
}

fn serve(db_url: &str) -> Result<Server, String> {
    let mut child = Command::new(weir_bin()?)
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", db_url, "--freshness-interval", "0s"])
        .env("WEIR_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start weir serve: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining, so the server never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).map_err(|_| "weir serve did not start")?;
        if let Some(rest) = line.split("addr=").nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or_default().to_string();
            std::thread::spawn(move || while rx.recv().is_ok() {});
            return Ok(Server { child, base: format!("http://{addr}") });
        }
    }
}

const RULES: &str = r#"rules:
  - id: marts_not_empty
    kind: metric
    severity: block
    target: { namespace: "snowflake://acme.eu-west-1", name: "ANALYTICS.MARTS.*" }
    metric: row_count
    op: ">"
    value: 0
  - id: warehouse_assertions
    kind: assertions
    severity: block
    target: { namespace: "snowflake://acme.eu-west-1", name: "ANALYTICS.*" }
  - id: warehouse_last_run_ok
    kind: run_status
    severity: warn
    target: { namespace: "snowflake://acme.eu-west-1", name: "ANALYTICS.*" }
"#;

fn apply_rules(server: &Server, dir: &Path) -> Result<(), String> {
    let path = dir.join("rules.yaml");
    std::fs::write(&path, RULES).map_err(|e| e.to_string())?;
    let out = Command::new(weir_bin()?)
        .args(["rules", "apply"])
        .arg(&path)
        .args(["--server", &server.base])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("rules apply failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

// ---------------------------------------------------------------- databases

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

struct Db {
    url: String,
    path: Option<PathBuf>,
    admin: Option<(String, String)>,
}

async fn fresh_db(backend: Backend, args: &RunArgs, dir: &Path, label: &str) -> Result<Db, String> {
    match backend {
        Backend::Sqlite => {
            let path = dir.join(format!("{label}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            Ok(Db { url: format!("sqlite://{}?mode=rwc", path.display()), path: Some(path), admin: None })
        }
        Backend::Postgres => {
            let name = format!("weir_bench_{}_{label}", std::process::id());
            let admin = Database::connect(&args.postgres_url).await.map_err(|e| e.to_string())?;
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\"")).await.map_err(|e| e.to_string())?;
            admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.map_err(|e| e.to_string())?;
            let base = args.postgres_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&args.postgres_url);
            Ok(Db { url: format!("{base}/{name}"), path: None, admin: Some((args.postgres_url.clone(), name)) })
        }
    }
}

impl Db {
    async fn size_bytes(&self) -> u64 {
        match (&self.path, &self.admin) {
            (Some(path), _) => {
                // What is stored, not how much of it still waits in the write-ahead log: pages
                // rewritten since the last checkpoint are in both files, and how many there
                // are depends on when SQLite last checkpointed (it varied by 30% between runs).
                if let Ok(db) = Database::connect(&self.url).await {
                    let _ = db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await;
                    let _ = db.close().await;
                }
                ["", "-wal"].iter().map(|s| std::fs::metadata(format!("{}{s}", path.display())).map(|m| m.len()).unwrap_or(0)).sum()
            }
            (None, Some(_)) => {
                let Ok(db) = Database::connect(&self.url).await else { return 0 };
                let sql = "SELECT pg_database_size(current_database())::bigint AS n";
                match db.query_one_raw(sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Postgres, sql)).await {
                    Ok(Some(row)) => row.try_get::<i64>("", "n").unwrap_or(0) as u64,
                    _ => 0,
                }
            }
            _ => 0,
        }
    }
    async fn drop_db(self) {
        if let Some(path) = &self.path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        if let Some((admin, name)) = &self.admin
            && let Ok(db) = Database::connect(admin).await
        {
            let _ = db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
        }
    }
}

// ---------------------------------------------------------------- measurements

#[derive(Default)]
struct Results {
    rows: Vec<[String; 5]>,
}

impl Results {
    fn row(&mut self, metric: &str, sqlite: String, postgres: String, floor: String, target: &str) {
        println!("{metric:<48} {sqlite:>22} {postgres:>22} {floor:>26}   {target}");
        self.rows.push([metric.to_string(), sqlite, postgres, floor, target.to_string()]);
    }
    fn markdown(&self) -> String {
        let mut s = String::from("| Measure | SQLite | PostgreSQL | Floor (ratio) | Target |\n|---|---|---|---|---|\n");
        for r in &self.rows {
            s += &format!("| {} | {} | {} | {} | {} |\n", r[0], r[1], r[2], r[3], r[4]);
        }
        s
    }
}

/// What one backend measured.
#[derive(Default, Clone)]
struct BackendRun {
    http_rate: f64,
    http_lat: Latency,
    http_errors: u64,
    rss_rest_kb: u64,
    rss_load_kb: u64,
    import_rate: f64,
    import_secs: f64,
    import_summary: String,
    bytes_per_event: f64,
    lineage: Vec<Lineage>,
    lineage_small: Vec<Lineage>,
    gate: Latency,
    gate_small: Latency,
    page: Latency,
    rss_after_queries_kb: u64,
    /// [`first_query`] on the full graph and on the small one, ms.
    first_query_ms: f64,
    first_query_small_ms: f64,
}

/// One depth's lineage queries: the same walks over GraphQL and over REST.
#[derive(Default, Clone)]
struct Lineage {
    graphql: Latency,
    rest: Latency,
    /// Nodes per answer, on average.
    nodes: f64,
}

const DEPTHS: [u32; 4] = [5, 10, 20, 100];

async fn run(mut args: RunArgs) -> Result<(), String> {
    if args.quick {
        args.size.datasets = 10_000;
        args.size.jobs = 5_000;
        args.events = 20_000;
        args.http_events = 5_000;
        args.queries = 100;
    }
    let started = Instant::now();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let tmp;
    let dir = match &args.workdir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
            d.clone()
        }
        None => {
            tmp = std::env::temp_dir().join(format!("weir-bench-{}", std::process::id()));
            std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
            tmp.clone()
        }
    };
    let wh = Warehouse::new(args.size.into());
    let small = Warehouse::new(Size { datasets: args.size.datasets / 10, jobs: args.size.jobs / 10, seed: args.size.seed });
    eprintln!("warehouse: {} datasets, {} jobs", wh.datasets.len(), wh.jobs.len());
    let import_file = dir.join("import.ndjson");
    let (n_events, raw_bytes) = write_ndjson(&wh, 0, args.events / 2, &import_file)?;
    let small_file = dir.join("import-small.ndjson");
    let (n_small, _) = write_ndjson(&small, 0, args.events / 20, &small_file)?;
    let raw_per_event = raw_bytes as f64 / n_events as f64;
    eprintln!("generated {n_events} events ({raw_per_event:.0} bytes each) in {:.0?}", started.elapsed());
    // HTTP load: later runs of the same warehouse, in memory, serialised up front.
    let http_first_run = args.events / 2;
    let http_runs: Vec<[String; 2]> = {
        let events: Vec<String> = wh.events(http_first_run, args.http_events / 2).map(|e| e.to_string()).collect();
        events.chunks(2).map(|c| [c[0].clone(), c[1].clone()]).collect()
    };

    let mut backends = vec![Backend::Sqlite];
    if !args.no_postgres {
        backends.push(Backend::Postgres);
    }
    let mut measured: HashMap<&'static str, BackendRun> = HashMap::new();
    for &backend in &backends {
        eprintln!("== {} ==", backend.label());
        let mut m = BackendRun::default();
        // 1. HTTP ingest on an empty database with the rules in place.
        let db = fresh_db(backend, &args, &dir, "http").await?;
        let server = serve(&db.url)?;
        apply_rules(&server, &dir)?;
        m.rss_rest_kb = server.rss_kb();
        let (rate, lat, errors, peak) = http_load(&server, &http_runs, args.clients).await;
        (m.http_rate, m.http_lat, m.http_errors, m.rss_load_kb) = (rate, lat, errors, peak);
        eprintln!("http: {rate:.0} events/s, {}, {errors} errors, peak RSS {} MB", m.http_lat.p50_p99(), peak / 1024);
        server.stop();
        db.drop_db().await;

        // 2. Small graph (1/10): import, then the same queries.
        let db = fresh_db(backend, &args, &dir, "small").await?;
        with_rules(&db, &dir)?;
        import(&db, &small_file)?;
        let server = serve(&db.url)?;
        m.first_query_small_ms = first_query(&server, &small).await;
        let (lineage, gate, _) = queries(&server, &small, args.queries).await;
        (m.lineage_small, m.gate_small) = (lineage, gate);
        server.stop();
        db.drop_db().await;
        eprintln!("small graph: {n_small} events imported and queried");

        // 3. The full graph: import, size, queries.
        let db = fresh_db(backend, &args, &dir, "graph").await?;
        with_rules(&db, &dir)?;
        let (secs, summary) = import(&db, &import_file)?;
        m.import_secs = secs;
        m.import_rate = n_events as f64 / secs;
        m.import_summary = summary;
        m.bytes_per_event = db.size_bytes().await as f64 / n_events as f64;
        eprintln!("import: {:.0} events/s ({secs:.0}s), {:.0} stored bytes/event", m.import_rate, m.bytes_per_event);
        let server = serve(&db.url)?;
        m.first_query_ms = first_query(&server, &wh).await;
        let (lineage, gate, page) = queries(&server, &wh, args.queries).await;
        (m.lineage, m.gate, m.page) = (lineage, gate, page);
        m.rss_after_queries_kb = server.rss_kb();
        server.stop();
        db.drop_db().await;
        measured.insert(backend.label(), m);
    }

    // 4. Floors: durable insert of the raw events alone, in-memory traversal of the graph.
    eprintln!("== floors ==");
    let floor_sqlite = raw_insert_floor_sqlite(&import_file, &dir, n_events.min(50_000) as usize).await?;
    let floor_pg = if args.no_postgres { None } else { Some(raw_insert_floor_pg(&import_file, &args, n_events.min(50_000) as usize).await?) };
    let mem = memory_traversal(&wh, args.queries);
    let mem_small = memory_traversal(&small, args.queries);

    // 5. The table.
    let none = BackendRun::default();
    let s = measured.get("SQLite").unwrap_or(&none);
    let p = measured.get("PostgreSQL").unwrap_or(&none);
    let pg = |f: &dyn Fn(&BackendRun) -> String| if args.no_postgres { "-".to_string() } else { f(p) };
    let mut r = Results::default();
    println!();
    r.row(
        &format!("HTTP ingest, {} clients: events/s", args.clients),
        format!("{:.0}", s.http_rate),
        pg(&|b| format!("{:.0} ({:.2}× SQLite)", b.http_rate, s.http_rate / b.http_rate.max(1e-9))),
        format!("{:.0} / {}", floor_sqlite.0, floor_pg.map(|f| format!("{:.0}", f.0)).unwrap_or("-".into())),
        "≥ 5,000",
    );
    r.row("HTTP ingest: p50 / p99", s.http_lat.p50_p99(), pg(&|b| b.http_lat.p50_p99()), "-".into(), "p99 < 50 ms");
    r.row("HTTP ingest: errors", s.http_errors.to_string(), pg(&|b| b.http_errors.to_string()), "-".into(), "0");
    r.row(
        &format!("`weir import` of {n_events} events: events/s"),
        format!("{:.0} ({:.0}s)", s.import_rate, s.import_secs),
        pg(&|b| format!("{:.0} ({:.0}s)", b.import_rate, b.import_secs)),
        format!(
            "{:.0} / {} raw inserts/s ({:.0}× / {})",
            floor_sqlite.0,
            floor_pg.map(|f| format!("{:.0}", f.0)).unwrap_or("-".into()),
            floor_sqlite.0 / s.import_rate.max(1e-9),
            floor_pg.map(|f| format!("{:.0}×", f.0 / p.import_rate.max(1e-9))).unwrap_or("-".into())
        ),
        "≥ 20,000",
    );
    for (i, depth) in DEPTHS.iter().enumerate() {
        let label = if *depth == 100 { "unbounded (100)".to_string() } else { depth.to_string() };
        let cell = |b: &BackendRun, small: bool, rest: bool| {
            let v = if small { &b.lineage_small } else { &b.lineage };
            let lat = |l: &Lineage| if rest { l.rest.p50_p99() } else { l.graphql.p50_p99() };
            v.get(i).map(|l| format!("{} ({:.0} nodes)", lat(l), l.nodes)).unwrap_or("-".into())
        };
        for (small, graph, floor, target) in [
            (false, "full graph", &mem[i], if *depth == 10 { "p99 < 20 ms" } else { "" }),
            (true, "1/10 graph", &mem_small[i], "cost ∝ answer"),
        ] {
            let (floor_lat, floor_nodes) = floor;
            for (rest, surface) in [(false, "GraphQL"), (true, "REST")] {
                r.row(
                    &format!("Lineage upstream depth {label}, {graph}, {surface}: p50 / p99"),
                    cell(s, small, rest),
                    pg(&|b| cell(b, small, rest)),
                    format!("{} ({floor_nodes:.0} nodes)", floor_lat.p50_p99()),
                    target,
                );
            }
        }
    }
    for (small, graph) in [(false, "full graph"), (true, "1/10 graph")] {
        let first = |b: &BackendRun| format!("{} ms", ms(if small { b.first_query_small_ms } else { b.first_query_ms }));
        r.row(&format!("First lineage query after start (loads the graph), {graph}"), first(s), pg(&|b| first(b)), "-".into(), "");
    }
    r.row("Gate decision, full graph: p50 / p99", s.gate.p50_p99(), pg(&|b| b.gate.p50_p99()), "-".into(), "p99 < 10 ms");
    r.row("Gate decision, 1/10 graph: p50 / p99", s.gate_small.p50_p99(), pg(&|b| b.gate_small.p50_p99()), "-".into(), "");
    r.row("Catalog dataset page (GraphQL): p50 / p99", s.page.p50_p99(), pg(&|b| b.page.p50_p99()), "-".into(), "");
    r.row(
        "Stored bytes per event (raw JSON: bytes)",
        format!("{:.0}", s.bytes_per_event),
        pg(&|b| format!("{:.0}", b.bytes_per_event)),
        format!("{raw_per_event:.0} raw JSON"),
        "< raw JSON",
    );
    r.row("RSS at rest (MB)", format!("{}", s.rss_rest_kb / 1024), pg(&|b| format!("{}", b.rss_rest_kb / 1024)), "-".into(), "");
    r.row("RSS peak under HTTP load (MB)", format!("{}", s.rss_load_kb / 1024), pg(&|b| format!("{}", b.rss_load_kb / 1024)), "-".into(), "< 300 MB");
    r.row("RSS after the query runs (MB)", format!("{}", s.rss_after_queries_kb / 1024), pg(&|b| format!("{}", b.rss_after_queries_kb / 1024)), "-".into(), "");

    let elapsed = started.elapsed();
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("\ntotal {:.0}s; load average before: {} after: {}", elapsed.as_secs_f64(), load_before.trim(), load_after.trim());
    println!("import summary (SQLite): {}", s.import_summary.trim());
    if let Some(path) = &args.write {
        write_docs(path, &r, &args, &wh, n_events, raw_per_event, elapsed, &load_before, &load_after)?;
        println!("results written to {}", path.display());
    }
    if args.workdir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn with_rules(db: &Db, dir: &Path) -> Result<(), String> {
    let server = serve(&db.url)?;
    let result = apply_rules(&server, dir);
    server.stop();
    result
}

fn import(db: &Db, file: &Path) -> Result<(f64, String), String> {
    let started = Instant::now();
    let out = Command::new(weir_bin()?)
        .arg("import")
        .arg(file)
        .args(["--database-url", &db.url, "--quiet"])
        .output()
        .map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("weir import failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    }
    Ok((secs, String::from_utf8_lossy(&out.stdout).into_owned()))
}

async fn http_load(server: &Server, runs: &[[String; 2]], clients: usize) -> (f64, Latency, u64, u64) {
    let runs = Arc::new(runs.to_vec());
    let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build().unwrap_or_default();
    let url = format!("{}/api/v1/lineage", server.base);
    let errors = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let pid = server.child.id();
    let sampler = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_kb(pid));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        })
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (runs, client, url, errors) = (runs.clone(), client.clone(), url.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Latency::default();
            for run in runs.iter().skip(c).step_by(clients) {
                for body in run {
                    let t = Instant::now();
                    let ok = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .map(|r| r.status().as_u16() == 201)
                        .unwrap_or(false);
                    lat.add(t.elapsed());
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let mut all = Latency::default();
    for t in tasks {
        if let Ok(l) = t.await {
            all.samples.extend(l.samples);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let peak = sampler.await.unwrap_or(0);
    let n = all.samples.len() as f64;
    (n / secs, all, errors.load(Ordering::Relaxed), peak)
}

/// Deterministic start points: datasets of the marts and export levels (deep ancestry), and
/// jobs of every level.
fn picks(wh: &Warehouse, n: usize) -> (Vec<usize>, Vec<usize>) {
    let deep: Vec<usize> = (0..wh.datasets.len()).filter(|&d| wh.datasets[d].level >= 16 && wh.datasets[d].level < 22).collect();
    let step = (deep.len() / n.max(1)).max(1);
    let datasets = deep.into_iter().step_by(step).take(n).collect();
    let step = (wh.jobs.len() / n.max(1)).max(1);
    let jobs = (0..wh.jobs.len()).step_by(step).take(n).collect();
    (datasets, jobs)
}

const PAGE_QUERY: &str = "query($ns: String!, $name: String!) { dataset(namespace: $ns, name: $name) { id namespace name \
    schema { name type } lastWrittenAt health { status reasons { ruleId outcome severity observed expected evaluatedAt waived } \
    taint { origin { namespace name } } } checkResults(first: 10) { nodes { ruleId outcome observed expected message evaluatedAt } } } }";

/// The answer's bytes, all of them: a query's latency runs from sending it to the last byte of
/// its answer, as an HTTP load tool measures it. Decoding the answer is the client's work
/// (milliseconds for a lineage answer of thousands of nodes), so it is done after the clock
/// stops ([`decode`]).
async fn graphql(client: &reqwest::Client, base: &str, query: &str, variables: Value) -> Option<axum::body::Bytes> {
    let response = client.post(format!("{base}/graphql")).json(&json!({ "query": query, "variables": variables })).send().await.ok()?;
    response.bytes().await.ok()
}

/// A GraphQL answer's JSON, `None` (and a message) when it holds errors.
fn decode(answer: Option<axum::body::Bytes>) -> Option<Value> {
    let body: Value = serde_json::from_slice(&answer?).ok()?;
    if body.get("errors").is_some() {
        eprintln!("graphql error: {}", body["errors"]);
        return None;
    }
    Some(body)
}

/// The first lineage query a freshly started server answers, in ms: it loads the in-memory
/// graph. Timed alone, so that the queries measured after it are those of a server at work
/// (with 30 queries, p99 is the slowest one, and it was this one).
async fn first_query(server: &Server, wh: &Warehouse) -> f64 {
    let (datasets, _) = picks(wh, 1);
    let Some(ds) = datasets.first().map(|&d| &wh.datasets[d]) else { return f64::NAN };
    let q = "query($id: ID!) { lineage(nodeId: $id, direction: UPSTREAM, depth: 1) { nodes { id } } }";
    let variables = json!({ "id": format!("dataset:{}:{}", ds.namespace, ds.name) });
    let client = reqwest::Client::new();
    let t = Instant::now();
    let answer = graphql(&client, &server.base, q, variables).await;
    let elapsed = t.elapsed().as_secs_f64() * 1000.0;
    decode(answer);
    elapsed
}

async fn queries(server: &Server, wh: &Warehouse, n: usize) -> (Vec<Lineage>, Latency, Latency) {
    let client = reqwest::Client::new();
    let (datasets, jobs) = picks(wh, n);
    let mut lineage = Vec::new();
    for depth in DEPTHS {
        let mut measured = Lineage::default();
        let mut nodes = 0usize;
        for &d in &datasets {
            let ds = &wh.datasets[d];
            let id = format!("dataset:{}:{}", ds.namespace, ds.name);
            let q = "query($id: ID!, $depth: Int!) { lineage(nodeId: $id, direction: UPSTREAM, depth: $depth) { nodes { id kind } edges { from to } } }";
            let t = Instant::now();
            let answer = graphql(&client, &server.base, q, json!({ "id": id, "depth": depth })).await;
            measured.graphql.add(t.elapsed());
            let body = decode(answer);
            let graphql_nodes = body.as_ref().and_then(|b| b["data"]["lineage"]["nodes"].as_array().map(Vec::len)).unwrap_or(0);
            nodes += graphql_nodes;
            // The same walk from `GET /api/v1/lineage`, right after, under the same conditions.
            let url = format!("{}/api/v1/lineage", server.base);
            let t = Instant::now();
            let answer = client.get(&url).query(&[("nodeId", id.as_str()), ("direction", "UPSTREAM"), ("depth", &depth.to_string())]).send().await;
            let answer = match answer {
                Ok(response) => response.bytes().await.ok(),
                Err(_) => None,
            };
            measured.rest.add(t.elapsed());
            let rest_nodes = answer
                .and_then(|a| serde_json::from_slice::<Value>(&a).ok())
                .and_then(|b| b["nodes"].as_array().map(Vec::len));
            if rest_nodes != Some(graphql_nodes) {
                eprintln!("REST lineage of {id} at depth {depth}: {rest_nodes:?} nodes, GraphQL {graphql_nodes}");
            }
        }
        measured.nodes = nodes as f64 / datasets.len().max(1) as f64;
        lineage.push(measured);
    }
    let mut gate = Latency::default();
    for &j in &jobs {
        let job = &wh.jobs[j];
        let url = format!("{}/api/v1/gate", server.base);
        let t = Instant::now();
        let answer = client.get(&url).query(&[("namespace", job.namespace.as_str()), ("job", job.name.as_str())]).send().await;
        let ok = match answer {
            Ok(response) => {
                let success = response.status().is_success();
                // To the last byte, like the GraphQL queries.
                response.bytes().await.map(|_| success)
            }
            Err(e) => Err(e),
        };
        gate.add(t.elapsed());
        if !matches!(ok, Ok(true)) {
            eprintln!("gate request failed for {}/{}", job.namespace, job.name);
        }
    }
    let mut page = Latency::default();
    for &d in &datasets {
        let ds = &wh.datasets[d];
        let t = Instant::now();
        let answer = graphql(&client, &server.base, PAGE_QUERY, json!({ "ns": ds.namespace, "name": ds.name })).await;
        page.add(t.elapsed());
        decode(answer);
    }
    (lineage, gate, page)
}

/// The same upstream walks on an in-memory adjacency list of the same graph.
fn memory_traversal(wh: &Warehouse, n: usize) -> Vec<(Latency, f64)> {
    let mut writers: HashMap<usize, Vec<usize>> = HashMap::new();
    for (j, job) in wh.jobs.iter().enumerate() {
        for &o in job.outputs.iter().take(workload::MAX_OUTPUTS) {
            writers.entry(o).or_default().push(j);
        }
    }
    let (datasets, _) = picks(wh, n);
    DEPTHS
        .iter()
        .map(|&depth| {
            let mut lat = Latency::default();
            let mut total = 0usize;
            for &start in &datasets {
                let t = Instant::now();
                let mut seen_d: HashSet<usize> = HashSet::from([start]);
                let mut seen_j: HashSet<usize> = HashSet::new();
                let mut edges: Vec<(usize, usize)> = Vec::new();
                let mut queue = VecDeque::from([(start, 0u32)]);
                while let Some((d, level)) = queue.pop_front() {
                    if level >= depth {
                        continue;
                    }
                    for &j in writers.get(&d).map(Vec::as_slice).unwrap_or(&[]) {
                        edges.push((j, d));
                        if seen_j.insert(j) {
                            for &i in &wh.jobs[j].inputs {
                                edges.push((i, j));
                                if seen_d.insert(i) {
                                    queue.push_back((i, level + 1));
                                }
                            }
                        }
                    }
                }
                total += seen_d.len() + seen_j.len();
                std::hint::black_box(&edges);
                lat.add(t.elapsed());
            }
            (lat, total as f64 / datasets.len().max(1) as f64)
        })
        .collect()
}

/// Durable insert of the raw events alone: one row (hash, JSON) per event, one commit each,
/// WAL with synchronous=FULL, as Weir's SQLite is configured.
async fn raw_insert_floor_sqlite(file: &Path, dir: &Path, limit: usize) -> Result<(f64, usize), String> {
    use sea_orm::sqlx::{self, sqlite::SqliteConnectOptions};
    let path = dir.join("floor.db");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
    let pool = sqlx::SqlitePool::connect_with(options).await.map_err(|e| e.to_string())?;
    sqlx::query("CREATE TABLE raw (hash BLOB PRIMARY KEY, body TEXT NOT NULL)").execute(&pool).await.map_err(|e| e.to_string())?;
    let lines = read_lines(file, limit)?;
    let started = Instant::now();
    for line in &lines {
        let hash = sha2::Sha256::digest(line.as_bytes()).to_vec();
        sqlx::query("INSERT INTO raw (hash, body) VALUES (?, ?) ON CONFLICT DO NOTHING").bind(hash).bind(line).execute(&pool).await.map_err(|e| e.to_string())?;
    }
    let rate = lines.len() as f64 / started.elapsed().as_secs_f64();
    pool.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    eprintln!("raw insert floor, SQLite: {rate:.0} events/s");
    Ok((rate, lines.len()))
}

async fn raw_insert_floor_pg(file: &Path, args: &RunArgs, limit: usize) -> Result<(f64, usize), String> {
    use sea_orm::sqlx;
    let db = fresh_db(Backend::Postgres, args, Path::new("."), "floor").await?;
    let pool = sqlx::PgPool::connect(&db.url).await.map_err(|e| e.to_string())?;
    sqlx::query("CREATE TABLE raw (hash BYTEA PRIMARY KEY, body TEXT NOT NULL)").execute(&pool).await.map_err(|e| e.to_string())?;
    let lines = read_lines(file, limit)?;
    let started = Instant::now();
    for line in &lines {
        let hash = sha2::Sha256::digest(line.as_bytes()).to_vec();
        sqlx::query("INSERT INTO raw (hash, body) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(hash).bind(line).execute(&pool).await.map_err(|e| e.to_string())?;
    }
    let rate = lines.len() as f64 / started.elapsed().as_secs_f64();
    pool.close().await;
    db.drop_db().await;
    eprintln!("raw insert floor, PostgreSQL: {rate:.0} events/s");
    Ok((rate, lines.len()))
}

fn read_lines(file: &Path, limit: usize) -> Result<Vec<String>, String> {
    let f = std::fs::File::open(file).map_err(|e| e.to_string())?;
    BufReader::new(f).lines().take(limit).collect::<Result<_, _>>().map_err(|e| e.to_string())
}

#[allow(clippy::too_many_arguments)]
fn write_docs(
    path: &Path,
    results: &Results,
    args: &RunArgs,
    wh: &Warehouse,
    n_events: u64,
    raw_per_event: f64,
    elapsed: Duration,
    load_before: &str,
    load_after: &str,
) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo.lines().find(|l| l.starts_with("MemTotal")).unwrap_or("").split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).unwrap_or("").trim().to_string();
    let git = |a: &[&str]| Command::new("git").args(a).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    let commit = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = if git(&["status", "--porcelain", "--untracked-files=no"]).is_empty() { "" } else { " (with uncommitted changes)" };
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let section = format!(
        "<!-- results:start -->\n{table}\n\
         - Size: {datasets} datasets and {jobs} jobs in the warehouse; {n_events} events imported ({raw_per_event:.0} bytes of JSON each); \
         {http} events over HTTP per backend with {clients} clients; {queries} queries per measure; seed {seed}.\n\
         - Machine: {cores} cores ({model}), {mem_gb:.1} GB memory. Load average before: `{lb}`, after: `{la}` \
         (other engineers build on this machine: figures taken under load are noisy).\n\
         - Commit: `{commit}`{dirty}. Total time: {secs:.0}s.\n\
         - Command: `{command}`\n\
         <!-- results:end -->",
        table = results.markdown(),
        datasets = wh.datasets.len(),
        jobs = wh.jobs.len(),
        http = args.http_events,
        clients = args.clients,
        queries = args.queries,
        seed = args.size.seed,
        mem_gb = mem as f64 / 1024.0 / 1024.0,
        lb = load_before.trim(),
        la = load_after.trim(),
        secs = elapsed.as_secs_f64(),
    );
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (doc.find("<!-- results:start -->"), doc.find("<!-- results:end -->")) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &doc[..a], section, &doc[b + "<!-- results:end -->".len()..]),
        _ => format!("{doc}\n{section}\n"),
    };
    std::fs::write(path, new).map_err(|e| e.to_string())
}
