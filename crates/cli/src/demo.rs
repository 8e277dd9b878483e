//! `chitra demo`: a province to try chitra on.
//!
//! The administrative units are the real ones of Bến Tre (province 83: 9 districts and their
//! communes, from the official code list); the offices follow them; the 201 payment points are of
//! the kinds the post office uses. The people are synthetic: generated Vietnamese names, ages and
//! categories in a realistic mix, registered with real decisions that the core checks. The demo
//! then lives January 2018 to December 2020 month by month: each month's payroll is computed from
//! the register by the core (until the monthly cycle lands, every line is recorded as paid), then
//! the month's events are recorded as decisions: new grants, deaths (some reported late), children
//! reaching 16, people leaving, suspensions and their resumption.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use chitra_core::contract::{FeeRule, NewContract};
use chitra_core::decision::{DecisionKind, NewDecision};
use chitra_core::ids::{CitizenId, CommuneCode};
use chitra_core::office::{NewPaymentPoint, Office, OfficeKind, PaymentPoint, PointKind};
use chitra_core::payment::{Identity, Location};
use chitra_core::payroll::Channel;
use chitra_core::period::age_in;
use chitra_core::register::{AddressSpell, BankAccount, NewBeneficiary, Sex};
use chitra_core::units::{AdminUnit, UnitLevel, UnitTree};
use chitra_core::{Dong, FieldError, Period, Program};
use chitra_store::cycle::{NewPayment, PaymentResult};
use chitra_store::{BeneficiaryFile, Change, DecisionFor, NewFacility, NewOffice, OpenMode, Store};
use chrono::{Datelike, NaiveDate};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::commands::initialise;
use crate::output::{Failure, Outcome, emit, fields, vnd};
use crate::{DemoArgs, Global};

const PROVINCE: &str = "83";
const FIRST: (i32, u32) = (2018, 1);
const LAST: (i32, u32) = (2020, 12);
/// Beneficiaries on the register when the demo starts.
const INITIAL: usize = 46_000;
/// New grants per month, on average.
const NEW_PER_MONTH: u64 = 600;
const POINTS: usize = 201;
/// Who does what in the demo's cycle: the district officer prepares, the head of office approves
/// (a second person), the post office pays and closes.
const MAKER: &str = "can.bo.ldtbxh";
const CHECKER: &str = "truong.phong.ldtbxh";
const POST: &str = "buu.dien.tinh";
/// The password of the demo's users (printed at the end of the demo, said in the README).
pub const DEMO_PASSWORD: &str = "chitra-demo-2018";

/// A small, fast, reproducible generator (SplitMix64): the same seed builds the same province.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }

    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    fn weighted<'a, T>(&mut self, xs: &'a [(T, u32)]) -> &'a T {
        let total: u64 = xs.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (x, w) in xs {
            if r < u64::from(*w) {
                return x;
            }
            r -= u64::from(*w);
        }
        &xs[xs.len() - 1].0
    }
}

const FAMILY: &[(&str, u32)] = &[
    ("Nguyễn", 310),
    ("Trần", 110),
    ("Lê", 90),
    ("Phạm", 60),
    ("Huỳnh", 60),
    ("Võ", 50),
    ("Phan", 40),
    ("Trương", 30),
    ("Bùi", 20),
    ("Đặng", 20),
    ("Đỗ", 20),
    ("Ngô", 20),
    ("Hồ", 20),
    ("Dương", 20),
    ("Lý", 10),
    ("Đinh", 10),
    ("Lâm", 10),
    ("Mai", 10),
    ("Châu", 10),
    ("Lương", 10),
    ("Đoàn", 10),
    ("Tô", 10),
    ("Cao", 10),
    ("Thái", 10),
];
const MIDDLE_MALE: &[(&str, u32)] = &[
    ("Văn", 60),
    ("Hữu", 8),
    ("Minh", 6),
    ("Thanh", 6),
    ("Công", 4),
    ("Quốc", 4),
    ("Đức", 3),
    ("Hoàng", 3),
    ("Ngọc", 3),
    ("Tấn", 3),
];
const MIDDLE_FEMALE: &[(&str, u32)] = &[
    ("Thị", 70),
    ("Ngọc", 6),
    ("Kim", 6),
    ("Thanh", 5),
    ("Thu", 4),
    ("Mỹ", 3),
    ("Bích", 3),
    ("Hồng", 3),
];
const GIVEN_MALE: &[&str] = &[
    "Ân", "Ba", "Bảy", "Bình", "Chín", "Cường", "Dũng", "Đạt", "Đức", "Được", "Hai", "Hải", "Hiếu",
    "Hòa", "Hùng", "Hưng", "Khải", "Khánh", "Lâm", "Lộc", "Lợi", "Long", "Minh", "Mười", "Nam",
    "Năm", "Nghĩa", "Nhân", "Phúc", "Phước", "Quang", "Sang", "Sáu", "Sơn", "Tài", "Tám", "Tâm",
    "Thành", "Thắng", "Thanh", "Thiện", "Thông", "Tín", "Toàn", "Trí", "Trung", "Tuấn", "Út",
    "Vinh", "Vũ",
];
const GIVEN_FEMALE: &[&str] = &[
    "An",
    "Anh",
    "Ánh",
    "Bé",
    "Bích",
    "Cúc",
    "Diệp",
    "Dung",
    "Đào",
    "Gấm",
    "Hà",
    "Hạnh",
    "Hằng",
    "Hoa",
    "Hồng",
    "Huệ",
    "Hương",
    "Lài",
    "Lan",
    "Lệ",
    "Liên",
    "Liễu",
    "Loan",
    "Lựu",
    "Mai",
    "Mận",
    "My",
    "Nga",
    "Ngọc",
    "Nhung",
    "Nở",
    "Phượng",
    "Sen",
    "Sương",
    "Thảo",
    "Thắm",
    "Thu",
    "Thủy",
    "Trang",
    "Trinh",
    "Tuyết",
    "Út",
    "Vân",
    "Xuân",
    "Yến",
];

/// Approximate centres of Bến Tre's districts, for the payment points' coordinates.
const CENTRES: &[(&str, f64, f64)] = &[
    ("829", 10.2434, 106.3756),
    ("831", 10.3000, 106.3500),
    ("832", 10.2667, 106.1333),
    ("833", 10.0833, 106.3333),
    ("834", 10.1500, 106.4667),
    ("835", 10.1833, 106.7000),
    ("836", 10.0333, 106.6000),
    ("837", 9.9500, 106.5500),
    ("838", 10.1667, 106.2833),
];

/// A kind of person the demo registers: their first category, ages (at registration, in weighted
/// bands) and whether they live in a facility.
#[derive(Clone, Copy)]
struct Profile {
    category: &'static str,
    ages: &'static [(i64, i64, u32)],
    facility: bool,
}

