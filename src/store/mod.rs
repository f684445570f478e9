//! Persistence: sea-orm over SQLite or PostgreSQL.
//!
//! Entities are private to this module. Everything else talks to the database through
//! [`Store`] (reads) and [`WriteTx`] (one write transaction), which take and return the domain
//! types of [`crate::model`].

mod alerting;
mod archive;
mod assertion_details;
mod connect;
mod convert;
mod entities;
mod error;
mod gating;
mod graph;
mod in_list;
mod metric_reports;
mod packed_json;
mod quality;
mod read;
mod recorded_checks;
mod retention;
#[cfg(test)]
mod test_postgres;
mod tokens;
mod write;
mod writer_thread;

pub use alerting::{IncidentFilter, NewChannel};
pub use archive::StoredDictionary;
pub use error::StoreError;
pub use gating::{Snapshot, Writer, reference, run_start};
pub use read::NameFilter;
pub use write::{DatasetState, EdgeSpec, InsertedRaw, JobState, RunIoRows, RunRecord, WriteTx, merge_facets};

use sea_orm::DatabaseConnection;

/// Which database engine a store runs on. Some statements (row locks, retries) differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// One connection opened from the writer thread (see [`writer_thread`]): on SQLite files
    /// every write transaction's, on PostgreSQL those of the work run on the writer thread
    /// (ingest); for in-memory SQLite, the same one-connection pool as `db`.
    write_db: DatabaseConnection,
    writer: Option<writer_thread::WriterThread>,
    backend: Backend,
    /// SQLite has one writer at a time. Writers of this process queue here, in order, instead
    /// of in SQLite's busy handler, which polls with sleeps that grow to 100 ms (or whole
    /// seconds without `usleep`): under 32 concurrent writers that made p99 latency seconds and
    /// let requests time out. Unused on PostgreSQL, whose writers run concurrently.
    write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where a write transaction begun here runs. On PostgreSQL, writes from other threads
    /// (gate decisions, mutations, sweeps) use the shared pool, which they may use
    /// concurrently: the writer's connection answers on the writer thread, and reaching
    /// another thread from there would cost a second wake-up per statement.
    fn write_connections(&self) -> &DatabaseConnection {
        match self.backend {
            Backend::Postgres if !writer_thread::is_current() => &self.db,
            _ => &self.write_db,
        }
    }

    /// Runs `work` (which should take its write transactions in there) on the writer thread
    /// when the store has one, or as a task of the current runtime, and waits for it. Fails
    /// only if `work` panicked.
    pub async fn on_writer<F, T>(&self, work: F) -> Result<T, tokio::task::JoinError>
    where
        F: std::future::Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        // The caller's span goes along, so that the work's logs say what it was for.
        let work = tracing::Instrument::in_current_span(work);
        match &self.writer {
            Some(writer) => writer.run(work).await,
            None => tokio::spawn(work).await,
        }
    }
}
