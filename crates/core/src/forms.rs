//! What an officer types, as text, and its parsing into the register's types: one path for the
//! command line, the JSON API and the web forms, so that each edge refuses the same input with the
//! same field and reason.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::contract::{FeeRule, NewContract};
use crate::decision::{DecisionKind, NewDecision};
use crate::error::FieldError;
use crate::ids::{CitizenId, CommuneCode};
use crate::period::Period;
use crate::program::Program;
use crate::register::{
    AddressSpell, BankAccount, NewBeneficiary, Sex, parse_birth_date, parse_date,
};
use crate::text;

fn default_program() -> String {
    Program::SocialAssistance.code().to_owned()
}

fn one() -> u32 {
    1
}

/// A beneficiary to register, with the decision granting their first category, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryForm {
    /// Full name, as on the citizen ID card.
    pub full_name: String,
    /// YYYY-MM-DD.
    pub birth_date: String,
    /// nam / nữ / male / female.
    pub sex: String,
    /// The 12-digit citizen ID number.
    pub citizen_id: String,
    /// The official 5-digit commune code.
    pub commune: String,
    /// The category granted, e.g. K5c.
    pub category: String,
    /// social_assistance or merit_allowance.
    #[serde(default = "default_program")]
    pub program: String,
    #[serde(default)]
    pub hamlet: Option<String>,
    #[serde(default)]
    pub street: Option<String>,
    /// Children or other dependants (K4 is paid per child).
    #[serde(default = "one")]
    pub dependants: u32,
    /// First month paid, YYYY-MM (default: the month the decision is signed).
    #[serde(default)]
    pub effective: Option<String>,
    /// YYYY-MM-DD (default: today).
    #[serde(default)]
    pub signed_on: Option<String>,
    /// Who signed the decision (default: the acting user).
    #[serde(default)]
    pub signer: Option<String>,
    /// The decision's number, e.g. 125/QĐ-UBND.
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub payment_point_id: Option<i64>,
    #[serde(default)]
    pub facility_id: Option<i64>,
    /// Why the beneficiary is paid at home (old, frail, sick).
    #[serde(default)]
    pub home_delivery: Option<String>,
    #[serde(default)]
    pub bank: Option<String>,
    #[serde(default)]
    pub bank_account: Option<String>,
}

/// Empty text is no text (a form's blank field).
fn given(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl BeneficiaryForm {
    /// Parses the form as of `today`, by `actor` (the signer when none is given).
    pub fn parse(&self, today: NaiveDate, actor: &str) -> Result<NewBeneficiary, FieldError> {
        let full_name = text::required("full_name", &self.full_name, 100)?;
        let birth_date = parse_birth_date(&self.birth_date, today)?;
        let sex = Sex::parse(&self.sex)?;
        let citizen_id = CitizenId::parse(&self.citizen_id)?;
        let commune = CommuneCode::parse(&self.commune)?;
        let program = Program::parse(&self.program)?;
        let category = text::required("category", &self.category, 20)?;
        let signed_on = match given(&self.signed_on) {
            Some(s) => parse_date("signed_on", &s)?,
            None => today,
        };
        let effective = match given(&self.effective) {
            Some(s) => Period::parse(&s).map_err(|e| e.renamed("effective"))?,
            None => Period::of(signed_on),
        };
        let bank_account = match (given(&self.bank), given(&self.bank_account)) {
            (Some(bank), Some(account)) => Some(BankAccount { bank, account }),
            (None, None) => None,
            (None, Some(_)) => {
                return Err(FieldError::new("bank", "an account needs its bank"));
            }
            (Some(_), None) => {
                return Err(FieldError::new(
                    "bank_account",
                    "a bank needs the account number",
                ));
            }
        };
        Ok(NewBeneficiary {
            program,
            full_name,
            birth_date,
            sex,
            citizen_id,
            address: AddressSpell {
                from: effective.max(Period::of(birth_date)),
                commune,
                hamlet: given(&self.hamlet),
                street: given(&self.street),
                facility_id: self.facility_id,
            },
            payment_point_id: self.payment_point_id,
            home_delivery: given(&self.home_delivery),
            bank_account,
            grant: NewDecision {
                kind: DecisionKind::Grant,
                number: given(&self.number),
                category: Some(category),
                replaces: None,
                dependants: self.dependants,
                effective,
                signed_on,
                signer: given(&self.signer).unwrap_or_else(|| actor.to_owned()),
                reason: given(&self.reason)
                    .unwrap_or_else(|| "đủ điều kiện hưởng trợ cấp xã hội hàng tháng".to_owned()),
                death_date: None,
            },
        })
    }
}

/// A decision about a registered beneficiary, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionForm {
    /// grant, adjust, suspend, resume or stop.
    pub kind: String,
    /// Grant and adjust: the category paid.
    #[serde(default)]
    pub category: Option<String>,
    /// Adjust: the category replaced.
    #[serde(default)]
    pub replaces: Option<String>,
    #[serde(default = "one")]
    pub dependants: u32,
    /// First month it applies to, YYYY-MM (a stop on death: the month after death by default).
    #[serde(default)]
    pub effective: Option<String>,
    #[serde(default)]
    pub signed_on: Option<String>,
    #[serde(default)]
    pub signer: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
    pub reason: String,
    /// A stop on death: YYYY-MM-DD.
    #[serde(default)]
    pub death_date: Option<String>,
}