const ELDERLY_80: &[(i64, i64, u32)] = &[(80, 84, 50), (85, 89, 32), (90, 99, 18)];
const TURNING_80: &[(i64, i64, u32)] = &[(80, 80, 1)];
const DISABLED: &[(i64, i64, u32)] = &[(5, 15, 8), (16, 59, 70), (60, 90, 22)];
const ELDERLY: &[(i64, i64, u32)] = &[(61, 79, 60), (80, 95, 40)];
const CHILD: &[(i64, i64, u32)] = &[(0, 15, 1)];
const YOUTH: &[(i64, i64, u32)] = &[(17, 22, 1)];
const PARENT: &[(i64, i64, u32)] = &[(22, 50, 1)];
const ADULT: &[(i64, i64, u32)] = &[(20, 60, 1)];
const OLD: &[(i64, i64, u32)] = &[(65, 90, 1)];
const YOUNG_CHILD: &[(i64, i64, u32)] = &[(1, 12, 1)];

const fn profile(category: &'static str, ages: &'static [(i64, i64, u32)]) -> Profile {
    Profile {
        category,
        ages,
        facility: false,
    }
}

const fn in_facility(category: &'static str, ages: &'static [(i64, i64, u32)]) -> Profile {
    Profile {
        category,
        ages,
        facility: true,
    }
}

/// The register as the demo starts (weights per thousand).
const STOCK: &[(Profile, u32)] = &[
    (profile("K5c", ELDERLY_80), 760),
    (profile("K6b", DISABLED), 125),
    (profile("K6a", DISABLED), 30),
    (profile("K5a", ELDERLY), 25),
    (profile("K4", PARENT), 20),
    (profile("K1", CHILD), 15),
    (profile("K8", ADULT), 8),
    (profile("K2", YOUTH), 4),
    (profile("K5d", OLD), 2),
    (profile("K3", YOUNG_CHILD), 1),
    (in_facility("K1", CHILD), 5),
    (in_facility("K5a", ELDERLY), 5),
];

/// New grants of a month (weights per thousand).
const NEW: &[(Profile, u32)] = &[
    (profile("K5c", TURNING_80), 680),
    (profile("K6b", DISABLED), 165),
    (profile("K6a", DISABLED), 35),
    (profile("K5a", ELDERLY), 30),
    (profile("K4", PARENT), 25),
    (profile("K1", CHILD), 25),
    (profile("K8", ADULT), 15),
    (profile("K5d", OLD), 3),
    (profile("K3", YOUNG_CHILD), 3),
    (in_facility("K1", CHILD), 7),
    (in_facility("K5a", ELDERLY), 7),
];

/// Where people live: a commune with its district, hamlets, payment points, and a weight.
struct Commune {
    unit: AdminUnit,
    district: String,
    hamlets: Vec<String>,
    points: Vec<i64>,
    weight: u32,
}

/// A person on the demo's register, as the demo follows them.
struct Person {
    file: BeneficiaryFile,
    /// The demo decided this person's end (death, leaving); no further events.
    ended: bool,
    /// When the demo made them die (the register learns it from the death decision).
    died: Option<NaiveDate>,
    /// Away and not collecting until this month.
    absent_until: Option<Period>,
}

/// A decision the demo will record in the month it is signed.
struct Pending {
    person: usize,
    decision: NewDecision,
}

#[derive(Serialize)]
struct DemoReport {
    db: String,
    seed: u64,
    seconds: f64,
    months: usize,
    offices: usize,
    payment_points: usize,
    facilities: usize,
    beneficiaries: usize,
    decisions: usize,
    lines_paid: usize,
    paid_vnd: i64,
    /// Who can sign in to the web interface, all with `DEMO_PASSWORD`.
    users: Vec<DemoUser>,
}

#[derive(Serialize)]
struct DemoUser {
    username: String,
    role: String,
    scope: String,
}

