//! The entitlement engine: the rule tables compiled into indexed form, and the one implementation
//! of "what is due" that both the explanation of a single beneficiary (`entitlement`) and the
//! payroll of five million use.
//!
//! Everything here works on integers: months as an index (`Period::index`), days as days from the
//! common era, categories as small indexes into the compiled tables. A [`Trace`] receives every
//! step when someone asks why; the payroll passes `()` and pays nothing for it.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::decision::{Decision, DecisionKind};
use crate::entitlement::MonthStatus;
use crate::money::{Dong, Overflow};
use crate::period::Period;
use crate::program::Program;
use crate::register::{Beneficiary, RegisterStatus, Residence};
use crate::rules::{Coefficient, Known, PaidTo, Rate, RuleBook};

/// No category.
pub const NONE: u8 = u8::MAX;

/// A day as an integer: days from the common era (1 January of year 1 is day 1).
pub fn day_ix(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

/// A month as an integer (`Period::index`).
pub fn month_ix(p: Period) -> i32 {
    p.index() as i32
}

/// The day before which something must have been recorded to be known.
pub fn known_ix(k: Known) -> i32 {
    match k {
        Known::All => i32::MAX,
        Known::Before(d) => day_ix(d),
    }
}

fn program_ix(p: Program) -> usize {
    match p {
        Program::SocialAssistance => 0,
        Program::MeritAllowance => 1,
    }
}

#[derive(Clone, Debug)]
struct CoefRow {
    from: i32,
    min_age: i32,
    max_age: i32,
    rate: Rate,
    announced: i32,
    row: u16,
}

#[derive(Clone, Debug)]
struct Cat {
    program: Program,
    from: i32,
    to: i32,
    /// By `from` descending, then `min_age`.
    rows: Vec<CoefRow>,
}

#[derive(Clone, Copy, Debug)]
struct Dated<T> {
    from: i32,
    value: T,
    announced: i32,
    row: u16,
}

/// Why a category pays nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoRateKind {
    NotInForce,
    /// Rows of the version from that month exist, but none covers the age.
    OutsideAgeBands {
        version: i32,
    },
    NoBase,
    Overflow,
}

/// The rule tables, compiled.
#[derive(Clone, Debug)]
pub struct Engine<'r> {
    rules: &'r RuleBook,
    cats: Vec<Cat>,
    by_code: HashMap<&'r str, u8>,
    base: [Vec<Dated<Dong>>; 2],
    funeral: [Vec<Dated<Coefficient>>; 2],
    facility: [u8; 2],
    /// (a, b, from, row): categories paid together.
    combos: Vec<(u8, u8, i32, u16)>,
}

impl<'r> Engine<'r> {
    pub fn new(rules: &'r RuleBook) -> Engine<'r> {
        let mut by_code = HashMap::new();
        let mut cats = Vec::with_capacity(rules.categories.len());
        for (i, c) in rules.categories.iter().enumerate().take(usize::from(NONE)) {
            by_code.insert(c.code.as_str(), i as u8);
            let mut rows: Vec<CoefRow> = rules
                .coefficients
                .iter()
                .enumerate()
                .filter(|(_, r)| r.category == c.code)
                .map(|(row, r)| CoefRow {
                    from: month_ix(r.from),
                    min_age: r.min_age as i32,
                    max_age: r.max_age.map(|m| m as i32).unwrap_or(i32::MAX),
                    rate: r.rate,
                    announced: day_ix(r.announced_on),
                    row: row as u16,
                })
                .collect();
            rows.sort_by(|a, b| b.from.cmp(&a.from).then(a.min_age.cmp(&b.min_age)));
            cats.push(Cat {
                program: c.program,
                from: month_ix(c.from),
                to: c.to.map(month_ix).unwrap_or(i32::MAX),
                rows,
            });
        }
        let mut base: [Vec<Dated<Dong>>; 2] = [Vec::new(), Vec::new()];
        for (row, b) in rules.base_levels.iter().enumerate() {
            base[program_ix(b.program)].push(Dated {
                from: month_ix(b.from),
                value: b.amount,
                announced: day_ix(b.announced_on),
                row: row as u16,
            });
        }
        let mut funeral: [Vec<Dated<Coefficient>>; 2] = [Vec::new(), Vec::new()];
        for (row, f) in rules.funeral.iter().enumerate() {
            funeral[program_ix(f.program)].push(Dated {
                from: month_ix(f.from),
                value: f.multiple,
                announced: day_ix(f.announced_on),
                row: row as u16,
            });
        }
        for v in base.iter_mut() {
            v.sort_by_key(|r| std::cmp::Reverse(r.from));
        }
        for v in funeral.iter_mut() {
            v.sort_by_key(|r| std::cmp::Reverse(r.from));
        }
        let facility = [Program::SocialAssistance, Program::MeritAllowance].map(|p| {
            rules
                .categories
                .iter()
                .position(|c| c.program == p && c.paid_to == PaidTo::Facility)
                .map(|i| i as u8)
                .unwrap_or(NONE)
        });
        let combos = rules
            .combinations
            .iter()
            .enumerate()
            .filter_map(|(row, c)| {
                Some((
                    *by_code.get(c.category.as_str())?,
                    *by_code.get(c.with.as_str())?,
                    month_ix(c.from),
                    row as u16,
                ))
            })
            .collect();
        Engine {
            rules,
            cats,
            by_code,
            base,
            funeral,
            facility,
            combos,
        }
    }

    pub fn rules(&self) -> &'r RuleBook {
        self.rules
    }

