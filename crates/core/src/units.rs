//! Administrative units as a tree that changes over time.
//!
//! Until 30 June 2025: province → district → commune → hamlet. From 1 July 2025: province → commune
//! → hamlet. Codes are reused across the reorganisation (the new Vĩnh Long is 86, as the old one was;
//! a new commune keeps the code of one of the communes it merged), so a unit is known by its code
//! *and* a date. Each unit of the old tier names its successors.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The first day of the two-tier local government (Resolution 202/2025/QH15).
pub const REORGANISATION_2025: NaiveDate = match NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The last day of the three-tier units.
pub const LAST_DAY_OF_DISTRICTS: NaiveDate = match NaiveDate::from_ymd_opt(2025, 6, 30) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    Province,
    District,
    Commune,
    Hamlet,
}

impl UnitLevel {
    pub fn code(self) -> &'static str {
        match self {
            UnitLevel::Province => "province",
            UnitLevel::District => "district",
            UnitLevel::Commune => "commune",
            UnitLevel::Hamlet => "hamlet",
        }
    }

    pub fn parse(s: &str) -> Result<UnitLevel, FieldError> {
        match s {
            "province" => Ok(UnitLevel::Province),
            "district" => Ok(UnitLevel::District),
            "commune" => Ok(UnitLevel::Commune),
            "hamlet" => Ok(UnitLevel::Hamlet),
            _ => Err(FieldError::new(
                "level",
                format!("'{s}' is not a unit level"),
            )),
        }
    }
}

impl fmt::Display for UnitLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One administrative unit over the span of time it existed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUnit {
    pub code: String,
    pub level: UnitLevel,
    pub name: String,
    /// The parent's code, valid at the same dates as this unit.
    pub parent_code: Option<String>,
    /// `None`: since before the records chitra holds.
    pub valid_from: Option<NaiveDate>,
    /// `None`: still in force.
    pub valid_to: Option<NaiveDate>,
}

impl AdminUnit {
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= date) && self.valid_to.is_none_or(|t| date <= t)
    }
}

/// A unit that ended and the unit that took over its area (one of several, for a split).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Succession {
    pub from_code: String,
    pub from_level: UnitLevel,
    pub to_code: String,
    pub to_level: UnitLevel,
    /// The first day of the successor.
    pub on: NaiveDate,
}

/// Something in the official files that is not as it should be, and what was done about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Quirk {
    pub file: &'static str,
    pub line: usize,
    pub kind: &'static str,
    pub detail: String,
}

/// The official units and successions, and the quirks met reading them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OfficialUnits {
    pub units: Vec<AdminUnit>,
    pub successions: Vec<Succession>,
    pub quirks: Vec<Quirk>,
}

impl OfficialUnits {
    /// Counts of quirks by kind, for a one-line report.
    pub fn quirk_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for q in &self.quirks {
            *m.entry(q.kind).or_insert(0) += 1;
        }
        m
    }
}

/// The files of `data/admin-units`, embedded.
pub struct OfficialFiles<'a> {
    pub units_2024: &'a str,
    pub units_2025: &'a str,
    pub mapping_2025: &'a str,
}

impl OfficialFiles<'static> {
    pub const EMBEDDED: OfficialFiles<'static> = OfficialFiles {
        units_2024: include_str!("../../../data/admin-units/units-2024.csv"),
        units_2025: include_str!("../../../data/admin-units/units-2025.csv"),
        mapping_2025: include_str!("../../../data/admin-units/mapping-2025.csv"),
    };
}

/// Zero-pads a code the files sometimes write without its leading zeros; `None` if it is not a
/// number of at most `digits` digits.
fn padded(raw: &str, digits: usize) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty() && t.len() <= digits && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{t:0>digits$}"))
}

fn records(
    file: &'static str,
    text: &str,
    columns: &[&str],
) -> Result<Vec<(usize, Vec<String>)>, FieldError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| FieldError::new(file, format!("unreadable header: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == c)
                .ok_or_else(|| FieldError::new(file, format!("missing column '{c}'")))
        })
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| FieldError::new(file, format!("line {}: {e}", i + 2)))?;
        out.push((
            i + 2,
            idx.iter()
                .map(|j| rec.get(*j).unwrap_or("").trim().to_owned())
                .collect(),
        ));
    }
    Ok(out)
}

