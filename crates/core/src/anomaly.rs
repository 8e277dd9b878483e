//! What an inspector must see about a payment, without it being refused (DESIGN.md S4: errors
//! found in time, not months later). A flag never blocks: the money was handed over, the agent
//! records what happened, and the flag with its evidence is kept with the payment in the same
//! transaction.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::money::Dong;
use crate::payment::{Coordinates, Identity, Location};
use crate::schedule::{MonthDays, PointSchedule};

/// A proxy who has collected for this many different beneficiaries in one month is flagged, from
/// the payment that reaches it on. A family member collecting for both parents is ordinary (2);
/// one person holding authorisations for a third household is what the department asks its
/// inspectors to look at (authorisations bought or taken from the old and frail).
pub const PROXY_FOR_MANY_BENEFICIARIES: usize = 3;

/// A home delivery recorded further than this from the beneficiary's home is flagged. A phone's
/// GPS in a village is good to tens of metres and a home's registered coordinates to a few hundred;
/// beyond a kilometre the agent was not at the home.
pub const HOME_DISTANCE_LIMIT_M: f64 = 1_000.0;

/// The kinds of flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// A payment at a point recorded outside the point's schedule for the month.
    OutsideSchedule,
    /// Paid to a beneficiary recorded as dead on or before the day of payment.
    DeadBeneficiary,
    /// The proxy's authorisation had expired before the day of payment.
    ProxyExpired,
    /// The proxy has collected for many different beneficiaries this month.
    ProxyForMany,
    /// A home delivery recorded far from the beneficiary's home.
    HomeFarFromAddress,
}

impl FlagKind {
    pub const ALL: [FlagKind; 5] = [
        FlagKind::OutsideSchedule,
        FlagKind::DeadBeneficiary,
        FlagKind::ProxyExpired,
        FlagKind::ProxyForMany,
        FlagKind::HomeFarFromAddress,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FlagKind::OutsideSchedule => "outside_schedule",
            FlagKind::DeadBeneficiary => "dead_beneficiary",
            FlagKind::ProxyExpired => "proxy_expired",
            FlagKind::ProxyForMany => "proxy_for_many",
            FlagKind::HomeFarFromAddress => "home_far_from_address",
        }
    }

    pub fn parse(s: &str) -> Result<FlagKind, crate::FieldError> {
        FlagKind::ALL
            .into_iter()
            .find(|k| k.code() == s.trim())
            .ok_or_else(|| {
                crate::FieldError::new(
                    "kind",
                    format!(
                        "'{}' is not a kind of flag: {}",
                        s.trim(),
                        FlagKind::ALL.map(FlagKind::code).join(", ")
                    ),
                )
            })
    }

    /// What the flag means, in Vietnamese, for inspectors' lists.
    pub fn name_vi(self) -> &'static str {
        match self {
            FlagKind::OutsideSchedule => "Chi ngoài lịch chi trả",
            FlagKind::DeadBeneficiary => "Chi cho người đã chết",
            FlagKind::ProxyExpired => "Giấy ủy quyền hết hạn",
            FlagKind::ProxyForMany => "Một người nhận thay cho nhiều người",
            FlagKind::HomeFarFromAddress => "Chi tại nhà xa địa chỉ",
        }
    }
}

impl std::fmt::Display for FlagKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A flag and its evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Flag {
    OutsideSchedule {
        /// When it was paid, Vietnam time.
        paid_at: NaiveDateTime,
        /// The point's schedule for the month.
        days: MonthDays,
        hours: String,
        /// No schedule was set: the default one (pay days on opening weekdays, 07:00–17:00).
        default_schedule: bool,
    },
    DeadBeneficiary {
        death_date: NaiveDate,
        paid_on: NaiveDate,
    },
    ProxyExpired {
        expires: NaiveDate,
        paid_on: NaiveDate,
        authorisation: String,
    },
    ProxyForMany {
        /// The last four digits of the proxy's citizen ID, and their name.
        proxy_last4: String,
        proxy_name: String,
        /// Different beneficiaries collected for this month, this payment's included.
        beneficiaries: usize,
        threshold: usize,
    },
    HomeFarFromAddress {
        distance_m: u64,
        limit_m: u64,
        recorded: Coordinates,
        home: Coordinates,
    },
}

