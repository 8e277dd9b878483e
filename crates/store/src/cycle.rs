//! The monthly cycle as the store keeps it: contracts, payroll runs and lines, payments, the fund
//! ledger with materialised balances, settlement and reconciliation. The rules are the core's
//! (`payroll`, `ledger`, `cycle`); the store loads what they need, asks them, and writes the answer
//! with its journal entry in one transaction.

use chitra_core::anomaly::FlagKind;
use chitra_core::contract::{Contract, NewContract};
use chitra_core::cycle::{Flow, Mismatch, Settlement};
use chitra_core::entitlement::Entitlement;
use chitra_core::ledger::{Balance, Transfer};
use chitra_core::payment::{Identity, Location};
use chitra_core::payroll::{Channel, Difference, LineStatus, RunState};
use chitra_core::{Dong, Period, Program};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{Change, Page, Result};

/// A payroll run and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    pub id: i64,
    pub office_id: i64,
    pub program: Program,
    pub period: Period,
    pub contract_id: i64,
    pub state: RunState,
    pub known_since: NaiveDate,
    pub known_until: NaiveDate,
    pub lines: i64,
    pub total: Dong,
    pub to_advance: Dong,
    pub fee: Option<Dong>,
    pub generated_by: String,
    pub approved_by: Option<String>,
    /// Lines by status, and their amounts.
    pub by_status: Vec<StatusCount>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusCount {
    pub status: LineStatus,
    pub lines: i64,
    pub amount: Dong,
}

/// A payroll line as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineRow {
    pub id: i64,
    pub run_id: i64,
    pub beneficiary_id: i64,
    pub beneficiary_code: String,
    pub full_name: String,
    pub channel: Channel,
    pub home_delivery: bool,
    pub category: Option<String>,
    pub commune_code: String,
    pub monthly: Dong,
    pub arrears: Dong,
    pub funeral: Dong,
    pub carried: Dong,
    pub reissued: Dong,
    pub total: Dong,
    pub unpaid_streak: i64,
    pub status: LineStatus,
}

/// A line still to pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DueLine {
    pub id: i64,
    pub beneficiary_id: i64,
    pub channel: Channel,
    pub home_delivery: bool,
    pub total: Dong,
}

/// What lists of lines may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct LineFilter {
    pub status: Option<LineStatus>,
    pub point_id: Option<i64>,
    /// Lines of beneficiaries in these communes (a user's jurisdiction); empty matches none.
    pub communes: Option<Vec<String>>,
    pub limit: i64,
    pub offset: i64,
}

/// A line that differs from the month before, and why.
#[derive(Clone, Debug, Serialize)]
pub struct DiffRow {
    pub beneficiary_id: i64,
    pub beneficiary_code: String,
    pub full_name: String,
    pub kind: Difference,
    pub before: Dong,
    pub now: Dong,
    pub why: String,
}

/// A payment to record: parsed at the edge (the identity and place are typed and checked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// Chosen by the client: sending it again returns the first result.
    pub id: String,
    pub line_id: i64,
    /// The line's whole amount.
    pub amount: Dong,
    /// When it was paid, with its offset (read in Vietnam time).
    pub paid_at: DateTime<FixedOffset>,
    /// The payment agent.
    pub agent: String,
    /// Who received the money and how that was checked.
    pub identity: Identity,
    /// Where it was handed over.
    pub location: Location,
}

/// The answer to one payment of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum PaymentResult {
    /// Recorded now, durable; with the kinds of flag it raised for an inspector (it is recorded
    /// all the same).
    Accepted {
        id: String,
        line_id: i64,
        flags: Vec<FlagKind>,
    },
    /// Recorded before under the same id: the first result.
    AlreadyRecorded {
        id: String,
        line_id: i64,
        flags: Vec<FlagKind>,
    },
    /// The line was already paid by another payment.
    Conflict {
        id: String,
        line_id: i64,
        paid_by: String,
    },
    /// The line is not within what the caller may pay: nothing more is said about it.
    Forbidden {
        id: String,
        line_id: i64,
        reason: String,
    },
    /// Refused; nothing changed for it.
    Refused {
        id: String,
        field: String,
        reason: String,
    },
}

/// What a close did.
#[derive(Clone, Debug, Serialize)]
pub struct Closed {
    pub run: Run,
    pub carried: i64,
    pub returned: i64,
    pub fee: Dong,
    /// Beneficiaries suspended for not collecting three months running, listed for review.
    pub suspended: Vec<String>,
}

/// The settlement of a month, with the names of what it adds up.
#[derive(Clone, Debug, Serialize)]
pub struct SettlementReport {
    pub period: Period,
    pub balances: bool,
    pub settlement: Settlement,
}

/// The three-way match of a month.
#[derive(Clone, Debug, Serialize)]
pub struct Reconciliation {
    pub period: Period,
    pub lines: i64,
    pub payments: i64,
    pub pay_transfers: i64,
    pub mismatches: Vec<Mismatch>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AccountBalance {
    pub account: String,
    pub kind: String,
    pub debits: i64,
    pub credits: i64,
    pub balance: i64,
}

impl From<(&str, &str, Balance)> for AccountBalance {
    fn from((account, kind, b): (&str, &str, Balance)) -> Self {
        AccountBalance {
            account: account.to_owned(),
            kind: kind.to_owned(),
            debits: b.debits,
            credits: b.credits,
            balance: b.balance(),
        }
    }
}

/// A payment as recorded, with its proof and the flags it raised.
#[derive(Clone, Debug, Serialize)]
pub struct PaymentRecord {
    pub id: String,
    pub amount: Dong,
    pub paid_at: String,
    pub agent: String,
    pub method: String,
    /// How identity was checked (`identity`, never a whole citizen ID) and where (`location`).
    pub proof: serde_json::Value,
    pub recorded_at: String,
    pub flags: Vec<RecordedFlag>,
}

/// A flag a payment raised, with its evidence.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedFlag {
    pub kind: FlagKind,
    pub evidence: serde_json::Value,
}

