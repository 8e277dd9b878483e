//! Persistence for chitra. One [`Store`] trait, two implementations: SQLite (one file, WAL; the
//! embedded default) and PostgreSQL (for a national deployment). The store remembers; the rules it
//! applies before writing come from `chitra-core`.
//!
//! Every mutation appends its journal entries in the same transaction as the change. Writes are
//! serialised on the journal head, so the chain never forks.

use chitra_core::decision::{Decision, NewDecision};
use chitra_core::journal::{Entry, Mismatch};
use chitra_core::office::{Facility, NewPaymentPoint, Office, OfficeKind, PaymentPoint};
use chitra_core::register::{Beneficiary, NewBeneficiary, RegisterStatus};

use chitra_core::rules::RuleBook;
use chitra_core::units::{AdminUnit, OfficialUnits, UnitTree};
use chitra_core::{Period, Program};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub mod access;
pub mod cycle;
mod error;
mod known_ids;
mod line_cache;
#[macro_use]
mod shared;
#[macro_use]
mod shared_access;
#[macro_use]
mod shared_cycle;
#[macro_use]
mod shared_outreach;
pub mod outreach;
pub mod payments;
#[macro_use]
mod shared_payments;
pub mod postgres;
pub mod sqlite;
mod sqlite_bulk;
mod sqlite_sync;

pub use access::Access;
pub use cycle::Cycle;
pub use error::StoreError;
pub use outreach::Outreach;
pub use payments::Payments;

pub type Result<T> = std::result::Result<T, StoreError>;

/// A map keyed by the store's own integers (lines, beneficiaries, points), hashed with foldhash
/// rather than SipHash: the payment writer looks up each of a transaction's lines in several such
/// maps. (Keys a client chooses, such as payment ids, stay in maps hashed with SipHash.)
pub(crate) type IntMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// The set of [`IntMap`].
pub(crate) type IntSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// A point's code as the accounts of its cash name it: its `code`, or, for a point whose code was
/// not read, `point-<id>`.
pub(crate) fn point_code(code: Option<&str>, point_id: i64) -> String {
    code.map_or_else(|| format!("point-{point_id}"), str::to_owned)
}

/// A write transaction that commits and hands back what its durability waits for, so that the
/// caller can let the writer go before the disk has answered (see `sqlite_sync`).
pub(crate) trait CommitLater {
    async fn commit_later(self) -> Result<payments::Durable>;
    /// Ends a transaction that wrote nothing, with what its answers wait for: on SQLite, a sync
    /// of every commit it may have read (see `sqlite_sync`); nothing on PostgreSQL.
    async fn end_unchanged(self) -> Result<payments::Durable>;
}

/// The unit tree as last read, with the version (largest unit id) it was read at.
type UnitCache = std::sync::Arc<std::sync::Mutex<Option<(i64, std::sync::Arc<UnitTree>)>>>;

/// A program's register as last read: every beneficiary's file, and how far it was read.
#[derive(Debug, Default)]
struct RegisterCache {
    version: i64,
    /// The number of categories of the rules it was compiled with (category indexes follow them).
    rules_key: usize,
    last_beneficiary: i64,
    last_decision: i64,
    register: std::sync::Arc<chitra_core::payroll::Register>,
    /// Who lives in each commune, for one month, as [`chitra_core::payroll::Register::by_commune`].
    by_commune: Option<(i32, std::sync::Arc<ByCommune>)>,
}

type ByCommune = std::collections::HashMap<[u8; 5], Vec<u32>>;

/// A parameter of a scanned query.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Arg<'a> {
    Int(i64),
    Text(&'a str),
}

/// Rows read in key order, handed over a key at a time.
struct Grouped<T> {
    key: i64,
    rows: Vec<T>,
}

impl<T> Grouped<T> {
    fn new() -> Self {
        Grouped {
            key: i64::MIN,
            rows: Vec::new(),
        }
    }

