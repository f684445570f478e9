//! The thread write transactions run on.
//!
//! Each statement is a hand-off between the task that issues it and whatever executes it: on
//! SQLite, sqlx's worker thread for the connection; on PostgreSQL, the server, whose answer
//! wakes the runtime thread that polls the socket. When the threads involved sit on different
//! CPUs, each hand-off wakes an idle CPU; on a virtual machine that is the largest cost of a
//! statement (an ingested event issues about 35): `weir import` ran 1.7× faster on SQLite with
//! the whole process confined to one CPU, and 1.3-1.5× faster on PostgreSQL with this thread.
//!
//! So the writer gets a thread of its own, running a single-threaded tokio runtime, pinned to
//! one CPU, and its connection is opened from it: sqlx's SQLite worker thread inherits the
//! pinning, and a PostgreSQL connection's socket is polled by this thread's runtime, so every
//! hand-off of the work run here (ingest) stays on that CPU. Reads keep the shared pool and
//! every CPU; so do PostgreSQL's other writes (see `Store::write_connections`).
//!
//! By default the writer takes the last CPU the process may use. Processes that share a host
//! (replicas, an import beside a server) would all take the same one: `WEIR_WRITER_CPU` names
//! another (a CPU number), or `off` leaves the writer unpinned.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinError;

/// The environment variable that chooses the writer's CPU.
const CPU_SETTING: &str = "WEIR_WRITER_CPU";

/// The CPU to pin the writer to, among those the process may use (`allowed`): the one
/// `setting` names, none for `off`, or by default the last one when there are several (the
/// first ones are where the runtime's other threads start).
fn chosen_cpu(setting: Option<&str>, allowed: &[usize]) -> Result<Option<usize>, String> {
    match setting.map(str::trim) {
        None | Some("") => Ok(allowed.last().copied().filter(|_| allowed.len() > 1)),
        Some("off") => Ok(None),
        Some(text) => {
            let id: usize = text.parse().map_err(|_| format!("`{text}` is neither a CPU number nor `off`"))?;
            if allowed.contains(&id) {
                Ok(Some(id))
            } else {
                Err(format!("CPU {id} is not one this process may use ({allowed:?})"))
            }
        }
    }
}