    /// The index of a category code, or [`NONE`].
    pub fn category(&self, code: &str) -> u8 {
        self.by_code.get(code).copied().unwrap_or(NONE)
    }

    pub fn category_code(&self, ix: u8) -> &'r str {
        self.rules
            .categories
            .get(usize::from(ix))
            .map(|c| c.code.as_str())
            .unwrap_or("")
    }

    fn dated<T: Copy>(rows: &[Dated<T>], month: i32, known: i32) -> Option<Dated<T>> {
        rows.iter()
            .find(|r| r.from <= month && r.announced < known)
            .copied()
    }

    /// The base level of a program in a month, among the rows known: (amount, row).
    pub fn base(&self, program: Program, month: i32, known: i32) -> Option<(Dong, u16)> {
        Self::dated(&self.base[program_ix(program)], month, known).map(|d| (d.value, d.row))
    }

    /// A category's rate for someone `age` in `month`: (rate, coefficient row).
    pub fn rate(
        &self,
        cat: u8,
        month: i32,
        age: i32,
        known: i32,
    ) -> Result<(Rate, u16), NoRateKind> {
        let c = self
            .cats
            .get(usize::from(cat))
            .ok_or(NoRateKind::NotInForce)?;
        if month < c.from || month > c.to {
            return Err(NoRateKind::NotInForce);
        }
        let version = c
            .rows
            .iter()
            .find(|r| r.from <= month && r.announced < known)
            .map(|r| r.from)
            .ok_or(NoRateKind::NotInForce)?;
        c.rows
            .iter()
            .filter(|r| r.from == version && r.announced < known)
            .find(|r| age >= r.min_age && age < r.max_age)
            .map(|r| (r.rate, r.row))
            .ok_or(NoRateKind::OutsideAgeBands { version })
    }

    fn combined(&self, a: u8, b: u8, month: i32) -> Option<u16> {
        self.combos
            .iter()
            .find(|(x, y, from, _)| {
                *from <= month && ((*x == a && *y == b) || (*x == b && *y == a))
            })
            .map(|c| c.3)
    }

    /// Funeral support for a death on `died` (a day index): (amount, funeral row, base row).
    pub fn funeral(
        &self,
        program: Program,
        died: i32,
        known: i32,
    ) -> Result<Option<(Dong, u16, u16)>, Overflow> {
        let Some(date) = NaiveDate::from_num_days_from_ce_opt(died) else {
            return Ok(None);
        };
        let month = month_ix(Period::of(date));
        let (Some(rule), Some((base, base_row))) = (
            Self::dated(&self.funeral[program_ix(program)], month, known),
            self.base(program, month, known),
        ) else {
            return Ok(None);
        };
        Ok(Some((base.times(rule.value)?, rule.row, base_row)))
    }

    /// The earliest month whose amounts for `program` change with the rows announced in
    /// `[since, until)` (day indexes).
    pub fn changed_between(&self, program: Program, since: i32, until: i32) -> Option<i32> {
        let window = |d: i32| since <= d && d < until;
        let p = program_ix(program);
        let a = self.base[p]
            .iter()
            .filter(|r| window(r.announced))
            .map(|r| r.from);
        let b = self.funeral[p]
            .iter()
            .filter(|r| window(r.announced))
            .map(|r| r.from);
        let c = self
            .cats
            .iter()
            .filter(|c| c.program == program)
            .flat_map(|c| c.rows.iter())
            .filter(|r| window(r.announced))
            .map(|r| r.from);
        a.chain(b).chain(c).min()
    }
}

