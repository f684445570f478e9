//! The application: a store, the HTTP router and a bound listener.
//!
//! `main` and the integration tests both go through [`App::build`], so tests exercise exactly
//! what runs in production, on a port the OS picks (`bind` port 0).

use std::future::Future;
use std::net::SocketAddr;

use thiserror::Error;
use tokio::net::TcpListener;
use tracing::info;

use crate::api;
use crate::config::Config;
use crate::store::{Store, StoreError};

#[derive(Debug, Error)]
pub enum StartupError {
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
}

impl App {
    /// Opens the database, applies migrations and binds the listener. Serving starts with
    /// [`App::run_until`].
    pub async fn build(config: Config) -> Result<App, StartupError> {
        let store = Store::connect(&config.database_url).await.map_err(StartupError::Database)?;
        store.migrate().await.map_err(StartupError::Migrations)?;
        let router = api::router(store.clone(), &config);
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| StartupError::Bind { addr: config.bind, source })?;
        Ok(App { listener, router, store })
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
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
