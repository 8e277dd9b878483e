//! The settlement report of a month (*báo cáo quyết toán*): per contract, what was advanced to the
//! post office, paid, returned, still held, and the fee; per payment point, what it received and
//! what became of it. The figures are the store's settlement, computed from the ledger.

use std::path::Path;

use chitra_core::words::in_words_line;
use chitra_core::{Dong, FieldError, Period, Program};
use chitra_store::Store;
use rust_xlsxwriter::Workbook;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::payroll::{Formats, Heading, cell_amount, heading, xlsx_error};
use crate::text_nfc as nfc;

#[derive(Clone, Debug, Serialize)]
pub struct ContractRow {
    pub code: String,
    pub name: String,
    pub post_office: String,
    pub held_before: Dong,
    pub advanced: Dong,
    pub paid: Dong,
    pub paid_lines: i64,
    pub returned: Dong,
    pub held_after: Dong,
    pub fee: Dong,
    pub balances: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct PointRow {
    /// The point's code, or "Chuyển khoản" for the bank transit account.
    pub code: String,
    pub name: String,
    pub distributed: Dong,
    pub paid: Dong,
    pub paid_lines: i64,
    pub carried: Dong,
    pub returned: Dong,
    pub balances: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SettlementTotals {
    pub held_before: Dong,
    pub advanced: Dong,
    pub paid: Dong,
    pub paid_lines: i64,
    pub returned: Dong,
    pub held_after: Dong,
    pub fee: Dong,
}

/// A month's settlement as a document.
#[derive(Clone, Debug, Serialize)]
pub struct SettlementDocument {
    pub heading: Heading,
    pub contracts: Vec<ContractRow>,
    pub points: Vec<PointRow>,
    pub totals: SettlementTotals,
    /// Every contract and point balances.
    pub balances: bool,
    /// The points table covers the whole month, not only the chosen contract.
    pub points_of_all_contracts: bool,
}

fn overflow() -> Error {
    Error::Invalid(FieldError::new("amount", "a total is out of range"))
}

/// An account name's part after the kind, as the ledger writes names.
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

/// Reads the settlement of `period` (optionally of one contract, by code).
pub async fn settlement_document(
    store: &dyn Store,
    period: Period,
    contract: Option<&str>,
    made_on: chrono::NaiveDate,
) -> Result<SettlementDocument> {
    let report = store.settlement(period).await?;
    let contracts = store.contracts().await?;
    if let Some(code) = contract
        && !contracts.iter().any(|c| c.terms.code == code.trim())
    {
        return Err(Error::Invalid(FieldError::new(
            "contract",
            format!("không có hợp đồng '{code}' — no contract has this code"),
        )));
    }
    let runs = store.runs(Some(period)).await?;
    let program = runs
        .iter()
        .find(|r| {
            contract.is_none_or(|code| {
                contracts
                    .iter()
                    .any(|c| c.id == r.contract_id && c.terms.code == code.trim())
            })
        })
        .map(|r| r.program)
        .unwrap_or(Program::SocialAssistance);
    let run = runs.iter().find(|r| r.program == program);
    let mut heading = heading(store, run, period, program, made_on).await?;
    heading.office = String::new();
    let points = store.payment_points().await?;
    let mut doc = SettlementDocument {
        heading,
        contracts: Vec::new(),
        points: Vec::new(),
        totals: SettlementTotals::default(),
        balances: true,
        points_of_all_contracts: contract.is_some(),
    };
    for (account, m) in &report.settlement.contracts {
        let code = account.strip_prefix("post:").unwrap_or(account);
        let c = contracts.iter().find(|c| segment(&c.terms.code) == code);
        if let Some(wanted) = contract
            && c.is_none_or(|c| c.terms.code != wanted.trim())
        {
            continue;
        }
        let row = ContractRow {
            code: c
                .map(|c| c.terms.code.clone())
                .unwrap_or_else(|| code.to_owned()),
            name: nfc(&c.map(|c| c.terms.name.clone()).unwrap_or_default()),
            post_office: nfc(&c.map(|c| c.terms.post_office.clone()).unwrap_or_default()),
            held_before: m.held_before,
            advanced: m.advanced,
            paid: m.paid,
            paid_lines: m.paid_lines,
            returned: m.returned,
            held_after: m.held_after,
            fee: m.fee,
            balances: m.balances,
        };
        let t = &mut doc.totals;
        t.held_before = t
            .held_before
            .checked_add(row.held_before)
            .map_err(|_| overflow())?;
        t.advanced = t
            .advanced
            .checked_add(row.advanced)
            .map_err(|_| overflow())?;
        t.paid = t.paid.checked_add(row.paid).map_err(|_| overflow())?;
        t.paid_lines += row.paid_lines;
        t.returned = t
            .returned
            .checked_add(row.returned)
            .map_err(|_| overflow())?;
        t.held_after = t
            .held_after
            .checked_add(row.held_after)
            .map_err(|_| overflow())?;
        t.fee = t.fee.checked_add(row.fee).map_err(|_| overflow())?;
        doc.balances &= row.balances;
        doc.contracts.push(row);
    }
    if doc.contracts.is_empty() {
        return Err(Error::NotFound(format!(
            "chưa có quyết toán tháng {period} — nothing was advanced or paid in {period}"
        )));
    }
    for (account, m) in &report.settlement.points {
        let (code, name) = match account.split_once(':') {
            Some(("cash", code)) => {
                let p = points.iter().find(|p| segment(&p.code) == code);
                (
                    p.map(|p| p.code.clone()).unwrap_or_else(|| code.to_owned()),
                    p.map(|p| nfc(&p.name)).unwrap_or_default(),
                )
            }
            Some(("bank", contract)) => (
                format!("Chuyển khoản {contract}"),
                "Ngân hàng, ví điện tử — bank and e-wallet transfers".to_owned(),
            ),
            _ => (account.clone(), String::new()),
        };
        doc.balances &= m.balances;
        doc.points.push(PointRow {
            code: nfc(&code),
            name,
            distributed: m.distributed,
            paid: m.paid,
            paid_lines: m.paid_lines,
            carried: m.carried,
            returned: m.returned,
            balances: m.balances,
        });
    }
    Ok(doc)
}

const CONTRACT_COLUMNS: [&str; 10] = [
    "Hợp đồng",
    "Bưu điện",
    "Tồn đầu kỳ",
    "Tạm ứng",
    "Đã chi trả",
    "Số lượt chi trả",
    "Hoàn trả",
    "Còn giữ (chuyển tháng sau)",
    "Phí chi trả",
    "Cân đối",
];

const POINT_COLUMNS: [&str; 8] = [
    "Mã điểm",
    "Điểm chi trả",
    "Đã nhận",
    "Đã chi trả",
    "Số lượt",
    "Chuyển tháng sau",
    "Hoàn trả",
    "Cân đối",
];

const SETTLEMENT_SIGNATURES: [&str; 4] = [
    "Người lập biểu",
    "Kế toán",
    "Thủ trưởng đơn vị",
    "Đại diện bưu điện",
];

fn yes_no(b: bool) -> &'static str {
    if b { "Khớp" } else { "KHÔNG KHỚP" }
}

/// Writes the settlement as .xlsx: the contracts table with its totals, then the points table.
pub fn write_xlsx(doc: &SettlementDocument, path: &Path) -> Result<()> {
    let mut book = Workbook::new();
    let f = Formats::standard();
    let ws = book
        .add_worksheet_with_constant_memory()
        .map_err(xlsx_error)?;
    ws.set_name("Quyết toán").map_err(xlsx_error)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_footer("&CTrang &P/&N");
    for (c, w) in [16.0, 26.0, 14.0, 15.0, 15.0, 10.0, 14.0, 15.0, 13.0, 11.0]
        .into_iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, w).map_err(xlsx_error)?;
    }
    let h = &doc.heading;
    let mut r = 0u32;
    ws.write_string_with_format(r, 0, format!("Tỉnh: {}", h.province), &f.bold)
        .map_err(xlsx_error)?;
    ws.write_string_with_format(r, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", &f.bold)
        .map_err(xlsx_error)?;
    r += 1;
    ws.write_string_with_format(r, 6, "Độc lập - Tự do - Hạnh phúc", &f.bold)
        .map_err(xlsx_error)?;
    r += 1;
    ws.merge_range(
        r,
        0,
        r,
        9,
        &format!(
            "BÁO CÁO QUYẾT TOÁN CHI TRẢ {} {}",
            h.program.to_uppercase(),
            h.period_vi.to_uppercase()
        ),
        &f.title,
    )
    .map_err(xlsx_error)?;
    r += 1;
    if h.demo {
        ws.write_string_with_format(r, 0, "Dữ liệu mô phỏng (demo) — synthetic data", &f.italic)
            .map_err(xlsx_error)?;
    }
    r += 2;
    ws.write_string_with_format(r, 0, "I. Theo hợp đồng chi trả", &f.bold)
        .map_err(xlsx_error)?;
    r += 1;
    for (c, name) in CONTRACT_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *name, &f.head)
            .map_err(xlsx_error)?;
    }
    r += 1;
    for c in &doc.contracts {
        ws.write_string_with_format(r, 0, &c.code, &f.cell)
            .map_err(xlsx_error)?;
        ws.write_string_with_format(r, 1, &c.post_office, &f.cell)
            .map_err(xlsx_error)?;
        for (col, d) in [(2, c.held_before), (3, c.advanced), (4, c.paid)] {
            ws.write_number_with_format(r, col, cell_amount(d)?, &f.money)
                .map_err(xlsx_error)?;
        }
        ws.write_number_with_format(r, 5, c.paid_lines as f64, &f.money)
            .map_err(xlsx_error)?;
        for (col, d) in [(6, c.returned), (7, c.held_after), (8, c.fee)] {
            ws.write_number_with_format(r, col, cell_amount(d)?, &f.money)
                .map_err(xlsx_error)?;
        }
        ws.write_string_with_format(r, 9, yes_no(c.balances), &f.center)
            .map_err(xlsx_error)?;
        r += 1;
    }
    let t = &doc.totals;
    ws.merge_range(r, 0, r, 1, "Tổng cộng", &f.total_label)
        .map_err(xlsx_error)?;
    for (col, d) in [(2, t.held_before), (3, t.advanced), (4, t.paid)] {
        ws.write_number_with_format(r, col, cell_amount(d)?, &f.total_money)
            .map_err(xlsx_error)?;
    }
    ws.write_number_with_format(r, 5, t.paid_lines as f64, &f.total_money)
        .map_err(xlsx_error)?;
    for (col, d) in [(6, t.returned), (7, t.held_after), (8, t.fee)] {
        ws.write_number_with_format(r, col, cell_amount(d)?, &f.total_money)
            .map_err(xlsx_error)?;
    }
    ws.write_string_with_format(r, 9, yes_no(doc.balances), &f.total_label)
        .map_err(xlsx_error)?;
    r += 1;
    ws.write_string_with_format(
        r,
        0,
        format!("Số tiền đã chi trả — {}", in_words_line(t.paid)),
        &f.italic,
    )
    .map_err(xlsx_error)?;
    r += 2;
    let title = if doc.points_of_all_contracts {
        "II. Theo điểm chi trả (mọi hợp đồng của tháng)"
    } else {
        "II. Theo điểm chi trả"
    };
    ws.write_string_with_format(r, 0, title, &f.bold)
        .map_err(xlsx_error)?;
    r += 1;
    for (c, name) in POINT_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *name, &f.head)
            .map_err(xlsx_error)?;
    }
    r += 1;
    for p in &doc.points {
        ws.write_string_with_format(r, 0, &p.code, &f.cell)
            .map_err(xlsx_error)?;
        ws.write_string_with_format(r, 1, &p.name, &f.cell)
            .map_err(xlsx_error)?;
        for (col, d) in [(2, p.distributed), (3, p.paid)] {
            ws.write_number_with_format(r, col, cell_amount(d)?, &f.money)
                .map_err(xlsx_error)?;
        }
        ws.write_number_with_format(r, 4, p.paid_lines as f64, &f.money)
            .map_err(xlsx_error)?;
        for (col, d) in [(5, p.carried), (6, p.returned)] {
            ws.write_number_with_format(r, col, cell_amount(d)?, &f.money)
                .map_err(xlsx_error)?;
        }
        ws.write_string_with_format(r, 7, yes_no(p.balances), &f.center)
            .map_err(xlsx_error)?;
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(r, 7, format!("Ngày {}", h.made_on), &f.italic)
        .map_err(xlsx_error)?;
    r += 1;
    for (c, s) in [
        (0u16, SETTLEMENT_SIGNATURES[0]),
        (2, SETTLEMENT_SIGNATURES[1]),
        (4, SETTLEMENT_SIGNATURES[2]),
        (7, SETTLEMENT_SIGNATURES[3]),
    ] {
        ws.write_string_with_format(r, c, s, &f.sign)
            .map_err(xlsx_error)?;
    }
    book.save(path).map_err(xlsx_error)?;
    Ok(())
}