    fn add(&mut self, key: i64, row: T, done: &mut impl FnMut(i64, &[T])) {
        if key != self.key {
            self.finish(done);
            self.key = key;
        }
        self.rows.push(row);
    }

    fn finish(&mut self, done: &mut impl FnMut(i64, &[T])) {
        if !self.rows.is_empty() {
            done(self.key, &self.rows);
            self.rows.clear();
        }
    }
}

/// A task of the store's, aborted if its handle is dropped before it is joined (the work that
/// wanted its result failed first).
pub(crate) struct AbortOnDrop<T>(pub(crate) tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    /// Waits for the task's result.
    pub(crate) async fn join(mut self) -> Result<T> {
        (&mut self.0)
            .await
            .map_err(|e| StoreError::corrupt(format!("a task of the store ended: {e}")))
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        // Nothing once the task has ended.
        self.0.abort();
    }
}

type RegisterCaches =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Program, RegisterCache>>>;

/// Vietnam's time zone (ICT) is UTC+7 all year.
pub const VIETNAM_UTC_OFFSET_HOURS: i64 = 7;

/// Who made a change, when, and why: what the journal records with it.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub actor: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

impl Change {
    pub fn now(actor: impl Into<String>, reason: impl Into<String>) -> Change {
        Change {
            actor: actor.into(),
            reason: reason.into(),
            at: Utc::now(),
        }
    }

    /// A change made on `date` (at noon in Vietnam): what a simulation or an import of dated
    /// records uses.
    pub fn on(actor: impl Into<String>, reason: impl Into<String>, date: NaiveDate) -> Change {
        let noon = date
            .and_hms_opt(12 - VIETNAM_UTC_OFFSET_HOURS as u32, 0, 0)
            .unwrap_or_default();
        Change {
            actor: actor.into(),
            reason: reason.into(),
            at: DateTime::from_naive_utc_and_offset(noon, Utc),
        }
    }

    /// The day of the change in Vietnam (UTC+7, no daylight saving): the "today" against which
    /// dates are checked and from which a recorded decision is known.
    pub fn date(&self) -> NaiveDate {
        (self.at + chrono::Duration::hours(VIETNAM_UTC_OFFSET_HOURS)).date_naive()
    }

    /// Who and why must be said: the journal records them.
    pub fn check(&self) -> std::result::Result<(), chitra_core::FieldError> {
        chitra_core::text::required("as", &self.actor, 100)?;
        chitra_core::text::required("reason", &self.reason, 500)?;
        Ok(())
    }

