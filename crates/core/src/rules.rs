//! The legal rule tables as data with effective months (DESIGN.md §4).
//!
//! Nothing here hard-codes an amount: base levels, coefficients, funeral support and the pairs of
//! categories that are paid together are rows, each with the month it takes effect, the legal act
//! that set it, and the date that act was signed. A payroll uses only what was known when its month
//! began ([`Known`]); what is learned later is paid as arrears.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::money::Dong;
use crate::period::Period;
use crate::program::Program;

/// A coefficient of a base level, kept as an integer number of thousandths (2.5 → 2500).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Coefficient(u32);

impl Coefficient {
    pub const ONE: Coefficient = Coefficient(1000);

    pub const fn from_thousandths(t: u32) -> Self {
        Coefficient(t)
    }

    pub const fn thousandths(self) -> u32 {
        self.0
    }

    /// Parses `2.5`, `1`, `0.333`: at most three decimals, never through a float.
    pub fn parse(s: &str) -> Result<Coefficient, FieldError> {
        let bad = || {
            FieldError::new(
                "coefficient",
                format!("'{s}' is not a coefficient such as 1.5 (at most 3 decimals)"),
            )
        };
        let t = s.trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty()
            || (t.contains('.') && frac.is_empty())
            || frac.len() > 3
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let w: u32 = whole.parse().map_err(|_| bad())?;
        let f: u32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<3}").parse().map_err(|_| bad())?
        };
        w.checked_mul(1000)
            .and_then(|x| x.checked_add(f))
            .map(Coefficient)
            .ok_or_else(bad)
    }

    /// `self × n` (K4: one coefficient per child).
    pub fn times(self, n: u32) -> Option<Coefficient> {
        self.0.checked_mul(n).map(Coefficient)
    }
}

impl fmt::Display for Coefficient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 1000;
        let frac = self.0 % 1000;
        if frac == 0 {
            write!(f, "{whole}.0")
        } else {
            let s = format!("{frac:03}");
            write!(f, "{whole}.{}", s.trim_end_matches('0'))
        }
    }
}

impl Serialize for Coefficient {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Coefficient {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Coefficient::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How a category's monthly amount is set: a coefficient of the base level, or a fixed amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rate {
    Coefficient(Coefficient),
    Fixed(Dong),
}

/// Who receives the money of a category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaidTo {
    Beneficiary,
    /// The social-protection facility that cares for the beneficiary.
    Facility,
}

/// From which month a category may be paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// The month the decision is signed (the general rule of Decree 20/2021 Art. 8).
    Signing,
    /// The month of the birthday its age band starts at (K5b: 75, K5c: 80), even if signed later.
    Birthday,
    /// The month a certificate was issued (disability), even if signed later.
    Certificate,
}

/// What a payroll may know: everything, or only what was recorded before a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    All,
    Before(NaiveDate),
}

impl Known {
    /// What the payroll of `period` knows: everything signed before the month began.
    pub fn for_payroll(period: Period) -> Known {
        Known::Before(period.first_day())
    }

