//! The application: a store, the HTTP router and a bound listener.
//!
//! `main` and the integration tests both go through [`App::build`], so tests exercise exactly
//! what runs in production, on a port the OS picks (`bind` port 0).

use std::future::Future;
use std::net::SocketAddr;

use std::time::Duration;

use thiserror::Error;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::api;
use crate::auth::tokens;
use crate::clock::{self, SharedClock};
use crate::config::{Config, ConfigError};
use crate::lineage::LineageIndex;

use crate::store::{Store, StoreError};
use crate::alert::deliver::DeliverySettings;
use crate::alert::notices::Notices;
use crate::evaluation::{self, Scope};
use crate::{alert, retention, telemetry};

#[derive(Debug, Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Serving every client of a network without credentials must be a decision, not a
    /// default.
    #[error(
        "refusing to listen on {addr} without authentication: no API token exists, so anyone who can \
         reach this address could send events and change rules. Create a token first \
         (`weir token create --role admin --name NAME`), or pass `--insecure` (WEIR_INSECURE=true) \
         to serve without authentication on a network you trust"
    )]
    Insecure { addr: SocketAddr },
    #[error("cannot open the database: {0}")]
    Database(#[source] StoreError),
    #[error("cannot apply database migrations: {0}")]
    Migrations(#[source] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    store: Store,
    clock: SharedClock,
    freshness_interval: Duration,
    retention_days: u32,
    retention_interval: Duration,
    notices: Notices,
    lineage: LineageIndex,
    delivery: DeliverySettings,
}

impl App {
    /// Opens the database, applies migrations and binds the listener. Serving starts with
    /// [`App::run_until`].
    pub async fn build(config: Config) -> Result<App, StartupError> {
        App::build_with_clock(config, clock::system()).await
    }

    /// [`App::build`] with another clock (tests move time instead of sleeping).
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> Result<App, StartupError> {
        config.validate()?;
        let store = Store::connect(&config.database_url).await.map_err(StartupError::Database)?;
        store.migrate().await.map_err(StartupError::Migrations)?;
        if let Err(e) = store.checkpoint().await {
            // Not fatal: SQLite checkpoints by itself as the log grows.
            warn!(error = %e, "could not checkpoint the SQLite log at startup");
        }
        if !config.bind.ip().is_loopback() && !config.insecure && !config.require_auth {
            let configured = tokens::auth_configured(&store).await.map_err(StartupError::Database)?;
            if !configured {
                return Err(StartupError::Insecure { addr: config.bind });
            }
        }
        telemetry::metrics::install();
        let notices = Notices::default();
        let lineage = LineageIndex::default();
        let router = api::router(store.clone(), clock.clone(), notices.clone(), lineage.clone(), &config);
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| StartupError::Bind { addr: config.bind, source })?;
        Ok(App {
            listener,
            router,
            store,
            clock,
            freshness_interval: config.freshness_interval,
            retention_days: config.raw_event_retention_days,
            retention_interval: config.retention_interval,
            notices,
            lineage,
            delivery: DeliverySettings {
                poll_interval: config.alert_poll_interval,
                retry_base: config.alert_retry_base,
                retry_max: config.alert_retry_max,
                give_up_after: config.alert_give_up_after,
                request_timeout: config.alert_timeout,
            },
        })
    }

    /// The address actually bound (with the real port when `bind` asked for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until `shutdown` completes, then stops accepting connections and lets in-flight
    /// requests finish: an event whose commit is under way is still acknowledged.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        info!(addr = %self.local_addr()?, "weir listening");
        let (stop_tx, stop_rx) = watch::channel(false);
        let sweeper = (!self.freshness_interval.is_zero()).then(|| {
            let task = freshness_sweeper(self.store.clone(), self.clock.clone(), self.notices.clone(), self.freshness_interval, stop_rx.clone());
            tokio::spawn(task)
        });
        // Alerts queued before a restart are delivered after it: the outbox is in the database.
        let deliverer = Some(tokio::spawn(alert::deliver::run_worker(self.store.clone(), self.delivery.clone(), stop_rx.clone())));
        let retention = (self.retention_days > 0 && !self.retention_interval.is_zero()).then(|| {
            let task = retention_task(self.store.clone(), self.clock.clone(), self.retention_days, self.retention_interval, stop_rx);
            tokio::spawn(task)
        });
        let warming = tokio::spawn(warm_lineage(self.store.clone(), self.lineage.clone()));
        // Answers are written whole, so Nagle's algorithm only delays them: the last partial
        // segment of a large one (a lineage graph of megabytes) could wait for the client's
        // delayed acknowledgement.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
            }
        });
        let served = axum::serve(listener, self.router).with_graceful_shutdown(shutdown).await;
        warming.abort();
        let _ = stop_tx.send(true);
        for task in [sweeper, retention, deliverer].into_iter().flatten() {
            let _ = task.await;
        }
        served
    }
}

/// Loads the in-memory lineage graph while the server already serves; a failure only means
/// the first lineage query loads it.
async fn warm_lineage(store: Store, lineage: LineageIndex) {
    if let Err(e) = lineage.warm(&store.snapshot()).await {
        warn!(error = %e, "could not load the lineage graph at startup");
    }
}

/// One freshness sweep and what follows from its results: taint, incidents and alerts, notices.
async fn after_sweep(store: &Store, notices: &Notices, now: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
    let evaluated = evaluation::evaluate(store, Scope::FreshnessSweep, None, now).await?;
    alert::notices::publish(notices, store, &evaluated.results, &evaluated.incidents, None).await
}

/// Re-evaluates freshness rules every `interval` until told to stop. A failed sweep is
/// logged and retried at the next tick: the server keeps serving.
async fn freshness_sweeper(store: Store, clock: SharedClock, notices: Notices, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let now = clock.now();
                if let Err(e) = after_sweep(&store, &notices, now).await {
                    warn!(error = %e, "freshness sweep failed");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Removes raw events past the retention period every `interval` (the first pass at start),
/// until told to stop; a pass in progress stops between two batches.
async fn retention_task(store: Store, clock: SharedClock, days: u32, interval: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let stopping = stop.clone();
                let pass = retention::run(&store, days, clock.now(), retention::BATCH_SIZE, false, move || *stopping.borrow());
                match pass.await {
                    Ok(Some(report)) if report.raw_events > 0 || report.alerts > 0 => {
                        info!(removed = report.raw_events, alerts = report.alerts, cutoff = %report.cutoff, "raw event retention")
                    }
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "raw event retention failed"),
                }
            }
            _ = stop.changed() => return,
        }
    }
}
