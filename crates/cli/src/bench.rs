//! `chitra bench`: whole scenarios on a synthetic national register — 34 provinces, their 3,321
//! communes (the official units from July 2025), 11,000 payment points and millions of
//! beneficiaries — timed and written out with the machine's peak memory. The figures go to
//! BENCHMARKS.md with the command that produced them; tests never assert on time.

use std::time::{Duration, Instant};

use chitra_core::calc::Engine;
use chitra_core::contract::{FeeRule, NewContract};
use chitra_core::decision::{Decision, DecisionKind, NewDecision};
use chitra_core::ids::{CitizenId, CommuneCode};
use chitra_core::office::{NewPaymentPoint, OfficeKind, PointKind};
use chitra_core::payment::{Identity, Location};
use chitra_core::payroll::{self, Generation, Line, Register};
use chitra_core::register::{AddressSpell, Beneficiary, NewBeneficiary, Sex};
use chitra_core::rules::RuleBook;
use chitra_core::schedule::Weekdays;
use chitra_core::units::{AdminUnit, OfficialFiles, UnitLevel, load_official};
use chitra_core::{Dong, FieldError, Period, Program};
use chitra_store::cycle::{DueLine, NewPayment, PaymentResult, Run};
use chitra_store::payments::{Durable, PaymentGroup, Within};
use chitra_store::{Change, NewOffice, OpenMode, Store};
use chrono::NaiveDate;
use serde::Serialize;

use crate::commands::initialise;
use crate::demo::Rng;
use crate::output::{Failure, Outcome, Table, emit, fields, vnd};
use crate::{BenchPayments, BenchPayroll, BenchReconcile, Global};

/// The month the bench pays: after the 2025 reorganisation, on the two-level units.
pub mod http;

const MONTH: (i32, u32) = (2025, 8);
const POINTS: usize = 11_000;

/// The peak resident memory of this process so far, in MiB (Linux), if known.
fn peak_mib() -> Option<f64> {
    status_kib("VmHWM:").map(|kib| kib as f64 / 1024.0)
}

