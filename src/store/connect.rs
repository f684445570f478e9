//! Opening the database and running migrations.

use std::str::FromStr;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use super::writer_thread::WriterThread;
use super::{Backend, Store, StoreError};

/// Arbitrary, fixed key of the PostgreSQL advisory lock that serialises migrations.
const MIGRATION_LOCK_KEY: i64 = 0x5745_4952; // "WEIR"

/// How long opening waits, in all, for another process to finish switching a new SQLite file
/// to WAL mode; the same as the busy timeout of every other statement.
const OPEN_BUSY_WAIT: Duration = Duration::from_secs(30);

/// Which SQLite connection is being opened: the pool's or the one write connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Reader,
    Writer,
}

/// The settings of an SQLite connection.
fn sqlite_options(opts: SqliteConnectOptions, role: Role) -> SqliteConnectOptions {
    let opts = opts
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true)
        .create_if_missing(true)
        // Every distinct statement text stays prepared: multi-row inserts of different sizes
        // are distinct texts, and re-preparing was a visible share of each event's cost with
        // the default of 100.
        .statement_cache_capacity(1000)
        // 16 MiB of page cache per connection instead of 2: the pages an event touches stay in
        // memory instead of being read again through syscalls.
        .pragma("cache_size", "-16384");
    match role {
        Role::Reader => opts,
        // Once an event of a batch has failed, each event is applied in a savepoint (see
        // `ingest::ingest_batch`), and SQLite keeps the pages a savepoint changes
        // in a sub-journal, a temporary file by default: three quarters of the writer's write
        // syscalls (about 70 an event on the 100,000-dataset benchmark) went there. In memory
        // it holds one event's pages at a time (it is emptied when the savepoint is released)
        // and is never needed after a crash: the write-ahead log is what makes commits durable.
        Role::Writer => opts.pragma("temp_store", "memory"),
    }
}

/// Opens the pool, trying again while SQLite answers "database is locked".
///
/// Switching a new file to WAL mode (the `journal_mode` pragma every connection runs) needs an
/// exclusive lock that SQLite does not wait for with `busy_timeout`: replicas or processes
/// opening one new file together would otherwise fail at random. Once the file is in WAL mode
/// the pragma changes nothing and takes no lock, so this loop runs only at first start.
async fn open_with_retries(options: ConnectOptions) -> Result<DatabaseConnection, StoreError> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        match Database::connect(options.clone()).await {
            Ok(db) => return Ok(db),
            Err(err) => {
                let err = StoreError::from(err);
                if !err.is_locked() || started.elapsed() >= OPEN_BUSY_WAIT {
                    return Err(err);
                }
                tracing::debug!(error = %err, "database file is locked while opening; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
        }
    }
}

impl Store {
    /// Connects to `url` (`sqlite://PATH?mode=rwc`, `sqlite::memory:`, `postgres://...`).
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL`, so a committed event survives a power
    /// cut: an event is acknowledged only after commit, and that promise must hold.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let mut options = ConnectOptions::new(url.to_string());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30));
        match backend {
            Backend::Sqlite => {
                // An in-memory database exists per connection: keep exactly one.
                let max = if url.contains(":memory:") { 1 } else { 8 };
                options.max_connections(max).min_connections(1);
                options.map_sqlx_sqlite_opts(|opts| sqlite_options(opts, Role::Reader));
            }
            Backend::Postgres => {
                options.max_connections(16).min_connections(1);
            }
        }
        // Validate the URL early so that a typo gives a clear message, not a pool timeout.
        if backend == Backend::Sqlite && !url.contains(":memory:") {
            SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        }
        let db = open_with_retries(options.clone()).await?;
        // An in-memory database exists per connection: its one connection does everything.
        if url.contains(":memory:") {
            return Ok(Store { write_db: db.clone(), db, writer: None, backend, write_lock: Default::default() });
        }
        let writer = WriterThread::start().map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("cannot start the writer thread: {e}"))))?;
        // One connection, opened from the writer thread and kept for the life of the store: a
        // connection opened again later, from another thread, would not be pinned. Only the
        // writer thread uses it on PostgreSQL (see `Store::write_connections`), so a
        // replacement is opened from there too.
        options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
        options.map_sqlx_sqlite_opts(|opts| sqlite_options(opts, Role::Writer));
        let write_db = writer
            .run(open_with_retries(options))
            .await
            .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(format!("opening the write connection failed: {e}"))))??;
        Ok(Store { db, write_db, writer: Some(writer), backend, write_lock: Default::default() })
    }

    /// Applies every pending migration. Safe to run on every start and from several replicas
    /// at once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                // Two processes opening one new file would race too; running the migrations
                // inside one IMMEDIATE transaction makes the second wait for the first, then
                // find nothing pending (SQLite's DDL is transactional).
                let options = TransactionOptions {
                    isolation_level: None,
                    access_mode: None,
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                };
                let tx = self.db.begin_with_options(options).await?;
                Migrator::up(&tx, None).await?;
                tx.commit().await?;
            }
            Backend::Postgres => {
                // Replicas starting together would race to create the same tables; a
                // transaction-scoped advisory lock makes them take turns (the others then find
                // nothing pending). The lock is held by `guard` while the migrator runs on
                // other pooled connections, and released when `guard` commits.
                let guard = self.db.begin().await?;
                guard.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")).await?;
                Migrator::up(&self.db, None).await?;
                guard.commit().await?;
            }
        }
        Ok(())
    }

    /// SQLite: copies what the write-ahead log holds into the database file. A bulk import
    /// leaves megabytes of log behind; copied at the end of the import and when a server
    /// starts, it is not copied during (and charged to) the first request that writes. A
    /// passive checkpoint: it waits for no one and makes no one wait (replicas start together,
    /// an import may run next to a server), and copies what no reader still needs. Nothing to
    /// do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            self.db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await?;
        }
        Ok(())
    }

    /// True when the database answers and no migration is pending.
    pub async fn is_ready(&self) -> Result<bool, StoreError> {
        self.db.execute_unprepared("SELECT 1").await?;
        let pending = Migrator::get_pending_migrations(&self.db).await?;
        Ok(pending.is_empty())
    }

    /// Connections of the pool now, for the metrics: (in use, idle, maximum).
    pub fn pool_stats(&self) -> (u32, u32, u32) {
        // The pool getters panic on the other backend; `backend` was set from the same URL
        // the connection was opened with, so each arm asks for the right one.
        let (size, idle, max) = match self.backend {
            Backend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
            Backend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle(), pool.options().get_max_connections())
            }
        };
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        (size.saturating_sub(idle), idle, max)
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::*;

    async fn pragma(db: &DatabaseConnection, name: &str) -> i64 {
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), format!("PRAGMA {name}"))).await;
        row.expect("pragma").expect("a row").try_get_by_index::<i64>(0).expect("an integer")
    }

    #[tokio::test]
    async fn the_sqlite_writer_keeps_savepoint_journals_in_memory_with_the_same_durability() {
        let dir = std::env::temp_dir().join(format!("weir-connect-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.join("weir.db").display())).await.expect("connect");
        // temp_store: 2 is MEMORY, 0 the default (files).
        assert_eq!(pragma(&store.write_db, "temp_store").await, 2);
        assert_eq!(pragma(&store.db, "temp_store").await, 0);
        for db in [&store.write_db, &store.db] {
            // synchronous=FULL (2): a committed event survives a power cut, whichever
            // connection committed it.
            assert_eq!(pragma(db, "synchronous").await, 2);
            assert_eq!(pragma(db, "foreign_keys").await, 1);
            assert_eq!(pragma(db, "cache_size").await, -16384);
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