    /// The timestamp as stored and hashed: RFC 3339, UTC, microseconds.
    pub fn at_text(&self) -> String {
        self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

/// What `chitra healthcheck` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    pub backend: &'static str,
    pub schema_version: i64,
    pub initialised: bool,
    pub demo: bool,
    pub journal_entries: i64,
    pub beneficiaries: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct UnitsLoaded {
    pub units: usize,
    pub successions: usize,
    pub quirks: usize,
}

/// What `initialise` did.
#[derive(Clone, Debug, Serialize)]
pub struct Initialised {
    /// It was initialised before: nothing was loaded.
    pub already: bool,
    pub units: Option<UnitsLoaded>,
    pub rule_categories: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewOffice {
    pub kind: OfficeKind,
    pub name: String,
    pub unit_code: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewFacility {
    pub code: String,
    pub name: String,
    pub commune: chitra_core::ids::CommuneCode,
}

/// A beneficiary with every decision about them: their file.
#[derive(Clone, Debug, Serialize)]
pub struct BeneficiaryFile {
    pub beneficiary: Beneficiary,
    pub decisions: Vec<Decision>,
}

/// A citizen ID on the register, with what tells its holder apart: an import skips a row whose
/// person is already registered (same name and birth date) and refuses one that names somebody
/// else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegisteredCitizen {
    pub citizen_id: chitra_core::ids::CitizenId,
    /// The beneficiary's code.
    pub code: String,
    pub program: Program,
    pub full_name: String,
    pub birth_date: NaiveDate,
}

/// Beneficiaries being registered in one transaction, a chunk at a time, so that a whole
/// province's register is added without holding it in memory. Each chunk is checked as
/// [`Store::add_beneficiaries`] checks a batch, and written with its grants and journal entries;
/// nothing is visible to anybody else until [`Registration::commit`]. Dropped without a commit
/// (or after an error), everything it added is rolled back.
///
/// While it is open it holds the store's writer: other changes wait for it.
#[async_trait::async_trait]
pub trait Registration: Send {
    /// Checks and writes a chunk. An error names the item by its position in the whole
    /// registration (`[1234].citizen_id`) and leaves the registration good only for dropping.
    /// The chunk may be written only by the next `add` or by `commit` (it is checked now, and
    /// written while the next one is checked), but it is in the registration from now on.
    async fn add(&mut self, chunk: Vec<NewBeneficiary>) -> Result<Vec<BeneficiaryFile>>;
    /// Which of these citizen IDs are registered, as this registration sees it (what it has
    /// added included).
    async fn registered(
        &mut self,
        ids: &[chitra_core::ids::CitizenId],
    ) -> Result<Vec<RegisteredCitizen>>;
    /// Beneficiaries added so far.
    fn added(&self) -> u64;
    /// Makes everything added permanent, at once. Returns how many beneficiaries were registered.
    async fn commit(self: Box<Self>) -> Result<u64>;
}

/// A decision for a beneficiary named by their code.
#[derive(Clone, Debug, Serialize)]
pub struct DecisionFor {
    pub beneficiary_code: String,
    pub decision: NewDecision,
}

#[derive(Clone, Debug, Default)]
pub struct BeneficiaryFilter {
    /// Name (case and diacritics ignored), code, or whole citizen ID.
    pub search: Option<String>,
    pub commune: Option<String>,
    /// Lives in one of these communes (a user's jurisdiction); an empty list matches nobody.
    pub communes: Option<Vec<String>>,
    /// Has been granted this category.
    pub category: Option<String>,
    pub payment_point_id: Option<i64>,
    /// Stands so in the register in `as_of` (which must then be set).
    pub status: Option<RegisterStatus>,
    /// The month statuses are read in: when set, each row carries its status.
    pub as_of: Option<Period>,
    pub limit: i64,
    pub offset: i64,
}

/// A line of the register list. The citizen ID is masked.
#[derive(Clone, Debug, Serialize)]
pub struct BeneficiaryRow {
    pub id: i64,
    pub code: String,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub sex: String,
    pub citizen_id_masked: String,
    pub commune_code: String,
    pub payment_point_id: Option<i64>,
    /// The register status in the filter's `as_of` month, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<RegisterStatus>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Page<T> {
    pub total: i64,
    pub offset: i64,
    pub items: Vec<T>,
}

#[derive(Clone, Debug, Serialize)]
pub struct YearRow {
    pub year: i32,
    pub beneficiaries: i64,
    pub paid_vnd: i64,
}

/// One group of a breakdown: beneficiary-turns (distinct beneficiaries paid in each year, summed
/// over the years) and the amount paid.
#[derive(Clone, Debug, Serialize)]
pub struct GroupRow {
    pub key: String,
    pub name: String,
    pub beneficiary_turns: i64,
    pub paid_vnd: i64,
}

/// What was paid over a span of months.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub from: Period,
    pub to: Period,
    pub demo: bool,
    pub beneficiary_turns: i64,
    pub total_paid_vnd: i64,
    /// Payment points that paid in the span.
    pub payment_points: i64,
    pub payment_points_registered: i64,
    pub lines_paid: i64,
    pub by_year: Vec<YearRow>,
    pub by_area: Vec<GroupRow>,
    pub by_category: Vec<GroupRow>,
    pub by_residence: Vec<GroupRow>,
}

/// The result of recomputing the journal's chain.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub entries_checked: u64,
    pub intact: bool,
    pub first_mismatch: Option<Mismatch>,
    pub head_hash: String,
}

/// Whether `open` may create a new, empty database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    Create,
    Existing,
}

