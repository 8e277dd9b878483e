//! When a payment point pays: the weekdays it opens, and its schedule for each month — the days of
//! the month and the opening hours. Times are Vietnam's: UTC+7 all year, no daylight saving.
//!
//! A month without a schedule set for a point has a default one: the point's pay days (its kind's
//! usual days unless set otherwise) on its opening weekdays, 07:00–17:00.

use std::fmt;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Weekday,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::FieldError;
use crate::period::Period;

/// Vietnam's offset from UTC, in seconds (ICT, UTC+7, no daylight saving).
pub const VIETNAM_OFFSET_SECONDS: i32 = 7 * 3600;

/// Vietnam's time zone as a fixed offset.
pub fn vietnam() -> FixedOffset {
    // 7 hours is within ±24 h, so the offset always exists: the UTC fallback is never taken.
    FixedOffset::east_opt(VIETNAM_OFFSET_SECONDS).unwrap_or(chrono::Utc.fix())
}

/// The local time in Vietnam of a moment given in any offset.
pub fn vietnam_time<Tz: TimeZone>(at: &DateTime<Tz>) -> NaiveDateTime {
    at.with_timezone(&vietnam()).naive_local()
}

const WEEKDAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The days of the week a payment point opens.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weekdays(u8);

impl Weekdays {
    /// Monday to Saturday: what post offices and commune points usually keep.
    pub const MON_TO_SAT: Weekdays = Weekdays(0b0011_1111);
    pub const EVERY_DAY: Weekdays = Weekdays(0b0111_1111);

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses a list of days and ranges of days: `mon-sat`, `mon,wed,fri`, `mon-fri,sun`.
    pub fn parse(s: &str) -> Result<Weekdays, FieldError> {
        let bad = |why: String| FieldError::new("opening_days", why);
        let day = |t: &str| -> Result<u8, FieldError> {
            let t = t.trim().to_ascii_lowercase();
            WEEKDAY_NAMES
                .iter()
                .zip(WEEKDAY_FULL_NAMES)
                .position(|(short, full)| t == *short || t == full)
                .map(|i| i as u8)
                .ok_or_else(|| {
                    bad(format!(
                        "'{t}' is not a day of the week (mon, tue, wed, thu, fri, sat, sun)"
                    ))
                })
        };
        let mut bits = 0u8;
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (day(a)?, day(b)?),
                None => {
                    let d = day(part)?;
                    (d, d)
                }
            };
            if a > b {
                return Err(bad(format!(
                    "'{}' runs backwards: write it from Monday's side",
                    part.trim()
                )));
            }
            for d in a..=b {
                bits |= 1 << d;
            }
        }
        if bits == 0 {
            return Err(bad(
                "a payment point opens on at least one day of the week".into()
            ));
        }
        Ok(Weekdays(bits))
    }

    /// The canonical text: ranges of consecutive days, `mon-sat`, `mon,wed,fri`.
    pub fn code(self) -> String {
        let mut parts = Vec::new();
        let mut d = 0;
        while d < 7 {
            if self.0 & (1 << d) == 0 {
                d += 1;
                continue;
            }
            let start = d;
            while d + 1 < 7 && self.0 & (1 << (d + 1)) != 0 {
                d += 1;
            }
            parts.push(if start == d {
                WEEKDAY_NAMES[start].to_owned()
            } else {
                format!("{}-{}", WEEKDAY_NAMES[start], WEEKDAY_NAMES[d])
            });
            d += 1;
        }
        parts.join(",")
    }
}

const WEEKDAY_FULL_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl Default for Weekdays {
    fn default() -> Self {
        Weekdays::MON_TO_SAT
    }
}

impl fmt::Display for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl fmt::Debug for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Weekdays({})", self.code())
    }
}

impl Serialize for Weekdays {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Weekdays::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Days of a month (1 to 31).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MonthDays(u32);

impl MonthDays {
    /// The days `first..=last` (clipped to 1–31).
    pub fn range(first: u8, last: u8) -> MonthDays {
        let mut bits = 0u32;
        for d in first.max(1)..=last.min(31) {
            bits |= 1 << d;
        }
        MonthDays(bits)
    }

