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
}
