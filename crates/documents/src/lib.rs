//! Documents in and out of chitra: beneficiary imports from the spreadsheets offices keep (with
//! legacy TCVN3 and VNI text converted), payroll lists, settlement reports and schedule notices as
//! Excel and PDF, and the bank payout file with its result. The heavy dependencies (calamine,
//! rust_xlsxwriter, typst) live here only.

pub mod bench;
pub mod error;
pub mod import;
pub mod legacy;
pub mod notices;
pub mod payout;
pub mod payroll;
mod pdf;
pub mod settlement;
pub mod sheet;

pub use error::{Error, Result};

/// Text as documents print it: NFC, whatever the store or the file held.
pub(crate) fn text_nfc(s: &str) -> String {
    chitra_core::text::clean(s)
}
