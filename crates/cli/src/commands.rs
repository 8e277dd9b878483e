//! The commands: parse, ask the store (and the core), print.

use std::path::Path;

use chitra_core::decision::{DecisionKind, NewDecision};
use chitra_core::entitlement::entitlement;
use chitra_core::ids::{CitizenId, CommuneCode};
use chitra_core::register::{
    AddressSpell, BankAccount, NewBeneficiary, Sex, parse_birth_date, parse_date,
};
use chitra_core::rules::{Rate, RuleBook};
use chitra_core::units::{OfficialFiles, UnitLevel, load_official};
use chitra_core::{FieldError, Period, Program, text};
use chitra_store::{BeneficiaryFilter, Change, DecisionFor, OpenMode, Store};
use chrono::NaiveDate;
use serde::Serialize;

use crate::month::{self, Step};
use crate::output::{Failure, Outcome, Table, emit, fields, vnd};
use crate::{
    AddBeneficiary, AddDecision, AuditCommand, BenchCommand, BeneficiaryCommand, Cli, Command,
    ContractCommand, DecisionCommand, ExportCommand, Format, Global, LedgerCommand,
    ListBeneficiaries, PayrollCommand, ReportCommand, RulesCommand,
};

pub async fn run(cli: Cli) -> Outcome {
    let g = cli.global;
    // Checked before anything is done: a bad flag changes nothing.
    if g.format == Format::Hledger
        && !matches!(cli.command, Command::Export(ExportCommand::Ledger { .. }))
    {
        return Err(FieldError::new(
            "format",
            "hledger is the format of `chitra export ledger` only: use table or json",
        )
        .into());
    }
    if matches!(g.format, Format::Xlsx | Format::Pdf)
        && !matches!(
            cli.command,
            Command::Export(
                ExportCommand::Payroll(_)
                    | ExportCommand::Settlement(_)
                    | ExportCommand::Notices(_)
            )
        )
    {
        return Err(FieldError::new(
            "format",
            "xlsx and pdf are formats of `chitra export payroll|settlement|notices` only",
        )
        .into());
    }
    let outcome = dispatch(&g, cli.command).await;
    // Whatever the outcome: a store left open leaves its WAL beside the database file.
    close_opened().await;
    outcome
}

/// The stores this process opened (see [`open`]), closed when its command ends.
static OPENED: std::sync::Mutex<Vec<std::sync::Arc<dyn Store>>> = std::sync::Mutex::new(Vec::new());

/// Opens the store at `--db` for this command; it is closed when the command ends.
pub(crate) async fn open(g: &Global, mode: OpenMode) -> Result<std::sync::Arc<dyn Store>, Failure> {
    let store: std::sync::Arc<dyn Store> =
        std::sync::Arc::from(chitra_store::open(&g.db, mode).await?);
    if let Ok(mut opened) = OPENED.lock() {
        opened.push(store.clone());
    }
    Ok(store)
}

/// Closes every store this process opened: on SQLite the WAL is folded into the database file
/// and removed, unless another process is using the file at that moment.
async fn close_opened() {
    let opened: Vec<std::sync::Arc<dyn Store>> = match OPENED.lock() {
        Ok(mut opened) => opened.drain(..).collect(),
        Err(_) => return,
    };
    for store in opened {
        store.close().await;
    }
}

