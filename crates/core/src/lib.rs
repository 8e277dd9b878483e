//! The rules of chitra, pure: no IO, no async, no clock. Everything that decides who is paid how
//! much, and everything that checks the money adds up, lives here; the store remembers and the
//! server and the CLI translate.

pub mod access;
pub mod anomaly;
pub mod calc;
pub mod contract;
pub mod cycle;
pub mod decision;
pub mod entitlement;
pub mod error;
pub mod forms;
pub mod hledger;
pub mod ids;
pub mod journal;
pub mod ledger;
pub mod money;
pub mod notice;
pub mod office;
pub mod payment;
pub mod payroll;
pub mod period;
pub mod program;
pub mod register;
pub mod rules;
pub mod schedule;
pub mod text;
pub mod units;
pub mod words;

pub use error::FieldError;
pub use money::Dong;
pub use period::Period;
pub use program::Program;
