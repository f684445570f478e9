//! `weir token create | list | revoke` against a running server's database: the secret is
//! printed once and only its hash is stored, and a revocation applies without a restart.

mod common;

use std::process::{Command, Output};

use sea_orm::{ConnectionTrait, Database, Statement};
use sha2::{Digest, Sha256};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

fn weir(args: &[&str], database_url: &str) -> Output {
    Command::new(WEIR).args(args).args(["--database-url", database_url]).output().expect("run weir")
}

backend_tests! {
    async fn tokens_are_made_listed_and_revoked_from_the_command_line(app) {
        let url = app.database_url.clone();
        // Before any token the loopback server is open.
        assert_eq!(app.client.get(app.url("/readyz")).send().await.expect("request").status().as_u16(), 200);

        let out = weir(&["token", "create", "--role", "read", "--name", "grafana"], &url);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(secret.len(), 43, "only the token on stdout: {secret:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("printed once"));

        // The running server now requires it, without a restart.
        let status = |token: Option<String>| {
            let request = app.client.get(app.url("/readyz"));
            let request = match token { Some(t) => request.bearer_auth(t), None => request };
            async move { request.send().await.expect("request").status().as_u16() }
        };
        assert_eq!(status(None).await, 401);
        assert_eq!(status(Some(secret.clone())).await, 200);

        // Only the SHA-256 is stored.
        let db = Database::connect(&url).await.expect("connect");
        let backend = db.get_database_backend();
        let row = db
            .query_one_raw(Statement::from_string(backend, "SELECT name, role, token_hash FROM api_tokens"))
            .await
            .expect("query")
            .expect("a row");
        let stored: String = row.try_get("", "token_hash").expect("hash");
        assert_eq!(stored, hex::encode(Sha256::digest(secret.as_bytes())));

        let out = weir(&["token", "create", "--role", "admin", "--name", "grafana"], &url);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("`grafana` exists or existed"));
        let out = weir(&["token", "create", "--role", "root", "--name", "x"], &url);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role `root`"), "{}", String::from_utf8_lossy(&out.stderr));

        let out = weir(&["token", "list"], &url);
        let listed = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(listed.starts_with("NAME") && listed.contains("grafana") && listed.contains("read"), "{listed}");
        assert!(!listed.contains(&secret) && !listed.contains(&stored), "{listed}");

        let out = weir(&["token", "revoke", "grafana"], &url);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(status(Some(secret.clone())).await, 401);
        let out = weir(&["token", "revoke", "grafana"], &url);
        assert!(String::from_utf8_lossy(&out.stderr).contains("already revoked"));
        let out = weir(&["token", "list"], &url);
        let revoked_line = String::from_utf8_lossy(&out.stdout).lines().find(|l| l.starts_with("grafana")).unwrap_or_default().to_string();
        assert!(!revoked_line.trim_end().ends_with('-'), "the revocation time is listed: {revoked_line}");
    }
}
