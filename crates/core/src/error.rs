//! The one error a user can act on: which field was wrong, and why.

use std::fmt;

/// Bad input: names the field and the reason, in words an officer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
pub struct FieldError {
    /// The field as the user knows it (`citizen_id`, `birth_date`, `commune`, …).
    pub field: String,
    /// What is wrong with the value.
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error, reported under another field name (`address.commune` → `commune`).
    pub fn renamed(self, field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: self.reason,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}
