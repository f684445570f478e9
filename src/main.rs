//! The `weir` binary: parse the command line, then run the chosen command.

use std::process::ExitCode;

use clap::Parser;
use tracing::error;
use weir::cli::{Cli, Command, RulesCommand, gate, rules};
use weir::store::Store;
use weir::{App, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    if let Command::Gate(args) = &cli.command {
        return gate::run(args).await;
    }
    let result = match cli.command {
        Command::Serve(config) => serve(config).await,
        Command::Migrate { database_url } => migrate(&database_url).await,
        Command::Schema => {
            print!("{}", weir::api::schema_sdl());
            Ok(())
        }
        Command::Rules(RulesCommand::Check { file }) => rules::check(&file).map(|summary| println!("{summary}")),
        Command::Rules(RulesCommand::Apply { file, server, dry_run, author }) => {
            rules::apply(&file, &server, dry_run, &author).await.map(|plan| println!("{plan}"))
        }
        Command::Gate(_) => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("weir: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: weir::Config) -> Result<(), String> {
    let app = App::build(config).await.map_err(|e| e.to_string())?;
    app.run_until(shutdown_signal()).await.map_err(|e| format!("server error: {e}"))
}

async fn migrate(database_url: &str) -> Result<(), String> {
    let store = Store::connect(database_url).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    println!("migrations applied");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what orchestrators send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
