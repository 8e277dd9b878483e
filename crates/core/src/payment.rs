//! How a payment proves who received the money and where it was handed over, parsed at the edge
//! (the CLI, the HTTP API) into types the store can trust.
//!
//! The agent types the number of the citizen ID card they saw; the store checks it against the
//! beneficiary's and keeps only what DESIGN.md §5 allows: the last four digits for display, and for
//! a proxy a key that recognises the same proxy again ([`proxy_key`]) — never the whole number.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::FieldError;
use crate::ids::CitizenId;
use crate::payroll::Channel;

/// Who received the money, and how that was checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "IdentityForm")]
pub enum Identity {
    /// The beneficiary's own citizen ID card, seen by the agent: its number must be the
    /// beneficiary's.
    CitizenId { number: CitizenId },
    /// A proxy (*người nhận thay*) with a written authorisation (*giấy ủy quyền*) certified by the
    /// commune.
    Proxy {
        full_name: String,
        citizen_id: CitizenId,
        /// The authorisation's number.
        authorisation: String,
        /// Who certified it (the commune People's Committee).
        issuer: String,
        /// The last day it is valid.
        expires: NaiveDate,
    },
    /// Transferred to the beneficiary's bank or e-wallet account, as the bank's result says.
    BankAccount {
        /// The bank's transaction id.
        transaction: Option<String>,
        /// The reference chitra gave the transfer (`CT<yyyymm>-<line>`).
        reference: Option<String>,
        /// The bank's result file it was read from.
        result_file: Option<String>,
    },
    /// Paid to the social-protection facility that cares for the beneficiary.
    Facility,
}

/// An identity as it arrives (JSON, command line), before it is checked.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum IdentityForm {
    CitizenId {
        number: String,
    },
    Proxy {
        full_name: String,
        citizen_id: String,
        authorisation: String,
        issuer: String,
        expires: NaiveDate,
    },
    BankAccount {
        #[serde(default)]
        transaction: Option<String>,
        #[serde(default)]
        reference: Option<String>,
        #[serde(default)]
        result_file: Option<String>,
    },
    Facility,
}

impl TryFrom<IdentityForm> for Identity {
    type Error = FieldError;

    fn try_from(f: IdentityForm) -> Result<Identity, FieldError> {
        match f {
            IdentityForm::CitizenId { number } => Identity::citizen_id(&number),
            IdentityForm::Proxy {
                full_name,
                citizen_id,
                authorisation,
                issuer,
                expires,
            } => Identity::proxy(&full_name, &citizen_id, &authorisation, &issuer, expires),
            IdentityForm::BankAccount {
                transaction,
                reference,
                result_file,
            } => Identity::bank_account(
                transaction.as_deref(),
                reference.as_deref(),
                result_file.as_deref(),
            ),
            IdentityForm::Facility => Ok(Identity::Facility),
        }
    }
}

fn optional(field: &str, v: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match v.map(crate::text::clean) {
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => crate::text::required(field, &t, max).map(Some),
        None => Ok(None),
    }
}

impl Identity {
    /// The beneficiary's own card: its number (12 digits).
    pub fn citizen_id(number: &str) -> Result<Identity, FieldError> {
        Ok(Identity::CitizenId {
            number: CitizenId::parse(number).map_err(|e| e.renamed("identity.citizen_id"))?,
        })
    }

    /// A proxy: who they are (name, citizen ID) and their authorisation (number, issuer, expiry).
    pub fn proxy(
        full_name: &str,
        citizen_id: &str,
        authorisation: &str,
        issuer: &str,
        expires: NaiveDate,
    ) -> Result<Identity, FieldError> {
        Ok(Identity::Proxy {
            full_name: crate::text::required("identity.full_name", full_name, 200)?,
            citizen_id: CitizenId::parse(citizen_id)
                .map_err(|e| e.renamed("identity.citizen_id"))?,
            authorisation: crate::text::required("identity.authorisation", authorisation, 100)?,
            issuer: crate::text::required("identity.issuer", issuer, 200)?,
            expires,
        })
    }