pub async fn run(g: &Global, args: DemoArgs) -> Outcome {
    let started = Instant::now();
    let is_postgres = g.db.starts_with("postgres://") || g.db.starts_with("postgresql://");
    if !is_postgres {
        let path = Path::new(g.db.strip_prefix("sqlite://").unwrap_or(&g.db));
        if path.exists() {
            if !args.force {
                return Err(FieldError::new(
                    "db",
                    format!(
                        "{} already exists: the demo builds a new database; choose another --db, or add --force to replace it",
                        path.display()
                    ),
                )
                .into());
            }
            for suffix in ["", "-wal", "-shm"] {
                let p = format!("{}{suffix}", path.display());
                if Path::new(&p).exists() {
                    std::fs::remove_file(&p)
                        .map_err(|e| Failure::Other(format!("cannot remove {p}: {e}")))?;
                }
            }
        }
    }
    let last = match args.to.as_deref() {
        None => Period::new(LAST.0, LAST.1)?,
        Some(s) => {
            let p = Period::parse(s).map_err(|e| e.renamed("to"))?;
            let (first, end) = (Period::new(FIRST.0, FIRST.1)?, Period::new(LAST.0, LAST.1)?);
            if p < first || p > end {
                return Err(FieldError::new(
                    "to",
                    format!("{p} is outside the demo's years: {first} to {end}"),
                )
                .into());
            }
            p
        }
    };
    let store = crate::commands::open(g, OpenMode::Create).await?;
    if store.health().await?.beneficiaries > 0 {
        return Err(FieldError::new(
            "db",
            format!(
                "{} already holds a register: the demo needs an empty database",
                g.db
            ),
        )
        .into());
    }
    let progress = ProgressBar::new_spinner().with_message("loading units and rules");
    progress.enable_steady_tick(std::time::Duration::from_millis(120));
    initialise(store.as_ref(), g).await?;
    let c = |why: &str| Change::now(g.actor.clone(), why);
    store.set_setting(&c("demo data"), "demo", "true").await?;
    store
        .set_setting(&c("demo province"), "province", PROVINCE)
        .await?;
    store
        .set_setting(&c("demo seed"), "demo_seed", &args.seed.to_string())
        .await?;

    let mut rng = Rng(args.seed);
    let tree = store.unit_tree().await?;
    let first = Period::new(FIRST.0, FIRST.1)?;
    let day = first.first_day();

    progress.set_message("offices, facilities, hamlets and payment points");
    let province = tree
        .at(UnitLevel::Province, PROVINCE, day)
        .ok_or_else(|| Failure::Other(format!("province {PROVINCE} is not in the official units")))?
        .clone();
    let districts: Vec<AdminUnit> = tree.children(&province, day).into_iter().cloned().collect();
    let offices = add_offices(store.as_ref(), g, &province, &districts).await?;
    let mut communes = communes_of(&tree, &districts, day, &mut rng);
    add_hamlets(store.as_ref(), g, &mut communes).await?;
    let points = add_points(store.as_ref(), g, &mut communes, &mut rng).await?;
    let facilities = [
        store
            .add_facility(
                &c("demo facility"),
                &NewFacility {
                    code: "BTXH-83-01".into(),
                    name: "Trung tâm Bảo trợ xã hội tổng hợp tỉnh".into(),
                    commune: CommuneCode::parse(&communes[0].unit.code)?,
                },
            )
            .await?,
        store
            .add_facility(
                &c("demo facility"),
                &NewFacility {
                    code: "BTXH-83-02".into(),
                    name: "Cơ sở chăm sóc người cao tuổi Ba Tri".into(),
                    commune: CommuneCode::parse(
                        &communes
                            .iter()
                            .find(|c| c.district == "836")
                            .unwrap_or(&communes[0])
                            .unit
                            .code,
                    )?,
                },
            )
            .await?,
    ];
    let facility_communes: Vec<(i64, usize)> = facilities
        .iter()
        .map(|f| {
            (
                f.id,
                communes
                    .iter()
                    .position(|c| c.unit.code == f.commune.as_str())
                    .unwrap_or(0),
            )
        })
        .collect();

    let department = offices
        .iter()
        .find(|o| o.kind == OfficeKind::Department)
        .map(|o| o.id)
        .unwrap_or(1);
    store
        .add_contract(
            &c("demo payment contract"),
            &NewContract {
                code: "BT-BĐ-2018".into(),
                name: "Hợp đồng chi trả chính sách trợ giúp xã hội qua hệ thống bưu điện".into(),
                office_id: department,
                post_office: "Bưu điện tỉnh Bến Tre".into(),
                area_code: PROVINCE.into(),
                program: Program::SocialAssistance,
                // The example in force in DESIGN.md §4 (Ho Chi Minh City): 6,600 đồng per beneficiary paid.
                fee: FeeRule::PerBeneficiary {
                    amount: Dong(6_600),
                },
                advance_by_day: 25,
                pay_from_day: 2,
                pay_to_day: 20,
                report_by_day: 20,
                valid_from: first,
                valid_to: None,
            },
        )
        .await?;

    let mut world = World {
        rng,
        communes,
        facility_communes,
        persons: Vec::new(),
        by_id: HashMap::new(),
        by_code: HashMap::new(),
        pending: Vec::new(),
        next_citizen: 1,
        resumes: Vec::new(),
    };

    progress.set_message(format!("registering {INITIAL} beneficiaries"));
    let batch: Vec<(NewBeneficiary, Option<NewDecision>)> = (0..INITIAL)
        .map(|_| world.initial_person(first))
        .collect::<Result<_, Failure>>()?;
    let t = Instant::now();
    // Registered as they were: each in the month its grant was signed, so that the payrolls know
    // them from then and owe no arrears for the years before the demo starts.
    let mut by_month: BTreeMap<Period, Vec<(NewBeneficiary, Option<NewDecision>)>> =
        BTreeMap::new();
    for item in batch {
        by_month
            .entry(Period::of(item.0.grant.signed_on))
            .or_default()
            .push(item);
    }
    for (month, people) in by_month {
        world
            .register(
                store.as_ref(),
                g,
                people,
                "demo: register as it stood",
                month.last_day(),
            )
            .await?;
    }
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "demo initial register");
    progress.finish_and_clear();

    let months: Vec<Period> = first.through(last).collect();
    let bar = ProgressBar::new(months.len() as u64).with_style(
        ProgressStyle::with_template("{prefix} [{bar:36}] {pos}/{len} {msg}")
            .map_err(|e| Failure::Other(e.to_string()))?
            .progress_chars("=> "),
    );
    bar.set_prefix("chi trả (paying)");
    let district_offices: Vec<i64> = offices
        .iter()
        .filter(|o| o.kind == OfficeKind::DistrictOffice)
        .map(|o| o.id)
        .collect();
    let mut open_runs: Vec<i64> = Vec::new();
    for m in &months {
        bar.set_message(m.to_string());
        let prev = m.prev();
        let on = |p: Period, d: u32| {
            NaiveDate::from_ymd_opt(p.year(), p.month(), d).unwrap_or(p.last_day())
        };
        // The month before: decisions signed by the 20th are in; its payroll closes on the 21st.
        world
            .record_pending(store.as_ref(), g, on(prev, 20))
            .await?;
        world
            .close(store.as_ref(), g, &open_runs, on(prev, 21))
            .await?;
        // This month's list, made on the 21st, approved by a second person, funded by the 25th.
        open_runs.clear();
        for office in &district_offices {
            let run = store
                .generate_payroll(
                    &Change::on(MAKER, "lập danh sách chi trả", on(prev, 21)),
                    *office,
                    Program::SocialAssistance,
                    *m,
                )
                .await?;
            store
                .approve_payroll(
                    &Change::on(CHECKER, "duyệt danh sách chi trả", on(prev, 22)),
                    run.id,
                )
                .await?;
            store
                .fund_payroll(
                    &Change::on(MAKER, "chuyển kinh phí cho bưu điện", on(prev, 24)),
                    run.id,
                )
                .await?;
            store
                .open_payroll(
                    &Change::on(POST, "nhận kinh phí, chuyển về các điểm chi trả", on(*m, 2)),
                    run.id,
                )
                .await?;
            open_runs.push(run.id);
        }
        world.pay(store.as_ref(), g, &open_runs, *m).await?;
        world.live(store.as_ref(), g, *m).await?;
        bar.inc(1);
    }
    let on =
        |p: Period, d: u32| NaiveDate::from_ymd_opt(p.year(), p.month(), d).unwrap_or(p.last_day());
    world
        .record_pending(store.as_ref(), g, on(last, 20))
        .await?;
    world
        .close(store.as_ref(), g, &open_runs, on(last, 21))
        .await?;
    // Decisions of late 2020 recorded in 2021.
    let mut m = last;
    while !world.pending.is_empty() {
        m = m.next();
        world
            .record_pending(store.as_ref(), g, m.last_day())
            .await?;
    }
    bar.finish_and_clear();
    let summary = store.summary(first, last).await?;
    let (lines_paid, paid_vnd) = (summary.lines_paid as usize, summary.total_paid_vnd);
    let users = add_users(store.as_ref(), g, &offices, &world.communes, &points).await?;

    let report = DemoReport {
        db: g.db.clone(),
        seed: args.seed,
        seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        months: months.len(),
        offices: offices.len(),
        payment_points: points.len(),
        facilities: facilities.len(),
        beneficiaries: world.persons.len(),
        decisions: world.persons.iter().map(|p| p.file.decisions.len()).sum(),
        lines_paid,
        paid_vnd,
        users,
    };
    emit(g.format, &report, || {
        let mut s = String::from(
            "DỮ LIỆU MẪU — demo province built (synthetic people on the real units of Bến Tre)\n",
        );
        s.push_str(&fields(&[
            ("Cơ sở dữ liệu (database)", report.db.clone()),
            ("Thời gian (time)", format!("{} s", report.seconds)),
            (
                "Kỳ chi trả (months)",
                format!("{} ({first} – {last})", report.months),
            ),
            ("Đơn vị quản lý (offices)", report.offices.to_string()),
            (
                "Điểm chi trả (payment points)",
                report.payment_points.to_string(),
            ),
            ("Cơ sở bảo trợ (facilities)", report.facilities.to_string()),
            (
                "Đối tượng (beneficiaries)",
                vnd(report.beneficiaries as i64),
            ),
            ("Quyết định (decisions)", vnd(report.decisions as i64)),
            ("Dòng đã chi (lines paid)", vnd(report.lines_paid as i64)),
            ("Tổng đã chi (paid, đ)", vnd(report.paid_vnd)),
        ]));
        s.push_str(&format!(
            "\nNgười dùng (users), mật khẩu (password) {DEMO_PASSWORD}:\n"
        ));
        for u in &report.users {
            s.push_str(&format!(
                "  {:<22} {:<18} {}\n",
                u.username, u.role, u.scope
            ));
        }
        s.push_str(&format!(
            "\nNext: chitra report summary --db {} --from {first} --to {last}\n      chitra serve --db {}   (then open http://127.0.0.1:8080)\n",
            report.db, report.db
        ));
        s
    })
}

