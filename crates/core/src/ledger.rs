//! The fund ledger: double entry, every đồng somewhere known.
//!
//! Money moves only by [`Transfer`]s, each debiting one account and crediting another by the same
//! amount, so the balances always sum to zero. Accounts that hold cash (an office's fund, the post
//! office's account under a contract, a payment point's cash, the bank transit account) can never
//! go negative: a transfer that would overdraw one is refused, so nothing is paid before it was
//! advanced. A transfer has an id chosen by whoever asks for it; asking again with the same id and
//! the same content changes nothing, and with other content is refused.
//!
//! The flows of a month: the budget allocates to the office's fund; the fund advances to the post
//! office; the post office distributes to its payment points (and to the bank transit account);
//! each payment moves a line's amount from the point's cash to `paid`; at the close, money not
//! collected goes back from the point to the post office (carried to next month) or to the office
//! (returned); the office pays the post office's fee. Facilities are paid straight from the fund.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::money::Dong;
use crate::period::Period;
use crate::program::Program;

/// An account, by the name `chitra ledger balances` and the hledger export print.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Account(String);

/// What an account is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// The State budget (treasury) a program is paid from: its balance goes negative as money is
    /// released.
    Budget,
    /// An office's fund.
    Fund,
    /// The post office's account under a payment contract: what it was advanced and still holds.
    Post,
    /// A payment point's cash.
    Cash,
    /// Money in transit to beneficiaries' bank accounts under a contract.
    Bank,
    /// Paid out to beneficiaries (and facilities).
    Paid,
    /// Returned by the post office to an office.
    Returned,
    /// Service fees paid to the post office under a contract.
    Fees,
}

impl AccountKind {
    /// Accounts that hold money and so can never go negative.
    pub fn holds_cash(self) -> bool {
        matches!(
            self,
            AccountKind::Fund | AccountKind::Post | AccountKind::Cash | AccountKind::Bank
        )
    }

    fn prefix(self) -> &'static str {
        match self {
            AccountKind::Budget => "budget",
            AccountKind::Fund => "fund",
            AccountKind::Post => "post",
            AccountKind::Cash => "cash",
            AccountKind::Bank => "bank",
            AccountKind::Paid => "paid",
            AccountKind::Returned => "returned",
            AccountKind::Fees => "fees",
        }
    }
}

