//! `chitra import …` and `chitra export payroll|settlement|payout|notices`: the documents of
//! `chitra-documents`, on the command line.

use std::path::{Path, PathBuf};

use chitra_core::{FieldError, Period, Program};
use chitra_documents::import::{ColumnMap, Context, ImportReport};
use chitra_documents::{notices, payout, payroll, settlement};
use clap::{Args, Subcommand};

use crate::Format;
use crate::Global;
use crate::commands::{change, open_initialised, today};
use crate::output::{Failure, Outcome, Table, emit, fields, vnd};

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Register the beneficiaries of a spreadsheet (.xlsx, .xls, .ods, .csv): every row is
    /// checked; nothing is registered if any row is bad; importing a file again adds nothing.
    Beneficiaries(ImportBeneficiaries),
    /// Record the transfers a bank's result file reports as done (idempotent).
    BankResult {
        /// CSV or spreadsheet with reference, status, amount, transaction_id, paid_at, message.
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct ImportBeneficiaries {
    pub file: PathBuf,
    /// Check and report only; register nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A column the file names differently: "Header=field" (fields: name, birth_date, sex,
    /// citizen_id, category, district, commune, hamlet, street, amount, effective,
    /// decision_number, dependants, point, bank, bank_account). Repeatable.
    #[arg(long = "map")]
    pub map: Vec<String>,
    /// social_assistance or merit_allowance.
    #[arg(long, default_value = "social_assistance")]
    pub program: String,
    /// Communes given by name are looked up in this province (2-digit code; default: the
    /// database's province setting, if any).
    #[arg(long)]
    pub province: Option<String>,
}

#[derive(Args, Debug)]
pub struct ExportPayroll {
    /// YYYY-MM.
    #[arg(long)]
    pub period: String,
    /// The payment point: id or code.
    #[arg(long)]
    pub point: String,
    #[arg(long, default_value = "social_assistance")]
    pub program: String,
    /// The file to write (.xlsx or .pdf; `--format xlsx|pdf` when the name does not say).
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Args, Debug)]
pub struct ExportSettlement {
    /// YYYY-MM.
    #[arg(long)]
    pub period: String,
    /// One contract, by code (default: every contract of the month).
    #[arg(long)]
    pub contract: Option<String>,
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Args, Debug)]
pub struct ExportPayout {
    /// YYYY-MM.
    #[arg(long)]
    pub period: String,
    #[arg(long, default_value = "social_assistance")]
    pub program: String,
    /// The CSV file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Args, Debug)]
pub struct ExportNotices {
    /// YYYY-MM.
    #[arg(long)]
    pub period: String,
    /// The payment point: id or code.
    #[arg(long)]
    pub point: String,
    #[arg(long, default_value = "social_assistance")]
    pub program: String,
    /// The PDF file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

impl From<chitra_documents::Error> for Failure {
    fn from(e: chitra_documents::Error) -> Self {
        match e {
            chitra_documents::Error::Invalid(f) => Failure::Invalid(f),
            chitra_documents::Error::NotFound(m) => Failure::NotFound(m),
            chitra_documents::Error::Store(s) => s.into(),
            other => Failure::Other(other.to_string()),
        }
    }
}

/// Xlsx or PDF: as `--format` says, or as the file's name says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Xlsx,
    Pdf,
}

fn kind(g: &Global, output: &Path, allowed: &[Kind]) -> Result<Kind, Failure> {
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let k = match (g.format, ext.as_deref()) {
        (Format::Xlsx, _) => Kind::Xlsx,
        (Format::Pdf, _) => Kind::Pdf,
        (_, Some("xlsx")) => Kind::Xlsx,
        (_, Some("pdf")) => Kind::Pdf,
        _ => {
            return Err(FieldError::new(
                "format",
                "say --format xlsx or --format pdf (or name the file .xlsx or .pdf)",
            )
            .into());
        }
    };
    if !allowed.contains(&k) {
        return Err(FieldError::new("format", "this document is made as PDF only").into());
    }
    Ok(k)
}

fn period(s: &str) -> Result<Period, Failure> {
    Ok(Period::parse(s).map_err(|e| e.renamed("period"))?)
}

fn program(s: &str) -> Result<Program, Failure> {
    Ok(Program::parse(s).map_err(|e| e.renamed("program"))?)
}

fn write(path: &Path, bytes: &[u8]) -> Outcome {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::Other(format!("cannot write {}: {e}", path.display())))
}

