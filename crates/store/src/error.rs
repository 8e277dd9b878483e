use chitra_core::FieldError;

/// What can go wrong keeping data. `Invalid` is the user's to fix and names the field; the others
/// are the operator's.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("{what} '{key}' not found")]
    NotFound { what: &'static str, key: String },
    #[error("the database is not initialised: run `chitra init` (or `chitra demo`) first")]
    NotInitialised,
    #[error("the database {0} does not exist: run `chitra init --db {0}` (or `chitra demo`) first")]
    Missing(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// SQLite refused or could not run a statement the store ran through its C API (see
    /// `sqlite_bulk`): a full disk, the file locked by another process, a constraint. Its own
    /// code and message, as sqlx reports the others.
    #[error("database error: SQLite error {code}: {message}")]
    Sqlite { code: i32, message: String },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

/// The store's own file work (the WAL's sync) fails as the database's would.
impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> StoreError {
        StoreError::Database(sqlx::Error::Io(e))
    }
}

impl StoreError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> StoreError {
        StoreError::Invalid(FieldError::new(field, reason))
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }

    /// Whether the database was busy: another connection held the lock this needed, or ran a
    /// checkpoint at the same moment (SQLite's `SQLITE_BUSY` and `SQLITE_LOCKED`, with their
    /// extended codes). Trying again later is the answer, not an operator's attention.
    pub fn is_busy(&self) -> bool {
        let busy = |code: i32| matches!(code & 0xff, 5 | 6);
        match self {
            StoreError::Sqlite { code, .. } => busy(*code),
            StoreError::Database(e) => sqlx_busy(e),
            _ => false,
        }
    }
}

/// [`StoreError::is_busy`] for an error of sqlx: SQLite's only (its extended code, which sqlx
/// reports as text). PostgreSQL's codes are SQLSTATEs, some of which would pass for busy as
/// numbers (22021, a NUL in a text); its writers wait for each other's locks instead.
pub(crate) fn sqlx_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::sqlite::SqliteError>())
        .and_then(sqlx::error::DatabaseError::code)
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlite_busy_and_locked_are_busy() {
        let sqlite = |code: i32| StoreError::Sqlite {
            code,
            message: "m".into(),
        };
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_BUSY_SNAPSHOT (517), SQLITE_LOCKED_SHAREDCACHE (262).
        for code in [5, 6, 517, 262] {
            assert!(sqlite(code).is_busy(), "{code}");
        }
        // SQLITE_FULL, SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_IOERR.
        for code in [13, 2067, 10] {
            assert!(!sqlite(code).is_busy(), "{code}");
        }
        assert!(!StoreError::corrupt("x").is_busy());
        assert!(!StoreError::Database(sqlx::Error::PoolTimedOut).is_busy());
    }
}