/// Everything behind one payroll line: how its amount was reckoned (rule, coefficient, base,
/// arrears and why), the payment with its proof, and the ledger transfers that moved its money.
#[derive(Clone, Debug, Serialize)]
pub struct LineTrail {
    pub period: Period,
    pub run_state: RunState,
    pub line: LineRow,
    pub explanation: Option<Entitlement>,
    pub payment: Option<PaymentRecord>,
    pub transfers: Vec<Transfer>,
}

/// The transfers of one day, month, kind and pair of accounts, added up (the ledger export's unit).
#[derive(Clone, Debug, Serialize)]
pub struct DayFlow {
    pub on: NaiveDate,
    pub period: Period,
    #[serde(flatten)]
    pub flow: Flow,
}

/// A beneficiary an officer must look at.
#[derive(Clone, Debug, Serialize)]
pub struct Review {
    pub id: i64,
    pub beneficiary_code: String,
    pub full_name: String,
    pub period: Period,
    pub reason: String,
    pub decision_id: Option<i64>,
}

/// The monthly cycle.
#[async_trait::async_trait]
pub trait Cycle: Send + Sync {
    async fn add_contract(&self, change: &Change, contract: &NewContract) -> Result<Contract>;
    async fn contracts(&self) -> Result<Vec<Contract>>;

    /// Makes (or makes again, while a draft) the payroll of an office's program for a month, from
    /// the register as it stands on the change's day. The month before must be closed first: what
    /// it did not pay is carried into this one.
    async fn generate_payroll(
        &self,
        change: &Change,
        office_id: i64,
        program: Program,
        period: Period,
    ) -> Result<Run>;
    /// The payrolls of several offices for the month, in one transaction (a department generating
    /// its districts' month): each as [`Cycle::generate_payroll`] would make it, in the order
    /// given; the month's lines are written in one pass.
    async fn generate_payrolls(
        &self,
        change: &Change,
        offices: &[i64],
        program: Program,
        period: Period,
    ) -> Result<Vec<Run>>;
    /// Reads a program's register into memory, compiled as generating a payroll of `period`
    /// reads it, and keeps it there: the next generation starts from it and reads only what was
    /// added or changed since. A server does this as it starts, so that the month's first
    /// generation does not wait for the register. Returns the beneficiaries held.
    async fn load_register(&self, program: Program, period: Period) -> Result<usize>;
    /// Approval, by someone other than whoever generated it.
    async fn approve_payroll(&self, change: &Change, run_id: i64) -> Result<Run>;
    /// The fund advance: budget → office fund → post office; facilities are paid from the fund.
    async fn fund_payroll(&self, change: &Change, run_id: i64) -> Result<Run>;
    /// The start of payment: the post office distributes to its points.
    async fn open_payroll(&self, change: &Change, run_id: i64) -> Result<Run>;
    /// Records payments; each is answered on its own, and what is accepted is durable.
    async fn record_payments(
        &self,
        change: &Change,
        batch: &[NewPayment],
    ) -> Result<Vec<PaymentResult>>;
    /// The close: every line paid, carried or returned; suspensions; the fee.
    async fn close_payroll(&self, change: &Change, run_id: i64) -> Result<Closed>;

    async fn runs(&self, period: Option<Period>) -> Result<Vec<Run>>;
    async fn run(&self, run_id: i64) -> Result<Run>;
    async fn run_lines(&self, run_id: i64, filter: &LineFilter) -> Result<Page<LineRow>>;
    /// The run as one who reaches part of it sees it: its lines, totals and lines by status
    /// those of the lines `filter` keeps (its status, limit and offset aside), to advance the
    /// same as their total, and no fee.
    async fn run_part(&self, run_id: i64, filter: &LineFilter) -> Result<Run>;
    /// One line with the reasons for its amount, its payment and its transfers.
    async fn line_trail(&self, line_id: i64) -> Result<LineTrail>;
    /// Lines new, stopped or changed since the office's month before, and why.
    async fn run_differences(&self, run_id: i64) -> Result<Vec<DiffRow>>;
    /// The lines of a run still to pay, with what paying them needs: the agents' worklist.
    async fn due_lines(&self, run_id: i64) -> Result<Vec<DueLine>>;
    async fn reviews(&self) -> Result<Vec<Review>>;

    async fn settlement(&self, period: Period) -> Result<SettlementReport>;
    async fn reconcile(&self, period: Period) -> Result<Reconciliation>;
    async fn ledger_balances(&self) -> Result<Vec<AccountBalance>>;
    /// Every transfer added up by day, month, kind and accounts, in date order.
    async fn ledger_days(&self) -> Result<Vec<DayFlow>>;
    /// Transfers in order of month and id, `limit` at a time after `after` (for exports).
    async fn ledger_transfers(
        &self,
        after: Option<(Period, String)>,
        limit: i64,
    ) -> Result<Vec<Transfer>>;
}
