//! Importing beneficiaries from spreadsheets into a real SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use chitra_core::Program;
use chitra_core::decision::{DecisionKind, NewDecision};
use chitra_core::ids::{CitizenId, CommuneCode};
use chitra_core::register::{AddressSpell, NewBeneficiary, Sex};
use chitra_documents::Error;
use chitra_documents::import::{ColumnMap, Context, ImportReport, import_file};
use chitra_documents::legacy::Encoding;
use chitra_store::Store;
use common::{beneficiaries_count, d, on, p, store};
use rust_xlsxwriter::{Format, Workbook};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

const TODAY: &str = "2021-02-20";

async fn run(s: &dyn Store, path: &Path, map: &ColumnMap, dry_run: bool) -> ImportReport {
    let change = on("officer.an", TODAY);
    let ctx = Context::load(s, Program::SocialAssistance, d(TODAY), "officer.an")
        .await
        .unwrap();
    import_file(s, &change, path, map, &ctx, dry_run)
        .await
        .unwrap()
}

/// Name → citizen ID of everyone on the register.
async fn names(s: &dyn Store) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = s
        .register(Program::SocialAssistance)
        .await
        .unwrap()
        .into_iter()
        .map(|f| {
            (
                f.beneficiary.citizen_id.as_str().to_owned(),
                f.beneficiary.full_name,
            )
        })
        .collect();
    v.sort();
    v
}

fn the_three() -> Vec<(String, String)> {
    vec![
        ("083036001002".into(), "Đặng Thị Ước".into()),
        ("083038001001".into(), "Nguyễn Văn Trường".into()),
        ("083060001003".into(), "Lê Thị Bến".into()),
    ]
}

#[tokio::test]
async fn a_good_file_is_registered_once_however_often_it_is_imported() {
    let ts = store().await;
    let s = ts.store.as_ref();
    let map = ColumnMap::default();

    let dry = run(s, &fixture("good.csv"), &map, true).await;
    assert!(dry.is_clean(), "{:?}", dry.problems);
    assert_eq!((dry.rows, dry.to_add, dry.added), (3, 3, 0));
    assert_eq!(
        beneficiaries_count(s).await,
        0,
        "a dry run registers nothing"
    );

    let first = run(s, &fixture("good.csv"), &map, false).await;
    assert_eq!((first.added, first.already_registered), (3, 0));
    assert_eq!(names(s).await, the_three());
    // The commune was named three ways: "Xã Phú Hưng", "Phú Hưng" and its code.
    for f in s.register(Program::SocialAssistance).await.unwrap() {
        assert_eq!(f.beneficiary.addresses[0].commune.as_str(), "28786");
    }
    let journal = s.health().await.unwrap().journal_entries;

    let again = run(s, &fixture("good.csv"), &map, false).await;
    assert!(again.is_clean(), "{:?}", again.problems);
    assert_eq!(
        (again.added, again.already_registered, again.to_add),
        (0, 3, 0)
    );
    assert_eq!(beneficiaries_count(s).await, 3);
    assert_eq!(
        s.health().await.unwrap().journal_entries,
        journal,
        "the second import changed nothing"
    );
}