/// Reads the official files. Bad rows do not stop the load: each becomes a [`Quirk`] saying what
/// was wrong and what was done (skipped, padded, resolved by name).
pub fn load_official(files: &OfficialFiles<'_>) -> Result<OfficialUnits, FieldError> {
    let mut out = OfficialUnits::default();
    let old_to = Some(LAST_DAY_OF_DISTRICTS);
    let new_from = Some(REORGANISATION_2025);

    // The three-tier units, as of January 2025.
    const F24: &str = "units-2024.csv";
    let mut provinces: BTreeMap<String, String> = BTreeMap::new();
    let mut districts: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut communes: BTreeMap<String, (String, String)> = BTreeMap::new();
    // (province name, district name, commune name) → commune code, for mapping rows without a code.
    let mut by_names: HashMap<(String, String, String), Vec<String>> = HashMap::new();
    let mut districts_with_communes: BTreeSet<String> = BTreeSet::new();
    let cols = [
        "province_code",
        "province_name",
        "district_code",
        "district_name",
        "commune_code",
        "commune_name",
    ];
    for (line, r) in records(F24, files.units_2024, &cols)? {
        let (Some(pc), Some(dc)) = (padded(&r[0], 2), padded(&r[2], 3)) else {
            out.quirks.push(Quirk {
                file: F24,
                line,
                kind: "bad_code",
                detail: format!(
                    "province '{}' or district '{}' is not a code; row skipped",
                    r[0], r[2]
                ),
            });
            continue;
        };
        provinces.entry(pc.clone()).or_insert_with(|| r[1].clone());
        districts
            .entry(dc.clone())
            .or_insert_with(|| (r[3].clone(), pc.clone()));
        if r[4].is_empty() {
            out.quirks.push(Quirk {
                file: F24,
                line,
                kind: "district_without_communes",
                detail: format!("{} ({dc}) has no commune: kept as a district only", r[3]),
            });
            continue;
        }
        let Some(cc) = padded(&r[4], 5) else {
            out.quirks.push(Quirk {
                file: F24,
                line,
                kind: "bad_code",
                detail: format!("commune code '{}' is not a code; row skipped", r[4]),
            });
            continue;
        };
        if communes.contains_key(&cc) {
            out.quirks.push(Quirk {
                file: F24,
                line,
                kind: "duplicate_code",
                detail: format!("commune {cc} listed twice; first kept"),
            });
            continue;
        }
        districts_with_communes.insert(dc.clone());
        by_names
            .entry((r[1].clone(), r[3].clone(), r[5].clone()))
            .or_default()
            .push(cc.clone());
        communes.insert(cc, (r[5].clone(), dc));
    }
    for (code, name) in &provinces {
        out.units.push(AdminUnit {
            code: code.clone(),
            level: UnitLevel::Province,
            name: name.clone(),
            parent_code: None,
            valid_from: None,
            valid_to: old_to,
        });
    }
    for (code, (name, parent)) in &districts {
        out.units.push(AdminUnit {
            code: code.clone(),
            level: UnitLevel::District,
            name: name.clone(),
            parent_code: Some(parent.clone()),
            valid_from: None,
            valid_to: old_to,
        });
    }
    for (code, (name, parent)) in &communes {
        out.units.push(AdminUnit {
            code: code.clone(),
            level: UnitLevel::Commune,
            name: name.clone(),
            parent_code: Some(parent.clone()),
            valid_from: None,
            valid_to: old_to,
        });
    }

    // The two-tier units from 1 July 2025.
    const F25: &str = "units-2025.csv";
    let mut new_provinces: BTreeMap<String, String> = BTreeMap::new();
    let mut new_communes: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (line, r) in records(
        F25,
        files.units_2025,
        &[
            "province_code",
            "province_name",
            "commune_code",
            "commune_name",
        ],
    )? {
        let (Some(pc), Some(cc)) = (padded(&r[0], 2), padded(&r[2], 5)) else {
            out.quirks.push(Quirk {
                file: F25,
                line,
                kind: "bad_code",
                detail: format!(
                    "province '{}' or commune '{}' is not a code; row skipped",
                    r[0], r[2]
                ),
            });
            continue;
        };
        new_provinces
            .entry(pc.clone())
            .or_insert_with(|| r[1].clone());
        if new_communes
            .insert(cc.clone(), (r[3].clone(), pc))
            .is_some()
        {
            out.quirks.push(Quirk {
                file: F25,
                line,
                kind: "duplicate_code",
                detail: format!("commune {cc} listed twice; last kept"),
            });
        }
    }
    for (code, name) in &new_provinces {
        out.units.push(AdminUnit {
            code: code.clone(),
            level: UnitLevel::Province,
            name: name.clone(),
            parent_code: None,
            valid_from: new_from,
            valid_to: None,
        });
    }
    for (code, (name, parent)) in &new_communes {
        out.units.push(AdminUnit {
            code: code.clone(),
            level: UnitLevel::Commune,
            name: name.clone(),
            parent_code: Some(parent.clone()),
            valid_from: new_from,
            valid_to: None,
        });
    }

    // Old commune → new commune.
    const FM: &str = "mapping-2025.csv";
    let mut successions: BTreeSet<Succession> = BTreeSet::new();
    let cols = [
        "old_commune_code",
        "old_commune_name",
        "old_district_name",
        "old_province_name",
        "new_commune_code",
        "new_commune_name",
        "new_province_name",
    ];
    let strip = |s: &str, prefixes: &[&str]| {
        let mut t = s.trim().to_owned();
        for p in prefixes {
            if let Some(rest) = t.strip_prefix(p) {
                t = rest.trim().to_owned();
            }
        }
        t
    };
    let mut padded_codes = 0usize;
    let mut duplicates = 0usize;
    for (line, r) in records(FM, files.mapping_2025, &cols)? {
        let Some(new_code) = padded(&r[4], 5) else {
            out.quirks.push(Quirk {
                file: FM,
                line,
                kind: "bad_code",
                detail: format!("new commune code '{}' is not a code; row skipped", r[4]),
            });
            continue;
        };
        if new_code != r[4] {
            padded_codes += 1;
        }
        let Some((_, new_province)) = new_communes.get(&new_code) else {
            out.quirks.push(Quirk {
                file: FM,
                line,
                kind: "unknown_new_code",
                detail: format!("new commune {new_code} is not in {F25}; row skipped"),
            });
            continue;
        };
        let province_name = new_provinces
            .get(new_province)
            .map(String::as_str)
            .unwrap_or("");
        let bare = |s: &str| strip(s, &["Tỉnh", "Thành phố"]);
        if bare(province_name) != bare(&r[6]) {
            out.quirks.push(Quirk {
                file: FM,
                line,
                kind: "province_mismatch",
                detail: format!(
                    "new commune {new_code} is in {province_name} by {F25}, but the row says {}; row skipped",
                    r[6]
                ),
            });
            continue;
        }
        let (from_code, from_level) = if let Some(old) = padded(&r[0], 5) {
            if !communes.contains_key(&old) {
                out.quirks.push(Quirk {
                    file: FM,
                    line,
                    kind: "unknown_old_code",
                    detail: format!(
                        "old commune {old} ({}, {}) is not in {F24}: the unit changed between the two snapshots; row skipped",
                        r[1], r[2]
                    ),
                });
                continue;
            }
            (old, UnitLevel::Commune)
        } else if r[3].is_empty() && r[1].is_empty() {
            // An island district that became a special zone (đặc khu): matched by its name.
            let zone = strip(&r[5], &["Đặc khu"]);
            let found: Vec<&String> = districts
                .iter()
                .filter(|(code, (name, _))| {
                    !districts_with_communes.contains(*code)
                        && strip(name, &["Huyện", "Thị xã", "Thành phố"]) == zone
                })
                .map(|(code, _)| code)
                .collect();
            match found.as_slice() {
                [one] => {
                    out.quirks.push(Quirk {
                        file: FM,
                        line,
                        kind: "resolved_by_name",
                        detail: format!(
                            "no old unit given for {} ({new_code}): matched the island district {one} by name",
                            r[5]
                        ),
                    });
                    ((*one).clone(), UnitLevel::District)
                }
                _ => {
                    out.quirks.push(Quirk {
                        file: FM,
                        line,
                        kind: "no_old_unit",
                        detail: format!("no old unit given for {} ({new_code}); row skipped", r[5]),
                    });
                    continue;
                }
            }
        } else {
            // No old code: the (province, district, commune) names are unique where a name alone is not.
            match by_names
                .get(&(r[3].clone(), r[2].clone(), r[1].clone()))
                .map(Vec::as_slice)
            {
                Some([one]) => {
                    out.quirks.push(Quirk {
                        file: FM,
                        line,
                        kind: "resolved_by_name",
                        detail: format!(
                            "no old code for {}, {}, {}: matched {one} by province, district and commune name",
                            r[1], r[2], r[3]
                        ),
                    });
                    (one.clone(), UnitLevel::Commune)
                }
                _ => {
                    out.quirks.push(Quirk {
                        file: FM,
                        line,
                        kind: "no_old_unit",
                        detail: format!(
                            "no old code for {}, {}, {}, and no single unit of that name; row skipped",
                            r[1], r[2], r[3]
                        ),
                    });
                    continue;
                }
            }
        };
        let s = Succession {
            from_code,
            from_level,
            to_code: new_code,
            to_level: UnitLevel::Commune,
            on: REORGANISATION_2025,
        };
        if !successions.insert(s) {
            duplicates += 1;
        }
    }
    if padded_codes > 0 {
        out.quirks.push(Quirk {
            file: FM,
            line: 0,
            kind: "unpadded_code",
            detail: format!(
                "{padded_codes} new commune codes written without leading zeros: padded to 5 digits"
            ),
        });
    }
    if duplicates > 0 {
        out.quirks.push(Quirk {
            file: FM,
            line: 0,
            kind: "duplicate_row",
            detail: format!("{duplicates} rows repeat a mapping already read: kept once"),
        });
    }
    let mut targets: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for s in successions
        .iter()
        .filter(|s| s.from_level == UnitLevel::Commune)
    {
        targets.entry(&s.from_code).or_default().insert(&s.to_code);
    }
    for (old, new) in targets.iter().filter(|(_, n)| n.len() > 1) {
        out.quirks.push(Quirk {
            file: FM,
            line: 0,
            kind: "split",
            detail: format!(
                "old commune {old} was split between {}: an address there needs an officer to choose",
                new.iter().copied().collect::<Vec<_>>().join(" and ")
            ),
        });
    }
    for old in communes
        .keys()
        .filter(|c| !targets.contains_key(c.as_str()))
    {
        out.quirks.push(Quirk {
            file: FM,
            line: 0,
            kind: "no_successor",
            detail: format!(
                "old commune {old} has no mapping row: it ends on 2025-06-30 with no successor"
            ),
        });
    }

    // Province successions follow from the communes: Bến Tre (83) → Vĩnh Long (86).
    let mut province_succ: BTreeSet<Succession> = BTreeSet::new();
    for s in &successions {
        let old_province = match s.from_level {
            UnitLevel::Commune => communes
                .get(&s.from_code)
                .and_then(|(_, d)| districts.get(d))
                .map(|(_, p)| p.clone()),
            _ => districts.get(&s.from_code).map(|(_, p)| p.clone()),
        };
        let new_province = new_communes.get(&s.to_code).map(|(_, p)| p.clone());
        if let (Some(from_code), Some(to_code)) = (old_province, new_province) {
            province_succ.insert(Succession {
                from_code,
                from_level: UnitLevel::Province,
                to_code,
                to_level: UnitLevel::Province,
                on: REORGANISATION_2025,
            });
        }
    }
    out.successions = successions.into_iter().chain(province_succ).collect();
    Ok(out)
}