/// A decision, compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CDecision {
    pub id: i64,
    pub kind: DecisionKind,
    pub category: u8,
    pub replaces: u8,
    pub dependants: u8,
    pub effective: i32,
    pub signed: i32,
    pub recorded: i32,
    /// Day of death, or `i32::MIN`.
    pub death: i32,
}

/// Where someone lives from a month: the commune (which sets the office that pays them), and the
/// facility, which is then paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSpell {
    pub from: i32,
    pub facility: Option<i64>,
    /// The commune code, five ASCII digits.
    pub commune: [u8; 5],
}

/// A beneficiary as the engine sees them.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub program: Program,
    pub birth_month: i32,
    /// Sorted by (effective, signed, id): the order in which they apply.
    pub decisions: &'a [CDecision],
    /// Sorted by `from`.
    pub spells: &'a [CSpell],
}

/// Compiles decisions for the engine, in the order they apply.
/// What the engine reads of a decision: a store reading the register in bulk gives these
/// without building a whole [`Decision`].
#[derive(Clone, Copy, Debug)]
pub struct DecisionFacts<'a> {
    pub id: i64,
    pub kind: DecisionKind,
    pub category: Option<&'a str>,
    pub replaces: Option<&'a str>,
    pub dependants: u32,
    pub effective: Period,
    pub signed_on: NaiveDate,
    pub recorded_on: NaiveDate,
    pub death_date: Option<NaiveDate>,
}

impl CDecision {
    pub fn compile(engine: &Engine<'_>, f: &DecisionFacts<'_>) -> CDecision {
        CDecision {
            id: f.id,
            kind: f.kind,
            category: f.category.map(|c| engine.category(c)).unwrap_or(NONE),
            replaces: f.replaces.map(|c| engine.category(c)).unwrap_or(NONE),
            dependants: u8::try_from(f.dependants).unwrap_or(u8::MAX),
            effective: month_ix(f.effective),
            signed: day_ix(f.signed_on),
            recorded: day_ix(f.recorded_on),
            death: f.death_date.map(day_ix).unwrap_or(i32::MIN),
        }
    }
}

pub fn compile_decisions(engine: &Engine<'_>, decisions: &[Decision], out: &mut Vec<CDecision>) {
    let start = out.len();
    for d in decisions {
        let t = &d.terms;
        out.push(CDecision::compile(
            engine,
            &DecisionFacts {
                id: d.id,
                kind: t.kind,
                category: t.category.as_deref(),
                replaces: t.replaces.as_deref(),
                dependants: t.dependants,
                effective: t.effective,
                signed_on: t.signed_on,
                recorded_on: d.recorded_on,
                death_date: t.death_date,
            },
        ));
    }
    in_order(&mut out[start..]);
}

/// Puts one person's decisions in the order they apply: by effective month, signing day, id.
pub fn in_order(decisions: &mut [CDecision]) {
    decisions.sort_by_key(|d| (d.effective, d.signed, d.id));
}

impl CSpell {
    /// Living in `commune` (its code; five digits) from `from`, in `facility` if any.
    pub fn new(from: Period, commune: &str, facility: Option<i64>) -> CSpell {
        let mut code = [b'0'; 5];
        for (i, c) in commune.bytes().take(5).enumerate() {
            code[i] = c;
        }
        CSpell {
            from: month_ix(from),
            facility,
            commune: code,
        }
    }
}

/// Compiles a beneficiary's addresses into residence spells.
pub fn compile_spells(b: &Beneficiary, out: &mut Vec<CSpell>) {
    let start = out.len();
    out.extend(
        b.addresses
            .iter()
            .map(|a| CSpell::new(a.from, a.commune.as_str(), a.facility_id)),
    );
    out[start..].sort_by_key(|s| s.from);
}

/// The categories granted, suspended or stopped, as the known decisions stand in a month.
#[derive(Clone, Copy, Debug)]
pub struct Standing {
    pub grants: [(u8, u8); 8],
    pub count: usize,
    pub suspended_since: Option<i32>,
    pub stopped_since: Option<i32>,
    /// Day of death, once known.
    pub died: Option<i32>,
}

impl Standing {
    pub fn grants(&self) -> &[(u8, u8)] {
        &self.grants[..self.count]
    }

    fn remove(&mut self, cat: u8) {
        if let Some(i) = self.grants().iter().position(|g| g.0 == cat) {
            self.grants.copy_within(i + 1..self.count, i);
            self.count -= 1;
        }
    }

