//! Group commit for concurrent HTTP requests.
//!
//! Every request hands its parsed event to one writer task and waits for its result. The task
//! takes whatever has queued up while the previous transaction was running (up to
//! [`MAX_BATCH`]) and ingests it as one transaction ([`super::ingest_batch`]), so under load
//! one commit covers many events, while a lone request still commits at once. A request is
//! answered only after the transaction holding its event has committed.
//!
//! The writer also keeps the archive's compression dictionary in use ([`super::dictionary`]).
//!
//! On SQLite there is only one writer anyway; on PostgreSQL one writer per process also means
//! the events of one process never wait on each other's row locks (replicas still may, and
//! retry).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tracing::error;

use super::dictionary::{self, Schedule};
use super::{Archiver, IngestError, IngestOutcome, Incoming, Ingested, Prepared, ingest, ingest_batch};
use crate::gate::decide::UnknownInputPolicy;
use crate::openlineage::Event;
use crate::store::Store;

/// The most events in one transaction: bounds how long the first of them waits for the commit.
pub const MAX_BATCH: usize = 256;

/// Requests waiting for the writer; past this, senders wait (back-pressure on clients).
const QUEUE: usize = 4 * MAX_BATCH;

struct Pending {
    event: Prepared,
    received_at: DateTime<Utc>,
    reply: oneshot::Sender<Ingested>,
}

/// The handle requests submit events through. Cloning it is cheap; the writer task ends when
/// the last handle is dropped.
#[derive(Clone)]
pub struct Committer {
    queue: mpsc::Sender<Pending>,
    archiver: Arc<Archiver>,
}

impl Committer {
    /// Starts the writer task on the current runtime.
    /// `dictionary_after`: archived events before the archive's dictionary is trained (0: never).
    pub fn start(store: Store, unknown_inputs: UnknownInputPolicy, dictionary_after: u64) -> Committer {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let archiver = Arc::new(Archiver::default());
        tokio::spawn(run(store, unknown_inputs, receiver, archiver.clone(), Schedule::new(dictionary_after)));
        Committer { queue, archiver }
    }

    /// Ingests `event`; returns once the transaction that holds it has committed (or failed).
    pub async fn ingest(&self, event: Event, received_at: DateTime<Utc>) -> Ingested {
        self.submit(event, received_at).await?.wait().await
    }

    /// Archives `event` (see [`Prepared`]) on the caller's thread, for
    /// [`Committer::submit_prepared`]; a large event's caller runs this on a blocking thread.
    pub fn prepare(&self, event: Event) -> Result<Prepared, IngestError> {
        Prepared::new(event, &self.archiver)
    }

    /// Queues `event` behind those already submitted; the ticket waits for its result. Events
    /// submitted one after the other are applied in that order. The event is archived here,
    /// on the caller's thread, so that the writer's thread only writes.
    pub async fn submit(&self, event: Event, received_at: DateTime<Utc>) -> Result<Ticket, IngestError> {
        self.submit_prepared(self.prepare(event)?, received_at).await
    }

    /// [`Committer::submit`] for an event already archived.
    pub async fn submit_prepared(&self, event: Prepared, received_at: DateTime<Utc>) -> Result<Ticket, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { event, received_at, reply })
            .await
            .map_err(|_| IngestError::WriterGone("the writer has stopped"))?;
        Ok(Ticket(answer))
    }
}

/// A submitted event's place in the queue.
pub struct Ticket(oneshot::Receiver<Ingested>);

impl Ticket {
    pub async fn wait(self) -> Ingested {
        self.0.await.map_err(|_| IngestError::WriterGone("the writer failed while ingesting this event"))?
    }
}

async fn run(
    store: Store,
    unknown_inputs: UnknownInputPolicy,
    mut receiver: mpsc::Receiver<Pending>,
    archiver: Arc<Archiver>,
    mut schedule: Schedule,
) {
    keep_dictionary(&store, &archiver, &mut schedule, 0);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let pending = std::mem::take(&mut batch);
        let writer = store.clone();
        // Each batch runs in a task of its own, on the store's writer thread: whatever happens
        // to it (`commit` already retries a batch that panics event by event), the writer goes
        // on with the next one.
        match store.on_writer(async move { commit(&writer, unknown_inputs, pending).await }).await {
            Ok(stored) => keep_dictionary(&store, &archiver, &mut schedule, stored),
            Err(e) => error!(error = %e, "an ingest batch failed"),
        }
    }
}

/// Loads or trains the archive's dictionary when due, in a task of its own: the writer goes
/// on meanwhile, archiving with gzip.
fn keep_dictionary(store: &Store, archiver: &Arc<Archiver>, schedule: &mut Schedule, stored: u64) {
    if schedule.due(stored) {
        let (store, archiver, train_after) = (store.clone(), archiver.clone(), schedule.train_after());
        tokio::spawn(async move { dictionary::ensure_or_log(&store, &archiver, train_after, Utc::now()).await });
    }
}

/// Ingests and answers a batch; returns how many of its events were stored.
async fn commit(store: &Store, unknown_inputs: UnknownInputPolicy, pending: Vec<Pending>) -> u64 {
    let incoming: Vec<Incoming<'_>> = pending.iter().map(|p| Incoming { event: &p.event, received_at: p.received_at }).collect();
    let outcome = AssertUnwindSafe(ingest_batch(store, &incoming, unknown_inputs, false)).catch_unwind().await;
    drop(incoming);
    let Ok(results) = outcome else {
        // A bug panicked somewhere in the batch; its transaction was dropped, so nothing of it
        // is stored. Each event is ingested again on its own, so that only the one that
        // panics fails, not every request that happened to share its transaction.
        error!(events = pending.len(), "an ingest batch panicked; ingesting its events one by one");
        let mut stored = 0;
        for p in pending {
            let result = AssertUnwindSafe(ingest(store, &p.event, p.received_at, unknown_inputs))
                .catch_unwind()
                .await
                .unwrap_or(Err(IngestError::WriterGone("ingesting this event failed")));
            stored += u64::from(is_stored(&result));
            let _ = p.reply.send(result);
        }
        return stored;
    };
    let stored = results.iter().filter(|r| is_stored(r)).count() as u64;
    for (pending, result) in pending.into_iter().zip(results) {
        // The client may have gone away; its event is stored all the same.
        let _ = pending.reply.send(result);
    }
    stored
}

fn is_stored(result: &Ingested) -> bool {
    matches!(result, Ok((IngestOutcome::Stored, _)))
}
