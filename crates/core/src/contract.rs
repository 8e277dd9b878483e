//! Payment contracts between the department and the post office: who pays where, for what fee,
//! and by which days the money is advanced, paid and reported.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::money::{Dong, Overflow};
use crate::period::Period;
use crate::program::Program;
use crate::text;
use crate::units::UnitLevel;

/// How the post office's service fee is reckoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeRule {
    /// A share of the amount paid, in basis points (1.2 % is 120).
    Percent { basis_points: u32 },
    /// A fixed amount per beneficiary paid in the month (e.g. 6,600 đồng).
    PerBeneficiary { amount: Dong },
}

/// The most a fee per beneficiary paid may be: 1,000,000 đ a month (contracts pay a few thousand
/// đồng; a larger figure is a typing error, and one near the range of `Dong` would make the
/// month's fee overflow when its period is closed).
pub const MAX_FEE_PER_BENEFICIARY: Dong = Dong(1_000_000);

fn too_much_fee(amount: Dong) -> FieldError {
    FieldError::new(
        "fee",
        format!(
            "{} đ per beneficiary is more than the {} đ a contract may charge",
            amount.get(),
            MAX_FEE_PER_BENEFICIARY.get()
        ),
    )
}

impl FeeRule {
    /// `1.2%` or `6600/beneficiary`, as typed on the command line.
    pub fn parse(s: &str) -> Result<FeeRule, FieldError> {
        let t = s.trim();
        let bad = || {
            FieldError::new(
                "fee",
                format!(
                    "'{t}' is not a fee: write a percentage such as 1.2% or an amount per beneficiary such as 6600/beneficiary"
                ),
            )
        };
        if let Some(p) = t.strip_suffix('%') {
            let (whole, frac) = p.split_once('.').unwrap_or((p, ""));
            if whole.is_empty()
                || frac.len() > 2
                || !whole
                    .bytes()
                    .chain(frac.bytes())
                    .all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            let bp = whole.parse::<u32>().map_err(|_| bad())? * 100
                + format!("{frac:0<2}").parse::<u32>().map_err(|_| bad())?;
            if bp > 10_000 {
                return Err(FieldError::new(
                    "fee",
                    format!("{t} is more than the amount paid"),
                ));
            }
            return Ok(FeeRule::Percent { basis_points: bp });
        }
        if let Some(a) = t.strip_suffix("/beneficiary") {
            let amount: i64 = a.trim().parse().map_err(|_| bad())?;
            if amount < 0 {
                return Err(bad());
            }
            if amount > MAX_FEE_PER_BENEFICIARY.get() {
                return Err(too_much_fee(Dong(amount)));
            }
            return Ok(FeeRule::PerBeneficiary {
                amount: Dong(amount),
            });
        }
        Err(bad())
    }

    /// The fee for a month in which `paid` was paid to `beneficiaries` people; a percentage is
    /// rounded half up to whole đồng.
    pub fn fee(self, paid: Dong, beneficiaries: i64) -> Result<Dong, Overflow> {
        match self {
            FeeRule::Percent { basis_points } => {
                let scaled = i128::from(paid.get()) * i128::from(basis_points);
                i64::try_from((scaled + 5_000) / 10_000)
                    .map(Dong)
                    .map_err(|_| Overflow)
            }
            FeeRule::PerBeneficiary { amount } => amount.checked_mul(beneficiaries),
        }
    }
}

/// A contract as written, before it has an id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewContract {
    /// Short code, used in account names: `BT-BĐ-2018`.
    pub code: String,
    pub name: String,
    /// The department (office) that pays.
    pub office_id: i64,
    /// The post office that pays out.
    pub post_office: String,
    /// The province (2 digits), district (3, before July 2025) or commune (5) the contract covers.
    pub area_code: String,
    pub program: Program,
    pub fee: FeeRule,
    /// The money for month M is advanced by this day of month M − 1.
    pub advance_by_day: u8,
    /// The days of month M on which the post office pays.
    pub pay_from_day: u8,
    pub pay_to_day: u8,
    /// The post office reports month M by this day of month M + 1.
    pub report_by_day: u8,
    pub valid_from: Period,
    pub valid_to: Option<Period>,
}

/// A contract on record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub id: i64,
    #[serde(flatten)]
    pub terms: NewContract,
}

/// The day `day` of a month, or its last day if the month is shorter.
fn day_of(period: Period, day: u8) -> NaiveDate {
    NaiveDate::from_ymd_opt(period.year(), period.month(), u32::from(day))
        .unwrap_or(period.last_day())
}