    pub fn contains(self, day: u32) -> bool {
        day <= 31 && self.0 & (1 << day) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The days, in order.
    pub fn iter(self) -> impl Iterator<Item = u32> {
        (1..=31).filter(move |d| self.contains(*d))
    }

    pub fn last(self) -> Option<u32> {
        (1..=31).rev().find(|d| self.contains(*d))
    }

    /// Only the days that fall on `weekdays` in `period`.
    pub fn on(self, period: Period, weekdays: Weekdays) -> MonthDays {
        let mut bits = 0u32;
        for d in self.iter() {
            if let Some(date) = period.first_day().with_day(d)
                && weekdays.contains(date.weekday())
            {
                bits |= 1 << d;
            }
        }
        MonthDays(bits)
    }

    /// Parses days and ranges of days: `2-10`, `2-10,15,20-22`.
    pub fn parse(s: &str) -> Result<MonthDays, FieldError> {
        let bad = |why: String| FieldError::new("days", why);
        let day = |t: &str| -> Result<u32, FieldError> {
            match t.trim().parse::<u32>() {
                Ok(d @ 1..=31) => Ok(d),
                _ => Err(bad(format!(
                    "'{}' is not a day of the month (1 to 31)",
                    t.trim()
                ))),
            }
        };
        let mut bits = 0u32;
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (day(a)?, day(b)?),
                None => {
                    let d = day(part)?;
                    (d, d)
                }
            };
            if a > b {
                return Err(bad(format!("'{}' runs backwards", part.trim())));
            }
            for d in a..=b {
                bits |= 1 << d;
            }
        }
        if bits == 0 {
            return Err(bad("a schedule has at least one day".into()));
        }
        Ok(MonthDays(bits))
    }

    /// The canonical text: ranges of consecutive days, `2-10,15`.
    pub fn code(self) -> String {
        let mut parts = Vec::new();
        let mut d = 1;
        while d <= 31 {
            if !self.contains(d) {
                d += 1;
                continue;
            }
            let start = d;
            while d < 31 && self.contains(d + 1) {
                d += 1;
            }
            parts.push(if start == d {
                start.to_string()
            } else {
                format!("{start}-{d}")
            });
            d += 1;
        }
        parts.join(",")
    }
}

impl fmt::Display for MonthDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl fmt::Debug for MonthDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MonthDays({})", self.code())
    }
}

impl Serialize for MonthDays {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

impl<'de> Deserialize<'de> for MonthDays {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MonthDays::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Opening time of the default schedule.
pub const DEFAULT_OPENS: (u32, u32) = (7, 0);
/// Closing time of the default schedule.
pub const DEFAULT_CLOSES: (u32, u32) = (17, 0);

/// Reads `HH:MM`.
pub fn parse_time(field: &str, s: &str) -> Result<NaiveTime, FieldError> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
        FieldError::new(
            field,
            format!("'{}' is not a time of day written HH:MM", s.trim()),
        )
    })
}

/// Reads opening hours written `07:30-16:30`.
pub fn parse_hours(s: &str) -> Result<(NaiveTime, NaiveTime), FieldError> {
    let (a, b) = s.split_once('-').ok_or_else(|| {
        FieldError::new(
            "hours",
            format!("'{}' is not opening hours written HH:MM-HH:MM", s.trim()),
        )
    })?;
    let opens = parse_time("hours", a)?;
    let closes = parse_time("hours", b)?;
    Ok((opens, closes))
}

fn hm(t: (u32, u32)) -> NaiveTime {
    NaiveTime::from_hms_opt(t.0, t.1, 0).unwrap_or(NaiveTime::MIN)
}

/// A payment point's schedule for one month: the days it pays and its hours on those days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointSchedule {
    pub period: Period,
    pub days: MonthDays,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

/// How far ahead of today a point's days may be set: the year to come.
pub const MAX_MONTHS_AHEAD: i64 = 12;

