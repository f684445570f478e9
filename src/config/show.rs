//! `weir config show`: the effective configuration as a TOML file, secrets masked, each
//! setting followed by where its value came from.

use std::time::Duration;

use serde::Serializer;

use super::Config;
use super::file::Sources;

const MASK: &str = "****";

/// Serializes a URL with its password (and any `password=`/`secret=`/`token=` query value)
/// replaced by `****`.
pub fn masked_url<S: Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&mask_url(url))
}

/// Serializes a secret as `****` (or empty when unset), for settings that hold one.
pub fn masked<S: Serializer>(secret: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if secret.is_empty() { "" } else { MASK })
}

/// Serializes a duration as a flag would take it (`1m`, `30s`).
pub fn duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&humantime::format_duration(*d).to_string())
}

pub fn mask_url(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (url, None),
    };
    let mut out = match main.split_once("://") {
        // SQLite URLs carry a path and no credentials (and a path may contain `@`).
        Some((scheme, rest)) if scheme.starts_with("sqlite") => format!("{scheme}://{rest}"),
        Some((scheme, rest)) => {
            // The password may contain `/` or `@`; the host part starts after the last `@`.
            let (authority, path) = match rest.rsplit_once('@') {
                Some((userinfo, host_and_path)) => {
                    let userinfo = match userinfo.split_once(':') {
                        Some((user, _password)) => format!("{user}:{MASK}"),
                        None => userinfo.to_string(),
                    };
                    (format!("{userinfo}@"), host_and_path)
                }
                None => (String::new(), rest),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => main.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if ["password", "secret", "token"].iter().any(|s| key.to_ascii_lowercase().contains(s)) => {
                    format!("{key}={MASK}")
                }
                _ => param.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// The configuration as TOML that `--config` accepts, with a `# source` comment per line.
pub fn render(config: &Config, sources: &Sources) -> Result<String, String> {
    let text = toml::to_string(config).map_err(|e| format!("cannot render the configuration: {e}"))?;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let key = line.split(" = ").next().unwrap_or_default();
            match sources.get(key) {
                Some(source) => format!("{line}  # {source}"),
                None => line.to_string(),
            }
        })
        .collect();
    Ok(lines.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_the_rest_kept() {
        assert_eq!(mask_url("postgres://weir:s3cret@db:5432/weir"), "postgres://weir:****@db:5432/weir");
        assert_eq!(mask_url("postgres://weir@db/weir"), "postgres://weir@db/weir");
        assert_eq!(
            mask_url("postgres://db/weir?user=a&password=x&sslmode=require"),
            "postgres://db/weir?user=a&password=****&sslmode=require"
        );
        assert_eq!(mask_url("sqlite://weir.db?mode=rwc"), "sqlite://weir.db?mode=rwc");
        assert_eq!(mask_url("postgres://u:p/s@ss@host/db"), "postgres://u:****@host/db");
    }
}
