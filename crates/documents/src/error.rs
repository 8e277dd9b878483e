//! The one error of this crate: bad input the user can act on, or a failure to read, write or
//! render.

use chitra_core::FieldError;
use chitra_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input, naming the field (or file, row and column) and why: nothing was changed.
    #[error("{0}")]
    Invalid(FieldError),
    /// Something asked for does not exist (a period without a payroll, a point without lines).
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A document could not be written.
    #[error("cannot write {what}: {reason}")]
    Write { what: String, reason: String },
    /// The import's reading thread could not be started, or stopped before the end of the file.
    #[error("cannot read the file: {0}")]
    Reader(String),
    /// The PDF could not be typeset (a fault in the template, not in the data).
    #[error("cannot typeset the PDF: {0}")]
    Typeset(String),
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Invalid(e)
    }
}

impl Error {
    pub(crate) fn write(what: impl Into<String>, reason: impl std::fmt::Display) -> Error {
        Error::Write {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
