//! The payroll: one line per beneficiary, program and month — what is owed, to whom, through which
//! channel — and the rules of a payroll's life: who may move it on, and what becomes of a line
//! nobody collected.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calc::{
    CDecision, CSpell, Due, Engine, NONE, Subject, compile_decisions, compile_spells, month_ix,
};
use crate::decision::Decision;
use crate::entitlement::MonthStatus;
use crate::error::FieldError;
use crate::money::{Dong, Overflow};
use crate::period::Period;
use crate::program::Program;
use crate::register::{Beneficiary, Residence};

/// The id of the payroll line of a beneficiary, program and month. Derived, not allocated: the same
/// line always has the same id, so regenerating a payroll cannot duplicate a line, and a payment
/// recorded against a line id stays attached to it. `YYYYMM · 10¹⁰ + program · 10⁹ + beneficiary`.
pub fn line_id(period: Period, program: Program, beneficiary_id: i64) -> Option<i64> {
    if !(1..1_000_000_000).contains(&beneficiary_id) {
        return None;
    }
    period
        .yyyymm()
        .checked_mul(LINE_ID_MONTH)?
        .checked_add(program_digit(program) * 1_000_000_000 + beneficiary_id)
}

/// The factor of the month (`YYYYMM`) in a line id.
const LINE_ID_MONTH: i64 = 10_000_000_000;

/// What to add to the id of a beneficiary's line of `from` for their line of `to` (same program).
pub fn line_id_shift(from: Period, to: Period) -> i64 {
    (to.yyyymm() - from.yyyymm()) * LINE_ID_MONTH
}

/// Whether a payroll of `period` may be made on `today`: there is a base level of the program to
/// pay by, and the month is at most two ahead (the decisions before it are known by then).
pub fn check_payable(
    rules: &crate::rules::RuleBook,
    program: Program,
    period: Period,
    today: chrono::NaiveDate,
) -> Result<(), FieldError> {
    let latest = Period::of(today).plus(2);
    if period > latest {
        return Err(FieldError::new(
            "period",
            format!(
                "{period} is too far ahead: on {today} a payroll can be made up to {latest}, once the decisions before it are known"
            ),
        ));
    }
    if rules
        .base_level(program, period, crate::rules::Known::All)
        .is_none()
    {
        return Err(FieldError::new(
            "period",
            format!(
                "no base level of {program} is in force in {period}: there is nothing to pay by"
            ),
        ));
    }
    Ok(())
}

fn program_digit(p: Program) -> i64 {
    match p {
        Program::SocialAssistance => 1,
        Program::MeritAllowance => 2,
    }
}

/// The month, program and beneficiary a line id names.
pub fn parse_line_id(id: i64) -> Option<(Period, Program, i64)> {
    let period = Period::from_yyyymm(id / LINE_ID_MONTH).ok()?;
    let program = match (id / 1_000_000_000) % 10 {
        1 => Program::SocialAssistance,
        2 => Program::MeritAllowance,
        _ => return None,
    };
    Some((period, program, id % 1_000_000_000))
}

/// How a line is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Channel {
    /// In cash at a payment point (or at home, by the point's agent).
    Point(i64),
    /// By transfer to the beneficiary's bank or e-wallet account.
    Bank,
    /// To the social-protection facility that cares for the beneficiary.
    Facility(i64),
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Point(_) => "point",
            Channel::Bank => "bank",
            Channel::Facility(_) => "facility",
        }
    }
}

/// What became of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Owed, not yet paid (a line of an open period).
    Due,
    Paid,
    /// Not collected; the money stays with the post office and the line's amount is paid with the
    /// next month's.
    Carried,
    /// Not collected; the money went back to the office.
    Returned,
}

impl LineStatus {
    pub fn code(self) -> &'static str {
        match self {
            LineStatus::Due => "due",
            LineStatus::Paid => "paid",
            LineStatus::Carried => "carried",
            LineStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<LineStatus> {
        match s {
            "due" => Some(LineStatus::Due),
            "paid" => Some(LineStatus::Paid),
            "carried" => Some(LineStatus::Carried),
            "returned" => Some(LineStatus::Returned),
            _ => None,
        }
    }
}

impl fmt::Display for LineStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// After this many consecutive months not collected, the money is returned and the beneficiary
/// suspended (Decree 20/2021 Art. 9).
pub const UNCOLLECTED_MONTHS_BEFORE_SUSPENSION: u8 = 3;

/// One beneficiary's line of one month's payroll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub id: i64,
    pub beneficiary_id: i64,
    pub channel: Channel,
    pub home_delivery: bool,
    /// The category the month is paid under (index into the compiled rules), or [`NONE`].
    pub category: u8,
    /// The commune of the address in force, five ASCII digits.
    pub commune: [u8; 5],
    pub monthly: Dong,
    /// Net of recoveries of overpayment (negative when more is recovered than owed).
    pub arrears: Dong,
    pub arrears_months: u16,
    pub funeral: Dong,
    /// Not collected last month; the money is still with the post office.
    pub carried: Dong,
    /// Returned earlier and owed again now that the beneficiary is paid again.
    pub reissued: Dong,
    /// A recovery larger than what is owed leaves this (≤ 0) for the next month.
    pub recovery_left: Dong,
    pub total: Dong,
    /// Consecutive earlier months not collected.
    pub unpaid_streak: u8,
}

