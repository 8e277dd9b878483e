//! The ledger as an hledger journal (<https://hledger.org/1.25/hledger.html#journal-format>), so that
//! an auditor can recompute every balance with an established tool of their own. Account names are
//! the ledger's own (`cash:BĐ-831-001`); a debit is a positive posting and a credit a negative one,
//! so hledger's balance of an account is our debits less credits.

use std::fmt::Write;

use chrono::NaiveDate;

use crate::ledger::{Account, Transfer, TransferKind};
use crate::money::Dong;
use crate::period::Period;

/// The commodity every amount is written in: whole đồng.
pub const COMMODITY: &str = "VND";

/// The journal's opening lines: what it is, and the commodity's format (whole numbers).
pub fn header(title: &str) -> String {
    let mut s = String::new();
    for line in title.lines() {
        let _ = writeln!(s, "; {line}");
    }
    let _ = writeln!(s, "commodity 1000. {COMMODITY}\n");
    s
}

/// One balanced transaction of two postings. `note` goes in the transaction's comment; it may
/// not hold a line break.
pub fn transaction(
    on: NaiveDate,
    description: &str,
    note: &str,
    debit: &Account,
    credit: &Account,
    amount: Dong,
) -> String {
    let clean = |s: &str| s.replace(['\n', '\r', ';', '|'], " ");
    let mut s = String::new();
    let _ = write!(s, "{} {}", on.format("%Y-%m-%d"), clean(description));
    if !note.is_empty() {
        let _ = write!(s, "  ; {}", clean(note));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "    {debit}  {} {COMMODITY}", amount.get());
    let _ = writeln!(s, "    {credit}  {} {COMMODITY}", -amount.get());
    s.push('\n');
    s
}

/// A transfer as its own transaction, its id in the comment.
pub fn transfer(t: &Transfer) -> String {
    let mut note = format!("transfer:{}, run:{}", t.id, t.run_id);
    if let Some(l) = t.line_id {
        let _ = write!(note, ", line:{l}");
    }
    transaction(
        t.on,
        &format!("{} {}", t.kind.code(), t.period),
        &note,
        &t.debit,
        &t.credit,
        t.amount,
    )
}

/// The transfers of one day, month, kind and pair of accounts as one transaction.
pub fn day_total(
    on: NaiveDate,
    period: Period,
    kind: TransferKind,
    debit: &Account,
    credit: &Account,
    amount: Dong,
    count: i64,
) -> String {
    transaction(
        on,
        &format!("{} {period}", kind.code()),
        &format!("transfers:{count}"),
        debit,
        credit,
        amount,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Program;

    #[test]
    fn a_transfer_is_two_postings_that_sum_to_zero() {
        let t = Transfer {
            id: "pay:2018-01:42".into(),
            kind: TransferKind::Pay,
            debit: Account::paid(Program::SocialAssistance),
            credit: Account::cash("BĐ-831-001"),
            amount: Dong(540_000),
            period: Period::parse("2018-01").unwrap(),
            on: NaiveDate::from_ymd_opt(2018, 1, 5).unwrap(),
            run_id: 7,
            line_id: Some(42),
        };
        let text = transfer(&t);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "2018-01-05 pay 2018-01  ; transfer:pay:2018-01:42, run:7, line:42"
        );
        assert_eq!(lines[1], "    paid:social_assistance  540000 VND");
        assert_eq!(lines[2], "    cash:BĐ-831-001  -540000 VND");
        assert_eq!(lines[3], "");
    }

    #[test]
    fn descriptions_cannot_break_the_journal() {
        let a = Account::budget(Program::SocialAssistance);
        let b = Account::fund(1);
        let text = transaction(
            NaiveDate::from_ymd_opt(2020, 12, 1).unwrap(),
            "two\nlines; here",
            "a | b",
            &a,
            &b,
            Dong(1),
        );
        assert_eq!(text.lines().count(), 4);
        assert!(text.starts_with("2020-12-01 two lines  here  ; a   b\n"));
    }

    #[test]
    fn the_header_declares_whole_dong() {
        let h = header("chitra ledger\nexported 2026-11-26");
        assert!(h.starts_with("; chitra ledger\n; exported 2026-11-26\n"));
        assert!(h.contains("commodity 1000. VND"));
    }
}
