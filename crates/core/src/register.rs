//! The register: beneficiaries, where they live, and who pays them.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::decision::NewDecision;
use crate::error::FieldError;
use crate::ids::{CitizenId, CommuneCode};
use crate::period::Period;
use crate::program::Program;
use crate::text;

/// Sex as the register records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// Accepts `male`/`female`, `nam`/`nữ` (with or without diacritics), `m`/`f`.
    pub fn parse(s: &str) -> Result<Sex, FieldError> {
        match text::search_key(s).as_str() {
            "male" | "m" | "nam" => Ok(Sex::Male),
            "female" | "f" | "nu" => Ok(Sex::Female),
            _ => Err(FieldError::new(
                "sex",
                format!("'{s}' is not a sex: write nam or nữ (male or female)"),
            )),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Sex::Male => "Nam",
            Sex::Female => "Nữ",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Parses a `YYYY-MM-DD` date, naming the field when it is not one.
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, format!("'{s}' is not a date written YYYY-MM-DD")))
}

/// A birth date: a real date, not in the future, not before 1900.
pub fn parse_birth_date(s: &str, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    let d = parse_date("birth_date", s)?;
    check_birth_date(d, today)?;
    Ok(d)
}

fn check_birth_date(d: NaiveDate, today: NaiveDate) -> Result<(), FieldError> {
    if d > today {
        return Err(FieldError::new(
            "birth_date",
            format!("{d} is in the future (today is {today})"),
        ));
    }
    if d < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(FieldError::new("birth_date", format!("{d} is before 1900")));
    }
    Ok(())
}

/// Where a beneficiary lives from a month on. An address always names an official commune code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressSpell {
    pub from: Period,
    pub commune: CommuneCode,
    /// Hamlet or neighbourhood (*ấp, thôn, khu phố*).
    pub hamlet: Option<String>,
    /// House number and street, or directions.
    pub street: Option<String>,
    /// Set when the beneficiary lives in a social-protection facility, which is then paid.
    pub facility_id: Option<i64>,
}

/// Where the money of a month goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Residence {
    Community,
    Facility(i64),
}

/// Where a beneficiary stands in the register in a month, as the decisions recorded so far have
/// it (the status lists filter by; the amount itself is the entitlement's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegisterStatus {
    /// No grant in force yet (registered, or granted from a later month).
    Pending,
    /// Granted and paid.
    Active,
    /// *Tạm dừng*: suspended until a resume decision.
    Suspended,
    /// *Thôi hưởng*: every category stopped.
    Stopped,
    /// Died in or before the month.
    Deceased,
}

impl RegisterStatus {
    pub const ALL: [RegisterStatus; 5] = [
        RegisterStatus::Pending,
        RegisterStatus::Active,
        RegisterStatus::Suspended,
        RegisterStatus::Stopped,
        RegisterStatus::Deceased,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RegisterStatus::Pending => "pending",
            RegisterStatus::Active => "active",
            RegisterStatus::Suspended => "suspended",
            RegisterStatus::Stopped => "stopped",
            RegisterStatus::Deceased => "deceased",
        }
    }

    pub fn parse(s: &str) -> Result<RegisterStatus, FieldError> {
        let t = s.trim();
        RegisterStatus::ALL
            .into_iter()
            .find(|st| st.code() == t)
            .ok_or_else(|| {
                FieldError::new(
                    "status",
                    format!(
                        "'{t}' is not a register status (pending, active, suspended, stopped, deceased)"
                    ),
                )
            })
    }
}

/// A person on the register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    pub id: i64,
    /// The code printed on notices and typed in the public lookup.
    pub code: String,
    pub program: Program,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub citizen_id: CitizenId,
    /// Ordered by `from`; the last one is the current address.
    pub addresses: Vec<AddressSpell>,
    pub payment_point_id: Option<i64>,
    /// Why this person is paid at home (*chi trả tại nhà*), when they are.
    pub home_delivery: Option<String>,
    /// Paid by transfer to this account instead of in cash.
    pub bank_account: Option<BankAccount>,
}

/// A bank or e-wallet account allowances are paid into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccount {
    pub bank: String,
    pub account: String,
}

impl BankAccount {
    pub fn check(&self) -> Result<(), FieldError> {
        text::check_required("bank", &self.bank, 100)?;
        let a = self.account.trim();
        if !(6..=30).contains(&a.len()) || !a.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                "bank_account",
                format!("'{a}' is not an account number: 6 to 30 digits"),
            ));
        }
        Ok(())
    }
}

impl Beneficiary {
    /// The address in force in `period` (the first one for months before it).
    pub fn address_at(&self, period: Period) -> Option<&AddressSpell> {
        self.addresses
            .iter()
            .rev()
            .find(|a| a.from <= period)
            .or_else(|| self.addresses.first())
    }

    pub fn current_address(&self) -> Option<&AddressSpell> {
        self.addresses.last()
    }

    pub fn residence_at(&self, period: Period) -> Residence {
        match self.address_at(period).and_then(|a| a.facility_id) {
            Some(f) => Residence::Facility(f),
            None => Residence::Community,
        }
    }
}

/// A beneficiary to be registered, with the decision that grants their first category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBeneficiary {
    pub program: Program,
    pub full_name: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub citizen_id: CitizenId,
    pub address: AddressSpell,
    pub payment_point_id: Option<i64>,
    pub home_delivery: Option<String>,
    pub bank_account: Option<BankAccount>,
    pub grant: NewDecision,
}

impl NewBeneficiary {
    /// Checks what can be checked without the database: the name, the birth date against today,
    /// the address month against the birth. The commune's existence and the grant are checked by
    /// the store against the units and the rules, in the same transaction as the write.
    pub fn check(&self, today: NaiveDate) -> Result<(), FieldError> {
        text::check_required("name", &self.full_name, 100)?;
        check_birth_date(self.birth_date, today)?;
        if self.address.from < Period::of(self.birth_date) {
            return Err(FieldError::new(
                "address.from",
                format!(
                    "{} is before the birth month {}",
                    self.address.from,
                    Period::of(self.birth_date)
                ),
            ));
        }
        if let Some(h) = &self.address.hamlet {
            text::check_required("hamlet", h, 100)?;
        }
        if let Some(reason) = &self.home_delivery {
            text::check_required("home_delivery", reason, 200)?;
        }
        if let Some(account) = &self.bank_account {
            account.check()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn sex_in_vietnamese_or_english() {
        assert_eq!(Sex::parse("Nữ").unwrap(), Sex::Female);
        assert_eq!(Sex::parse("nu").unwrap(), Sex::Female);
        assert_eq!(Sex::parse("NAM").unwrap(), Sex::Male);
        assert_eq!(Sex::parse("female").unwrap(), Sex::Female);
        assert_eq!(Sex::parse("x").unwrap_err().field, "sex");
    }

    #[test]
    fn a_birth_date_in_the_future_is_refused() {
        let today = d("2026-11-26");
        let e = parse_birth_date("2027-01-01", today).unwrap_err();
        assert_eq!(e.field, "birth_date");
        assert!(e.reason.contains("future"));
        assert!(parse_birth_date("1950-02-31", today).is_err());
        assert!(parse_birth_date("1899-12-31", today).is_err());
        assert_eq!(
            parse_birth_date("1950-02-28", today).unwrap(),
            d("1950-02-28")
        );
    }
}