impl Line {
    /// What must be advanced for this line: all but what the post office already holds (a line's
    /// total is never less than what it carries).
    pub fn to_advance(&self) -> Dong {
        Dong(self.total.get() - self.carried.get())
    }

    pub fn commune_str(&self) -> &str {
        std::str::from_utf8(&self.commune).unwrap_or("")
    }
}

/// A beneficiary compiled for the payroll.
#[derive(Clone, Copy, Debug)]
pub struct Person {
    pub id: i64,
    pub program: Program,
    pub birth_month: i32,
    pub decisions: (u32, u32),
    pub spells: (u32, u32),
    pub point: Option<i64>,
    pub bank: bool,
    pub home_delivery: bool,
}

/// The register, compiled: flat arrays, a few dozen bytes a beneficiary, so that five million fit
/// in memory and a month's payroll is computed in a pass.
#[derive(Clone, Debug, Default)]
pub struct Register {
    /// By id.
    pub persons: Vec<Person>,
    pub decisions: Vec<CDecision>,
    pub spells: Vec<CSpell>,
}

impl Register {
    /// Adds a beneficiary (call in increasing id order).
    pub fn push(
        &mut self,
        engine: &Engine<'_>,
        b: &Beneficiary,
        decisions: &[Decision],
        bank: bool,
    ) {
        let d0 = self.decisions.len() as u32;
        compile_decisions(engine, decisions, &mut self.decisions);
        let s0 = self.spells.len() as u32;
        compile_spells(b, &mut self.spells);
        self.persons.push(Person {
            id: b.id,
            program: b.program,
            birth_month: month_ix(Period::of(b.birth_date)),
            decisions: (d0, self.decisions.len() as u32),
            spells: (s0, self.spells.len() as u32),
            point: b.payment_point_id,
            bank,
            home_delivery: b.home_delivery.is_some(),
        });
    }

    /// Adds a beneficiary as a store reads them, table by table: the person first (call in
    /// increasing id order; any ranges given are replaced by empty ones), then their spells and
    /// decisions with [`Register::set_spells`] and [`Register::set_decisions`].
    pub fn push_person(&mut self, person: Person) -> usize {
        let d = self.decisions.len() as u32;
        let s = self.spells.len() as u32;
        self.persons.push(Person {
            decisions: (d, d),
            spells: (s, s),
            ..person
        });
        self.persons.len() - 1
    }

    /// Where the person with this id is in `persons`.
    pub fn index_of(&self, id: i64) -> Option<usize> {
        self.persons.binary_search_by_key(&id, |p| p.id).ok()
    }

    /// Gives a person these residence spells (in any order), replacing what they had. The old ones
    /// stay unreferenced in the array until the register is built again.
    pub fn set_spells(&mut self, index: usize, spells: &[CSpell]) {
        let Some(p) = self.persons.get_mut(index) else {
            return;
        };
        let start = self.spells.len();
        self.spells.extend_from_slice(spells);
        self.spells[start..].sort_by_key(|s| s.from);
        p.spells = (start as u32, self.spells.len() as u32);
    }

    /// Gives a person these decisions (in any order), replacing what they had.
    pub fn set_decisions(&mut self, index: usize, decisions: &[CDecision]) {
        let Some(p) = self.persons.get_mut(index) else {
            return;
        };
        let start = self.decisions.len();
        self.decisions.extend_from_slice(decisions);
        crate::calc::in_order(&mut self.decisions[start..]);
        p.decisions = (start as u32, self.decisions.len() as u32);
    }

    /// Where the person with id `id` is, among the persons from `cursor` on (in id order), the
    /// cursor moved up to them: for rows read in person order, walked alongside.
    pub fn walk_to(&self, cursor: &mut usize, id: i64) -> Option<usize> {
        while self.persons.get(*cursor).is_some_and(|p| p.id < id) {
            *cursor += 1;
        }
        self.persons
            .get(*cursor)
            .is_some_and(|p| p.id == id)
            .then_some(*cursor)
    }

