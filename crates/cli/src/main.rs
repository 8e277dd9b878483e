//! `chitra`: the command line. It parses what the user typed into core types, asks the store, and
//! prints the answer as a table or as JSON. Rules live in `chitra-core`, SQL in `chitra-store`.

mod bench;
mod commands;
mod demo;
mod documents;
mod month;
mod output;
mod points;
mod service;

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::output::Failure;

/// chitra — chi trả trợ cấp xã hội qua bưu điện: the register, the rules, the monthly payments and
/// their audit trail.
#[derive(Parser, Debug)]
#[command(name = "chitra", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The database: a SQLite file path (created by `init` or `demo`) or a postgres:// URL.
    #[arg(long, global = true, env = "CHITRA_DB", default_value = "chitra.db")]
    pub db: String,
    /// How to print data (hledger: for `export ledger` only).
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Who is acting: recorded in the journal with every change.
    #[arg(
        long = "as",
        global = true,
        env = "CHITRA_USER",
        default_value = "admin"
    )]
    pub actor: String,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    /// An hledger journal: `chitra export ledger --format hledger`.
    Hledger,
    /// A spreadsheet: `chitra export payroll|settlement --format xlsx`.
    Xlsx,
    /// A PDF: `chitra export payroll|settlement|notices --format pdf`.
    Pdf,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the database and load the official units and the rule tables.
    Init,
    /// Build a demo province (Bến Tre, 2018–2020, synthetic people) and run it month by month.
    Demo(DemoArgs),
    /// The rule tables.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// The register of beneficiaries.
    #[command(subcommand)]
    Beneficiary(BeneficiaryCommand),
    /// Decisions: grant, adjust, suspend, resume, stop.
    #[command(subcommand)]
    Decision(DecisionCommand),
    /// Payment contracts between the department and the post office.
    #[command(subcommand)]
    Contract(ContractCommand),
    /// The monthly payroll: generate, approve, fund, open, pay, close; lines and differences.
    #[command(subcommand)]
    Payroll(PayrollCommand),
    /// Payment points: schedules, and the beneficiaries each serves.
    #[command(subcommand)]
    Point(PointCommand),
    /// Flags raised by payments, for inspectors: outside the schedule, to the dead, proxies
    /// expired or collecting for many, home deliveries far from the home.
    Flags(FlagsArgs),
    /// The fund ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Files for other tools.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Files from offices and banks: beneficiary spreadsheets, bank result files.
    #[command(subcommand)]
    Import(documents::ImportCommand),
    /// Reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// The journal: every change, chained by hashes.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check that the database answers and is initialised (exit code 0 if healthy).
    Healthcheck,
    /// The payment service: JSON API under /api/v1, its OpenAPI document, users and roles.
    Serve(service::ServeArgs),
    /// Users of the service, with their roles and scopes.
    #[command(subcommand)]
    User(service::UserCommand),
    /// Timed scenarios on a synthetic national register (for BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// A month's payroll for the whole country: computed in memory, then generated and written
    /// into a new database (`--db`, which must be empty).
    Payroll(BenchPayroll),
    /// On the database `bench payroll` made: pay and close the month, then time the settlement's
    /// per-point sums and the three-way match.
    Reconcile(BenchReconcile),
    /// Prepare the documents benchmark: a new database and a synthetic spreadsheet to import.
    Documents(documents::BenchDocuments),
    /// On the database `bench payroll` made: record the month's payments through the payment
    /// service's group commit, in groups like a busy server's, and time them.
    Payments(BenchPayments),
    /// On the database `bench payroll` made: payments over HTTP on loopback through the real
    /// server — the batch endpoint, then single payments sent by `wrk` (or by `oha` at a set
    /// rate, with `--rate`).
    Http(BenchHttp),
}

#[derive(Args, Debug)]
pub struct BenchHttp {
    /// Payments sent through the batch endpoint.
    #[arg(long, default_value_t = 200_000)]
    pub batch_payments: usize,
    /// Payments per batch request (at most 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// Clients sending batches at once (tablets syncing together after a cut in the network).
    /// Each waits for its answer before it sends again: the server's writer, which takes up to
    /// four batches a transaction, is kept busy by eight.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Connections for single payments.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// How long single payments are sent.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Send single payments at this many requests a second, whatever the answers' pace, with
    /// `oha` (`cargo install --locked oha`) and its correction for coordinated omission: a request's
    /// latency counts from when it was due, not from when a connection was free to send it.
    /// Without it, `wrk`'s connections each send again as soon as answered: the most the server
    /// answers, with latencies that queue behind each other.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: Option<u32>,
    /// Send the single payments while the batches are being sent, not after them: agents paying at
    /// their counters while tablets sync. Their latencies then count their wait behind the
    /// tablets' transactions. Give `--seconds` shorter than the batches take.
    #[arg(long)]
    pub together: bool,
}

