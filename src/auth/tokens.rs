//! Creating, listing, revoking and checking API tokens.
//!
//! A token is 32 random bytes from a CSPRNG, URL-safe base64 (43 characters). Its SHA-256 is
//! what the database keeps: a high-entropy secret needs no salt or slow hash, and a lookup by
//! hash is one indexed query, so revocation takes effect on the next request without a cache.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::{Principal, Role, TokenRecord};
use crate::store::{Store, StoreError};

#[derive(Debug, Error)]
pub enum TokenError {
    #[error("invalid token name `{0}`: use 1 to 64 letters, digits, `.`, `_`, `-` or `@`")]
    InvalidName(String),
    /// Names are never reused, so that rule history written by a revoked token keeps meaning
    /// that token.
    #[error("a token named `{0}` exists or existed; choose another name")]
    NameTaken(String),
    #[error("no token named `{0}`")]
    NotFound(String),
    #[error("token `{0}` is already revoked")]
    AlreadyRevoked(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a presented bearer token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    Valid(Principal),
    Revoked,
    Unknown,
}

/// A new secret: 256 bits from the thread-local CSPRNG (seeded by the OS).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored and looked up: hex SHA-256 of the token as presented.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

/// Creates a token and returns it with its secret, which is shown to the caller once and
/// never again.
pub async fn create(store: &Store, name: &str, role: Role, now: DateTime<Utc>) -> Result<(TokenRecord, String), TokenError> {
    if !valid_name(name) {
        return Err(TokenError::InvalidName(name.to_string()));
    }
    if store.token_by_name(name).await?.is_some() {
        return Err(TokenError::NameTaken(name.to_string()));
    }
    let secret = generate();
    let record = TokenRecord { name: name.to_string(), role, created_at: now, revoked_at: None };
    match store.insert_token(&record, &hash(&secret)).await {
        Ok(()) => Ok((record, secret)),
        // Two `create`s of one name at the same moment: the unique index decides.
        Err(e) if e.is_retryable() => Err(TokenError::NameTaken(name.to_string())),
        Err(e) => Err(e.into()),
    }
}

pub async fn list(store: &Store) -> Result<Vec<TokenRecord>, StoreError> {
    store.tokens().await
}

/// Revokes the token named `name`; requests that present it fail from then on.
pub async fn revoke(store: &Store, name: &str, now: DateTime<Utc>) -> Result<TokenRecord, TokenError> {
    let Some(mut record) = store.token_by_name(name).await? else {
        return Err(TokenError::NotFound(name.to_string()));
    };
    if record.revoked_at.is_some() {
        return Err(TokenError::AlreadyRevoked(name.to_string()));
    }
    store.revoke_token(name, now).await?;
    record.revoked_at = Some(now);
    Ok(record)
}

/// Who presents `token`.
pub async fn authenticate(store: &Store, token: &str) -> Result<Authentication, StoreError> {
    Ok(match store.token_by_hash(&hash(token)).await? {
        None => Authentication::Unknown,
        Some(record) if record.revoked_at.is_some() => Authentication::Revoked,
        Some(record) => Authentication::Valid(Principal { name: record.name, role: record.role }),
    })
}

/// True once any token has been created, revoked ones included: revoking the last token
/// must not turn authentication off and open the server.
pub async fn auth_configured(store: &Store) -> Result<bool, StoreError> {
    store.any_token_exists().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hash_to_hex() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(hash(&a).len(), 64);
        assert_eq!(hash(&a), hash(&a.clone()));
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("airflow-prod"));
        assert!(valid_name("ci@team.example"));
        assert!(!valid_name(""));
        assert!(!valid_name("has space"));
        assert!(!valid_name(&"x".repeat(65)));
    }
}