    /// Gives the persons from `first` on their decisions as read apart: `all`, each person's
    /// together and in order, with `ranges` (person id, start, end) in id order. Decisions of
    /// persons not in the register (another program's) are left out.
    pub fn take_decisions(
        &mut self,
        first: usize,
        all: Vec<CDecision>,
        ranges: &[(i64, u32, u32)],
    ) {
        // Walked twice, nothing kept in between (at 5,000,000 beneficiaries a list of those
        // matched would cost 80 MB more at the register's largest): first to learn whether
        // every decision read is kept, then to give them.
        let mut kept_len = 0usize;
        let mut cursor = first;
        for &(id, start, end) in ranges {
            if self.walk_to(&mut cursor, id).is_some() {
                kept_len += (end - start) as usize;
            }
        }
        // Every decision kept, into an empty register: the array read is the register's as it
        // is, and the persons' ranges are those read. Otherwise each person's are copied.
        let copied = if self.decisions.is_empty() && kept_len == all.len() {
            self.decisions = all;
            None
        } else {
            self.decisions.reserve(kept_len);
            Some(all)
        };
        let mut cursor = first;
        for &(id, start, end) in ranges {
            if let Some(i) = self.walk_to(&mut cursor, id) {
                match &copied {
                    None => self.persons[i].decisions = (start, end),
                    Some(all) => self.set_decisions(i, &all[start as usize..end as usize]),
                }
            }
        }
    }

    /// The persons of each commune in `month` (indexes into `persons`, in id order): an office's
    /// payroll takes its communes' lists instead of looking at every person.
    pub fn by_commune(&self, month: i32) -> HashMap<[u8; 5], Vec<u32>> {
        let mut out: HashMap<[u8; 5], Vec<u32>> = HashMap::new();
        for (i, p) in self.persons.iter().enumerate() {
            out.entry(self.commune_at(p, month))
                .or_default()
                .push(i as u32);
        }
        out
    }

    pub fn subject(&self, p: &Person) -> Subject<'_> {
        Subject {
            program: p.program,
            birth_month: p.birth_month,
            decisions: &self.decisions[p.decisions.0 as usize..p.decisions.1 as usize],
            spells: &self.spells[p.spells.0 as usize..p.spells.1 as usize],
        }
    }

    /// The commune someone lives in during `month` (the first address for months before it).
    pub fn commune_at(&self, p: &Person, month: i32) -> [u8; 5] {
        let spells = &self.spells[p.spells.0 as usize..p.spells.1 as usize];
        spells
            .iter()
            .rev()
            .find(|s| s.from <= month)
            .or(spells.first())
            .map(|s| s.commune)
            .unwrap_or([b'0'; 5])
    }

    /// Bytes held, for the memory figure of the benchmarks.
    pub fn heap_bytes(&self) -> usize {
        self.persons.capacity() * std::mem::size_of::<Person>()
            + self.decisions.capacity() * std::mem::size_of::<CDecision>()
            + self.spells.capacity() * std::mem::size_of::<CSpell>()
    }
}

/// What the previous month's line left for this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Previous {
    pub beneficiary_id: i64,
    pub status: LineStatus,
    pub total: Dong,
    pub recovery_left: Dong,
    pub unpaid_streak: u8,
}

/// What a payroll run computes from: the month, what the previous payroll knew (day index) and
/// what this one knows, the previous month's lines (sorted by beneficiary), the returned money
/// still owed to beneficiaries who are paid again, and the months whose lines were returned unpaid
/// (a month never paid out is not recovered when it turns out not to have been owed).
pub struct Generation<'a> {
    pub period: Period,
    pub since: i32,
    pub until: i32,
    pub previous: &'a [Previous],
    pub returned_owed: &'a HashMap<i64, Dong>,
    pub returned_months: &'a HashMap<i64, Vec<i32>>,
}

/// Computes the lines of the persons given (the caller picks an office's), in their order.
/// A line is made for whoever is owed something, or holds carried or returned money.
pub fn generate<'p>(
    engine: &Engine<'_>,
    register: &Register,
    persons: impl Iterator<Item = &'p Person>,
    g: &Generation<'_>,
    out: &mut Vec<Line>,
) -> Result<(), Overflow> {
    let period = month_ix(g.period);
    let mut prev = g.previous.iter().peekable();
    for p in persons {
        while prev.next_if(|x| x.beneficiary_id < p.id).is_some() {}
        let last = prev.next_if(|x| x.beneficiary_id == p.id);
        let unpaid = g.returned_months.get(&p.id);
        let due = engine.due(
            register.subject(p),
            period,
            g.since,
            g.until,
            |m, was, now| now > was || !unpaid.is_some_and(|months| months.contains(&m)),
        )?;
        if let Some(line) = line_of(register, p, &due, last, g, period)? {
            out.push(line);
        }
    }
    Ok(())
}

/// One office's part of a month computed with others: the register, the indexes of the persons
/// it pays there (ascending, so in id order) and what its payroll is computed from.
pub struct OfficePart<'a> {
    pub register: &'a Register,
    pub persons: &'a [u32],
    pub generation: Generation<'a>,
}