/// The users of the demo, named as the demo's journal names them: the department's officer who
/// prepares the lists and the head of office who approves them, the provincial post office, the
/// agent of one point (`nv.chitra.ID`, as the demo's payments record), an inspector and an
/// administrator.
async fn add_users(
    store: &dyn Store,
    g: &Global,
    offices: &[Office],
    communes: &[Commune],
    points: &[PaymentPoint],
) -> Result<Vec<DemoUser>, Failure> {
    use chitra_core::access::{Role, Scope};
    // The agent's point: the first point of the first district office's district, so that the
    // first office's payroll has lines to pay there.
    let district = offices
        .iter()
        .filter(|o| o.kind == OfficeKind::DistrictOffice)
        .min_by_key(|o| o.id)
        .map(|o| o.unit_code.clone())
        .unwrap_or_default();
    let point = points
        .iter()
        .filter(|p| {
            communes
                .iter()
                .any(|c| c.unit.code == p.commune.as_str() && c.district == district)
        })
        .min_by_key(|p| p.id)
        .or_else(|| points.first())
        .map(|p| p.id)
        .ok_or_else(|| Failure::Other("the demo has no payment point".into()))?;
    let province = Scope::Province(PROVINCE.to_owned());
    let agent = format!("nv.chitra.{point}");
    let plan = [
        ("admin", "Quản trị hệ thống", Role::Admin, Scope::Country),
        (
            MAKER,
            "Cán bộ Sở LĐTBXH",
            Role::ProvinceOfficer,
            province.clone(),
        ),
        (
            CHECKER,
            "Trưởng phòng Bảo trợ xã hội",
            Role::ProvinceOfficer,
            province.clone(),
        ),
        (
            POST,
            "Bưu điện tỉnh Bến Tre",
            Role::PostManager,
            province.clone(),
        ),
        (
            agent.as_str(),
            "Nhân viên chi trả",
            Role::Agent,
            Scope::Point(point),
        ),
        ("thanh.tra", "Thanh tra Sở", Role::Inspector, province),
    ];
    let hash = chitra_server::auth::hash_password(DEMO_PASSWORD)?;
    let mut made = Vec::new();
    for (username, name, role, scope) in plan {
        let u = store
            .add_user(
                &Change::now(g.actor.clone(), "demo: người dùng"),
                &chitra_store::access::NewUser {
                    username: username.to_owned(),
                    display_name: name.to_owned(),
                    password_hash: hash.clone(),
                    role,
                    scope,
                },
            )
            .await?;
        made.push(DemoUser {
            username: u.username,
            role: u.role.code().to_owned(),
            scope: u.scope.to_string(),
        });
    }
    Ok(made)
}

async fn add_offices(
    store: &dyn Store,
    g: &Global,
    province: &AdminUnit,
    districts: &[AdminUnit],
) -> Result<Vec<Office>, Failure> {
    let end = NaiveDate::from_ymd_opt(2025, 6, 30);
    let change = Change::now(g.actor.clone(), "demo offices");
    let mut offices = vec![
        store
            .add_office(
                &change,
                &NewOffice {
                    kind: OfficeKind::Department,
                    name: format!(
                        "Sở Lao động - Thương binh và Xã hội {}",
                        lower_first(&province.name)
                    ),
                    unit_code: province.code.clone(),
                    valid_from: None,
                    valid_to: end,
                },
            )
            .await?,
    ];
    for d in districts {
        offices.push(
            store
                .add_office(
                    &change,
                    &NewOffice {
                        kind: OfficeKind::DistrictOffice,
                        name: format!(
                            "Phòng Lao động - Thương binh và Xã hội {}",
                            lower_first(&d.name)
                        ),
                        unit_code: d.code.clone(),
                        valid_from: None,
                        valid_to: end,
                    },
                )
                .await?,
        );
    }
    Ok(offices)
}

/// "Huyện Ba Tri" → "huyện Ba Tri", as it reads inside a sentence.
fn lower_first(name: &str) -> String {
    match name.split_once(' ') {
        Some((kind, rest)) => format!("{} {rest}", kind.to_lowercase()),
        None => name.to_owned(),
    }
}

fn communes_of(
    tree: &UnitTree,
    districts: &[AdminUnit],
    day: NaiveDate,
    rng: &mut Rng,
) -> Vec<Commune> {
    let mut out = Vec::new();
    for d in districts {
        for c in tree.children(d, day) {
            let urban = c.name.starts_with("Phường") || c.name.starts_with("Thị trấn");
            out.push(Commune {
                unit: c.clone(),
                district: d.code.clone(),
                hamlets: Vec::new(),
                points: Vec::new(),
                weight: if urban {
                    rng.range(50, 90)
                } else {
                    rng.range(70, 140)
                } as u32,
            });
        }
    }
    out
}

