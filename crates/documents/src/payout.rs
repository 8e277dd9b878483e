//! Payments by bank or e-wallet transfer: the payout file sent to the bank (one row per line to
//! pay, with the account, bank, amount and a reference), and the bank's result file read back,
//! which records each transfer that went through as the line's payment.
//!
//! The reference `CT<yyyymm>-<line id>` names the payroll line, so the result file needs nothing
//! else to find it; the payment's id is `bank:<bank transaction id>` (or `bank:<reference>`), so
//! reading the same result file twice records nothing the second time.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use chitra_core::payment::{Identity, Location};
use chitra_core::payroll::Channel;
use chitra_core::{Dong, FieldError, Period, Program};
use chitra_store::cycle::{NewPayment, PaymentResult};
use chitra_store::{Change, Store};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::import::{Problem, parse_amount, parse_text_date};
use crate::payroll::runs_of;
use crate::sheet::{self, Cell};
use crate::text_nfc as nfc;

/// The columns of the payout file, in order.
pub const PAYOUT_COLUMNS: [&str; 7] = [
    "reference",
    "account",
    "bank",
    "amount",
    "full_name",
    "beneficiary_code",
    "period",
];

/// One transfer to make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Payout {
    pub reference: String,
    pub account: String,
    pub bank: String,
    pub amount: Dong,
    pub full_name: String,
    pub beneficiary_code: String,
    pub period: Period,
}

/// What a payout file holds.
#[derive(Clone, Debug, Serialize)]
pub struct PayoutSummary {
    pub period: Period,
    pub transfers: u64,
    pub total: Dong,
}

/// The reference of a line's transfer.
pub fn reference(period: Period, line_id: i64) -> String {
    format!("CT{}{:02}-{line_id}", period.year(), period.month())
}

/// The period and line a reference names.
pub fn parse_reference(s: &str) -> Option<(Period, i64)> {
    let rest = s.trim().strip_prefix("CT")?;
    let (ym, line) = rest.split_once('-')?;
    if ym.len() != 6 || !ym.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let period = Period::parse(&format!("{}-{}", &ym[..4], &ym[4..])).ok()?;
    Some((period, line.parse().ok()?))
}

/// The transfers still to make for a month: every bank line not yet paid.
pub async fn payouts(store: &dyn Store, period: Period, program: Program) -> Result<Vec<Payout>> {
    let runs = runs_of(store, period, program).await?;
    let files: HashMap<i64, chitra_core::register::Beneficiary> = store
        .register(program)
        .await?
        .into_iter()
        .map(|f| (f.beneficiary.id, f.beneficiary))
        .collect();
    let mut out = Vec::new();
    for run in &runs {
        for line in store.due_lines(run.id).await? {
            if line.channel != Channel::Bank || line.total.get() <= 0 {
                continue;
            }
            let b = files.get(&line.beneficiary_id).ok_or_else(|| {
                Error::NotFound(format!(
                    "beneficiary #{} of line {} is not on the register",
                    line.beneficiary_id, line.id
                ))
            })?;
            let account = b.bank_account.as_ref().ok_or_else(|| {
                Error::Invalid(FieldError::new(
                    "bank_account",
                    format!(
                        "{} {} được chi trả qua ngân hàng nhưng không có tài khoản — is paid by bank but has no account",
                        b.code, b.full_name
                    ),
                ))
            })?;
            out.push(Payout {
                reference: reference(period, line.id),
                account: account.account.trim().to_owned(),
                bank: nfc(&account.bank),
                amount: line.total,
                full_name: nfc(&b.full_name),
                beneficiary_code: b.code.clone(),
                period,
            });
        }
    }
    out.sort_by(|a, b| a.reference.cmp(&b.reference));
    Ok(out)
}

/// Writes the payout file (CSV, UTF-8, comma-separated, amounts in whole đồng).
pub fn write_payout_csv(period: Period, payouts: &[Payout], path: &Path) -> Result<PayoutSummary> {
    let file =
        std::fs::File::create(path).map_err(|e| Error::write(path.display().to_string(), e))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let err = |e: csv::Error| Error::write(path.display().to_string(), e);
    w.write_record(PAYOUT_COLUMNS).map_err(err)?;
    let mut total = Dong::ZERO;
    for p in payouts {
        total = total
            .checked_add(p.amount)
            .map_err(|_| Error::Invalid(FieldError::new("amount", "the total is out of range")))?;
        w.write_record([
            p.reference.as_str(),
            p.account.as_str(),
            p.bank.as_str(),
            &p.amount.get().to_string(),
            p.full_name.as_str(),
            p.beneficiary_code.as_str(),
            &p.period.to_string(),
        ])
        .map_err(err)?;
    }
    let mut inner = w
        .into_inner()
        .map_err(|e| Error::write(path.display().to_string(), e))?;
    inner
        .flush()
        .map_err(|e| Error::write(path.display().to_string(), e))?;
    Ok(PayoutSummary {
        period,
        transfers: payouts.len() as u64,
        total,
    })
}