/// The lines of several offices for the persons at register indexes `lo..hi`, each with its
/// office's position in `offices`, in line id order; where two offices pay the same person, the
/// one given first comes first. Walking the register in consecutive ranges gives a month's lines
/// in id order, a range at a time, so that they can be written while the next range is computed.
pub fn generate_between(
    engine: &Engine<'_>,
    offices: &[OfficePart<'_>],
    lo: u32,
    hi: u32,
    out: &mut Vec<(u32, Line)>,
) -> Result<(), Overflow> {
    fn within(persons: &[u32], lo: u32, hi: u32) -> &[u32] {
        &persons[persons.partition_point(|&i| i < lo)..persons.partition_point(|&i| i < hi)]
    }
    let start = out.len();
    // At most a line a person and office: `out` grows once, to that size.
    out.reserve(
        offices
            .iter()
            .map(|o| within(o.persons, lo, hi).len())
            .sum(),
    );
    let mut lines = Vec::new();
    for (r, office) in offices.iter().enumerate() {
        let persons = within(office.persons, lo, hi);
        let register = office.register;
        let person = |&i: &u32| register.persons.get(i as usize);
        let (Some(first), Some(last)) = (
            persons.iter().find_map(person),
            persons.iter().rev().find_map(person),
        ) else {
            continue;
        };
        let (first, last) = (first.id, last.id);
        let g = &office.generation;
        let previous = &g.previous[g.previous.partition_point(|p| p.beneficiary_id < first)
            ..g.previous.partition_point(|p| p.beneficiary_id <= last)];
        lines.clear();
        lines.reserve(persons.len());
        generate(
            engine,
            register,
            persons
                .iter()
                .filter_map(|&i| register.persons.get(i as usize)),
            &Generation { previous, ..*g },
            &mut lines,
        )?;
        out.extend(lines.drain(..).map(|l| (r as u32, l)));
    }
    out[start..].sort_by_key(|(r, l)| (l.id, *r));
    Ok(())
}

fn line_of(
    register: &Register,
    p: &Person,
    due: &Due,
    last: Option<&Previous>,
    g: &Generation<'_>,
    period: i32,
) -> Result<Option<Line>, Overflow> {
    let carried_in = last.filter(|l| l.status == LineStatus::Carried);
    let carried = carried_in.map(|l| l.total).unwrap_or(Dong::ZERO);
    let paying = due.month.status == MonthStatus::Due;
    // Returned money is owed again once the beneficiary is paid again.
    let reissued = if paying {
        g.returned_owed.get(&p.id).copied().unwrap_or(Dong::ZERO)
    } else {
        Dong::ZERO
    };
    let recovery_in = last.map(|l| l.recovery_left).unwrap_or(Dong::ZERO);
    // A recovery is taken from what is newly owed, never from money carried: that is the
    // beneficiary's already. What it cannot take now waits for next month.
    let new = Dong::try_sum([due.total, recovery_in, reissued])?;
    if new.is_zero() && carried.is_zero() && due.arrears.is_zero() && recovery_in.is_zero() {
        return Ok(None);
    }
    let (new, recovery_left) = if new.is_negative() {
        (Dong::ZERO, new)
    } else {
        (new, Dong::ZERO)
    };
    let total = carried.checked_add(new)?;
    let channel = match due.month.paid_to {
        Residence::Facility(f) => Channel::Facility(f),
        Residence::Community if p.bank => Channel::Bank,
        Residence::Community => match p.point {
            Some(point) => Channel::Point(point),
            None => Channel::Bank,
        },
    };
    let category = if due.month.principal != NONE {
        due.month.principal
    } else {
        // A funeral-support or recovery line after the last month: the last category granted.
        register
            .subject(p)
            .decisions
            .iter()
            .rev()
            .map(|d| d.category)
            .find(|c| *c != NONE)
            .unwrap_or(NONE)
    };
    Ok(Some(Line {
        id: line_id(g.period, p.program, p.id).ok_or(Overflow)?,
        beneficiary_id: p.id,
        channel,
        home_delivery: p.home_delivery && matches!(channel, Channel::Point(_)),
        category,
        commune: register.commune_at(p, period),
        monthly: due.month.amount,
        arrears: Dong::try_sum([due.arrears, recovery_in])?,
        arrears_months: due.arrears_months,
        funeral: due.funeral,
        carried,
        reissued,
        recovery_left,
        total,
        unpaid_streak: carried_in
            .map(|l| l.unpaid_streak.saturating_add(1))
            .unwrap_or(0),
    }))
}

/// What becomes of a line at the close of its month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Closing {
    pub status: LineStatus,
    /// The beneficiary is suspended from next month: not collected for
    /// [`UNCOLLECTED_MONTHS_BEFORE_SUSPENSION`] months running.
    pub suspend: bool,
}