async fn add_hamlets(store: &dyn Store, g: &Global, communes: &mut [Commune]) -> Outcome {
    let mut units = Vec::new();
    let mut rng = Rng(0x4841_4D4C_4554);
    for c in communes.iter_mut() {
        let urban = c.unit.name.starts_with("Phường") || c.unit.name.starts_with("Thị trấn");
        let n = if urban {
            rng.range(3, 7)
        } else {
            rng.range(4, 9)
        };
        for i in 1..=n {
            let name = if urban {
                format!("Khu phố {i}")
            } else {
                format!("Ấp {i}")
            };
            units.push(AdminUnit {
                code: format!("{}-{i:02}", c.unit.code),
                level: UnitLevel::Hamlet,
                name: name.clone(),
                parent_code: Some(c.unit.code.clone()),
                valid_from: None,
                valid_to: NaiveDate::from_ymd_opt(2025, 6, 30),
            });
            c.hamlets.push(name);
        }
    }
    store
        .add_units(&Change::now(g.actor.clone(), "demo hamlets"), &units)
        .await?;
    Ok(())
}

/// One point per commune (its People's Committee office or its cultural post office), a post office
/// in each district town, post-office branches in the larger communes, and hamlet points in the
/// largest rural ones: 201 in all.
async fn add_points(
    store: &dyn Store,
    g: &Global,
    communes: &mut [Commune],
    rng: &mut Rng,
) -> Result<Vec<PaymentPoint>, Failure> {
    let urban =
        |c: &Commune| c.unit.name.starts_with("Phường") || c.unit.name.starts_with("Thị trấn");
    // (commune, kind, name, address)
    let mut plan: Vec<(usize, PointKind, String, String)> = Vec::new();
    for (i, c) in communes.iter().enumerate() {
        let place = lower_first(&c.unit.name);
        if !urban(c) && rng.chance(0.45) {
            plan.push((
                i,
                PointKind::CommuneCulturalPostOffice,
                format!("Bưu điện văn hóa {place}"),
                format!("Trung tâm {place}"),
            ));
        } else {
            plan.push((
                i,
                PointKind::CommuneCommitteeOffice,
                format!("Trụ sở UBND {place}"),
                format!("UBND {place}"),
            ));
        }
    }
    let mut districts: Vec<&str> = communes.iter().map(|c| c.district.as_str()).collect();
    districts.dedup();
    for d in districts {
        let town = communes
            .iter()
            .position(|c| c.district == d && urban(c))
            .or_else(|| communes.iter().position(|c| c.district == d))
            .unwrap_or(0);
        let label = if d == "829" {
            "thành phố Bến Tre".to_owned()
        } else {
            format!("huyện {}", district_label(d))
        };
        plan.push((
            town,
            PointKind::DistrictPostOffice,
            format!("Bưu điện {label}"),
            format!("Trung tâm {}", lower_first(&communes[town].unit.name)),
        ));
    }
    let mut by_weight: Vec<usize> = (0..communes.len()).collect();
    by_weight.sort_by_key(|i| std::cmp::Reverse(communes[*i].weight));
    for &i in by_weight.iter().take(24) {
        let place = lower_first(&communes[i].unit.name);
        plan.push((
            i,
            PointKind::PostOfficeBranch,
            format!("Bưu cục {place}"),
            format!("Chợ {place}"),
        ));
    }
    let rural: Vec<usize> = by_weight
        .iter()
        .copied()
        .filter(|i| !urban(&communes[*i]))
        .collect();
    for &i in rural.iter().take(POINTS.saturating_sub(plan.len())) {
        let c = &communes[i];
        let hamlet = lower_first(c.hamlets.last().map(String::as_str).unwrap_or("Ấp 1"));
        let place = lower_first(&c.unit.name);
        plan.push((
            i,
            PointKind::Hamlet,
            format!("Điểm chi trả {hamlet} {place}"),
            format!("Nhà văn hóa {hamlet} {place}"),
        ));
    }
    let mut serial: BTreeMap<&str, u32> = BTreeMap::new();
    let mut points = Vec::with_capacity(plan.len());
    for (i, kind, name, address) in &plan {
        let c = &communes[*i];
        let n = serial.entry(c.district.as_str()).or_insert(0);
        *n += 1;
        let (_, lat, lon) = CENTRES
            .iter()
            .find(|(d, _, _)| *d == c.district)
            .copied()
            .unwrap_or(("", 10.2, 106.4));
        let jitter = |r: &mut Rng, v: f64| ((v + (r.unit() - 0.5) * 0.12) * 1e5).round() / 1e5;
        points.push(NewPaymentPoint {
            code: format!("BĐ-{}-{n:03}", c.district),
            name: name.clone(),
            kind: *kind,
            commune: CommuneCode::parse(&c.unit.code)?,
            address: address.clone(),
            latitude: Some(jitter(rng, lat)),
            longitude: Some(jitter(rng, lon)),
            pay_days: kind.usual_pay_days(),
            opening_days: chitra_core::schedule::Weekdays::MON_TO_SAT,
        });
    }
    let created = store
        .add_payment_points(
            &Change::now(g.actor.clone(), "demo payment points"),
            &points,
        )
        .await?;
    for ((i, ..), p) in plan.iter().zip(&created) {
        communes[*i].points.push(p.id);
    }
    Ok(created)
}

fn district_label(code: &str) -> &'static str {
    match code {
        "831" => "Châu Thành",
        "832" => "Chợ Lách",
        "833" => "Mỏ Cày Nam",
        "834" => "Giồng Trôm",
        "835" => "Bình Đại",
        "836" => "Ba Tri",
        "837" => "Thạnh Phú",
        "838" => "Mỏ Cày Bắc",
        _ => "Bến Tre",
    }
}

struct World {
    rng: Rng,
    communes: Vec<Commune>,
    facility_communes: Vec<(i64, usize)>,
    persons: Vec<Person>,
    /// Beneficiary id and code → index in `persons`.
    by_id: HashMap<i64, usize>,
    by_code: HashMap<String, usize>,
    pending: Vec<(NaiveDate, Pending)>,
    /// (month to come back, person, month suspended from).
    resumes: Vec<(Period, usize, Period)>,
    next_citizen: u64,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The month someone reaches `age`.
fn birthday_month(birth: NaiveDate, age: i64) -> Period {
    Period::of(birth).plus(age * 12)
}

impl World {
    fn name(&mut self, sex: Sex) -> String {
        let family = *self.rng.weighted(FAMILY);
        let (middle, given) = match sex {
            Sex::Male => (*self.rng.weighted(MIDDLE_MALE), *self.rng.pick(GIVEN_MALE)),
            Sex::Female => (
                *self.rng.weighted(MIDDLE_FEMALE),
                *self.rng.pick(GIVEN_FEMALE),
            ),
        };
        format!("{family} {middle} {given}")
    }

