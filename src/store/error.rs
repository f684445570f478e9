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

    /// SQLite's "database is locked": another connection holds a lock this one could not wait for.
    pub fn is_locked(&self) -> bool {
        matches!(self, StoreError::Db(err) if err.to_string().contains("database is locked"))
    }
}
