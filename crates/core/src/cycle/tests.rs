use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;

use super::*;
use crate::ledger::{Ledger, LedgerError, Posted};
use crate::payroll::{close_line, line_id};

fn p(s: &str) -> Period {
    Period::parse(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn code(point: i64) -> String {
    format!("P{point}")
}

fn line(
    period: Period,
    beneficiary: i64,
    channel: Channel,
    monthly: i64,
    carried: i64,
    streak: u8,
) -> Line {
    Line {
        id: line_id(period, Program::SocialAssistance, beneficiary).unwrap(),
        beneficiary_id: beneficiary,
        channel,
        home_delivery: false,
        category: 0,
        commune: *b"28756",
        monthly: Dong(monthly),
        arrears: Dong::ZERO,
        arrears_months: 0,
        funeral: Dong::ZERO,
        carried: Dong(carried),
        reissued: Dong::ZERO,
        recovery_left: Dong::ZERO,
        total: Dong(monthly + carried),
        unpaid_streak: streak,
    }
}

fn flows(ts: &[Transfer]) -> Vec<Flow> {
    let mut m: BTreeMap<(TransferKind, Account, Account), (Dong, i64)> = BTreeMap::new();
    for t in ts {
        let e = m
            .entry((t.kind, t.debit.clone(), t.credit.clone()))
            .or_insert((Dong::ZERO, 0));
        e.0 = e.0.checked_add(t.amount).unwrap();
        e.1 += 1;
    }
    m.into_iter()
        .map(|((kind, debit, credit), (amount, count))| Flow {
            kind,
            debit,
            credit,
            amount,
            count,
        })
        .collect()
}

#[test]
fn a_month_funded_paid_and_closed_settles() {
    let run = RunRef {
        run_id: 7,
        office_id: 2,
        program: Program::SocialAssistance,
        period: p("2020-03"),
        contract: "BT-2020",
    };
    let lines = vec![
        line(p("2020-03"), 1, Channel::Point(1), 270_000, 0, 0),
        line(p("2020-03"), 2, Channel::Point(1), 405_000, 270_000, 1),
        line(p("2020-03"), 3, Channel::Point(2), 540_000, 0, 0),
        line(p("2020-03"), 4, Channel::Bank, 360_000, 0, 0),
        line(p("2020-03"), 5, Channel::Facility(9), 1_080_000, 0, 0),
    ];
    let mut ledger = Ledger::new();
    // Last month left 270,000 with the post office for beneficiary 2.
    let before = Transfer {
        id: "carry:old".into(),
        kind: TransferKind::Carry,
        debit: Account::post("BT-2020"),
        credit: Account::budget(Program::SocialAssistance),
        amount: Dong(270_000),
        period: p("2020-02"),
        on: day("2020-02-28"),
        run_id: 6,
        line_id: None,
    };
    ledger.post(&before).unwrap();
    let mut month = Vec::new();
    month.extend(run.funding(&RunSums::of(&lines).unwrap(), day("2020-02-20")));
    month.extend(run.distribution(&RunSums::of(&lines).unwrap(), day("2020-03-02"), &code));
    for l in [&lines[0], &lines[2], &lines[3], &lines[4]] {
        month.push(run.payment(l.owed(), day("2020-03-05"), &code));
    }
    month.extend(run.unpaid(
        lines[1].owed(),
        LineStatus::Returned,
        day("2020-03-26"),
        &code,
    ));
    month.extend(run.fee(Dong(4 * 6_600), day("2020-03-26")));
    assert_eq!(ledger.post_all(&month).unwrap().len(), month.len());
    assert_eq!(ledger.sum(), 0);
    let mut held = BTreeMap::new();
    held.insert("post:BT-2020".to_owned(), Dong(270_000));
    let s = settle(&flows(&month), &held, &BTreeMap::new(), &BTreeMap::new()).unwrap();
    let c = &s.contracts["post:BT-2020"];
    assert_eq!(c.advanced, Dong(270_000 + 405_000 + 540_000 + 360_000));
    assert_eq!(c.paid, Dong(270_000 + 540_000 + 360_000));
    assert_eq!(c.returned, Dong(675_000));
    assert_eq!(c.held_after, Dong::ZERO);
    assert_eq!(c.fee, Dong(26_400));
    assert_eq!(c.paid_lines, 3);
    assert!(s.balances(), "{s:?}");
    assert_eq!(s.points["cash:P1"].distributed, Dong(945_000));
    // Mid-month, before the close: the line not yet collected is still held, and must be named
    // by the lines (a second source) for the contract to balance — to the đồng.
    let paying: Vec<_> = month
        .iter()
        .filter(|t| !matches!(t.kind, TransferKind::Return | TransferKind::Fee))
        .cloned()
        .collect();
    let open = |amount: i64| {
        BTreeMap::from([(
            "post:BT-2020".to_owned(),
            Holding {
                open: Dong(amount),
                waiting: Dong::ZERO,
            },
        )])
    };
    assert!(
        settle(&flows(&paying), &held, &open(675_000), &BTreeMap::new())
            .unwrap()
            .contracts["post:BT-2020"]
            .balances
    );
    assert!(
        !settle(&flows(&paying), &held, &open(674_999), &BTreeMap::new())
            .unwrap()
            .contracts["post:BT-2020"]
            .balances
    );
    assert!(
        !settle(&flows(&paying), &held, &BTreeMap::new(), &BTreeMap::new())
            .unwrap()
            .contracts["post:BT-2020"]
            .balances
    );
    // The point, too, balances mid-month only when the lines name what it still holds.
    let at_p1 = |amount: i64| BTreeMap::from([("cash:P1".to_owned(), Dong(amount))]);
    let mid = |amount: i64| {
        settle(&flows(&paying), &held, &open(675_000), &at_p1(amount))
            .unwrap()
            .points["cash:P1"]
            .balances
    };
    assert!(mid(675_000));
    assert!(!mid(674_999));
    assert!(
        !settle(&flows(&paying), &held, &open(675_000), &BTreeMap::new())
            .unwrap()
            .points["cash:P1"]
            .balances
    );
    assert_eq!(ledger.balance(&Account::cash("P1")).balance(), 0);
}

#[test]
fn paying_before_the_money_arrived_is_refused() {
    let run = RunRef {
        run_id: 1,
        office_id: 2,
        program: Program::SocialAssistance,
        period: p("2020-03"),
        contract: "C",
    };
    let l = line(p("2020-03"), 1, Channel::Point(1), 270_000, 0, 0);
    let mut ledger = Ledger::new();
    ledger
        .post_all(&run.funding(
            &RunSums::of(std::slice::from_ref(&l)).unwrap(),
            day("2020-02-20"),
        ))
        .unwrap();
    let e = ledger
        .post(&run.payment(l.owed(), day("2020-03-05"), &code))
        .unwrap_err();
    assert!(matches!(e, LedgerError::Insufficient { .. }), "{e}");
}

#[test]
fn the_three_way_match_names_each_disagreement() {
    let lines = [
        LineFact {
            id: 1,
            total: Dong(100),
            status: LineStatus::Paid,
        },
        LineFact {
            id: 2,
            total: Dong(100),
            status: LineStatus::Paid,
        },
        LineFact {
            id: 3,
            total: Dong(100),
            status: LineStatus::Carried,
        },
        LineFact {
            id: 4,
            total: Dong(100),
            status: LineStatus::Paid,
        },
        LineFact {
            id: 5,
            total: Dong(100),
            status: LineStatus::Paid,
        },
    ];
    let pay = |id: &str, line: i64, amount: i64| PaymentFact {
        id: id.into(),
        line_id: line,
        amount: Dong(amount),
    };
    let payments = [
        pay("a", 1, 100),
        pay("c", 3, 100),
        pay("d", 4, 90),
        pay("e", 5, 100),
        pay("z", 9, 100),
    ];
    let tr = |line: i64, amount: i64| TransferFact {
        line_id: line,
        amount: Dong(amount),
    };
    let transfers = [tr(1, 100), tr(2, 100), tr(4, 90), tr(8, 100)];
    let problems: Vec<(i64, &str)> = three_way(&lines, &payments, &transfers)
        .iter()
        .map(|m| (m.line_id, m.problem))
        .collect();
    assert_eq!(
        problems,
        [
            (2, "paid_without_payment"),
            (2, "transfer_without_payment"),
            (3, "payment_on_unpaid_line"),
            (3, "payment_without_transfer"),
            (4, "amount_differs"),
            (4, "transfer_differs"),
            (5, "payment_without_transfer"),
            (9, "payment_without_line"),
            (8, "transfer_without_line"),
        ]
    );
    let clean = three_way(&lines[..1], &payments[..1], &transfers[..1]);
    assert!(clean.is_empty(), "{clean:?}");
}

/// What happens to one beneficiary in one month of a random run.
#[derive(Clone, Debug)]
struct Fate {
    /// 0: nothing due; otherwise a multiple of 135,000.
    due: u8,
    channel: u8,
    collects: bool,
    paid_next_month: bool,
}

fn fate() -> impl Strategy<Value = Fate> {
    (0u8..5, 0u8..4, any::<bool>(), any::<bool>()).prop_map(
        |(due, channel, collects, paid_next_month)| Fate {
            due,
            channel,
            collects,
            paid_next_month,
        },
    )
}

fn cash_never_negative(l: &Ledger) {
    for (a, b) in l.balances() {
        if a.holds_cash() {
            assert!(b.balance() >= 0, "{a} is {}", b.balance());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Random months of a payroll: funding, distribution, payments (some resent), a close that
    /// carries or returns what was not collected, the fee. After every step the balances sum to
    /// zero and no cash is negative; at every close each line has exactly one end, the settlement
    /// balances, and re-applying every transfer made so far changes nothing.
    #[test]
    fn the_money_always_adds_up(
        months in prop::collection::vec(prop::collection::vec(fate(), 1..8), 1..6),
        resend in any::<bool>(),
    ) {
        let contract = "BT-2020";
        let post = Account::post(contract);
        let mut ledger = Ledger::new();
        let mut all: Vec<Transfer> = Vec::new();
        let mut carried: HashMap<i64, (Dong, u8)> = HashMap::new();
        let mut held_before = Dong::ZERO;
        let mut period = p("2020-01");
        for (m, fates) in months.iter().enumerate() {
            let run = RunRef { run_id: m as i64 + 1, office_id: 1, program: Program::SocialAssistance, period, contract };
            let mut lines = Vec::new();
            for (i, f) in fates.iter().enumerate() {
                let b = i as i64 + 1;
                let (carry, streak) = carried.remove(&b).unwrap_or((Dong::ZERO, 0));
                let channel = match f.channel {
                    0 | 1 => Channel::Point(1 + f.channel as i64),
                    2 => Channel::Bank,
                    _ if carry.is_zero() => Channel::Facility(1),
                    _ => Channel::Point(1),
                };
                let monthly = i64::from(f.due) * 135_000;
                if monthly == 0 && carry.is_zero() {
                    continue;
                }
                lines.push(line(period, b, channel, monthly, carry.get(), if carry.is_zero() { 0 } else { streak }));
            }
            // Carried money of people with no line this month goes back with an explicit return.
            for (b, (amount, _)) in carried.drain() {
                let l = line(period.prev(), b, Channel::Point(1), amount.get(), 0, 0);
                let ret = RunRef { run_id: m as i64, ..run.clone() };
                let t = Transfer { id: format!("ret-left:{}", l.id), credit: post.clone(), ..ret.unpaid(l.owed(), LineStatus::Returned, period.first_day(), &code).unwrap() };
                ledger.post(&t).unwrap();
                all.push(t);
                held_before = held_before.checked_sub(amount).unwrap();
            }
            let mut month: Vec<Transfer> = Vec::new();
            let step = |batch: Vec<Transfer>, ledger: &mut Ledger, month: &mut Vec<Transfer>| {
                ledger.post_all(&batch).unwrap();
                prop_assert_eq!(ledger.sum(), 0);
                cash_never_negative(ledger);
                month.extend(batch);
                Ok(())
            };
            step(run.funding(&RunSums::of(&lines).unwrap(), period.prev().last_day()), &mut ledger, &mut month)?;
            step(run.distribution(&RunSums::of(&lines).unwrap(), period.first_day(), &code), &mut ledger, &mut month)?;
            let mut paid = HashMap::new();
            for l in &lines {
                let collects
 = fates[(l.beneficiary_id - 1) as usize].collects || matches!(l.channel, Channel::Facility(_));
                if collects && l.total.get() > 0 {
                    let pay = run.payment(l.owed(), period.first_day(), &code);
                    step(vec![pay.clone()], &mut ledger, &mut month)?;
                    if resend {
                        // A tablet that lost its connection sends the payment again.
                        prop_assert_eq!(ledger.post(&pay), Ok(Posted::AlreadyApplied));
                    }
                }
                paid.insert(l.id, collects);
            }
            let mut ends = HashMap::new();
            let mut paid_count = 0;
            let mut paid_amount = Dong::ZERO;
            for l in &lines {
                let f = &fates[(l.beneficiary_id - 1) as usize];
                let closing = close_line(l.channel, l.total, l.unpaid_streak, paid[&l.id], f.paid_next_month);
                if let Some(t) = run.unpaid(l.owed(), closing.status, period.last_day(), &code) {
                    step(vec![t], &mut ledger, &mut month)?;
                }
                if closing.status == LineStatus::Carried {
                    carried.insert(l.beneficiary_id, (l.total, l.unpaid_streak + 1));
                }
                if closing.status == LineStatus::Paid && l.total.get() > 0 {
                    paid_count += 1;
                    paid_amount = paid_amount.checked_add(l.total).unwrap();
                }
                prop_assert!(ends.insert(l.id, closing.status).is_none(), "one end per line");
            }
            let fee = crate::contract::FeeRule::PerBeneficiary { amount: Dong(6_600) }.fee(paid_amount, paid_count).unwrap();
            step(run.fee(fee, period.last_day()), &mut ledger, &mut month)?;

            // Each line has exactly one end, and the money says the same.
            prop_assert_eq!(ends.len(), lines.len());
            for l in &lines {
                let moved: Vec<&Transfer> = month.iter().filter(|t| t.line_id == Some(l.id)).collect();
                let kinds: Vec<TransferKind> = moved.iter().map(|t| t.kind).collect();
                let want: &[TransferKind] = match (ends[&l.id], l.total.is_zero(), l.channel) {
                    (_, true, _) => &[],
                    (LineStatus::Paid, _, _) => &[TransferKind::Pay],
                    (_, _, Channel::Facility(_)) => &[],
                    (LineStatus::Carried, _, _) => &[TransferKind::Carry],
                    (LineStatus::Returned, _, _) => &[TransferKind::Return],
                    (LineStatus::Due, _, _) => &[TransferKind::Pay],
                };
                prop_assert_eq!(kinds.as_slice(), want, "line {}", l.id);
            }
            // The settlement balances: held before + advanced = paid + returned + held after.
            let mut held = BTreeMap::new();
            held.insert(post.to_string(), held_before);
            let s = settle(&flows(&month), &held, &BTreeMap::new(), &BTreeMap::new()).unwrap();
            prop_assert!(s.balances(), "{:?}", s);
            let after = s.contracts.get(post.as_str()).map(|c| c.held_after).unwrap_or(Dong::ZERO);
            prop_assert_eq!(after.get(), ledger.balance(&post).balance(), "the post office holds what was carried");
            held_before = after;
            for (a, b) in ledger.balances() {
                if matches!(a.kind(), Some(AccountKind::Cash | AccountKind::Bank)) {
                    prop_assert_eq!(b.balance(), 0, "{} is empty after the close", a);
                }
            }
            all.extend(month);
            // Re-applying every operation with the same id changes nothing.
            let before = ledger.balances().clone();
            for t in &all {
                prop_assert_eq!(ledger.post(t), Ok(Posted::AlreadyApplied));
            }
            prop_assert_eq!(ledger.balances(), &before);
            period = period.next();
        }
    }
}