/// What a table-format command prints after writing a file.
fn written(g: &Global, path: &Path, what: &str, detail: &[(&str, String)]) -> Outcome {
    #[derive(serde::Serialize)]
    struct Written<'a> {
        file: String,
        document: &'a str,
        detail: std::collections::BTreeMap<&'a str, &'a str>,
    }
    let shown = Written {
        file: path.display().to_string(),
        document: what,
        detail: detail.iter().map(|(k, v)| (*k, v.as_str())).collect(),
    };
    // The document went to a file: what is printed is always the table (or JSON when asked).
    let format = if g.format == Format::Json {
        Format::Json
    } else {
        Format::Table
    };
    emit(format, &shown, || {
        let mut pairs = vec![("Đã ghi (written)", path.display().to_string())];
        pairs.push(("Tài liệu (document)", what.to_owned()));
        pairs.extend(detail.iter().map(|(k, v)| (*k, v.clone())));
        fields(&pairs)
    })
}

pub async fn import_beneficiaries(g: &Global, a: ImportBeneficiaries) -> Outcome {
    let map = ColumnMap::default().with(&a.map)?;
    let program = program(&a.program)?;
    let store = open_initialised(g).await?;
    let c = change(g, "nhập danh sách đối tượng — import beneficiaries")?;
    let mut ctx = Context::load(store.as_ref(), program, c.date(), &g.actor).await?;
    if let Some(p) = &a.province {
        ctx.province = Some(
            chitra_core::ids::ProvinceCode::parse(p)?
                .as_str()
                .to_owned(),
        );
    }
    let report =
        chitra_documents::import::import_file(store.as_ref(), &c, &a.file, &map, &ctx, a.dry_run)
            .await?;
    let format = if g.format == Format::Json {
        Format::Json
    } else {
        Format::Table
    };
    emit(format, &report, || render_import(&report))?;
    if !report.is_clean() {
        return Err(FieldError::new(
            "file",
            format!(
                "{} dòng có lỗi — {} problems in {}; nothing was imported",
                report.problems.len(),
                report.problems.len(),
                report.file
            ),
        )
        .into());
    }
    Ok(())
}

fn render_import(r: &ImportReport) -> String {
    let mut out = fields(&[
        ("Tệp (file)", r.file.clone()),
        ("Bảng mã (encoding)", r.encoding.name().to_owned()),
        ("Dòng tiêu đề (header row)", r.header_row.to_string()),
        ("Số dòng (rows)", r.rows.to_string()),
        (
            "Đã có trong sổ (already registered, skipped)",
            r.already_registered.to_string(),
        ),
        (
            if r.dry_run {
                "Sẽ thêm (would add)"
            } else {
                "Cần thêm (to add)"
            },
            r.to_add.to_string(),
        ),
        ("Đã thêm (added)", r.added.to_string()),
        ("Lỗi (problems)", r.problems.len().to_string()),
    ]);
    if !r.problems.is_empty() {
        out.push('\n');
        let mut t = Table::new(&[
            "Dòng (row)",
            "Cột (column)",
            "Giá trị (value)",
            "Lý do (reason)",
        ])
        .numeric(&[0]);
        for p in &r.problems {
            t.row(vec![
                p.row.to_string(),
                p.column.clone(),
                p.value.clone(),
                p.reason.clone(),
            ]);
        }
        out.push_str(&t.render());
    } else if r.dry_run {
        out.push_str(
            "\nKiểm tra xong, không có lỗi — dry run: no problems; nothing was registered.\n",
        );
    }
    out
}

