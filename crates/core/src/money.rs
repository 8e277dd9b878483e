//! Money: whole Vietnamese đồng in a 64-bit integer, with checked arithmetic.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rules::Coefficient;

/// An amount of money in whole đồng. Never a float; every operation is checked.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Dong(pub i64);

/// An amount left the range of a 64-bit `Dong`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("amount out of range")]
pub struct Overflow;

impl Dong {
    pub const ZERO: Dong = Dong(0);

    pub const fn new(dong: i64) -> Self {
        Dong(dong)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Dong) -> Result<Dong, Overflow> {
        self.0.checked_add(other.0).map(Dong).ok_or(Overflow)
    }

    pub fn checked_sub(self, other: Dong) -> Result<Dong, Overflow> {
        self.0.checked_sub(other.0).map(Dong).ok_or(Overflow)
    }

    /// `self × n`, e.g. a monthly amount times a number of months.
    pub fn checked_mul(self, n: i64) -> Result<Dong, Overflow> {
        self.0.checked_mul(n).map(Dong).ok_or(Overflow)
    }

    /// `self × coefficient`, rounded half away from zero to whole đồng
    /// (a base level times a category's coefficient).
    pub fn times(self, coefficient: Coefficient) -> Result<Dong, Overflow> {
        let scaled = i128::from(self.0) * i128::from(coefficient.thousandths());
        let half = if scaled < 0 { -500 } else { 500 };
        i64::try_from((scaled + half) / 1000)
            .map(Dong)
            .map_err(|_| Overflow)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn max(self, other: Dong) -> Dong {
        Dong(self.0.max(other.0))
    }

    /// The sum of many amounts, or `Overflow`.
    pub fn try_sum<I: IntoIterator<Item = Dong>>(amounts: I) -> Result<Dong, Overflow> {
        amounts
            .into_iter()
            .try_fold(Dong::ZERO, |acc, d| acc.checked_add(d))
    }

    /// `1.624.000`: digits grouped by three with `sep`.
    pub fn grouped(self, sep: char) -> String {
        let digits = self.0.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if self.0 < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(sep);
            }
            out.push(c);
        }
        out
    }
}

/// Vietnamese style: `1.624.000 đ`.
impl fmt::Display for Dong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} đ", self.grouped('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_times_coefficient() {
        let base = Dong(270_000);
        assert_eq!(
            base.times(Coefficient::from_thousandths(1500)),
            Ok(Dong(405_000))
        );
        assert_eq!(
            base.times(Coefficient::from_thousandths(2500)),
            Ok(Dong(675_000))
        );
        // 1.624.000 × 0.333 = 540.792 exactly; × 0.3335 rounds half up
        assert_eq!(
            Dong(1_624_000).times(Coefficient::from_thousandths(333)),
            Ok(Dong(540_792))
        );
        assert_eq!(
            Dong(1).times(Coefficient::from_thousandths(500)),
            Ok(Dong(1))
        );
        assert_eq!(
            Dong(-1).times(Coefficient::from_thousandths(500)),
            Ok(Dong(-1))
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(Dong(i64::MAX).checked_add(Dong(1)), Err(Overflow));
        assert_eq!(Dong(i64::MIN).checked_sub(Dong(1)), Err(Overflow));
        assert_eq!(Dong(i64::MAX).checked_mul(2), Err(Overflow));
        assert_eq!(
            Dong(i64::MAX).times(Coefficient::from_thousandths(2000)),
            Err(Overflow)
        );
        assert_eq!(Dong::try_sum([Dong(i64::MAX), Dong(1)]), Err(Overflow));
    }

    #[test]
    fn grouped_like_a_vietnamese_payroll() {
        assert_eq!(Dong(600_000_000_000).to_string(), "600.000.000.000 đ");
        assert_eq!(Dong(0).grouped('.'), "0");
        assert_eq!(Dong(-1_500).grouped(','), "-1,500");
        assert_eq!(Dong(999).grouped('.'), "999");
    }
}