impl DecisionForm {
    pub fn parse(&self, today: NaiveDate, actor: &str) -> Result<NewDecision, FieldError> {
        let kind = DecisionKind::parse(&self.kind)?;
        let death_date = given(&self.death_date)
            .map(|s| parse_date("death_date", &s))
            .transpose()?;
        let effective = match (given(&self.effective), death_date) {
            (Some(s), _) => Period::parse(&s).map_err(|e| e.renamed("effective"))?,
            (None, Some(died)) => Period::of(died).next(),
            (None, None) => {
                return Err(FieldError::new(
                    "effective",
                    "give the first month the decision applies to, YYYY-MM",
                ));
            }
        };
        let signed_on = match given(&self.signed_on) {
            Some(s) => parse_date("signed_on", &s)?,
            None => today,
        };
        Ok(NewDecision {
            kind,
            number: given(&self.number),
            category: given(&self.category),
            replaces: given(&self.replaces),
            dependants: self.dependants,
            effective,
            signed_on,
            signer: given(&self.signer).unwrap_or_else(|| actor.to_owned()),
            reason: text::required("reason", &self.reason, 500)?,
            death_date,
        })
    }
}

// The usual terms (DESIGN.md §4): funds advanced by the 25th, paid from the 2nd to the 20th,
// reported by the 20th of the month after.
fn advance_day() -> u8 {
    25
}
fn pay_from() -> u8 {
    2
}
fn pay_to() -> u8 {
    20
}
fn report_day() -> u8 {
    20
}

/// A payment contract between the department and the post office, as typed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractForm {
    /// Short code, used in account names, e.g. BT-BĐ-2021.
    pub code: String,
    pub name: String,
    /// The paying office.
    pub office_id: i64,
    /// The post office that pays out.
    pub post_office: String,
    /// The province or commune code the contract covers.
    pub area_code: String,
    #[serde(default = "default_program")]
    pub program: String,
    /// `1.2%` of the amount paid, or `6600/beneficiary` paid.
    pub fee: String,
    #[serde(default = "advance_day")]
    pub advance_by_day: u8,
    #[serde(default = "pay_from")]
    pub pay_from_day: u8,
    #[serde(default = "pay_to")]
    pub pay_to_day: u8,
    #[serde(default = "report_day")]
    pub report_by_day: u8,
    /// YYYY-MM.
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: Option<String>,
}

impl ContractForm {
    pub fn parse(&self) -> Result<NewContract, FieldError> {
        let terms = NewContract {
            code: self.code.trim().to_owned(),
            name: self.name.clone(),
            office_id: self.office_id,
            post_office: self.post_office.clone(),
            area_code: self.area_code.trim().to_owned(),
            program: Program::parse(&self.program)?,
            fee: FeeRule::parse(&self.fee)?,
            advance_by_day: self.advance_by_day,
            pay_from_day: self.pay_from_day,
            pay_to_day: self.pay_to_day,
            report_by_day: self.report_by_day,
            valid_from: Period::parse(&self.valid_from).map_err(|e| e.renamed("valid_from"))?,
            valid_to: given(&self.valid_to)
                .map(|s| Period::parse(&s).map_err(|e| e.renamed("valid_to")))
                .transpose()?,
        };
        terms.check()?;
        Ok(terms)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    fn form() -> BeneficiaryForm {
        BeneficiaryForm {
            full_name: "Nguyễn Văn Ân".into(),
            birth_date: "1938-05-12".into(),
            sex: "nam".into(),
            citizen_id: "083038000123".into(),
            commune: "28756".into(),
            category: "K5c".into(),
            program: default_program(),
            dependants: 1,
            effective: Some("2026-11".into()),
            bank: Some(" ".into()),
            ..BeneficiaryForm::default()
        }
    }

    #[test]
    fn a_form_parses_with_defaults() {
        let b = form().parse(today(), "can.bo").unwrap();
        assert_eq!(b.full_name, "Nguyễn Văn Ân");
        assert_eq!(b.grant.signer, "can.bo");
        assert_eq!(b.grant.effective, Period::parse("2026-11").unwrap());
        assert!(b.bank_account.is_none(), "a blank bank is no bank");
    }

    #[test]
    fn each_bad_field_is_named() {
        let bad = |f: fn(&mut BeneficiaryForm), field: &str| {
            let mut x = form();
            f(&mut x);
            assert_eq!(x.parse(today(), "a").unwrap_err().field, field);
        };
        bad(|f| f.full_name = " ".into(), "full_name");
        bad(|f| f.birth_date = "31/02/1950".into(), "birth_date");
        bad(|f| f.sex = "x".into(), "sex");
        bad(|f| f.citizen_id = "123".into(), "citizen_id");
        bad(|f| f.commune = "ab".into(), "commune");
        bad(|f| f.effective = Some("2026-13".into()), "effective");
        bad(|f| f.bank_account = Some("123456".into()), "bank");
    }

    #[test]
    fn a_death_stops_the_month_after() {
        let d = DecisionForm {
            kind: "stop".into(),
            reason: "Chết".into(),
            death_date: Some("2026-02-03".into()),
            ..DecisionForm::default()
        }
        .parse(today(), "can.bo")
        .unwrap();
        assert_eq!(d.effective, Period::parse("2026-03").unwrap());
        let e = DecisionForm {
            kind: "adjust".into(),
            reason: "x".into(),
            ..DecisionForm::default()
        }
        .parse(today(), "a")
        .unwrap_err();
        assert_eq!(e.field, "effective");
    }
}
