//! Decisions: grant, adjust, suspend, resume, stop. Each takes effect from a month, is signed by
//! someone on a date, and says why. A beneficiary's standing in any month is what their decisions
//! add up to by then.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calc::{self, Engine, compile_decisions, known_ix, month_ix};
use crate::error::FieldError;
use crate::period::{Period, age_in};
use crate::register::Beneficiary;
use crate::rules::{Known, NoRate, RuleBook, Start};
use crate::text;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// *Quyết định hưởng*: pays a category from the effective month.
    Grant,
    /// *Điều chỉnh*: changes a category or its number of dependants.
    Adjust,
    /// *Tạm dừng*: pays nothing from the effective month until resumed.
    Suspend,
    /// *Hưởng tiếp*: ends a suspension from the effective month.
    Resume,
    /// *Thôi hưởng*: ends every category from the effective month (also on death).
    Stop,
}

impl DecisionKind {
    pub fn parse(s: &str) -> Result<DecisionKind, FieldError> {
        match s.trim() {
            "grant" => Ok(DecisionKind::Grant),
            "adjust" => Ok(DecisionKind::Adjust),
            "suspend" => Ok(DecisionKind::Suspend),
            "resume" => Ok(DecisionKind::Resume),
            "stop" => Ok(DecisionKind::Stop),
            other => Err(FieldError::new(
                "kind",
                format!("'{other}' is not a decision kind (grant, adjust, suspend, resume, stop)"),
            )),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            DecisionKind::Grant => "grant",
            DecisionKind::Adjust => "adjust",
            DecisionKind::Suspend => "suspend",
            DecisionKind::Resume => "resume",
            DecisionKind::Stop => "stop",
        }
    }
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a decision says, before it has an id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDecision {
    pub kind: DecisionKind,
    /// The decision's number, e.g. `125/QĐ-UBND`.
    pub number: Option<String>,
    /// Grant and adjust: the category paid.
    pub category: Option<String>,
    /// Adjust: the category this one replaces.
    pub replaces: Option<String>,
    /// For categories paid per dependant (K4: per child); 1 otherwise.
    pub dependants: u32,
    pub effective: Period,
    pub signed_on: NaiveDate,
    pub signer: String,
    pub reason: String,
    /// Stop on death: the date of death. Payment stops from the month after.
    pub death_date: Option<NaiveDate>,
}

impl NewDecision {
    /// A stop because the beneficiary died: effective the month after death.
    pub fn death(died_on: NaiveDate, signed_on: NaiveDate, signer: &str, reason: &str) -> Self {
        NewDecision {
            kind: DecisionKind::Stop,
            number: None,
            category: None,
            replaces: None,
            dependants: 1,
            effective: Period::of(died_on).next(),
            signed_on,
            signer: signer.to_owned(),
            reason: reason.to_owned(),
            death_date: Some(died_on),
        }
    }
}

/// A recorded decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub id: i64,
    pub beneficiary_id: i64,
    /// The day it was entered in the register (Vietnam time). A payroll knows a decision from the
    /// day it was recorded, not from the day it was signed: one signed in January and entered in
    /// June changes the payrolls from June on, as arrears or recovery.
    pub recorded_on: NaiveDate,
    #[serde(flatten)]
    pub terms: NewDecision,
}

impl Decision {
    /// One line for an explanation: "grant K6a (12/QĐ-UBND) signed 2019-03-12, effective 2019-03".
    pub fn describe(&self) -> String {
        let t = &self.terms;
        let mut s = t.kind.code().to_owned();
        if let Some(c) = &t.category {
            s.push(' ');
            s.push_str(c);
        }
        if let Some(r) = &t.replaces {
            s.push_str(&format!(" replacing {r}"));
        }
        if let Some(n) = &t.number {
            s.push_str(&format!(" ({n})"));
        }
        if let Some(d) = t.death_date {
            s.push_str(&format!(", died {d}"));
        }
        s.push_str(&format!(
            " signed {}, effective {}",
            t.signed_on, t.effective
        ));
        s
    }
}

/// What a beneficiary's decisions add up to in one month: a view of the engine's
/// [`calc::Standing`], which is the one place decisions are applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// The categories being paid (or that would be, but for a suspension).
    pub categories: Vec<String>,
    pub suspended_since: Option<Period>,
    pub stopped_since: Option<Period>,
    pub died_on: Option<NaiveDate>,
}