async fn dispatch(g: &Global, command: Command) -> Outcome {
    match command {
        Command::Init => init(g).await,
        Command::Serve(args) => crate::service::serve(g, &args).await,
        Command::User(u) => crate::service::user(g, u).await,
        Command::Demo(args) => crate::demo::run(g, args).await,
        Command::Rules(RulesCommand::Show { at }) => rules_show(g, &at).await,
        Command::Beneficiary(BeneficiaryCommand::Add(a)) => beneficiary_add(g, *a).await,
        Command::Beneficiary(BeneficiaryCommand::Show { code, at }) => {
            beneficiary_show(g, &code, at.as_deref()).await
        }
        Command::Beneficiary(BeneficiaryCommand::List(l)) => beneficiary_list(g, l).await,
        Command::Decision(DecisionCommand::Add(a)) => decision_add(g, *a).await,
        Command::Report(ReportCommand::Summary { from, to }) => report_summary(g, &from, &to).await,
        Command::Report(ReportCommand::Settlement { period }) => {
            month::settlement(g, &period).await
        }
        Command::Report(ReportCommand::Reconcile { period }) => month::reconcile(g, &period).await,
        Command::Contract(ContractCommand::Add(a)) => month::contract_add(g, *a).await,
        Command::Contract(ContractCommand::List) => month::contract_list(g).await,
        Command::Payroll(p) => match p {
            PayrollCommand::Generate {
                office,
                period,
                program,
            } => month::generate(g, &office, &period, &program).await,
            PayrollCommand::Approve { run } => month::step(g, run, Step::Approve).await,
            PayrollCommand::Fund { run } => month::step(g, run, Step::Fund).await,
            PayrollCommand::Open { run } => month::step(g, run, Step::Open).await,
            PayrollCommand::Pay(p) => month::pay(g, *p).await,
            PayrollCommand::Close { run } => month::close(g, run).await,
            PayrollCommand::List { period } => month::list(g, period.as_deref()).await,
            PayrollCommand::Show { run } => month::show(g, run).await,
            PayrollCommand::Lines {
                run,
                status,
                point,
                limit,
                offset,
            } => month::lines(g, run, status.as_deref(), point, limit, offset).await,
            PayrollCommand::Line { line } => month::line(g, line).await,
            PayrollCommand::Diff { run } => month::diff(g, run).await,
            PayrollCommand::Reviews => month::reviews(g).await,
        },
        Command::Point(c) => crate::points::run(g, c).await,
        Command::Flags(a) => crate::points::flags(g, a).await,
        Command::Ledger(LedgerCommand::Balances) => month::balances(g).await,
        Command::Export(ExportCommand::Ledger { detail, output }) => {
            month::export_ledger(g, detail, output.as_deref()).await
        }
        Command::Export(ExportCommand::Payroll(a)) => crate::documents::export_payroll(g, a).await,
        Command::Export(ExportCommand::Settlement(a)) => {
            crate::documents::export_settlement(g, a).await
        }
        Command::Export(ExportCommand::Payout(a)) => crate::documents::export_payout(g, a).await,
        Command::Export(ExportCommand::Notices(a)) => crate::documents::export_notices(g, a).await,
        Command::Import(crate::documents::ImportCommand::Beneficiaries(a)) => {
            crate::documents::import_beneficiaries(g, a).await
        }
        Command::Import(crate::documents::ImportCommand::BankResult { file }) => {
            crate::documents::import_bank_result(g, &file).await
        }
        Command::Audit(AuditCommand::Verify) => audit_verify(g).await,
        Command::Audit(AuditCommand::Log { limit }) => audit_log(g, limit).await,
        Command::Healthcheck => healthcheck(g).await,
        Command::Bench(BenchCommand::Payroll(a)) => crate::bench::payroll(g, a).await,
        Command::Bench(BenchCommand::Reconcile(a)) => crate::bench::reconcile(g, a).await,
        Command::Bench(BenchCommand::Payments(a)) => crate::bench::payments(g, a).await,
        Command::Bench(BenchCommand::Http(a)) => crate::bench::http::run(g, a).await,
        Command::Bench(BenchCommand::Documents(a)) => crate::documents::bench_documents(g, a).await,
    }
}

/// Today in Vietnam, or `CHITRA_TODAY` (YYYY-MM-DD) when a test fixes the date.
pub fn today() -> Result<NaiveDate, Failure> {
    match std::env::var("CHITRA_TODAY") {
        Ok(s) => Ok(parse_date("CHITRA_TODAY", &s)?),
        Err(_) => Ok(Change::now("", "").date()),
    }
}

/// A change by the acting user, now (or on `CHITRA_TODAY`).
pub(crate) fn change(g: &Global, reason: &str) -> Result<Change, Failure> {
    let c = match std::env::var("CHITRA_TODAY") {
        Ok(_) => Change::on(g.actor.clone(), reason, today()?),
        Err(_) => Change::now(g.actor.clone(), reason),
    };
    c.check()?;
    Ok(c)
}

/// Opens an initialised store (`init` or `demo` made it).
pub(crate) async fn open_initialised(g: &Global) -> Result<std::sync::Arc<dyn Store>, Failure> {
    let store = open(g, OpenMode::Existing).await?;
    if store.setting("initialised").await?.as_deref() != Some("true") {
        return Err(chitra_store::StoreError::NotInitialised.into());
    }
    Ok(store)
}

#[derive(Serialize)]
pub struct InitReport {
    pub db: String,
    pub backend: &'static str,
    pub already_initialised: bool,
    pub units: usize,
    pub successions: usize,
    pub quirks: std::collections::BTreeMap<&'static str, usize>,
    pub rule_categories: usize,
}

