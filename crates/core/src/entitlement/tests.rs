use chrono::NaiveDate;

use super::*;
use crate::decision::{DecisionKind, NewDecision, check_decision};
use crate::entitlement::Learned;
use crate::ids::{CitizenId, CommuneCode};
use crate::program::Program;
use crate::register::{AddressSpell, Sex};
use crate::rules::Coefficient;

fn p(s: &str) -> Period {
    Period::parse(s).unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn rules() -> RuleBook {
    RuleBook::statutory().unwrap()
}

fn person(program: Program, birth: NaiveDate, facility: Option<i64>) -> Beneficiary {
    Beneficiary {
        id: 1,
        code: "83-0000001".into(),
        program,
        full_name: "Nguyễn Văn Ân".into(),
        birth_date: birth,
        sex: Sex::Male,
        citizen_id: CitizenId::parse("083050000001").unwrap(),
        addresses: vec![AddressSpell {
            from: Period::of(birth),
            commune: CommuneCode::parse("28756").unwrap(),
            hamlet: None,
            street: None,
            facility_id: facility,
        }],
        payment_point_id: None,
        home_delivery: None,
        bank_account: None,
    }
}

/// Someone who is `age` in `period` (born on the 1st of that month, `age` years before).
fn aged(age: i32, period: Period) -> NaiveDate {
    NaiveDate::from_ymd_opt(period.year() - age, period.month(), 1).unwrap()
}

fn decision(
    id: i64,
    kind: DecisionKind,
    category: Option<&str>,
    effective: &str,
    signed: &str,
) -> Decision {
    Decision {
        id,
        beneficiary_id: 1,
        recorded_on: d(signed),
        terms: NewDecision {
            kind,
            number: Some(format!("{id}/QĐ-UBND")),
            category: category.map(str::to_owned),
            replaces: None,
            dependants: 1,
            effective: p(effective),
            signed_on: d(signed),
            signer: "Chủ tịch UBND huyện".into(),
            reason: "test".into(),
            death_date: None,
        },
    }
}

fn grant(id: i64, category: &str, effective: &str, signed: &str) -> Decision {
    decision(id, DecisionKind::Grant, Some(category), effective, signed)
}

fn amount_in(b: &Beneficiary, ds: &[Decision], period: &str) -> MonthAmount {
    month_amount(b, ds, &rules(), p(period), Known::All)
}

/// Every row of the coefficient tables, checked by hand-written amounts: under Decree 136/2013 in
/// June 2019 (base 270,000) and under Decree 20/2021 in August 2021 (base 360,000).
#[test]
fn every_row_of_the_coefficient_table() {
    // category, age, dependants, coefficient, amount at 270,000, amount at 360,000
    let cases: &[(&str, i32, u32, u32, i64, i64)] = &[
        ("K1", 0, 1, 2500, 675_000, 900_000),
        ("K1", 3, 1, 2500, 675_000, 900_000),
        ("K1", 4, 1, 1500, 405_000, 540_000),
        ("K1", 15, 1, 1500, 405_000, 540_000),
        ("K2", 16, 1, 1500, 405_000, 540_000),
        ("K2", 22, 1, 1500, 405_000, 540_000),
        ("K3", 3, 1, 2500, 675_000, 900_000),
        ("K3", 4, 1, 2000, 540_000, 720_000),
        ("K3", 15, 1, 2000, 540_000, 720_000),
        ("K4", 35, 1, 1000, 270_000, 360_000),
        ("K4", 35, 3, 1000, 810_000, 1_080_000),
        ("K5a", 60, 1, 1500, 405_000, 540_000),
        ("K5a", 79, 1, 1500, 405_000, 540_000),
        ("K5a", 80, 1, 2000, 540_000, 720_000),
        ("K5c", 80, 1, 1000, 270_000, 360_000),
        ("K5c", 101, 1, 1000, 270_000, 360_000),
        ("K5d", 70, 1, 3000, 810_000, 1_080_000),
        ("K6a", 10, 1, 2500, 675_000, 900_000),
        ("K6a", 16, 1, 2000, 540_000, 720_000),
        ("K6a", 59, 1, 2000, 540_000, 720_000),
        ("K6a", 60, 1, 2500, 675_000, 900_000),
        ("K6b", 10, 1, 2000, 540_000, 720_000),
        ("K6b", 30, 1, 1500, 405_000, 540_000),
        ("K6b", 65, 1, 2000, 540_000, 720_000),
        ("K8", 30, 1, 1500, 405_000, 540_000),
    ];
    let book = rules();
    let mut hit = std::collections::BTreeSet::new();
    for (period, column) in [("2019-06", 0), ("2021-08", 1)] {
        let period = p(period);
        for &(cat, age, dependants, coefficient, at270, at360) in cases {
            let b = person(Program::SocialAssistance, aged(age, period), None);
            let mut g = grant(1, cat, &period.to_string(), &period.first_day().to_string());
            g.terms.dependants = dependants;
            let m = month_amount(&b, &[g], &book, period, Known::All);
            let expected = if column == 0 { at270 } else { at360 };
            assert_eq!(
                m.amount,
                Dong(expected),
                "{cat} aged {age} in {period}: {}",
                m.rule
            );
            assert_eq!(
                m.components[0].rate,
                Some(Rate::Coefficient(Coefficient::from_thousandths(
                    coefficient
                )))
            );
            let row = book
                .coefficient(cat, period, i64::from(age), Known::All)
                .unwrap();
            hit.insert((row.category.clone(), row.from, row.min_age));
        }
    }
    // New in 2021, so only in August 2021: K5b, K7.
    for &(cat, age, amount) in &[
        ("K5b", 75, 360_000),
        ("K5b", 79, 360_000),
        ("K7", 0, 540_000),
        ("K7", 2, 540_000),
    ] {
        let period = p("2021-08");
        let b = person(Program::SocialAssistance, aged(age, period), None);
        let m = amount_in(&b, &[grant(1, cat, "2021-08", "2021-08-01")], "2021-08");
        assert_eq!(m.amount, Dong(amount), "{cat} aged {age}: {}", m.rule);
        let row = book
            .coefficient(cat, period, i64::from(age), Known::All)
            .unwrap();
        hit.insert((row.category.clone(), row.from, row.min_age));
    }
    // Facility care: 5.0 under 4, 4.0 from 4, paid to the facility.
    for (period, age, amount) in [
        ("2019-06", 3, 1_350_000),
        ("2019-06", 4, 1_080_000),
        ("2021-08", 3, 1_800_000),
        ("2021-08", 40, 1_440_000),
    ] {
        let b = person(Program::SocialAssistance, aged(age, p(period)), Some(7));
        let m = amount_in(&b, &[grant(1, "K1", "2014-01", "2013-12-01")], period);
        assert_eq!(
            m.amount,
            Dong(amount),
            "facility, aged {age} in {period}: {}",
            m.rule
        );
        assert_eq!(m.paid_to, Residence::Facility(7));
        assert_eq!(m.principal_category.as_deref(), Some("NTT"));
        let row = book
            .coefficient("NTT", p(period), i64::from(age), Known::All)
            .unwrap();
        hit.insert((row.category.clone(), row.from, row.min_age));
    }
    // The social pension from July 2025: a fixed 500,000 from 75.
    let b = person(Program::SocialAssistance, aged(76, p("2025-08")), None);
    let m = amount_in(&b, &[grant(1, "HTXH", "2025-07", "2025-07-01")], "2025-08");
    assert_eq!(m.amount, Dong(500_000));
    hit.insert(("HTXH".into(), p("2025-07"), 75));
    // Merit allowances: 1, 2 and 3 times the merit base.
    for (period, base) in [("2019-06", 1_515_000), ("2021-08", 1_624_000)] {
        for (cat, times) in [("LS1", 1), ("LS2", 2), ("LS3", 3)] {
            let b = person(Program::MeritAllowance, d("1940-01-01"), None);
            let m = amount_in(&b, &[grant(1, cat, "2018-01", "2017-12-01")], period);
            assert_eq!(m.amount, Dong(base * times), "{cat} in {period}");
            let row = book.coefficient(cat, p(period), 79, Known::All).unwrap();
            hit.insert((row.category.clone(), row.from, row.min_age));
        }
    }
    for row in &book.coefficients {
        assert!(
            hit.contains(&(row.category.clone(), row.from, row.min_age)),
            "no case covers {} from {} ({})",
            row.category,
            row.from,
            row.age_band()
        );
    }
}

#[test]
fn outside_its_age_bands_a_category_pays_nothing_and_says_why() {
    let period = p("2021-08");
    for (cat, age) in [("K1", 16), ("K2", 23), ("K5b", 80), ("K7", 3), ("K3", 16)] {
        let b = person(Program::SocialAssistance, aged(age, period), None);
        let m = amount_in(&b, &[grant(1, cat, "2014-01", "2013-12-01")], "2021-08");
        assert_eq!(m.amount, Dong::ZERO, "{cat} at {age}");
        assert_eq!(m.status, MonthStatus::NoRate);
        assert!(m.rule.contains("pays ages"), "{}", m.rule);
    }
    // K5b does not exist before July 2021.
    let b = person(Program::SocialAssistance, aged(76, p("2020-06")), None);
    let m = amount_in(&b, &[grant(1, "K5b", "2020-06", "2020-06-01")], "2020-06");
    assert_eq!(m.amount, Dong::ZERO);
}

#[test]
fn a_birthday_changes_the_coefficient_in_its_month() {
    // K5a: 1.5 until 80, 2.0 from the month of the 80th birthday.
    let b = person(Program::SocialAssistance, d("1939-03-28"), None);
    let ds = [grant(1, "K5a", "2015-01", "2014-12-20")];
    assert_eq!(amount_in(&b, &ds, "2019-02").amount, Dong(405_000));
    assert_eq!(amount_in(&b, &ds, "2019-03").amount, Dong(540_000));
    // K1: 2.5 under 4, 1.5 from the month of the 4th birthday.
    let child = person(Program::SocialAssistance, d("2016-11-30"), None);
    let ds = [grant(1, "K1", "2017-01", "2016-12-20")];
    assert_eq!(amount_in(&child, &ds, "2020-10").amount, Dong(675_000));
    assert_eq!(amount_in(&child, &ds, "2020-11").amount, Dong(405_000));
    // A disabled adult turning 60 moves to the elderly coefficient.
    let b = person(Program::SocialAssistance, d("1961-07-15"), None);
    let ds = [grant(1, "K6b", "2015-01", "2014-12-20")];
    assert_eq!(amount_in(&b, &ds, "2021-06").amount, Dong(405_000));
    assert_eq!(
        amount_in(&b, &ds, "2021-07").amount,
        Dong(720_000),
        "60 and base 360,000 in the same month"
    );
}

#[test]
fn the_base_changes_in_2021_07_and_2024_07() {
    let b = person(Program::SocialAssistance, d("1930-05-05"), None);
    let ds = [grant(1, "K5c", "2014-01", "2013-12-01")];
    assert_eq!(amount_in(&b, &ds, "2021-06").amount, Dong(270_000));
    assert_eq!(amount_in(&b, &ds, "2021-07").amount, Dong(360_000));
    assert_eq!(amount_in(&b, &ds, "2024-06").amount, Dong(360_000));
    assert_eq!(amount_in(&b, &ds, "2024-07").amount, Dong(500_000));
    let m = amount_in(&b, &ds, "2024-07");
    assert_eq!(
        m.components[0].base_source.as_deref(),
        Some("Decree 76/2024/NĐ-CP Art. 1")
    );
    assert!(m.rule.contains("coefficient 1.0"), "{}", m.rule);

    // Decree 20/2021 was signed in March: the July 2021 payroll already knows 360,000.
    let book = rules();
    let e = entitlement(&b, &ds, &book, p("2021-07")).unwrap();
    assert_eq!((e.month.amount, e.total), (Dong(360_000), Dong(360_000)));
    // Decree 76/2024 was signed on 1 July 2024: July is paid at 360,000 and August carries the
    // difference for July as arrears.
    let july = entitlement(&b, &ds, &book, p("2024-07")).unwrap();
    assert_eq!(july.total, Dong(360_000));
    let aug = entitlement(&b, &ds, &book, p("2024-08")).unwrap();
    assert_eq!(aug.month.amount, Dong(500_000));
    assert_eq!(aug.arrears.len(), 1);
    assert_eq!(aug.arrears[0].month, p("2024-07"));
    assert_eq!(aug.arrears[0].amount, Dong(140_000));
    assert_eq!(aug.total, Dong(640_000));
    assert!(
        aug.arrears_reasons
            .iter()
            .any(|r| r.contains("Decree 76/2024")),
        "{:?}",
        aug.arrears_reasons
    );
}

#[test]
fn a_retroactive_decision_pays_arrears_across_the_base_change() {
    // Granted K6b (1.5) on 15 August 2021, effective May 2021: the September payroll pays September
    // and, as arrears, May and June at 270,000 × 1.5, July and August at 360,000 × 1.5.
    let b = person(Program::SocialAssistance, d("1985-02-10"), None);
    let ds = [grant(1, "K6b", "2021-05", "2021-08-15")];
    let book = rules();
    let aug = entitlement(&b, &ds, &book, p("2021-08")).unwrap();
    assert_eq!(
        aug.total,
        Dong::ZERO,
        "not known when August's payroll was made"
    );
    let sep = entitlement(&b, &ds, &book, p("2021-09")).unwrap();
    assert_eq!(sep.month.amount, Dong(540_000));
    let arrears: Vec<(String, i64)> = sep
        .arrears
        .iter()
        .map(|a| (a.month.to_string(), a.amount.get()))
        .collect();
    assert_eq!(
        arrears,
        [
            ("2021-05".to_string(), 405_000),
            ("2021-06".into(), 405_000),
            ("2021-07".into(), 540_000),
            ("2021-08".into(), 540_000)
        ]
    );
    assert_eq!(sep.total, Dong(540_000 + 405_000 * 2 + 540_000 * 2));
    assert!(
        sep.arrears_reasons[0].contains("grant K6b"),
        "{:?}",
        sep.arrears_reasons
    );
    let oct = entitlement(&b, &ds, &book, p("2021-10")).unwrap();
    assert!(oct.arrears.is_empty(), "arrears are paid once");
    assert_eq!(oct.total, Dong(540_000));
}

#[test]
fn death_stops_payment_the_month_after_and_pays_funeral_support() {
    let b = person(Program::SocialAssistance, d("1935-01-01"), None);
    let book = rules();
    let mut ds = vec![grant(1, "K5c", "2015-01", "2014-12-01")];
    ds.push(Decision {
        id: 2,
        beneficiary_id: 1,
        recorded_on: d("2020-05-20"),
        terms: NewDecision::death(
            d("2020-05-10"),
            d("2020-05-20"),
            "Chủ tịch UBND huyện",
            "chết",
        ),
    });
    assert_eq!(ds[1].terms.effective, p("2020-06"));
    assert_eq!(
        amount_in(&b, &ds, "2020-05").amount,
        Dong(270_000),
        "the month of death is paid"
    );
    let june = amount_in(&b, &ds, "2020-06");
    assert_eq!(
        (june.amount, june.status),
        (Dong::ZERO, MonthStatus::Deceased)
    );
    // The June payroll learns of the death: no June allowance, funeral support of 20 × 270,000.
    let e = entitlement(&b, &ds, &book, p("2020-06")).unwrap();
    let funeral = e.funeral.as_ref().unwrap();
    assert_eq!(funeral.amount, Dong(5_400_000));
    assert_eq!(funeral.source, "Decree 136/2013/NĐ-CP Art. 11");
    assert_eq!(e.total, Dong(5_400_000));
    assert!(
        entitlement(&b, &ds, &book, p("2020-07"))
            .unwrap()
            .funeral
            .is_none(),
        "paid once"
    );
}

#[test]
fn a_death_recorded_late_recovers_what_was_paid_after_it() {
    let b = person(Program::SocialAssistance, d("1935-01-01"), None);
    let book = rules();
    let mut ds = vec![grant(1, "K5c", "2015-01", "2014-12-01")];
    ds.push(Decision {
        id: 2,
        beneficiary_id: 1,
        recorded_on: d("2020-08-03"),
        terms: NewDecision::death(
            d("2020-05-10"),
            d("2020-08-03"),
            "Chủ tịch UBND huyện",
            "báo tử muộn",
        ),
    });
    // June, July and August were paid before the death was known.
    for m in ["2020-06", "2020-07", "2020-08"] {
        assert_eq!(
            entitlement(&b, &ds, &book, p(m)).unwrap().total,
            Dong(270_000),
            "{m}"
        );
    }
    let sep = entitlement(&b, &ds, &book, p("2020-09")).unwrap();
    assert_eq!(sep.month.amount, Dong::ZERO);
    assert_eq!(
        sep.arrears_total().unwrap(),
        Dong(-810_000),
        "three months to recover"
    );
    assert_eq!(sep.funeral.as_ref().unwrap().amount, Dong(5_400_000));
    assert_eq!(sep.total, Dong(5_400_000 - 810_000));
}

#[test]
fn multiple_eligibility_pays_the_highest_amount() {
    // Elderly (K5a, 1.5) and especially severely disabled elderly (K6a, 2.5): only 2.5 is paid.
    let b = person(Program::SocialAssistance, d("1950-01-01"), None);
    let ds = [
        grant(1, "K5a", "2015-01", "2014-12-01"),
        grant(2, "K6a", "2016-01", "2015-12-01"),
    ];
    let m = amount_in(&b, &ds, "2021-08");
    assert_eq!(m.amount, Dong(900_000));
    assert_eq!(m.principal_category.as_deref(), Some("K6a"));
    let k5a = m.components.iter().find(|c| c.category == "K5a").unwrap();
    assert!(!k5a.counted);
    assert_eq!(k5a.amount, Dong(540_000));
    assert!(k5a.note.contains("only the highest"));
}

#[test]
fn a_poor_single_parent_who_is_also_disabled_receives_both() {
    // K4 with two children (2 × 1.0) and K6b adult (1.5): both are paid (Decree 20/2021 Art. 6).
    let b = person(Program::SocialAssistance, d("1988-04-04"), None);
    let mut k4 = grant(1, "K4", "2019-01", "2018-12-01");
    k4.terms.dependants = 2;
    let ds = [k4, grant(2, "K6b", "2019-01", "2018-12-01")];
    let m = amount_in(&b, &ds, "2021-08");
    assert_eq!(m.amount, Dong(720_000 + 540_000));
    assert!(m.components.iter().all(|c| c.counted));
    // K4 with a category outside the exception (K2) pays only the highest.
    let young = person(Program::SocialAssistance, d("2001-04-04"), None);
    let ds = [
        grant(1, "K4", "2019-01", "2018-12-01"),
        grant(2, "K2", "2019-01", "2018-12-01"),
    ];
    assert_eq!(amount_in(&young, &ds, "2019-08").amount, Dong(405_000));
}

#[test]
fn suspension_and_resumption_with_arrears() {
    let b = person(Program::SocialAssistance, d("1936-06-06"), None);
    let book = rules();
    let ds = vec![
        grant(1, "K5c", "2016-06", "2016-06-01"),
        decision(2, DecisionKind::Suspend, None, "2019-04", "2019-03-28"),
        decision(3, DecisionKind::Resume, None, "2019-04", "2019-06-12"),
    ];
    assert_eq!(
        entitlement(&b, &ds, &book, p("2019-04")).unwrap().total,
        Dong::ZERO
    );
    assert_eq!(
        entitlement(&b, &ds, &book, p("2019-06")).unwrap().total,
        Dong::ZERO
    );
    // July's payroll learns of the resumption from April: July, and April to June as arrears.
    let july = entitlement(&b, &ds, &book, p("2019-07")).unwrap();
    assert_eq!(july.arrears.len(), 3);
    assert_eq!(july.total, Dong(270_000 * 4));
}

#[test]
fn decisions_are_checked_before_they_are_recorded() {
    let book = rules();
    let today = d("2026-11-26");
    let b = person(Program::SocialAssistance, d("1990-01-01"), None);
    let ok = grant(1, "K6b", "2020-01", "2020-01-05");
    assert!(check_decision(&b, &[], &ok.terms, &book, today).is_ok());

    let mut t = ok.terms.clone();
    t.category = Some("K5a".into());
    let e = check_decision(&b, &[], &t, &book, today).unwrap_err();
    assert_eq!(e.field, "category");
    assert!(e.reason.contains("60 to under 80"), "{}", e.reason);

    let mut t = ok.terms.clone();
    t.category = Some("K9".into());
    assert!(
        check_decision(&b, &[], &t, &book, today)
            .unwrap_err()
            .reason
            .contains("not a category")
    );

    let mut t = ok.terms.clone();
    t.signed_on = d("2027-01-01");
    assert_eq!(
        check_decision(&b, &[], &t, &book, today).unwrap_err().field,
        "signed_on"
    );

    // Effective at most twelve months after signing: 2021-01 for one signed in January 2020.
    let mut t = ok.terms.clone();
    t.effective = p("2021-01");
    assert!(check_decision(&b, &[], &t, &book, today).is_ok());
    for far in ["2021-02", "9999-12"] {
        t.effective = p(far);
        let e = check_decision(&b, &[], &t, &book, today).unwrap_err();
        assert_eq!(e.field, "effective", "{far}");
        assert!(e.reason.contains("2021-01"), "{}", e.reason);
    }

    let existing = [ok.clone()];
    let e = check_decision(&b, &existing, &ok.terms, &book, today).unwrap_err();
    assert!(e.reason.contains("already receives"), "{}", e.reason);

    let resume = decision(2, DecisionKind::Resume, None, "2021-01", "2021-01-05");
    assert!(
        check_decision(&b, &existing, &resume.terms, &book, today)
            .unwrap_err()
            .reason
            .contains("not suspended")
    );

    let mut death = NewDecision::death(d("2022-03-01"), d("2022-03-10"), "x", "chết");
    death.effective = p("2022-03");
    assert_eq!(
        check_decision(&b, &existing, &death, &book, today)
            .unwrap_err()
            .field,
        "effective"
    );
    let death = NewDecision::death(d("2022-03-01"), d("2022-03-10"), "x", "chết");
    assert!(check_decision(&b, &existing, &death, &book, today).is_ok());
    let dead = [
        ok,
        Decision {
            id: 2,
            beneficiary_id: 1,
            recorded_on: d("2022-03-10"),
            terms: death,
        },
    ];
    // A second death is refused: funeral support is paid once.
    let again = NewDecision::death(d("2022-02-01"), d("2022-04-10"), "x", "chết");
    let e = check_decision(&b, &dead, &again, &book, today).unwrap_err();
    assert_eq!(e.field, "death_date");
    assert!(e.reason.contains("already recorded"), "{}", e.reason);

    let late = grant(3, "K8", "2022-06", "2022-06-01");
    assert!(
        check_decision(&b, &dead, &late.terms, &book, today)
            .unwrap_err()
            .reason
            .contains("died")
    );
}

#[test]
fn a_decision_entered_late_is_paid_or_recovered_when_it_is_entered() {
    // A stop signed in January but entered in the register only on 10 June: February to June were
    // paid; the July payroll recovers them. Knowledge follows the day of entry, not of signing.
    let b = person(Program::SocialAssistance, d("1935-01-01"), None);
    let book = rules();
    let mut stop = decision(2, DecisionKind::Stop, None, "2020-02", "2020-01-15");
    stop.recorded_on = d("2020-06-10");
    let ds = vec![grant(1, "K5c", "2015-01", "2014-12-01"), stop];
    for m in ["2020-02", "2020-04", "2020-06"] {
        assert_eq!(
            entitlement(&b, &ds, &book, p(m)).unwrap().total,
            Dong(270_000),
            "{m}"
        );
    }
    let july = entitlement(&b, &ds, &book, p("2020-07")).unwrap();
    assert_eq!(july.month.amount, Dong::ZERO);
    assert_eq!(july.arrears_total().unwrap(), Dong(-5 * 270_000));
    assert_eq!(
        entitlement(&b, &ds, &book, p("2020-08")).unwrap().total,
        Dong::ZERO,
        "once"
    );
}

#[test]
fn a_payroll_made_before_its_month_learns_the_rest_in_the_next_one() {
    // July's list is made on 20 June and August's on 20 July. A stop entered on 27 June, effective
    // July, is not in July's list; August's list recovers July.
    let b = person(Program::SocialAssistance, d("1935-01-01"), None);
    let book = rules();
    let mut stop = decision(2, DecisionKind::Stop, None, "2020-07", "2020-06-27");
    stop.recorded_on = d("2020-06-27");
    let ds = vec![grant(1, "K5c", "2015-01", "2014-12-01"), stop];
    let july = entitlement_learned(
        &b,
        &ds,
        &book,
        p("2020-07"),
        Learned {
            since: d("2020-05-21"),
            until: d("2020-06-21"),
        },
    )
    .unwrap();
    assert_eq!(july.total, Dong(270_000));
    let aug = entitlement_learned(
        &b,
        &ds,
        &book,
        p("2020-08"),
        Learned {
            since: d("2020-06-21"),
            until: d("2020-07-21"),
        },
    )
    .unwrap();
    assert_eq!(aug.month.amount, Dong::ZERO);
    assert_eq!(aug.total, Dong(-270_000), "July recovered");
}

#[test]
fn a_grant_is_paid_from_the_month_it_is_signed_unless_the_law_says_otherwise() {
    let book = rules();
    let today = d("2026-11-26");
    // K5a (poor elderly): from the signing month only.
    let b = person(Program::SocialAssistance, d("1950-01-01"), None);
    let back = grant(1, "K5a", "2016-01", "2020-06-10");
    let e = check_decision(&b, &[], &back.terms, &book, today).unwrap_err();
    assert_eq!(e.field, "effective");
    assert!(e.reason.contains("2020-06"), "{}", e.reason);
    assert!(
        check_decision(
            &b,
            &[],
            &grant(1, "K5a", "2020-06", "2020-06-10").terms,
            &book,
            today
        )
        .is_ok()
    );
    // K5c: from the 80th birthday month, even if signed later.
    let old = person(Program::SocialAssistance, d("1939-03-15"), None);
    assert!(
        check_decision(
            &old,
            &[],
            &grant(1, "K5c", "2019-03", "2019-08-01").terms,
            &book,
            today
        )
        .is_ok()
    );
    assert!(
        check_decision(
            &old,
            &[],
            &grant(1, "K5c", "2019-02", "2019-08-01").terms,
            &book,
            today
        )
        .is_err()
    );
    // Disability: from the certificate month.
    assert!(
        check_decision(
            &b,
            &[],
            &grant(1, "K6b", "2019-01", "2019-08-01").terms,
            &book,
            today
        )
        .is_ok()
    );
}

#[test]
fn each_kind_of_decision_takes_only_its_own_fields() {
    let book = rules();
    let today = d("2026-11-26");
    let b = person(Program::SocialAssistance, d("1950-01-01"), None);
    let existing = [grant(1, "K6b", "2019-01", "2019-01-05")];
    let mut suspend = decision(
        2,
        DecisionKind::Suspend,
        Some("K6a"),
        "2020-01",
        "2020-01-05",
    );
    assert_eq!(
        check_decision(&b, &existing, &suspend.terms, &book, today)
            .unwrap_err()
            .field,
        "category"
    );
    suspend.terms.category = None;
    suspend.terms.dependants = 7;
    assert_eq!(
        check_decision(&b, &existing, &suspend.terms, &book, today)
            .unwrap_err()
            .field,
        "dependants"
    );
    let mut g = grant(3, "K4", "2020-01", "2020-01-05");
    g.terms.replaces = Some("K6b".into());
    assert_eq!(
        check_decision(&b, &existing, &g.terms, &book, today)
            .unwrap_err()
            .field,
        "replaces"
    );
    g.terms.replaces = None;
    g.terms.dependants = 4_000_000_000;
    let e = check_decision(&b, &existing, &g.terms, &book, today).unwrap_err();
    assert_eq!(e.field, "dependants");
    g.terms.dependants = 3;
    assert!(check_decision(&b, &existing, &g.terms, &book, today).is_ok());
    let mut adjust = decision(
        4,
        DecisionKind::Adjust,
        Some("K6a"),
        "2020-01",
        "2020-01-05",
    );
    adjust.terms.replaces = Some("K99".into());
    assert_eq!(
        check_decision(&b, &existing, &adjust.terms, &book, today)
            .unwrap_err()
            .field,
        "replaces"
    );
}
