//! Who may do what, and where (DESIGN.md §2): a user's role decides the actions, their scope — a
//! province, a district, a commune or one payment point — decides the places. Every read and write
//! of the server is checked here; approving what one prepared oneself is refused elsewhere
//! (maker-checker, in the payroll's state machine).

use std::collections::HashSet;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::ledger::{Account, AccountKind};
use crate::units::{AdminUnit, UnitLevel, UnitTree};

/// How many signed-in sessions (browsers and device tokens) one user keeps at once. A new one past
/// this ends the oldest: tokens cannot be minted without end, and nobody is locked out for having
/// forgotten to sign out.
pub const MAX_LIVE_SESSIONS: usize = 50;

/// What a user is, at work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Keeps users and everything else of their scope.
    Admin,
    /// The provincial department: policy tables, contracts, approvals, oversight.
    ProvinceOfficer,
    /// A district office (until June 2025) or a commune People's Committee (from July 2025):
    /// the register of its area, the monthly list, the fund request.
    LocalOfficer,
    /// A provincial or local post office: lists and funds received, points, days, agents, returns.
    PostManager,
    /// Pays at one payment point, or at home from it.
    Agent,
    /// Reads everything in scope, changes nothing.
    Inspector,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::ProvinceOfficer,
        Role::LocalOfficer,
        Role::PostManager,
        Role::Agent,
        Role::Inspector,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ProvinceOfficer => "province_officer",
            Role::LocalOfficer => "local_officer",
            Role::PostManager => "post_manager",
            Role::Agent => "agent",
            Role::Inspector => "inspector",
        }
    }

    pub fn parse(s: &str) -> Result<Role, FieldError> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s.trim())
            .ok_or_else(|| {
                FieldError::new(
                    "role",
                    format!(
                        "'{}' is not a role: admin, province_officer, local_officer, post_manager, agent or inspector",
                        s.trim()
                    ),
                )
            })
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Role::Admin => "Quản trị hệ thống",
            Role::ProvinceOfficer => "Cán bộ Sở",
            Role::LocalOfficer => "Cán bộ phòng / UBND xã",
            Role::PostManager => "Quản lý bưu điện",
            Role::Agent => "Nhân viên chi trả",
            Role::Inspector => "Thanh tra, kiểm tra",
        }
    }

    /// Whether this role may do `action` at all (the scope is checked separately).
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Inspector => action.is_read(),
            Role::ProvinceOfficer => !matches!(
                action,
                RecordPayment | OpenPayroll | ManagePoints | ManageUsers
            ),
            Role::LocalOfficer => matches!(
                action,
                ReadRegister
                    | EditRegister
                    | ReadPayroll
                    | GeneratePayroll
                    | ApprovePayroll
                    | FundPayroll
                    | ReadPoints
                    | ReadContracts
                    | ReadReports
                    | ReadAnomalies
                    | SendNotices
            ),
            Role::PostManager => matches!(
                action,
                ReadRegister
                    | ReadPayroll
                    | OpenPayroll
                    | ClosePayroll
                    | RecordPayment
                    | ReadPoints
                    | ManagePoints
                    | ReadContracts
                    | ReadReports
                    | ReadAnomalies
                    | SendNotices
            ),
            Role::Agent => matches!(
                action,
                ReadRegister | ReadPayroll | RecordPayment | ReadPoints
            ),
        }
    }

    /// The scopes this role may be given: an agent works at one point; a province officer
    /// oversees a province; the others may be set anywhere from the country down to a commune.
    pub fn fits(self, scope: &Scope) -> Result<(), FieldError> {
        let ok = match (self, scope) {
            (Role::Agent, Scope::Point(_)) => true,
            (Role::Agent, _) => false,
            (_, Scope::Point(_)) => false,
            (Role::ProvinceOfficer, s) => matches!(s, Scope::Province(_) | Scope::Country),
            (Role::LocalOfficer, s) => matches!(s, Scope::District(_) | Scope::Commune(_)),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(FieldError::new(
                "scope",
                format!(
                    "a {} cannot have the scope {scope}: {}",
                    self.code(),
                    match self {
                        Role::Agent => "an agent works at one payment point (point:ID)",
                        Role::ProvinceOfficer => "a province officer oversees a province",
                        Role::LocalOfficer =>
                            "a local officer works for a district (until June 2025) or a commune",
                        _ => "only agents are scoped to a payment point",
                    }
                ),
            ))
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Something a user asks to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ReadRegister,
    EditRegister,
    ReadPayroll,
    GeneratePayroll,
    ApprovePayroll,
    FundPayroll,
    OpenPayroll,
    ClosePayroll,
    RecordPayment,
    ReadPoints,
    ManagePoints,
    ReadContracts,
    ManageContracts,
    ReadLedger,
    ReadReports,
    ReadAnomalies,
    ReadAudit,
    SendNotices,
    ManageUsers,
}

impl Action {
    /// Reads change nothing: an inspector may do all of them.
    pub fn is_read(self) -> bool {
        use Action::*;
        matches!(
            self,
            ReadRegister
                | ReadPayroll
                | ReadPoints
                | ReadContracts
                | ReadLedger
                | ReadReports
                | ReadAnomalies
                | ReadAudit
        )
    }
}

/// Where a user works: the whole country, a province, a district, a commune, or one payment point.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Country,
    Province(String),
    District(String),
    Commune(String),
    Point(i64),
}

