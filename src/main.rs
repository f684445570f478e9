//! The `weir` binary: load the command line (flags, environment, config file), then run the
//! chosen command.

use std::process::ExitCode;

use tracing::error;
use weir::cli::{self, ArchiveCommand, Command, ConfigCommand, RetentionCommand, RulesCommand, TokenCommand, gate, retention, rules, token};
use weir::store::Store;
use weir::telemetry::LogFormat;
use weir::{App, telemetry};

/// Ingestion parses, merges and re-encodes JSON facets all the time; with glibc's allocator,
/// `malloc` and `free` were a fifth of the writer thread's profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let loaded = cli::load();
    let log_format = match &loaded.cli.command {
        Command::Serve(config) => config.log_format,
        _ => LogFormat::Text,
    };
    telemetry::init(log_format);
    if let Command::Gate(args) = &loaded.cli.command {
        return gate::run(args).await;
    }
    let result = match loaded.cli.command {
        Command::Serve(config) => serve(config).await,
        Command::Migrate(database) => migrate(&database.database_url).await,
        Command::Schema => {
            print!("{}", weir::api::schema_sdl());
            Ok(())
        }
        Command::Rules(RulesCommand::Check { file }) => rules::check(&file).map(|summary| println!("{summary}")),
        Command::Rules(RulesCommand::Apply { file, server, dry_run, allow_empty, author }) => {
            rules::apply(&file, &server, dry_run, allow_empty, &author).await.map(|plan| println!("{plan}"))
        }
        Command::Gate(_) => Ok(()),
        Command::Token(TokenCommand::Create { role, name, database }) => {
            token::create(&database.database_url, &name, role).await.map(|(secret, note)| {
                eprintln!("{note}");
                println!("{secret}");
            })
        }
        Command::Token(TokenCommand::List { database }) => token::list(&database.database_url).await.map(|t| println!("{t}")),
        Command::Token(TokenCommand::Revoke { name, database }) => {
            token::revoke(&database.database_url, &name).await.map(|m| println!("{m}"))
        }
        Command::Retention(RetentionCommand::Run { database, raw_event_retention_days, dry_run }) => {
            retention::run(&database.database_url, raw_event_retention_days, dry_run).await.map(|m| println!("{m}"))
        }
        Command::Import(args) => cli::import::run(&args).await,
        Command::Archive(ArchiveCommand::Export { database, after_id }) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            cli::archive::export(&database.database_url, after_id, &mut out).await.map(|n| eprintln!("exported {n} events"))
        }
        Command::ConfigCmd(ConfigCommand::Show(config)) => {
            weir::config::show::render(&config, &loaded.sources).map(|text| print!("{text}"))
        }
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
