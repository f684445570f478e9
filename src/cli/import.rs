//! `weir import FILE`: replays a file of OpenLineage events into the store.
//!
//! Every event goes through [`crate::ingest::ingest_batch`], as events `POST /api/v1/lineage`
//! calls, so an imported event is archived, applied, evaluated against the rules and judged by
//! the gate exactly as if a client had sent it. The same event imported twice (or already sent
//! over HTTP) is a duplicate and changes nothing, so an interrupted import can simply be run
//! again.
//!
//! The file is NDJSON (one event per line, blank lines ignored), read as a stream, or a JSON
//! array (the body of `POST /api/v1/lineage/batch`), read whole. A reader thread parses ahead in
//! chunks of `--batch-size` lines while the events of the previous chunk are ingested, so the
//! parse costs overlap the database work.
//!
//! A rejected event (invalid JSON or event, a run id that belongs to another job) stops the
//! import at that event, with exit code 1, unless `--keep-going`, which ingests everything
//! else and exits 0. A database failure always stops it.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use super::DatabaseArgs;
use crate::gate::decide::UnknownInputPolicy;
use crate::ingest::committer::MAX_BATCH;
use crate::ingest::dictionary::{self, Schedule};
use crate::ingest::{Archiver, Incoming, IngestError, IngestOutcome, Prepared, ingest_batch};
use crate::openlineage::{Event, ParseError, parse_batch, parse_event};
use crate::store::Store;

/// How many rejections the summary lists one by one; the rest are only counted by reason.
const LISTED_REJECTIONS: usize = 20;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// NDJSON (one event per line) or a JSON array of events.
    pub file: PathBuf,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Ingest every valid event and exit 0 even when some are rejected (they are still listed).
    #[arg(long)]
    pub keep_going: bool,
    /// Lines parsed ahead per chunk, while the previous chunk is being ingested.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,
    /// The gate's policy for inputs without evidence, used to detect gate violations, as for
    /// `weir serve`.
    #[arg(long, env = "WEIR_GATE_UNKNOWN_INPUTS", value_enum, default_value = "allow")]
    pub gate_unknown_inputs: UnknownInputPolicy,
    /// Archived events the database holds before a compression dictionary is trained for the
    /// archive, as for `weir serve` (0: never).
    #[arg(long, env = "WEIR_ARCHIVE_DICTIONARY_AFTER", default_value_t = dictionary::DEFAULT_TRAIN_AFTER)]
    pub archive_dictionary_after: u64,
    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

/// One event that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based line of an NDJSON file, or 1-based position in a JSON array.
    pub position: usize,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    pub ingested: u64,
    pub duplicates: u64,
    pub rejected: Vec<Rejection>,
    /// `"line"` for NDJSON, `"event"` for a JSON array: how positions are counted.
    pub unit: &'static str,
    /// Set when the import stopped at a rejection (no `--keep-going`).
    pub stopped_early: bool,
    pub elapsed: Duration,
}

impl ImportSummary {
    pub fn events(&self) -> u64 {
        self.ingested + self.duplicates + self.rejected.len() as u64
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "{} events in {:.1}s ({:.0} events/s): {} ingested, {} duplicates, {} rejected",
            self.events(),
            secs,
            self.events() as f64 / secs,
            self.ingested,
            self.duplicates,
            self.rejected.len()
        )?;
        for rejection in self.rejected.iter().take(LISTED_REJECTIONS) {
            writeln!(f, "  rejected {} {}: {}", self.unit, rejection.position, rejection.reason)?;
        }
        if self.rejected.len() > LISTED_REJECTIONS {
            let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
            for rejection in &self.rejected[LISTED_REJECTIONS..] {
                *by_reason.entry(rejection.reason.as_str()).or_default() += 1;
            }
            writeln!(f, "  and {} more:", self.rejected.len() - LISTED_REJECTIONS)?;
            for (reason, count) in by_reason {
                writeln!(f, "    {count} × {reason}")?;
            }
        }
        if self.stopped_early
            && let Some(last) = self.rejected.last()
        {
            writeln!(
                f,
                "stopped at {} {}; fix it and import again (events already stored count as duplicates), or use --keep-going",
                self.unit, last.position
            )?;
        }
        Ok(())
    }
}