/// Loads the official units and the rule tables into a new store. Doing it again changes nothing.
pub async fn initialise(store: &dyn Store, g: &Global) -> Result<InitReport, Failure> {
    let mut report = InitReport {
        db: g.db.clone(),
        backend: store.backend(),
        already_initialised: true,
        units: 0,
        successions: 0,
        quirks: Default::default(),
        rule_categories: 0,
    };
    if store.setting("initialised").await?.as_deref() == Some("true") {
        return Ok(report);
    }
    let official = load_official(&OfficialFiles::EMBEDDED)?;
    let rules = RuleBook::statutory()?;
    let done = store
        .initialise(
            &change(g, "official administrative units and statutory rule tables")?,
            &official,
            &rules,
        )
        .await?;
    report.already_initialised = done.already;
    if let Some(units) = done.units {
        report.units = units.units;
        report.successions = units.successions;
        report.quirks = official.quirk_counts();
    }
    report.rule_categories = done.rule_categories;
    Ok(report)
}

async fn init(g: &Global) -> Outcome {
    let store = open(g, OpenMode::Create).await?;
    let report = initialise(store.as_ref(), g).await?;
    emit(g.format, &report, || {
        if report.already_initialised {
            return format!(
                "{} đã được khởi tạo — already initialised; nothing changed.\n",
                g.db
            );
        }
        let quirks = report
            .quirks
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        fields(&[
            (
                "Cơ sở dữ liệu (database)",
                format!("{} ({})", report.db, report.backend),
            ),
            ("Đơn vị hành chính (units)", report.units.to_string()),
            (
                "Sáp nhập 2025 (successions)",
                report.successions.to_string(),
            ),
            ("Dữ liệu bất thường (quirks handled)", quirks),
            (
                "Diện đối tượng (categories)",
                report.rule_categories.to_string(),
            ),
        ])
    })
}

async fn rules_show(g: &Global, at: &str) -> Outcome {
    let at = Period::parse(at).map_err(|e| e.renamed("at"))?;
    // Without a database, the tables shipped with chitra answer.
    let is_file = !g.db.starts_with("postgres://") && !g.db.starts_with("postgresql://");
    let (book, source) =
        if is_file && !Path::new(g.db.strip_prefix("sqlite://").unwrap_or(&g.db)).exists() {
            (RuleBook::statutory()?, "built-in")
        } else {
            (open_initialised(g).await?.rule_book().await?, "database")
        };
    #[derive(Serialize)]
    struct Shown {
        source: &'static str,
        #[serde(flatten)]
        rules: chitra_core::rules::RulesAt,
    }
    let shown = Shown {
        source,
        rules: book.at(at),
    };
    emit(g.format, &shown, || {
        let r = &shown.rules;
        let mut out =
            format!("Chính sách áp dụng tháng {at} — rules in force in {at} ({source} tables)\n\n");
        let mut t = Table::new(&[
            "Chương trình (program)",
            "Mức chuẩn (base)",
            "Từ (from)",
            "Căn cứ (source)",
        ])
        .numeric(&[1]);
        for b in &r.base_levels {
            t.row(vec![
                b.program.name_vi().into(),
                vnd(b.amount.get()),
                b.from.to_string(),
                b.source.clone(),
            ]);
        }
        out.push_str(&t.render());
        out.push('\n');
        let mut t = Table::new(&[
            "Diện",
            "Tên (category)",
            "Tuổi (ages)",
            "Hệ số",
            "Mức/tháng",
            "Căn cứ (source)",
        ])
        .numeric(&[3, 4]);
        for c in &r.coefficients {
            let rate = match c.rate {
                Rate::Coefficient(k) => k.to_string(),
                Rate::Fixed(_) => "—".into(),
            };
            let per = if c.per_dependant {
                " /người phụ thuộc"
            } else {
                ""
            };
            t.row(vec![
                c.category.clone(),
                c.name_vi.clone(),
                c.age_band.clone(),
                rate,
                format!(
                    "{}{per}",
                    c.monthly_amount.map(|d| vnd(d.get())).unwrap_or_default()
                ),
                c.source.clone(),
            ]);
        }
        out.push_str(&t.render());
        for f in &r.funeral {
            out.push_str(&format!(
                "\nHỗ trợ mai táng (funeral support): {} × mức chuẩn [{}]\n",
                f.multiple, f.source
            ));
        }
        if !r.combinations.is_empty() {
            let pairs: Vec<String> = r
                .combinations
                .iter()
                .map(|c| format!("{}+{}", c.category, c.with))
                .collect();
            out.push_str(&format!(
                "Hưởng nhiều chế độ: chỉ hưởng mức cao nhất, trừ (paid together): {}\n",
                pairs.join(", ")
            ));
        }
        out
    })
}