    /// A bank transfer, with what the bank says of it.
    pub fn bank_account(
        transaction: Option<&str>,
        reference: Option<&str>,
        result_file: Option<&str>,
    ) -> Result<Identity, FieldError> {
        Ok(Identity::BankAccount {
            transaction: optional("identity.transaction", transaction, 100)?,
            reference: optional("identity.reference", reference, 100)?,
            result_file: optional("identity.result_file", result_file, 300)?,
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Identity::CitizenId { .. } => "citizen_id",
            Identity::Proxy { .. } => "proxy",
            Identity::BankAccount { .. } => "bank_account",
            Identity::Facility => "facility",
        }
    }

    /// Handed over in person, in cash: the beneficiary or a proxy.
    pub fn in_person(&self) -> bool {
        matches!(self, Identity::CitizenId { .. } | Identity::Proxy { .. })
    }

    /// The proxy's key (see [`proxy_key`]), for a proxy.
    pub fn proxy_key(&self) -> Option<String> {
        match self {
            Identity::Proxy { citizen_id, .. } => Some(proxy_key(citizen_id)),
            _ => None,
        }
    }

    /// What is kept of it: never a whole citizen ID.
    pub fn stored(&self) -> StoredIdentity {
        match self {
            Identity::CitizenId { number } => StoredIdentity::CitizenId {
                last4: number.last_four().to_owned(),
            },
            Identity::Proxy {
                full_name,
                citizen_id,
                authorisation,
                issuer,
                expires,
            } => StoredIdentity::Proxy {
                full_name: full_name.clone(),
                citizen_id_last4: citizen_id.last_four().to_owned(),
                proxy_key: proxy_key(citizen_id),
                authorisation: authorisation.clone(),
                issuer: issuer.clone(),
                expires: *expires,
            },
            Identity::BankAccount {
                transaction,
                reference,
                result_file,
            } => StoredIdentity::BankAccount {
                transaction: transaction.clone(),
                reference: reference.clone(),
                result_file: result_file.clone(),
            },
            Identity::Facility => StoredIdentity::Facility,
        }
    }
}

/// An identity as a payment keeps it: the last four digits of a citizen ID, and for a proxy the
/// key that recognises them again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StoredIdentity {
    CitizenId {
        last4: String,
    },
    Proxy {
        full_name: String,
        citizen_id_last4: String,
        proxy_key: String,
        authorisation: String,
        issuer: String,
        expires: NaiveDate,
    },
    BankAccount {
        transaction: Option<String>,
        reference: Option<String>,
        result_file: Option<String>,
    },
    Facility,
}