/// The close of one line. An unpaid line is carried to next month while the beneficiary will be
/// paid next month and has not gone uncollected three months running; otherwise its money goes
/// back, and on the third month running the beneficiary is suspended.
pub fn close_line(
    channel: Channel,
    total: Dong,
    unpaid_streak: u8,
    paid: bool,
    paid_next_month: bool,
) -> Closing {
    if paid || total.is_zero() {
        return Closing {
            status: LineStatus::Paid,
            suspend: false,
        };
    }
    let months_unpaid = unpaid_streak.saturating_add(1);
    if months_unpaid >= UNCOLLECTED_MONTHS_BEFORE_SUSPENSION {
        return Closing {
            status: LineStatus::Returned,
            suspend: paid_next_month,
        };
    }
    if paid_next_month && matches!(channel, Channel::Point(_) | Channel::Bank) {
        Closing {
            status: LineStatus::Carried,
            suspend: false,
        }
    } else {
        Closing {
            status: LineStatus::Returned,
            suspend: false,
        }
    }
}

/// The life of a payroll run (one office, one program, one month).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Generated; may be generated again.
    Draft,
    /// Checked and approved by a second person.
    Approved,
    /// The money advanced to the post office.
    Funded,
    /// Distributed to the payment points; being paid.
    Paying,
    /// Every line paid, carried or returned; the fee charged.
    Closed,
}

impl RunState {
    pub fn code(self) -> &'static str {
        match self {
            RunState::Draft => "draft",
            RunState::Approved => "approved",
            RunState::Funded => "funded",
            RunState::Paying => "paying",
            RunState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<RunState> {
        [
            RunState::Draft,
            RunState::Approved,
            RunState::Funded,
            RunState::Paying,
            RunState::Closed,
        ]
        .into_iter()
        .find(|r| r.code() == s)
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What someone asks of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunAction {
    Generate,
    Approve,
    Fund,
    Pay,
    Close,
}

impl RunAction {
    pub fn code(self) -> &'static str {
        match self {
            RunAction::Generate => "generate",
            RunAction::Approve => "approve",
            RunAction::Fund => "fund",
            RunAction::Pay => "pay",
            RunAction::Close => "close",
        }
    }
}

/// The state a run moves to, or why it may not. Approval is by someone other than whoever
/// generated the payroll (maker-checker).
pub fn transition(
    state: RunState,
    action: RunAction,
    actor: &str,
    generated_by: &str,
) -> Result<RunState, FieldError> {
    let next = match (state, action) {
        (RunState::Draft, RunAction::Generate) => RunState::Draft,
        (RunState::Draft, RunAction::Approve) => {
            if actor.trim() == generated_by.trim() {
                return Err(FieldError::new(
                    "as",
                    format!("{actor} generated this payroll: a second person must approve it"),
                ));
            }
            RunState::Approved
        }
        (RunState::Approved, RunAction::Fund) => RunState::Funded,
        (RunState::Funded, RunAction::Pay) => RunState::Paying,
        (RunState::Paying, RunAction::Pay) => RunState::Paying,
        (RunState::Paying, RunAction::Close) => RunState::Closed,
        (state, action) => {
            return Err(FieldError::new(
                "state",
                format!(
                    "a {state} payroll cannot be {}",
                    match action {
                        RunAction::Generate => "generated again (only a draft can)",
                        RunAction::Approve => "approved (only a draft can)",
                        RunAction::Fund => "funded (it must be approved, and not yet funded)",
                        RunAction::Pay => "paid (it must be funded)",
                        RunAction::Close => "closed (it must be being paid)",
                    }
                ),
            ));
        }
    };
    Ok(next)
}

/// Whether a payment of `amount` may be recorded against a line: its payroll is being paid, the
/// line is still owed, and the amount is the line's, to the đồng. (A line already paid is the
/// store's to answer, with the payment that paid it.)
pub fn check_payment(
    state: RunState,
    status: LineStatus,
    total: Dong,
    amount: Dong,
) -> Result<(), FieldError> {
    if state != RunState::Paying {
        return Err(FieldError::new(
            "line_id",
            format!(
                "the payroll of this line is {state}: payments are recorded while it is being paid"
            ),
        ));
    }
    if matches!(status, LineStatus::Carried | LineStatus::Returned) {
        return Err(FieldError::new(
            "line_id",
            format!("the line is closed ({status})"),
        ));
    }
    if amount != total {
        return Err(FieldError::new(
            "amount",
            format!(
                "{} is not the line's amount, {}: a line is paid in full",
                amount.get(),
                total.get()
            ),
        ));
    }
    Ok(())
}

/// Whether a payment said to be made on `paid_on` (Vietnam time) can belong to a payroll of
/// `period`: money is advanced for a month shortly before it starts, so a payment dated before the
/// month before is a wrong clock or a wrong date, not a payment of this payroll. (Payments after the
/// month are normal: the window may run late, and tablets sync when they can.)
pub fn check_paid_on(period: Period, paid_on: NaiveDate) -> Result<(), FieldError> {
    let earliest = period.prev().first_day();
    if paid_on < earliest {
        return Err(FieldError::new(
            "paid_at",
            format!(
                "{paid_on} is before {earliest}: a payment of the {period} payroll is made from the month before it on"
            ),
        ));
    }
    Ok(())
}

/// How a line differs from the beneficiary's line of the month before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Difference {
    New,
    Stopped,
    Changed,
}

/// A line that is not last month's again: new, gone, or of another amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub beneficiary_id: i64,
    pub kind: Difference,
    pub before: Dong,
    pub now: Dong,
}