#[tokio::test]
async fn every_kind_of_bad_row_is_reported_and_nothing_is_imported() {
    let ts = store().await;
    let s = ts.store.as_ref();
    // Someone else already holds the ID of row 6.
    let mut other = NewBeneficiary {
        program: Program::SocialAssistance,
        full_name: "Huỳnh Thị Khác".into(),
        birth_date: d("1935-05-05"),
        sex: Sex::Female,
        citizen_id: CitizenId::parse("083039009999").unwrap(),
        address: AddressSpell {
            from: p("2021-01"),
            commune: CommuneCode::parse("28786").unwrap(),
            hamlet: None,
            street: None,
            facility_id: None,
        },
        payment_point_id: None,
        home_delivery: None,
        bank_account: None,
        grant: NewDecision {
            kind: DecisionKind::Grant,
            number: None,
            category: Some("K5c".into()),
            replaces: None,
            dependants: 1,
            effective: p("2021-01"),
            signed_on: d("2021-01-10"),
            signer: "Chủ tịch UBND".into(),
            reason: "đủ điều kiện".into(),
            death_date: None,
        },
    };
    other.address.hamlet = Some("Ấp Phú Chánh".into());
    s.add_beneficiaries(&on("officer.an", "2021-01-10"), &[other])
        .await
        .unwrap();

    let report = run(s, &fixture("bad_rows.csv"), &ColumnMap::default(), true).await;
    let got: Vec<(u32, &str, &str)> = report
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "Ngày sinh", "31/02/1950"),
            (3, "Số CCCD", "08304000200"),
            (4, "Xã/Phường", "Xã Không Có"),
            (5, "Số CCCD", "083040002003"),
            (6, "Số CCCD", "083039009999"),
            (7, "Diện đối tượng", "K99"),
            (8, "Xã/Phường", "Xã Mỹ Thạnh"),
        ]
    );
    let reasons: Vec<&str> = report.problems.iter().map(|p| p.reason.as_str()).collect();
    assert!(reasons[0].contains("is not a date"), "{}", reasons[0]);
    assert!(reasons[1].contains("exactly 12 digits"), "{}", reasons[1]);
    assert!(reasons[2].contains("unknown commune"), "{}", reasons[2]);
    assert!(reasons[3].contains("row 4"), "{}", reasons[3]);
    assert!(
        reasons[4].contains("already registered to beneficiary 83-"),
        "{}",
        reasons[4]
    );
    assert!(reasons[5].contains("unknown category"), "{}", reasons[5]);
    assert!(
        reasons[6].contains("2 communes are named 'Xã Mỹ Thạnh'"),
        "{}",
        reasons[6]
    );
    assert_eq!((report.rows, report.to_add), (8, 1), "only row 9 is good");

    let real = run(s, &fixture("bad_rows.csv"), &ColumnMap::default(), false).await;
    assert_eq!(real.problems.len(), 7);
    assert_eq!(real.added, 0);
    assert_eq!(
        beneficiaries_count(s).await,
        1,
        "nothing imported: not even the good row"
    );
}

#[tokio::test]
async fn tcvn3_and_vni_files_are_recognised_and_converted() {
    for (file, encoding) in [("tcvn3.csv", Encoding::Tcvn3), ("vni.csv", Encoding::Vni)] {
        let ts = store().await;
        let s = ts.store.as_ref();
        let report = run(s, &fixture(file), &ColumnMap::default(), false).await;
        assert_eq!(report.encoding, encoding, "{file}");
        assert!(report.is_clean(), "{file}: {:?}", report.problems);
        assert_eq!(report.added, 2, "{file}");
        assert_eq!(
            names(s).await,
            vec![
                ("083036001002".into(), "Đặng Thị Ước".into()),
                ("083038001001".into(), "Nguyễn Văn Trường".into()),
            ],
            "{file}"
        );
        let women: Vec<Sex> = s
            .register(Program::SocialAssistance)
            .await
            .unwrap()
            .into_iter()
            .filter(|f| f.beneficiary.citizen_id.as_str() == "083036001002")
            .map(|f| f.beneficiary.sex)
            .collect();
        assert_eq!(women, vec![Sex::Female], "{file}: Nữ decoded");
    }
}

#[tokio::test]
async fn nfd_text_is_stored_as_nfc() {
    let ts = store().await;
    let s = ts.store.as_ref();
    let report = run(s, &fixture("nfd.csv"), &ColumnMap::default(), false).await;
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.encoding, Encoding::Unicode);
    assert_eq!(names(s).await, the_three());
    let hamlets: Vec<String> = s
        .register(Program::SocialAssistance)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|f| f.beneficiary.addresses[0].hamlet.clone())
        .collect();
    assert!(hamlets.contains(&"Ấp Phú Chánh".to_owned()), "{hamlets:?}");
}

