//! The payroll list of a payment point for a month (*danh sách chi trả*), in the shape offices
//! print and sign: a header naming the province, office, post office, point and month; numbered
//! rows with a signature column; the totals and the total in words; the signature blocks.

use std::collections::HashMap;
use std::path::Path;

use chitra_core::office::PaymentPoint;
use chitra_core::payroll::Channel;
use chitra_core::units::UnitLevel;
use chitra_core::words::in_words_line;
use chitra_core::{Dong, FieldError, Period, Program};
use chitra_store::Store;
use chitra_store::cycle::{LineFilter, LineRow, Run};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::text_nfc as nfc;

/// What heads every document of a month: who pays, through whom, where.
#[derive(Clone, Debug, Serialize)]
pub struct Heading {
    pub province: String,
    pub office: String,
    pub post_office: String,
    pub period: Period,
    /// "tháng 03 năm 2020".
    pub period_vi: String,
    pub program: String,
    /// The data is synthetic (a demo database): said on the document.
    pub demo: bool,
    /// The day the document was made, dd/mm/yyyy.
    pub made_on: String,
}

/// A payment point as documents name it.
#[derive(Clone, Debug, Serialize)]
pub struct PointHeading {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub commune: String,
}

/// One numbered row of the list.
#[derive(Clone, Debug, Serialize)]
pub struct PayrollRow {
    pub number: u64,
    pub code: String,
    pub full_name: String,
    pub birth_year: Option<i32>,
    pub address: String,
    pub category: String,
    /// Months of allowance in the line: this month, and the months carried over uncollected.
    pub months: u32,
    /// The allowance for those months (monthly, carried and re-issued money).
    pub amount: Dong,
    /// Arrears (*truy lĩnh*).
    pub arrears: Dong,
    /// Funeral support (*hỗ trợ mai táng*).
    pub funeral: Dong,
    pub total: Dong,
    pub home_delivery: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PayrollTotals {
    pub lines: u64,
    pub amount: Dong,
    pub arrears: Dong,
    pub funeral: Dong,
    pub total: Dong,
}

/// A point's payroll list for a month.
#[derive(Clone, Debug, Serialize)]
pub struct PayrollList {
    pub heading: Heading,
    pub point: PointHeading,
    pub rows: Vec<PayrollRow>,
    pub totals: PayrollTotals,
}

fn overflow() -> Error {
    Error::Invalid(FieldError::new("amount", "a total is out of range"))
}

pub(crate) fn period_vi(p: Period) -> String {
    format!("tháng {:02} năm {}", p.month(), p.year())
}

/// Finds a payment point by id or code.
pub(crate) async fn find_point(store: &dyn Store, point: &str) -> Result<PaymentPoint> {
    let points = store.payment_points().await?;
    let t = point.trim();
    points
        .into_iter()
        .find(|p| t.parse::<i64>().ok() == Some(p.id) || p.code == t)
        .ok_or_else(|| {
            Error::Invalid(FieldError::new(
                "point",
                format!("không có điểm chi trả '{t}' — no payment point has this id or code"),
            ))
        })
}

/// The heading of a month's documents, from a run of that month.
pub(crate) async fn heading(
    store: &dyn Store,
    run: Option<&Run>,
    period: Period,
    program: Program,
    made_on: chrono::NaiveDate,
) -> Result<Heading> {
    let tree = store.unit_tree().await?;
    let province = match store.setting("province").await? {
        Some(code) => tree
            .at(UnitLevel::Province, &code, period.first_day())
            .map(|u| u.name.clone())
            .unwrap_or(code),
        None => String::new(),
    };
    let offices = store.offices().await?;
    let contracts = store.contracts().await?;
    let office = run
        .and_then(|r| offices.iter().find(|o| o.id == r.office_id))
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let post_office = run
        .and_then(|r| contracts.iter().find(|c| c.id == r.contract_id))
        .map(|c| c.terms.post_office.clone())
        .unwrap_or_default();
    Ok(Heading {
        province: nfc(&province),
        office: nfc(&office),
        post_office: nfc(&post_office),
        period,
        period_vi: period_vi(period),
        program: program.name_vi().to_owned(),
        demo: store.setting("demo").await?.as_deref() == Some("true"),
        made_on: made_on.format("%d/%m/%Y").to_string(),
    })
}

pub(crate) async fn point_heading(store: &dyn Store, p: &PaymentPoint) -> Result<PointHeading> {
    let tree = store.unit_tree().await?;
    let commune = tree
        .units()
        .iter()
        .rev()
        .find(|u| u.level == UnitLevel::Commune && u.code == p.commune.as_str())
        .map(|u| u.name.clone())
        .unwrap_or_default();
    Ok(PointHeading {
        id: p.id,
        code: nfc(&p.code),
        name: nfc(&p.name),
        kind: p.kind.name_vi().to_owned(),
        address: nfc(&p.address),
        commune: nfc(&commune),
    })
}

/// Every line of a run for a point, page by page (the store caps the size of a page).
pub(crate) async fn point_lines(store: &dyn Store, run: i64, point: i64) -> Result<Vec<LineRow>> {
    all_lines(store, run, Some(point), LINES_PAGE)
        .await
        .map(|lines| {
            lines
                .into_iter()
                .filter(|l| matches!(l.channel, Channel::Point(p) if p == point))
                .collect()
        })
}

/// The store's largest page of lines.
pub const LINES_PAGE: i64 = 10_000;

/// Every line of a run (of one point, if given), read `page` lines at a time.
pub async fn all_lines(
    store: &dyn Store,
    run: i64,
    point: Option<i64>,
    page: i64,
) -> Result<Vec<LineRow>> {
    let mut out = Vec::new();
    loop {
        let page = store
            .run_lines(
                run,
                &LineFilter {
                    point_id: point,
                    limit: page,
                    offset: out.len() as i64,
                    ..Default::default()
                },
            )
            .await?;
        let n = page.items.len();
        out.extend(page.items);
        if n == 0 || out.len() as i64 >= page.total {
            break;
        }
    }
    Ok(out)
}

/// The runs of a month for a program.
pub(crate) async fn runs_of(
    store: &dyn Store,
    period: Period,
    program: Program,
) -> Result<Vec<Run>> {
    let runs: Vec<Run> = store
        .runs(Some(period))
        .await?
        .into_iter()
        .filter(|r| r.program == program)
        .collect();
    if runs.is_empty() {
        return Err(Error::NotFound(format!(
            "chưa có danh sách chi trả {} — no {} payroll for {period}",
            period_vi(period),
            program.code()
        )));
    }
    Ok(runs)
}

/// Reads a point's payroll list for a month from the store.
pub async fn payroll_list(
    store: &dyn Store,
    period: Period,
    point: &str,
    program: Program,
    made_on: chrono::NaiveDate,
) -> Result<PayrollList> {
    let point = find_point(store, point).await?;
    let runs = runs_of(store, period, program).await?;
    let mut lines = Vec::new();
    let mut run_of_point = None;
    for run in &runs {
        let l = point_lines(store, run.id, point.id).await?;
        if !l.is_empty() && run_of_point.is_none() {
            run_of_point = Some(run.clone());
        }
        lines.extend(l);
    }
    let heading = heading(
        store,
        run_of_point.as_ref().or(runs.first()),
        period,
        program,
        made_on,
    )
    .await?;
    let files: HashMap<i64, chitra_store::BeneficiaryFile> = store
        .register(program)
        .await?
        .into_iter()
        .map(|f| (f.beneficiary.id, f))
        .collect();
    let tree = store.unit_tree().await?;
    let on = period.first_day();
    let mut commune_names: HashMap<String, String> = HashMap::new();
    let mut rows = Vec::with_capacity(lines.len());
    let mut totals = PayrollTotals::default();
    lines.sort_by_key(|l| l.id);
    for (i, l) in lines.iter().enumerate() {
        let b = files.get(&l.beneficiary_id).map(|f| &f.beneficiary);
        let address = match b.and_then(|b| b.address_at(period)) {
            Some(a) => {
                let commune = commune_names
                    .entry(a.commune.as_str().to_owned())
                    .or_insert_with(|| {
                        tree.at(UnitLevel::Commune, a.commune.as_str(), on)
                            .or_else(|| {
                                tree.units().iter().find(|u| {
                                    u.level == UnitLevel::Commune && u.code == a.commune.as_str()
                                })
                            })
                            .map(|u| u.name.clone())
                            .unwrap_or_default()
                    })
                    .clone();
                [a.hamlet.clone().unwrap_or_default(), commune]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            None => String::new(),
        };
        let amount = Dong::try_sum([l.monthly, l.carried, l.reissued]).map_err(|_| overflow())?;
        let months = u32::from(!l.monthly.is_zero())
            + if l.carried.is_zero() {
                0
            } else {
                l.unpaid_streak.max(1) as u32
            };
        let row = PayrollRow {
            number: i as u64 + 1,
            code: l.beneficiary_code.clone(),
            full_name: nfc(&l.full_name),
            birth_year: b.map(|b| chrono::Datelike::year(&b.birth_date)),
            address: nfc(&address),
            category: l.category.clone().unwrap_or_default(),
            months,
            amount,
            arrears: l.arrears,
            funeral: l.funeral,
            total: l.total,
            home_delivery: l.home_delivery,
        };
        totals.lines += 1;
        totals.amount = totals
            .amount
            .checked_add(row.amount)
            .map_err(|_| overflow())?;
        totals.arrears = totals
            .arrears
            .checked_add(row.arrears)
            .map_err(|_| overflow())?;
        totals.funeral = totals
            .funeral
            .checked_add(row.funeral)
            .map_err(|_| overflow())?;
        totals.total = totals
            .total
            .checked_add(row.total)
            .map_err(|_| overflow())?;
        rows.push(row);
    }
    Ok(PayrollList {
        heading,
        point: point_heading(store, &point).await?,
        rows,
        totals,
    })
}

/// The columns of the list, as printed.
pub const COLUMNS: [&str; 12] = [
    "STT",
    "Mã đối tượng",
    "Họ và tên",
    "Năm sinh",
    "Địa chỉ",
    "Diện",
    "Số tháng",
    "Số tiền",
    "Truy lĩnh",
    "Mai táng phí",
    "Tổng cộng",
    "Ký nhận",
];

/// The signature blocks under a list.
pub const SIGNATURES: [&str; 4] = [
    "Người lập biểu",
    "Kế toán",
    "Thủ trưởng đơn vị",
    "Nhân viên chi trả",
];

/// A whole-đồng amount as a spreadsheet number: exact, since every amount below 2⁵³ is.
pub(crate) fn cell_amount(d: Dong) -> Result<f64> {
    const EXACT: i64 = 1 << 53;
    if d.get().abs() >= EXACT {
        return Err(Error::Invalid(FieldError::new(
            "amount",
            format!("{} is too large for a spreadsheet cell", d.grouped('.')),
        )));
    }
    Ok(d.get() as f64)
}

pub(crate) struct Formats {
    pub title: Format,
    pub bold: Format,
    pub plain: Format,
    pub head: Format,
    pub cell: Format,
    pub center: Format,
    pub money: Format,
    pub total_label: Format,
    pub total_money: Format,
    pub italic: Format,
    pub sign: Format,
}

impl Formats {
    pub fn standard() -> Formats {
        let base = Format::new()
            .set_font_name("Times New Roman")
            .set_font_size(11);
        let boxed = base.clone().set_border(FormatBorder::Thin);
        Formats {
            title: base
                .clone()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center),
            bold: base.clone().set_bold(),
            plain: base.clone(),
            head: boxed
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            cell: boxed.clone().set_text_wrap(),
            center: boxed.clone().set_align(FormatAlign::Center),
            money: boxed.clone().set_num_format("#,##0"),
            total_label: boxed.clone().set_bold().set_align(FormatAlign::Center),
            total_money: boxed.set_bold().set_num_format("#,##0"),
            italic: base.clone().set_italic(),
            sign: base.set_bold().set_align(FormatAlign::Center),
        }
    }
}

pub(crate) fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::write("the spreadsheet", e)
}