/// Compares two months' lines (both sorted by beneficiary) by their monthly amounts.
pub fn differences(before: &[(i64, Dong)], now: &[(i64, Dong)]) -> Vec<Diff> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < now.len() {
        match (before.get(i), now.get(j)) {
            (Some(&(b, x)), Some(&(n, y))) if b == n => {
                if x != y {
                    out.push(Diff {
                        beneficiary_id: b,
                        kind: Difference::Changed,
                        before: x,
                        now: y,
                    });
                }
                i += 1;
                j += 1;
            }
            (Some(&(b, x)), Some(&(n, _))) if b < n => {
                out.push(Diff {
                    beneficiary_id: b,
                    kind: Difference::Stopped,
                    before: x,
                    now: Dong::ZERO,
                });
                i += 1;
            }
            (Some(&(b, x)), None) => {
                out.push(Diff {
                    beneficiary_id: b,
                    kind: Difference::Stopped,
                    before: x,
                    now: Dong::ZERO,
                });
                i += 1;
            }
            (_, Some(&(n, y))) => {
                out.push(Diff {
                    beneficiary_id: n,
                    kind: Difference::New,
                    before: Dong::ZERO,
                    now: y,
                });
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_id_shifts_to_the_same_beneficiary_another_month() {
        let dec = Period::parse("2020-12").unwrap();
        for program in [Program::SocialAssistance, Program::MeritAllowance] {
            let id = line_id(dec, program, 42).unwrap();
            assert_eq!(
                Some(id + line_id_shift(dec, dec.next())),
                line_id(dec.next(), program, 42)
            );
        }
    }

    #[test]
    fn line_ids_are_unique_per_month_program_and_beneficiary() {
        let p = Period::parse("2020-07").unwrap();
        assert_eq!(
            line_id(p, Program::SocialAssistance, 42),
            Some(202_007 * 10_000_000_000 + 1_000_000_042)
        );
        assert_ne!(
            line_id(p, Program::SocialAssistance, 42),
            line_id(p, Program::MeritAllowance, 42)
        );
        assert!(
            line_id(p.next(), Program::SocialAssistance, 1)
                > line_id(p, Program::MeritAllowance, 999_999_999)
        );
        assert_eq!(line_id(p, Program::SocialAssistance, 0), None);
        assert_eq!(line_id(p, Program::SocialAssistance, 1_000_000_000), None);
        let last = Period::parse("9999-12").unwrap();
        assert!(line_id(last, Program::MeritAllowance, 999_999_999).is_some());
        let id = line_id(p, Program::MeritAllowance, 77).unwrap();
        assert_eq!(parse_line_id(id), Some((p, Program::MeritAllowance, 77)));
        assert_eq!(parse_line_id(12), None);
    }

    #[test]
    fn approval_needs_a_second_person_and_the_states_go_in_order() {
        use RunAction::*;
        use RunState::*;
        assert_eq!(transition(Draft, Generate, "an", "an"), Ok(Draft));
        let e = transition(Draft, Approve, "an", "an").unwrap_err();
        assert_eq!(e.field, "as");
        assert_eq!(transition(Draft, Approve, "binh", "an"), Ok(Approved));
        assert_eq!(transition(Approved, Fund, "an", "an"), Ok(Funded));
        assert_eq!(transition(Funded, Pay, "an", "an"), Ok(Paying));
        assert_eq!(transition(Paying, Close, "an", "an"), Ok(Closed));
        for (s, a) in [
            (Approved, Generate),
            (Draft, Fund),
            (Funded, Close),
            (Closed, Pay),
            (Closed, Close),
            (Paying, Approve),
        ] {
            assert_eq!(
                transition(s, a, "binh", "an").unwrap_err().field,
                "state",
                "{s} {a:?}"
            );
        }
    }

    #[test]
    fn an_uncollected_line_is_carried_twice_then_returned_with_a_suspension() {
        let point = Channel::Point(5);
        assert_eq!(
            close_line(point, Dong(270_000), 0, true, true).status,
            LineStatus::Paid
        );
        assert_eq!(
            close_line(point, Dong(270_000), 0, false, true),
            Closing {
                status: LineStatus::Carried,
                suspend: false
            }
        );
        assert_eq!(
            close_line(point, Dong(540_000), 1, false, true),
            Closing {
                status: LineStatus::Carried,
                suspend: false
            }
        );
        assert_eq!(
            close_line(point, Dong(810_000), 2, false, true),
            Closing {
                status: LineStatus::Returned,
                suspend: true
            }
        );
        // Nothing to carry to when there is no next month (death, stop): returned.
        assert_eq!(
            close_line(point, Dong(270_000), 0, false, false),
            Closing {
                status: LineStatus::Returned,
                suspend: false
            }
        );
        // A facility line not transferred goes back.
        assert_eq!(
            close_line(Channel::Facility(1), Dong(1_080_000), 0, false, true).status,
            LineStatus::Returned
        );
    }

    /// A grant of category 0, in force, signed and recorded from `effective`.
    fn grant(id: i64, effective: i32) -> CDecision {
        CDecision {
            id,
            kind: crate::decision::DecisionKind::Grant,
            category: 0,
            replaces: NONE,
            dependants: 0,
            effective,
            signed: effective,
            recorded: effective,
            death: i32::MIN,
        }
    }

    /// A person of social assistance paid at no point, with no rows of their own yet.
    fn person(id: i64) -> Person {
        Person {
            id,
            program: Program::SocialAssistance,
            birth_month: 0,
            decisions: (0, 0),
            spells: (0, 0),
            point: None,
            bank: false,
            home_delivery: false,
        }
    }

    /// A month computed range by range, for two offices that share a person, gives the lines of
    /// each office computed whole, merged in id order, the office given first first.
    #[test]
    fn lines_computed_range_by_range_are_the_offices_lines_in_id_order() {
        let rules = crate::rules::RuleBook::statutory().unwrap();
        let engine = Engine::new(&rules);
        let period = Period::parse("2025-08").unwrap();
        let mut register = Register::default();
        for id in 1..=20 {
            let i = register.push_person(Person {
                point: Some(1),
                ..person(id * 3)
            });
            register.set_spells(
                i,
                &[CSpell::new(
                    Period::parse("2015-03").unwrap(),
                    "28756",
                    None,
                )],
            );
        }
        // Office 0 pays the even indexes, office 1 the odd ones and index 4 too; each person
        // has money carried over from last month (a line is made for it), each a different sum.
        let evens: Vec<u32> = (0..20).step_by(2).collect();
        let odds: Vec<u32> = (1..20)
            .step_by(2)
            .chain([4])
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let previous: Vec<Previous> = (1..=20)
            .map(|id| Previous {
                beneficiary_id: id * 3,
                status: LineStatus::Carried,
                total: Dong(500_000 + id * 1_000),
                recovery_left: Dong(0),
                unpaid_streak: 1,
            })
            .collect();
        let (owed, months) = (HashMap::new(), HashMap::new());
        let generation = |previous| Generation {
            period,
            since: crate::calc::day_ix(period.prev().first_day()),
            until: crate::calc::day_ix(period.first_day()),
            previous,
            returned_owed: &owed,
            returned_months: &months,
        };
        let offices = [
            OfficePart {
                register: &register,
                persons: &evens,
                generation: generation(&previous),
            },
            OfficePart {
                register: &register,
                persons: &odds,
                generation: generation(&previous),
            },
        ];
        let mut whole = Vec::new();
        for (r, office) in offices.iter().enumerate() {
            let mut lines = Vec::new();
            let persons = office
                .persons
                .iter()
                .map(|&i| &register.persons[i as usize]);
            generate(&engine, &register, persons, &office.generation, &mut lines).unwrap();
            whole.extend(lines.into_iter().map(|l| (r as u32, l)));
        }
        whole.sort_by_key(|(r, l)| (l.id, *r));
        assert_eq!(whole.len(), 21, "a line for each office's person");
        assert!(
            whole
                .iter()
                .all(|(_, l)| l.carried == Dong(500_000 + l.beneficiary_id / 3 * 1_000)),
            "each line carries its own person's money"
        );
        for step in [1, 3, 7, 20, 64] {
            let mut ranged = Vec::new();
            let mut lo = 0;
            while lo < 20 {
                generate_between(&engine, &offices, lo, lo + step, &mut ranged).unwrap();
                lo += step;
            }
            assert_eq!(ranged, whole, "ranges of {step}");
        }
    }

    /// Decisions read apart go to their persons; those of beneficiaries not in the register
    /// (another program's) are left out of its array; a register read in part keeps what it had.
    #[test]
    fn decisions_read_apart_go_to_their_persons() {
        let decision = |id: i64| grant(id, 0);
        let decisions_of = |r: &Register| -> Vec<(i64, Vec<i64>)> {
            r.persons
                .iter()
                .map(|p| (p.id, r.subject(p).decisions.iter().map(|d| d.id).collect()))
                .collect()
        };
        // Read for beneficiaries 1 (not in the register), 2, 5, 7 (not in it) and 9.
        let all = || -> Vec<CDecision> {
            [10, 20, 21, 50, 70, 71, 90]
                .into_iter()
                .map(decision)
                .collect()
        };
        let ranges = [(1, 0, 1), (2, 1, 3), (5, 3, 4), (7, 4, 6), (9, 6, 7)];
        let mut register = Register::default();
        for id in [2, 3, 5, 9] {
            register.push_person(person(id));
        }
        register.take_decisions(0, all(), &ranges);
        assert_eq!(
            decisions_of(&register),
            vec![(2, vec![20, 21]), (3, vec![]), (5, vec![50]), (9, vec![90])]
        );
        assert_eq!(
            register.decisions.len(),
            4,
            "the others' decisions are not kept"
        );

        // Every decision kept: the array read becomes the register's.
        let mut register = Register::default();
        for id in [1, 2, 5, 7, 9] {
            register.push_person(person(id));
        }
        register.take_decisions(0, all(), &ranges);
        assert_eq!(register.decisions.len(), 7);
        assert_eq!(decisions_of(&register)[3], (7, vec![70, 71]));

        // Persons added to a register read before: theirs are added after what it had.
        let mut register = Register::default();
        register.push_person(person(1));
        register.set_decisions(0, &[decision(11)]);
        let first = register.persons.len();
        for id in [5, 9] {
            register.push_person(person(id));
        }
        register.take_decisions(first, all(), &ranges);
        assert_eq!(
            decisions_of(&register),
            vec![(1, vec![11]), (5, vec![50]), (9, vec![90])]
        );
    }

    #[test]
    fn a_register_read_table_by_table_sorts_each_persons_rows_and_can_replace_them() {
        let spell = |from: i32, commune: &[u8; 5]| CSpell {
            from,
            facility: None,
            commune: *commune,
        };
        let decision = grant;
        let person = |id: i64| Person {
            decisions: (7, 9),
            spells: (3, 4),
            ..person(id)
        };
        let mut r = Register::default();
        let a = r.push_person(person(10));
        let b = r.push_person(person(20));
        assert_eq!(r.subject(&r.persons[a]).decisions.len(), 0);
        r.set_spells(a, &[spell(30, b"28756"), spell(10, b"28750")]);
        r.set_spells(b, &[spell(10, b"28756")]);
        r.set_decisions(a, &[decision(5, 20), decision(4, 12)]);
        let s = r.subject(&r.persons[a]);
        assert_eq!(
            s.spells.iter().map(|s| s.from).collect::<Vec<_>>(),
            [10, 30]
        );
        assert_eq!(s.decisions.iter().map(|d| d.id).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(r.index_of(20), Some(b));
        assert_eq!(r.index_of(15), None);
        // In month 20, person 10 still lives in 28750; from 30 in 28756, with person 20.
        assert_eq!(r.by_commune(20).get(b"28750"), Some(&vec![a as u32]));
        assert_eq!(
            r.by_commune(30).get(b"28756"),
            Some(&vec![a as u32, b as u32])
        );
        // A new decision read later: the person's list is replaced whole.
        r.set_decisions(a, &[decision(4, 12), decision(5, 20), decision(9, 16)]);
        let s = r.subject(&r.persons[a]);
        assert_eq!(
            s.decisions.iter().map(|d| d.id).collect::<Vec<_>>(),
            [4, 9, 5]
        );
        assert_eq!(r.subject(&r.persons[b]).decisions.len(), 0);
    }

    #[test]
    fn differences_name_new_stopped_and_changed_lines() {
        let before = [(1, Dong(270_000)), (2, Dong(405_000)), (4, Dong(360_000))];
        let now = [
            (2, Dong(540_000)),
            (3, Dong(270_000)),
            (4, Dong(360_000)),
            (5, Dong(1)),
        ];
        let d = differences(&before, &now);
        let kinds: Vec<(i64, Difference)> = d.iter().map(|x| (x.beneficiary_id, x.kind)).collect();
        assert_eq!(
            kinds,
            [
                (1, Difference::Stopped),
                (2, Difference::Changed),
                (3, Difference::New),
                (5, Difference::New)
            ]
        );
    }

    #[test]
    fn a_payment_is_dated_from_the_month_before_its_payroll_on() {
        let jan = Period::parse("2021-01").unwrap();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(check_paid_on(jan, day("2020-12-01")).is_ok());
        assert!(check_paid_on(jan, day("2021-03-15")).is_ok());
        let e = check_paid_on(jan, day("2020-11-30")).unwrap_err();
        assert_eq!(e.field, "paid_at");
        assert!(e.reason.contains("2020-12-01"), "{}", e.reason);
        assert!(check_paid_on(jan, day("0001-01-01")).is_err());
    }
}