impl Flag {
    pub fn kind(&self) -> FlagKind {
        match self {
            Flag::OutsideSchedule { .. } => FlagKind::OutsideSchedule,
            Flag::DeadBeneficiary { .. } => FlagKind::DeadBeneficiary,
            Flag::ProxyExpired { .. } => FlagKind::ProxyExpired,
            Flag::ProxyForMany { .. } => FlagKind::ProxyForMany,
            Flag::HomeFarFromAddress { .. } => FlagKind::HomeFarFromAddress,
        }
    }

    /// The evidence: the flag's fields, without its kind.
    pub fn evidence(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.remove("kind");
        }
        v
    }
}

/// What the checks need to know of one payment.
#[derive(Clone, Debug)]
pub struct PaymentFacts<'a> {
    /// When it was paid, Vietnam time.
    pub paid_at: NaiveDateTime,
    pub identity: &'a Identity,
    pub location: &'a Location,
    /// The schedule of the line's point for the line's month, and whether it is the default one.
    pub schedule: Option<(&'a PointSchedule, bool)>,
    /// The beneficiary's death, as recorded.
    pub death_date: Option<NaiveDate>,
    /// The line's funeral support.
    pub funeral: Dong,
    /// The beneficiary's home, when its coordinates are on record.
    pub home: Option<Coordinates>,
    /// For a proxy: the different beneficiaries they have collected for in the line's month,
    /// this payment's included.
    pub proxy_beneficiaries: usize,
}