async fn beneficiary_add(g: &Global, a: AddBeneficiary) -> Outcome {
    let today = today()?;
    let full_name = text::required("name", &a.name, 100)?;
    let birth_date = parse_birth_date(&a.birth_date, today)?;
    let sex = Sex::parse(&a.sex)?;
    let citizen_id = CitizenId::parse(&a.citizen_id)?;
    let commune = CommuneCode::parse(&a.commune)?;
    let program = Program::parse(&a.program)?;
    let signed_on = match &a.signed_on {
        Some(s) => parse_date("signed_on", s)?,
        None => today,
    };
    let effective = match &a.effective {
        Some(s) => Period::parse(s).map_err(|e| e.renamed("effective"))?,
        None => Period::of(signed_on),
    };
    let nb = NewBeneficiary {
        program,
        full_name,
        birth_date,
        sex,
        citizen_id,
        address: AddressSpell {
            from: effective.max(Period::of(birth_date)),
            commune,
            hamlet: a.hamlet,
            street: a.street,
            facility_id: a.facility,
        },
        payment_point_id: a.point,
        home_delivery: a.home_delivery,
        bank_account: match (a.bank, a.bank_account) {
            (Some(bank), Some(account)) => Some(BankAccount { bank, account }),
            (None, None) => None,
            _ => {
                return Err(FieldError::new(
                    "bank_account",
                    "give both --bank and --bank-account, or neither",
                )
                .into());
            }
        },
        grant: NewDecision {
            kind: DecisionKind::Grant,
            number: a.number,
            category: Some(a.category.trim().to_owned()),
            replaces: None,
            dependants: a.dependants,
            effective,
            signed_on,
            signer: a.signer.unwrap_or_else(|| g.actor.clone()),
            reason: a.reason,
            death_date: None,
        },
    };
    let store = open_initialised(g).await?;
    let created = store
        .add_beneficiaries(
            &change(g, "register a beneficiary")?,
            std::slice::from_ref(&nb),
        )
        .await?
        .remove(0)
        .beneficiary;
    emit(g.format, &created, || {
        format!(
            "Đã đăng ký — registered {} {} ({}), {} from {}\n",
            created.code,
            created.full_name,
            created.citizen_id.masked(),
            a.category,
            effective
        )
    })
}

async fn beneficiary_show(g: &Global, code: &str, at: Option<&str>) -> Outcome {
    let store = open_initialised(g).await?;
    let file = store
        .beneficiary(code)
        .await?
        .ok_or_else(|| Failure::NotFound(format!("no beneficiary has the code '{code}'")))?;
    let period = match at {
        Some(s) => Period::parse(s).map_err(|e| e.renamed("at"))?,
        None => Period::of(today()?),
    };
    let rules = store.rule_book().await?;
    let tree = store.unit_tree().await?;
    let due = entitlement(&file.beneficiary, &file.decisions, &rules, period)
        .map_err(|_| Failure::Other("amount out of range".into()))?;
    #[derive(Serialize)]
    struct Shown<'a> {
        #[serde(flatten)]
        file: &'a chitra_store::BeneficiaryFile,
        entitlement: &'a chitra_core::entitlement::Entitlement,
    }
    emit(
        g.format,
        &Shown {
            file: &file,
            entitlement: &due,
        },
        || {
            let b = &file.beneficiary;
            let mut out = fields(&[
                ("Mã (code)", b.code.clone()),
                ("Họ và tên (name)", b.full_name.clone()),
                ("Ngày sinh (born)", b.birth_date.to_string()),
                ("Giới tính (sex)", b.sex.name_vi().into()),
                ("Số CCCD (citizen ID)", b.citizen_id.as_str().into()),
                ("Chương trình (program)", b.program.name_vi().into()),
            ]);
            out.push_str("\nĐịa chỉ (addresses)\n");
            for a in &b.addresses {
                let name = tree
                    .at(UnitLevel::Commune, a.commune.as_str(), a.from.first_day())
                    .map(|u| u.name.clone())
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  từ {}: {}{} {} ({}){}\n",
                    a.from,
                    a.street
                        .as_deref()
                        .map(|s| format!("{s}, "))
                        .unwrap_or_default(),
                    a.hamlet.as_deref().unwrap_or(""),
                    name,
                    a.commune,
                    a.facility_id
                        .map(|f| format!(", cơ sở #{f}"))
                        .unwrap_or_default()
                ));
            }
            let mut t = Table::new(&[
                "#",
                "Loại (kind)",
                "Diện",
                "Hiệu lực",
                "Ngày ký",
                "Người ký",
                "Lý do (reason)",
            ]);
            for d in &file.decisions {
                let x = &d.terms;
                t.row(vec![
                    d.id.to_string(),
                    x.kind.code().into(),
                    x.category.clone().unwrap_or_default(),
                    x.effective.to_string(),
                    x.signed_on.to_string(),
                    x.signer.clone(),
                    x.reason.clone(),
                ]);
            }
            out.push_str("\nQuyết định (decisions)\n");
            out.push_str(&t.render());
            out.push_str(&format!(
                "\nTháng {period}: {} đ — {}\n",
                vnd(due.month.amount.get()),
                due.month.rule
            ));
            for a in &due.arrears {
                out.push_str(&format!(
                    "  truy lĩnh (arrears) {}: {} đ\n",
                    a.month,
                    vnd(a.amount.get())
                ));
            }
            if let Some(f) = &due.funeral {
                out.push_str(&format!(
                    "  hỗ trợ mai táng (funeral): {} đ [{}]\n",
                    vnd(f.amount.get()),
                    f.source
                ));
            }
            out.push_str(&format!(
                "  tổng kỳ này (total due): {} đ\n",
                vnd(due.total.get())
            ));
            out
        },
    )
}