/// Writes the list as .xlsx: one sheet, A4 landscape, the column headers repeated on every
/// printed page, page numbers in the footer. Rows are written in order with the constant-memory
/// writer, so a list of any length takes little memory.
pub fn write_xlsx(list: &PayrollList, path: &Path) -> Result<()> {
    let mut book = Workbook::new();
    let f = Formats::standard();
    let ws = book
        .add_worksheet_with_constant_memory()
        .map_err(xlsx_error)?;
    ws.set_name("Danh sách chi trả").map_err(xlsx_error)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_footer("&CTrang &P/&N");
    for (c, w) in [
        5.0, 13.0, 24.0, 8.0, 28.0, 6.0, 7.0, 12.0, 11.0, 11.0, 13.0, 12.0,
    ]
    .into_iter()
    .enumerate()
    {
        ws.set_column_width(c as u16, w).map_err(xlsx_error)?;
    }
    let h = &list.heading;
    let last = (COLUMNS.len() - 1) as u16;
    let mut r: u32 = 0;
    ws.write_string_with_format(r, 0, format!("Tỉnh: {}", h.province), &f.bold)
        .map_err(xlsx_error)?;
    ws.write_string_with_format(r, 7, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", &f.bold)
        .map_err(xlsx_error)?;
    r += 1;
    ws.write_string_with_format(r, 0, format!("Cơ quan chi trả: {}", h.office), &f.plain)
        .map_err(xlsx_error)?;
    ws.write_string_with_format(r, 7, "Độc lập - Tự do - Hạnh phúc", &f.bold)
        .map_err(xlsx_error)?;
    r += 1;
    ws.write_string_with_format(r, 0, format!("Bưu điện: {}", h.post_office), &f.plain)
        .map_err(xlsx_error)?;
    r += 1;
    ws.write_string_with_format(
        r,
        0,
        format!(
            "Điểm chi trả: {} ({}) — {}, {}",
            list.point.name, list.point.code, list.point.address, list.point.commune
        ),
        &f.plain,
    )
    .map_err(xlsx_error)?;
    r += 1;
    ws.merge_range(
        r,
        0,
        r,
        last,
        &format!(
            "DANH SÁCH CHI TRẢ {} {}",
            h.program.to_uppercase(),
            h.period_vi.to_uppercase()
        ),
        &f.title,
    )
    .map_err(xlsx_error)?;
    r += 1;
    if h.demo {
        ws.write_string_with_format(
            r,
            0,
            "Dữ liệu mô phỏng (demo) — synthetic people, not real beneficiaries",
            &f.italic,
        )
        .map_err(xlsx_error)?;
    }
    r += 1;
    let header_row = r;
    for (c, name) in COLUMNS.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *name, &f.head)
            .map_err(xlsx_error)?;
    }
    ws.set_repeat_rows(header_row, header_row)
        .map_err(xlsx_error)?;
    r += 1;
    for row in &list.rows {
        ws.write_number_with_format(r, 0, row.number as f64, &f.center)
            .map_err(xlsx_error)?;
        ws.write_string_with_format(r, 1, &row.code, &f.cell)
            .map_err(xlsx_error)?;
        ws.write_string_with_format(r, 2, &row.full_name, &f.cell)
            .map_err(xlsx_error)?;
        match row.birth_year {
            Some(y) => ws.write_number_with_format(r, 3, f64::from(y), &f.center),
            None => ws.write_string_with_format(r, 3, "", &f.center),
        }
        .map_err(xlsx_error)?;
        ws.write_string_with_format(r, 4, &row.address, &f.cell)
            .map_err(xlsx_error)?;
        ws.write_string_with_format(r, 5, &row.category, &f.center)
            .map_err(xlsx_error)?;
        ws.write_number_with_format(r, 6, f64::from(row.months), &f.center)
            .map_err(xlsx_error)?;
        for (c, d) in [
            (7, row.amount),
            (8, row.arrears),
            (9, row.funeral),
            (10, row.total),
        ] {
            ws.write_number_with_format(r, c, cell_amount(d)?, &f.money)
                .map_err(xlsx_error)?;
        }
        ws.write_string_with_format(r, 11, "", &f.cell)
            .map_err(xlsx_error)?;
        r += 1;
    }
    let t = &list.totals;
    ws.merge_range(
        r,
        0,
        r,
        6,
        &format!("Tổng cộng ({} người)", t.lines),
        &f.total_label,
    )
    .map_err(xlsx_error)?;
    for (c, d) in [(7, t.amount), (8, t.arrears), (9, t.funeral), (10, t.total)] {
        ws.write_number_with_format(r, c, cell_amount(d)?, &f.total_money)
            .map_err(xlsx_error)?;
    }
    ws.write_string_with_format(r, 11, "", &f.cell)
        .map_err(xlsx_error)?;
    r += 2;
    ws.write_string_with_format(r, 0, in_words_line(t.total), &f.italic)
        .map_err(xlsx_error)?;
    r += 2;
    ws.write_string_with_format(r, 8, format!("Ngày {}", h.made_on), &f.italic)
        .map_err(xlsx_error)?;
    r += 1;
    for (c, s) in [
        (1u16, SIGNATURES[0]),
        (4, SIGNATURES[1]),
        (7, SIGNATURES[2]),
        (10, SIGNATURES[3]),
    ] {
        ws.write_string_with_format(r, c, s, &f.sign)
            .map_err(xlsx_error)?;
    }
    r += 1;
    for c in [1u16, 4, 7, 10] {
        ws.write_string_with_format(r, c, "(Ký, ghi rõ họ tên)", &f.italic)
            .map_err(xlsx_error)?;
    }
    book.save(path).map_err(xlsx_error)?;
    Ok(())
}