/// A resident-set figure of this process from `/proc/self/status` (`RssAnon:`, …), in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The largest anonymous resident memory (the heap and stacks: not the database file's pages,
/// which SQLite's memory map brings into the resident set and `VmHWM` counts), sampled every
/// 10 ms on a thread of its own from its start until [`AnonPeak::stop`].
struct AnonPeak {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Drop for AnonPeak {
    /// A bench that failed half-way lets its sampler go too.
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl AnonPeak {
    fn start() -> AnonPeak {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            loop {
                peak = peak.max(status_kib("RssAnon:").unwrap_or(0));
                if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    return peak;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        AnonPeak {
            stop,
            thread: Some(thread),
        }
    }

    /// The peak in MiB, if it could be read.
    fn stop(mut self) -> Option<f64> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let kib = self.thread.take()?.join().ok()?;
        (kib > 0).then(|| kib as f64 / 1024.0)
    }
}

fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// One synthetic beneficiary: an age and a category that fit each other, a commune, a point.
struct Synthetic {
    birth: NaiveDate,
    sex: Sex,
    category: &'static str,
    dependants: u32,
    commune: usize,
    point_in_commune: usize,
    home: bool,
}

fn synthetic(rng: &mut Rng, communes: usize) -> Synthetic {
    let (lo, hi, category, dependants) = match rng.below(100) {
        0..=44 => (1926, 1944, "K5c", 1),
        45..=59 => (1946, 1964, "K5a", 1),
        60..=79 => (1966, 2004, "K6b", 1),
        80..=89 => (1950, 2004, "K6a", 1),
        90..=94 => (2011, 2020, "K1", 1),
        _ => (1980, 1998, "K4", 1 + rng.below(3) as u32),
    };
    let year = rng.range(lo, hi) as i32;
    let birth = NaiveDate::from_ymd_opt(year, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32)
        .unwrap_or_default();
    Synthetic {
        birth,
        sex: if rng.chance(0.55) {
            Sex::Female
        } else {
            Sex::Male
        },
        category,
        dependants,
        commune: rng.below(communes as u64) as usize,
        point_in_commune: rng.below(3) as usize,
        home: rng.chance(0.03),
    }
}

fn grant(s: &Synthetic, month: Period) -> NewDecision {
    NewDecision {
        kind: DecisionKind::Grant,
        number: None,
        category: Some(s.category.to_owned()),
        replaces: None,
        dependants: s.dependants,
        effective: month,
        signed_on: plus_days(month.prev().first_day(), 14),
        signer: "Chủ tịch UBND xã".to_owned(),
        reason: "đủ điều kiện hưởng trợ cấp xã hội hàng tháng".to_owned(),
        death_date: None,
    }
}

fn plus_days(d: NaiveDate, n: u32) -> NaiveDate {
    d + chrono::Duration::days(i64::from(n))
}

fn citizen_id(s: &Synthetic, serial: usize) -> Result<CitizenId, FieldError> {
    use chrono::Datelike;
    let century_sex = match (s.birth.year() >= 2000, s.sex) {
        (false, Sex::Male) => 0,
        (false, Sex::Female) => 1,
        (true, Sex::Male) => 2,
        (true, Sex::Female) => 3,
    };
    // The province digits and the serial together are the bench's serial: distinct for up to
    // 96 million beneficiaries, whatever their birth year and sex.
    CitizenId::parse(&format!(
        "0{:02}{century_sex}{:02}{:06}",
        serial / 1_000_000 + 1,
        s.birth.year() % 100,
        serial % 1_000_000
    ))
}

/// The communes in force in the bench month, grouped by province.
fn national_communes() -> Result<(Vec<AdminUnit>, Vec<AdminUnit>), Failure> {
    let official = load_official(&OfficialFiles::EMBEDDED)?;
    let day = Period::new(MONTH.0, MONTH.1)?.first_day();
    let mut provinces: Vec<AdminUnit> = official
        .units
        .iter()
        .filter(|u| u.level == UnitLevel::Province && u.valid_on(day))
        .cloned()
        .collect();
    provinces.sort_by(|a, b| a.code.cmp(&b.code));
    let mut communes: Vec<AdminUnit> = official
        .units
        .iter()
        .filter(|u| u.level == UnitLevel::Commune && u.valid_on(day))
        .cloned()
        .collect();
    communes.sort_by(|a, b| a.code.cmp(&b.code));
    Ok((provinces, communes))
}

#[derive(Serialize)]
pub struct ComputedReport {
    pub beneficiaries: usize,
    pub provinces: usize,
    pub communes: usize,
    pub points: usize,
    pub compile_seconds: f64,
    pub lines: usize,
    pub total_vnd: i64,
    /// Best of three passes on one core.
    pub one_core_seconds: f64,
    pub one_core_lines_per_second: f64,
    /// Best of three passes, the register split across the machine's cores.
    pub all_cores: usize,
    pub all_cores_seconds: f64,
    pub all_cores_lines_per_second: f64,
    pub peak_memory_mib: Option<f64>,
}

#[derive(Serialize)]
pub struct DurableReport {
    pub db: String,
    pub backend: &'static str,
    pub beneficiaries: usize,
    pub register_seconds: f64,
    pub offices: usize,
    pub lines: i64,
    pub total_vnd: i64,
    /// The register read from the database and compiled into memory, as a server does as it
    /// starts (`Cycle::load_register`).
    pub register_read_seconds: f64,
    /// Every office's month generated and written in one go, the register in memory: a month's
    /// first generation on a running server.
    pub first_seconds: f64,
    /// The two together: the first generation of a process just started.
    pub cold_seconds: f64,
    /// The same again (the drafts regenerated), the register already in memory. No line
    /// changed: on SQLite each row is written over with what it holds, which SQLite compares and
    /// leaves, so this is not a figure of lines written there (PostgreSQL deletes the rows and
    /// inserts them again).
    pub again_seconds: f64,
    pub again_lines_per_second: f64,
    /// Lines written and made durable a second: those of the first generation, every line a new
    /// row, the register in memory.
    pub durable_lines_per_second: f64,
    /// The same, the register read first (`cold_seconds`).
    pub cold_lines_per_second: f64,
    pub peak_memory_mib: Option<f64>,
    /// The peak of anonymous memory during the durable part (see [`AnonPeak`]).
    pub peak_anonymous_mib: Option<f64>,
}

#[derive(Serialize)]
pub struct PayrollBench {
    pub computed: ComputedReport,
    pub durable: Option<DurableReport>,
}

/// The computed part: the register compiled in memory, a month's lines computed from it.
fn computed(n: usize, rules: &RuleBook) -> Result<ComputedReport, Failure> {
    let (provinces, communes) = national_communes()?;
    let month = Period::new(MONTH.0, MONTH.1)?;
    let engine = Engine::new(rules);
    let mut rng = Rng(0x0042_454E_4348);
    let started = Instant::now();
    let mut register = Register::default();
    for i in 0..n {
        let s = synthetic(&mut rng, communes.len());
        let id = i as i64 + 1;
        let b = Beneficiary {
            id,
            code: String::new(),
            program: Program::SocialAssistance,
            full_name: String::new(),
            birth_date: s.birth,
            sex: s.sex,
            citizen_id: citizen_id(&s, i)?,
            addresses: vec![AddressSpell {
                from: month,
                commune: CommuneCode::parse(&communes[s.commune].code)?,
                hamlet: None,
                street: None,
                facility_id: None,
            }],
            payment_point_id: Some((s.commune * 3 + s.point_in_commune) as i64 + 1),
            home_delivery: None,
            bank_account: None,
        };
        let d = Decision {
            id,
            beneficiary_id: id,
            recorded_on: plus_days(month.prev().first_day(), 19),
            terms: grant(&s, month),
        };
        register.push(&engine, &b, std::slice::from_ref(&d), false);
    }
    let compile = started.elapsed();
    let empty_owed = Default::default();
    let empty_months = Default::default();
    let generation = Generation {
        period: month,
        since: chitra_core::calc::day_ix(month.prev().first_day()),
        until: chitra_core::calc::day_ix(month.first_day()),
        previous: &[],
        returned_owed: &empty_owed,
        returned_months: &empty_months,
    };
    let overflow = |_| Failure::Other("amounts out of range".into());
    let mut one = Duration::MAX;
    let mut lines = 0;
    let mut total = Dong(0);
    for _ in 0..3 {
        let mut out: Vec<Line> = Vec::with_capacity(n);
        let t = Instant::now();
        payroll::generate(
            &engine,
            &register,
            register.persons.iter(),
            &generation,
            &mut out,
        )
        .map_err(overflow)?;
        one = one.min(t.elapsed());
        lines = out.len();
        total = Dong::try_sum(out.iter().map(|l| l.total)).map_err(overflow)?;
    }
    let cores = std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(1);
    let mut all = Duration::MAX;
    for _ in 0..3 {
        let chunk = register.persons.len().div_ceil(cores).max(1);
        let t = Instant::now();
        let counts: Vec<usize> = std::thread::scope(|scope| {
            let handles: Vec<_> = register
                .persons
                .chunks(chunk)
                .map(|part| {
                    let (engine, register, generation) = (&engine, &register, &generation);
                    scope.spawn(move || {
                        let mut out = Vec::with_capacity(part.len());
                        payroll::generate(engine, register, part.iter(), generation, &mut out)
                            .map(|()| out.len())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().ok().and_then(|r| r.ok()).unwrap_or(0))
                .collect()
        });
        all = all.min(t.elapsed());
        if counts.iter().sum::<usize>() != lines {
            return Err(Failure::Other(
                "the split computation made another number of lines".into(),
            ));
        }
    }
    Ok(ComputedReport {
        beneficiaries: n,
        provinces: provinces.len(),
        communes: communes.len(),
        points: POINTS,
        compile_seconds: compile.as_secs_f64(),
        lines,
        total_vnd: total.get(),
        one_core_seconds: one.as_secs_f64(),
        one_core_lines_per_second: per_second(lines, one),
        all_cores: cores,
        all_cores_seconds: all.as_secs_f64(),
        all_cores_lines_per_second: per_second(lines, all),
        peak_memory_mib: peak_mib(),
    })
}

/// The durable part: the same kind of register in a store, each province's payroll generated and
/// written with its journal entry.
async fn durable(g: &Global, n: usize) -> Result<DurableReport, Failure> {
    let anon = AnonPeak::start();
    let store = crate::commands::open(g, OpenMode::Create).await?;
    if store.health().await?.beneficiaries > 0 {
        return Err(FieldError::new(
            "db",
            format!(
                "{} already holds a register: the bench needs an empty database",
                g.db
            ),
        )
        .into());
    }
    initialise(store.as_ref(), g).await?;
    let month = Period::new(MONTH.0, MONTH.1)?;
    let setup_day = plus_days(month.prev().first_day(), 19);
    let c = |why: &str| Change::on(g.actor.clone(), why, setup_day);
    store.set_setting(&c("bench data"), "demo", "true").await?;
    let (provinces, communes) = national_communes()?;
    let mut offices = Vec::new();
    for p in &provinces {
        let office = store
            .add_office(
                &c("bench offices"),
                &NewOffice {
                    kind: OfficeKind::Department,
                    name: format!("Sở Y tế {}", p.name),
                    unit_code: p.code.clone(),
                    valid_from: None,
                    valid_to: None,
                },
            )
            .await?;
        store
            .add_contract(
                &c("bench contracts"),
                &NewContract {
                    code: format!("BĐ-{}", p.code),
                    name: format!("Hợp đồng chi trả {}", p.name),
                    office_id: office.id,
                    post_office: format!("Bưu điện {}", p.name),
                    area_code: p.code.clone(),
                    program: Program::SocialAssistance,
                    fee: FeeRule::PerBeneficiary {
                        amount: Dong(6_600),
                    },
                    advance_by_day: 25,
                    pay_from_day: 2,
                    pay_to_day: 20,
                    report_by_day: 20,
                    valid_from: month,
                    valid_to: None,
                },
            )
            .await?;
        offices.push(office.id);
    }
    // 11,000 points: three in each commune, a fourth in the first communes.
    let mut points = Vec::with_capacity(POINTS);
    for (i, commune) in communes.iter().enumerate() {
        let per = if i < POINTS - 3 * communes.len() {
            4
        } else {
            3
        };
        for k in 0..per {
            points.push(NewPaymentPoint {
                code: format!("P-{}-{k}", commune.code),
                name: format!("Điểm chi trả {} số {}", commune.name, k + 1),
                kind: if k == 0 {
                    PointKind::CommuneCulturalPostOffice
                } else {
                    PointKind::Hamlet
                },
                commune: CommuneCode::parse(&commune.code)?,
                address: commune.name.clone(),
                latitude: None,
                longitude: None,
                pay_days: (5, 10),
                opening_days: Weekdays::MON_TO_SAT,
            });
        }
    }
    let made = store
        .add_payment_points(&c("bench points"), &points)
        .await?;
    // The points of each commune, in order.
    let point_ids: Vec<i64> = made.iter().map(|p| p.id).collect();
    let first_point = |commune: usize| {
        let extra = POINTS - 3 * communes.len();
        commune * 3 + commune.min(extra)
    };

    let started = Instant::now();
    let mut rng = Rng(0x0042_454E_4348);
    let bar = indicatif::ProgressBar::new(n as u64);
    bar.set_message("registering");
    let mut batch = Vec::with_capacity(50_000);
    for i in 0..n {
        let s = synthetic(&mut rng, communes.len());
        batch.push(NewBeneficiary {
            program: Program::SocialAssistance,
            full_name: format!("Người thụ hưởng {}", i + 1),
            birth_date: s.birth,
            sex: s.sex,
            citizen_id: citizen_id(&s, i)?,
            address: AddressSpell {
                from: month,
                commune: CommuneCode::parse(&communes[s.commune].code)?,
                hamlet: None,
                street: None,
                facility_id: None,
            },
            payment_point_id: point_ids
                .get(first_point(s.commune) + s.point_in_commune)
                .copied(),
            home_delivery: s
                .home
                .then(|| "Già yếu, không tự đến điểm chi trả".to_owned()),
            bank_account: None,
            grant: grant(&s, month),
        });
        if batch.len() == 50_000 || i + 1 == n {
            store
                .add_beneficiaries(&c("bench register"), &batch)
                .await?;
            bar.inc(batch.len() as u64);
            batch.clear();
        }
    }
    bar.finish_and_clear();
    let register = started.elapsed();

    // The month of every office at once, as a department generates it: the first time with the
    // register read into memory just before (as a server does as it starts; the two are a
    // process just started), then again (regenerating the drafts).
    let generate_all = || async {
        store
            .generate_payrolls(
                &Change::on("can.bo", "lập danh sách chi trả", plus_days(setup_day, 1)),
                &offices,
                Program::SocialAssistance,
                month,
            )
            .await
    };
    let t = Instant::now();
    store
        .load_register(Program::SocialAssistance, month)
        .await?;
    let read = t.elapsed();
    let t = Instant::now();
    let runs = generate_all().await?;
    let first = t.elapsed();
    let cold = read + first;
    let t = Instant::now();
    let again = generate_all().await?;
    let warm = t.elapsed();
    let lines: i64 = again.iter().map(|r| r.lines).sum();
    let total: i64 = again.iter().map(|r| r.total.get()).sum();
    if runs.iter().map(|r| r.lines).sum::<i64>() != lines {
        return Err(Failure::Other(
            "regenerating the drafts changed the number of lines".into(),
        ));
    }
    Ok(DurableReport {
        db: g.db.clone(),
        backend: store.backend(),
        beneficiaries: n,
        register_seconds: register.as_secs_f64(),
        offices: offices.len(),
        lines,
        total_vnd: total,
        register_read_seconds: read.as_secs_f64(),
        first_seconds: first.as_secs_f64(),
        cold_seconds: cold.as_secs_f64(),
        again_seconds: warm.as_secs_f64(),
        again_lines_per_second: lines as f64 / warm.as_secs_f64().max(1e-9),
        durable_lines_per_second: lines as f64 / first.as_secs_f64().max(1e-9),
        cold_lines_per_second: lines as f64 / cold.as_secs_f64().max(1e-9),
        peak_memory_mib: peak_mib(),
        peak_anonymous_mib: anon.stop(),
    })
}

pub async fn payroll(g: &Global, args: BenchPayroll) -> Outcome {
    if args.beneficiaries == 0 || args.beneficiaries > 20_000_000 {
        return Err(FieldError::new("beneficiaries", "between 1 and 20,000,000").into());
    }
    let rules = RuleBook::statutory()?;
    let computed = computed(args.beneficiaries, &rules)?;
    let durable = if args.computed_only {
        None
    } else {
        Some(durable(g, args.beneficiaries).await?)
    };
    let report = PayrollBench { computed, durable };
    emit(g.format, &report, || {
        let c = &report.computed;
        let mut s = format!(
            "Bench: payroll of {} for {} beneficiaries ({} provinces, {} communes, {} points)\n",
            Period::new(MONTH.0, MONTH.1)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            vnd(c.beneficiaries as i64),
            c.provinces,
            c.communes,
            c.points
        );
        s.push_str(&fields(&[
            ("compile register (s)", format!("{:.2}", c.compile_seconds)),
            ("lines", vnd(c.lines as i64)),
            ("total (đ)", vnd(c.total_vnd)),
            (
                "computed, 1 core",
                format!(
                    "{:.3} s, {} lines/s",
                    c.one_core_seconds,
                    vnd(c.one_core_lines_per_second as i64)
                ),
            ),
            (
                "computed, all cores",
                format!(
                    "{:.3} s on {} cores, {} lines/s",
                    c.all_cores_seconds,
                    c.all_cores,
                    vnd(c.all_cores_lines_per_second as i64)
                ),
            ),
            (
                "peak memory (MiB)",
                c.peak_memory_mib
                    .map(|m| format!("{m:.0}"))
                    .unwrap_or_default(),
            ),
        ]));
        if let Some(d) = &report.durable {
            s.push_str(&fields(&[
                ("durable on", format!("{} ({})", d.backend, d.db)),
                ("register (s)", format!("{:.1}", d.register_seconds)),
                (
                    "register read into memory (s)",
                    format!("{:.2}", d.register_read_seconds),
                ),
                (
                    "generate + write, register in memory",
                    format!(
                        "{} lines in {:.2} s for {} offices: {} lines/s",
                        vnd(d.lines),
                        d.first_seconds,
                        d.offices,
                        vnd(d.durable_lines_per_second as i64)
                    ),
                ),
                (
                    "register read, then generate + write",
                    format!(
                        "{:.2} s: {} lines/s",
                        d.cold_seconds,
                        vnd(d.cold_lines_per_second as i64)
                    ),
                ),
                (
                    "generate again, register in memory, no line changed",
                    format!(
                        "{} lines in {:.2} s: {} lines/s",
                        vnd(d.lines),
                        d.again_seconds,
                        vnd(d.again_lines_per_second as i64)
                    ),
                ),
                (
                    "peak memory (MiB), resident",
                    d.peak_memory_mib
                        .map(|m| format!("{m:.0} (the database file's mapped pages included)"))
                        .unwrap_or_default(),
                ),
                (
                    "peak memory (MiB), anonymous",
                    d.peak_anonymous_mib
                        .map(|m| format!("{m:.0} (sampled every 10 ms)"))
                        .unwrap_or_default(),
                ),
            ]));
        }
        s
    })
}

#[derive(Serialize)]
pub struct ReconcileBench {
    pub db: String,
    pub backend: &'static str,
    pub period: Period,
    pub lines: i64,
    pub payments: usize,
    pub pay_seconds: f64,
    pub payments_per_second: f64,
    pub close_seconds: f64,
    /// Best of three: the settlement (per contract and per point sums).
    pub per_point_sums_seconds: f64,
    /// Best of three: the three-way match of lines, payments and transfers.
    pub three_way_seconds: f64,
    pub mismatches: usize,
    pub balances: bool,
    pub peak_memory_mib: Option<f64>,
}

/// The bench month's runs on the database `bench payroll` made, each approved, funded and opened
/// (as far as it was not yet): ready to be paid.
async fn month_to_pay(store: &dyn Store, g: &Global) -> Result<Vec<Run>, Failure> {
    let month = Period::new(MONTH.0, MONTH.1)?;
    let runs = store.runs(Some(month)).await?;
    if runs.is_empty() {
        return Err(FieldError::new(
            "db",
            format!(
                "{} has no payroll for {month}: run `chitra bench payroll --db {}` first",
                g.db, g.db
            ),
        )
        .into());
    }
    let day = |d: u32| plus_days(month.first_day(), d - 1);
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        use chitra_core::payroll::RunState;
        // Each step answers with the run as it now stands.
        let mut run = run;
        if run.state == RunState::Draft {
            run = store
                .approve_payroll(&Change::on("truong.phong", "duyệt", day(1)), run.id)
                .await?;
        }
        if run.state == RunState::Approved {
            run = store
                .fund_payroll(&Change::on("ke.toan", "chuyển kinh phí", day(1)), run.id)
                .await?;
        }
        if run.state == RunState::Funded {
            run = store
                .open_payroll(&Change::on("buu.dien", "bắt đầu chi trả", day(2)), run.id)
                .await?;
        }
        out.push(run);
    }
    Ok(out)
}

/// The citizen IDs of the register `bench payroll` made, by beneficiary id (from 1): the same
/// synthetic people again, from the same seed.
fn bench_citizen_ids(n: usize) -> Result<Vec<CitizenId>, Failure> {
    let (_, communes) = national_communes()?;
    let mut rng = Rng(0x0042_454E_4348);
    (0..n)
        .map(|i| Ok(citizen_id(&synthetic(&mut rng, communes.len()), i)?))
        .collect()
}

/// A payment of a due line as an agent records it: most beneficiaries show their own citizen ID,
/// some send a proxy; the frail are paid at home.
fn bench_payment(
    l: &DueLine,
    ids: &[CitizenId],
    rng: &mut Rng,
    paid_at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<NewPayment, Failure> {
    let own = usize::try_from(l.beneficiary_id - 1)
        .ok()
        .and_then(|i| ids.get(i))
        .ok_or_else(|| {
            Failure::Other(format!(
                "beneficiary {} is not one `bench payroll` registered",
                l.beneficiary_id
            ))
        })?;
    let identity = if rng.chance(0.05) {
        // Proxies from a pool: a few collect for several people.
        let n = rng.below(200_000);
        Identity::proxy(
            &format!("Người nhận thay {n}"),
            &format!("0790{:08}", n),
            &format!("UQ-{n}"),
            "UBND xã",
            NaiveDate::from_ymd_opt(MONTH.0, MONTH.1, 28).unwrap_or_default(),
        )?
    } else {
        Identity::CitizenId {
            number: own.clone(),
        }
    };
    let location = if l.home_delivery {
        Location::parse(
            "home",
            Some(10.0 + rng.below(10_000) as f64 / 1e4),
            Some(106.0),
        )?
    } else {
        Location::Point
    };
    Ok(NewPayment {
        id: format!("bench:{}", l.id),
        line_id: l.id,
        amount: l.total,
        paid_at,
        agent: "nv.chitra".to_owned(),
        identity,
        location,
    })
}

fn paid_at_on(day: NaiveDate) -> Result<chrono::DateTime<chrono::FixedOffset>, Failure> {
    chrono::DateTime::parse_from_rfc3339(&format!("{day}T08:30:00+07:00"))
        .map_err(|e| Failure::Other(format!("a bench time: {e}")))
}

/// On the database `bench payroll` made: the month is approved, funded, paid (nearly all lines)
/// and closed; then the settlement's per-point sums and the full three-way match are timed.
pub async fn reconcile(g: &Global, _args: BenchReconcile) -> Outcome {
    let store = crate::commands::open(g, OpenMode::Existing).await?;
    let month = Period::new(MONTH.0, MONTH.1)?;
    let runs = month_to_pay(store.as_ref(), g).await?;
    let ids = bench_citizen_ids(store.health().await?.beneficiaries as usize)?;
    let day = |d: u32| plus_days(month.first_day(), d - 1);
    let mut payments = 0usize;
    let mut pay_time = Duration::ZERO;
    let mut close_time = Duration::ZERO;
    let mut rng = Rng(0x0050_4159);
    let lines: i64 = runs.iter().map(|r| r.lines).sum();
    for run in runs {
        if run.state != chitra_core::payroll::RunState::Paying {
            continue;
        }
        let due = store.due_lines(run.id).await?;
        let mut batch = Vec::with_capacity(due.len());
        for l in &due {
            if !rng.chance(0.02) {
                batch.push(bench_payment(l, &ids, &mut rng, paid_at_on(day(5))?)?);
            }
        }
        let t = Instant::now();
        for part in batch.chunks(10_000) {
            store
                .record_payments(&Change::on("nv.chitra", "chi trả", day(5)), part)
                .await?;
        }
        pay_time += t.elapsed();
        payments += batch.len();
        let t = Instant::now();
        store
            .close_payroll(&Change::on("buu.dien", "kết thúc kỳ", day(21)), run.id)
            .await?;
        close_time += t.elapsed();
    }
    let mut sums = Duration::MAX;
    let mut three = Duration::MAX;
    let mut mismatches = 0;
    let mut balances = false;
    for _ in 0..3 {
        let t = Instant::now();
        let s = store.settlement(month).await?;
        sums = sums.min(t.elapsed());
        balances = s.balances;
        let t = Instant::now();
        let r = store.reconcile(month).await?;
        three = three.min(t.elapsed());
        mismatches = r.mismatches.len();
    }
    let report = ReconcileBench {
        db: g.db.clone(),
        backend: store.backend(),
        period: month,
        lines,
        payments,
        pay_seconds: pay_time.as_secs_f64(),
        payments_per_second: per_second(payments, pay_time),
        close_seconds: close_time.as_secs_f64(),
        per_point_sums_seconds: sums.as_secs_f64(),
        three_way_seconds: three.as_secs_f64(),
        mismatches,
        balances,
        peak_memory_mib: peak_mib(),
    };
    emit(g.format, &report, || {
        fields(&[
            ("database", format!("{} ({})", report.db, report.backend)),
            ("period", report.period.to_string()),
            ("lines", vnd(report.lines)),
            (
                "payments recorded",
                format!(
                    "{} in {:.1} s: {} /s",
                    vnd(report.payments as i64),
                    report.pay_seconds,
                    vnd(report.payments_per_second as i64)
                ),
            ),
            ("close (s)", format!("{:.2}", report.close_seconds)),
            (
                "settlement, per-point sums (s)",
                format!("{:.3}", report.per_point_sums_seconds),
            ),
            (
                "three-way match (s)",
                format!("{:.3}", report.three_way_seconds),
            ),
            ("mismatches", report.mismatches.to_string()),
            ("settlement balances", report.balances.to_string()),
            (
                "peak memory (MiB)",
                report
                    .peak_memory_mib
                    .map(|m| format!("{m:.0}"))
                    .unwrap_or_default(),
            ),
        ])
    })
}

/// One way of grouping payments into transactions, timed.
#[derive(Serialize)]
pub struct PaymentsPass {
    pub name: String,
    pub payments: usize,
    pub transactions: usize,
    pub groups: usize,
    pub seconds: f64,
    pub payments_per_second: f64,
    pub flagged: usize,
}

#[derive(Serialize)]
pub struct PaymentsBench {
    pub db: String,
    pub backend: &'static str,
    pub period: Period,
    pub lines_due: usize,
    pub order: String,
    /// Lines read into the payment writer's copy before the passes, and how long it took.
    pub warm_up_lines: usize,
    pub warm_up_seconds: f64,
    pub passes: Vec<PaymentsPass>,
    pub peak_memory_mib: Option<f64>,
}

/// Records `transactions` (each a list of groups) through the group commit; every payment must be
/// accepted.
async fn timed_pass(
    store: &dyn Store,
    name: String,
    transactions: Vec<Vec<PaymentGroup>>,
) -> Result<PaymentsPass, Failure> {
    let payments = transactions
        .iter()
        .flatten()
        .map(|g| g.payments.len())
        .sum();
    let groups = transactions.iter().map(Vec::len).sum();
    let mut flagged = 0;
    let t = Instant::now();
    // As the server's payment writer does: a transaction runs while the one before it is synced
    // to disk; the pass ends once the last is durable.
    let mut syncing: Option<Durable> = None;
    let count = transactions.len();
    for tx in transactions {
        let (answers, durable) = store.record_payment_groups_committed(tx).await?;
        if let Some(before) = syncing.replace(durable) {
            before.wait().await?;
        }
        for a in answers.iter().flatten() {
            match a {
                PaymentResult::Accepted { flags, .. } => flagged += usize::from(!flags.is_empty()),
                other => {
                    return Err(Failure::Other(format!(
                        "a bench payment was not accepted: {other:?}"
                    )));
                }
            }
        }
    }
    if let Some(last) = syncing {
        last.wait().await?;
    }
    let elapsed = t.elapsed();
    Ok(PaymentsPass {
        name,
        payments,
        transactions: count,
        groups,
        seconds: elapsed.as_secs_f64(),
        payments_per_second: per_second(payments, elapsed),
        flagged,
    })
}

/// On the database `bench payroll` made: the month's lines paid through the payment service's
/// group commit, as a busy server would — first in transactions of one group of `--batch`
/// payments (a tablet syncing, an import), then in transactions of many small groups of 1 to 50
/// (agents' requests gathered by the writer), then a few transactions of a single payment.
pub async fn payments(g: &Global, args: BenchPayments) -> Outcome {
    if args.batch == 0 || args.batch > 100_000 {
        return Err(FieldError::new("batch", "between 1 and 100,000").into());
    }
    let random = match args.order.as_str() {
        "random" => true,
        "line" => false,
        other => {
            return Err(FieldError::new(
                "order",
                format!("'{other}' is not an order: random or line"),
            )
            .into());
        }
    };
    if args.decide_chunk == Some(0) {
        return Err(FieldError::new("decide-chunk", "at least 1 payment").into());
    }
    let store = crate::commands::open(g, OpenMode::Existing).await?;
    let (from, chunk) = store.decide_beside().get();
    store.decide_beside().set(
        args.decide_beside_from.unwrap_or(from),
        args.decide_chunk.unwrap_or(chunk),
    );
    let month = Period::new(MONTH.0, MONTH.1)?;
    let runs = month_to_pay(store.as_ref(), g).await?;
    let ids = bench_citizen_ids(store.health().await?.beneficiaries as usize)?;
    let mut due = Vec::new();
    for run in &runs {
        if run.state == chitra_core::payroll::RunState::Paying {
            due.extend(store.due_lines(run.id).await?);
        }
    }
    let lines_due = due.len();
    let mut rng = Rng(0x0050_4159_4D54);
    if random {
        // Agents at thousands of points pay at once: the lines reach the writer in no order.
        for i in (1..due.len()).rev() {
            due.swap(i, rng.below(i as u64 + 1) as usize);
        }
    } else {
        due.sort_by_key(|l| l.id);
    }
    due.truncate(args.payments);
    let day = plus_days(month.first_day(), 4);
    let paid_at = paid_at_on(day)?;
    let change = |who: String| Change::on(who, "chi trả tại điểm", day);
    let mut payments = Vec::with_capacity(due.len());
    for l in &due {
        payments.push(bench_payment(l, &ids, &mut rng, paid_at)?);
    }
    // A few single payments are kept for the last pass; the rest split between the two others.
    let singles = payments.split_off(
        payments
            .len()
            .saturating_sub(2_000.min(payments.len() / 10)),
    );
    let small = payments.split_off(payments.len() / 2);
    let large = payments;

    // What `chitra serve` does before it listens: the payment writer reads the lines being paid.
    let (warm_up_lines, warm_up_seconds) = if args.cold {
        (0, 0.0)
    } else {
        let t = Instant::now();
        let kept = store.warm_up_payments().await?;
        (kept, t.elapsed().as_secs_f64())
    };
    let mut passes = Vec::new();
    let batches: Vec<Vec<PaymentGroup>> = large
        .chunks(args.batch)
        .map(|c| {
            vec![PaymentGroup {
                change: change("nv.dong.bo".into()),
                within: Within::Anywhere,
                payments: c.to_vec(),
            }]
        })
        .collect();
    passes.push(
        timed_pass(
            store.as_ref(),
            format!("one group of {} per transaction", args.batch),
            batches,
        )
        .await?,
    );
    // Agents' requests of 1 to 50 payments, each scoped to its point, gathered by the writer
    // into transactions of about `--batch` payments.
    let mut transactions: Vec<Vec<PaymentGroup>> = Vec::new();
    let mut rest = small.as_slice();
    let mut current: Vec<PaymentGroup> = Vec::new();
    let mut in_current = 0;
    while !rest.is_empty() {
        let n = (1 + rng.below(50) as usize).min(rest.len());
        let (take, left) = rest.split_at(n);
        rest = left;
        let agent = format!("nv.{}", rng.below(11_000));
        current.push(PaymentGroup {
            change: change(agent),
            within: Within::Anywhere,
            payments: take.to_vec(),
        });
        in_current += n;
        if in_current >= args.batch {
            transactions.push(std::mem::take(&mut current));
            in_current = 0;
        }
    }
    if !current.is_empty() {
        transactions.push(current);
    }
    passes.push(
        timed_pass(
            store.as_ref(),
            format!("groups of 1 to 50, about {} per transaction", args.batch),
            transactions,
        )
        .await?,
    );
    let one_by_one: Vec<Vec<PaymentGroup>> = singles
        .into_iter()
        .map(|p| {
            vec![PaymentGroup {
                change: change("nv.le".into()),
                within: Within::Anywhere,
                payments: vec![p],
            }]
        })
        .collect();
    passes.push(
        timed_pass(
            store.as_ref(),
            "one payment per transaction".into(),
            one_by_one,
        )
        .await?,
    );
    let report = PaymentsBench {
        db: g.db.clone(),
        backend: store.backend(),
        period: month,
        lines_due,
        order: args.order.clone(),
        warm_up_lines,
        warm_up_seconds,
        passes,
        peak_memory_mib: peak_mib(),
    };
    emit(g.format, &report, || {
        let mut t = Table::new(&[
            "pass",
            "payments",
            "transactions",
            "groups",
            "seconds",
            "payments/s",
            "flagged",
        ])
        .numeric(&[1, 2, 3, 4, 5, 6]);
        for p in &report.passes {
            t.row(vec![
                p.name.clone(),
                vnd(p.payments as i64),
                vnd(p.transactions as i64),
                vnd(p.groups as i64),
                format!("{:.2}", p.seconds),
                vnd(p.payments_per_second as i64),
                vnd(p.flagged as i64),
            ]);
        }
        format!(
            "{}{}",
            fields(&[
                ("database", format!("{} ({})", report.db, report.backend)),
                ("period", report.period.to_string()),
                ("lines due", vnd(report.lines_due as i64)),
                ("order", report.order.clone()),
                (
                    "warm-up",
                    if args.cold {
                        "none (--cold)".to_owned()
                    } else {
                        format!(
                            "{} lines read into the payment writer's copy in {:.2} s",
                            vnd(report.warm_up_lines as i64),
                            report.warm_up_seconds
                        )
                    },
                ),
                (
                    "peak memory (MiB)",
                    report
                        .peak_memory_mib
                        .map(|m| format!("{m:.0}"))
                        .unwrap_or_default(),
                ),
            ]),
            t.render()
        )
    })
}