async fn beneficiary_list(g: &Global, l: ListBeneficiaries) -> Outcome {
    let store = open_initialised(g).await?;
    let filter = BeneficiaryFilter {
        search: l.search,
        commune: l
            .commune
            .map(|c| CommuneCode::parse(&c).map(|c| c.as_str().to_owned()))
            .transpose()?,
        communes: None,
        category: l.category,
        payment_point_id: l.point,
        status: None,
        as_of: None,
        limit: l.limit,
        offset: l.offset,
    };
    if l.limit < 1 || l.limit > 1000 {
        return Err(
            FieldError::new("limit", format!("{} is not between 1 and 1000", l.limit)).into(),
        );
    }
    let page = store.beneficiaries(&filter).await?;
    emit(g.format, &page, || {
        let mut t = Table::new(&[
            "Mã (code)",
            "Họ và tên (name)",
            "Ngày sinh",
            "Giới tính",
            "CCCD",
            "Xã",
        ]);
        for r in &page.items {
            t.row(vec![
                r.code.clone(),
                r.full_name.clone(),
                r.birth_date.to_string(),
                r.sex.clone(),
                r.citizen_id_masked.clone(),
                r.commune_code.clone(),
            ]);
        }
        format!(
            "{}{}–{} / {}\n",
            t.render(),
            if page.items.is_empty() {
                0
            } else {
                page.offset + 1
            },
            page.offset + page.items.len() as i64,
            page.total
        )
    })
}

async fn decision_add(g: &Global, a: AddDecision) -> Outcome {
    let today = today()?;
    let kind = DecisionKind::parse(&a.kind)?;
    let death_date = a
        .death_date
        .as_deref()
        .map(|s| parse_date("death_date", s))
        .transpose()?;
    let effective = match (&a.effective, death_date) {
        (Some(s), _) => Period::parse(s).map_err(|e| e.renamed("effective"))?,
        (None, Some(died)) => Period::of(died).next(),
        (None, None) => {
            return Err(FieldError::new(
                "effective",
                "give the first month the decision applies to, YYYY-MM",
            )
            .into());
        }
    };
    let signed_on = match &a.signed_on {
        Some(s) => parse_date("signed_on", s)?,
        None => today,
    };
    let decision = NewDecision {
        kind,
        number: a.number,
        category: a.category.map(|c| c.trim().to_owned()),
        replaces: a.replaces.map(|c| c.trim().to_owned()),
        dependants: a.dependants,
        effective,
        signed_on,
        signer: a.signer.unwrap_or_else(|| g.actor.clone()),
        reason: a.reason,
        death_date,
    };
    let store = open_initialised(g).await?;
    let made = store
        .add_decisions(
            &change(g, "record a decision")?,
            &[DecisionFor {
                beneficiary_code: a.beneficiary.clone(),
                decision,
            }],
        )
        .await?
        .remove(0);
    emit(g.format, &made, || {
        format!(
            "Đã ghi quyết định — recorded decision #{}: {}\n",
            made.id,
            made.describe()
        )
    })
}

