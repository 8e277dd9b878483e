//! Criterion benchmarks of the pure functions: an entitlement explained, a month's lines
//! computed, transfers posted, the three-way match. `cargo bench -p chitra-core`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;

use chitra_core::calc::{Engine, day_ix};
use chitra_core::cycle::{LineFact, PaymentFact, TransferFact, three_way};
use chitra_core::decision::{Decision, DecisionKind, NewDecision};
use chitra_core::entitlement::entitlement;
use chitra_core::ids::{CitizenId, CommuneCode};
use chitra_core::ledger::{Account, Ledger, Transfer, TransferKind};
use chitra_core::payroll::{self, Generation, LineStatus, Register};
use chitra_core::register::{AddressSpell, Beneficiary, Sex};
use chitra_core::rules::RuleBook;
use chitra_core::{Dong, Period, Program};
use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn person(id: i64, birth_year: i32, category: &str) -> (Beneficiary, Vec<Decision>) {
    let from = Period::parse("2019-01").unwrap();
    let b = Beneficiary {
        id,
        code: format!("83-{id:07}"),
        program: Program::SocialAssistance,
        full_name: "Nguyễn Văn Ân".into(),
        birth_date: NaiveDate::from_ymd_opt(birth_year, 5, 12).unwrap(),
        sex: Sex::Male,
        citizen_id: CitizenId::parse("083038000123").unwrap(),
        addresses: vec![AddressSpell {
            from,
            commune: CommuneCode::parse("28756").unwrap(),
            hamlet: None,
            street: None,
            facility_id: None,
        }],
        payment_point_id: Some(1 + id % 11_000),
        home_delivery: None,
        bank_account: None,
    };
    let grant = Decision {
        id,
        beneficiary_id: id,
        recorded_on: NaiveDate::from_ymd_opt(2018, 12, 20).unwrap(),
        terms: NewDecision {
            kind: DecisionKind::Grant,
            number: None,
            category: Some(category.into()),
            replaces: None,
            dependants: 1,
            effective: from,
            signed_on: NaiveDate::from_ymd_opt(2018, 12, 15).unwrap(),
            signer: "Chủ tịch UBND".into(),
            reason: "đủ điều kiện".into(),
            death_date: None,
        },
    };
    (b, vec![grant])
}

fn benches(c: &mut Criterion) {
    let rules = RuleBook::statutory().unwrap();
    let engine = Engine::new(&rules);
    let month = Period::parse("2024-08").unwrap();

    // An entitlement with its explanation: the rule, coefficient and base, across a birthday
    // and two base changes.
    let (b, ds) = person(1, 1941, "K5a");
    c.bench_function("entitlement, explained", |x| {
        x.iter(|| entitlement(black_box(&b), black_box(&ds), &rules, month).unwrap())
    });

    // A month's lines for 100,000 beneficiaries from the compiled register.
    let n = 100_000;
    let mut register = Register::default();
    let categories = ["K5c", "K5a", "K6b", "K6a", "K1"];
    let years = [1935, 1950, 1970, 1980, 2015];
    for i in 0..n {
        let k = i as usize % categories.len();
        let (b, ds) = person(i + 1, years[k], categories[k]);
        register.push(&engine, &b, &ds, false);
    }
    let (owed, months) = (HashMap::new(), HashMap::new());
    let generation = Generation {
        period: month,
        since: day_ix(month.prev().first_day()),
        until: day_ix(month.first_day()),
        previous: &[],
        returned_owed: &owed,
        returned_months: &months,
    };
    let mut group = c.benchmark_group("payroll");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("generate 100,000 lines", |x| {
        let mut out = Vec::with_capacity(n as usize);
        x.iter(|| {
            out.clear();
            payroll::generate(
                &engine,
                &register,
                register.persons.iter(),
                &generation,
                &mut out,
            )
            .unwrap();
            black_box(out.len())
        })
    });
    group.finish();

    // Posting: a point's cash received, then 10,000 payments out of it.
    let cash = Account::cash("BĐ-829-001");
    let paid = Account::paid(Program::SocialAssistance);
    let fund = Account::post("BT-BĐ-2018");
    let on = NaiveDate::from_ymd_opt(2024, 8, 5).unwrap();
    let transfer = |id: String, kind, debit: &Account, credit: &Account, amount| Transfer {
        id,
        kind,
        debit: debit.clone(),
        credit: credit.clone(),
        amount: Dong(amount),
        period: month,
        on,
        run_id: 1,
        line_id: None,
    };
    let payments: Vec<Transfer> = (0..10_000)
        .map(|i| transfer(format!("pay:{i}"), TransferKind::Pay, &paid, &cash, 500_000))
        .collect();
    let mut group = c.benchmark_group("ledger");
    group.throughput(Throughput::Elements(payments.len() as u64));
    // The budget advances to the post office, which gives the point its cash: then the payments.
    let budget = Account::budget(Program::SocialAssistance);
    let funded = || {
        let mut ledger = Ledger::new();
        ledger
            .post(&transfer(
                "advance".into(),
                TransferKind::Advance,
                &fund,
                &budget,
                5_000_000_000,
            ))
            .unwrap();
        ledger
            .post(&transfer(
                "distribute".into(),
                TransferKind::Distribute,
                &cash,
                &fund,
                5_000_000_000,
            ))
            .unwrap();
        ledger
    };
    // Checked once outside the timing: every payment is applied, none refused.
    assert_eq!(funded().post_all(&payments).unwrap().len(), payments.len());
    group.bench_function("post 10,000 payments", |x| {
        x.iter_batched(
            funded,
            |mut ledger| black_box(ledger.post_all(&payments).unwrap().len()),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();

    // The three-way match of a 100,000-line month.
    let lines: Vec<LineFact> = (0..100_000)
        .map(|i| LineFact {
            id: i,
            total: Dong(500_000),
            status: LineStatus::Paid,
        })
        .collect();
    let pays: Vec<PaymentFact> = (0..100_000)
        .map(|i| PaymentFact {
            id: format!("p{i}"),
            line_id: i,
            amount: Dong(500_000),
        })
        .collect();
    let moves: Vec<TransferFact> = (0..100_000)
        .map(|i| TransferFact {
            line_id: i,
            amount: Dong(500_000),
        })
        .collect();
    let mut group = c.benchmark_group("reconcile");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("three-way match of 100,000 lines", |x| {
        x.iter(|| black_box(three_way(&lines, &pays, &moves).len()))
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