/// What reading a bank's result file did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BankResultReport {
    pub file: String,
    pub rows: u64,
    /// Transfers the bank reports as failed: nothing recorded, the line stays due.
    pub failed: Vec<FailedTransfer>,
    pub recorded: u64,
    pub already_recorded: u64,
    /// Lines already paid by another payment.
    pub conflicts: Vec<String>,
    /// Payments the store refused, with why.
    pub refused: Vec<String>,
    pub problems: Vec<Problem>,
    pub amount_recorded: Dong,
}

#[derive(Clone, Debug, Serialize)]
pub struct FailedTransfer {
    pub row: u32,
    pub reference: String,
    pub status: String,
    pub message: String,
}

const RESULT_HEADERS: [(&str, &[&str]); 6] = [
    ("reference", &["reference", "ma tham chieu", "noi dung"]),
    ("status", &["status", "trang thai", "ket qua"]),
    ("amount", &["amount", "so tien"]),
    (
        "transaction_id",
        &["transaction_id", "ma giao dich", "so giao dich"],
    ),
    ("paid_at", &["paid_at", "thoi gian", "ngay giao dich"]),
    ("message", &["message", "ghi chu", "ly do"]),
];

fn status_ok(s: &str) -> bool {
    matches!(
        chitra_core::text::search_key(s).as_str(),
        "ok" | "paid" | "success" | "successful" | "thanh cong" | "da chuyen"
    )
}

/// When the bank says it paid, as RFC 3339 in Vietnam's time: RFC 3339 as given,
/// `yyyy-mm-dd hh:mm[:ss]`, `dd/mm/yyyy hh:mm[:ss]` or a date alone.
fn paid_at(s: &str) -> std::result::Result<String, String> {
    let t = s.trim();
    if chrono::DateTime::parse_from_rfc3339(t).is_ok() {
        return Ok(t.to_owned());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(format!("{}+07:00", d.format("%Y-%m-%dT%H:%M:%S")));
        }
    }
    parse_text_date(t).map(|d| format!("{}T12:00:00+07:00", d.format("%Y-%m-%d")))
}

/// The reference a bank payment was read under.
fn reference_of(p: &NewPayment) -> String {
    match &p.identity {
        Identity::BankAccount {
            reference: Some(r), ..
        } => r.clone(),
        _ => String::new(),
    }
}

