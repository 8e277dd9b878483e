//! What a beneficiary is due, and why.
//!
//! [`month_amount`] is the amount of one month as the rules and decisions known at some date make
//! it. [`entitlement`] is what the payroll of a month owes: that month's amount, arrears for earlier
//! months that what was learned during the previous month changed (a retroactive decision, a base
//! level signed after it took effect, a death recorded late — a negative arrear is a recovery), and
//! funeral support once a death is recorded.

use chrono::NaiveDate;
use serde::Serialize;

use crate::calc::{
    CDecision, CSpell, Engine, NONE, NoRateKind, Record, Subject, compile_decisions,
    compile_spells, day_ix, known_ix, month_ix,
};
use crate::decision::Decision;
use crate::money::{Dong, Overflow};
use crate::period::Period;
use crate::register::{Beneficiary, Residence};
use crate::rules::{Known, Rate, RuleBook};

/// One category considered for a month, counted or not, with the rule behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Component {
    pub category: String,
    pub base: Option<Dong>,
    pub base_source: Option<String>,
    pub rate: Option<Rate>,
    pub rate_source: Option<String>,
    pub age_band: Option<String>,
    pub dependants: u32,
    pub amount: Dong,
    pub counted: bool,
    pub note: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthStatus {
    /// Due and positive.
    Due,
    NotGranted,
    Suspended,
    Stopped,
    Deceased,
    /// Granted, but no rule pays this category at this age in this month.
    NoRate,
}

/// The amount of one month and how it was reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MonthAmount {
    pub period: Period,
    pub age: i64,
    pub status: MonthStatus,
    pub amount: Dong,
    pub paid_to: Residence,
    /// The category with the largest counted amount: the one reports group by.
    pub principal_category: Option<String>,
    pub components: Vec<Component>,
    /// One sentence: which rule decided.
    pub rule: String,
}

/// An amount owed (positive) or to recover (negative) for an earlier month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Arrear {
    pub month: Period,
    /// What the earlier payroll owed for that month.
    pub was: Dong,
    /// What it owes now.
    pub now: Dong,
    pub amount: Dong,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FuneralSupport {
    pub died_on: NaiveDate,
    pub base: Dong,
    pub multiple: String,
    pub amount: Dong,
    pub source: String,
}

/// What the payroll of `period` owes one beneficiary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entitlement {
    pub period: Period,
    pub month: MonthAmount,
    pub arrears: Vec<Arrear>,
    /// What was learned during the previous month that caused the arrears.
    pub arrears_reasons: Vec<String>,
    pub funeral: Option<FuneralSupport>,
    pub total: Dong,
}

impl Entitlement {
    pub fn arrears_total(&self) -> Result<Dong, Overflow> {
        Dong::try_sum(self.arrears.iter().map(|a| a.amount))
    }
}

/// Compiles one beneficiary for the engine.
fn compile(
    engine: &Engine<'_>,
    b: &Beneficiary,
    decisions: &[Decision],
) -> (Vec<CDecision>, Vec<CSpell>) {
    let mut ds = Vec::with_capacity(decisions.len());
    compile_decisions(engine, decisions, &mut ds);
    let mut spells = Vec::with_capacity(b.addresses.len());
    compile_spells(b, &mut spells);
    (ds, spells)
}

fn subject<'a>(b: &Beneficiary, ds: &'a [CDecision], spells: &'a [CSpell]) -> Subject<'a> {
    Subject {
        program: b.program,
        birth_month: month_ix(Period::of(b.birth_date)),
        decisions: ds,
        spells,
    }
}

/// The amount of `period` by the decisions and rules `known`, with every category considered and
/// the rule behind each.
pub fn month_amount(
    b: &Beneficiary,
    decisions: &[Decision],
    rules: &RuleBook,
    period: Period,
    known: Known,
) -> MonthAmount {
    let engine = Engine::new(rules);
    let (ds, spells) = compile(&engine, b, decisions);
    explained(&engine, b, subject(b, &ds, &spells), period, known)
}