#[derive(Args, Debug)]
pub struct BenchPayments {
    /// How many payments to record (at most the month's lines due).
    #[arg(long, default_value_t = 1_000_000)]
    pub payments: usize,
    /// Payments per transaction in the first pass (one group each: a tablet syncing, an import).
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// The order payments reach the writer in: `random` (agents at thousands of points paying at
    /// once) or `line` (in line order, as an import of a whole month would).
    #[arg(long, default_value = "random")]
    pub order: String,
    /// Leave out the warm-up: the first transactions read the lines into the payment writer's
    /// copy as a server just started does (SQLite).
    #[arg(long)]
    pub cold: bool,
    /// From how many payments a transaction is decided on a thread of its own, beside the
    /// writer (by default 8,192 on SQLite, never on PostgreSQL; 0: every one).
    #[arg(long)]
    pub decide_beside_from: Option<usize>,
    /// Accepted payments handed to the writer at a time by that thread (8,192 by default).
    #[arg(long)]
    pub decide_chunk: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum PointCommand {
    /// Set a point's schedule for a month: the days and the opening hours.
    Schedule {
        #[arg(long)]
        point: i64,
        /// YYYY-MM.
        #[arg(long)]
        period: String,
        /// Days of the month: `2-10`, `2-10,15`.
        #[arg(long)]
        days: String,
        /// Opening hours, Vietnam time: `07:30-16:30`.
        #[arg(long, default_value = "07:00-17:00")]
        hours: String,
    },
    /// The schedules of a month, of every point or of one (the default where none was set).
    Schedules {
        /// YYYY-MM.
        #[arg(long)]
        period: String,
        #[arg(long)]
        point: Option<i64>,
    },
    /// Assign a beneficiary to a point, paid there or at home.
    Assign {
        #[arg(long)]
        point: i64,
        /// The beneficiary's code.
        #[arg(long)]
        beneficiary: String,
        /// Paid at home, and why (old, frail, sick).
        #[arg(long)]
        home: Option<String>,
        /// The home's latitude (to check home deliveries against).
        #[arg(long, allow_hyphen_values = true)]
        lat: Option<f64>,
        /// The home's longitude.
        #[arg(long, allow_hyphen_values = true)]
        lon: Option<f64>,
    },
}

#[derive(Args, Debug)]
pub struct FlagsArgs {
    /// YYYY-MM.
    #[arg(long)]
    pub period: String,
    /// outside_schedule, dead_beneficiary, proxy_expired, proxy_for_many or home_far_from_address.
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub point: Option<i64>,
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    #[arg(long, default_value_t = 0)]
    pub offset: i64,
}

#[derive(Args, Debug)]
pub struct BenchPayroll {
    #[arg(long, default_value_t = 5_000_000)]
    pub beneficiaries: usize,
    /// Only the computation in memory; no database.
    #[arg(long)]
    pub computed_only: bool,
}

#[derive(Args, Debug)]
pub struct BenchReconcile {}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Seed of the synthetic population: the same seed builds the same province.
    #[arg(long, default_value_t = 2018)]
    pub seed: u64,
    /// Replace an existing SQLite demo file.
    #[arg(long)]
    pub force: bool,
    /// The last month the demo lives, YYYY-MM (2018-01 … 2020-12; default 2020-12). A shorter
    /// demo is the same province, stopped earlier (the web interface's tests use 2018-02).
    #[arg(long)]
    pub to: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// The base levels, coefficients, funeral support and combinations in force in a month.
    Show {
        /// The month, YYYY-MM.
        #[arg(long)]
        at: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum BeneficiaryCommand {
    /// Register a beneficiary with the decision that grants their category.
    Add(Box<AddBeneficiary>),
    /// A beneficiary's file: identity, addresses, decisions, this month's entitlement.
    Show {
        /// The beneficiary's code, e.g. 83-0000123.
        code: String,
        /// The month whose entitlement to explain (default: this month).
        #[arg(long)]
        at: Option<String>,
    },
    /// The register, paged and filtered.
    List(ListBeneficiaries),
}

#[derive(Args, Debug)]
pub struct AddBeneficiary {
    /// Full name, as on the citizen ID card.
    #[arg(long)]
    pub name: String,
    /// YYYY-MM-DD.
    #[arg(long)]
    pub birth_date: String,
    /// nam / nữ (male / female).
    #[arg(long)]
    pub sex: String,
    /// The 12-digit citizen ID number.
    #[arg(long)]
    pub citizen_id: String,
    /// The official 5-digit commune code.
    #[arg(long)]
    pub commune: String,
    /// The category granted, e.g. K5c (see `chitra rules show`).
    #[arg(long)]
    pub category: String,
    /// social_assistance or merit_allowance.
    #[arg(long, default_value = "social_assistance")]
    pub program: String,
    /// Hamlet or neighbourhood.
    #[arg(long)]
    pub hamlet: Option<String>,
    /// House number and street.
    #[arg(long)]
    pub street: Option<String>,
    /// Children or other dependants (K4 is paid per child).
    #[arg(long, default_value_t = 1)]
    pub dependants: u32,
    /// First month paid, YYYY-MM (default: the month the decision is signed).
    #[arg(long)]
    pub effective: Option<String>,
    /// Date the grant decision was signed, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub signed_on: Option<String>,
    /// Who signed the decision (default: the acting user).
    #[arg(long)]
    pub signer: Option<String>,
    /// The decision's number, e.g. 125/QĐ-UBND.
    #[arg(long)]
    pub number: Option<String>,
    #[arg(long, default_value = "đủ điều kiện hưởng trợ cấp xã hội hàng tháng")]
    pub reason: String,
    /// Payment point id.
    #[arg(long)]
    pub point: Option<i64>,
    /// Social-protection facility id, if the beneficiary lives in one.
    #[arg(long)]
    pub facility: Option<i64>,
    /// Why the beneficiary is paid at home (old, frail, sick).
    #[arg(long)]
    pub home_delivery: Option<String>,
    /// Paid into this bank's account instead of in cash.
    #[arg(long)]
    pub bank: Option<String>,
    /// The account number (digits).
    #[arg(long)]
    pub bank_account: Option<String>,
}

#[derive(Args, Debug)]
pub struct ListBeneficiaries {
    /// Name without diacritics, code, or citizen ID.
    #[arg(long)]
    pub search: Option<String>,
    #[arg(long)]
    pub commune: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    #[arg(long)]
    pub point: Option<i64>,
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
    #[arg(long, default_value_t = 0)]
    pub offset: i64,
}

#[derive(Subcommand, Debug)]
pub enum DecisionCommand {
    /// Record a decision for a beneficiary.
    Add(Box<AddDecision>),
}

#[derive(Args, Debug)]
pub struct AddDecision {
    /// The beneficiary's code.
    #[arg(long)]
    pub beneficiary: String,
    /// grant, adjust, suspend, resume or stop.
    #[arg(long)]
    pub kind: String,
    /// First month it applies to, YYYY-MM (a stop on death defaults to the month after death).
    #[arg(long)]
    pub effective: Option<String>,
    /// Grant and adjust: the category.
    #[arg(long)]
    pub category: Option<String>,
    /// Adjust: the category replaced.
    #[arg(long)]
    pub replaces: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub dependants: u32,
    /// YYYY-MM-DD (default: today).
    #[arg(long)]
    pub signed_on: Option<String>,
    #[arg(long)]
    pub signer: Option<String>,
    #[arg(long)]
    pub number: Option<String>,
    #[arg(long)]
    pub reason: String,
    /// Stop: the date of death, YYYY-MM-DD.
    #[arg(long)]
    pub death_date: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Beneficiary-turns, total paid and payment points over a span of months, with breakdowns.
    Summary {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// The month's settlement: per contract advanced = paid + returned + still held; per point.
    Settlement {
        /// YYYY-MM.
        #[arg(long)]
        period: String,
    },
    /// The three-way match of payroll lines, recorded payments and ledger transfers of a month.
    Reconcile {
        /// YYYY-MM.
        #[arg(long)]
        period: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ContractCommand {
    /// Record a payment contract.
    Add(Box<AddContract>),
    /// The contracts on record.
    List,
}

#[derive(Args, Debug)]
pub struct AddContract {
    /// Short code, used in account names, e.g. BT-BĐ-2018.
    #[arg(long)]
    pub code: String,
    #[arg(long)]
    pub name: String,
    /// The paying office's id (the department).
    #[arg(long)]
    pub office: i64,
    /// The post office that pays out.
    #[arg(long)]
    pub post_office: String,
    /// The province or commune code the contract covers.
    #[arg(long)]
    pub area: String,
    /// social_assistance or merit_allowance.
    #[arg(long, default_value = "social_assistance")]
    pub program: String,
    /// A percentage of the amount paid (1.2%) or an amount per beneficiary paid (6600/beneficiary).
    #[arg(long)]
    pub fee: String,
    /// Funds for month M are advanced by this day of month M − 1.
    #[arg(long, default_value_t = 25)]
    pub advance_by_day: u8,
    /// First day of the payment window.
    #[arg(long, default_value_t = 2)]
    pub pay_from_day: u8,
    /// Last day of the payment window.
    #[arg(long, default_value_t = 20)]
    pub pay_to_day: u8,
    /// The post reports month M by this day of month M + 1.
    #[arg(long, default_value_t = 20)]
    pub report_by_day: u8,
    /// First month covered, YYYY-MM.
    #[arg(long)]
    pub valid_from: String,
    /// Last month covered, YYYY-MM (open-ended if absent).
    #[arg(long)]
    pub valid_to: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum PayrollCommand {
    /// Make (or make again, while a draft) an office's payroll for a month.
    Generate {
        /// The office (district office or commune) whose beneficiaries are paid. Given several
        /// times (`--office 2 --office 3`), their months are generated together, in one
        /// transaction, as a department does for its districts.
        #[arg(long, required = true)]
        office: Vec<i64>,
        /// YYYY-MM.
        #[arg(long)]
        period: String,
        #[arg(long, default_value = "social_assistance")]
        program: String,
    },
    /// Approve a draft: by someone other than whoever generated it (`--as`).
    Approve { run: i64 },
    /// Record the fund advance to the post office.
    Fund { run: i64 },
    /// The post office starts paying: its points receive their cash.
    Open { run: i64 },
    /// Record one payment of a line, in full.
    Pay(Box<PayLine>),
    /// Close: every unpaid line is carried over or returned; suspensions; the fee.
    Close { run: i64 },
    /// The payroll runs, of one month or all.
    List {
        #[arg(long)]
        period: Option<String>,
    },
    /// A run: its state, totals and lines by status.
    Show { run: i64 },
    /// A run's lines, paged.
    Lines {
        run: i64,
        /// due, paid, carried or returned.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        point: Option<i64>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
    },
    /// One line: how its amount was reckoned, its payment and proof, its transfers.
    Line { line: i64 },
    /// What changed since the office's month before: new, stopped, amount changed, and why.
    Diff { run: i64 },
    /// Beneficiaries suspended by a close for not collecting, waiting for an officer.
    Reviews,
}

#[derive(Args, Debug)]
pub struct PayLine {
    /// The payroll line.
    #[arg(long)]
    pub line: i64,
    /// The amount handed over: the line's whole amount.
    #[arg(long)]
    pub amount: i64,
    /// The payment's own id: sending it again records nothing new (default: cli:<line>).
    #[arg(long)]
    pub id: Option<String>,
    /// point, home, bank or facility.
    #[arg(long, default_value = "point")]
    pub method: String,
    /// The beneficiary's citizen ID seen (12 digits): it must be theirs; only its last 4 digits
    /// are kept.
    #[arg(long)]
    pub citizen_id: Option<String>,
    /// A proxy collecting instead of the beneficiary: their full name.
    #[arg(long)]
    pub proxy_name: Option<String>,
    /// The proxy's citizen ID (12 digits); only its last 4 digits and a key are kept.
    #[arg(long)]
    pub proxy_citizen_id: Option<String>,
    /// The number of the proxy's authorisation, certified by the commune.
    #[arg(long)]
    pub proxy_authorisation: Option<String>,
    /// Who issued the authorisation.
    #[arg(long)]
    pub proxy_issuer: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long)]
    pub proxy_expires: Option<String>,
    /// When it was paid (RFC 3339; default: now).
    #[arg(long)]
    pub paid_at: Option<String>,
    /// At home: the latitude where the money was handed over (GPS).
    #[arg(long, allow_hyphen_values = true)]
    pub lat: Option<f64>,
    /// At home: the longitude.
    #[arg(long, allow_hyphen_values = true)]
    pub lon: Option<f64>,
}

#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Every account with its debits, credits and balance.
    Balances,
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The fund ledger as an hledger journal (`--format hledger`).
    Ledger {
        /// One transaction per day, month, kind and accounts (day), or per transfer (transfer).
        #[arg(long, value_enum, default_value_t = Detail::Day)]
        detail: Detail,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
    },
    /// A payment point's payroll list for a month, as .xlsx or PDF.
    Payroll(documents::ExportPayroll),
    /// The month's settlement per contract and per point, as .xlsx or PDF.
    Settlement(documents::ExportSettlement),
    /// The bank and e-wallet payout file (CSV) of a month.
    Payout(documents::ExportPayout),
    /// A payment point's schedule notice for a month, as PDF.
    Notices(documents::ExportNotices),
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Day,
    Transfer,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute the journal's hash chain; name the first entry that does not match.
    Verify,
    /// The latest journal entries.
    Log {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.global.format;
    // With `--format json` a failure is one JSON object on standard error, and a program reads
    // it there: warnings (a connection slow to come from the pool on a loaded machine, say) are
    // left out unless RUST_LOG asks for them.
    let default_filter = match format {
        Format::Json => "error",
        _ => "warn,sqlx::query=error",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(format),
    }
}

impl Failure {
    fn report(self, format: Format) -> ExitCode {
        match format {
            Format::Json => eprintln!("{}", self.json()),
            Format::Table | Format::Hledger | Format::Xlsx | Format::Pdf => {
                eprintln!("{}", self.text())
            }
        }
        ExitCode::from(self.exit_code())
    }
}