    /// Whether something recorded (or, for a rule, announced) on `date` is known.
    pub fn includes(self, date: NaiveDate) -> bool {
        match self {
            Known::All => true,
            Known::Before(cutoff) => date < cutoff,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRule {
    pub code: String,
    pub program: Program,
    pub clause: String,
    pub name_vi: String,
    pub name_en: String,
    pub paid_to: PaidTo,
    /// The coefficient counts once per dependant (K4: per child).
    pub per_dependant: bool,
    /// From which month a grant may be paid.
    pub starts: Start,
    pub from: Period,
    pub to: Option<Period>,
}

impl CategoryRule {
    pub fn in_force(&self, period: Period) -> bool {
        self.from <= period && self.to.is_none_or(|to| period <= to)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseLevel {
    pub program: Program,
    pub from: Period,
    pub amount: Dong,
    pub source: String,
    pub announced_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoefficientRule {
    pub category: String,
    pub from: Period,
    pub min_age: u32,
    /// Exclusive; `None` has no upper bound.
    pub max_age: Option<u32>,
    pub rate: Rate,
    pub source: String,
    pub announced_on: NaiveDate,
}

impl CoefficientRule {
    pub fn covers_age(&self, age: i64) -> bool {
        age >= i64::from(self.min_age) && self.max_age.is_none_or(|max| age < i64::from(max))
    }

    /// "from 60 to under 80", "from 80", "under 4".
    pub fn age_band(&self) -> String {
        match (self.min_age, self.max_age) {
            (0, None) => "any age".to_owned(),
            (0, Some(max)) => format!("under {max}"),
            (min, None) => format!("{min} and over"),
            (min, Some(max)) => format!("{min} to under {max}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuneralRule {
    pub program: Program,
    pub from: Period,
    /// Funeral support is this many times the base level.
    pub multiple: Coefficient,
    pub source: String,
    pub announced_on: NaiveDate,
}

/// Two categories a person may be paid under together (the K4 exception to the highest-amount rule).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Combination {
    pub category: String,
    pub with: String,
    pub from: Period,
    pub source: String,
}

/// Why a category pays nothing in a month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoRate {
    UnknownCategory,
    /// No row for the category is in force (or known) in that month.
    NotInForce,
    /// Rows are in force, but none covers this age.
    OutsideAgeBands {
        bands: Vec<String>,
    },
}

/// Every rule table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleBook {
    pub categories: Vec<CategoryRule>,
    pub base_levels: Vec<BaseLevel>,
    pub coefficients: Vec<CoefficientRule>,
    pub funeral: Vec<FuneralRule>,
    pub combinations: Vec<Combination>,
}

/// The CSV texts of the rule tables (see `data/rules/README.md`).
pub struct RuleFiles<'a> {
    pub categories: &'a str,
    pub base_levels: &'a str,
    pub coefficients: &'a str,
    pub funeral: &'a str,
    pub combinations: &'a str,
}

impl RuleFiles<'static> {
    /// The tables shipped with chitra, as the law stood when they were written.
    pub const STATUTORY: RuleFiles<'static> = RuleFiles {
        categories: include_str!("../../../data/rules/categories.csv"),
        base_levels: include_str!("../../../data/rules/base-levels.csv"),
        coefficients: include_str!("../../../data/rules/coefficients.csv"),
        funeral: include_str!("../../../data/rules/funeral.csv"),
        combinations: include_str!("../../../data/rules/combinations.csv"),
    };
}

/// A CSV table read into records, with errors that name the file, the row and the column.
struct Table {
    name: &'static str,
    headers: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    fn read(name: &'static str, text: &str) -> Result<Table, FieldError> {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| FieldError::new(name, format!("unreadable header: {e}")))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| FieldError::new(name, format!("row {}: {e}", i + 2)))?;
            rows.push((i + 2, rec.iter().map(|v| v.trim().to_owned()).collect()));
        }
        Ok(Table {
            name,
            headers,
            rows,
        })
    }

    fn col(&self, column: &str) -> Result<usize, FieldError> {
        self.headers
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| FieldError::new(self.name, format!("missing column '{column}'")))
    }

    fn each<T>(
        &self,
        mut f: impl FnMut(&dyn Fn(&str) -> Result<Cell, FieldError>) -> Result<T, FieldError>,
    ) -> Result<Vec<T>, FieldError> {
        let mut out = Vec::with_capacity(self.rows.len());
        for (line, values) in &self.rows {
            let get = |column: &str| -> Result<Cell, FieldError> {
                let i = self.col(column)?;
                Ok(Cell {
                    table: self.name,
                    line: *line,
                    column: column.to_owned(),
                    value: values.get(i).cloned().unwrap_or_default(),
                })
            };
            out.push(f(&get)?);
        }
        Ok(out)
    }
}

struct Cell {
    table: &'static str,
    line: usize,
    column: String,
    value: String,
}

impl Cell {
    fn err(&self, reason: impl fmt::Display) -> FieldError {
        FieldError::new(
            format!("{}:{} {}", self.table, self.line, self.column),
            format!("'{}': {reason}", self.value),
        )
    }
    fn text(&self) -> Result<String, FieldError> {
        if self.value.is_empty() {
            Err(self.err("must not be empty"))
        } else {
            Ok(self.value.clone())
        }
    }
    fn opt(&self) -> Option<&str> {
        (!self.value.is_empty()).then_some(self.value.as_str())
    }
    fn period(&self) -> Result<Period, FieldError> {
        Period::parse(&self.value).map_err(|e| self.err(e.reason))
    }
    fn opt_period(&self) -> Result<Option<Period>, FieldError> {
        self.opt().map(|_| self.period()).transpose()
    }
    fn date(&self) -> Result<NaiveDate, FieldError> {
        NaiveDate::parse_from_str(&self.value, "%Y-%m-%d")
            .map_err(|_| self.err("not a YYYY-MM-DD date"))
    }
    fn program(&self) -> Result<Program, FieldError> {
        Program::parse(&self.value).map_err(|e| self.err(e.reason))
    }
    fn dong(&self) -> Result<Dong, FieldError> {
        self.value
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .map(Dong)
            .ok_or_else(|| self.err("not a whole, non-negative number of đồng"))
    }
    fn coefficient(&self) -> Result<Coefficient, FieldError> {
        Coefficient::parse(&self.value).map_err(|e| self.err(e.reason))
    }
    fn age(&self) -> Result<u32, FieldError> {
        self.value
            .parse::<u32>()
            .ok()
            .filter(|a| *a <= 150)
            .ok_or_else(|| self.err("not an age in years"))
    }
    fn bool(&self) -> Result<bool, FieldError> {
        match self.value.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.err("must be true or false")),
        }
    }
}