    /// A 12-digit citizen ID as the format has it: province of birth (083), century and sex, year,
    /// then a serial.
    fn citizen_id(&mut self, birth: NaiveDate, sex: Sex) -> Result<CitizenId, Failure> {
        let century =
            if birth.year() >= 2000 { 2 } else { 0 } + if sex == Sex::Female { 1 } else { 0 };
        let id = format!(
            "083{century}{:02}{:06}",
            birth.year() % 100,
            self.next_citizen
        );
        self.next_citizen += 1;
        Ok(CitizenId::parse(&id)?)
    }

    fn commune(&mut self) -> usize {
        let total: u64 = self.communes.iter().map(|c| u64::from(c.weight)).sum();
        let mut r = self.rng.below(total);
        for (i, c) in self.communes.iter().enumerate() {
            if r < u64::from(c.weight) {
                return i;
            }
            r -= u64::from(c.weight);
        }
        0
    }

    /// A person of `profile`, aged within its ages at `at`, granted from `effective` (signed on
    /// `signed_on`), with maybe a second category for multiple eligibility.
    fn person(
        &mut self,
        profile: Profile,
        at: Period,
        grant_from: (Period, Period),
    ) -> Result<(NewBeneficiary, Option<NewDecision>), Failure> {
        let sex = if self
            .rng
            .chance(if profile.category == "K5c" || profile.category == "K5a" {
                0.62
            } else {
                0.5
            }) {
            Sex::Female
        } else {
            Sex::Male
        };
        let bands: Vec<((i64, i64), u32)> = profile
            .ages
            .iter()
            .map(|(lo, hi, w)| ((*lo, *hi), *w))
            .collect();
        let (lo, hi) = *self.rng.weighted(&bands);
        let age = self.rng.range(lo, hi);
        let birth_month = at.plus(-(age * 12) - self.rng.range(0, 11));
        let birth = date(
            birth_month.year(),
            birth_month.month(),
            self.rng.range(1, 28) as u32,
        );
        // Granted no earlier than the category and its age band allow.
        let min_age = match profile.category {
            "K5c" => 80,
            "K5a" | "K5d" => 60,
            "K2" | "K8" => 16,
            _ => 0,
        };
        let (lo, hi) = grant_from;
        let earliest = lo
            .max(birthday_month(birth, min_age))
            .max(Period::of(birth));
        let latest = match profile.category {
            "K1" | "K3" => hi.min(birthday_month(birth, 16).prev()),
            "K2" => hi.min(birthday_month(birth, 23).prev()),
            _ => hi,
        };
        let effective = if earliest >= latest {
            earliest
        } else {
            earliest.plus(self.rng.range(0, earliest.months_until(latest)))
        };
        let signed_on = date(
            effective.year(),
            effective.month(),
            self.rng.range(1, 28) as u32,
        )
        .max(birth);
        let c = self.commune();
        let (commune, facility) = if profile.facility {
            let (f, i) = *self.rng.pick(&self.facility_communes.clone());
            (i, Some(f))
        } else {
            (c, None)
        };
        let place = &self.communes[commune];
        let hamlet = Some(self.rng.pick(&place.hamlets).clone());
        let point = if facility.is_some() || place.points.is_empty() {
            None
        } else if self.rng.chance(0.7) {
            Some(place.points[0])
        } else {
            Some(*self.rng.pick(&place.points))
        };
        let district = place.district.clone();
        let commune_code = CommuneCode::parse(&place.unit.code)?;
        let frail =
            facility.is_none() && (age >= 90 || profile.category == "K6a") && self.rng.chance(0.25);
        let dependants = if profile.category == "K4" {
            self.rng.range(1, 3) as u32
        } else {
            1
        };
        let signer = format!(
            "Chủ tịch UBND {}",
            if district == "829" {
                "thành phố Bến Tre".to_owned()
            } else {
                format!("huyện {}", district_label(&district))
            }
        );
        let grant = NewDecision {
            kind: DecisionKind::Grant,
            number: Some(format!("{}/QĐ-UBND", self.rng.range(100, 9999))),
            category: Some(profile.category.to_owned()),
            replaces: None,
            dependants,
            effective,
            signed_on,
            signer: signer.clone(),
            reason: "Đủ điều kiện hưởng trợ cấp xã hội hàng tháng".into(),
            death_date: None,
        };
        // Some are eligible twice: a poor single parent who is also disabled (paid both), an
        // elderly person who is also disabled (paid the higher).
        let second = match profile.category {
            "K4" if self.rng.chance(0.08) => Some("K6b"),
            "K5a" if self.rng.chance(0.12) => Some("K6a"),
            _ => None,
        }
        .map(|cat| NewDecision {
            category: Some(cat.to_owned()),
            dependants: 1,
            number: Some(format!("{}/QĐ-UBND", self.rng.range(100, 9999))),
            reason: "Hưởng thêm diện khuyết tật".into(),
            ..grant.clone()
        });
        // Some younger beneficiaries are paid into a bank account (non-cash social payments).
        let bank_account =
            (age < 60 && facility.is_none() && self.rng.chance(0.04)).then(|| BankAccount {
                bank: (*self
                    .rng
                    .pick(&["Agribank", "Vietcombank", "VietinBank", "BIDV"]))
                .to_owned(),
                account: format!("{:013}", self.rng.below(10_000_000_000_000)),
            });
        let nb = NewBeneficiary {
            program: Program::SocialAssistance,
            full_name: self.name(sex),
            birth_date: birth,
            sex,
            citizen_id: self.citizen_id(birth, sex)?,
            address: AddressSpell {
                from: effective.max(Period::of(birth)),
                commune: commune_code,
                hamlet,
                street: None,
                facility_id: facility,
            },
            payment_point_id: point,
            home_delivery: frail.then(|| {
                if age >= 90 {
                    "Già yếu, không tự đến điểm chi trả".to_owned()
                } else {
                    "Khuyết tật đặc biệt nặng, không đi lại được".to_owned()
                }
            }),
            bank_account,
            grant,
        };
        Ok((nb, second))
    }

    fn initial_person(
        &mut self,
        first: Period,
    ) -> Result<(NewBeneficiary, Option<NewDecision>), Failure> {
        let profile = *self.rng.weighted(STOCK);
        let start = Period::new(2014, 1)?;
        self.person(profile, first, (start, first.prev()))
    }