impl Standing {
    /// The decisions `known` that take effect by `period`, applied in order of effective month then
    /// signing. A death is known as soon as its decision is, whatever month it takes effect.
    pub fn at(decisions: &[Decision], period: Period, known: Known, rules: &RuleBook) -> Standing {
        if decisions.is_empty() {
            // Nothing granted, suspended, stopped or known to have died: no need to compile the
            // rules (a new beneficiary's first grant is checked against this).
            return Standing::default();
        }
        let engine = Engine::new(rules);
        let mut compiled = Vec::with_capacity(decisions.len());
        compile_decisions(&engine, decisions, &mut compiled);
        let s = calc::Standing::at(&compiled, month_ix(period), known_ix(known));
        let month = |i: i32| Period::from_index(i64::from(i));
        Standing {
            categories: s
                .grants()
                .iter()
                .map(|(c, _)| engine.category_code(*c).to_owned())
                .collect(),
            suspended_since: s.suspended_since.map(month),
            stopped_since: s.stopped_since.map(month),
            died_on: s.died.and_then(NaiveDate::from_num_days_from_ce_opt),
        }
    }

    pub fn has(&self, category: &str) -> bool {
        self.categories.iter().any(|c| c == category)
    }

    /// Granted, not stopped, not suspended.
    pub fn is_paying(&self) -> bool {
        !self.categories.is_empty() && self.suspended_since.is_none()
    }
}

/// How far after its signing month a decision may take effect.
pub const MAX_MONTHS_AHEAD: i64 = 12;

