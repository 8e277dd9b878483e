//! Payroll lists, settlement reports, payout files and notices from a real month on a real SQLite
//! store; the .xlsx read back with calamine, the PDF read back with pdftotext.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use calamine::{Data, Reader};
use chitra_core::payment::{Identity, Location};
use chitra_core::payroll::Channel;
use chitra_core::words::in_words_line;
use chitra_core::{Dong, Program};
use chitra_documents::{notices, payout, payroll, settlement};
use chitra_store::Store;
use chitra_store::cycle::{LineFilter, LineRow, NewPayment, PaymentResult};
use common::{Month, d, march_2021, on, p, pdf_pages, pdf_text};

const MADE_ON: &str = "2021-03-01";

fn sheet(path: &std::path::Path) -> Vec<Vec<Data>> {
    let mut book = calamine::open_workbook_auto(path).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

fn text(c: &Data) -> String {
    match c {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// A money cell: a whole number of đồng.
fn money(c: &Data) -> i64 {
    match c {
        Data::Float(f) => {
            assert_eq!(f.fract(), 0.0, "{f} is not whole đồng");
            *f as i64
        }
        Data::Int(i) => *i,
        other => panic!("{other:?} is not an amount"),
    }
}

async fn lines(s: &dyn Store, run: i64) -> Vec<LineRow> {
    s.run_lines(
        run,
        &LineFilter {
            limit: 10_000,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .items
}

/// Stores a name decomposed (NFD), as a careless import or a direct database edit might.
async fn store_name_in_nfd(m: &Month, citizen_id: &str, name: &str) {
    use unicode_normalization::UnicodeNormalization;
    let url = format!("sqlite://{}", m.ts.path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let nfd: String = name.nfd().collect();
    assert_ne!(nfd, name);
    sqlx::query("UPDATE beneficiaries SET full_name = ?1 WHERE citizen_id = ?2")
        .bind(nfd)
        .bind(citizen_id)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

#[tokio::test]
async fn the_payroll_list_as_xlsx_adds_up_and_reads_back() {
    let m = march_2021().await;
    let s = m.ts.store.as_ref();
    store_name_in_nfd(&m, "083036000002", "Đặng Thị Ước").await;
    let list = payroll::payroll_list(
        s,
        p("2021-03"),
        &m.point.code,
        Program::SocialAssistance,
        d(MADE_ON),
    )
    .await
    .unwrap();
    let path = m.ts.dir.path().join("payroll.xlsx");
    payroll::write_xlsx(&list, &path).unwrap();

    let rows = sheet(&path);
    let header = rows
        .iter()
        .position(|r| r.first().map(text).as_deref() == Some("STT"))
        .unwrap();
    assert_eq!(
        rows[header].iter().map(text).collect::<Vec<_>>(),
        payroll::COLUMNS
    );
    let totals_at = rows
        .iter()
        .position(|r| text(&r[0]).starts_with("Tổng cộng"))
        .unwrap();
    let data = &rows[header + 1..totals_at];

    // What the store says the point is owed, independently of the document.
    let owed: Vec<LineRow> = lines(s, m.run.id)
        .await
        .into_iter()
        .filter(|l| l.channel == Channel::Point(m.point.id))
        .collect();
    assert_eq!(data.len(), owed.len());
    assert_eq!(
        data.len(),
        4,
        "four people at the point; the two bank lines are not"
    );
    let store_total: i64 = owed.iter().map(|l| l.total.get()).sum();
    assert!(store_total > 0);

    let mut sums = [0i64; 4];
    for (i, r) in data.iter().enumerate() {
        assert_eq!(money(&r[0]), i as i64 + 1, "numbered rows");
        let (amount, arrears, funeral, total) =
            (money(&r[7]), money(&r[8]), money(&r[9]), money(&r[10]));
        assert_eq!(amount + arrears + funeral, total, "row {}", i + 1);
        for (s, v) in sums.iter_mut().zip([amount, arrears, funeral, total]) {
            *s += v;
        }
        assert_eq!(text(&r[11]), "", "the signature column is left blank");
    }
    let t = &rows[totals_at];
    assert_eq!(
        [money(&t[7]), money(&t[8]), money(&t[9]), money(&t[10])],
        sums,
        "the totals row is the sum of the rows"
    );
    assert_eq!(
        sums[3], store_total,
        "and equals what the store owes the point"
    );
    assert_eq!(text(&t[0]), "Tổng cộng (4 người)");

    let all: Vec<String> = rows.iter().flatten().map(text).collect();
    assert!(all.contains(&in_words_line(Dong(store_total))));
    for name in [
        "Nguyễn Văn Ân",
        "Đặng Thị Ước",
        "Lê Văn Trường",
        "Trần Thị Đào",
    ] {
        assert!(all.contains(&name.to_owned()), "{name} (NFC) in {all:?}");
    }
    for s in payroll::SIGNATURES {
        assert!(all.contains(&s.to_owned()), "{s}");
    }
    assert!(all.iter().any(|c| c.contains("Tỉnh Bến Tre")));
    assert!(all.iter().any(|c| c.contains("Bưu điện tỉnh Bến Tre")));
    assert!(
        all.iter()
            .any(|c| c.contains("Bưu điện văn hóa xã Phú Hưng"))
    );
    assert!(all.iter().any(|c| c.contains("THÁNG 03 NĂM 2021")));
}

#[tokio::test]
async fn lines_are_read_past_the_stores_page() {
    let m = march_2021().await;
    let s = m.ts.store.as_ref();
    let whole = lines(s, m.run.id).await;
    assert_eq!(whole.len(), 6);
    for page in [1, 2, 4] {
        let paged = payroll::all_lines(s, m.run.id, None, page).await.unwrap();
        assert_eq!(
            paged.iter().map(|l| l.id).collect::<Vec<_>>(),
            whole.iter().map(|l| l.id).collect::<Vec<_>>(),
            "pages of {page}"
        );
    }
    let at_point = payroll::all_lines(s, m.run.id, Some(m.point.id), 3)
        .await
        .unwrap();
    assert_eq!(at_point.len(), 4);
}

#[tokio::test]
async fn the_payroll_list_as_pdf_reads_in_vietnamese() {
    let m = march_2021().await;
    let s = m.ts.store.as_ref();
    store_name_in_nfd(&m, "083036000002", "Đặng Thị Ước").await;
    let list = payroll::payroll_list(
        s,
        p("2021-03"),
        &m.point.id.to_string(),
        Program::SocialAssistance,
        d(MADE_ON),
    )
    .await
    .unwrap();
    let pdf = payroll::pdf(&list, d(MADE_ON)).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf, m.ts.dir.path());
    for name in [
        "Nguyễn Văn Ân",
        "Đặng Thị Ước",
        "Lê Văn Trường",
        "Trần Thị Đào",
    ] {
        assert!(text.contains(name), "{name} in\n{text}");
    }
    assert!(text.contains(&in_words_line(list.totals.total)), "{text}");
    assert!(text.contains("Trang 1 / 1"), "{text}");
    insta::assert_snapshot!("payroll_pdf_text", text);
}

#[tokio::test]
async fn a_long_list_repeats_its_header_on_every_page() {
    let m = march_2021().await;
    let s = m.ts.store.as_ref();
    let list = payroll::payroll_list(
        s,
        p("2021-03"),
        &m.point.code,
        Program::SocialAssistance,
        d(MADE_ON),
    )
    .await
    .unwrap();
    // The same rows many times over: layout, not data, is under test here.
    let mut long = list.clone();
    long.rows = (0..120)
        .map(|i| {
            let mut r = list.rows[i % list.rows.len()].clone();
            r.number = i as u64 + 1;
            r
        })
        .collect();
    let pdf = payroll::pdf(&long, d(MADE_ON)).unwrap();
    let pages = pdf_pages(&pdf, m.ts.dir.path());
    assert!(pages >= 3, "{pages} pages");
    let text = pdf_text(&pdf, m.ts.dir.path());
    let page_texts: Vec<&str> = text
        .split('\u{c}')
        .filter(|t| !t.trim().is_empty())
        .collect();
    assert_eq!(page_texts.len() as u32, pages);
    for (i, page) in page_texts.iter().enumerate() {
        assert!(page.contains("Họ và tên"), "page {} has the header", i + 1);
        assert!(page.contains("Ký nhận"), "page {}", i + 1);
        assert!(
            page.contains(&format!("Trang {} / {pages}", i + 1)),
            "page {} is numbered",
            i + 1
        );
    }
    assert!(page_texts[pages as usize - 1].contains("Nhân viên chi trả"));
}

#[tokio::test]
async fn a_list_typeset_in_parts_reads_as_one_document() {
    let m = march_2021().await;
    let s = m.ts.store.as_ref();
    let list = payroll::payroll_list(
        s,
        p("2021-03"),
        &m.point.code,
        Program::SocialAssistance,
        d(MADE_ON),
    )
    .await
    .unwrap();
    // Long enough for three parts: 2,000 + 2,000 + 1,001 rows.
    let n = payroll::TAGGED_ROWS + 1;
    assert!(n > 2 * payroll::PART_ROWS);
    let mut long = list.clone();
    long.rows = (0..n)
        .map(|i| {
            let mut r = list.rows[i % list.rows.len()].clone();
            r.number = i as u64 + 1;
            r
        })
        .collect();
    long.totals.lines = n as u64;
    let pdf = payroll::pdf(&long, d(MADE_ON)).unwrap();
    let pages = pdf_pages(&pdf, m.ts.dir.path());
    let text = pdf_text(&pdf, m.ts.dir.path());
    let page_texts: Vec<&str> = text
        .split('\u{c}')
        .filter(|t| !t.trim().is_empty())
        .collect();
    assert_eq!(page_texts.len() as u32, pages);
    assert!(pages > 100, "{pages} pages");
    for (i, page) in page_texts.iter().enumerate() {
        assert!(page.contains("Họ và tên"), "page {} has the header", i + 1);
        assert!(page.contains("Ký nhận"), "page {}", i + 1);
        assert_eq!(
            page.matches(&format!("Trang {} / {pages}", i + 1)).count(),
            1,
            "page {} is numbered once, in one sequence",
            i + 1
        );
    }
    // The heading once, on the first page; totals, amount in words and signatures once, at the end.
    assert_eq!(text.matches("DANH SÁCH CHI TRẢ").count(), 1);
    assert!(page_texts[0].contains("DANH SÁCH CHI TRẢ"));
    let last = page_texts[pages as usize - 1];
    let totals = format!("Tổng cộng ({n} người)");
    assert_eq!(text.matches(&totals).count(), 1, "{totals}");
    assert!(last.contains(&totals));
    let words = in_words_line(long.totals.total);
    assert_eq!(text.matches(&words).count(), 1);
    assert!(last.contains(&words));
    assert_eq!(text.matches("Nhân viên chi trả").count(), 1);
    assert!(last.contains("Nhân viên chi trả"));
    // Every row, in order, across the parts' seams.
    let numbers: Vec<u64> = text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let first = words.next()?.parse().ok()?;
            words.next()?.starts_with("83-").then_some(first)
        })
        .collect();
    assert_eq!(numbers, (1..=n as u64).collect::<Vec<_>>());
}

/// Pays three of the point's lines in cash, the bank lines through the bank's result file, and
/// closes the month.
async fn pay_and_close(m: &Month) -> payout::BankResultReport {
    let s = m.ts.store.as_ref();
    let all = lines(s, m.run.id).await;
    let mut cash: Vec<NewPayment> = Vec::new();
    for l in all
        .iter()
        .filter(|l| l.channel == Channel::Point(m.point.id))
        .take(3)
    {
        // The agent sees the beneficiary's own card.
        let file = s.beneficiary(&l.beneficiary_code).await.unwrap().unwrap();
        cash.push(NewPayment {
            id: format!("tablet-{}", l.id),
            line_id: l.id,
            amount: l.total,
            paid_at: chrono::DateTime::parse_from_rfc3339("2021-03-05T09:00:00+07:00").unwrap(),
            agent: "agent.hoa".into(),
            identity: Identity::CitizenId {
                number: file.beneficiary.citizen_id.clone(),
            },
            location: Location::Point,
        });
    }
    let results = s
        .record_payments(&on("agent.hoa", "2021-03-05"), &cash)
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|r| matches!(r, PaymentResult::Accepted { .. }))
    );

    let payouts = payout::payouts(s, p("2021-03"), Program::SocialAssistance)
        .await
        .unwrap();
    let result = m.ts.dir.path().join("bank-result.csv");
    let mut csv = String::from("reference,status,amount,transaction_id,paid_at,message\n");
    for x in &payouts {
        csv.push_str(&format!(
            "{},OK,{},FT-{},2021-03-04 10:15,\n",
            x.reference,
            x.amount.get(),
            x.reference
        ));
    }
    std::fs::write(&result, csv).unwrap();
    let report = payout::import_bank_result(s, &on("post.manager", "2021-03-06"), &result).await;
    let report = report.unwrap();
    s.close_payroll(&on("post.manager", "2021-03-21"), m.run.id)
        .await
        .unwrap();
    report
}

#[tokio::test]
async fn the_payout_file_and_the_banks_result() {
    let m = march_2021().await;
    let s = m.ts.store.as_ref();
    let payouts = payout::payouts(s, p("2021-03"), Program::SocialAssistance)
        .await
        .unwrap();
    assert_eq!(payouts.len(), 2);
    let path = m.ts.dir.path().join("payout.csv");
    let summary = payout::write_payout_csv(p("2021-03"), &payouts, &path).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    let mut reader = csv::Reader::from_reader(written.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(headers, payout::PAYOUT_COLUMNS);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let accounts: Vec<&str> = records.iter().map(|r| &r[1]).collect();
    assert_eq!(accounts.len(), 2);
    assert!(accounts.contains(&"7300205123456") && accounts.contains(&"7300205654321"));
    let total: i64 = records.iter().map(|r| r[3].parse::<i64>().unwrap()).sum();
    assert_eq!(Dong(total), summary.total);
    let owed: i64 = lines(s, m.run.id)
        .await
        .iter()
        .filter(|l| l.channel == Channel::Bank)
        .map(|l| l.total.get())
        .sum();
    assert_eq!(total, owed, "the file pays exactly the bank lines");
    assert!(records.iter().any(|r| &r[4] == "Phạm Thị Nguyệt"));

    // The bank paid one and failed the other.
    let result = m.ts.dir.path().join("result.csv");
    std::fs::write(
        &result,
        format!(
            "reference,status,amount,transaction_id,paid_at,message\n\
             {},Thành công,{},FT2106400001,2021-03-04 10:15,\n\
             {},FAILED,{},,,Tài khoản không tồn tại\n",
            records[0][0].to_owned(),
            &records[0][3],
            records[1][0].to_owned(),
            &records[1][3],
        ),
    )
    .unwrap();
    let first = payout::import_bank_result(s, &on("post.manager", "2021-03-05"), &result)
        .await
        .unwrap();
    assert_eq!((first.recorded, first.already_recorded), (1, 0));
    assert_eq!(first.failed.len(), 1);
    assert_eq!(first.failed[0].message, "Tài khoản không tồn tại");
    let again = payout::import_bank_result(s, &on("post.manager", "2021-03-05"), &result)
        .await
        .unwrap();
    assert_eq!(
        (again.recorded, again.already_recorded),
        (0, 1),
        "reading the result again records nothing twice"
    );
    // The failed transfer is still due: the next payout file holds it alone.
    let left = payout::payouts(s, p("2021-03"), Program::SocialAssistance)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].reference, records[1][0].to_owned());

    // A result that does not match the line changes nothing.
    std::fs::write(
        &result,
        format!(
            "reference,status,amount,transaction_id\n{},OK,1,FT2106400002\nCT202103-999999,OK,5,FT3\n",
            records[1][0].to_owned()
        ),
    )
    .unwrap();
    let bad = payout::import_bank_result(s, &on("post.manager", "2021-03-05"), &result)
        .await
        .unwrap();
    assert_eq!(bad.recorded, 0);
    let columns: Vec<(u32, &str)> = bad
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str()))
        .collect();
    assert_eq!(columns, vec![(2, "amount"), (3, "reference")]);
    assert_eq!(
        payout::payouts(s, p("2021-03"), Program::SocialAssistance)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_settlement_as_xlsx_and_pdf() {
    let m = march_2021().await;
    let s = m.ts.store.as_ref();
    let bank = pay_and_close(&m).await;
    assert_eq!(bank.recorded, 2, "{bank:?}");
    let doc = settlement::settlement_document(s, p("2021-03"), None, d("2021-04-10"))
        .await
        .unwrap();
    let report = s.settlement(p("2021-03")).await.unwrap();
    let month = report
        .settlement
        .contracts
        .get("post:BT-BĐ-2021")
        .unwrap()
        .clone();
    assert!(doc.balances);

    let path = m.ts.dir.path().join("settlement.xlsx");
    settlement::write_xlsx(&doc, &path).unwrap();
    let rows = sheet(&path);
    let contract = rows.iter().find(|r| text(&r[0]) == "BT-BĐ-2021").unwrap();
    let figures: Vec<i64> = [2, 3, 4, 6, 7, 8]
        .iter()
        .map(|c| money(&contract[*c]))
        .collect();
    assert_eq!(
        figures,
        vec![
            month.held_before.get(),
            month.advanced.get(),
            month.paid.get(),
            month.returned.get(),
            month.held_after.get(),
            month.fee.get()
        ]
    );
    assert_eq!(money(&contract[5]), month.paid_lines);
    assert_eq!(month.paid_lines, 5, "three in cash, two by bank");
    assert_eq!(
        figures[0] + figures[1],
        figures[2] + figures[3] + figures[4],
        "advanced = paid + returned + still held"
    );
    assert_eq!(month.fee, Dong(5 * 6_600));
    let totals = rows.iter().find(|r| text(&r[0]) == "Tổng cộng").unwrap();
    assert_eq!(money(&totals[4]), month.paid.get());
    assert_eq!(text(&contract[9]), "Khớp");
    // Points: what each received is paid, carried or returned.
    let header = rows.iter().position(|r| text(&r[0]) == "Mã điểm").unwrap();
    let mut point_paid = 0;
    for r in rows[header + 1..]
        .iter()
        .take_while(|r| !text(&r[0]).is_empty())
    {
        let (got, paid, carried, returned) =
            (money(&r[2]), money(&r[3]), money(&r[5]), money(&r[6]));
        assert_eq!(got, paid + carried + returned, "{}", text(&r[0]));
        point_paid += paid;
    }
    assert_eq!(
        point_paid,
        month.paid.get(),
        "the points' payments add up to the contract's"
    );

    let pdf = settlement::pdf(&doc, d("2021-04-10")).unwrap();
    let text = pdf_text(&pdf, m.ts.dir.path());
    assert!(text.contains("BÁO CÁO QUYẾT TOÁN"), "{text}");
    assert!(text.contains(&in_words_line(month.paid)), "{text}");
    assert!(text.contains("Bưu điện văn hóa xã Phú Hưng"), "{text}");
    insta::assert_snapshot!("settlement_pdf_text", text);

    let unknown =
        settlement::settlement_document(s, p("2021-03"), Some("NO-SUCH"), d("2021-04-10")).await;
    assert!(
        matches!(unknown, Err(chitra_documents::Error::Invalid(ref f)) if f.field == "contract")
    );
}

#[tokio::test]
async fn the_points_schedule_notice() {
    let m = march_2021().await;
    let s = m.ts.store.as_ref();
    let notice = notices::notice(
        s,
        p("2021-03"),
        &m.point.code,
        Program::SocialAssistance,
        d(MADE_ON),
    )
    .await
    .unwrap();
    assert_eq!(
        (notice.from.as_str(), notice.to.as_str()),
        ("02/03/2021", "10/03/2021")
    );
    let pdf = notices::pdf(&notice, d(MADE_ON)).unwrap();
    let text = pdf_text(&pdf, m.ts.dir.path());
    assert!(text.contains("THÔNG BÁO"), "{text}");
    assert!(
        text.contains("từ ngày 02/03/2021 đến ngày 10/03/2021"),
        "{text}"
    );
    assert!(text.contains("Trần Thị Đào"), "{text}");
    assert!(text.contains("Chi trả tại nhà"), "{text}");
    assert!(
        !text.contains("083031000004"),
        "no citizen ID on a public notice"
    );
    insta::assert_snapshot!("notice_pdf_text", text);
}
