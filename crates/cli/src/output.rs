//! Printing: tables for people, JSON for programs, and errors that name the field.

use chitra_core::FieldError;
use chitra_store::StoreError;
use serde::Serialize;

use crate::Format;

/// Why a command failed, and the exit code that says so: 2 for bad input (nothing changed),
/// 3 for something not found, 4 for a journal or ledger that does not verify, 5 for something
/// already done by someone else (a line already paid), 1 for anything else.
#[derive(Debug)]
pub enum Failure {
    Invalid(FieldError),
    NotFound(String),
    Tampered(String),
    Conflict(String),
    Other(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Invalid(_) => 2,
            Failure::NotFound(_) => 3,
            Failure::Tampered(_) => 4,
            Failure::Conflict(_) => 5,
            Failure::Other(_) => 1,
        }
    }

    pub fn text(&self) -> String {
        match self {
            Failure::Invalid(e) => {
                format!("error: {}: {}\n(nothing was changed)", e.field, e.reason)
            }
            Failure::NotFound(m)
            | Failure::Tampered(m)
            | Failure::Conflict(m)
            | Failure::Other(m) => {
                format!("error: {m}")
            }
        }
    }

    pub fn json(&self) -> String {
        let (code, field, message) = match self {
            Failure::Invalid(e) => ("invalid", Some(e.field.as_str()), e.reason.clone()),
            Failure::NotFound(m) => ("not_found", None, m.clone()),
            Failure::Tampered(m) => ("mismatch", None, m.clone()),
            Failure::Conflict(m) => ("conflict", None, m.clone()),
            Failure::Other(m) => ("error", None, m.clone()),
        };
        serde_json::json!({ "error": { "code": code, "field": field, "message": message } })
            .to_string()
    }
}

impl From<FieldError> for Failure {
    fn from(e: FieldError) -> Self {
        Failure::Invalid(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(f) => Failure::Invalid(f),
            StoreError::NotFound { .. } => Failure::NotFound(e.to_string()),
            other => Failure::Other(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::Other(format!("cannot print JSON: {e}"))
    }
}

pub type Outcome = Result<(), Failure>;

/// Prints `value` as JSON, or the table `table` builds.
pub fn emit<T: Serialize>(format: Format, value: &T, table: impl FnOnce() -> String) -> Outcome {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Format::Table | Format::Hledger | Format::Xlsx | Format::Pdf => print!("{}", table()),
    }
    Ok(())
}

/// A plain text table: a header row, aligned columns, numbers right-aligned.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            right: vec![false; header.len()],
        }
    }

    /// Right-align these columns (amounts, counts).
    pub fn numeric(mut self, columns: &[usize]) -> Table {
        for c in columns {
            if let Some(r) = self.right.get_mut(*c) {
                *r = true;
            }
        }
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let width = |c: usize| {
            std::iter::once(&self.header)
                .chain(&self.rows)
                .map(|r| r.get(c).map(|s| s.chars().count()).unwrap_or(0))
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |cells: &Vec<String>| {
            let mut s = String::new();
            for (i, w) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = w.saturating_sub(cell.chars().count());
                if i > 0 {
                    s.push_str("  ");
                }
                if self.right[i] {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    if i + 1 < widths.len() {
                        s.push_str(&" ".repeat(pad));
                    }
                }
            }
            s.push('\n');
            s
        };
        let mut out = line(&self.header);
        out.push_str(
            &widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  "),
        );
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}

/// `1.624.000`: amounts as a Vietnamese payroll prints them.
pub fn vnd(v: i64) -> String {
    chitra_core::Dong(v).grouped('.')
}

/// Key–value lines, labels aligned.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let w = pairs
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut s = String::new();
    for (k, v) in pairs {
        s.push_str(&format!("{k}{}  {v}\n", " ".repeat(w - k.chars().count())));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_vietnamese_text_by_characters() {
        let mut t = Table::new(&["Huyện", "Số tiền"]).numeric(&[1]);
        t.row(vec!["Ba Tri".into(), vnd(1_000)]);
        t.row(vec!["Thành phố Bến Tre".into(), vnd(600_000_000_000)]);
        let out = t.render();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0].chars().count(), lines[3].chars().count());
        assert!(lines[2].ends_with("    1.000"));
    }

    #[test]
    fn json_errors_carry_the_field() {
        let f = Failure::Invalid(FieldError::new("citizen_id", "must be 12 digits"));
        let v: serde_json::Value = serde_json::from_str(&f.json()).unwrap();
        assert_eq!(v["error"]["field"], "citizen_id");
        assert_eq!(v["error"]["code"], "invalid");
        assert_eq!(f.exit_code(), 2);
    }
}