async fn report_summary(g: &Global, from: &str, to: &str) -> Outcome {
    let from = Period::parse(from).map_err(|e| e.renamed("from"))?;
    let to = Period::parse(to).map_err(|e| e.renamed("to"))?;
    let store = open_initialised(g).await?;
    let s = store.summary(from, to).await?;
    emit(g.format, &s, || {
        let mut out = String::new();
        if s.demo {
            out.push_str("DỮ LIỆU MẪU — synthetic demo data: the people are generated, the units are real.\n\n");
        }
        out.push_str(&format!("Tổng hợp chi trả {from} – {to} (summary)\n"));
        out.push_str(&fields(&[
            (
                "Lượt đối tượng (beneficiary-turns)",
                vnd(s.beneficiary_turns),
            ),
            (
                "Tổng kinh phí đã chi (total paid, đ)",
                vnd(s.total_paid_vnd),
            ),
            (
                "Điểm chi trả (payment points)",
                format!(
                    "{} ({} registered)",
                    s.payment_points, s.payment_points_registered
                ),
            ),
            ("Số dòng đã chi (lines paid)", vnd(s.lines_paid)),
        ]));
        let mut t = Table::new(&["Năm (year)", "Đối tượng", "Đã chi (đ)"]).numeric(&[1, 2]);
        for y in &s.by_year {
            t.row(vec![
                y.year.to_string(),
                vnd(y.beneficiaries),
                vnd(y.paid_vnd),
            ]);
        }
        out.push('\n');
        out.push_str(&t.render());
        for (title, rows) in [
            ("Theo địa bàn (by district / commune)", &s.by_area),
            ("Theo diện đối tượng (by category)", &s.by_category),
            (
                "Tại cộng đồng / tại cơ sở (community / facility)",
                &s.by_residence,
            ),
        ] {
            let mut t = Table::new(&["Mã", "Tên", "Lượt đối tượng", "Đã chi (đ)"]).numeric(&[2, 3]);
            for r in rows {
                t.row(vec![
                    r.key.clone(),
                    r.name.clone(),
                    vnd(r.beneficiary_turns),
                    vnd(r.paid_vnd),
                ]);
            }
            out.push_str(&format!("\n{title}\n{}", t.render()));
        }
        out
    })
}

async fn audit_verify(g: &Global) -> Outcome {
    let store = open(g, OpenMode::Existing).await?;
    let v = store.verify_journal().await?;
    emit(g.format, &v, || match &v.first_mismatch {
        None => format!(
            "Nhật ký toàn vẹn — journal intact: {} entries verified, head {}\n",
            v.entries_checked, v.head_hash
        ),
        Some(_) => String::new(),
    })?;
    match v.first_mismatch {
        None => Ok(()),
        Some(m) => Err(Failure::Tampered(format!(
            "journal NOT intact: entry {} does not match: {} ({} entries before it verified)",
            m.seq, m.reason, v.entries_checked
        ))),
    }
}

async fn audit_log(g: &Global, limit: i64) -> Outcome {
    let store = open(g, OpenMode::Existing).await?;
    let entries = store.journal_tail(limit).await?;
    emit(g.format, &entries, || {
        let mut t = Table::new(&[
            "#",
            "Thời điểm (at)",
            "Người (who)",
            "Việc (what)",
            "Đối tượng (subject)",
            "Lý do (why)",
        ]);
        for e in &entries {
            t.row(vec![
                e.seq.to_string(),
                e.draft.at.clone(),
                e.draft.actor.clone(),
                e.draft.action.clone(),
                e.draft.subject.clone(),
                e.draft.reason.clone(),
            ]);
        }
        t.render()
    })
}

async fn healthcheck(g: &Global) -> Outcome {
    let store = open(g, OpenMode::Existing).await?;
    let h = store.health().await?;
    emit(g.format, &h, || {
        format!(
            "{}: {} schema v{}, {} beneficiaries, {} journal entries{}\n",
            if h.initialised {
                "ok"
            } else {
                "NOT INITIALISED"
            },
            h.backend,
            h.schema_version,
            h.beneficiaries,
            h.journal_entries,
            if h.demo { " (demo data)" } else { "" }
        )
    })?;
    if h.initialised {
        Ok(())
    } else {
        Err(chitra_store::StoreError::NotInitialised.into())
    }
}