impl NewContract {
    pub fn check(&self) -> Result<(), FieldError> {
        text::check_required("code", &self.code, 40)?;
        if !self
            .code
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(FieldError::new(
                "code",
                "use letters, digits, '-', '_' or '.' only",
            ));
        }
        text::check_required("name", &self.name, 200)?;
        text::check_required("post_office", &self.post_office, 200)?;
        if !matches!(self.area_code.len(), 2 | 3 | 5)
            || !self.area_code.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(FieldError::new(
                "area_code",
                format!(
                    "'{}' is not the code of a province (2 digits), a district (3) or a commune (5)",
                    self.area_code
                ),
            ));
        }
        for (field, d) in [
            ("advance_by_day", self.advance_by_day),
            ("pay_from_day", self.pay_from_day),
            ("pay_to_day", self.pay_to_day),
            ("report_by_day", self.report_by_day),
        ] {
            if !(1..=31).contains(&d) {
                return Err(FieldError::new(
                    field,
                    format!("{d} is not a day of the month"),
                ));
            }
        }
        if self.pay_to_day < self.pay_from_day {
            return Err(FieldError::new(
                "pay_to_day",
                format!(
                    "the window ends ({}) before it starts ({})",
                    self.pay_to_day, self.pay_from_day
                ),
            ));
        }
        if self.valid_to.is_some_and(|to| to < self.valid_from) {
            return Err(FieldError::new("valid_to", "ends before it starts"));
        }
        if let FeeRule::PerBeneficiary { amount } = self.fee {
            if amount.is_negative() {
                return Err(FieldError::new("fee", "a fee cannot be negative"));
            }
            if amount > MAX_FEE_PER_BENEFICIARY {
                return Err(too_much_fee(amount));
            }
        }
        Ok(())
    }

    /// The unit the contract covers: a province (a two-digit code), a district (three digits) or
    /// a commune (five).
    pub fn area_unit(&self) -> (UnitLevel, &str) {
        let level = match self.area_code.len() {
            2 => UnitLevel::Province,
            3 => UnitLevel::District,
            _ => UnitLevel::Commune,
        };
        (level, &self.area_code)
    }

    pub fn in_force(&self, period: Period) -> bool {
        self.valid_from <= period && self.valid_to.is_none_or(|to| period <= to)
    }

    /// The last day to advance the money of `period`.
    pub fn advance_due(&self, period: Period) -> NaiveDate {
        day_of(period.prev(), self.advance_by_day)
    }

    /// The days the post office pays `period`.
    pub fn pay_window(&self, period: Period) -> (NaiveDate, NaiveDate) {
        (
            day_of(period, self.pay_from_day),
            day_of(period, self.pay_to_day),
        )
    }

    /// The last day for the post office to report `period`.
    pub fn report_due(&self, period: Period) -> NaiveDate {
        day_of(period.next(), self.report_by_day)
    }
}

/// How the payments of a month kept to the contract's window (*thời gian chi trả*): lines paid
/// before it, within it and after it, and lines still due once it has passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Timeliness {
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
    /// Not paid, and the window has passed.
    pub overdue: i64,
}

impl Timeliness {
    /// Counts `lines` paid on `day` (Vietnam time) against `window`.
    pub fn paid(&mut self, window: (NaiveDate, NaiveDate), day: NaiveDate, lines: i64) {
        if day < window.0 {
            self.early += lines;
        } else if day <= window.1 {
            self.on_time += lines;
        } else {
            self.late += lines;
        }
    }

    /// Counts `lines` still due on `today`: overdue once the window's last day is past.
    pub fn due(&mut self, window: (NaiveDate, NaiveDate), today: NaiveDate, lines: i64) {
        if today > window.1 {
            self.overdue += lines;
        }
    }

    /// The lines that count: paid, or due past the window.
    pub fn counted(&self) -> i64 {
        self.early + self.on_time + self.late + self.overdue
    }