    /// Applies the decisions `known` that take effect by `month`.
    pub fn at(decisions: &[CDecision], month: i32, known: i32) -> Standing {
        let mut s = Standing {
            grants: [(NONE, 0); 8],
            count: 0,
            suspended_since: None,
            stopped_since: None,
            died: None,
        };
        for d in decisions.iter().filter(|d| d.recorded < known) {
            if s.died.is_none() && d.death != i32::MIN {
                s.died = Some(d.death);
            }
            if d.effective > month {
                continue;
            }
            match d.kind {
                DecisionKind::Grant | DecisionKind::Adjust => {
                    if d.kind == DecisionKind::Grant {
                        s.stopped_since = None;
                    }
                    if d.replaces != NONE {
                        s.remove(d.replaces);
                    }
                    if d.category != NONE {
                        s.remove(d.category);
                        if s.count < s.grants.len() {
                            s.grants[s.count] = (d.category, d.dependants);
                            s.count += 1;
                        }
                    }
                }
                DecisionKind::Suspend => {
                    s.suspended_since.get_or_insert(d.effective);
                }
                DecisionKind::Resume => s.suspended_since = None,
                DecisionKind::Stop => {
                    s.count = 0;
                    s.suspended_since = None;
                    s.stopped_since = Some(d.effective);
                }
            }
        }
        s
    }
}

/// Where someone stands in the register in `month`, as every recorded decision has it: the same
/// standing the engine pays by (`decisions` compiled and ordered as [`compile_decisions`] does),
/// except that a death counts from its own month.
pub fn register_status(decisions: &[CDecision], month: Period) -> RegisterStatus {
    let m = month_ix(month);
    let s = Standing::at(decisions, m, i32::MAX);
    if let Some(died) = s.died
        && let Some(date) = NaiveDate::from_num_days_from_ce_opt(died)
        && m >= month_ix(Period::of(date))
    {
        return RegisterStatus::Deceased;
    }
    if s.stopped_since.is_some() {
        RegisterStatus::Stopped
    } else if s.count == 0 {
        RegisterStatus::Pending
    } else if s.suspended_since.is_some() {
        RegisterStatus::Suspended
    } else {
        RegisterStatus::Active
    }
}

/// One category considered for a month.
#[derive(Clone, Copy, Debug)]
pub struct Considered {
    pub category: u8,
    pub dependants: u8,
    pub base: Option<(Dong, u16)>,
    pub rate: Result<(Rate, u16), NoRateKind>,
    pub amount: Dong,
    pub counted: bool,
    /// The facility-care category, paid in place of the community categories.
    pub facility_care: bool,
}

/// What happened in a month, for whoever asks why.
pub trait Trace {
    fn considered(&mut self, _c: &Considered) {}
    /// Two categories were paid together under this combination row.
    fn together(&mut self, _row: u16) {}
}

impl Trace for () {}

/// Collects everything, for an explanation.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub considered: Vec<Considered>,
    pub together: Option<u16>,
}

impl Trace for Record {
    fn considered(&mut self, c: &Considered) {
        self.considered.push(*c);
    }
    fn together(&mut self, row: u16) {
        self.together = Some(row);
    }
}

/// The amount of one month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Month {
    pub amount: Dong,
    pub status: MonthStatus,
    /// The category with the largest counted amount, or [`NONE`].
    pub principal: u8,
    pub paid_to: Residence,
    pub age: i32,
    pub standing_died: Option<i32>,
    pub stopped_since: Option<i32>,
    pub suspended_since: Option<i32>,
}

impl<'r> Engine<'r> {
    fn consider(
        &self,
        program: Program,
        cat: u8,
        dependants: u8,
        month: i32,
        age: i32,
        known: i32,
    ) -> Considered {
        let program = self
            .cats
            .get(usize::from(cat))
            .map(|c| c.program)
            .unwrap_or(program);
        let base = self.base(program, month, known);
        let rate = self.rate(cat, month, age, known);
        let (amount, rate) = match (rate, base) {
            (Ok((Rate::Fixed(d), row)), _) => match d.checked_mul(i64::from(dependants)) {
                Ok(a) => (a, Ok((Rate::Fixed(d), row))),
                Err(_) => (Dong::ZERO, Err(NoRateKind::Overflow)),
            },
            (Ok((Rate::Coefficient(k), row)), Some((b, _))) => {
                match b
                    .times(k)
                    .and_then(|one| one.checked_mul(i64::from(dependants)))
                {
                    Ok(a) => (a, Ok((Rate::Coefficient(k), row))),
                    Err(_) => (Dong::ZERO, Err(NoRateKind::Overflow)),
                }
            }
            (Ok((Rate::Coefficient(_), _)), None) => (Dong::ZERO, Err(NoRateKind::NoBase)),
            (Err(e), _) => (Dong::ZERO, Err(e)),
        };
        Considered {
            category: cat,
            dependants,
            base,
            rate,
            amount,
            counted: false,
            facility_care: false,
        }
    }

