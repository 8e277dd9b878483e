//! A real SQLite store in a temporary directory, with the official units and rules, and (for the
//! exports) a small month of Bến Tre city run through the real cycle.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use chitra_core::contract::{FeeRule, NewContract};
use chitra_core::decision::{DecisionKind, NewDecision};
use chitra_core::ids::{CitizenId, CommuneCode};
use chitra_core::office::{NewPaymentPoint, OfficeKind, PaymentPoint, PointKind};
use chitra_core::register::{AddressSpell, BankAccount, NewBeneficiary, Sex};
use chitra_core::rules::RuleBook;
use chitra_core::units::{OfficialFiles, load_official};
use chitra_core::{Dong, Period, Program};
use chitra_store::cycle::Run;
use chitra_store::{Change, NewOffice, OpenMode, Store};
use chrono::NaiveDate;

pub struct TestStore {
    pub store: Box<dyn Store>,
    pub path: PathBuf,
    pub dir: tempfile::TempDir,
}

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub fn p(s: &str) -> Period {
    Period::parse(s).unwrap()
}

pub fn on(who: &str, date: &str) -> Change {
    Change::on(who, "kiểm thử tài liệu", d(date))
}

/// An initialised store of the province of Bến Tre (code 83).
pub async fn store() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chitra.db");
    let store = chitra_store::open(path.to_str().unwrap(), OpenMode::Create)
        .await
        .unwrap();
    let official = load_official(&OfficialFiles::EMBEDDED).unwrap();
    store
        .initialise(
            &on("admin", "2021-01-04"),
            &official,
            &RuleBook::statutory().unwrap(),
        )
        .await
        .unwrap();
    store
        .set_setting(&on("admin", "2021-01-04"), "province", "83")
        .await
        .unwrap();
    TestStore { store, path, dir }
}

pub async fn beneficiaries_count(s: &dyn Store) -> i64 {
    s.health().await.unwrap().beneficiaries
}

pub struct Month {
    pub ts: TestStore,
    pub point: PaymentPoint,
    pub run: Run,
}

fn person(name: &str, birth: &str, id: &str, category: &str, hamlet: &str) -> NewBeneficiary {
    NewBeneficiary {
        program: Program::SocialAssistance,
        full_name: name.into(),
        birth_date: d(birth),
        sex: Sex::Female,
        citizen_id: CitizenId::parse(id).unwrap(),
        address: AddressSpell {
            from: p("2021-01"),
            commune: CommuneCode::parse("28786").unwrap(),
            hamlet: Some(hamlet.into()),
            street: None,
            facility_id: None,
        },
        payment_point_id: None,
        home_delivery: None,
        bank_account: None,
        grant: NewDecision {
            kind: DecisionKind::Grant,
            number: Some("15/QĐ-UBND".into()),
            category: Some(category.into()),
            replaces: None,
            dependants: 1,
            effective: p("2021-01"),
            signed_on: d("2021-01-10"),
            signer: "Chủ tịch UBND thành phố Bến Tre".into(),
            reason: "đủ điều kiện hưởng".into(),
            death_date: None,
        },
    }
}