thread_local! {
    /// Set on the writer thread only.
    static IS_WRITER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the caller runs on a writer thread (in work given to [`WriterThread::run`]).
pub(super) fn is_current() -> bool {
    IS_WRITER.with(std::cell::Cell::get)
}

/// The writer's runtime. The thread ends when the last clone is dropped.
#[derive(Clone)]
pub(super) struct WriterThread {
    handle: Handle,
    _stop: Arc<oneshot::Sender<()>>,
}

impl WriterThread {
    /// Starts the thread, pinned to the CPU [`chosen_cpu`] picks.
    pub(super) fn start() -> std::io::Result<WriterThread> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new().name("weir-writer".into()).spawn(move || {
            IS_WRITER.with(|is| is.set(true));
            let allowed: Vec<usize> = core_affinity::get_core_ids().unwrap_or_default().iter().map(|c| c.id).collect();
            match chosen_cpu(std::env::var(CPU_SETTING).ok().as_deref(), &allowed) {
                Ok(Some(id)) if !core_affinity::set_for_current(core_affinity::CoreId { id }) => {
                    tracing::warn!(cpu = id, "could not pin the writer thread to its CPU; it runs unpinned");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("{CPU_SETTING}: {e}; the writer thread runs unpinned"),
            }
            // Runs the spawned tasks until every handle on the writer is gone.
            let _ = runtime.block_on(stopped);
        })?;
        Ok(WriterThread { handle, _stop: Arc::new(stop) })
    }

    /// Runs `work` on the writer thread and waits for it. Fails only if `work` panicked.
    pub(super) async fn run<F, T>(&self, work: F) -> Result<T, JoinError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.handle.spawn(work).await
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;

    use super::chosen_cpu;
    use crate::store::Store;
    use crate::store::test_postgres::PostgresDb;

    #[test]
    fn the_writer_takes_the_last_cpu_unless_told_otherwise() {
        assert_eq!(chosen_cpu(None, &[0, 1, 2, 3]), Ok(Some(3)));
        assert_eq!(chosen_cpu(Some(""), &[2, 5]), Ok(Some(5)));
        assert_eq!(chosen_cpu(None, &[0]), Ok(None), "one CPU: nothing to gain");
        assert_eq!(chosen_cpu(Some("off"), &[0, 1]), Ok(None));
        assert_eq!(chosen_cpu(Some(" 1 "), &[0, 1]), Ok(Some(1)));
        let not_allowed = chosen_cpu(Some("7"), &[0, 1]).unwrap_err();
        assert!(not_allowed.contains("CPU 7"), "{not_allowed}");
        let garbage = chosen_cpu(Some("last"), &[0, 1]).unwrap_err();
        assert!(garbage.contains("`last`"), "{garbage}");
    }

    fn available_cpus() -> usize {
        core_affinity::get_core_ids().map_or(1, |ids| ids.len())
    }

    /// Write transactions of `store` run on the writer thread, pinned, and commit.
    async fn assert_writes_run_on_one_pinned_thread(store: &Store) {
        let cpus_here = available_cpus();
        let (name, cpus_there) = store
            .on_writer(async { (std::thread::current().name().map(str::to_string), available_cpus()) })
            .await
            .expect("the writer runs the work");
        assert_eq!(name.as_deref(), Some("weir-writer"));
        assert_eq!(cpus_there, if cpus_here > 1 { 1 } else { cpus_here }, "pinned to one CPU of {cpus_here}");
        // A write transaction begun on the writer thread commits like any other, and reads
        // see it.
        let writer = store.clone();
        store
            .on_writer(async move {
                let tx = writer.begin_write().await?;
                tx.ensure_namespace("pinned", chrono::Utc::now()).await?;
                tx.commit().await
            })
            .await
            .expect("no panic")
            .expect("committed");
        let namespaces = store.namespaces().await.expect("namespaces");
        assert!(namespaces.iter().any(|n| n == "pinned"), "{namespaces:?}");
    }

    #[tokio::test]
    async fn sqlite_file_writes_run_on_one_pinned_thread() {
        let dir = std::env::temp_dir().join(format!("weir-writer-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.join("weir.db").display())).await.expect("connect");
        store.migrate().await.expect("migrations");
        assert_writes_run_on_one_pinned_thread(&store).await;
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The server process behind the connection of a write transaction begun on this thread.
    async fn write_backend(store: Store) -> i32 {
        let tx = store.begin_write().await.expect("begin");
        let row = tx.tx.query_one_raw(sea_orm::Statement::from_string(tx.tx.get_database_backend(), "SELECT pg_backend_pid()"));
        let pid = row.await.expect("query").expect("a row").try_get_by_index::<i32>(0).expect("an integer");
        tx.commit().await.expect("commit");
        pid
    }

    #[tokio::test]
    async fn postgres_writes_run_on_one_pinned_thread() {
        let Some((store, _db)) = PostgresDb::migrated_store().await else { return };
        assert_writes_run_on_one_pinned_thread(&store).await;
        // The writer thread's transactions all go through its one connection; those begun
        // elsewhere (gate decisions, mutations) go through the shared pool.
        let on_writer = |store: &Store| {
            let inner = store.clone();
            let store = store.clone();
            async move { store.on_writer(write_backend(inner)).await.expect("runs") }
        };
        let first = on_writer(&store).await;
        assert_eq!(on_writer(&store).await, first, "one connection on the writer thread");
        let elsewhere = write_backend(store.clone()).await;
        assert_ne!(elsewhere, first, "a write begun off the writer thread uses the shared pool");
    }

    #[tokio::test]
    async fn in_memory_sqlite_has_no_writer_thread() {
        let store = Store::connect("sqlite::memory:").await.expect("connect");
        let name = store.on_writer(async { std::thread::current().name().map(str::to_string) }).await.expect("runs");
        assert_ne!(name.as_deref(), Some("weir-writer"));
    }
}