    /// The amount of `month` as the decisions and rules known before day `known` make it.
    pub fn month<T: Trace>(&self, s: Subject<'_>, month: i32, known: i32, trace: &mut T) -> Month {
        let age = (month - s.birth_month).div_euclid(12);
        let standing = Standing::at(s.decisions, month, known);
        let mut out = Month {
            amount: Dong::ZERO,
            status: MonthStatus::NotGranted,
            principal: NONE,
            paid_to: Residence::Community,
            age,
            standing_died: standing.died,
            stopped_since: standing.stopped_since,
            suspended_since: standing.suspended_since,
        };
        if age < 0 {
            return out;
        }
        if let Some(died) = standing.died
            && let Some(date) = NaiveDate::from_num_days_from_ce_opt(died)
            && month > month_ix(Period::of(date))
        {
            out.status = MonthStatus::Deceased;
            return out;
        }
        if standing.stopped_since.is_some() {
            out.status = MonthStatus::Stopped;
            return out;
        }
        if standing.count == 0 {
            return out;
        }
        if standing.suspended_since.is_some() {
            out.status = MonthStatus::Suspended;
            return out;
        }
        let facility = s
            .spells
            .iter()
            .rev()
            .find(|sp| sp.from <= month)
            .or(s.spells.first())
            .and_then(|sp| sp.facility);
        if let Some(f) = facility {
            out.paid_to = Residence::Facility(f);
            let care = self.facility[program_ix(s.program)];
            if care == NONE {
                out.status = MonthStatus::NoRate;
                return out;
            }
            let mut c = self.consider(s.program, care, 1, month, age, known);
            c.facility_care = true;
            c.counted = c.amount.get() > 0;
            trace.considered(&c);
            for &(cat, dep) in standing.grants() {
                trace.considered(&self.consider(s.program, cat, dep, month, age, known));
            }
            out.amount = c.amount;
            out.principal = care;
            out.status = if c.counted {
                MonthStatus::Due
            } else {
                MonthStatus::NoRate
            };
            return out;
        }
        let mut comps = [None::<Considered>; 8];
        for (i, &(cat, dep)) in standing.grants().iter().enumerate() {
            comps[i] = Some(self.consider(s.program, cat, dep, month, age, known));
        }
        let comps = &mut comps[..standing.count];
        // Highest first; equal amounts by category code, so the choice never depends on order.
        comps.sort_by(|x, y| match (x, y) {
            (Some(x), Some(y)) => y.amount.cmp(&x.amount).then_with(|| {
                self.category_code(x.category)
                    .cmp(self.category_code(y.category))
            }),
            _ => std::cmp::Ordering::Equal,
        });
        let mut best = (Dong::ZERO, [usize::MAX; 2], None::<u16>);
        if let Some(Some(top)) = comps.first()
            && top.amount.get() > 0
        {
            best = (top.amount, [0, usize::MAX], None);
        }
        for i in 0..comps.len() {
            for j in i + 1..comps.len() {
                let (Some(x), Some(y)) = (comps[i], comps[j]) else {
                    continue;
                };
                if x.amount.get() == 0 || y.amount.get() == 0 {
                    continue;
                }
                if let Some(row) = self.combined(x.category, y.category, month)
                    && let Ok(sum) = x.amount.checked_add(y.amount)
                    && sum > best.0
                {
                    best = (sum, [i, j], Some(row));
                }
            }
        }
        let (amount, counted, together) = best;
        for (i, c) in comps.iter_mut().enumerate() {
            if let Some(c) = c {
                c.counted = counted.contains(&i);
                trace.considered(c);
            }
        }
        if let Some(row) = together {
            trace.together(row);
        }
        out.amount = amount;
        out.principal = comps
            .get(counted[0])
            .and_then(|c| c.map(|c| c.category))
            .unwrap_or(NONE);
        out.status = if amount.get() > 0 {
            MonthStatus::Due
        } else {
            MonthStatus::NoRate
        };
        out
    }