pub async fn import_bank_result(g: &Global, file: &Path) -> Outcome {
    let store = open_initialised(g).await?;
    let c = change(g, "kết quả chuyển khoản của ngân hàng — bank result file")?;
    let report = payout::import_bank_result(store.as_ref(), &c, file).await?;
    let format = if g.format == Format::Json {
        Format::Json
    } else {
        Format::Table
    };
    emit(format, &report, || {
        let mut out = fields(&[
            ("Tệp (file)", report.file.clone()),
            ("Số dòng (rows)", report.rows.to_string()),
            ("Đã ghi nhận (recorded)", report.recorded.to_string()),
            ("Số tiền (amount)", vnd(report.amount_recorded.get())),
            (
                "Đã có trước (already recorded)",
                report.already_recorded.to_string(),
            ),
            (
                "Không thành công (failed at the bank)",
                report.failed.len().to_string(),
            ),
            ("Xung đột (conflicts)", report.conflicts.len().to_string()),
            ("Bị từ chối (refused)", report.refused.len().to_string()),
        ]);
        for f in &report.failed {
            out.push_str(&format!(
                "  dòng {}: {} {} {}\n",
                f.row, f.reference, f.status, f.message
            ));
        }
        for s in report.conflicts.iter().chain(&report.refused) {
            out.push_str(&format!("  {s}\n"));
        }
        if !report.problems.is_empty() {
            let mut t = Table::new(&[
                "Dòng (row)",
                "Cột (column)",
                "Giá trị (value)",
                "Lý do (reason)",
            ]);
            for p in &report.problems {
                t.row(vec![
                    p.row.to_string(),
                    p.column.clone(),
                    p.value.clone(),
                    p.reason.clone(),
                ]);
            }
            out.push('\n');
            out.push_str(&t.render());
        }
        out
    })?;
    if !report.problems.is_empty() {
        return Err(FieldError::new(
            "file",
            format!(
                "{} dòng có lỗi — {} problems; nothing was recorded",
                report.problems.len(),
                report.problems.len()
            ),
        )
        .into());
    }
    Ok(())
}

pub async fn export_payroll(g: &Global, a: ExportPayroll) -> Outcome {
    let k = kind(g, &a.output, &[Kind::Xlsx, Kind::Pdf])?;
    let period = period(&a.period)?;
    let program = program(&a.program)?;
    let store = open_initialised(g).await?;
    let made_on = today()?;
    let list = payroll::payroll_list(store.as_ref(), period, &a.point, program, made_on).await?;
    match k {
        Kind::Xlsx => payroll::write_xlsx(&list, &a.output)?,
        Kind::Pdf => write(&a.output, &payroll::pdf(&list, made_on)?)?,
    }
    written(
        g,
        &a.output,
        "Danh sách chi trả (payroll list)",
        &[
            (
                "Điểm chi trả (point)",
                format!("{} {}", list.point.code, list.point.name),
            ),
            ("Kỳ (period)", period.to_string()),
            ("Số người (lines)", list.totals.lines.to_string()),
            ("Tổng cộng (total)", vnd(list.totals.total.get())),
        ],
    )
}

pub async fn export_settlement(g: &Global, a: ExportSettlement) -> Outcome {
    let k = kind(g, &a.output, &[Kind::Xlsx, Kind::Pdf])?;
    let period = period(&a.period)?;
    let store = open_initialised(g).await?;
    let made_on = today()?;
    let doc =
        settlement::settlement_document(store.as_ref(), period, a.contract.as_deref(), made_on)
            .await?;
    match k {
        Kind::Xlsx => settlement::write_xlsx(&doc, &a.output)?,
        Kind::Pdf => write(&a.output, &settlement::pdf(&doc, made_on)?)?,
    }
    written(
        g,
        &a.output,
        "Báo cáo quyết toán (settlement report)",
        &[
            ("Kỳ (period)", period.to_string()),
            ("Tạm ứng (advanced)", vnd(doc.totals.advanced.get())),
            ("Đã chi trả (paid)", vnd(doc.totals.paid.get())),
            ("Hoàn trả (returned)", vnd(doc.totals.returned.get())),
            ("Còn giữ (held)", vnd(doc.totals.held_after.get())),
            ("Phí (fee)", vnd(doc.totals.fee.get())),
            ("Cân đối (balances)", doc.balances.to_string()),
        ],
    )
}

pub async fn export_payout(g: &Global, a: ExportPayout) -> Outcome {
    let period = period(&a.period)?;
    let program = program(&a.program)?;
    let store = open_initialised(g).await?;
    let payouts = payout::payouts(store.as_ref(), period, program).await?;
    let summary = payout::write_payout_csv(period, &payouts, &a.output)?;
    written(
        g,
        &a.output,
        "Tệp chuyển khoản (bank payout file)",
        &[
            ("Kỳ (period)", period.to_string()),
            ("Số giao dịch (transfers)", summary.transfers.to_string()),
            ("Tổng tiền (total)", vnd(summary.total.get())),
        ],
    )
}

pub async fn export_notices(g: &Global, a: ExportNotices) -> Outcome {
    kind(g, &a.output, &[Kind::Pdf])?;
    let period = period(&a.period)?;
    let program = program(&a.program)?;
    let store = open_initialised(g).await?;
    let made_on = today()?;
    let n = notices::notice(store.as_ref(), period, &a.point, program, made_on).await?;
    write(&a.output, &notices::pdf(&n, made_on)?)?;
    written(
        g,
        &a.output,
        "Thông báo lịch chi trả (schedule notice)",
        &[
            (
                "Điểm chi trả (point)",
                format!("{} {}", n.point.code, n.point.name),
            ),
            ("Thời gian (days)", format!("{} – {}", n.from, n.to)),
            ("Số người (people)", n.rows.len().to_string()),
        ],
    )
}