fn explained(
    engine: &Engine<'_>,
    b: &Beneficiary,
    s: Subject<'_>,
    period: Period,
    known: Known,
) -> MonthAmount {
    let rules = engine.rules();
    let mut record = Record::default();
    let m = engine.month(s, month_ix(period), known_ix(known), &mut record);
    let month_of = |ix: i32| Period::from_index(i64::from(ix));
    let nothing = |status: MonthStatus, rule: String| MonthAmount {
        period,
        age: i64::from(m.age),
        status,
        amount: Dong::ZERO,
        paid_to: Residence::Community,
        principal_category: None,
        components: Vec::new(),
        rule,
    };
    if m.age < 0 {
        return nothing(MonthStatus::NotGranted, "not yet born".into());
    }
    match m.status {
        MonthStatus::Deceased => {
            let died = m
                .standing_died
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .map(|d| d.to_string())
                .unwrap_or_default();
            return nothing(
                MonthStatus::Deceased,
                format!("died on {died}: payment stops from the month after death"),
            );
        }
        MonthStatus::Stopped => {
            let since = m
                .stopped_since
                .map(|i| month_of(i).to_string())
                .unwrap_or_default();
            return nothing(MonthStatus::Stopped, format!("stopped from {since}"));
        }
        MonthStatus::Suspended => {
            let since = m
                .suspended_since
                .map(|i| month_of(i).to_string())
                .unwrap_or_default();
            return nothing(MonthStatus::Suspended, format!("suspended from {since}"));
        }
        MonthStatus::NotGranted => {
            return nothing(
                MonthStatus::NotGranted,
                "no category granted in this month".into(),
            );
        }
        MonthStatus::NoRate if record.considered.is_empty() => {
            return nothing(
                MonthStatus::NoRate,
                format!(
                    "no facility-care category for {} in the rule tables",
                    b.program
                ),
            );
        }
        _ => {}
    }
    let positive = record
        .considered
        .iter()
        .filter(|c| c.amount.get() > 0)
        .count();
    let in_facility = record.considered.iter().any(|c| c.facility_care);
    let components: Vec<Component> = record
        .considered
        .iter()
        .map(|c| {
            let code = engine.category_code(c.category).to_owned();
            let note = if c.facility_care {
                match m.paid_to {
                    Residence::Facility(f) => format!(
                        "lives in facility #{f}: the facility is paid, in place of community categories"
                    ),
                    Residence::Community => String::new(),
                }
            } else if in_facility {
                "replaced by facility care".into()
            } else if c.counted {
                match record.together.and_then(|r| rules.combinations.get(usize::from(r))) {
                    Some(comb) => format!("paid together with the other category [{}]", comb.source),
                    None if positive > 1 => "the highest amount: only the highest is paid".into(),
                    None => "paid".into(),
                }
            } else if c.amount.get() > 0 {
                "not paid: only the highest amount is paid".into()
            } else {
                match c.rate {
                    Err(NoRateKind::NotInForce) => format!("no rule for {code} in force in {period}"),
                    Err(NoRateKind::OutsideAgeBands { version }) => {
                        let bands: Vec<String> = rules
                            .coefficients
                            .iter()
                            .filter(|r| r.category == code && month_ix(r.from) == version)
                            .map(|r| r.age_band())
                            .collect();
                        format!("{code} pays ages {}; aged {} in {period}", bands.join(", "), m.age)
                    }
                    Err(NoRateKind::NoBase) => format!("no base level of {} in force in {period}", b.program),
                    Err(NoRateKind::Overflow) => "amount out of range".into(),
                    Ok(_) => String::new(),
                }
            };
            let row = c.rate.ok().and_then(|(_, row)| rules.coefficients.get(usize::from(row)));
            Component {
                category: code,
                base: c.base.map(|b| b.0),
                base_source: c
                    .base
                    .and_then(|(_, row)| rules.base_levels.get(usize::from(row)))
                    .map(|r| r.source.clone()),
                rate: c.rate.ok().map(|(r, _)| r),
                rate_source: row.map(|r| r.source.clone()),
                age_band: row.map(|r| r.age_band()),
                dependants: u32::from(c.dependants),
                amount: c.amount,
                counted: c.counted,
                note,
            }
        })
        .collect();
    let counted: Vec<&Component> = components.iter().filter(|c| c.counted).collect();
    let rule = if counted.is_empty() {
        components
            .iter()
            .map(|c| c.note.clone())
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        counted
            .iter()
            .map(|c| explain(c))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    MonthAmount {
        period,
        age: i64::from(m.age),
        status: m.status,
        amount: m.amount,
        paid_to: m.paid_to,
        principal_category: (m.principal != NONE)
            .then(|| engine.category_code(m.principal).to_owned()),
        components,
        rule,
    }
}

fn explain(c: &Component) -> String {
    let rate = match c.rate {
        Some(Rate::Coefficient(k)) => format!(
            "{} × coefficient {k}{}",
            c.base.map(|b| b.to_string()).unwrap_or_default(),
            if c.dependants > 1 {
                format!(" × {} dependants", c.dependants)
            } else {
                String::new()
            }
        ),
        Some(Rate::Fixed(d)) => format!("fixed amount {d}"),
        None => String::new(),
    };
    format!(
        "{} ({}): {rate} = {} [{}; base: {}]",
        c.category,
        c.age_band.as_deref().unwrap_or(""),
        c.amount,
        c.rate_source.as_deref().unwrap_or(""),
        c.base_source.as_deref().unwrap_or("none"),
    )
}

/// What a payroll knows, and what it learned since the previous one: the decisions recorded and the
/// rules announced in `[since, until)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Learned {
    /// The previous payroll's cut-off.
    pub since: NaiveDate,
    /// This payroll's cut-off: it knows what was recorded before this day.
    pub until: NaiveDate,
}