/// A key that recognises the same proxy across payments without keeping their citizen ID:
/// SHA-256 of the number, with a prefix of its own so the key is no other hash of it. (A key of a
/// 12-digit number can be searched by whoever holds the database and time enough; what it
/// protects against is the number being read off a list, a log or an export.)
pub fn proxy_key(id: &CitizenId) -> String {
    let mut h = Sha256::new();
    h.update(b"chitra:proxy:");
    h.update(id.as_str().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The 64-bit key a payment's id is found by where a shorter key than the id's text pays
/// (SQLite's index of payment ids: fewer pages a transaction of payments dirties): the first eight
/// bytes of SHA-256 of the id, with a prefix of its own, as a signed integer. Stored keys depend on
/// it: it never changes. Two ids may share a key; a lookup compares the id itself.
pub fn payment_id_key(id: &str) -> i64 {
    let mut h = Sha256::new();
    h.update(b"chitra:payment:");
    h.update(id.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Whether `id`, chosen by the client to make a payment idempotent, can name one: 1 to 100
/// characters, none of them a control character.
pub fn check_payment_id(id: &str) -> Result<(), FieldError> {
    if id.trim().is_empty() || id.chars().count() > 100 || id.chars().any(char::is_control) {
        return Err(FieldError::new(
            "id",
            "a payment needs an id of 1 to 100 characters, none of them a control character",
        ));
    }
    Ok(())
}

/// A point on Earth, in decimal degrees (WGS 84, as phones give them).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CoordinatesForm")]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoordinatesForm {
    latitude: f64,
    longitude: f64,
}

impl TryFrom<CoordinatesForm> for Coordinates {
    type Error = FieldError;
    fn try_from(f: CoordinatesForm) -> Result<Coordinates, FieldError> {
        Coordinates::new("location", f.latitude, f.longitude)
    }
}

/// The mean radius of the Earth (IUGG), in metres: the great-circle distance's sphere.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl Coordinates {
    /// Coordinates on Earth; `field` names them in the error.
    pub fn new(field: &str, latitude: f64, longitude: f64) -> Result<Coordinates, FieldError> {
        if !latitude.is_finite()
            || !longitude.is_finite()
            || !(-90.0..=90.0).contains(&latitude)
            || !(-180.0..=180.0).contains(&longitude)
        {
            return Err(FieldError::new(
                field,
                format!(
                    "{latitude},{longitude} is not on Earth: latitude −90 to 90, longitude −180 to 180"
                ),
            ));
        }
        Ok(Coordinates {
            latitude,
            longitude,
        })
    }

    /// The great-circle distance to `other`, in metres (haversine).
    pub fn distance_m(&self, other: &Coordinates) -> f64 {
        let (p1, p2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dp = p2 - p1;
        let dl = (other.longitude - self.longitude).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

/// Where the money was handed over.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case", try_from = "LocationForm")]
pub enum Location {
    /// At the payment point of the line.
    Point,
    /// At the beneficiary's home (home delivery), where the agent's device put them.
    Home {
        #[serde(flatten)]
        coordinates: Coordinates,
    },
    /// Not in person: a bank transfer, or a facility paid from the fund.
    Remote,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationForm {
    at: String,
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

impl TryFrom<LocationForm> for Location {
    type Error = FieldError;
    fn try_from(f: LocationForm) -> Result<Location, FieldError> {
        Location::parse(&f.at, f.latitude, f.longitude)
    }
}

impl Location {
    /// The place of a payment made by `method` as an agent or a client names it: `point`, `home`
    /// (with its GPS coordinates), `bank` or `facility`. Another method is refused, naming
    /// `method`.
    pub fn of_method(
        method: &str,
        latitude: Option<f64>,
        longitude: Option<f64>,
    ) -> Result<Location, FieldError> {
        match method.trim() {
            m @ ("point" | "home" | "bank" | "facility") => Location::parse(m, latitude, longitude),
            other => Err(FieldError::new(
                "method",
                format!("'{other}' is not a payment method: point, home, bank or facility"),
            )),
        }
    }

    /// Reads a place: `point`, `home` (with its GPS coordinates) or `remote`.
    pub fn parse(
        at: &str,
        latitude: Option<f64>,
        longitude: Option<f64>,
    ) -> Result<Location, FieldError> {
        let at = at.trim();
        if at != "home" && (latitude.is_some() || longitude.is_some()) {
            return Err(FieldError::new(
                "location",
                format!(
                    "GPS coordinates are recorded for a home delivery, not for a payment {}",
                    if at == "point" {
                        "at the point"
                    } else {
                        "not in person"
                    }
                ),
            ));
        }
        match at {
            "point" => Ok(Location::Point),
            "home" => match (latitude, longitude) {
                (Some(lat), Some(lon)) => Ok(Location::Home {
                    coordinates: Coordinates::new("location", lat, lon)?,
                }),
                _ => Err(FieldError::new(
                    "location",
                    "a home delivery is recorded with the GPS coordinates (latitude and longitude) where the money was handed over",
                )),
            },
            "remote" | "bank" | "facility" => Ok(Location::Remote),
            other => Err(FieldError::new(
                "location",
                format!("'{other}' is not a place of payment: point, home or remote"),
            )),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Location::Point => "point",
            Location::Home { .. } => "home",
            Location::Remote => "remote",
        }
    }
}

/// How a payment was made, as lists show it: derived from the identity and the place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Point,
    Home,
    Bank,
    Facility,
}

impl Method {
    pub fn code(self) -> &'static str {
        match self {
            Method::Point => "point",
            Method::Home => "home",
            Method::Bank => "bank",
            Method::Facility => "facility",
        }
    }
}

/// Whether the identity and place fit the line's channel, and the citizen ID seen is the
/// beneficiary's. Gives the method the payment is recorded under.
pub fn check_payment_proof(
    identity: &Identity,
    location: &Location,
    channel: Channel,
    beneficiary_citizen_id: &str,
) -> Result<Method, FieldError> {
    let method = match (channel, identity, location) {
        (Channel::Point(_), id, Location::Point) if id.in_person() => Method::Point,
        (Channel::Point(_), id, Location::Home { .. }) if id.in_person() => Method::Home,
        (Channel::Point(_), id, _) if id.in_person() => {
            return Err(FieldError::new(
                "location",
                "a payment in cash is handed over at the point or at home",
            ));
        }
        (Channel::Point(_), _, _) => {
            return Err(FieldError::new(
                "identity",
                "this line is paid in cash: say whose citizen ID was seen (the beneficiary's or a proxy's)",
            ));
        }
        (Channel::Bank, Identity::BankAccount { .. }, Location::Remote) => Method::Bank,
        (Channel::Bank, Identity::BankAccount { .. }, _) => {
            return Err(FieldError::new(
                "location",
                "a bank transfer is not handed over anywhere: its place is remote",
            ));
        }
        (Channel::Bank, _, _) => {
            return Err(FieldError::new(
                "identity",
                "this line is paid by transfer to the beneficiary's bank account",
            ));
        }
        (Channel::Facility(_), Identity::Facility, _) => Method::Facility,
        (Channel::Facility(_), _, _) => {
            return Err(FieldError::new(
                "identity",
                "this line is paid to the facility that cares for the beneficiary",
            ));
        }
    };
    if let Identity::CitizenId { number } = identity
        && number.as_str() != beneficiary_citizen_id
    {
        return Err(FieldError::new(
            "identity.citizen_id",
            format!(
                "the citizen ID seen ({}) is not the beneficiary's: a proxy collects with an authorisation",
                number.masked()
            ),
        ));
    }
    Ok(method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_ids_key_stays_what_stored_keys_were_made_with() {
        // Stored keys were made with these: a change of the function would lose them.
        assert_ne!(payment_id_key("pay-0001"), payment_id_key("pay-0002"));
        // Computed apart from chitra, with Python's hashlib.
        assert_eq!(payment_id_key(""), -1_239_788_726_462_325_067);
        assert_eq!(
            payment_id_key("7f9c2ba4-e88f-4d1b-9a3e-2c1d5b6a7e80"),
            4_877_991_191_132_041_008
        );
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn identities_are_parsed_at_the_edge() {
        let id: Identity =
            serde_json::from_str(r#"{"kind":"citizen_id","number":"083190001234"}"#).unwrap();
        assert_eq!(id, Identity::citizen_id("083190001234").unwrap());
        let e = serde_json::from_str::<Identity>(r#"{"kind":"citizen_id","number":"0831"}"#)
            .unwrap_err();
        assert!(e.to_string().contains("identity.citizen_id"), "{e}");
        let proxy: Identity = serde_json::from_str(
            r#"{"kind":"proxy","full_name":" Lê  Văn Tư ","citizen_id":"083080004321","authorisation":"UQ-17","issuer":"UBND xã Phú Lễ","expires":"2025-10-31"}"#,
        )
        .unwrap();
        assert!(matches!(&proxy, Identity::Proxy { full_name, .. } if full_name == "Lê Văn Tư"));
        let e = Identity::proxy("Lê Văn Tư", "083080004321", " ", "UBND", date("2025-10-31"))
            .unwrap_err();
        assert_eq!(e.field, "identity.authorisation");
        assert!(
            serde_json::from_str::<Identity>(
                r#"{"kind":"citizen_id","number":"083190001234","x":1}"#
            )
            .is_err(),
            "unknown fields are refused"
        );
    }

    #[test]
    fn the_stored_proof_never_keeps_a_whole_citizen_id() {
        let proxy = Identity::proxy(
            "Lê Văn Tư",
            "083080004321",
            "UQ-17",
            "UBND xã",
            date("2025-10-31"),
        )
        .unwrap();
        let stored = serde_json::to_string(&proxy.stored()).unwrap();
        assert!(!stored.contains("083080004321"), "{stored}");
        assert!(stored.contains("\"citizen_id_last4\":\"4321\""), "{stored}");
        let own = Identity::citizen_id("083190001234").unwrap().stored();
        let own = serde_json::to_string(&own).unwrap();
        assert!(!own.contains("0831900"), "{own}");
        // The same proxy is recognised again; another is not.
        let again = CitizenId::parse("083080004321").unwrap();
        let other = CitizenId::parse("083080004322").unwrap();
        assert_eq!(proxy.proxy_key(), Some(proxy_key(&again)));
        assert_ne!(proxy_key(&again), proxy_key(&other));
        assert_eq!(proxy_key(&again).len(), 64);
    }

    #[test]
    fn a_home_delivery_needs_coordinates() {
        let e = Location::parse("home", None, None).unwrap_err();
        assert_eq!(e.field, "location");
        let e = Location::parse("home", Some(10.24), None).unwrap_err();
        assert_eq!(e.field, "location");
        assert_eq!(
            Location::parse("home", Some(91.0), Some(106.0))
                .unwrap_err()
                .field,
            "location"
        );
        assert_eq!(
            Location::parse("moon", None, None).unwrap_err().field,
            "location"
        );
        assert_eq!(
            Location::of_method("helicopter", None, None)
                .unwrap_err()
                .field,
            "method"
        );
        assert_eq!(
            Location::of_method(" facility ", None, None).unwrap(),
            Location::Remote
        );
        assert_eq!(
            Location::of_method("bank", Some(10.24), Some(106.37))
                .unwrap_err()
                .field,
            "location"
        );
        for at in ["point", "bank", "remote"] {
            let e = Location::parse(at, Some(10.24), Some(106.37)).unwrap_err();
            assert_eq!(e.field, "location", "{at}");
        }
        let home: Location =
            serde_json::from_str(r#"{"at":"home","latitude":10.24,"longitude":106.37}"#).unwrap();
        assert!(matches!(home, Location::Home { .. }));
        assert_eq!(
            serde_json::to_value(home).unwrap(),
            serde_json::json!({"at": "home", "latitude": 10.24, "longitude": 106.37})
        );
        let e = serde_json::from_str::<Location>(r#"{"at":"home"}"#).unwrap_err();
        assert!(e.to_string().contains("location"), "{e}");
        assert_eq!(
            serde_json::from_str::<Location>(r#"{"at":"point"}"#).unwrap(),
            Location::Point
        );
    }

    #[test]
    fn great_circle_distances() {
        // Bến Tre city to Ba Tri town: about 35 km.
        let ben_tre = Coordinates::new("x", 10.2415, 106.3759).unwrap();
        let ba_tri = Coordinates::new("x", 10.0397, 106.5935).unwrap();
        let d = ben_tre.distance_m(&ba_tri);
        assert!((31_000.0..36_000.0).contains(&d), "{d}");
        assert_eq!(ben_tre.distance_m(&ben_tre), 0.0);
        // 0.01° of latitude is about 1,112 m anywhere.
        let north = Coordinates::new("x", 10.2515, 106.3759).unwrap();
        assert!((1_100.0..1_125.0).contains(&ben_tre.distance_m(&north)));
    }

    #[test]
    fn the_proof_must_fit_the_line() {
        let own = Identity::citizen_id("083190001234").unwrap();
        let point = Channel::Point(7);
        assert_eq!(
            check_payment_proof(&own, &Location::Point, point, "083190001234"),
            Ok(Method::Point)
        );
        let e = check_payment_proof(&own, &Location::Point, point, "083190009999").unwrap_err();
        assert_eq!(e.field, "identity.citizen_id");
        assert!(!e.reason.contains("083190001234"), "{}", e.reason);
        let proxy = Identity::proxy(
            "Lê Văn Tư",
            "083080004321",
            "UQ-17",
            "UBND xã",
            date("2025-10-31"),
        )
        .unwrap();
        let home = Location::Home {
            coordinates: Coordinates::new("x", 10.0, 106.0).unwrap(),
        };
        assert_eq!(
            check_payment_proof(&proxy, &home, point, "083190001234"),
            Ok(Method::Home)
        );
        assert_eq!(
            check_payment_proof(&own, &Location::Remote, point, "083190001234")
                .unwrap_err()
                .field,
            "location"
        );
        let bank = Identity::bank_account(Some("FT123"), None, None).unwrap();
        assert_eq!(
            check_payment_proof(&bank, &Location::Remote, Channel::Bank, ""),
            Ok(Method::Bank)
        );
        assert_eq!(
            check_payment_proof(&own, &Location::Point, Channel::Bank, "083190001234")
                .unwrap_err()
                .field,
            "identity"
        );
        assert_eq!(
            check_payment_proof(&bank, &Location::Remote, point, "")
                .unwrap_err()
                .field,
            "identity"
        );
        assert_eq!(
            check_payment_proof(
                &Identity::Facility,
                &Location::Remote,
                Channel::Facility(3),
                ""
            ),
            Ok(Method::Facility)
        );
    }
}