#[derive(Args, Debug)]
pub struct BenchDocuments {
    /// Rows of the spreadsheet to write.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// The .xlsx to write: synthetic beneficiaries of Xã Phú Hưng (Bến Tre), all at one point.
    #[arg(long)]
    pub xlsx: PathBuf,
}

/// Prepares the documents benchmark: a new database (`--db`, which must not exist) with the
/// units, rules, an office, a payment point and a contract, and a synthetic spreadsheet to import
/// into it with `chitra import beneficiaries`. The timed work is then done by the real commands
/// (see BENCHMARKS.md), measured from outside with `/usr/bin/time -v`.
pub async fn bench_documents(g: &Global, a: BenchDocuments) -> Outcome {
    use chitra_core::contract::{FeeRule, NewContract};
    use chitra_core::ids::CommuneCode;
    use chitra_core::office::{NewPaymentPoint, OfficeKind, PointKind};
    use chitra_store::{NewOffice, OpenMode};

    if a.rows == 0 || a.rows > 5_000_000 {
        return Err(FieldError::new("rows", "between 1 and 5,000,000").into());
    }
    let path = g.db.strip_prefix("sqlite://").unwrap_or(&g.db);
    if g.db.starts_with("postgres") || Path::new(path).exists() {
        return Err(FieldError::new(
            "db",
            "give a new SQLite file: the benchmark makes its own database",
        )
        .into());
    }
    let started = std::time::Instant::now();
    let store = crate::commands::open(g, OpenMode::Create).await?;
    crate::commands::initialise(store.as_ref(), g).await?;
    let c = |why: &str| change(g, why);
    store
        .set_setting(&c("bench province")?, "province", "83")
        .await?;
    let office = store
        .add_office(
            &c("bench office")?,
            &NewOffice {
                kind: OfficeKind::DistrictOffice,
                name: "Phòng Lao động - Thương binh và Xã hội thành phố Bến Tre".into(),
                unit_code: "829".into(),
                valid_from: None,
                valid_to: Some(chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or_default()),
            },
        )
        .await?;
    let point = store
        .add_payment_points(
            &c("bench point")?,
            &[NewPaymentPoint {
                code: "BENCH-PHU-HUNG".into(),
                name: "Bưu điện văn hóa xã Phú Hưng".into(),
                kind: PointKind::CommuneCulturalPostOffice,
                commune: CommuneCode::parse("28786")?,
                address: "Ấp Phú Chánh".into(),
                latitude: None,
                longitude: None,
                pay_days: (2, 10),
                opening_days: Default::default(),
            }],
        )
        .await?;
    store
        .add_contract(
            &c("bench contract")?,
            &NewContract {
                code: "BENCH-2021".into(),
                name: "Hợp đồng chi trả (benchmark)".into(),
                office_id: office.id,
                post_office: "Bưu điện tỉnh Bến Tre".into(),
                area_code: "83".into(),
                program: Program::SocialAssistance,
                fee: FeeRule::PerBeneficiary {
                    amount: chitra_core::Dong(6_600),
                },
                advance_by_day: 25,
                pay_from_day: 2,
                pay_to_day: 20,
                report_by_day: 20,
                valid_from: Period::parse("2021-01")?,
                valid_to: None,
            },
        )
        .await?;
    let setup = started.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    chitra_documents::bench::synthetic_register_xlsx(&a.xlsx, a.rows, &point[0].code)?;
    let written_in = t.elapsed().as_secs_f64();
    written(
        g,
        &a.xlsx,
        "Bảng tính tổng hợp (synthetic beneficiaries, for the benchmark)",
        &[
            ("Cơ sở dữ liệu (database)", g.db.clone()),
            ("Văn phòng (office id)", office.id.to_string()),
            ("Điểm chi trả (point)", point[0].code.clone()),
            ("Số dòng (rows)", vnd(a.rows as i64)),
            ("Khởi tạo (setup, s)", format!("{setup:.1}")),
            (
                "Ghi bảng tính (xlsx written, s)",
                format!("{written_in:.1}"),
            ),
        ],
    )
}