/// Units indexed for lookups by code and date.
#[derive(Clone, Debug, Default)]
pub struct UnitTree {
    units: Vec<AdminUnit>,
    by_code: HashMap<(UnitLevel, String), Vec<usize>>,
    successors: HashMap<(UnitLevel, String), Vec<String>>,
}

impl UnitTree {
    pub fn new(units: Vec<AdminUnit>, successions: &[Succession]) -> UnitTree {
        let mut by_code: HashMap<(UnitLevel, String), Vec<usize>> = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            by_code
                .entry((u.level, u.code.clone()))
                .or_default()
                .push(i);
        }
        let mut successors: HashMap<(UnitLevel, String), Vec<String>> = HashMap::new();
        for s in successions {
            successors
                .entry((s.from_level, s.from_code.clone()))
                .or_default()
                .push(s.to_code.clone());
        }
        UnitTree {
            units,
            by_code,
            successors,
        }
    }

    pub fn units(&self) -> &[AdminUnit] {
        &self.units
    }

    /// The unit of that level and code in force on `date`.
    pub fn at(&self, level: UnitLevel, code: &str, date: NaiveDate) -> Option<&AdminUnit> {
        self.by_code
            .get(&(level, code.to_owned()))?
            .iter()
            .map(|i| &self.units[*i])
            .find(|u| u.valid_on(date))
    }

    /// A commune in force on `date`, or an error naming the `commune` field.
    pub fn commune(&self, code: &str, date: NaiveDate) -> Result<&AdminUnit, FieldError> {
        if let Some(u) = self.at(UnitLevel::Commune, code, date) {
            return Ok(u);
        }
        let other = self
            .by_code
            .get(&(UnitLevel::Commune, code.to_owned()))
            .and_then(|v| v.first())
            .map(|i| &self.units[*i]);
        Err(FieldError::new(
            "commune",
            match other {
                Some(u) => format!(
                    "commune {code} ({}) was not in force on {date} (valid {} to {})",
                    u.name,
                    u.valid_from
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "…".into()),
                    u.valid_to
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "…".into()),
                ),
                None => format!("'{code}' is not an official commune code"),
            },
        ))
    }

    /// The parent of a unit, as it stood on `date`.
    pub fn parent(&self, unit: &AdminUnit, date: NaiveDate) -> Option<&AdminUnit> {
        let parent_level = match unit.level {
            UnitLevel::Province => return None,
            UnitLevel::District => UnitLevel::Province,
            UnitLevel::Commune if date < REORGANISATION_2025 => UnitLevel::District,
            UnitLevel::Commune => UnitLevel::Province,
            UnitLevel::Hamlet => UnitLevel::Commune,
        };
        self.at(parent_level, unit.parent_code.as_deref()?, date)
    }

    /// The unit of `level` that contains `unit` on `date` (itself, if of that level).
    pub fn ancestor<'a>(
        &'a self,
        unit: &'a AdminUnit,
        level: UnitLevel,
        date: NaiveDate,
    ) -> Option<&'a AdminUnit> {
        let mut u = unit;
        loop {
            if u.level == level {
                return Some(u);
            }
            u = self.parent(u, date)?;
        }
    }

    /// The units of `level` directly below `parent` on `date`.
    pub fn children(&self, parent: &AdminUnit, date: NaiveDate) -> Vec<&AdminUnit> {
        self.units
            .iter()
            .filter(|u| u.parent_code.as_deref() == Some(parent.code.as_str()) && u.valid_on(date))
            .filter(|u| {
                self.parent(u, date)
                    .is_some_and(|p| p.code == parent.code && p.level == parent.level)
            })
            .collect()
    }

    /// The codes that took over a unit's area when it ended.
    pub fn successors(&self, level: UnitLevel, code: &str) -> &[String] {
        self.successors
            .get(&(level, code.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn official() -> OfficialUnits {
        load_official(&OfficialFiles::EMBEDDED).unwrap()
    }

    #[test]
    fn loads_the_official_files_with_their_counts() {
        let o = official();
        let count = |level, from: Option<NaiveDate>| {
            o.units
                .iter()
                .filter(|u| u.level == level && u.valid_from == from)
                .count()
        };
        assert_eq!(count(UnitLevel::Province, None), 63);
        assert_eq!(count(UnitLevel::District, None), 696);
        assert_eq!(count(UnitLevel::Commune, None), 10_051);
        assert_eq!(count(UnitLevel::Province, Some(REORGANISATION_2025)), 34);
        assert_eq!(count(UnitLevel::Commune, Some(REORGANISATION_2025)), 3_321);
    }

    #[test]
    fn the_known_quirks_are_reported_not_fatal() {
        let o = official();
        let q = o.quirk_counts();
        assert_eq!(q.get("district_without_communes"), Some(&5));
        // 27 old codes have no mapping row by code; one of them, 03751 Xã Chiềng Ly, is named by a
        // row without a code and is matched by its province, district and commune names.
        assert_eq!(q.get("no_successor"), Some(&26));
        assert!(
            o.quirks
                .iter()
                .any(|q| q.kind == "resolved_by_name" && q.detail.contains("matched 03751"))
        );
        // 2 old codes map to more than one new commune by their coded rows (20200, 25996); two
        // more (03766, 03910) are split by rows that give only names.
        let splits: Vec<&str> = o
            .quirks
            .iter()
            .filter(|q| q.kind == "split")
            .filter_map(|q| q.detail.split_whitespace().nth(2))
            .collect();
        assert_eq!(splits, ["03766", "03910", "20200", "25996"]);
        // Rows (all of them without an old code) whose new code lies in another province than the
        // row says, e.g. ", Phường 13, Quận 6, Thành phố Hồ Chí Minh, 9568": refused.
        assert_eq!(q.get("province_mismatch"), Some(&62));
        assert!(q.contains_key("unpadded_code"));
        assert!(q.contains_key("duplicate_row"));
        assert!(
            q.get("resolved_by_name").copied().unwrap_or(0) >= 5,
            "the island districts"
        );
        // 12 mapping rows name an old code missing from units-2024 (some of them more than once).
        assert!(q.get("unknown_old_code").copied().unwrap_or(0) >= 10);
    }

    #[test]
    fn ben_tre_has_nine_districts_and_148_communes_then_joins_vinh_long() {
        let o = official();
        let tree = UnitTree::new(o.units.clone(), &o.successions);
        let day = d("2018-01-01");
        let bt = tree.at(UnitLevel::Province, "83", day).unwrap();
        assert_eq!(bt.name, "Tỉnh Bến Tre");
        let districts = tree.children(bt, day);
        assert_eq!(districts.len(), 9);
        let communes: usize = districts.iter().map(|d| tree.children(d, day).len()).sum();
        assert_eq!(communes, 148);
        assert!(
            tree.at(UnitLevel::Province, "83", d("2025-07-01"))
                .is_none()
        );
        assert_eq!(tree.successors(UnitLevel::Province, "83"), ["86"]);
        let vl = tree.at(UnitLevel::Province, "86", d("2025-07-01")).unwrap();
        assert_eq!(tree.children(vl, d("2025-07-01")).len(), 124);
    }

    #[test]
    fn a_commune_is_known_by_code_and_date() {
        let o = official();
        let tree = UnitTree::new(o.units.clone(), &o.successions);
        // 28756 Phường Phú Khương, Thành phố Bến Tre.
        let c = tree.commune("28756", d("2019-05-01")).unwrap();
        let district = tree
            .ancestor(c, UnitLevel::District, d("2019-05-01"))
            .unwrap();
        assert_eq!(district.code, "829");
        assert_eq!(
            tree.ancestor(c, UnitLevel::Province, d("2019-05-01"))
                .unwrap()
                .code,
            "83"
        );
        assert!(!tree.successors(UnitLevel::Commune, "28756").is_empty());
        let e = tree.commune("99999", d("2019-05-01")).unwrap_err();
        assert_eq!(e.field, "commune");
        assert!(e.reason.contains("not an official commune code"));
        // A code of the new tier only: not in force in 2019.
        let new_only = o
            .units
            .iter()
            .find(|u| {
                u.level == UnitLevel::Commune
                    && u.valid_from.is_some()
                    && tree
                        .at(UnitLevel::Commune, &u.code, d("2019-05-01"))
                        .is_none()
            })
            .unwrap();
        assert!(
            tree.commune(&new_only.code, d("2019-05-01"))
                .unwrap_err()
                .reason
                .contains("not in force")
        );
    }

    #[test]
    fn broken_rows_become_quirks() {
        let files = OfficialFiles {
            units_2024: "province_code,province_name,district_code,district_name,commune_code,commune_name\n83,Tỉnh Bến Tre,829,Thành phố Bến Tre,28756,Phường Phú Khương\n83,Tỉnh Bến Tre,829,Thành phố Bến Tre,28756,Phường Phú Khương\nxx,?,829,?,1,?\n",
            units_2025: "province_code,province_name,commune_code,commune_name\n86,Vĩnh Long,28756,Phường An Hội\n",
            mapping_2025: "old_commune_code,old_commune_name,old_district_name,old_province_name,new_commune_code,new_commune_name,new_province_name\n28756,Phường Phú Khương,Thành phố Bến Tre,Tỉnh Bến Tre,28756,Phường An Hội,Vĩnh Long\n,Phường X,Y,Z,77777,Q,R\n",
        };
        let o = load_official(&files).unwrap();
        let kinds: Vec<&str> = o.quirks.iter().map(|q| q.kind).collect();
        assert!(kinds.contains(&"duplicate_code"));
        assert!(kinds.contains(&"bad_code"));
        assert!(kinds.contains(&"unknown_new_code"));
        assert_eq!(o.successions.len(), 2, "commune and province");
    }
}