impl RuleBook {
    /// The tables shipped with chitra (`data/rules/`).
    pub fn statutory() -> Result<RuleBook, FieldError> {
        RuleBook::from_csv(&RuleFiles::STATUTORY)
    }

    /// Reads the five tables; every error names the file, the line and the column.
    pub fn from_csv(files: &RuleFiles<'_>) -> Result<RuleBook, FieldError> {
        let categories = Table::read("categories.csv", files.categories)?.each(|c| {
            let paid_to = match c("paid_to")?.value.as_str() {
                "beneficiary" => PaidTo::Beneficiary,
                "facility" => PaidTo::Facility,
                _ => return Err(c("paid_to")?.err("must be beneficiary or facility")),
            };
            Ok(CategoryRule {
                code: c("code")?.text()?,
                program: c("program")?.program()?,
                clause: c("clause")?.text()?,
                name_vi: c("name_vi")?.text()?,
                name_en: c("name_en")?.text()?,
                paid_to,
                per_dependant: c("per_dependant")?.bool()?,
                starts: match c("starts")?.value.as_str() {
                    "signing" => Start::Signing,
                    "birthday" => Start::Birthday,
                    "certificate" => Start::Certificate,
                    _ => return Err(c("starts")?.err("must be signing, birthday or certificate")),
                },
                from: c("from")?.period()?,
                to: c("to")?.opt_period()?,
            })
        })?;
        let base_levels = Table::read("base-levels.csv", files.base_levels)?.each(|c| {
            Ok(BaseLevel {
                program: c("program")?.program()?,
                from: c("from")?.period()?,
                amount: c("amount")?.dong()?,
                source: c("source")?.text()?,
                announced_on: c("announced_on")?.date()?,
            })
        })?;
        let coefficients = Table::read("coefficients.csv", files.coefficients)?.each(|c| {
            let coefficient = c("coefficient")?;
            let fixed = c("fixed_amount")?;
            let rate = match (coefficient.opt(), fixed.opt()) {
                (Some(_), None) => Rate::Coefficient(coefficient.coefficient()?),
                (None, Some(_)) => Rate::Fixed(fixed.dong()?),
                _ => return Err(coefficient.err("give either a coefficient or a fixed_amount")),
            };
            let max = c("max_age")?;
            Ok(CoefficientRule {
                category: c("category")?.text()?,
                from: c("from")?.period()?,
                min_age: c("min_age")?.age()?,
                max_age: max.opt().map(|_| max.age()).transpose()?,
                rate,
                source: c("source")?.text()?,
                announced_on: c("announced_on")?.date()?,
            })
        })?;
        let funeral = Table::read("funeral.csv", files.funeral)?.each(|c| {
            Ok(FuneralRule {
                program: c("program")?.program()?,
                from: c("from")?.period()?,
                multiple: c("multiple")?.coefficient()?,
                source: c("source")?.text()?,
                announced_on: c("announced_on")?.date()?,
            })
        })?;
        let combinations = Table::read("combinations.csv", files.combinations)?.each(|c| {
            Ok(Combination {
                category: c("category")?.text()?,
                with: c("with")?.text()?,
                from: c("from")?.period()?,
                source: c("source")?.text()?,
            })
        })?;
        let book = RuleBook {
            categories,
            base_levels,
            coefficients,
            funeral,
            combinations,
        }
        .sorted();
        book.validate()?;
        Ok(book)
    }