/// Reads a bank's result file (CSV or spreadsheet with the columns reference, status, amount,
/// transaction_id, paid_at, message) and records the transfers that went through. Every row is
/// checked first; if any is malformed nothing is recorded.
pub async fn import_bank_result(
    store: &dyn Store,
    change: &Change,
    path: &Path,
) -> Result<BankResultReport> {
    let mut report = BankResultReport {
        file: path.display().to_string(),
        ..Default::default()
    };
    let mut columns: Option<HashMap<&'static str, usize>> = None;
    let mut payments: Vec<(u32, NewPayment)> = Vec::new();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    sheet::read_rows(path, &mut |number, cells| {
        if columns.is_none() {
            let mut found = HashMap::new();
            for (i, c) in cells.iter().enumerate() {
                let key = chitra_core::text::search_key(&c.shown());
                for (name, aliases) in RESULT_HEADERS {
                    if aliases.contains(&key.as_str()) {
                        found.insert(name, i);
                    }
                }
            }
            for required in ["reference", "status", "amount"] {
                if !found.contains_key(required) {
                    return Err(Error::Invalid(FieldError::new(
                        "file",
                        format!(
                            "{}: dòng đầu phải là tiêu đề — the first row must name the columns \
                             reference, status, amount (and transaction_id, paid_at, message); '{required}' is missing",
                            path.display()
                        ),
                    )));
                }
            }
            columns = Some(found);
            return Ok(true);
        }
        let Some(cols) = &columns else {
            return Ok(true);
        };
        report.rows += 1;
        let get = |name: &str| -> Cell {
            cols.get(name)
                .and_then(|i| cells.get(*i))
                .cloned()
                .unwrap_or(Cell::Empty)
        };
        let reference = get("reference").shown().trim().to_owned();
        let status = get("status").shown();
        let mut problem = |column: &str, value: String, reason: String| {
            report.problems.push(Problem {
                row: number,
                column: column.to_owned(),
                value,
                reason,
            });
        };
        let Some((_, line_id)) = parse_reference(&reference) else {
            problem(
                "reference",
                reference.clone(),
                "không phải mã tham chiếu của chitra — not a chitra reference (CT<yyyymm>-<line>)"
                    .into(),
            );
            return Ok(true);
        };
        if !status_ok(&status) {
            report.failed.push(FailedTransfer {
                row: number,
                reference,
                status,
                message: get("message").shown(),
            });
            return Ok(true);
        }
        let amount = match parse_amount(&get("amount")) {
            Ok(a) => a,
            Err(reason) => {
                problem("amount", get("amount").shown(), reason);
                return Ok(true);
            }
        };
        let when = get("paid_at");
        let paid = if when.is_empty() {
            Ok(change.at.to_rfc3339())
        } else {
            match &when {
                Cell::Date(d) => Ok(format!("{}T12:00:00+07:00", d.format("%Y-%m-%d"))),
                c => paid_at(&c.shown()),
            }
        };
        let paid = match paid.and_then(|p| {
            chrono::DateTime::parse_from_rfc3339(&p).map_err(|_| format!("'{p}' is not a time"))
        }) {
            Ok(p) => p,
            Err(reason) => {
                problem("paid_at", when.shown(), reason);
                return Ok(true);
            }
        };
        let transaction = get("transaction_id").shown().trim().to_owned();
        let id = if transaction.is_empty() {
            format!("bank:{reference}")
        } else {
            format!("bank:{transaction}")
        };
        payments.push((
            number,
            NewPayment {
                id,
                line_id,
                amount,
                paid_at: paid,
                agent: "bank".into(),
                identity: Identity::BankAccount {
                    transaction: (!transaction.is_empty()).then(|| transaction.clone()),
                    reference: Some(reference.clone()),
                    result_file: Some(file_name.clone()),
                },
                location: Location::Remote,
            },
        ));
        Ok(true)
    })?;
    if columns.is_none() {
        return Err(Error::Invalid(FieldError::new(
            "file",
            format!("{} is empty", path.display()),
        )));
    }
    // Each transfer must be for a bank line of its amount.
    let mut lines: HashMap<i64, (Channel, Dong)> = HashMap::new();
    let mut periods: Vec<Period> = payments
        .iter()
        .filter_map(|(_, p)| parse_reference(&reference_of(p)).map(|(per, _)| per))
        .collect();
    periods.sort();
    periods.dedup();
    for period in periods {
        for run in store.runs(Some(period)).await? {
            for l in
                crate::payroll::all_lines(store, run.id, None, crate::payroll::LINES_PAGE).await?
            {
                lines.insert(l.id, (l.channel, l.total));
            }
        }
    }
    for (row, p) in &payments {
        let reference = reference_of(p);
        match lines.get(&p.line_id) {
            None => report.problems.push(Problem {
                row: *row,
                column: "reference".into(),
                value: reference,
                reason: format!(
                    "không có dòng chi trả {} — no payroll line {} in that month",
                    p.line_id, p.line_id
                ),
            }),
            Some((channel, _)) if *channel != Channel::Bank => report.problems.push(Problem {
                row: *row,
                column: "reference".into(),
                value: reference,
                reason: "dòng này không chi trả qua ngân hàng — this line is not paid by bank"
                    .into(),
            }),
            Some((_, total)) if *total != p.amount => report.problems.push(Problem {
                row: *row,
                column: "amount".into(),
                value: p.amount.get().to_string(),
                reason: format!(
                    "số tiền khác dòng chi trả — the line is for {}, not {}",
                    total.grouped('.'),
                    p.amount.grouped('.')
                ),
            }),
            Some(_) => {}
        }
    }
    if !report.problems.is_empty() {
        return Ok(report);
    }
    let batch: Vec<NewPayment> = payments.into_iter().map(|(_, p)| p).collect();
    for chunk in batch.chunks(10_000) {
        let results = store.record_payments(change, chunk).await?;
        for (r, p) in results.iter().zip(chunk) {
            match r {
                PaymentResult::Accepted { .. } => {
                    report.recorded += 1;
                    report.amount_recorded = report
                        .amount_recorded
                        .checked_add(p.amount)
                        .map_err(|_| Error::Invalid(FieldError::new("amount", "out of range")))?;
                }
                PaymentResult::AlreadyRecorded { .. } => report.already_recorded += 1,
                PaymentResult::Conflict {
                    id,
                    line_id,
                    paid_by,
                } => report.conflicts.push(format!(
                    "{id}: line {line_id} was already paid by {paid_by}"
                )),
                PaymentResult::Refused { id, field, reason } => {
                    report.refused.push(format!("{id}: {field}: {reason}"))
                }
                PaymentResult::Forbidden { id, reason, .. } => {
                    report.refused.push(format!("{id}: line_id: {reason}"))
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_the_month_and_line() {
        let p = Period::parse("2020-03").unwrap();
        assert_eq!(reference(p, 4521), "CT202003-4521");
        assert_eq!(parse_reference("CT202003-4521"), Some((p, 4521)));
        assert_eq!(parse_reference(" CT202003-4521 "), Some((p, 4521)));
        assert_eq!(parse_reference("CT2020-4521"), None);
        assert_eq!(parse_reference("XX202003-4521"), None);
        assert_eq!(parse_reference("CT202013-1"), None);
    }

    #[test]
    fn bank_times() {
        assert_eq!(
            paid_at("2020-03-05 09:30").unwrap(),
            "2020-03-05T09:30:00+07:00"
        );
        assert_eq!(paid_at("05/03/2020").unwrap(), "2020-03-05T12:00:00+07:00");
        assert_eq!(
            paid_at("2020-03-05T09:30:00+07:00").unwrap(),
            "2020-03-05T09:30:00+07:00"
        );
        assert!(paid_at("yesterday").is_err());
        assert!(status_ok("Thành công") && status_ok("OK") && !status_ok("FAILED"));
    }
}
