//! Configuration: flags > WEIR_* variables > the TOML file > defaults, `weir config show`
//! with secrets masked, bad settings named at start, and the refusal to serve a network
//! without authentication.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

/// `weir` with no inherited WEIR_* variables (a developer's shell must not change results).
fn weir(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(WEIR);
    for (key, _) in std::env::vars() {
        if key.starts_with("WEIR_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(args).envs(env.iter().copied());
    cmd
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    weir(args, env).output().expect("run weir")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(suffix: &str, content: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("weir-config-{}{suffix}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, content).expect("write temp file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// The line of `key` in `weir config show` output.
fn line<'a>(shown: &'a str, key: &str) -> &'a str {
    shown.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap_or_else(|| panic!("no `{key}` in:\n{shown}"))
}

#[test]
fn flags_beat_variables_beat_the_file_beat_defaults() {
    let file = TempFile::new(
        ".toml",
        "bind = \"127.0.0.1:6001\"\nmax-page-size = 111\ngraphql-max-aliases = 7\nrequest-timeout = \"45s\"\nrequire-auth = true\n",
    );
    let out = run(
        &["config", "show", "--config", file.path(), "--bind", "127.0.0.1:6003"],
        &[("WEIR_BIND", "127.0.0.1:6002"), ("WEIR_MAX_PAGE_SIZE", "222")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert_eq!(line(&shown, "bind"), "bind = \"127.0.0.1:6003\"  # flag");
    assert_eq!(line(&shown, "max-page-size"), "max-page-size = 222  # env WEIR_MAX_PAGE_SIZE");
    assert_eq!(line(&shown, "graphql-max-aliases"), format!("graphql-max-aliases = 7  # file {}", file.path()));
    assert_eq!(line(&shown, "request-timeout"), format!("request-timeout = \"45s\"  # file {}", file.path()));
    assert_eq!(line(&shown, "require-auth"), format!("require-auth = true  # file {}", file.path()));
    assert_eq!(line(&shown, "max-body-bytes"), "max-body-bytes = 10485760  # default");

    // The file can also be named by WEIR_CONFIG, and what `config show` prints is a valid file.
    let printed = TempFile::new(".toml", &shown);
    let again = run(&["config", "show"], &[("WEIR_CONFIG", printed.path())]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(line(&stdout(&again), "max-page-size"), format!("max-page-size = 222  # file {}", printed.path()));
}

#[test]
fn config_show_masks_database_passwords() {
    let out = run(&["config", "show"], &[("WEIR_DATABASE_URL", "postgres://weir:hunter2@db.internal:5432/weir?password=hunter3")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(!shown.contains("hunter2") && !shown.contains("hunter3"), "{shown}");
    assert_eq!(
        line(&shown, "database-url"),
        "database-url = \"postgres://weir:****@db.internal:5432/weir?password=****\"  # env WEIR_DATABASE_URL"
    );
}

#[test]
fn bad_settings_fail_naming_the_setting() {
    let unknown = TempFile::new(".toml", "bind = \"127.0.0.1:0\"\ncolour = \"blue\"\n");
    let out = run(&["serve", "--config", unknown.path()], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("setting `colour`: unknown setting"), "{}", stderr(&out));

    let duration = TempFile::new(".toml", "request-timeout = \"soon\"\n");
    let out = run(&["serve", "--config", duration.path()], &[]);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(message.contains("setting `request-timeout`") && message.contains("soon"), "{message}");

    let not_toml = TempFile::new(".toml", "bind = \n");
    let out = run(&["config", "show", "--config", not_toml.path()], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not valid TOML"), "{}", stderr(&out));

    let out = run(&["serve"], &[("WEIR_BIND", "localhost-ish")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--bind"), "{}", stderr(&out));

    let out = run(&["serve", "--max-concurrent-requests", "0"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--max-concurrent-requests"), "{}", stderr(&out));

    let out = run(&["serve", "--bind", "127.0.0.1:0", "--database-url", "mysql://root:pw@db/weir"], &[]);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(message.contains("invalid setting `--database-url`") && !message.contains(":pw@"), "{message}");
}

/// Starts `weir serve`; returns the child and the address it logged.
fn start(args: &[&str]) -> (Child, String) {
    let mut child = weir(args, &[("WEIR_LOG", "info")]).stderr(Stdio::piped()).spawn().expect("start weir");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let addr = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("weir logs its address");
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap_or_default().to_string();
        }
    };
    (child, addr)
}

#[test]
fn a_non_loopback_address_without_tokens_needs_insecure() {
    let db = TempFile::new(".db", "");
    let url = format!("sqlite://{}?mode=rwc", db.path());
    let out = run(&["serve", "--bind", "0.0.0.0:0", "--database-url", &url], &[]);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(message.contains("refusing to listen on 0.0.0.0:0 without authentication"), "{message}");
    assert!(message.contains("--insecure") && message.contains("weir token create"), "{message}");

    // With --insecure it starts (and is reached here only through loopback).
    let (mut child, addr) = start(&["serve", "--bind", "0.0.0.0:0", "--database-url", &url, "--insecure"]);
    let port = addr.rsplit(':').next().unwrap_or_default().to_string();
    let health = reqwest::blocking_get(&format!("http://127.0.0.1:{port}/healthz"));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(health, 200);

    // With a token it starts without --insecure.
    let out = run(&["token", "create", "--role", "admin", "--name", "ops", "--database-url", &url], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (mut child, _) = start(&["serve", "--bind", "0.0.0.0:0", "--database-url", &url]);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_file_configures_the_real_server() {
    let db = TempFile::new(".db", "");
    let file = TempFile::new(
        ".toml",
        &format!("bind = \"127.0.0.1:0\"\ndatabase-url = \"sqlite://{}?mode=rwc\"\nmax-page-size = 3\nraw-event-retention-days = 9\n", db.path()),
    );
    // The other commands take the settings they use from the file and ignore the rest.
    let out = run(&["retention", "run", "--dry-run", "--config", file.path()], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("(retention: 9 days)"), "{}", stdout(&out));
    let out = run(&["token", "list", "--config", file.path()], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(db.0.metadata().map(|m| m.len() > 0).unwrap_or(false), "the file's database was used");
    let (mut child, addr) = start(&["serve", "--config", file.path()]);
    let answer = reqwest::blocking_post_json(&format!("http://{addr}/graphql"), r#"{"query": "{ datasets(first: 4) { edges { cursor } } }"}"#);
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.contains("BAD_USER_INPUT") && answer.contains("maximum page size 3"), "{answer}");
}

/// Tiny blocking HTTP helpers (the tests above run outside a runtime).
mod reqwest {
    pub fn blocking_get(url: &str) -> u16 {
        runtime().block_on(async { ::reqwest::get(url).await.map(|r| r.status().as_u16()).unwrap_or(0) })
    }

    pub fn blocking_post_json(url: &str, body: &str) -> String {
        runtime().block_on(async {
            let response = ::reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await;
            match response {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => e.to_string(),
            }
        })
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    }
}
