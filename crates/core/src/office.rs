//! Offices that manage an area, the payment points where money is handed over, and the
//! social-protection facilities that are paid for the people they care for.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::ids::CommuneCode;
use crate::schedule::Weekdays;

/// The level of an office, which sets the area it manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfficeKind {
    /// *Sở*: the provincial department (social protection), managing a province.
    Department,
    /// *Phòng LĐ-TB&XH cấp huyện*: the district office, managing a district until 30 June 2025.
    DistrictOffice,
    /// *UBND cấp xã*: the commune People's Committee, managing a commune from 1 July 2025.
    CommuneCommittee,
}

impl OfficeKind {
    pub fn code(self) -> &'static str {
        match self {
            OfficeKind::Department => "department",
            OfficeKind::DistrictOffice => "district_office",
            OfficeKind::CommuneCommittee => "commune_committee",
        }
    }

    pub fn parse(s: &str) -> Result<OfficeKind, FieldError> {
        match s {
            "department" => Ok(OfficeKind::Department),
            "district_office" => Ok(OfficeKind::DistrictOffice),
            "commune_committee" => Ok(OfficeKind::CommuneCommittee),
            _ => Err(FieldError::new(
                "office_kind",
                format!(
                    "'{s}' is not an office kind (department, district_office, commune_committee)"
                ),
            )),
        }
    }
}

/// An office and the administrative unit it manages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Office {
    pub id: i64,
    pub kind: OfficeKind,
    pub name: String,
    /// The code of the province, district or commune it manages.
    pub unit_code: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

/// The kinds of payment point the post office uses (the article's S2 list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    /// *Bưu điện huyện, thành phố*: a district or city post office.
    DistrictPostOffice,
    /// *Bưu cục*: a post-office branch.
    PostOfficeBranch,
    /// *Bưu điện văn hóa xã*: a commune cultural post office.
    CommuneCulturalPostOffice,
    /// *Trụ sở UBND xã, phường, thị trấn*: the commune People's Committee office.
    CommuneCommitteeOffice,
    /// *Ấp, khu phố*: a hamlet or neighbourhood house.
    Hamlet,
}

impl PointKind {
    pub const ALL: [PointKind; 5] = [
        PointKind::DistrictPostOffice,
        PointKind::PostOfficeBranch,
        PointKind::CommuneCulturalPostOffice,
        PointKind::CommuneCommitteeOffice,
        PointKind::Hamlet,
    ];

    pub fn code(self) -> &'static str {
        match self {
            PointKind::DistrictPostOffice => "district_post_office",
            PointKind::PostOfficeBranch => "post_office_branch",
            PointKind::CommuneCulturalPostOffice => "commune_cultural_post_office",
            PointKind::CommuneCommitteeOffice => "commune_committee_office",
            PointKind::Hamlet => "hamlet",
        }
    }

    pub fn parse(s: &str) -> Result<PointKind, FieldError> {
        PointKind::ALL
            .into_iter()
            .find(|k| k.code() == s)
            .ok_or_else(|| {
                FieldError::new("point_kind", format!("'{s}' is not a payment point kind"))
            })
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            PointKind::DistrictPostOffice => "Bưu điện huyện",
            PointKind::PostOfficeBranch => "Bưu cục",
            PointKind::CommuneCulturalPostOffice => "Bưu điện văn hóa xã",
            PointKind::CommuneCommitteeOffice => "Trụ sở UBND xã",
            PointKind::Hamlet => "Ấp, khu phố",
        }
    }

    /// Days of the month a point of this kind usually pays: commune points early (2–10),
    /// post-office counters after (11–25).
    pub fn usual_pay_days(self) -> (u8, u8) {
        match self {
            PointKind::DistrictPostOffice | PointKind::PostOfficeBranch => (11, 25),
            _ => (2, 10),
        }
    }
}

impl fmt::Display for PointKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A place where payment agents hand over allowances.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentPoint {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: PointKind,
    pub commune: CommuneCode,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The days of the month it pays, first and last.
    pub pay_days: (u8, u8),
    /// The days of the week it opens.
    #[serde(default)]
    pub opening_days: Weekdays,
}

/// A payment point before it has an id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewPaymentPoint {
    pub code: String,
    pub name: String,
    pub kind: PointKind,
    pub commune: CommuneCode,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub pay_days: (u8, u8),
    /// The days of the week it opens (Monday to Saturday unless said otherwise).
    #[serde(default)]
    pub opening_days: Weekdays,
}

impl NewPaymentPoint {
    pub fn check(&self) -> Result<(), FieldError> {
        crate::text::check_required("code", &self.code, 40)?;
        crate::text::check_required("name", &self.name, 200)?;
        let (first, last) = self.pay_days;
        if !(1..=31).contains(&first) || !(first..=31).contains(&last) {
            return Err(FieldError::new(
                "pay_days",
                format!("{first}–{last} is not a range of days of the month"),
            ));
        }
        if self.opening_days.is_empty() {
            return Err(FieldError::new(
                "opening_days",
                "a payment point opens on at least one day of the week",
            ));
        }
        match (self.latitude, self.longitude) {
            (None, None) => {}
            (Some(lat), Some(lon)) => {
                // The error names the field that is off the Earth.
                let field = if lat.is_finite() && (-90.0..=90.0).contains(&lat) {
                    "longitude"
                } else {
                    "latitude"
                };
                crate::payment::Coordinates::new(field, lat, lon)?;
            }
            // One without the other places the point nowhere (and went unchecked).
            (Some(_), None) | (None, Some(_)) => {
                return Err(FieldError::new(
                    if self.latitude.is_none() {
                        "latitude"
                    } else {
                        "longitude"
                    },
                    "give both the latitude and the longitude, or neither",
                ));
            }
        }
        Ok(())
    }
}

/// A social-protection facility (*cơ sở trợ giúp xã hội*).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub commune: CommuneCode,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn point(latitude: Option<f64>, longitude: Option<f64>) -> NewPaymentPoint {
        NewPaymentPoint {
            code: "BT-836-001".into(),
            name: "Bưu điện huyện Ba Tri".into(),
            kind: PointKind::DistrictPostOffice,
            commune: CommuneCode::parse("28756").unwrap(),
            address: "Thị trấn Ba Tri".into(),
            latitude,
            longitude,
            pay_days: (11, 25),
            opening_days: Weekdays::default(),
        }
    }

    #[test]
    fn a_point_is_placed_on_earth_with_both_coordinates_or_none() {
        assert_eq!(point(Some(10.04), Some(106.59)).check(), Ok(()));
        assert_eq!(point(None, None).check(), Ok(()));
        for (lat, lon, field) in [
            (Some(1e308), Some(106.59), "latitude"),
            (Some(10.04), Some(181.0), "longitude"),
            (Some(1e308), None, "longitude"),
            (None, Some(181.0), "latitude"),
            (Some(10.04), None, "longitude"),
        ] {
            assert_eq!(
                point(lat, lon).check().unwrap_err().field,
                field,
                "{lat:?},{lon:?}"
            );
        }
    }
}