/// The flags a payment raises, in the order of [`FlagKind::ALL`].
pub fn check(f: &PaymentFacts<'_>) -> Vec<Flag> {
    let mut flags = Vec::new();
    let paid_on = f.paid_at.date();
    if let (Location::Point, Some((schedule, default))) = (f.location, f.schedule)
        && !schedule.contains_local(f.paid_at)
    {
        flags.push(Flag::OutsideSchedule {
            paid_at: f.paid_at,
            days: schedule.days,
            hours: schedule.hours(),
            default_schedule: default,
        });
    }
    if let Some(death) = f.death_date
        && death <= paid_on
    {
        // The family collecting what is owed, the funeral support with it, is what should happen.
        let family = matches!(f.identity, Identity::Proxy { .. }) && f.funeral.get() > 0;
        if !family {
            flags.push(Flag::DeadBeneficiary {
                death_date: death,
                paid_on,
            });
        }
    }
    if let Identity::Proxy {
        expires,
        authorisation,
        full_name,
        citizen_id,
        ..
    } = f.identity
    {
        if *expires < paid_on {
            flags.push(Flag::ProxyExpired {
                expires: *expires,
                paid_on,
                authorisation: authorisation.clone(),
            });
        }
        if f.proxy_beneficiaries >= PROXY_FOR_MANY_BENEFICIARIES {
            flags.push(Flag::ProxyForMany {
                proxy_last4: citizen_id.last_four().to_owned(),
                proxy_name: full_name.clone(),
                beneficiaries: f.proxy_beneficiaries,
                threshold: PROXY_FOR_MANY_BENEFICIARIES,
            });
        }
    }
    if let (Location::Home { coordinates }, Some(home)) = (f.location, f.home) {
        let d = coordinates.distance_m(&home);
        if d > HOME_DISTANCE_LIMIT_M {
            flags.push(Flag::HomeFarFromAddress {
                distance_m: d.round() as u64,
                limit_m: HOME_DISTANCE_LIMIT_M as u64,
                recorded: *coordinates,
                home,
            });
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Period;
    use crate::schedule::Weekdays;
    use chrono::NaiveTime;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn schedule() -> PointSchedule {
        PointSchedule::new(
            Period::parse("2025-08").unwrap(),
            MonthDays::parse("4-8").unwrap(),
            NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
            NaiveTime::from_hms_opt(16, 30, 0).unwrap(),
        )
        .unwrap()
    }

    fn own() -> Identity {
        Identity::citizen_id("083190001234").unwrap()
    }

    fn proxy(expires: &str) -> Identity {
        Identity::proxy(
            "Lê Văn Tư",
            "083080004321",
            "UQ-17",
            "UBND xã Phú Lễ",
            date(expires),
        )
        .unwrap()
    }

    fn facts<'a>(
        identity: &'a Identity,
        location: &'a Location,
        schedule: &'a PointSchedule,
        paid_at: &str,
    ) -> PaymentFacts<'a> {
        PaymentFacts {
            paid_at: at(paid_at),
            identity,
            location,
            schedule: Some((schedule, false)),
            death_date: None,
            funeral: Dong::ZERO,
            home: None,
            proxy_beneficiaries: 0,
        }
    }

    fn kinds(flags: &[Flag]) -> Vec<FlagKind> {
        flags.iter().map(Flag::kind).collect()
    }

    #[test]
    fn an_ordinary_payment_raises_nothing() {
        let (id, s) = (own(), schedule());
        assert!(check(&facts(&id, &Location::Point, &s, "2025-08-05 09:00")).is_empty());
    }

    #[test]
    fn outside_schedule_names_the_schedule() {
        let (id, s) = (own(), schedule());
        let flags = check(&facts(&id, &Location::Point, &s, "2025-08-05 17:10"));
        assert_eq!(kinds(&flags), [FlagKind::OutsideSchedule]);
        let e = flags[0].evidence();
        assert_eq!(e["days"], "4-8");
        assert_eq!(e["hours"], "07:30-16:30");
        assert_eq!(e["paid_at"], "2025-08-05T17:10:00");
        assert_eq!(
            kinds(&check(&facts(
                &id,
                &Location::Point,
                &s,
                "2025-08-09 09:00"
            ))),
            [FlagKind::OutsideSchedule]
        );
        // At home, the point's hours do not apply.
        let home = Location::Home {
            coordinates: Coordinates::new("x", 10.0, 106.0).unwrap(),
        };
        assert!(check(&facts(&id, &home, &s, "2025-08-09 18:00")).is_empty());
        // The default schedule is said to be one.
        let d = PointSchedule::default_for(
            Period::parse("2025-08").unwrap(),
            (2, 10),
            Weekdays::MON_TO_SAT,
        );
        let mut f = facts(&id, &Location::Point, &d, "2025-08-03 09:00");
        f.schedule = Some((&d, true));
        assert_eq!(
            check(&f)[0].evidence()["default_schedule"],
            true,
            "the 3rd is a Sunday"
        );
    }

    #[test]
    fn dead_beneficiary_unless_the_family_collects_the_funeral_support() {
        let (id, s) = (own(), schedule());
        let mut f = facts(&id, &Location::Point, &s, "2025-08-05 09:00");
        f.death_date = Some(date("2025-08-05"));
        let flags = check(&f);
        assert_eq!(kinds(&flags), [FlagKind::DeadBeneficiary]);
        assert_eq!(flags[0].evidence()["death_date"], "2025-08-05");
        f.death_date = Some(date("2025-08-06"));
        assert!(check(&f).is_empty(), "died after the payment");
        // A proxy collecting a line without funeral support is flagged; with it, not.
        let p = proxy("2025-10-31");
        let mut f = facts(&p, &Location::Point, &s, "2025-08-05 09:00");
        f.death_date = Some(date("2025-07-20"));
        assert_eq!(kinds(&check(&f)), [FlagKind::DeadBeneficiary]);
        f.funeral = Dong(7_200_000);
        assert!(check(&f).is_empty());
        // The beneficiary's own card after their death: flagged, funeral or not.
        let mut f = facts(&id, &Location::Point, &s, "2025-08-05 09:00");
        f.death_date = Some(date("2025-07-20"));
        f.funeral = Dong(7_200_000);
        assert_eq!(kinds(&check(&f)), [FlagKind::DeadBeneficiary]);
    }

    #[test]
    fn proxy_expired_before_the_day_of_payment() {
        let s = schedule();
        let p = proxy("2025-08-04");
        let flags = check(&facts(&p, &Location::Point, &s, "2025-08-05 09:00"));
        assert_eq!(kinds(&flags), [FlagKind::ProxyExpired]);
        assert_eq!(flags[0].evidence()["expires"], "2025-08-04");
        assert_eq!(flags[0].evidence()["authorisation"], "UQ-17");
        let p = proxy("2025-08-05");
        assert!(
            check(&facts(&p, &Location::Point, &s, "2025-08-05 09:00")).is_empty(),
            "valid through its last day"
        );
    }

    #[test]
    fn proxy_for_many_from_the_third_beneficiary() {
        let s = schedule();
        let p = proxy("2025-10-31");
        let mut f = facts(&p, &Location::Point, &s, "2025-08-05 09:00");
        f.proxy_beneficiaries = PROXY_FOR_MANY_BENEFICIARIES - 1;
        assert!(check(&f).is_empty());
        f.proxy_beneficiaries = PROXY_FOR_MANY_BENEFICIARIES;
        let flags = check(&f);
        assert_eq!(kinds(&flags), [FlagKind::ProxyForMany]);
        let e = flags[0].evidence();
        assert_eq!(e["beneficiaries"], 3);
        assert_eq!(e["proxy_last4"], "4321");
        assert!(!e.to_string().contains("083080004321"));
        f.proxy_beneficiaries = 7;
        assert_eq!(kinds(&check(&f)), [FlagKind::ProxyForMany]);
    }

    #[test]
    fn home_far_from_address_beyond_a_kilometre() {
        let (id, s) = (own(), schedule());
        let home = Coordinates::new("x", 10.2415, 106.3759).unwrap();
        let near = Location::Home {
            coordinates: Coordinates::new("x", 10.2480, 106.3759).unwrap(),
        };
        let far = Location::Home {
            coordinates: Coordinates::new("x", 10.2515, 106.3759).unwrap(),
        };
        let mut f = facts(&id, &near, &s, "2025-08-05 09:00");
        f.home = Some(home);
        assert!(check(&f).is_empty(), "about 720 m");
        f.location = &far;
        let flags = check(&f);
        assert_eq!(kinds(&flags), [FlagKind::HomeFarFromAddress]);
        let e = flags[0].evidence();
        assert!(
            (1_100..1_125).contains(&e["distance_m"].as_u64().unwrap()),
            "{e}"
        );
        assert_eq!(e["home"]["latitude"], 10.2415);
        // Without the home's coordinates on record, nothing to compare.
        f.home = None;
        assert!(check(&f).is_empty());
    }

    #[test]
    fn several_flags_at_once_in_order() {
        let s = schedule();
        let p = proxy("2025-07-31");
        let mut f = facts(&p, &Location::Point, &s, "2025-08-10 20:00");
        f.death_date = Some(date("2025-07-01"));
        f.proxy_beneficiaries = 4;
        assert_eq!(
            kinds(&check(&f)),
            [
                FlagKind::OutsideSchedule,
                FlagKind::DeadBeneficiary,
                FlagKind::ProxyExpired,
                FlagKind::ProxyForMany
            ]
        );
        assert_eq!(
            FlagKind::parse("proxy_for_many").unwrap(),
            FlagKind::ProxyForMany
        );
        assert_eq!(FlagKind::parse("x").unwrap_err().field, "kind");
    }
}