/// A name segment fit for an account: letters, digits, `-`, `_`, `.`; nothing that hledger reads
/// as a separator.
fn segment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl Account {
    pub fn budget(program: Program) -> Account {
        Account(format!("budget:{}", program.code()))
    }
    pub fn fund(office_id: i64) -> Account {
        Account(format!("fund:office-{office_id}"))
    }
    pub fn post(contract: &str) -> Account {
        Account(format!("post:{}", segment(contract)))
    }
    pub fn cash(point: &str) -> Account {
        Account(format!("cash:{}", segment(point)))
    }
    pub fn bank(contract: &str) -> Account {
        Account(format!("bank:{}", segment(contract)))
    }
    pub fn paid(program: Program) -> Account {
        Account(format!("paid:{}", program.code()))
    }
    pub fn returned(office_id: i64) -> Account {
        Account(format!("returned:office-{office_id}"))
    }
    pub fn fees(contract: &str) -> Account {
        Account(format!("fees:{}", segment(contract)))
    }

    /// Reads a stored name back.
    pub fn parse(name: &str) -> Result<Account, FieldError> {
        let a = Account(name.to_owned());
        a.kind()
            .map(|_| a)
            .ok_or_else(|| FieldError::new("account", format!("'{name}' is not an account name")))
    }

    pub fn kind(&self) -> Option<AccountKind> {
        let (prefix, rest) = self.0.split_once(':')?;
        if rest.is_empty() {
            return None;
        }
        [
            AccountKind::Budget,
            AccountKind::Fund,
            AccountKind::Post,
            AccountKind::Cash,
            AccountKind::Bank,
            AccountKind::Paid,
            AccountKind::Returned,
            AccountKind::Fees,
        ]
        .into_iter()
        .find(|k| k.prefix() == prefix)
    }

    pub fn holds_cash(&self) -> bool {
        self.kind().is_some_and(AccountKind::holds_cash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account is found in a map by its name: it hashes and compares as its name does (the
/// derives above are the name's own).
impl std::borrow::Borrow<str> for Account {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why money moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// Budget → office fund.
    Allocate,
    /// Office fund → post office: the fund advance (*tạm ứng*).
    Advance,
    /// Post office → a payment point's cash or the bank transit account.
    Distribute,
    /// Point cash (or bank transit, or an office fund for a facility) → paid: one line paid.
    Pay,
    /// Point cash → post office: not collected, carried to next month.
    Carry,
    /// Point cash → returned: not collected, the money goes back (*hoàn trả*).
    Return,
    /// Office fund → fees: the post office's service fee.
    Fee,
}

impl TransferKind {
    pub const ALL: [TransferKind; 7] = [
        TransferKind::Allocate,
        TransferKind::Advance,
        TransferKind::Distribute,
        TransferKind::Pay,
        TransferKind::Carry,
        TransferKind::Return,
        TransferKind::Fee,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TransferKind::Allocate => "allocate",
            TransferKind::Advance => "advance",
            TransferKind::Distribute => "distribute",
            TransferKind::Pay => "pay",
            TransferKind::Carry => "carry",
            TransferKind::Return => "return",
            TransferKind::Fee => "fee",
        }
    }

    pub fn parse(s: &str) -> Option<TransferKind> {
        TransferKind::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// A movement of money from one account to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Chosen by whoever asks: asking twice with the same id moves the money once.
    pub id: String,
    pub kind: TransferKind,
    /// Receives the money.
    pub debit: Account,
    /// Gives the money.
    pub credit: Account,
    pub amount: Dong,
    pub period: Period,
    pub on: NaiveDate,
    /// The payroll run it belongs to.
    pub run_id: i64,
    /// The line it pays, carries or returns.
    pub line_id: Option<i64>,
}

/// An account's posted debits and credits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub debits: i64,
    pub credits: i64,
}

impl Balance {
    /// Debits less credits: what the account holds (or, for the budget, has released, negative).
    pub fn balance(self) -> i64 {
        self.debits - self.credits
    }
}

/// Why a transfer was refused. Nothing of its batch was applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("{0}")]
    Invalid(FieldError),
    #[error("{account} holds {balance} đ: it cannot give {amount} đ (transfer {id})")]
    Insufficient {
        id: String,
        account: Account,
        balance: i64,
        amount: i64,
    },
    #[error("transfer {id} was already made with other content")]
    Conflict { id: String },
}

/// Whether a transfer moved money now or had already been made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    Applied,
    AlreadyApplied,
}

/// Checks a transfer on its own: an id, a positive amount, two different known accounts.
pub fn check(t: &Transfer) -> Result<(), LedgerError> {
    let bad =
        |field: &str, reason: String| Err(LedgerError::Invalid(FieldError::new(field, reason)));
    if t.id.trim().is_empty() || t.id.len() > 120 {
        return bad("id", "a transfer needs an id of 1 to 120 characters".into());
    }
    if t.amount.get() <= 0 {
        return bad(
            "amount",
            format!("{} is not a positive amount", t.amount.get()),
        );
    }
    if t.debit == t.credit {
        return bad("debit", format!("{} cannot pay itself", t.debit));
    }
    for a in [&t.debit, &t.credit] {
        if a.kind().is_none() {
            return bad("account", format!("'{a}' is not an account"));
        }
    }
    Ok(())
}

/// Balances in memory: what the store materialises, and what the property tests drive.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    balances: BTreeMap<Account, Balance>,
    made: HashMap<String, Transfer>,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Starts from stored balances (and the transfers already made, for idempotency).
    pub fn with(
        balances: impl IntoIterator<Item = (Account, Balance)>,
        made: impl IntoIterator<Item = Transfer>,
    ) -> Ledger {
        Ledger {
            balances: balances.into_iter().collect(),
            made: made.into_iter().map(|t| (t.id.clone(), t)).collect(),
        }
    }

    pub fn balance(&self, a: &Account) -> Balance {
        self.balances.get(a).copied().unwrap_or_default()
    }

    pub fn balances(&self) -> &BTreeMap<Account, Balance> {
        &self.balances
    }

    /// Applies a batch, all or nothing. Returns, for each transfer, whether it moved money now.
    pub fn post_all(&mut self, batch: &[Transfer]) -> Result<Vec<Posted>, LedgerError> {
        let mut scratch = self.clone();
        let mut out = Vec::with_capacity(batch.len());
        for t in batch {
            out.push(scratch.post(t)?);
        }
        *self = scratch;
        Ok(out)
    }

    /// Applies one transfer.
    pub fn post(&mut self, t: &Transfer) -> Result<Posted, LedgerError> {
        check(t)?;
        if let Some(done) = self.made.get(&t.id) {
            return if done == t {
                Ok(Posted::AlreadyApplied)
            } else {
                Err(LedgerError::Conflict { id: t.id.clone() })
            };
        }
        let from = self.balance(&t.credit);
        let after = from.credits.checked_add(t.amount.get()).ok_or_else(|| {
            LedgerError::Invalid(FieldError::new("amount", "amount out of range"))
        })?;
        if t.credit.holds_cash() && from.debits - after < 0 {
            return Err(LedgerError::Insufficient {
                id: t.id.clone(),
                account: t.credit.clone(),
                balance: from.balance(),
                amount: t.amount.get(),
            });
        }
        let to = self.balance(&t.debit);
        let to_after = to.debits.checked_add(t.amount.get()).ok_or_else(|| {
            LedgerError::Invalid(FieldError::new("amount", "amount out of range"))
        })?;
        // `check` made debit and credit differ.
        self.change(&t.credit, |b| b.credits = after);
        self.change(&t.debit, |b| b.debits = to_after);
        self.made.insert(t.id.clone(), t.clone());
        Ok(Posted::Applied)
    }

    /// Changes `account`'s balance in place; the account's name is copied only for its first.
    fn change(&mut self, account: &Account, f: impl FnOnce(&mut Balance)) {
        match self.balances.get_mut(account) {
            Some(b) => f(b),
            None => {
                let mut b = Balance::default();
                f(&mut b);
                self.balances.insert(account.clone(), b);
            }
        }
    }

    /// The sum of every balance: zero, always (double entry).
    pub fn sum(&self) -> i128 {
        self.balances
            .values()
            .map(|b| i128::from(b.balance()))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, kind: TransferKind, debit: &Account, credit: &Account, amount: i64) -> Transfer {
        Transfer {
            id: id.into(),
            kind,
            debit: debit.clone(),
            credit: credit.clone(),
            amount: Dong(amount),
            period: Period::parse("2020-01").unwrap(),
            on: NaiveDate::from_ymd_opt(2019, 12, 20).unwrap(),
            run_id: 1,
            line_id: None,
        }
    }

    #[test]
    fn an_account_is_found_in_a_map_by_its_name() {
        let cash = Account::cash("BĐ-836-001");
        let paid = Account::paid(Program::SocialAssistance);
        let mut balances: HashMap<Account, i64> = HashMap::new();
        balances.insert(cash.clone(), 5);
        balances.insert(paid.clone(), 7);
        assert_eq!(balances.get(cash.to_string().as_str()), Some(&5));
        assert_eq!(balances.get(paid.as_str()), Some(&7));
        assert_eq!(balances.get(Account::cash("BĐ-836-002").as_str()), None);
    }

    #[test]
    fn money_moves_along_the_chain_and_sums_to_zero() {
        let budget = Account::budget(Program::SocialAssistance);
        let fund = Account::fund(2);
        let post = Account::post("BT-2020");
        let cash = Account::cash("BĐ-836-001");
        let paid = Account::paid(Program::SocialAssistance);
        let mut l = Ledger::new();
        l.post_all(&[
            t("a", TransferKind::Allocate, &fund, &budget, 1_000_000),
            t("b", TransferKind::Advance, &post, &fund, 1_000_000),
            t("c", TransferKind::Distribute, &cash, &post, 810_000),
            t("d", TransferKind::Pay, &paid, &cash, 270_000),
        ])
        .unwrap();
        assert_eq!(l.balance(&budget).balance(), -1_000_000);
        assert_eq!(l.balance(&post).balance(), 190_000);
        assert_eq!(l.balance(&cash).balance(), 540_000);
        assert_eq!(l.balance(&paid).balance(), 270_000);
        assert_eq!(l.sum(), 0);
        assert_eq!(cash.as_str(), "cash:BĐ-836-001");
    }

    #[test]
    fn cash_never_goes_negative_and_a_refused_batch_changes_nothing() {
        let budget = Account::budget(Program::SocialAssistance);
        let fund = Account::fund(2);
        let cash = Account::cash("P1");
        let paid = Account::paid(Program::SocialAssistance);
        let mut l = Ledger::new();
        l.post(&t("a", TransferKind::Allocate, &fund, &budget, 100))
            .unwrap();
        let e = l
            .post_all(&[
                t("b", TransferKind::Distribute, &cash, &fund, 100),
                t("c", TransferKind::Pay, &paid, &cash, 101),
            ])
            .unwrap_err();
        assert!(
            matches!(e, LedgerError::Insufficient { ref account, balance: 100, amount: 101, .. } if *account == cash)
        );
        assert_eq!(l.balance(&fund).balance(), 100, "b was not applied either");
        assert_eq!(l.balance(&cash).balance(), 0);
    }

    #[test]
    fn the_same_id_moves_money_once() {
        let budget = Account::budget(Program::SocialAssistance);
        let fund = Account::fund(1);
        let mut l = Ledger::new();
        let a = t("alloc-2020-01", TransferKind::Allocate, &fund, &budget, 500);
        assert_eq!(l.post(&a), Ok(Posted::Applied));
        assert_eq!(l.post(&a), Ok(Posted::AlreadyApplied));
        assert_eq!(l.balance(&fund).balance(), 500);
        let other = Transfer {
            amount: Dong(600),
            ..a
        };
        assert!(matches!(l.post(&other), Err(LedgerError::Conflict { .. })));
    }

    #[test]
    fn bad_transfers_name_the_field() {
        let f = Account::fund(1);
        let b = Account::budget(Program::SocialAssistance);
        let field = |r: Result<Posted, LedgerError>| match r {
            Err(LedgerError::Invalid(e)) => e.field,
            other => panic!("{other:?}"),
        };
        let mut l = Ledger::new();
        assert_eq!(
            field(l.post(&t("x", TransferKind::Allocate, &f, &b, 0))),
            "amount"
        );
        assert_eq!(
            field(l.post(&t("", TransferKind::Allocate, &f, &b, 1))),
            "id"
        );
        assert_eq!(
            field(l.post(&t("x", TransferKind::Allocate, &f, &f, 1))),
            "debit"
        );
        assert!(Account::parse("nowhere").is_err());
        assert!(Account::parse("cash:").is_err());
        assert_eq!(
            Account::parse("fees:BT-2020").unwrap().kind(),
            Some(AccountKind::Fees)
        );
    }
}