#[derive(Serialize)]
struct PdfData<'a> {
    heading: &'a Heading,
    contract_columns: &'a [&'a str],
    point_columns: &'a [&'a str],
    signatures: &'a [&'a str],
    contracts: Vec<Vec<String>>,
    totals: Vec<String>,
    points: Vec<Vec<String>>,
    points_title: &'a str,
    in_words: String,
}

/// The settlement as a PDF (A4 landscape).
pub fn pdf(doc: &SettlementDocument, made_on: chrono::NaiveDate) -> Result<Vec<u8>> {
    let m = |d: Dong| d.grouped('.');
    let t = &doc.totals;
    let data = PdfData {
        heading: &doc.heading,
        contract_columns: &CONTRACT_COLUMNS,
        point_columns: &POINT_COLUMNS,
        signatures: &SETTLEMENT_SIGNATURES,
        contracts: doc
            .contracts
            .iter()
            .map(|c| {
                vec![
                    c.code.clone(),
                    c.post_office.clone(),
                    m(c.held_before),
                    m(c.advanced),
                    m(c.paid),
                    c.paid_lines.to_string(),
                    m(c.returned),
                    m(c.held_after),
                    m(c.fee),
                    yes_no(c.balances).to_owned(),
                ]
            })
            .collect(),
        totals: vec![
            m(t.held_before),
            m(t.advanced),
            m(t.paid),
            t.paid_lines.to_string(),
            m(t.returned),
            m(t.held_after),
            m(t.fee),
            yes_no(doc.balances).to_owned(),
        ],
        points: doc
            .points
            .iter()
            .map(|p| {
                vec![
                    p.code.clone(),
                    p.name.clone(),
                    m(p.distributed),
                    m(p.paid),
                    p.paid_lines.to_string(),
                    m(p.carried),
                    m(p.returned),
                    yes_no(p.balances).to_owned(),
                ]
            })
            .collect(),
        points_title: if doc.points_of_all_contracts {
            "II. Theo điểm chi trả (mọi hợp đồng của tháng)"
        } else {
            "II. Theo điểm chi trả"
        },
        in_words: format!("Số tiền đã chi trả — {}", in_words_line(t.paid)),
    };
    crate::pdf::render(
        "settlement",
        include_str!("../templates/settlement.typ"),
        &data,
        made_on,
        true,
    )
}
