//! A payment period: one calendar month.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::FieldError;

/// One calendar month, the unit in which allowances are due and paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u8,
}

impl Period {
    pub const MIN_YEAR: i32 = 1900;
    pub const MAX_YEAR: i32 = 9999;

    pub fn new(year: i32, month: u32) -> Result<Period, FieldError> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(FieldError::new(
                "period",
                format!(
                    "year {year} is outside {}–{}",
                    Self::MIN_YEAR,
                    Self::MAX_YEAR
                ),
            ));
        }
        match u8::try_from(month) {
            Ok(m @ 1..=12) => Ok(Period { year, month: m }),
            _ => Err(FieldError::new(
                "period",
                format!("month {month} is not between 1 and 12"),
            )),
        }
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> Period {
        Period {
            year: date.year(),
            month: date.month() as u8,
        }
    }

    /// Parses `YYYY-MM` (as typed on the command line and in the API).
    pub fn parse(s: &str) -> Result<Period, FieldError> {
        let bad = || FieldError::new("period", format!("'{s}' is not a month written YYYY-MM"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Period::new(year, month)
    }

    pub const fn year(self) -> i32 {
        self.year
    }

    pub const fn month(self) -> u32 {
        self.month as u32
    }

    /// `202007` for July 2020: the form the store keeps, ordered like the months.
    pub const fn yyyymm(self) -> i64 {
        self.year as i64 * 100 + self.month as i64
    }

    pub fn from_yyyymm(v: i64) -> Result<Period, FieldError> {
        let year = i32::try_from(v / 100)
            .map_err(|_| FieldError::new("period", format!("{v} is not a YYYYMM month")))?;
        Period::new(year, (v % 100) as u32)
    }

    /// Months since January of year 0: makes month arithmetic plain integer arithmetic.
    pub const fn index(self) -> i64 {
        self.year as i64 * 12 + self.month as i64 - 1
    }

    /// The month `i` months after January of year 0 (the inverse of [`Period::index`]).
    pub fn from_index(i: i64) -> Period {
        Period {
            year: i.div_euclid(12) as i32,
            month: (i.rem_euclid(12) + 1) as u8,
        }
    }

    pub fn next(self) -> Period {
        self.plus(1)
    }

    pub fn prev(self) -> Period {
        self.plus(-1)
    }

    /// This month moved by `months` (negative goes back).
    pub fn plus(self, months: i64) -> Period {
        Period::from_index(self.index() + months)
    }

    /// How many months from `self` to `later` (negative if `later` is earlier).
    pub fn months_until(self, later: Period) -> i64 {
        later.index() - self.index()
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month(), 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    /// Every month from `self` to `last`, both included.
    pub fn through(self, last: Period) -> impl Iterator<Item = Period> {
        (self.index()..=last.index()).map(Period::from_index)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Period::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Age in whole years reached by the end of `period`: an age-dependent coefficient changes in the
/// month of the birthday (Decree 20/2021), so only the birth month matters, never the day.
pub fn age_in(birth: NaiveDate, period: Period) -> i64 {
    let years = i64::from(period.year - birth.year());
    if period.month() < birth.month() {
        years - 1
    } else {
        years
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints_yyyy_mm() {
        assert_eq!(p("2021-07").to_string(), "2021-07");
        assert_eq!(p("2021-07").yyyymm(), 202107);
        assert_eq!(Period::from_yyyymm(202107).unwrap(), p("2021-07"));
        for bad in [
            "2021-13", "2021-00", "2021-7", "21-07", "2021/07", "", "abcd-ef",
        ] {
            let err = Period::parse(bad).unwrap_err();
            assert_eq!(err.field, "period", "{bad}");
        }
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        assert_eq!(p("2020-12").next(), p("2021-01"));
        assert_eq!(p("2021-01").prev(), p("2020-12"));
        assert_eq!(p("2018-01").months_until(p("2020-12")), 35);
        assert_eq!(p("2018-01").through(p("2020-12")).count(), 36);
        assert_eq!(
            p("2024-02").last_day(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
    }

    #[test]
    fn age_changes_in_the_birthday_month() {
        let birth = NaiveDate::from_ymd_opt(1940, 7, 31).unwrap();
        assert_eq!(age_in(birth, p("2020-06")), 79);
        assert_eq!(age_in(birth, p("2020-07")), 80);
        assert_eq!(age_in(birth, p("2020-08")), 80);
    }
}