/// Runs the import and prints the summary on stdout. `Err` (exit 1) when the import could not
/// run, stopped on a database failure, or rejected an event without `--keep-going`.
pub async fn run(args: &ImportArgs) -> Result<(), String> {
    let store = Store::connect(&args.database.database_url).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| format!("cannot apply database migrations: {e}"))?;
    let progress = if args.quiet { ProgressBar::hidden() } else { progress_bar(&args.file)? };
    let result = import_file(&store, &args.file, args, &progress).await;
    progress.finish_and_clear();
    if let Err(e) = store.checkpoint().await {
        // The events are stored; only the log's copy into the database file is left for later.
        tracing::warn!(error = %e, "could not checkpoint the SQLite log after the import");
    }
    let summary = result?;
    print!("{summary}");
    if !summary.rejected.is_empty() && !args.keep_going {
        return Err(format!("{} event(s) rejected (use --keep-going to import the rest anyway)", summary.rejected.len()));
    }
    Ok(())
}

fn progress_bar(path: &Path) -> Result<ProgressBar, String> {
    let len = std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(4));
    let style = ProgressStyle::with_template("{bar:30} {percent:>3}% {msg} ETA {eta}")
        .map_err(|e| e.to_string())?
        .progress_chars("=> ");
    bar.set_style(style);
    Ok(bar)
}

/// One event as the reader prepared it: (position, bytes of the file it took, the event parsed
/// and archived, or why it was rejected).
type Item = (usize, u64, Result<Arc<Prepared>, String>);
type Chunk = Vec<Item>;

/// Imports `path` into `store`; progress is reported in bytes of the file read.
pub async fn import_file(store: &Store, path: &Path, args: &ImportArgs, progress: &ProgressBar) -> Result<ImportSummary, String> {
    let started = Instant::now();
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let is_array = first_significant_byte(&mut reader).map_err(|e| format!("cannot read {}: {e}", path.display()))? == Some(b'[');
    let unit = if is_array { "event" } else { "line" };
    let batch_size = args.batch_size as usize;
    // Two chunks in flight: one being ingested, one being parsed.
    let (tx, mut rx) = mpsc::channel::<Result<Chunk, String>>(2);
    let display = path.display().to_string();
    // The archive's compression dictionary: the database's, or one trained once enough
    // events are in.
    let archiver = Arc::new(Archiver::default());
    let mut schedule = Schedule::new(args.archive_dictionary_after);
    keep_dictionary(store, &archiver, &mut schedule, 0).await;
    let reader_archiver = archiver.clone();
    let reader_task = tokio::task::spawn_blocking(move || {
        let archiver = reader_archiver.as_ref();
        if is_array {
            read_array(reader, &display, Chunker::new(batch_size, &tx, archiver))
        } else {
            read_ndjson(reader, &display, Chunker::new(batch_size, &tx, archiver))
        }
    });

    let mut summary = ImportSummary { unit, ..ImportSummary::default() };
    'chunks: while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        // The events up to the first line that does not parse go in one transaction; a line
        // that does not parse is a rejection of its own.
        let mut rest = chunk.as_slice();
        while !rest.is_empty() {
            let valid = rest.iter().take_while(|(_, _, parsed)| parsed.is_ok()).count();
            let (events, after) = rest.split_at(valid);
            rest = after;
            let stored_before = summary.ingested;
            let stopped = ingest_events(store, events, args, progress, &mut summary, started).await?;
            keep_dictionary(store, &archiver, &mut schedule, summary.ingested - stored_before).await;
            if stopped {
                break 'chunks;
            }
            if let Some(((position, bytes, Err(e)), after)) = rest.split_first() {
                progress.inc(*bytes);
                summary.rejected.push(Rejection { position: *position, reason: e.clone() });
                rest = after;
                if !args.keep_going {
                    summary.stopped_early = true;
                    break 'chunks;
                }
            }
        }
    }
    // Dropping the receiver ends the reader at its next send.
    drop(rx);
    match reader_task.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) if !summary.stopped_early => return Err(e),
        Ok(Err(_)) => {}
        Err(e) => return Err(format!("reader failed: {e}")),
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Loads or trains the archive's dictionary when due. The events already parsed were
/// compressed with gzip; the reader uses the dictionary from its next event.
async fn keep_dictionary(store: &Store, archiver: &Archiver, schedule: &mut Schedule, stored: u64) {
    if schedule.due(stored) {
        dictionary::ensure_or_log(store, archiver, schedule.train_after(), Utc::now()).await;
    }
}

