//! Programs: the policies paid on the same rails.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A policy whose allowances chitra pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Program {
    /// *Trợ giúp xã hội*: monthly social assistance (Decree 20/2021).
    SocialAssistance,
    /// *Trợ cấp ưu đãi người có công*: preferential allowances for people with meritorious service.
    MeritAllowance,
}

impl Program {
    pub const ALL: [Program; 2] = [Program::SocialAssistance, Program::MeritAllowance];

    pub fn code(self) -> &'static str {
        match self {
            Program::SocialAssistance => "social_assistance",
            Program::MeritAllowance => "merit_allowance",
        }
    }

    pub fn parse(s: &str) -> Result<Program, FieldError> {
        match s.trim() {
            "social_assistance" => Ok(Program::SocialAssistance),
            "merit_allowance" => Ok(Program::MeritAllowance),
            other => Err(FieldError::new(
                "program",
                format!("'{other}' is not a program (social_assistance, merit_allowance)"),
            )),
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Program::SocialAssistance => "Trợ giúp xã hội",
            Program::MeritAllowance => "Trợ cấp ưu đãi người có công",
        }
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