/// Whether a schedule for `period` may be set on `today`: any month past, none more than
/// [`MAX_MONTHS_AHEAD`] ahead.
pub fn check_settable(period: Period, today: NaiveDate) -> Result<(), FieldError> {
    let latest = Period::of(today).plus(MAX_MONTHS_AHEAD);
    if period > latest {
        return Err(FieldError::new(
            "period",
            format!(
                "{period} is more than {MAX_MONTHS_AHEAD} months ahead: days can be set up to {latest}"
            ),
        ));
    }
    Ok(())
}

impl PointSchedule {
    /// A schedule as set by a post manager: every day exists in the month, and the point opens
    /// before it closes.
    pub fn new(
        period: Period,
        days: MonthDays,
        opens: NaiveTime,
        closes: NaiveTime,
    ) -> Result<PointSchedule, FieldError> {
        let last = period.last_day().day();
        if days.is_empty() {
            return Err(FieldError::new("days", "a schedule has at least one day"));
        }
        if let Some(d) = days.last()
            && d > last
        {
            return Err(FieldError::new(
                "days",
                format!("{period} has {last} days: there is no day {d}"),
            ));
        }
        if opens >= closes {
            return Err(FieldError::new(
                "hours",
                format!(
                    "the point opens at {} and closes at {}: it must open before it closes",
                    opens.format("%H:%M"),
                    closes.format("%H:%M")
                ),
            ));
        }
        Ok(PointSchedule {
            period,
            days,
            opens,
            closes,
        })
    }

    /// The schedule of a month none was set for: the point's pay days that fall on its opening
    /// weekdays, 07:00–17:00.
    pub fn default_for(period: Period, pay_days: (u8, u8), opening: Weekdays) -> PointSchedule {
        let last = period.last_day().day() as u8;
        let days = MonthDays::range(pay_days.0, pay_days.1.min(last)).on(period, opening);
        PointSchedule {
            period,
            days,
            opens: hm(DEFAULT_OPENS),
            closes: hm(DEFAULT_CLOSES),
        }
    }

    /// Whether a moment, in Vietnam's local time, is within the schedule: a day of it, from the
    /// opening time up to (not including) the closing time.
    pub fn contains_local(&self, at: NaiveDateTime) -> bool {
        let date = at.date();
        Period::of(date) == self.period
            && self.days.contains(date.day())
            && at.time() >= self.opens
            && at.time() < self.closes
    }

    /// Whether a moment, in any offset, is within the schedule (read in Vietnam's time).
    pub fn contains<Tz: TimeZone>(&self, at: &DateTime<Tz>) -> bool {
        self.contains_local(vietnam_time(at))
    }