/// Ingests parsed events in transactions of up to [`MAX_BATCH`] events. Returns true when the
/// import must stop at a rejected event.
async fn ingest_events(
    store: &Store,
    events: &[Item],
    args: &ImportArgs,
    progress: &ProgressBar,
    summary: &mut ImportSummary,
    started: Instant,
) -> Result<bool, String> {
    let unit = summary.unit;
    for group in events.chunks(MAX_BATCH) {
        // The batch runs on the store's writer thread, which needs events of its own: a copy
        // costs microseconds, the event's transaction milliseconds.
        let events: Vec<(Arc<Prepared>, DateTime<Utc>)> =
            group.iter().filter_map(|(_, _, parsed)| parsed.as_ref().ok()).map(|event| (event.clone(), Utc::now())).collect();
        let (writer, unknown_inputs, stop_at_rejection) = (store.clone(), args.gate_unknown_inputs, !args.keep_going);
        let results = store
            .on_writer(async move {
                let incoming: Vec<Incoming<'_>> = events.iter().map(|(event, received_at)| Incoming { event: event.as_ref(), received_at: *received_at }).collect();
                ingest_batch(&writer, &incoming, unknown_inputs, stop_at_rejection).await
            })
            .await
            .map_err(|e| format!("{unit} {}: the import's writer failed: {e}", group.first().map_or(0, |g| g.0)))?;
        for ((position, bytes, _), result) in group.iter().zip(results) {
            progress.inc(*bytes);
            let rejection = match result {
                Ok((IngestOutcome::Stored, _)) => {
                    summary.ingested += 1;
                    None
                }
                Ok((IngestOutcome::Duplicate, _)) => {
                    summary.duplicates += 1;
                    None
                }
                Err(e @ IngestError::RunIdConflict { .. }) => Some(format!("run.runId: {e}")),
                Err(e) => return Err(format!("{unit} {position}: cannot store the event: {e}")),
            };
            if let Some(reason) = rejection {
                summary.rejected.push(Rejection { position: *position, reason });
                if !args.keep_going {
                    summary.stopped_early = true;
                    return Ok(true);
                }
            }
        }
        let n = summary.events();
        let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-9);
        progress.set_message(format!("{n} events, {rate:.0}/s, {} rejected", summary.rejected.len()));
    }
    Ok(false)
}

/// The first byte that is not JSON whitespace, without consuming it.
fn first_significant_byte(reader: &mut BufReader<File>) -> std::io::Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => return Ok(Some(buf[i])),
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

fn read_ndjson(mut reader: BufReader<File>, display: &str, mut chunks: Chunker<'_>) -> Result<(), String> {
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| format!("cannot read {display}: {e}"))?;
        if n == 0 {
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if !chunks.push(number, n as u64, parse_event(&line)) {
            return Ok(());
        }
    }
    chunks.send_rest();
    Ok(())
}

fn read_array(mut reader: BufReader<File>, display: &str, mut chunks: Chunker<'_>) -> Result<(), String> {
    let mut body = Vec::new();
    reader.read_to_end(&mut body).map_err(|e| format!("cannot read {display}: {e}"))?;
    let events = match parse_batch(&body) {
        Ok(events) => events,
        Err(e) => {
            let message = format!("{display} is not a JSON array of events: {e}");
            let _ = chunks.tx.blocking_send(Err(message.clone()));
            return Err(message);
        }
    };
    // The array is read whole; progress is spread evenly over its events.
    let count = events.len().max(1) as u64;
    let per_event = body.len() as u64 / count;
    for (index, parsed) in events.into_iter().enumerate() {
        if !chunks.push(index + 1, per_event, parsed) {
            return Ok(());
        }
    }
    chunks.send_rest();
    Ok(())
}

/// Gathers the reader's parsed events into chunks of `batch_size` and sends each once full.
/// Each event is archived here, on the reader's thread, beside the parsing: the writer's
/// thread then only writes.
struct Chunker<'a> {
    chunk: Chunk,
    batch_size: usize,
    tx: &'a mpsc::Sender<Result<Chunk, String>>,
    archiver: &'a Archiver,
}

impl<'a> Chunker<'a> {
    fn new(batch_size: usize, tx: &'a mpsc::Sender<Result<Chunk, String>>, archiver: &'a Archiver) -> Self {
        Chunker { chunk: Chunk::with_capacity(batch_size), batch_size, tx, archiver }
    }

    /// Adds the event at `position` (`bytes` of the file). False when the importer has
    /// stopped listening (it stopped at a rejection): the reader stops too.
    fn push(&mut self, position: usize, bytes: u64, parsed: Result<Event, ParseError>) -> bool {
        let prepared = parsed
            .map_err(|e| e.to_string())
            .and_then(|event| Prepared::new(event, self.archiver).map(Arc::new).map_err(|e| e.to_string()));
        self.chunk.push((position, bytes, prepared));
        if self.chunk.len() < self.batch_size {
            return true;
        }
        let full = std::mem::replace(&mut self.chunk, Chunk::with_capacity(self.batch_size));
        self.tx.blocking_send(Ok(full)).is_ok()
    }

    /// Sends the last, partly filled chunk.
    fn send_rest(self) {
        if !self.chunk.is_empty() {
            let _ = self.tx.blocking_send(Ok(self.chunk));
        }
    }
}