impl Scope {
    /// Reads `country`, `province:83`, `district:829`, `commune:28756` or `point:12`.
    pub fn parse(s: &str) -> Result<Scope, FieldError> {
        let t = s.trim();
        let bad = || {
            FieldError::new(
                "scope",
                format!(
                    "'{t}' is not a scope: country, province:CODE, district:CODE, commune:CODE or point:ID"
                ),
            )
        };
        if t == "country" {
            return Ok(Scope::Country);
        }
        let (kind, value) = t.split_once(':').ok_or_else(bad)?;
        let value = value.trim();
        let digits = |max: usize| {
            if !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_digit())
            {
                Ok(value.to_owned())
            } else {
                Err(bad())
            }
        };
        match kind.trim() {
            "province" => Ok(Scope::Province(digits(2)?)),
            "district" => Ok(Scope::District(digits(3)?)),
            "commune" => Ok(Scope::Commune(digits(5)?)),
            "point" => value
                .parse::<i64>()
                .ok()
                .filter(|v| *v > 0)
                .map(Scope::Point)
                .ok_or_else(bad),
            _ => Err(bad()),
        }
    }

    /// The unit the scope is, if it is one.
    pub fn unit(&self) -> Option<(UnitLevel, &str)> {
        match self {
            Scope::Province(c) => Some((UnitLevel::Province, c)),
            Scope::District(c) => Some((UnitLevel::District, c)),
            Scope::Commune(c) => Some((UnitLevel::Commune, c)),
            Scope::Country | Scope::Point(_) => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Country => f.write_str("country"),
            Scope::Province(c) => write!(f, "province:{c}"),
            Scope::District(c) => write!(f, "district:{c}"),
            Scope::Commune(c) => write!(f, "commune:{c}"),
            Scope::Point(id) => write!(f, "point:{id}"),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Scope::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A scope resolved against the units: every commune it covers (before and after the 2025
/// reorganisation) and every unit wholly inside it, so that each check is a set lookup.
#[derive(Clone, Debug, Default)]
pub struct Jurisdiction {
    everywhere: bool,
    communes: HashSet<String>,
    units: HashSet<(UnitLevel, String)>,
    point: Option<i64>,
}

/// A day on which a unit was in force: what its parents are read at.
fn in_force(u: &AdminUnit) -> NaiveDate {
    u.valid_from
        .or_else(|| u.valid_to.and_then(|d| d.pred_opt()))
        .unwrap_or(NaiveDate::MIN)
}

impl Jurisdiction {
    /// The jurisdiction of `scope`. A point's agent covers the point, and the commune it stands in
    /// (`point_commune`) for reading the lists of the point's beneficiaries only.
    pub fn resolve(
        scope: &Scope,
        tree: &UnitTree,
        point_commune: Option<&str>,
    ) -> Result<Jurisdiction, FieldError> {
        let mut j = Jurisdiction::default();
        let (level, code) = match scope {
            Scope::Country => {
                j.everywhere = true;
                return Ok(j);
            }
            Scope::Point(id) => {
                j.point = Some(*id);
                if let Some(c) = point_commune {
                    j.communes.insert(c.to_owned());
                }
                return Ok(j);
            }
            other => other
                .unit()
                .ok_or_else(|| FieldError::new("scope", "not a unit"))?,
        };
        if !tree
            .units()
            .iter()
            .any(|u| u.level == level && u.code == code)
        {
            return Err(FieldError::new(
                "scope",
                format!("there is no {level} with the code {code}"),
            ));
        }
        j.units.insert((level, code.to_owned()));
        for u in tree.units() {
            if u.level == UnitLevel::Hamlet || (u.level == level && u.code == code) {
                continue;
            }
            let on = in_force(u);
            let mut p = tree.parent(u, on);
            while let Some(parent) = p {
                if parent.level == level && parent.code == code {
                    j.units.insert((u.level, u.code.clone()));
                    if u.level == UnitLevel::Commune {
                        j.communes.insert(u.code.clone());
                    }
                    break;
                }
                p = tree.parent(parent, on);
            }
        }
        if level == UnitLevel::Commune {
            j.communes.insert(code.to_owned());
        }
        // The communes whose area passed into ours keep their history with us.
        let mut grew = true;
        while grew {
            grew = false;
            for u in tree.units() {
                if u.level == UnitLevel::Commune
                    && !j.communes.contains(&u.code)
                    && tree
                        .successors(UnitLevel::Commune, &u.code)
                        .iter()
                        .any(|s| j.communes.contains(s))
                {
                    j.communes.insert(u.code.clone());
                    j.units.insert((UnitLevel::Commune, u.code.clone()));
                    grew = true;
                }
            }
        }
        Ok(j)
    }

    /// Everything, everywhere (a national administrator or inspector).
    pub fn everywhere() -> Jurisdiction {
        Jurisdiction {
            everywhere: true,
            ..Jurisdiction::default()
        }
    }

    pub fn is_everywhere(&self) -> bool {
        self.everywhere
    }

    /// The one payment point an agent works at.
    pub fn point(&self) -> Option<i64> {
        self.point
    }

    /// The communes covered (empty when everywhere).
    pub fn communes(&self) -> &HashSet<String> {
        &self.communes
    }

    /// Whether something in `commune` is ours. An agent's commune is not: an agent reaches only
    /// what is at their point.
    pub fn covers_commune(&self, commune: &str) -> bool {
        self.everywhere || (self.point.is_none() && self.communes.contains(commune))
    }

    /// Whether something at payment point `point`, standing in `commune`, is ours.
    pub fn covers_point(&self, point: i64, commune: &str) -> bool {
        match self.point {
            Some(p) => p == point,
            None => self.covers_commune(commune),
        }
    }

    /// Whether the whole unit (an office's area) is ours.
    pub fn covers_unit(&self, level: UnitLevel, code: &str) -> bool {
        self.everywhere || (self.point.is_none() && self.units.contains(&(level, code.to_owned())))
    }

    /// Whether part of the unit is ours: its lists may be read, narrowed to what is ours.
    pub fn touches_unit(&self, level: UnitLevel, code: &str, tree: &UnitTree) -> bool {
        if self.covers_unit(level, code) {
            return true;
        }
        let ours = |commune: &str| self.communes.contains(commune);
        tree.units()
            .iter()
            .filter(|u| u.level == UnitLevel::Commune && ours(&u.code))
            .any(|u| {
                if u.level == level && u.code == code {
                    return true;
                }
                let on = in_force(u);
                let mut p = tree.parent(u, on);
                while let Some(parent) = p {
                    if parent.level == level && parent.code == code {
                        return true;
                    }
                    p = tree.parent(parent, on);
                }
                false
            })
    }
}

/// What of the ledger a jurisdiction reaches: the accounts of its offices, of the contracts those
/// offices signed, and of its payment points; the program-wide accounts (budget, paid out) only
/// from a province up.
#[derive(Clone, Debug, Default)]
pub struct Holdings {
    pub offices: HashSet<i64>,
    pub contracts: HashSet<String>,
    pub points: HashSet<String>,
    pub program_wide: bool,
}

impl Holdings {
    pub fn owns(&self, account: &Account) -> bool {
        let Some(kind) = account.kind() else {
            return false;
        };
        let name = account.as_str();
        match kind {
            AccountKind::Budget | AccountKind::Paid => self.program_wide,
            AccountKind::Fund | AccountKind::Returned => self.offices.iter().any(|o| {
                Account::fund(*o).as_str() == name || Account::returned(*o).as_str() == name
            }),
            AccountKind::Post | AccountKind::Bank | AccountKind::Fees => {
                self.contracts.iter().any(|c| {
                    Account::post(c).as_str() == name
                        || Account::bank(c).as_str() == name
                        || Account::fees(c).as_str() == name
                })
            }
            AccountKind::Cash => self
                .points
                .iter()
                .any(|p| Account::cash(p).as_str() == name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{OfficialFiles, load_official};

    fn tree() -> UnitTree {
        let o = load_official(&OfficialFiles::EMBEDDED).unwrap();
        UnitTree::new(o.units, &o.successions)
    }

    #[test]
    fn scopes_read_back_and_bad_ones_name_the_field() {
        for s in [
            "country",
            "province:83",
            "district:829",
            "commune:28756",
            "point:12",
        ] {
            assert_eq!(Scope::parse(s).unwrap().to_string(), s);
        }
        for bad in [
            "",
            "province",
            "province:8x",
            "point:0",
            "town:1",
            "commune:123456",
        ] {
            assert_eq!(Scope::parse(bad).unwrap_err().field, "scope", "{bad}");
        }
    }

    #[test]
    fn roles_fit_their_scopes() {
        let point = Scope::Point(3);
        let district = Scope::District("829".into());
        assert!(Role::Agent.fits(&point).is_ok());
        assert!(Role::Agent.fits(&district).is_err());
        assert!(Role::LocalOfficer.fits(&district).is_ok());
        assert!(Role::LocalOfficer.fits(&Scope::Country).is_err());
        assert!(Role::Inspector.fits(&point).is_err());
        assert!(
            Role::ProvinceOfficer
                .fits(&Scope::Province("83".into()))
                .is_ok()
        );
        assert_eq!(Role::parse("nobody").unwrap_err().field, "role");
    }

    #[test]
    fn an_inspector_reads_and_changes_nothing() {
        for a in [
            Action::ReadRegister,
            Action::ReadPayroll,
            Action::ReadAudit,
            Action::ReadLedger,
        ] {
            assert!(Role::Inspector.may(a));
        }
        for a in [
            Action::EditRegister,
            Action::RecordPayment,
            Action::ApprovePayroll,
            Action::ManageUsers,
            Action::SendNotices,
        ] {
            assert!(!Role::Inspector.may(a), "{a:?}");
        }
        assert!(Role::Agent.may(Action::RecordPayment));
        assert!(!Role::Agent.may(Action::ApprovePayroll));
        assert!(!Role::Agent.may(Action::ReadAudit));
        assert!(!Role::LocalOfficer.may(Action::RecordPayment));
    }

    #[test]
    fn a_district_covers_its_communes_and_not_its_neighbours() {
        let t = tree();
        // Thành phố Bến Tre (829) has Phường Phú Khương (28756); Ba Tri (836) does not.
        let j = Jurisdiction::resolve(&Scope::District("829".into()), &t, None).unwrap();
        assert!(j.covers_commune("28756"));
        assert!(j.covers_unit(UnitLevel::District, "829"));
        assert!(!j.covers_unit(UnitLevel::District, "836"));
        assert!(!j.covers_unit(UnitLevel::Province, "83"));
        assert!(j.touches_unit(UnitLevel::Province, "83", &t));
        let ba_tri = Jurisdiction::resolve(&Scope::District("836".into()), &t, None).unwrap();
        assert!(!ba_tri.covers_commune("28756"));
        assert!(!ba_tri.communes().is_empty());
    }

    #[test]
    fn a_province_covers_its_districts_and_the_communes_that_followed() {
        let t = tree();
        let j = Jurisdiction::resolve(&Scope::Province("83".into()), &t, None).unwrap();
        assert!(j.covers_unit(UnitLevel::District, "829"));
        assert!(j.covers_commune("28756"));
        let other = Jurisdiction::resolve(&Scope::Province("01".into()), &t, None).unwrap();
        assert!(!other.covers_commune("28756"));
        assert!(Jurisdiction::resolve(&Scope::Province("99".into()), &t, None).is_err());
    }

    #[test]
    fn a_new_commune_keeps_the_history_of_the_communes_merged_into_it() {
        let t = tree();
        // From July 2025 Phường Phú Khương (28756, Vĩnh Long) took in Phường 8 (28759) of the
        // old Thành phố Bến Tre.
        assert_eq!(t.successors(UnitLevel::Commune, "28759"), ["28756"]);
        let j = Jurisdiction::resolve(&Scope::Commune("28756".into()), &t, None).unwrap();
        assert!(j.covers_commune("28756"));
        assert!(j.covers_commune("28759"));
        assert!(!j.covers_commune("28762"));
        let province = Jurisdiction::resolve(&Scope::Province("86".into()), &t, None).unwrap();
        assert!(province.covers_commune("28756") && province.covers_commune("28759"));
    }

    #[test]
    fn an_agent_reaches_their_point_only() {
        let t = tree();
        let j = Jurisdiction::resolve(&Scope::Point(7), &t, Some("28756")).unwrap();
        assert!(j.covers_point(7, "28756"));
        assert!(!j.covers_point(8, "28756"));
        assert!(!j.covers_commune("28756"));
        assert!(!j.covers_unit(UnitLevel::District, "829"));
        assert!(j.touches_unit(UnitLevel::District, "829", &t));
        assert!(j.touches_unit(UnitLevel::Commune, "28756", &t));
        assert!(!j.touches_unit(UnitLevel::Commune, "28759", &t));
        let all = Jurisdiction::everywhere();
        assert!(all.is_everywhere());
        assert!(all.covers_point(8, "00001") && all.covers_unit(UnitLevel::Province, "83"));
    }

    #[test]
    fn holdings_reach_their_own_accounts_only() {
        use crate::program::Program;
        let h = Holdings {
            offices: [3].into(),
            contracts: ["BT-BĐ-2021".to_owned()].into(),
            points: ["BĐ-829-001".to_owned()].into(),
            program_wide: false,
        };
        assert!(h.owns(&Account::fund(3)));
        assert!(h.owns(&Account::returned(3)));
        assert!(!h.owns(&Account::fund(4)));
        assert!(h.owns(&Account::post("BT-BĐ-2021")));
        assert!(h.owns(&Account::fees("BT-BĐ-2021")));
        assert!(!h.owns(&Account::post("HN-2021")));
        assert!(h.owns(&Account::cash("BĐ-829-001")));
        assert!(!h.owns(&Account::cash("BĐ-829-002")));
        assert!(!h.owns(&Account::budget(Program::SocialAssistance)));
        let province = Holdings {
            program_wide: true,
            ..h
        };
        assert!(province.owns(&Account::paid(Program::SocialAssistance)));
    }
}