/// March 2021 in Xã Phú Hưng: four people paid at the commune's cultural post office (one at
/// home), two by bank transfer; the payroll generated, approved, funded and opened.
pub async fn march_2021() -> Month {
    let ts = store().await;
    let s = ts.store.as_ref();
    let office = s
        .add_office(
            &on("admin", "2021-01-04"),
            &NewOffice {
                kind: OfficeKind::DistrictOffice,
                name: "Phòng Lao động - Thương binh và Xã hội thành phố Bến Tre".into(),
                unit_code: "829".into(),
                valid_from: None,
                valid_to: Some(d("2025-06-30")),
            },
        )
        .await
        .unwrap();
    let point = s
        .add_payment_points(
            &on("admin", "2021-01-04"),
            &[NewPaymentPoint {
                code: "BĐVHX-PHU-HUNG".into(),
                name: "Bưu điện văn hóa xã Phú Hưng".into(),
                kind: PointKind::CommuneCulturalPostOffice,
                commune: CommuneCode::parse("28786").unwrap(),
                address: "Ấp Phú Chánh".into(),
                latitude: None,
                longitude: None,
                pay_days: (2, 10),
                opening_days: Default::default(),
            }],
        )
        .await
        .unwrap()
        .remove(0);
    s.add_contract(
        &on("admin", "2021-01-04"),
        &NewContract {
            code: "BT-BĐ-2021".into(),
            name: "Hợp đồng chi trả trợ giúp xã hội qua bưu điện năm 2021".into(),
            office_id: office.id,
            post_office: "Bưu điện tỉnh Bến Tre".into(),
            area_code: "83".into(),
            program: Program::SocialAssistance,
            fee: FeeRule::PerBeneficiary {
                amount: Dong(6_600),
            },
            advance_by_day: 25,
            pay_from_day: 2,
            pay_to_day: 20,
            report_by_day: 20,
            valid_from: p("2021-01"),
            valid_to: None,
        },
    )
    .await
    .unwrap();
    let at_point = |mut b: NewBeneficiary| {
        b.payment_point_id = Some(point.id);
        b
    };
    let by_bank = |mut b: NewBeneficiary, account: &str| {
        b.bank_account = Some(BankAccount {
            bank: "Ngân hàng Nông nghiệp và Phát triển Nông thôn (Agribank)".into(),
            account: account.into(),
        });
        b
    };
    let mut home = at_point(person(
        "Trần Thị Đào",
        "1931-05-05",
        "083031000004",
        "K5c",
        "Ấp Phú Lợi",
    ));
    home.home_delivery = Some("già yếu, không đi lại được".into());
    let batch = vec![
        at_point(person(
            "Nguyễn Văn Ân",
            "1938-01-01",
            "083038000001",
            "K5c",
            "Ấp Phú Chánh",
        )),
        at_point(person(
            "Đặng Thị Ước",
            "1936-02-02",
            "083036000002",
            "K5c",
            "Ấp Phú Chánh",
        )),
        at_point(person(
            "Lê Văn Trường",
            "1960-03-03",
            "083060000003",
            "K6b",
            "Ấp Phú Hòa",
        )),
        home,
        by_bank(
            person(
                "Phạm Thị Nguyệt",
                "1939-06-06",
                "083039000005",
                "K5c",
                "Ấp Phú Hòa",
            ),
            "7300205123456",
        ),
        by_bank(
            person(
                "Võ Văn Hùng",
                "1940-07-07",
                "083040000006",
                "K5c",
                "Ấp Phú Lợi",
            ),
            "7300205654321",
        ),
    ];
    s.add_beneficiaries(&on("officer.an", "2021-01-10"), &batch)
        .await
        .unwrap();
    let mut run = None;
    for (month, prev_day, own_day) in [("2021-03", "2021-02-", "2021-03-")] {
        let r = s
            .generate_payroll(
                &on("officer.an", &format!("{prev_day}21")),
                office.id,
                Program::SocialAssistance,
                p(month),
            )
            .await
            .unwrap();
        s.approve_payroll(&on("officer.binh", &format!("{prev_day}22")), r.id)
            .await
            .unwrap();
        s.fund_payroll(&on("officer.an", &format!("{prev_day}24")), r.id)
            .await
            .unwrap();
        run = Some(
            s.open_payroll(&on("post.manager", &format!("{own_day}02")), r.id)
                .await
                .unwrap(),
        );
    }
    Month {
        ts,
        point,
        run: run.unwrap(),
    }
}

/// The text of a PDF, as `pdftotext -layout` reads it (poppler-utils; `.ci/run` installs it).
pub fn pdf_text(pdf: &[u8], dir: &Path) -> String {
    let file = dir.join("out.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext must be installed (Debian package poppler-utils)");
    assert!(out.status.success(), "pdftotext failed: {:?}", out);
    String::from_utf8(out.stdout).unwrap()
}

/// The number of pages of a PDF (`pdfinfo`).
pub fn pdf_pages(pdf: &[u8], dir: &Path) -> u32 {
    let file = dir.join("pages.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdfinfo").arg(&file).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
