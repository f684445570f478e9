use thiserror::Error;

/// A database failure. Callers do not branch on the details, except to retry a transaction
/// that lost a race on PostgreSQL ([`StoreError::is_retryable`]).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("unsupported database URL `{0}`: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Serialization failures, deadlocks and unique-key races between concurrent writers:
    /// the transaction can simply be run again.
    pub fn is_retryable(&self) -> bool {
        let StoreError::Db(err) = self else { return false };
        let text = err.to_string();
        // SQLSTATE 40001 serialization_failure, 40P01 deadlock_detected, 23505 unique_violation;
        // SQLite's "database is locked" when busy_timeout ran out.
        ["40001", "40P01", "23505", "database is locked", "UNIQUE constraint failed"]
            .iter()
            .any(|needle| text.contains(needle))
    }

    /// PostgreSQL refused a value it cannot store: a NUL character (`\u0000`) in text
    /// (SQLSTATE 22021, character_not_in_repertoire) or in `jsonb` (22P05,
    /// untranslatable_character). Events holding one are refused before they reach the store;
    /// this catches the other inputs (GraphQL arguments, rules, waivers), which are bad
    /// requests, not failures.
    pub fn is_unstorable_text(&self) -> bool {
        use sea_orm::{DbErr, RuntimeErr};
        let StoreError::Db(DbErr::Query(RuntimeErr::SqlxError(err)) | DbErr::Exec(RuntimeErr::SqlxError(err))) = self else {
            return false;
        };
        err.as_database_error().and_then(|db| db.code()).is_some_and(|code| code == "22021" || code == "22P05")
    }

    /// SQLite's "database is locked": another connection holds a lock this one could not wait for.
    pub fn is_locked(&self) -> bool {
        matches!(self, StoreError::Db(err) if err.to_string().contains("database is locked"))
    }
}