    /// The tables in their canonical order (by category, program, month, age), whatever order the
    /// rows were read in, so that two books with the same rows are equal.
    pub fn sorted(mut self) -> RuleBook {
        self.categories.sort_by(|a, b| a.code.cmp(&b.code));
        self.base_levels.sort_by_key(|r| (r.program, r.from));
        self.coefficients.sort_by(|a, b| {
            (&a.category, a.from, a.min_age).cmp(&(&b.category, b.from, b.min_age))
        });
        self.funeral.sort_by_key(|r| (r.program, r.from));
        self.combinations
            .sort_by(|a, b| (&a.category, &a.with, a.from).cmp(&(&b.category, &b.with, b.from)));
        self
    }

    /// Checks the tables hang together: known categories, one row per key, no overlapping age bands.
    pub fn validate(&self) -> Result<(), FieldError> {
        let mut seen = BTreeMap::new();
        for c in &self.categories {
            if seen.insert(c.code.as_str(), c).is_some() {
                return Err(FieldError::new(
                    "category",
                    format!("{} is defined twice", c.code),
                ));
            }
            if c.to.is_some_and(|to| to < c.from) {
                return Err(FieldError::new(
                    "category",
                    format!("{} ends before it starts", c.code),
                ));
            }
        }
        let mut bases = BTreeMap::new();
        for b in &self.base_levels {
            if bases.insert((b.program, b.from), ()).is_some() {
                return Err(FieldError::new(
                    "base_level",
                    format!("two base levels for {} from {}", b.program, b.from),
                ));
            }
        }
        for r in &self.coefficients {
            if !seen.contains_key(r.category.as_str()) {
                return Err(FieldError::new(
                    "coefficient",
                    format!("row for unknown category {}", r.category),
                ));
            }
            if r.max_age.is_some_and(|m| m <= r.min_age) {
                return Err(FieldError::new(
                    "coefficient",
                    format!(
                        "{} from {}: empty age band {}",
                        r.category,
                        r.from,
                        r.age_band()
                    ),
                ));
            }
            let overlapping = self.coefficients.iter().any(|o| {
                !std::ptr::eq(o, r)
                    && o.category == r.category
                    && o.from == r.from
                    && o.min_age < r.max_age.unwrap_or(u32::MAX)
                    && r.min_age < o.max_age.unwrap_or(u32::MAX)
            });
            if overlapping {
                return Err(FieldError::new(
                    "coefficient",
                    format!("{} from {}: age bands overlap", r.category, r.from),
                ));
            }
        }
        for c in &self.combinations {
            for code in [&c.category, &c.with] {
                if !seen.contains_key(code.as_str()) {
                    return Err(FieldError::new(
                        "combination",
                        format!("unknown category {code}"),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn category(&self, code: &str) -> Option<&CategoryRule> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The category whose money goes to the facility (*nuôi dưỡng trong cơ sở*), for a program.
    pub fn facility_category(&self, program: Program) -> Option<&CategoryRule> {
        self.categories
            .iter()
            .find(|c| c.program == program && c.paid_to == PaidTo::Facility)
    }

    /// The base level of `program` in force in `period`, among the rows `known`.
    pub fn base_level(&self, program: Program, period: Period, known: Known) -> Option<&BaseLevel> {
        self.base_levels
            .iter()
            .filter(|b| b.program == program && b.from <= period && known.includes(b.announced_on))
            .max_by_key(|b| b.from)
    }

    /// The coefficient row of `category` for someone aged `age` in `period`.
    pub fn coefficient(
        &self,
        category: &str,
        period: Period,
        age: i64,
        known: Known,
    ) -> Result<&CoefficientRule, NoRate> {
        let cat = self.category(category).ok_or(NoRate::UnknownCategory)?;
        if !cat.in_force(period) {
            return Err(NoRate::NotInForce);
        }
        let version = self
            .coefficients
            .iter()
            .filter(|r| {
                r.category == category && r.from <= period && known.includes(r.announced_on)
            })
            .map(|r| r.from)
            .max()
            .ok_or(NoRate::NotInForce)?;
        let rows = self
            .coefficients
            .iter()
            .filter(|r| r.category == category && r.from == version);
        let mut bands = Vec::new();
        for r in rows {
            if r.covers_age(age) {
                return Ok(r);
            }
            bands.push(r.age_band());
        }
        Err(NoRate::OutsideAgeBands { bands })
    }

    pub fn funeral(&self, program: Program, period: Period, known: Known) -> Option<&FuneralRule> {
        self.funeral
            .iter()
            .filter(|f| f.program == program && f.from <= period && known.includes(f.announced_on))
            .max_by_key(|f| f.from)
    }

    /// Whether `a` and `b` are paid together in `period`, and under which act.
    pub fn combination(&self, a: &str, b: &str, period: Period) -> Option<&Combination> {
        self.combinations.iter().find(|c| {
            c.from <= period
                && ((c.category == a && c.with == b) || (c.category == b && c.with == a))
        })
    }

    /// The earliest month whose amounts for `program` change between two states of knowledge:
    /// rows announced in `[since, until)`. `None` if nothing was announced then.
    pub fn changed_between(
        &self,
        program: Program,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Option<Period> {
        let window = |d: NaiveDate| since <= d && d < until;
        let of_program = |category: &str| {
            self.category(category)
                .is_some_and(|c| c.program == program)
        };
        let a = self
            .base_levels
            .iter()
            .filter(|r| r.program == program && window(r.announced_on))
            .map(|r| r.from);
        let b = self
            .coefficients
            .iter()
            .filter(|r| of_program(&r.category) && window(r.announced_on))
            .map(|r| r.from);
        let c = self
            .funeral
            .iter()
            .filter(|r| r.program == program && window(r.announced_on))
            .map(|r| r.from);

        a.chain(b).chain(c).min()
    }

    /// Everything in force in `period`, as `chitra rules show --at` prints it.
    pub fn at(&self, period: Period) -> RulesAt {
        let base = |p| self.base_level(p, period, Known::All).cloned();
        let mut coefficients = Vec::new();
        for cat in self.categories.iter().filter(|c| c.in_force(period)) {
            let version = self
                .coefficients
                .iter()
                .filter(|r| r.category == cat.code && r.from <= period)
                .map(|r| r.from)
                .max();
            let mut rows: Vec<&CoefficientRule> = self
                .coefficients
                .iter()
                .filter(|r| r.category == cat.code && Some(r.from) == version)
                .collect();
            rows.sort_by_key(|r| r.min_age);
            for r in rows {
                coefficients.push(CoefficientAt {
                    category: cat.code.clone(),
                    program: cat.program,
                    name_vi: cat.name_vi.clone(),
                    name_en: cat.name_en.clone(),
                    paid_to: cat.paid_to,
                    per_dependant: cat.per_dependant,
                    age_band: r.age_band(),
                    min_age: r.min_age,
                    max_age: r.max_age,
                    rate: r.rate,
                    monthly_amount: monthly(r.rate, base(cat.program).map(|b| b.amount)),
                    from: r.from,
                    source: r.source.clone(),
                });
            }
        }
        RulesAt {
            at: period,
            social_assistance_base_vnd: base(Program::SocialAssistance).map(|b| b.amount),
            merit_base_vnd: base(Program::MeritAllowance).map(|b| b.amount),
            base_levels: Program::ALL.iter().filter_map(|p| base(*p)).collect(),
            coefficients,
            funeral: Program::ALL
                .iter()
                .filter_map(|p| self.funeral(*p, period, Known::All).cloned())
                .collect(),
            combinations: self
                .combinations
                .iter()
                .filter(|c| c.from <= period)
                .cloned()
                .collect(),
        }
    }
}

fn monthly(rate: Rate, base: Option<Dong>) -> Option<Dong> {
    match rate {
        Rate::Fixed(d) => Some(d),
        Rate::Coefficient(c) => base.and_then(|b| b.times(c).ok()),
    }
}

/// The rules in force in one month.
#[derive(Clone, Debug, Serialize)]
pub struct RulesAt {
    pub at: Period,
    pub social_assistance_base_vnd: Option<Dong>,
    pub merit_base_vnd: Option<Dong>,
    pub base_levels: Vec<BaseLevel>,
    pub coefficients: Vec<CoefficientAt>,
    pub funeral: Vec<FuneralRule>,
    pub combinations: Vec<Combination>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CoefficientAt {
    pub category: String,
    pub program: Program,
    pub name_vi: String,
    pub name_en: String,
    pub paid_to: PaidTo,
    pub per_dependant: bool,
    pub age_band: String,
    pub min_age: u32,
    pub max_age: Option<u32>,
    pub rate: Rate,
    /// Base × coefficient (or the fixed amount), for one person or one dependant.
    pub monthly_amount: Option<Dong>,
    pub from: Period,
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    #[test]
    fn coefficient_parses_without_floats() {
        assert_eq!(Coefficient::parse("2.5").unwrap().thousandths(), 2500);
        assert_eq!(Coefficient::parse("1").unwrap().thousandths(), 1000);
        assert_eq!(Coefficient::parse("0.333").unwrap().thousandths(), 333);
        assert_eq!(Coefficient::parse("2.5").unwrap().to_string(), "2.5");
        assert_eq!(Coefficient::parse("4").unwrap().to_string(), "4.0");
        for bad in ["", "1.2345", "-1", "a", "1.", ".5", "1e3"] {
            assert!(Coefficient::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statutory_tables_load() {
        let book = RuleBook::statutory().unwrap();
        assert!(book.category("K5b").is_some());
        assert_eq!(
            book.facility_category(Program::SocialAssistance)
                .unwrap()
                .code,
            "NTT"
        );
    }

    #[test]
    fn social_assistance_base_levels_by_month() {
        let book = RuleBook::statutory().unwrap();
        let base = |s| {
            book.base_level(Program::SocialAssistance, p(s), Known::All)
                .unwrap()
                .amount
        };
        assert_eq!(base("2018-01"), Dong(270_000));
        assert_eq!(base("2020-06"), Dong(270_000));
        assert_eq!(base("2021-06"), Dong(270_000));
        assert_eq!(base("2021-07"), Dong(360_000));
        assert_eq!(base("2024-06"), Dong(360_000));
        assert_eq!(base("2024-07"), Dong(500_000));
        assert_eq!(base("2026-11"), Dong(500_000));
        assert!(
            book.base_level(Program::SocialAssistance, p("2013-12"), Known::All)
                .is_none()
        );
    }

    #[test]
    fn merit_base_levels_by_month() {
        let book = RuleBook::statutory().unwrap();
        let base = |s| {
            book.base_level(Program::MeritAllowance, p(s), Known::All)
                .unwrap()
                .amount
        };
        assert_eq!(base("2017-07"), Dong(1_417_000));
        assert_eq!(base("2018-07"), Dong(1_515_000));
        assert_eq!(base("2019-07"), Dong(1_624_000));
        assert_eq!(base("2021-07"), Dong(1_624_000));
        assert_eq!(base("2023-06"), Dong(1_624_000));
        assert_eq!(base("2023-07"), Dong(2_055_000));
        assert_eq!(base("2024-07"), Dong(2_789_000));
    }

    #[test]
    fn a_payroll_knows_only_what_was_signed_before_its_month() {
        let book = RuleBook::statutory().unwrap();
        // Decree 76/2024 was signed on 1 July 2024: the July payroll, handed over in June, still
        // used 360,000; August knows the new base.
        let july = p("2024-07");
        let b = book
            .base_level(Program::SocialAssistance, july, Known::for_payroll(july))
            .unwrap();
        assert_eq!(b.amount, Dong(360_000));
        let aug = p("2024-08");
        let b = book
            .base_level(Program::SocialAssistance, july, Known::for_payroll(aug))
            .unwrap();
        assert_eq!(b.amount, Dong(500_000));
        let sa = Program::SocialAssistance;
        assert_eq!(
            book.changed_between(sa, july.first_day(), aug.first_day()),
            Some(p("2024-07"))
        );
        assert_eq!(
            book.changed_between(sa, p("2019-01").first_day(), p("2019-02").first_day()),
            None
        );
        // The merit base level of July 2018 was signed on 12 July: it changes nothing for social
        // assistance.
        assert_eq!(
            book.changed_between(sa, p("2018-07").first_day(), p("2018-08").first_day()),
            None
        );
        assert_eq!(
            book.changed_between(
                Program::MeritAllowance,
                p("2018-07").first_day(),
                p("2018-08").first_day()
            ),
            Some(p("2018-07"))
        );
    }

    #[test]
    fn validation_rejects_overlapping_bands_and_unknown_categories() {
        let mut book = RuleBook::statutory().unwrap();
        let mut row = book.coefficients[0].clone();
        row.min_age = 2;
        book.coefficients.push(row);
        assert!(book.validate().unwrap_err().reason.contains("overlap"));

        let mut book = RuleBook::statutory().unwrap();
        book.combinations.push(Combination {
            category: "K4".into(),
            with: "K99".into(),
            from: p("2021-07"),
            source: "x".into(),
        });
        assert!(book.validate().unwrap_err().reason.contains("K99"));
    }

    #[test]
    fn csv_errors_name_the_file_line_and_column() {
        let files = RuleFiles {
            base_levels: "program,from,amount,source,announced_on\nsocial_assistance,2014-13,270000,x,2013-10-21\n",
            ..RuleFiles::STATUTORY
        };
        let e = RuleBook::from_csv(&files).unwrap_err();
        assert_eq!(e.field, "base-levels.csv:2 from");
    }

    #[test]
    fn rules_at_a_month() {
        let book = RuleBook::statutory().unwrap();
        let r = book.at(p("2020-06"));
        assert_eq!(r.social_assistance_base_vnd, Some(Dong(270_000)));
        assert!(
            r.coefficients.iter().all(|c| c.category != "K5b"),
            "K5b is new in 2021"
        );
        let r = book.at(p("2021-07"));
        assert_eq!(r.social_assistance_base_vnd, Some(Dong(360_000)));
        assert!(r.coefficients.iter().any(|c| c.category == "K5b"));
        let k1 = r.coefficients.iter().find(|c| c.category == "K1").unwrap();
        assert_eq!(k1.monthly_amount, Some(Dong(900_000)));
    }
}