    /// Registers people (and their second categories), and follows them from now on.
    async fn register(
        &mut self,
        store: &dyn Store,
        g: &Global,
        batch: Vec<(NewBeneficiary, Option<NewDecision>)>,
        why: &str,
        on: NaiveDate,
    ) -> Outcome {
        if batch.is_empty() {
            return Ok(());
        }
        let (people, seconds): (Vec<NewBeneficiary>, Vec<Option<NewDecision>>) =
            batch.into_iter().unzip();
        let t = Instant::now();
        let files = store
            .add_beneficiaries(&Change::on(g.actor.clone(), why, on), &people)
            .await?;
        tracing::debug!(
            n = people.len(),
            ms = t.elapsed().as_millis() as u64,
            "add_beneficiaries"
        );
        let base = self.persons.len();
        for f in files {
            let (f_id, f_code) = (f.beneficiary.id, f.beneficiary.code.clone());
            self.persons.push(Person {
                file: f,
                ended: false,
                died: None,
                absent_until: None,
            });
            self.by_id.insert(f_id, self.persons.len() - 1);
            self.by_code.insert(f_code, self.persons.len() - 1);
        }
        let extra: Vec<Pending> = seconds
            .into_iter()
            .enumerate()
            .filter_map(|(i, d)| {
                d.map(|decision| Pending {
                    person: base + i,
                    decision,
                })
            })
            .collect();
        self.record(store, g, extra, "demo: second category", on)
            .await
    }

    async fn record(
        &mut self,
        store: &dyn Store,
        g: &Global,
        items: Vec<Pending>,
        why: &str,
        on: NaiveDate,
    ) -> Outcome {
        if items.is_empty() {
            return Ok(());
        }
        let batch: Vec<DecisionFor> = items
            .iter()
            .map(|p| DecisionFor {
                beneficiary_code: self.persons[p.person].file.beneficiary.code.clone(),
                decision: p.decision.clone(),
            })
            .collect();
        let t = Instant::now();
        let made = store
            .add_decisions(&Change::on(g.actor.clone(), why, on), &batch)
            .await?;
        tracing::debug!(
            n = batch.len(),
            ms = t.elapsed().as_millis() as u64,
            "add_decisions"
        );
        for (p, d) in items.iter().zip(made) {
            let person = &mut self.persons[p.person];
            person.file.decisions.push(d);
        }
        Ok(())
    }

    /// Records, on `day`, the pending decisions signed by then.
    async fn record_pending(&mut self, store: &dyn Store, g: &Global, day: NaiveDate) -> Outcome {
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(signed, _)| *signed <= day);
        self.pending = later;
        self.record(
            store,
            g,
            due.into_iter().map(|(_, p)| p).collect(),
            "demo: decisions signed",
            day,
        )
        .await
    }

    /// The post office closes the month: what was not collected is carried or returned, those not
    /// collecting three months running are suspended; most of them come back within a few months.
    async fn close(
        &mut self,
        store: &dyn Store,
        _g: &Global,
        runs: &[i64],
        day: NaiveDate,
    ) -> Outcome {
        for run in runs {
            let closed = store
                .close_payroll(
                    &Change::on(POST, "báo cáo kết quả chi trả, quyết toán", day),
                    *run,
                )
                .await?;
            for code in closed.suspended {
                if let Some(&i) = self.by_code.get(&code)
                    && self.rng.chance(0.7)
                {
                    let back = Period::of(day).plus(self.rng.range(1, 3));
                    self.resumes.push((back, i, Period::of(day).next()));
                }
            }
        }
        Ok(())
    }

    /// The month's payments at the points: nearly everyone collects; the absent and the dead do
    /// not; the frail are paid at home; some send a proxy.
    async fn pay(&mut self, store: &dyn Store, g: &Global, runs: &[i64], month: Period) -> Outcome {
        let t0 = Instant::now();
        // Each point pays on the days of its schedule (up to the 20th, when the month's payments
        // are reported), in its hours; homes are near their point.
        let schedules: HashMap<i64, Vec<u32>> = store
            .schedules(month, None)
            .await?
            .into_iter()
            .map(|s| (s.point_id, s.days.iter().filter(|d| *d <= 20).collect()))
            .collect();
        let places: HashMap<i64, (f64, f64)> = store
            .payment_points()
            .await?
            .into_iter()
            .filter_map(|p| Some((p.id, (p.latitude?, p.longitude?))))
            .collect();
        let mut batch = Vec::new();
        for run in runs {
            for l in store.due_lines(*run).await? {
                let Some(&i) = self.by_id.get(&l.beneficiary_id) else {
                    continue;
                };
                let point = match l.channel {
                    Channel::Point(p) => Some(p),
                    _ => None,
                };
                let days = point
                    .and_then(|p| schedules.get(&p))
                    .filter(|d| !d.is_empty());
                let day = match days {
                    Some(d) if !l.home_delivery => *self.rng.pick(d),
                    _ => self.rng.range(2, 20) as u32,
                };
                let paid_on = NaiveDate::from_ymd_opt(month.year(), month.month(), day)
                    .unwrap_or(month.first_day());
                let p = &self.persons[i];
                let away = p.absent_until.is_some_and(|until| month <= until);
                let dead = p.died.is_some_and(|d| d < paid_on);
                // After a death, the family that arranged the funeral collects what is owed (the
                // funeral support with it), with the commune's authorisation; most do.
                if away || (dead && !self.rng.chance(0.85)) || self.rng.chance(0.004) {
                    continue;
                }
                let own = p.file.beneficiary.citizen_id.clone();
                let (identity, location) = match l.channel {
                    Channel::Bank => (
                        Identity::bank_account(Some(&format!("FT{}", l.id)), None, None)?,
                        Location::Remote,
                    ),
                    Channel::Facility(_) => (Identity::Facility, Location::Remote),
                    Channel::Point(pt) => {
                        let identity = if dead || self.rng.chance(0.06) {
                            let sex = if self.rng.chance(0.5) {
                                Sex::Female
                            } else {
                                Sex::Male
                            };
                            let name = self.name(sex);
                            Identity::proxy(
                                &name,
                                &format!("0830{:08}", self.rng.below(100_000_000)),
                                &format!("UQ-{}", self.rng.range(1000, 9999)),
                                "UBND xã",
                                month.plus(2).last_day(),
                            )?
                        } else {
                            Identity::CitizenId { number: own }
                        };
                        let location = match places.get(&pt) {
                            Some((lat, lon)) if l.home_delivery => {
                                let jitter = |r: &mut Rng| (r.unit() - 0.5) * 0.01;
                                let (a, b) = (jitter(&mut self.rng), jitter(&mut self.rng));
                                Location::parse("home", Some(lat + a), Some(lon + b))?
                            }
                            _ => Location::Point,
                        };
                        (identity, location)
                    }
                };
                // A few are paid after hours (before the day the month is reported): the
                // inspectors' list shows them.
                let late = day < 20 && self.rng.chance(0.003);
                let time = if late { "18:15" } else { "08:30" };
                let paid_at =
                    chrono::DateTime::parse_from_rfc3339(&format!("{paid_on}T{time}:00+07:00"))
                        .map_err(|e| Failure::Other(format!("a demo time: {e}")))?;
                batch.push(NewPayment {
                    id: format!("demo:{}", l.id),
                    line_id: l.id,
                    amount: l.total,
                    paid_at,
                    agent: match l.channel {
                        Channel::Point(p) => format!("nv.chitra.{p}"),
                        _ => "nv.chitra".to_owned(),
                    },
                    identity,
                    location,
                });
            }
        }
        let _ = g;
        tracing::debug!(
            prepared = t0.elapsed().as_millis() as u64,
            "demo payments prepared"
        );
        let t0 = Instant::now();
        let results = store
            .record_payments(
                &Change::on(
                    POST,
                    "ghi nhận chi trả tại điểm",
                    NaiveDate::from_ymd_opt(month.year(), month.month(), 20)
                        .unwrap_or(month.last_day()),
                ),
                &batch,
            )
            .await?;
        tracing::debug!(
            recorded = t0.elapsed().as_millis() as u64,
            "demo payments recorded"
        );
        if let Some(refused) = results
            .iter()
            .find(|r| !matches!(r, PaymentResult::Accepted { .. }))
        {
            return Err(Failure::Other(format!(
                "a demo payment was not accepted: {refused:?}"
            )));
        }
        Ok(())
    }