/// What the PDF template reads: every value already formatted, so the template only lays out.
#[derive(Serialize)]
struct PdfData<'a> {
    heading: &'a Heading,
    point: &'a PointHeading,
    columns: &'a [&'a str],
    signatures: &'a [&'a str],
    rows: Vec<[String; 11]>,
    totals: [String; 5],
    in_words: String,
    part: Part,
}

/// Which part of the list a typst document is (see templates/payroll.typ).
#[derive(Clone, Copy, Serialize)]
struct Part {
    /// It has the heading.
    first: bool,
    /// It has the totals, the amount in words and the signatures.
    last: bool,
    /// Its pages have their footer ("Trang 3 / 40").
    numbered: bool,
    /// Only the footers, on this many blank pages.
    blank: usize,
}

impl Part {
    const WHOLE: Part = Part {
        first: true,
        last: true,
        numbered: true,
        blank: 0,
    };
}

/// Lists longer than this are written as untagged PDF: the structure tree of a list of
/// 100,000 lines multiplies the memory typst needs (see BENCHMARKS.md).
pub const TAGGED_ROWS: usize = 5_000;

/// Lists longer than [`TAGGED_ROWS`] are typeset this many rows at a time, each part a typst
/// document of its own, and their pages joined: the memory typst needs is a part's, not the
/// list's. Each part begins on a new page.
pub const PART_ROWS: usize = 2_000;

