//! A corner of a province to work on: two communes of Vĩnh Long (from July 2025), their offices,
//! three payment points, beneficiaries, contracts, and a user of each role. Shared by the server's
//! tests and the command line's (which includes this file by path).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use chitra_core::access::{Role, Scope};
use chitra_core::contract::{FeeRule, NewContract};
use chitra_core::decision::{DecisionKind, NewDecision};
use chitra_core::ids::{CitizenId, CommuneCode};
use chitra_core::office::{NewPaymentPoint, OfficeKind, PointKind};
use chitra_core::register::{AddressSpell, NewBeneficiary, Sex};
use chitra_core::rules::RuleBook;
use chitra_core::units::{OfficialFiles, load_official};
use chitra_core::{Dong, Period, Program};
use chitra_store::access::NewUser;
use chitra_store::{Change, NewOffice, Store};

/// Every fixture user's password.
pub const PASSWORD: &str = "mật khẩu thử nghiệm";

fn c(actor: &str) -> Change {
    Change::now(actor, "thiết lập thử nghiệm")
}

/// What the fixture made: ids the tests refer to.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub period: Period,
    pub office: i64,
    pub other_office: i64,
    /// Two points in Phường Phú Khương, one in Phường Sơn Đông.
    pub point1: i64,
    pub point2: i64,
    pub point3: i64,
    /// Beneficiary codes by point.
    pub at_point1: Vec<String>,
    pub at_point2: Vec<String>,
    pub at_point3: Vec<String>,
    /// Each beneficiary's citizen ID, by code: what their card shows an agent.
    pub citizen_ids: std::collections::HashMap<String, String>,
}

pub fn person(name: &str, n: u32, commune: &str, point: i64) -> NewBeneficiary {
    let grant = NewDecision {
        kind: DecisionKind::Grant,
        number: Some(format!("{n}/QĐ-UBND")),
        category: Some("K5c".into()),
        replaces: None,
        dependants: 1,
        effective: Period::parse("2025-08").unwrap(),
        signed_on: chrono::NaiveDate::from_ymd_opt(2025, 8, 1).unwrap(),
        signer: "Chủ tịch UBND phường".into(),
        reason: "đủ điều kiện hưởng".into(),
        death_date: None,
    };
    NewBeneficiary {
        program: Program::SocialAssistance,
        full_name: name.into(),
        birth_date: chrono::NaiveDate::from_ymd_opt(1935, 1 + n % 12, 1 + n % 28).unwrap(),
        sex: if n % 2 == 0 { Sex::Female } else { Sex::Male },
        citizen_id: CitizenId::parse(&format!("0861{:08}", n)).unwrap(),
        address: AddressSpell {
            from: Period::parse("2025-08").unwrap(),
            commune: CommuneCode::parse(commune).unwrap(),
            hamlet: Some("Khu phố 1".into()),
            street: None,
            facility_id: None,
        },
        payment_point_id: Some(point),
        home_delivery: None,
        bank_account: None,
        grant,
    }
}

const NAMES: [&str; 8] = [
    "Nguyễn Văn Ân",
    "Trần Thị Bình",
    "Lê Văn Cường",
    "Đặng Thị Đào",
    "Phạm Văn Em",
    "Huỳnh Thị Giang",
    "Võ Văn Hải",
    "Nguyễn Thị Hoa",
];