#[tokio::test]
async fn xls_and_ods_files_with_spreadsheet_dates() {
    for file in ["beneficiaries.xls", "beneficiaries.ods"] {
        let ts = store().await;
        let s = ts.store.as_ref();
        let report = run(s, &fixture(file), &ColumnMap::default(), false).await;
        assert!(report.is_clean(), "{file}: {:?}", report.problems);
        assert_eq!(report.added, 3, "{file}");
        assert_eq!(names(s).await, the_three(), "{file}");
        let births: Vec<String> = s
            .register(Program::SocialAssistance)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.beneficiary.birth_date.to_string())
            .collect();
        assert!(
            births.contains(&"1938-03-12".to_owned()),
            "{file}: {births:?}"
        );
    }
}

/// An .xlsx as an office keeps it: a title above the headers, other header names (mapped with
/// --map), dates as spreadsheet dates (day numbers with a date format), a name in NFD; with
/// `id_as_number`, one ID typed as a number, which loses its leading zero.
fn office_xlsx(path: &Path, id_as_number: bool) {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    ws.write_string(0, 0, "DANH SÁCH ĐỐI TƯỢNG HƯỞNG TRỢ CẤP")
        .unwrap();
    let headers = [
        "Tên người hưởng",
        "Ngày sinh",
        "Giới tính",
        "Số CCCD",
        "Diện",
        "Xã",
        "Thôn",
        "Ngày hưởng",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    // Day numbers after 30/12/1899: 12/03/1938, 05/11/1936, 20/07/1960; 01/02/2021 is 44228.
    let rows = [
        (
            "Nguye\u{302}\u{303}n Văn Trường",
            13_951.0,
            "Nam",
            "083038001001",
            "K5c",
        ),
        ("Đặng Thị Ước", 13_459.0, "Nữ", "083036001002", "K5c"),
        ("Lê Thị Bến", 22_117.0, "Nữ", "083060001003", "K6b"),
    ];
    for (i, (name, birth, sex, id, cat)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_string(r, 0, *name).unwrap();
        ws.write_number_with_format(r, 1, *birth, &date).unwrap();
        ws.write_string(r, 2, *sex).unwrap();
        if id_as_number && i == 2 {
            ws.write_number(r, 3, id.parse::<f64>().unwrap()).unwrap();
        } else {
            ws.write_string(r, 3, *id).unwrap();
        }
        ws.write_string(r, 4, *cat).unwrap();
        ws.write_string(r, 5, "Phú Hưng").unwrap();
        ws.write_string(r, 6, "Ấp Phú Chánh").unwrap();
        ws.write_number_with_format(r, 7, 44_228.0, &date).unwrap();
    }
    book.save(path).unwrap();
}

#[tokio::test]
async fn an_xlsx_with_a_title_row_other_headers_and_spreadsheet_dates() {
    let ts = store().await;
    let s = ts.store.as_ref();
    let path = ts.dir.path().join("office.xlsx");
    office_xlsx(&path, true);

    let map = ColumnMap::default()
        .with(&["Tên người hưởng=name".into()])
        .unwrap();
    let report = run(s, &path, &map, true).await;
    assert_eq!(report.header_row, 3);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let p = &report.problems[0];
    assert_eq!(
        (p.row, p.column.as_str(), p.value.as_str()),
        (6, "Số CCCD", "83060001003")
    );
    assert!(p.reason.contains("leading 0"), "{}", p.reason);

    // Without the mapping, the name column is not found.
    let e = {
        let ctx = Context::load(s, Program::SocialAssistance, d(TODAY), "officer.an")
            .await
            .unwrap();
        import_file(
            s,
            &on("officer.an", TODAY),
            &path,
            &ColumnMap::default(),
            &ctx,
            true,
        )
        .await
        .unwrap_err()
    };
    match e {
        Error::Invalid(f) => assert!(f.reason.contains("Họ và tên"), "{}", f.reason),
        other => panic!("{other}"),
    }

    // Fixed in the file (the ID typed as text), it imports, NFD name and dates included.
    office_xlsx(&path, false);
    let report = run(s, &path, &map, false).await;
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.added, 3);
    assert_eq!(names(s).await, the_three());
    let births: Vec<String> = s
        .register(Program::SocialAssistance)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.beneficiary.birth_date.to_string())
        .collect();
    assert!(births.contains(&"1938-03-12".to_owned()), "{births:?}");
}
