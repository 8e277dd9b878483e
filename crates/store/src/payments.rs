//! The payment service as the store keeps it: payment points' schedules, which beneficiaries each
//! point serves, payments recorded in groups (one transaction for many callers: the HTTP server's
//! single writer), and the flags an inspector must see. The rules are the core's (`schedule`,
//! `payment`, `anomaly`).

use std::collections::HashSet;
use std::sync::Arc;

use chitra_core::anomaly::FlagKind;
use chitra_core::schedule::{MonthDays, PointSchedule};
use chitra_core::{Dong, Period};
use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

use crate::cycle::{NewPayment, PaymentResult};
use crate::{Change, Page, Result};

/// Which lines a caller may pay (or see): the caller's jurisdiction.
#[derive(Clone, Debug, Default)]
pub enum Within {
    /// Everywhere (the CLI, an administrator).
    #[default]
    Anywhere,
    /// The lines of one payment point (its agents).
    Point(i64),
    /// The lines of beneficiaries of these communes (official 5-digit codes).
    Communes(Arc<HashSet<String>>),
}

impl Within {
    /// Whether a line of `point` (if paid at a point) in `commune` is within.
    pub fn allows(&self, point: Option<i64>, commune: &str) -> bool {
        match self {
            Within::Anywhere => true,
            Within::Point(p) => point == Some(*p),
            Within::Communes(c) => c.contains(commune),
        }
    }
}

/// Payments of one caller, recorded with others' in one transaction.
#[derive(Clone, Debug)]
pub struct PaymentGroup {
    /// Who records them and why: one journal entry per group that accepted something.
    pub change: Change,
    pub within: Within,
    pub payments: Vec<NewPayment>,
}

/// When a transaction of payments is decided on a thread of its own, beside the writer that
/// writes what it accepts (see `shared_payments`): from `from` payments up, handed on in chunks
/// of `chunk` accepted payments. Below `from`, a transaction is decided first, then written.
/// Shared by a store's clones; set by `chitra bench payments` and by the tests, which run small
/// transactions through the same path.
#[derive(Debug)]
pub struct DecideBeside {
    from: std::sync::atomic::AtomicUsize,
    chunk: std::sync::atomic::AtomicUsize,
}

impl DecideBeside {
    /// SQLite's: from 8,192 payments, in chunks of 8,192. A tablet's batch of a few thousand is
    /// decided in a few milliseconds; an import's transactions of tens of thousands are decided
    /// while the first chunks are written, on the core SQLite's writer leaves (BENCHMARKS.md).
    pub const SQLITE: (usize, usize) = (8192, 8192);
    /// PostgreSQL's: never. Its server does the writing on the same machine's cores, and a chunk
    /// is one more round of statements: decided beside, transactions of 40,000 were slower
    /// (BENCHMARKS.md).
    pub const POSTGRES: (usize, usize) = (usize::MAX, 8192);

    pub fn new((from, chunk): (usize, usize)) -> DecideBeside {
        DecideBeside {
            from: from.into(),
            chunk: chunk.max(1).into(),
        }
    }

    /// `(from, chunk)`.
    pub fn get(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.from.load(Relaxed), self.chunk.load(Relaxed))
    }

    /// Sets both; a chunk is at least one payment.
    pub fn set(&self, from: usize, chunk: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.from.store(from, Relaxed);
        self.chunk.store(chunk.max(1), Relaxed);
    }
}

/// A schedule to set for a point's month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSchedule {
    pub point_id: i64,
    pub period: Period,
    pub days: MonthDays,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

/// A point's schedule for a month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Schedule {
    pub point_id: i64,
    pub point_code: String,
    pub point_name: String,
    pub commune_code: String,
    pub period: Period,
    pub days: MonthDays,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    /// No schedule was set: the point's pay days on its opening weekdays, 07:00–17:00.
    pub default: bool,
}

impl Schedule {
    pub fn point_schedule(&self) -> PointSchedule {
        PointSchedule {
            period: self.period,
            days: self.days,
            opens: self.opens,
            closes: self.closes,
        }
    }
}

/// A beneficiary to be served by a point.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    pub beneficiary_code: String,
    /// Paid at home, and why (old, frail, sick); `None`: at the point.
    pub home_delivery: Option<String>,
    /// The home's coordinates (latitude, longitude), to check home deliveries against.
    pub home: Option<(f64, f64)>,
}

