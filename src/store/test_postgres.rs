//! A PostgreSQL database of its own for a unit test of the store that needs PostgreSQL (at
//! `WEIR_TEST_DATABASE_URL`, which CI sets; the integration suite has its own in
//! `tests/common`).

use sea_orm::ConnectionTrait;

use super::Store;

/// A PostgreSQL database for one test, dropped with it.
pub(super) struct PostgresDb {
    admin_url: String,
    name: String,
}

impl PostgresDb {
    pub(super) async fn create() -> Option<PostgresDb> {
        let admin_url = std::env::var("WEIR_TEST_DATABASE_URL").ok()?;
        let name = format!("weir_store_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(&admin_url).await.expect("connect to WEIR_TEST_DATABASE_URL");
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
        Some(PostgresDb { admin_url, name })
    }

    /// A migrated store on a database of its own, and the database (keep it alive: dropping it
    /// drops the database); `None`, with a message, when `WEIR_TEST_DATABASE_URL` is unset.
    pub(super) async fn migrated_store() -> Option<(Store, PostgresDb)> {
        let Some(db) = PostgresDb::create().await else {
            eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
            return None;
        };
        let store = Store::connect(&db.url()).await.expect("connect");
        store.migrate().await.expect("migrations");
        Some((store, db))
    }

    fn url(&self) -> String {
        let base = self.admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).expect("database URL has a path");
        format!("{base}/{}", self.name)
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; a thread of its own runs the statement.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(admin) = sea_orm::Database::connect(&url).await {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}

/// Whether a session of `store`'s database came to wait for a lock (another writer's row)
/// within 30 seconds. A test that races two writers lets the first commit only then, and
/// asserts it: had the first committed sooner, the second would not have raced at all.
pub(super) async fn wait_for_a_lock_wait(store: &Store) -> bool {
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    for _ in 0..3000 {
        let row = store.db.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, waiting)).await.expect("query");
        if row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0) > 0 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}