    /// What a payroll owes for `period`, knowing what was recorded before day `until`, when the
    /// previous payroll knew what was recorded before day `since`: the month, arrears for earlier
    /// months whose amount changed with what was learned in between, and funeral support when a
    /// death is first learned of. `arrear` is told each earlier month that changed, and says
    /// whether to count it (a recovery of a month whose money was never paid out is not one).
    pub fn due(
        &self,
        s: Subject<'_>,
        period: i32,
        since: i32,
        until: i32,
        mut arrear: impl FnMut(i32, Dong, Dong) -> bool,
    ) -> Result<Due, Overflow> {
        let month = self.month(s, period, until, &mut ());
        let learned = |d: &&CDecision| since <= d.recorded && d.recorded < until;
        let earliest = s
            .decisions
            .iter()
            .filter(learned)
            .map(|d| d.effective)
            .chain(self.changed_between(s.program, since, until))
            .min();
        let mut arrears = Dong::ZERO;
        let mut months = 0u16;
        if let Some(first) = earliest.filter(|e| *e < period) {
            for m in first.max(s.birth_month)..period {
                let was = self.month(s, m, since, &mut ()).amount;
                let now = self.month(s, m, until, &mut ()).amount;
                if was != now && arrear(m, was, now) {
                    arrears = arrears.checked_add(now.checked_sub(was)?)?;
                    months += 1;
                }
            }
        }
        let funeral = match s
            .decisions
            .iter()
            .filter(learned)
            .find(|d| d.death != i32::MIN)
        {
            Some(d) => self
                .funeral(s.program, d.death, until)?
                .map(|f| f.0)
                .unwrap_or(Dong::ZERO),
            None => Dong::ZERO,
        };
        let total = month.amount.checked_add(arrears)?.checked_add(funeral)?;
        Ok(Due {
            month,
            arrears,
            arrears_months: months,
            funeral,
            total,
        })
    }
}

/// What a payroll owes one beneficiary for one month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub month: Month,
    /// Net of recoveries (negative when more is recovered than owed).
    pub arrears: Dong,
    pub arrears_months: u16,
    pub funeral: Dong,
    pub total: Dong,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: i64, kind: DecisionKind, effective: &str, death: Option<&str>) -> CDecision {
        let on = |s: &str| day_ix(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"));
        CDecision {
            id,
            kind,
            category: if matches!(kind, DecisionKind::Grant) {
                0
            } else {
                NONE
            },
            replaces: NONE,
            dependants: 0,
            effective: month_ix(effective.parse().expect("period")),
            signed: on("2018-01-02"),
            recorded: on("2018-01-02"),
            death: death.map(on).unwrap_or(i32::MIN),
        }
    }

    fn at(decisions: &[CDecision], month: &str) -> RegisterStatus {
        register_status(decisions, month.parse().expect("period"))
    }

    #[test]
    fn register_status_follows_the_decisions_in_force() {
        use DecisionKind::*;
        use RegisterStatus as S;
        assert_eq!(at(&[], "2019-01"), S::Pending);
        let granted = [d(1, Grant, "2019-03", None)];
        assert_eq!(at(&granted, "2019-02"), S::Pending);
        assert_eq!(at(&granted, "2019-03"), S::Active);
        let suspended = [granted[0], d(2, Suspend, "2019-06", None)];
        assert_eq!(at(&suspended, "2019-05"), S::Active);
        assert_eq!(at(&suspended, "2019-06"), S::Suspended);
        let resumed = [suspended[0], suspended[1], d(3, Resume, "2019-09", None)];
        assert_eq!(at(&resumed, "2019-08"), S::Suspended);
        assert_eq!(at(&resumed, "2019-09"), S::Active);
        let stopped = [granted[0], d(2, Stop, "2020-01", None)];
        assert_eq!(at(&stopped, "2019-12"), S::Active);
        assert_eq!(at(&stopped, "2020-01"), S::Stopped);
        let granted_again = [stopped[0], stopped[1], d(3, Grant, "2020-04", None)];
        assert_eq!(at(&granted_again, "2020-04"), S::Active);
        let died = [granted[0], d(2, Stop, "2020-03", Some("2020-02-14"))];
        assert_eq!(at(&died, "2020-01"), S::Active);
        assert_eq!(at(&died, "2020-02"), S::Deceased);
        assert_eq!(at(&died, "2021-02"), S::Deceased);
    }
}