/// A province's corner: two communes of Vĩnh Long (from July 2025), their offices, three points,
/// beneficiaries (`extra` more at point 1), contracts, and one user of each role.
pub async fn build(s: &dyn Store, extra: u32) -> Fixture {
    let official = load_official(&OfficialFiles::EMBEDDED).unwrap();
    s.initialise(&c("admin"), &official, &RuleBook::statutory().unwrap())
        .await
        .unwrap();
    let office = |name: &str, unit: &str| NewOffice {
        kind: OfficeKind::CommuneCommittee,
        name: name.into(),
        unit_code: unit.into(),
        valid_from: chrono::NaiveDate::from_ymd_opt(2025, 7, 1),
        valid_to: None,
    };
    let o1 = s
        .add_office(&c("admin"), &office("UBND phường Phú Khương", "28756"))
        .await
        .unwrap();
    let o2 = s
        .add_office(&c("admin"), &office("UBND phường Sơn Đông", "28783"))
        .await
        .unwrap();
    let point = |code: &str, name: &str, commune: &str| NewPaymentPoint {
        code: code.into(),
        name: name.into(),
        kind: PointKind::CommuneCulturalPostOffice,
        commune: CommuneCode::parse(commune).unwrap(),
        address: format!("{name}, Vĩnh Long"),
        latitude: Some(10.24),
        longitude: Some(106.38),
        pay_days: (1, 28),
        opening_days: Default::default(),
    };
    let points = s
        .add_payment_points(
            &c("admin"),
            &[
                point("VL-28756-1", "Bưu điện văn hóa phường Phú Khương", "28756"),
                point("VL-28756-2", "Bưu cục Phú Khương", "28756"),
                point("VL-28783-1", "Bưu điện văn hóa phường Sơn Đông", "28783"),
            ],
        )
        .await
        .unwrap();
    let (p1, p2, p3) = (points[0].id, points[1].id, points[2].id);
    let mut people = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let n = i as u32 + 1;
        let (commune, point) = match i {
            0..=2 => ("28756", p1),
            3..=5 => ("28756", p2),
            _ => ("28783", p3),
        };
        people.push(person(name, n, commune, point));
    }
    for k in 0..extra {
        people.push(person(&format!("Nguyễn Văn Thử {k}"), 100 + k, "28756", p1));
    }
    let made = s.add_beneficiaries(&c("admin"), &people).await.unwrap();
    let codes = |p: i64| {
        made.iter()
            .filter(|f| f.beneficiary.payment_point_id == Some(p))
            .map(|f| f.beneficiary.code.clone())
            .collect::<Vec<_>>()
    };
    for (o, code) in [(o1.id, "VL-BĐ-28756"), (o2.id, "VL-BĐ-28783")] {
        s.add_contract(
            &c("admin"),
            &NewContract {
                code: code.into(),
                name: "Hợp đồng chi trả trợ giúp xã hội qua bưu điện".into(),
                office_id: o,
                post_office: "Bưu điện tỉnh Vĩnh Long".into(),
                area_code: "86".into(),
                program: Program::SocialAssistance,
                fee: FeeRule::PerBeneficiary {
                    amount: Dong(6_600),
                },
                advance_by_day: 25,
                pay_from_day: 1,
                pay_to_day: 28,
                report_by_day: 20,
                valid_from: Period::parse("2025-07").unwrap(),
                valid_to: None,
            },
        )
        .await
        .unwrap();
    }
    let hash = chitra_server::auth::hash_password(PASSWORD).unwrap();
    let user = |name: &str, role: Role, scope: Scope| NewUser {
        username: name.into(),
        display_name: format!("Người dùng {name}"),
        password_hash: hash.clone(),
        role,
        scope,
    };
    for u in [
        user("admin", Role::Admin, Scope::Country),
        user("can.bo", Role::LocalOfficer, Scope::Commune("28756".into())),
        user(
            "chu.tich",
            Role::LocalOfficer,
            Scope::Commune("28756".into()),
        ),
        user(
            "can.bo.son.dong",
            Role::LocalOfficer,
            Scope::Commune("28783".into()),
        ),
        user(
            "so.ldtbxh",
            Role::ProvinceOfficer,
            Scope::Province("86".into()),
        ),
        user(
            "buu.dien",
            Role::PostManager,
            Scope::Commune("28756".into()),
        ),
        user("nhan.vien.1", Role::Agent, Scope::Point(p1)),
        user("nhan.vien.2", Role::Agent, Scope::Point(p2)),
        user("thanh.tra", Role::Inspector, Scope::Province("86".into())),
    ] {
        s.add_user(&c("admin"), &u).await.unwrap();
    }
    let today = Change::now("x", "x").date();
    Fixture {
        period: Period::of(today),
        office: o1.id,
        other_office: o2.id,
        point1: p1,
        point2: p2,
        point3: p3,
        at_point1: codes(p1),
        at_point2: codes(p2),
        at_point3: codes(p3),
        citizen_ids: made
            .iter()
            .map(|f| {
                (
                    f.beneficiary.code.clone(),
                    f.beneficiary.citizen_id.as_str().to_owned(),
                )
            })
            .collect(),
    }
}