fn pdf_data<'a>(list: &'a PayrollList, rows: &[PayrollRow], part: Part) -> PdfData<'a> {
    let money = |d: Dong| d.grouped('.');
    PdfData {
        heading: &list.heading,
        point: &list.point,
        columns: &COLUMNS,
        signatures: &SIGNATURES,
        rows: rows
            .iter()
            .map(|r| {
                [
                    r.number.to_string(),
                    r.code.clone(),
                    r.full_name.clone(),
                    r.birth_year.map(|y| y.to_string()).unwrap_or_default(),
                    r.address.clone(),
                    r.category.clone(),
                    r.months.to_string(),
                    money(r.amount),
                    money(r.arrears),
                    money(r.funeral),
                    money(r.total),
                ]
            })
            .collect(),
        totals: [
            list.totals.lines.to_string(),
            money(list.totals.amount),
            money(list.totals.arrears),
            money(list.totals.funeral),
            money(list.totals.total),
        ],
        in_words: in_words_line(list.totals.total),
        part,
    }
}

const TEMPLATE: &str = include_str!("../templates/payroll.typ");

/// The list as a PDF (A4 landscape, the table header repeated on every page, page numbers).
pub fn pdf(list: &PayrollList, made_on: chrono::NaiveDate) -> Result<Vec<u8>> {
    if list.rows.len() <= TAGGED_ROWS {
        let data = pdf_data(list, &list.rows, Part::WHOLE);
        return crate::pdf::render("payroll", TEMPLATE, &data, made_on, true);
    }
    let chunks: Vec<&[PayrollRow]> = list.rows.chunks(PART_ROWS).collect();
    let mut parts = crate::pdf::Parts::new("payroll");
    for (i, rows) in chunks.iter().enumerate() {
        let part = Part {
            first: i == 0,
            last: i + 1 == chunks.len(),
            numbered: false,
            blank: 0,
        };
        parts.typeset(TEMPLATE, &pdf_data(list, rows, part), made_on)?;
    }
    let footers = Part {
        first: false,
        last: false,
        numbered: true,
        blank: parts.len(),
    };
    parts.lay_over(TEMPLATE, &pdf_data(list, &[], footers), made_on)?;
    parts.pdf()
}