/// What lists of flags may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct FlagFilter {
    pub period: Option<Period>,
    pub kind: Option<FlagKind>,
    pub point_id: Option<i64>,
    /// The caller's jurisdiction: only flags of lines within it.
    pub within: Within,
    pub limit: i64,
    pub offset: i64,
}

/// A flag raised by a payment, with what an inspector needs to follow it up.
#[derive(Clone, Debug, Serialize)]
pub struct FlagRow {
    pub payment_id: String,
    pub line_id: i64,
    pub period: Period,
    pub beneficiary_code: String,
    pub full_name: String,
    pub commune_code: String,
    pub point_id: Option<i64>,
    pub point_code: Option<String>,
    pub kind: FlagKind,
    pub evidence: serde_json::Value,
    pub paid_at: String,
    pub agent: String,
    pub recorded_at: String,
}

/// The lines of a payroll run paid on one day (Vietnam time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaidDay {
    pub run_id: i64,
    pub day: NaiveDate,
    pub lines: i64,
    pub amount: Dong,
}

/// What a committed write waits for before it is answered: its commit on disk. A backend that
/// syncs inside its commit hands one already done.
#[must_use = "a write is answered only once durable: wait for it"]
pub struct Durable(Option<std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send>>>);

impl Durable {
    /// Nothing left to wait for.
    pub fn done() -> Durable {
        Durable(None)
    }

    pub(crate) fn after(
        sync: impl std::future::Future<Output = Result<()>> + Send + 'static,
    ) -> Durable {
        Durable(Some(Box::pin(sync)))
    }

    /// Ends once the commit is on disk, or with why it could not be made so.
    pub async fn wait(self) -> Result<()> {
        match self.0 {
            Some(sync) => sync.await,
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Durable(pending)"
        } else {
            "Durable(done)"
        })
    }
}

/// The payment service.
#[async_trait::async_trait]
pub trait Payments: Send + Sync {
    /// Sets (or sets again) a point's schedule for a month.
    async fn set_schedule(&self, change: &Change, schedule: &NewSchedule) -> Result<Schedule>;
    /// The schedules of a month, of every point or of one; a point without one set has its
    /// default, marked so.
    async fn schedules(&self, period: Period, point_id: Option<i64>) -> Result<Vec<Schedule>>;
    /// Beneficiaries to be served by a point (from the next payroll on), each at the point or at
    /// home with the reason. All or nothing; returns how many were assigned.
    async fn assign_beneficiaries(
        &self,
        change: &Change,
        point_id: i64,
        assignments: &[Assignment],
    ) -> Result<usize>;
    /// Records the payments of several callers in ONE transaction (one fsync), with one journal
    /// entry per group that accepted something (its actor the group's). Answers per group, per
    /// payment, in order. A line is paid at most once, across groups too; refused payments change
    /// nothing; the flags a payment raises are written with it.
    async fn record_payment_groups(
        &self,
        groups: &[PaymentGroup],
    ) -> Result<Vec<Vec<PaymentResult>>>;
    /// [`Payments::record_payment_groups`], returning once the transaction is committed, with
    /// what to wait for before anyone is told: the commit on disk. Meanwhile the next transaction
    /// can run (the payment writer's group commit, DESIGN.md §6). The results are final; only
    /// their durability is pending. The groups are taken whole: a large transaction's
    /// payments are decided on a thread of their own, beside the writer.
    async fn record_payment_groups_committed(
        &self,
        groups: Vec<PaymentGroup>,
    ) -> Result<(Vec<Vec<PaymentResult>>, Durable)>;
    /// When this store decides a transaction of payments beside its writer.
    fn decide_beside(&self) -> &DecideBeside;
    /// Reads the lines of every run being paid into the payment writer's copy, before the
    /// first payment needs them. How many lines the copy holds.
    async fn warm_up_payments(&self) -> Result<usize>;
    /// Flags raised by payments, newest month first, then in payment order.
    async fn flags(&self, filter: &FlagFilter) -> Result<Page<FlagRow>>;
    /// The lines of these runs paid each day, in Vietnam time, within `within`: what the
    /// on-time rate compares with the contract's window. By run, then day.
    async fn paid_days(&self, run_ids: &[i64], within: &Within) -> Result<Vec<PaidDay>>;
}
