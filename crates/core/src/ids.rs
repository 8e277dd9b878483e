//! Identifiers that carry their own rules: a value of these types is always well formed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::FieldError;

/// A citizen identification number (*số định danh cá nhân*, printed on the CCCD): 12 digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(String);

impl CitizenId {
    pub fn parse(s: &str) -> Result<CitizenId, FieldError> {
        let t = s.trim();
        if t.len() == 12 && t.bytes().all(|b| b.is_ascii_digit()) {
            Ok(CitizenId(t.to_owned()))
        } else {
            let shown = if t.chars().count() > 20 {
                format!("{}…", t.chars().take(20).collect::<String>())
            } else {
                t.to_owned()
            };
            Err(FieldError::new(
                "citizen_id",
                format!(
                    "'{shown}' is not a citizen ID: it must be exactly 12 digits (it has {} characters)",
                    t.chars().count()
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown in lists and logs (Decree 13/2023): only the last four digits.
    pub fn masked(&self) -> String {
        format!("********{}", &self.0[8..])
    }

    pub fn last_four(&self) -> &str {
        &self.0[8..]
    }
}

/// Debug never prints the whole number, so it cannot leak into logs.
impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({})", self.masked())
    }
}

impl Serialize for CitizenId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CitizenId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CitizenId::parse(&s).map_err(serde::de::Error::custom)
    }
}

macro_rules! unit_code {
    ($(#[$doc:meta])* $name:ident, $digits:expr, $field:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const DIGITS: usize = $digits;

            /// Exactly the official number of digits, zero-padded as the code list writes it.
            pub fn parse(s: &str) -> Result<$name, FieldError> {
                let t = s.trim();
                if t.len() == $digits && t.bytes().all(|b| b.is_ascii_digit()) {
                    Ok($name(t.to_owned()))
                } else {
                    Err(FieldError::new(
                        $field,
                        format!(
                            "'{}' is not a {} code: it must be {} digits, zero-padded",
                            t, $what, $digits
                        ),
                    ))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

unit_code!(
    /// An official province code: 2 digits.
    ProvinceCode, 2, "province", "province"
);
unit_code!(
    /// An official district code: 3 digits (districts exist until 30 June 2025).
    DistrictCode, 3, "district", "district"
);
unit_code!(
    /// An official commune, ward or township code: 5 digits.
    CommuneCode, 5, "commune", "commune"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citizen_id_is_twelve_digits() {
        assert!(CitizenId::parse("083190001234").is_ok());
        assert_eq!(
            CitizenId::parse(" 083190001234 ").unwrap().as_str(),
            "083190001234"
        );
        for bad in [
            "08319000123",
            "0831900012345",
            "08319000123a",
            "",
            "083 19000123",
        ] {
            let e = CitizenId::parse(bad).unwrap_err();
            assert_eq!(e.field, "citizen_id");
            assert!(e.reason.contains("12 digits"), "{}", e.reason);
        }
    }

    #[test]
    fn citizen_id_is_masked_in_debug() {
        let id = CitizenId::parse("083190001234").unwrap();
        assert_eq!(id.masked(), "********1234");
        assert!(!format!("{id:?}").contains("0831900"));
    }

    #[test]
    fn unit_codes_keep_their_zero_padding() {
        assert_eq!(CommuneCode::parse("00001").unwrap().as_str(), "00001");
        assert!(CommuneCode::parse("1").is_err());
        assert!(CommuneCode::parse("287560").is_err());
        assert_eq!(DistrictCode::parse("829").unwrap().to_string(), "829");
        assert_eq!(ProvinceCode::parse("83x").unwrap_err().field, "province");
    }
}