    /// The month's events, recorded as the offices would.
    async fn live(&mut self, store: &dyn Store, g: &Global, month: Period) -> Outcome {
        let next = month.next();
        let mut events: Vec<(NaiveDate, Pending)> = Vec::new();
        // Those suspended for not collecting who came back: resumed, with back pay.
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.resumes)
            .into_iter()
            .partition(|(m, _, _)| *m <= month);
        self.resumes = later;
        for (_, i, suspended_from) in due {
            let p = &self.persons[i];
            if p.ended || p.absent_until.is_some_and(|u| month <= u) {
                continue;
            }
            let signed = date(month.year(), month.month(), self.rng.range(1, 28) as u32);
            let signer = p.file.decisions[0].terms.signer.clone();
            events.push((
                signed,
                Pending {
                    person: i,
                    decision: NewDecision {
                        kind: DecisionKind::Resume,
                        number: Some(format!("{}/QĐ-UBND", self.rng.range(100, 9999))),
                        category: None,
                        replaces: None,
                        dependants: 1,
                        effective: suspended_from,
                        signed_on: signed,
                        signer,
                        reason: "Đã liên hệ nhận lại trợ cấp; truy lĩnh thời gian tạm dừng".into(),
                        death_date: None,
                    },
                },
            ));
        }
        for i in 0..self.persons.len() {
            let p = &self.persons[i];
            if p.ended {
                continue;
            }
            let b = &p.file.beneficiary;
            let age = age_in(b.birth_date, month);
            let categories: Vec<String> = p
                .file
                .decisions
                .iter()
                .filter_map(|d| d.terms.category.clone())
                .collect();
            let has = |c: &str| categories.iter().any(|x| x == c);
            let signer = p.file.decisions[0].terms.signer.clone();
            let hazard = match age {
                a if a >= 90 => 0.015,
                a if a >= 85 => 0.009,
                a if a >= 80 => 0.006,
                a if a >= 70 => 0.003,
                a if a >= 60 => 0.0015,
                _ if has("K8") => 0.002,
                _ => 0.0004,
            };
            let stop = |effective: Period, reason: &str, signed: NaiveDate| NewDecision {
                kind: DecisionKind::Stop,
                number: None,
                category: None,
                replaces: None,
                dependants: 1,
                effective,
                signed_on: signed,
                signer: signer.clone(),
                reason: reason.to_owned(),
                death_date: None,
            };
            let r = &mut self.rng;
            let day = |r: &mut Rng| date(month.year(), month.month(), r.range(1, 28) as u32);
            if r.chance(hazard) {
                let died = day(r);
                self.persons[i].died = Some(died);
                let lag = if r.chance(0.03) {
                    r.range(60, 120)
                } else {
                    r.range(5, 40)
                };
                let signed = died + chrono::Duration::days(lag);
                let d = NewDecision::death(
                    died,
                    signed,
                    &signer,
                    &format!("Chết ngày {}, theo giấy báo tử", died.format("%d/%m/%Y")),
                );
                events.push((
                    signed,
                    Pending {
                        person: i,
                        decision: d,
                    },
                ));
                self.persons[i].ended = true;
                continue;
            }
            let birthday = |age: i64| birthday_month(b.birth_date, age);
            if has("K1") && !has("K2") && birthday(16) == next {
                let signed = day(r);
                let d = if r.chance(0.6) {
                    NewDecision {
                        kind: DecisionKind::Adjust,
                        number: Some(format!("{}/QĐ-UBND", r.range(100, 9999))),
                        category: Some("K2".into()),
                        replaces: Some("K1".into()),
                        dependants: 1,
                        effective: next,
                        signed_on: signed,
                        signer: signer.clone(),
                        reason: "Đủ 16 tuổi, đang tiếp tục đi học".into(),
                        death_date: None,
                    }
                } else {
                    self.persons[i].ended = true;
                    stop(next, "Đủ 16 tuổi, không còn đi học", signed)
                };
                events.push((
                    signed,
                    Pending {
                        person: i,
                        decision: d,
                    },
                ));
                continue;
            }
            if has("K2") && birthday(23) == next {
                let signed = day(r);
                events.push((
                    signed,
                    Pending {
                        person: i,
                        decision: stop(next, "Đủ 23 tuổi", signed),
                    },
                ));
                self.persons[i].ended = true;
                continue;
            }
            let leave = if has("K4") {
                0.004
            } else if has("K8") {
                0.003
            } else if has("K5a") {
                0.002
            } else {
                0.0
            } + 0.0035;
            if r.chance(leave) {
                let signed = day(r);
                let reason = if has("K4") || has("K8") || has("K5a") {
                    "Không còn thuộc hộ nghèo"
                } else {
                    "Chuyển khỏi địa bàn"
                };
                events.push((
                    signed,
                    Pending {
                        person: i,
                        decision: stop(next, reason, signed),
                    },
                ));
                self.persons[i].ended = true;
                continue;
            }
            // Away for a few months (with children elsewhere, in hospital): not collected.
            if self.persons[i].absent_until.is_none_or(|u| u < month) && r.chance(0.0015) {
                self.persons[i].absent_until = Some(month.plus(r.range(2, 5)));
            }
        }
        for (signed, p) in events {
            self.pending.push((signed, p));
        }

        // New grants of the month.
        let n = NEW_PER_MONTH * 8 / 10 + self.rng.below(NEW_PER_MONTH * 4 / 10 + 1);
        let mut batch = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let profile = *self.rng.weighted(NEW);
            batch.push(self.person(profile, month, (month, month))?);
        }
        self.register(
            store,
            g,
            batch,
            "demo: new grants of the month",
            month.last_day(),
        )
        .await
    }
}