/// Everything chitra keeps. Both backends pass the same conformance suite (`tests/conformance.rs`).
#[async_trait::async_trait]
pub trait Store: Cycle + Access + Payments + Outreach + Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Ends the use of the store: its connections are closed (on SQLite the WAL first folded into
    /// the database file, so that what a command leaves is one file).
    async fn close(&self);

    async fn health(&self) -> Result<Health>;

    /// A setting, such as `demo` (the data is synthetic) or `province`.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    async fn set_setting(&self, change: &Change, key: &str, value: &str) -> Result<()>;

    /// Loads the official administrative units and the rule tables and marks the store
    /// initialised, in one transaction. Once initialised, doing it again changes nothing.
    async fn initialise(
        &self,
        change: &Change,
        official: &OfficialUnits,
        rules: &RuleBook,
    ) -> Result<Initialised>;
    /// Adds units a commune keeps itself (hamlets).
    async fn add_units(&self, change: &Change, units: &[AdminUnit]) -> Result<()>;
    async fn unit_tree(&self) -> Result<std::sync::Arc<UnitTree>>;

    async fn rule_book(&self) -> Result<RuleBook>;

    async fn add_office(&self, change: &Change, office: &NewOffice) -> Result<Office>;
    async fn offices(&self) -> Result<Vec<Office>>;
    async fn add_facility(&self, change: &Change, facility: &NewFacility) -> Result<Facility>;
    async fn facilities(&self) -> Result<Vec<Facility>>;
    async fn add_payment_points(
        &self,
        change: &Change,
        points: &[NewPaymentPoint],
    ) -> Result<Vec<PaymentPoint>>;
    async fn payment_points(&self) -> Result<Vec<PaymentPoint>>;

    /// Registers beneficiaries, each with the decision granting their first category. All or
    /// nothing: one bad beneficiary refuses the batch, with an error naming it and the field.
    async fn add_beneficiaries(
        &self,
        change: &Change,
        batch: &[NewBeneficiary],
    ) -> Result<Vec<BeneficiaryFile>>;
    /// Begins registering beneficiaries in chunks, in one transaction (see [`Registration`]).
    async fn begin_registration(&self, change: &Change) -> Result<Box<dyn Registration>>;
    /// Which of these citizen IDs are registered, in any program: the register's own answer,
    /// without reading anybody else's file.
    async fn registered_citizens(
        &self,
        ids: &[chitra_core::ids::CitizenId],
    ) -> Result<Vec<RegisteredCitizen>>;
    /// A beneficiary's file, by code.
    async fn beneficiary(&self, code: &str) -> Result<Option<BeneficiaryFile>>;
    async fn beneficiaries(&self, filter: &BeneficiaryFilter) -> Result<Page<BeneficiaryRow>>;
    /// Every beneficiary of a program with their decisions, for computing a month.
    async fn register(&self, program: Program) -> Result<Vec<BeneficiaryFile>>;

    /// Records decisions, each checked against the beneficiary's file and the rules, as of the
    /// change's day. All or nothing.
    async fn add_decisions(&self, change: &Change, batch: &[DecisionFor]) -> Result<Vec<Decision>>;

    async fn summary(&self, from: Period, to: Period) -> Result<Summary>;

    /// Recomputes the whole chain and names the first entry that does not match.
    async fn verify_journal(&self) -> Result<Verification>;
    /// The last `limit` entries, newest first.
    async fn journal_tail(&self, limit: i64) -> Result<Vec<Entry>>;
}

/// Opens the store a `--db` value names: a `postgres://` URL, or a SQLite file path
/// (optionally `sqlite://path`). Pending migrations are applied.
pub async fn open(db: &str, mode: OpenMode) -> Result<Box<dyn Store>> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        Ok(Box::new(postgres::PgStore::connect(db).await?))
    } else {
        let path = db.strip_prefix("sqlite://").unwrap_or(db);
        Ok(Box::new(sqlite::SqliteStore::open(path, mode).await?))
    }
}