    /// The hours as written: `07:00-17:00`.
    pub fn hours(&self) -> String {
        format!(
            "{}-{}",
            self.opens.format("%H:%M"),
            self.closes.format("%H:%M")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn weekdays_read_and_write_back() {
        assert_eq!(Weekdays::parse("mon-sat").unwrap(), Weekdays::MON_TO_SAT);
        assert_eq!(Weekdays::default().code(), "mon-sat");
        let w = Weekdays::parse("Mon, wed ,fri").unwrap();
        assert_eq!(w.code(), "mon,wed,fri");
        assert!(w.contains(Weekday::Wed) && !w.contains(Weekday::Tue));
        assert_eq!(
            Weekdays::parse("mon-fri,sun").unwrap().code(),
            "mon-fri,sun"
        );
        assert_eq!(
            Weekdays::parse("monday-sunday").unwrap(),
            Weekdays::EVERY_DAY
        );
        for bad in ["", "moon", "sat-mon", ","] {
            assert_eq!(
                Weekdays::parse(bad).unwrap_err().field,
                "opening_days",
                "{bad}"
            );
        }
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(json, "\"mon,wed,fri\"");
        assert_eq!(serde_json::from_str::<Weekdays>(&json).unwrap(), w);
    }

    #[test]
    fn month_days_read_and_write_back() {
        let d = MonthDays::parse("2-10, 15,20-22").unwrap();
        assert_eq!(d.code(), "2-10,15,20-22");
        assert!(d.contains(2) && d.contains(10) && d.contains(21) && !d.contains(11));
        assert_eq!(d.iter().count(), 9 + 1 + 3);
        for bad in ["0", "32", "10-2", "", "a-b"] {
            assert_eq!(MonthDays::parse(bad).unwrap_err().field, "days", "{bad}");
        }
    }

    #[test]
    fn a_schedule_is_checked_against_its_month() {
        let days = MonthDays::parse("20-30").unwrap();
        let e = PointSchedule::new(p("2025-02"), days, t(7, 0), t(17, 0)).unwrap_err();
        assert_eq!(e.field, "days");
        assert!(e.reason.contains("28 days"), "{}", e.reason);
        assert!(
            PointSchedule::new(
                p("2024-02"),
                MonthDays::parse("29").unwrap(),
                t(7, 0),
                t(17, 0)
            )
            .is_ok()
        );
        let e = PointSchedule::new(p("2025-03"), days, t(17, 0), t(7, 30)).unwrap_err();
        assert_eq!(e.field, "hours");
        let e = PointSchedule::new(p("2025-03"), days, t(8, 0), t(8, 0)).unwrap_err();
        assert_eq!(e.field, "hours");
        let (o, c) = parse_hours("07:30-16:30").unwrap();
        assert_eq!((o, c), (t(7, 30), t(16, 30)));
        assert_eq!(parse_hours("7h-16h").unwrap_err().field, "hours");
    }

    #[test]
    fn the_default_schedule_is_the_pay_days_on_opening_weekdays() {
        // August 2025: the 2nd is a Saturday, the 3rd and 10th Sundays.
        let s = PointSchedule::default_for(p("2025-08"), (2, 10), Weekdays::MON_TO_SAT);
        assert_eq!(s.days.code(), "2,4-9");
        assert_eq!(s.hours(), "07:00-17:00");
        let every = PointSchedule::default_for(p("2025-08"), (2, 10), Weekdays::EVERY_DAY);
        assert_eq!(every.days.code(), "2-10");
        // Pay days past the month's end are dropped.
        let feb = PointSchedule::default_for(p("2025-02"), (25, 31), Weekdays::EVERY_DAY);
        assert_eq!(feb.days.code(), "25-28");
    }

    #[test]
    fn a_moment_is_read_in_vietnam_time() {
        let s = PointSchedule::new(
            p("2025-08"),
            MonthDays::parse("4-8").unwrap(),
            t(7, 30),
            t(16, 30),
        )
        .unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        assert!(s.contains(&at("2025-08-04T07:30:00+07:00")));
        assert!(s.contains(&at("2025-08-04T16:29:59+07:00")));
        assert!(
            !s.contains(&at("2025-08-04T16:30:00+07:00")),
            "closed at closing time"
        );
        assert!(!s.contains(&at("2025-08-04T07:29:00+07:00")));
        // 01:00 UTC is 08:00 in Vietnam; 23:00 UTC on the 3rd is 06:00 on the 4th.
        assert!(s.contains(&at("2025-08-04T01:00:00Z")));
        assert!(!s.contains(&at("2025-08-03T23:00:00Z")));
        assert!(
            !s.contains(&at("2025-08-09T09:00:00+07:00")),
            "not a day of it"
        );
        assert!(
            !s.contains(&at("2025-09-04T09:00:00+07:00")),
            "another month"
        );
    }

    #[test]
    fn days_are_set_up_to_a_year_ahead() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert!(check_settable(p("2018-01"), today).is_ok());
        assert!(check_settable(p("2027-12"), today).is_ok());
        for far in ["2028-01", "9999-12"] {
            let e = check_settable(p(far), today).unwrap_err();
            assert_eq!(e.field, "period");
            assert!(e.reason.contains("2027-12"), "{}", e.reason);
        }
    }
}
