//! Reading the rows of a spreadsheet or CSV file, one at a time: .xlsx is streamed cell by cell
//! (memory does not grow with the file); .xls and .ods are read whole (calamine has no streaming
//! reader for them; .xls holds at most 65,536 rows); CSV is streamed.

use std::path::Path;

use calamine::{Data, DataRef, Reader};
use chitra_core::FieldError;
use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::legacy;

/// A cell as read, before it is interpreted.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A cell the spreadsheet formats as a date.
    Date(NaiveDate),
}

impl Cell {
    /// The cell as it would be shown to the user in a report.
    pub fn shown(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// Spreadsheet day numbers count from 30 December 1899 (the 1900 date system).
pub fn serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..3_000_000.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(serial as u64))
}

fn from_data_ref(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Text(b.to_string()),
        DataRef::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.is_datetime() => Cell::Date(t.date()),
            _ => Cell::Number(dt.as_f64()),
        },
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => iso_date(s),
        DataRef::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

fn from_data(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if dt.is_datetime() => Cell::Date(t.date()),
            _ => Cell::Number(dt.as_f64()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => iso_date(s),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

fn iso_date(s: &str) -> Cell {
    match NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d") {
        Ok(d) => Cell::Date(d),
        Err(_) => Cell::Text(s.to_owned()),
    }
}

fn unreadable(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Invalid(FieldError::new(
        "file",
        format!(
            "không đọc được {} — cannot read it: {reason}",
            path.display()
        ),
    ))
}

/// The kinds of file an import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Xlsx,
    Xls,
    Ods,
    Csv,
}

impl Kind {
    pub fn of(path: &Path) -> Result<Kind> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "xlsx" | "xlsm" => Ok(Kind::Xlsx),
            "xls" => Ok(Kind::Xls),
            "ods" => Ok(Kind::Ods),
            "csv" | "txt" => Ok(Kind::Csv),
            _ => Err(Error::Invalid(FieldError::new(
                "file",
                format!(
                    "'{}' is not a spreadsheet chitra reads: use .xlsx, .xls, .ods or .csv",
                    path.display()
                ),
            ))),
        }
    }
}

/// Calls `row` for each non-empty row of the first sheet (or the CSV file), with its 1-based row
/// number as the spreadsheet shows it. `row` returns `false` to stop reading.
pub fn read_rows(path: &Path, row: &mut dyn FnMut(u32, Vec<Cell>) -> Result<bool>) -> Result<()> {
    match Kind::of(path)? {
        Kind::Xlsx => read_xlsx(path, row),
        Kind::Xls | Kind::Ods => read_whole(path, row),
        Kind::Csv => read_csv(path, row),
    }
}

fn emit(
    row: &mut dyn FnMut(u32, Vec<Cell>) -> Result<bool>,
    number: u32,
    cells: Vec<Cell>,
) -> Result<bool> {
    if cells.iter().all(Cell::is_empty) {
        return Ok(true);
    }
    row(number, cells)
}

fn read_xlsx(path: &Path, row: &mut dyn FnMut(u32, Vec<Cell>) -> Result<bool>) -> Result<()> {
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(path).map_err(|e| unreadable(path, e))?;
    let sheet = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| unreadable(path, "it has no sheet"))?;
    let mut cells = book
        .worksheet_cells_reader(&sheet)
        .map_err(|e| unreadable(path, e))?;
    let mut current: Option<u32> = None;
    let mut values: Vec<Cell> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(|e| unreadable(path, e))? {
        let (r, c) = cell.get_position();
        if current != Some(r) {
            if let Some(prev) = current
                && !emit(row, prev + 1, std::mem::take(&mut values))?
            {
                return Ok(());
            }
            current = Some(r);
        }
        let c = c as usize;
        if values.len() <= c {
            values.resize(c + 1, Cell::Empty);
        }
        values[c] = from_data_ref(cell.get_value());
    }
    if let Some(prev) = current {
        emit(row, prev + 1, values)?;
    }
    Ok(())
}

fn read_whole(path: &Path, row: &mut dyn FnMut(u32, Vec<Cell>) -> Result<bool>) -> Result<()> {
    let mut book = calamine::open_workbook_auto(path).map_err(|e| unreadable(path, e))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| unreadable(path, "it has no sheet"))?
        .map_err(|e| unreadable(path, e))?;
    let (top, left) = range.start().unwrap_or((0, 0));
    for (i, r) in range.rows().enumerate() {
        let mut values = vec![Cell::Empty; left as usize];
        values.extend(r.iter().map(from_data));
        if !emit(row, top + i as u32 + 1, values)? {
            break;
        }
    }
    Ok(())
}

/// CSV as Excel writes it: comma, semicolon or tab, detected from the first line; UTF-8 (with or
/// without a byte-order mark) or, when the bytes are not UTF-8, an 8-bit encoding whose bytes
/// are kept for the legacy-encoding detector.
fn read_csv(path: &Path, row: &mut dyn FnMut(u32, Vec<Cell>) -> Result<bool>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let mut first = Vec::new();
    std::io::BufRead::read_until(&mut reader, b'\n', &mut first)
        .map_err(|e| unreadable(path, e))?;
    // The file is UTF-8 or it is not: decided once, from its first megabyte, so that a legacy
    // field that happens to be valid UTF-8 is not read differently from its neighbours.
    let utf8 = {
        let mut sample = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(
                std::fs::File::open(path).map_err(|e| unreadable(path, e))?,
                1 << 20,
            ),
            &mut sample,
        )
        .map_err(|e| unreadable(path, e))?;
        match std::str::from_utf8(&sample) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
    };
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.iter().filter(|b| *b == d).count())
        .unwrap_or(b',');
    let chained = std::io::Read::chain(std::io::Cursor::new(first), reader);
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(chained);
    let mut record = csv::ByteRecord::new();
    let mut number = 0u32;
    while csv
        .read_byte_record(&mut record)
        .map_err(|e| unreadable(path, e))?
    {
        number += 1;
        let cells = record
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let field = if number == 1 && i == 0 {
                    field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
                } else {
                    field
                };
                let text = match std::str::from_utf8(field) {
                    Ok(s) if utf8 => s.to_owned(),
                    _ => legacy::from_cp1252(field),
                };
                if text.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(text)
                }
            })
            .collect();
        if !emit(row, number, cells)? {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_dates() {
        assert_eq!(
            serial_date(18_264.0),
            NaiveDate::from_ymd_opt(1950, 1, 1),
            "1 January 1950"
        );
        assert_eq!(serial_date(45_658.0), NaiveDate::from_ymd_opt(2025, 1, 1));
        assert_eq!(serial_date(0.0), None);
    }
}