impl Learned {
    /// The default cut-offs: each month's payroll knows what was recorded before the month began.
    pub fn month_before(period: Period) -> Learned {
        Learned {
            since: period.prev().first_day(),
            until: period.first_day(),
        }
    }

    fn includes(self, date: NaiveDate) -> bool {
        self.since <= date && date < self.until
    }
}

/// What the payroll of `period` owes, each month's payroll knowing what was recorded before the
/// month began. See [`entitlement_learned`] for payrolls made on other days.
pub fn entitlement(
    b: &Beneficiary,
    decisions: &[Decision],
    rules: &RuleBook,
    period: Period,
) -> Result<Entitlement, Overflow> {
    entitlement_learned(b, decisions, rules, period, Learned::month_before(period))
}

/// What the payroll of `period` owes: the month, arrears, and funeral support, explained.
///
/// The payroll knows what was recorded before `learned.until`; the previous payroll knew what was
/// recorded before `learned.since`. Arrears are the change, for each earlier month, between what
/// the previous payroll knew and what this one knows — so a decision signed long ago but entered
/// only now is paid (or recovered) now, and nothing is paid twice. The amounts are the engine's
/// ([`Engine::due`]), the same the payroll computes.
pub fn entitlement_learned(
    b: &Beneficiary,
    decisions: &[Decision],
    rules: &RuleBook,
    period: Period,
    learned: Learned,
) -> Result<Entitlement, Overflow> {
    let engine = Engine::new(rules);
    let (ds, spells) = compile(&engine, b, decisions);
    let s = subject(b, &ds, &spells);
    let mut arrears = Vec::new();
    let mut failed = false;
    let due = engine.due(
        s,
        month_ix(period),
        day_ix(learned.since),
        day_ix(learned.until),
        |m, was, now| {
            match now.checked_sub(was) {
                Ok(amount) => arrears.push(Arrear {
                    month: Period::from_index(i64::from(m)),
                    was,
                    now,
                    amount,
                }),
                Err(_) => failed = true,
            }
            true
        },
    )?;
    if failed {
        return Err(Overflow);
    }
    let month = explained(&engine, b, s, period, Known::Before(learned.until));
    let new: Vec<&Decision> = decisions
        .iter()
        .filter(|d| learned.includes(d.recorded_on))
        .collect();
    let mut arrears_reasons = Vec::new();
    if !arrears.is_empty() {
        arrears_reasons.extend(new.iter().map(|d| d.describe()));
        arrears_reasons.extend(
            rules
                .base_levels
                .iter()
                .filter(|r| r.program == b.program && learned.includes(r.announced_on))
                .map(|r| {
                    format!(
                        "base level {} of {} from {} ({}) signed {}",
                        r.amount, r.program, r.from, r.source, r.announced_on
                    )
                }),
        );
    }
    let funeral = match new.iter().find_map(|d| d.terms.death_date) {
        Some(died_on) if !due.funeral.is_zero() => {
            funeral_support(b, rules, died_on, Known::Before(learned.until))?
        }
        _ => None,
    };
    Ok(Entitlement {
        period,
        month,
        arrears,
        arrears_reasons,
        funeral,
        total: due.total,
    })
}

/// Funeral support for a beneficiary who died on `died_on`: a multiple of the base level of the
/// month of death, paid once to whoever organises the funeral.
pub fn funeral_support(
    b: &Beneficiary,
    rules: &RuleBook,
    died_on: NaiveDate,
    known: Known,
) -> Result<Option<FuneralSupport>, Overflow> {
    let engine = Engine::new(rules);
    Ok(engine
        .funeral(b.program, day_ix(died_on), known_ix(known))?
        .and_then(|(amount, row, base_row)| {
            let rule = rules.funeral.get(usize::from(row))?;
            let base = rules.base_levels.get(usize::from(base_row))?;
            Some(FuneralSupport {
                died_on,
                base: base.amount,
                multiple: rule.multiple.to_string(),
                amount,
                source: rule.source.clone(),
            })
        }))
}

#[cfg(test)]
mod tests;
