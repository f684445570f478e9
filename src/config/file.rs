//! Layering the optional TOML configuration file under flags and environment variables.
//!
//! Precedence, highest first: command-line flags, `WEIR_*` variables, the file named by
//! `--config` (or `WEIR_CONFIG`), built-in defaults. clap already does flags > variables >
//! defaults; a file setting is used only where clap says the value is a default. The file's
//! keys are the flags' names without `--` (`max-body-bytes = 1048576`), and each value goes
//! through the flag's own parser, so a value means the same everywhere and a bad one is
//! reported with the setting's name.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Command};

use super::Config;

/// Where a setting's effective value came from (shown by `weir config show`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    /// The variable's name.
    Env(String),
    Flag,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Env(name) => write!(f, "env {name}"),
            Source::Flag => f.write_str("flag"),
        }
    }
}

/// The source of every setting of the command that ran, by key (`max-body-bytes`).
pub type Sources = BTreeMap<String, Source>;

#[derive(Debug)]
pub enum LayerError {
    /// Bad flags or variables, `--help`, `--version`: clap prints these itself.
    Clap(clap::Error),
    /// The file is unreadable, not TOML, or has an unknown or invalid setting.
    File(String),
}

impl From<clap::Error> for LayerError {
    fn from(e: clap::Error) -> Self {
        LayerError::Clap(e)
    }
}

/// Parses `args` with `cmd`, filling settings from the configuration file when one is named.
pub fn parse_layered(cmd: Command, args: Vec<OsString>) -> Result<(ArgMatches, Sources), LayerError> {
    let first = cmd.clone().try_get_matches_from(&args)?;
    let (path, leaf_names) = leaf(&first);
    let leaf_cmd = find_command(&cmd, &leaf_names);
    let Some(path) = path else {
        let sources = sources(leaf_cmd.as_ref(), leaf_matches(&first), &BTreeSet::new(), None);
        return Ok((first, sources));
    };
    let table = read_table(&path)?;
    let known: BTreeSet<String> = settings().into_iter().collect();
    let mut extra: Vec<OsString> = Vec::new();
    let mut from_file = BTreeSet::new();
    for (key, value) in &table {
        if !known.contains(key) {
            return Err(file_error(&path, key, "unknown setting (settings are the flags of `weir serve` without `--`)"));
        }
        // A setting another command does not take (`bind` for `weir token list`) is fine.
        let Some(cmd) = &leaf_cmd else { continue };
        let Some(arg) = cmd.get_arguments().find(|a| a.get_long() == Some(key.as_str())) else { continue };
        let given = leaf_matches(&first).value_source(arg.get_id().as_str());
        if matches!(given, Some(ValueSource::CommandLine | ValueSource::EnvVariable)) {
            continue;
        }
        let takes_value = arg.get_action().takes_values();
        let flag = match (takes_value, value) {
            (false, toml::Value::Boolean(true)) => format!("--{key}"),
            (false, toml::Value::Boolean(false)) => continue,
            (false, _) => return Err(file_error(&path, key, "must be true or false")),
            (true, toml::Value::String(s)) => format!("--{key}={s}"),
            (true, toml::Value::Integer(i)) => format!("--{key}={i}"),
            (true, toml::Value::Float(x)) => format!("--{key}={x}"),
            (true, toml::Value::Boolean(b)) => format!("--{key}={b}"),
            (true, _) => return Err(file_error(&path, key, "must be a string, a number or a boolean")),
        };
        // The flag's own parser, on its own, so the message is about this setting only.
        let alone = Command::new("weir").arg(arg.clone().required(false)).try_get_matches_from(["weir", flag.as_str()]);
        if let Err(e) = alone {
            return Err(file_error(&path, key, &clap_message(&e)));
        }
        extra.push(flag.into());
        from_file.insert(key.clone());
    }
    let mut all = args;
    all.extend(extra);
    let layered = cmd.try_get_matches_from(all)?;
    let sources = sources(leaf_cmd.as_ref(), leaf_matches(&layered), &from_file, Some(&path));
    Ok((layered, sources))
}

/// Every key the file may hold: the long flags of `weir serve`.
pub fn settings() -> Vec<String> {
    Config::augment_args(Command::new("serve"))
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

fn read_table(path: &Path) -> Result<toml::Table, LayerError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LayerError::File(format!("cannot read config file `{}`: {e}", path.display())))?;
    text.parse::<toml::Table>()
        .map_err(|e| LayerError::File(format!("config file `{}` is not valid TOML: {e}", path.display())))
}

fn file_error(path: &Path, key: &str, message: &str) -> LayerError {
    LayerError::File(format!("config file `{}`: setting `{key}`: {message}", path.display()))
}

/// clap's message without its `error: ` prefix and usage footer.
fn clap_message(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// The config file named for the command that runs, and the path of subcommand names to it.
fn leaf(matches: &ArgMatches) -> (Option<PathBuf>, Vec<String>) {
    let mut names = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        names.push(name.to_string());
        current = sub;
    }
    let path = current.try_get_one::<PathBuf>("config").ok().flatten().cloned();
    (path, names)
}

fn leaf_matches(matches: &ArgMatches) -> &ArgMatches {
    let mut current = matches;
    while let Some((_, sub)) = current.subcommand() {
        current = sub;
    }
    current
}

fn find_command(cmd: &Command, names: &[String]) -> Option<Command> {
    let mut current = cmd.clone();
    for name in names {
        current = current.find_subcommand(name)?.clone();
    }
    Some(current)
}

fn sources(cmd: Option<&Command>, matches: &ArgMatches, from_file: &BTreeSet<String>, path: Option<&Path>) -> Sources {
    let Some(cmd) = cmd else { return Sources::new() };
    cmd.get_arguments()
        .filter_map(|arg| {
            let key = arg.get_long()?.to_string();
            let source = match matches.value_source(arg.get_id().as_str()) {
                _ if from_file.contains(&key) => Source::File(path.map(Path::to_path_buf).unwrap_or_default()),
                Some(ValueSource::CommandLine) => Source::Flag,
                Some(ValueSource::EnvVariable) => {
                    Source::Env(arg.get_env().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default())
                }
                _ => Source::Default,
            };
            Some((key, source))
        })
        .collect()
}