/// Checks a new decision against the beneficiary, their decisions so far, the rules, and today.
/// Every refusal names the field and says why.
pub fn check_decision(
    b: &Beneficiary,
    existing: &[Decision],
    new: &NewDecision,
    rules: &RuleBook,
    today: NaiveDate,
) -> Result<(), FieldError> {
    text::check_required("signer", &new.signer, 200)?;
    text::check_required("reason", &new.reason, 500)?;
    if let Some(n) = &new.number {
        text::check_required("number", n, 50)?;
    }
    if new.signed_on > today {
        return Err(FieldError::new(
            "signed_on",
            format!("{} is in the future (today is {today})", new.signed_on),
        ));
    }
    if new.signed_on < b.birth_date {
        return Err(FieldError::new(
            "signed_on",
            format!("{} is before the beneficiary was born", new.signed_on),
        ));
    }
    // A decision takes effect from around its signing, or earlier (arrears): not years ahead.
    let latest = Period::of(new.signed_on).plus(MAX_MONTHS_AHEAD);
    if new.effective > latest {
        return Err(FieldError::new(
            "effective",
            format!(
                "{} is more than {MAX_MONTHS_AHEAD} months after the decision was signed ({}): the latest is {latest}",
                new.effective, new.signed_on
            ),
        ));
    }
    let birth_month = Period::of(b.birth_date);
    if new.effective < birth_month {
        return Err(FieldError::new(
            "effective",
            format!("{} is before the birth month {birth_month}", new.effective),
        ));
    }
    let standing = Standing::at(existing, new.effective, Known::All, rules);
    if let Some(died) = standing.died_on
        && new.effective > Period::of(died)
    {
        return Err(FieldError::new(
            "effective",
            format!(
                "{} {} died on {died}: no decision takes effect after {}",
                b.code,
                b.full_name,
                Period::of(died)
            ),
        ));
    }
    let has_death = new.death_date.is_some();
    if has_death && new.kind != DecisionKind::Stop {
        return Err(FieldError::new(
            "death_date",
            "only a stop decision records a death",
        ));
    }
    if new.dependants == 0 || new.dependants > MAX_DEPENDANTS {
        return Err(FieldError::new(
            "dependants",
            format!("{} is not between 1 and {MAX_DEPENDANTS}", new.dependants),
        ));
    }
    if !matches!(new.kind, DecisionKind::Grant | DecisionKind::Adjust) {
        for (field, given) in [("category", &new.category), ("replaces", &new.replaces)] {
            if let Some(v) = given {
                return Err(FieldError::new(
                    field,
                    format!("a {} decision names no category (got {v})", new.kind),
                ));
            }
        }
        if new.dependants != 1 {
            return Err(FieldError::new(
                "dependants",
                format!("a {} decision has no dependants", new.kind),
            ));
        }
    }
    if new.kind == DecisionKind::Grant
        && let Some(r) = &new.replaces
    {
        return Err(FieldError::new(
            "replaces",
            format!("a grant adds a category; to replace {r}, record an adjustment"),
        ));
    }
    match new.kind {
        DecisionKind::Grant | DecisionKind::Adjust => check_category(b, &standing, new, rules)?,
        DecisionKind::Suspend => {
            if !standing.is_paying() {
                return Err(not_paying(b, &standing, new.effective));
            }
        }
        DecisionKind::Resume => {
            if standing.suspended_since.is_none() {
                return Err(FieldError::new(
                    "kind",
                    format!(
                        "{} is not suspended in {}: nothing to resume",
                        b.code, new.effective
                    ),
                ));
            }
        }
        DecisionKind::Stop => {
            if standing.categories.is_empty() {
                return Err(not_paying(b, &standing, new.effective));
            }
            if let Some(died) = new.death_date {
                if let Some(known) = standing.died_on {
                    return Err(FieldError::new(
                        "death_date",
                        format!("a death on {known} is already recorded for {}", b.code),
                    ));
                }
                if died < b.birth_date || died > new.signed_on {
                    return Err(FieldError::new(
                        "death_date",
                        format!("{died} must fall between the birth date and the signing date"),
                    ));
                }
                if new.effective != Period::of(died).next() {
                    return Err(FieldError::new(
                        "effective",
                        format!(
                            "payment stops from the month after death: {}, not {}",
                            Period::of(died).next(),
                            new.effective
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// More dependants than any household has: a typing error, not a family.
pub const MAX_DEPENDANTS: u32 = 20;

fn not_paying(b: &Beneficiary, s: &Standing, at: Period) -> FieldError {
    let state = if s.stopped_since.is_some() {
        "stopped"
    } else if s.suspended_since.is_some() {
        "suspended"
    } else {
        "not granted any category"
    };
    FieldError::new("kind", format!("{} is {state} in {at}", b.code))
}

fn check_category(
    b: &Beneficiary,
    standing: &Standing,
    new: &NewDecision,
    rules: &RuleBook,
) -> Result<(), FieldError> {
    let code = new
        .category
        .as_deref()
        .ok_or_else(|| FieldError::new("category", "a grant or an adjustment names a category"))?;
    let cat = rules.category(code).ok_or_else(|| {
        let known: Vec<&str> = rules
            .categories
            .iter()
            .filter(|c| c.program == b.program)
            .map(|c| c.code.as_str())
            .collect();
        FieldError::new(
            "category",
            format!("'{code}' is not a category ({})", known.join(", ")),
        )
    })?;
    if cat.program != b.program {
        return Err(FieldError::new(
            "category",
            format!("{code} belongs to {}, not to {}", cat.program, b.program),
        ));
    }
    if !cat.in_force(new.effective) {
        return Err(FieldError::new(
            "category",
            format!(
                "{code} is in force from {} only, not in {}",
                cat.from, new.effective
            ),
        ));
    }
    // Payment starts in the month the decision is signed; only categories that start from a
    // birthday (K5b, K5c: checked by their age bands below) or from a certificate (disability)
    // may take effect earlier.
    if cat.starts == Start::Signing && new.effective < Period::of(new.signed_on) {
        return Err(FieldError::new(
            "effective",
            format!(
                "{code} is paid from the month the decision is signed ({}), not from {}",
                Period::of(new.signed_on),
                new.effective
            ),
        ));
    }
    if let Some(r) = &new.replaces
        && rules.category(r).is_none()
    {
        return Err(FieldError::new(
            "replaces",
            format!("'{r}' is not a category"),
        ));
    }
    if !cat.per_dependant && new.dependants != 1 {
        return Err(FieldError::new(
            "dependants",
            format!("{code} is not paid per dependant: leave it at 1"),
        ));
    }
    let age = age_in(b.birth_date, new.effective);
    if let Err(NoRate::OutsideAgeBands { bands }) =
        rules.coefficient(code, new.effective, age, Known::All)
    {
        return Err(FieldError::new(
            "category",
            format!(
                "{code} pays ages {}; {} is {age} in {}",
                bands.join(", "),
                b.full_name,
                new.effective
            ),
        ));
    }
    match new.kind {
        DecisionKind::Grant if standing.has(code) => Err(FieldError::new(
            "category",
            format!("{} already receives {code} in {}", b.code, new.effective),
        )),
        DecisionKind::Adjust => {
            if standing.stopped_since.is_some() || standing.categories.is_empty() {
                return Err(not_paying(b, standing, new.effective));
            }
            match &new.replaces {
                Some(r) if !standing.has(r) => Err(FieldError::new(
                    "replaces",
                    format!("{} does not receive {r} in {}", b.code, new.effective),
                )),
                None if !standing.has(code) => Err(FieldError::new(
                    "category",
                    format!(
                        "{} does not receive {code} in {}: say which category it replaces",
                        b.code, new.effective
                    ),
                )),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}