    /// The share paid within the window, in basis points (9,950 is 99.5 %); none when nothing
    /// counts yet.
    pub fn on_time_bp(&self) -> Option<i64> {
        let all = self.counted();
        (all > 0).then(|| {
            let scaled = i128::from(self.on_time) * 10_000;
            i64::try_from(scaled / i128::from(all)).unwrap_or(i64::MAX)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeliness_counts_days_against_the_window() {
        let c = contract();
        let march: Period = "2019-03".parse().expect("period");
        let window = c.pay_window(march);
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let mut t = Timeliness::default();
        assert_eq!(t.on_time_bp(), None);
        t.paid(window, window.0.pred_opt().expect("day"), 1);
        t.paid(window, window.0, 10);
        t.paid(window, window.1, 85);
        t.paid(window, window.1.succ_opt().expect("day"), 2);
        // Before the window closes nothing unpaid is overdue; after it, all of it is.
        t.due(window, window.1, 5);
        assert_eq!(t.overdue, 0);
        t.due(window, day("2019-04-01"), 2);
        assert_eq!(
            t,
            Timeliness {
                early: 1,
                on_time: 95,
                late: 2,
                overdue: 2
            }
        );
        assert_eq!(t.counted(), 100);
        assert_eq!(t.on_time_bp(), Some(9_500));
    }

    fn contract() -> NewContract {
        NewContract {
            code: "BT-BĐ-2018".into(),
            name: "Hợp đồng chi trả trợ giúp xã hội qua bưu điện".into(),
            office_id: 1,
            post_office: "Bưu điện tỉnh Bến Tre".into(),
            area_code: "83".into(),
            program: Program::SocialAssistance,
            fee: FeeRule::PerBeneficiary {
                amount: Dong(6_600),
            },
            advance_by_day: 25,
            pay_from_day: 2,
            pay_to_day: 25,
            report_by_day: 20,
            valid_from: Period::parse("2018-01").unwrap(),
            valid_to: None,
        }
    }

    #[test]
    fn a_fee_past_the_ceiling_is_refused_when_the_contract_is_checked() {
        let mut c = contract();
        assert_eq!(c.check(), Ok(()));
        c.fee = FeeRule::PerBeneficiary {
            amount: Dong(i64::MAX),
        };
        assert_eq!(c.check().unwrap_err().field, "fee");
        c.fee = FeeRule::PerBeneficiary {
            amount: MAX_FEE_PER_BENEFICIARY,
        };
        assert_eq!(c.check(), Ok(()));
    }

    #[test]
    fn the_area_is_the_code_of_a_province_a_district_or_a_commune() {
        for (code, level) in [
            ("83", UnitLevel::Province),
            ("829", UnitLevel::District),
            ("28756", UnitLevel::Commune),
        ] {
            let c = NewContract {
                area_code: code.into(),
                ..contract()
            };
            assert_eq!(c.check(), Ok(()), "{code}");
            assert_eq!(c.area_unit(), (level, code));
        }
        for bad in ["", "8", "8a", "8301", "283456", " 83", "٨٣"] {
            let c = NewContract {
                area_code: bad.into(),
                ..contract()
            };
            assert_eq!(c.check().unwrap_err().field, "area_code", "{bad:?}");
        }
    }

    #[test]
    fn fees_by_share_or_per_beneficiary() {
        assert_eq!(
            FeeRule::parse("6600/beneficiary")
                .unwrap()
                .fee(Dong(1_000_000), 3),
            Ok(Dong(19_800))
        );
        let pct = FeeRule::parse("1.25%").unwrap();
        assert_eq!(pct, FeeRule::Percent { basis_points: 125 });
        assert_eq!(pct.fee(Dong(1_000_000), 3), Ok(Dong(12_500)));
        assert_eq!(
            FeeRule::parse("0.5%").unwrap().fee(Dong(101), 1),
            Ok(Dong(1)),
            "0.505 rounds up"
        );
        assert_eq!(
            FeeRule::parse("1000000/beneficiary").unwrap(),
            FeeRule::PerBeneficiary {
                amount: MAX_FEE_PER_BENEFICIARY
            }
        );
        for bad in [
            "",
            "1.234%",
            "abc",
            "-5/beneficiary",
            "101%",
            "5",
            "1000001/beneficiary",
            "9223372036854775807/beneficiary",
        ] {
            assert_eq!(FeeRule::parse(bad).unwrap_err().field, "fee", "{bad}");
        }
    }

    #[test]
    fn deadlines_of_a_month() {
        let c = contract();
        let march = Period::parse("2020-03").unwrap();
        assert_eq!(
            c.advance_due(march),
            NaiveDate::from_ymd_opt(2020, 2, 25).unwrap()
        );
        assert_eq!(
            c.pay_window(march).1,
            NaiveDate::from_ymd_opt(2020, 3, 25).unwrap()
        );
        assert_eq!(
            c.report_due(march),
            NaiveDate::from_ymd_opt(2020, 4, 20).unwrap()
        );
        let late = NewContract {
            advance_by_day: 31,
            ..contract()
        };
        assert_eq!(
            late.advance_due(march),
            NaiveDate::from_ymd_opt(2020, 2, 29).unwrap(),
            "clamped to February"
        );
        assert!(c.check().is_ok());
        assert_eq!(
            NewContract {
                pay_to_day: 1,
                ..contract()
            }
            .check()
            .unwrap_err()
            .field,
            "pay_to_day"
        );
        assert_eq!(
            NewContract {
                code: "a b".into(),
                ..contract()
            }
            .check()
            .unwrap_err()
            .field,
            "code"
        );
    }
}
