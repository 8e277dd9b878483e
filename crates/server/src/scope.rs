//! How far a caller reaches into an office's work, a payroll, a line or a file: the checks of
//! `chitra_core::access`, applied to what the store returns.

use std::collections::HashSet;

use chitra_core::access::Holdings;
use chitra_core::office::{Office, OfficeKind};
use chitra_core::payroll::Channel;
use chitra_core::units::{UnitLevel, UnitTree};
use chitra_store::cycle::{LineFilter, LineRow, Run};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How much of an office's work a caller reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// All of it: the office's area is inside the caller's.
    Whole,
    /// Part of it: the caller's communes or point lie inside the office's area; lists are narrowed.
    Part,
}

pub fn office_level(kind: OfficeKind) -> UnitLevel {
    match kind {
        OfficeKind::Department => UnitLevel::Province,
        OfficeKind::DistrictOffice => UnitLevel::District,
        OfficeKind::CommuneCommittee => UnitLevel::Commune,
    }
}

pub fn office_reach(caller: &Caller, office: &Office, tree: &UnitTree) -> Option<Reach> {
    let level = office_level(office.kind);
    let j = &caller.jurisdiction;
    if j.covers_unit(level, &office.unit_code) {
        Some(Reach::Whole)
    } else if j.touches_unit(level, &office.unit_code, tree) {
        Some(Reach::Part)
    } else {
        None
    }
}

fn not_yours(what: &str) -> ApiError {
    ApiError::forbidden(format!("{what} is outside your jurisdiction"))
}

/// The office of a run, and how far the caller reaches into it (403 if not at all).
pub async fn run_reach(state: &AppState, caller: &Caller, run: &Run) -> ApiResult<Reach> {
    let office = office(state, run.office_id).await?;
    let tree = state.store.unit_tree().await?;
    office_reach(caller, &office, &tree).ok_or_else(|| not_yours(&format!("payroll {}", run.id)))
}

/// Changing a run needs the whole of its office.
pub async fn require_whole_run(state: &AppState, caller: &Caller, run: &Run) -> ApiResult<()> {
    match run_reach(state, caller, run).await? {
        Reach::Whole => Ok(()),
        Reach::Part => Err(ApiError::forbidden(format!(
            "payroll {} belongs to an office whose area is larger than your jurisdiction",
            run.id
        ))),
    }
}

pub async fn office(state: &AppState, id: i64) -> ApiResult<Office> {
    state
        .store
        .offices()
        .await?
        .into_iter()
        .find(|o| o.id == id)
        .ok_or(ApiError::NotFound {
            what: "office",
            key: id.to_string(),
        })
}

/// Narrows a list of a run's lines to what the caller reaches.
pub fn narrow_lines(caller: &Caller, reach: Reach, filter: &mut LineFilter) -> ApiResult<()> {
    if reach == Reach::Whole {
        return Ok(());
    }
    let j = &caller.jurisdiction;
    if let Some(p) = j.point() {
        if filter.point_id.is_some_and(|asked| asked != p) {
            return Err(not_yours("that payment point"));
        }
        filter.point_id = Some(p);
    } else {
        let mut communes: Vec<String> = j.communes().iter().cloned().collect();
        communes.sort();
        filter.communes = Some(communes);
    }
    Ok(())
}

/// Whether one line is the caller's.
pub fn line_is_ours(caller: &Caller, line: &LineRow) -> bool {
    let j = &caller.jurisdiction;
    match (j.point(), line.channel) {
        (Some(p), Channel::Point(q)) => p == q,
        (Some(_), _) => false,
        (None, _) => j.covers_commune(&line.commune_code),
    }
}

pub fn require_line(caller: &Caller, line: &LineRow) -> ApiResult<()> {
    if line_is_ours(caller, line) {
        Ok(())
    } else {
        Err(not_yours(&format!("payroll line {}", line.id)))
    }
}

/// The accounts, contracts and points a caller reaches, for the ledger and the settlement.
pub async fn holdings(state: &AppState, caller: &Caller) -> ApiResult<Holdings> {
    let store = &state.store;
    let tree = store.unit_tree().await?;
    let offices: HashSet<i64> = store
        .offices()
        .await?
        .into_iter()
        .filter(|o| office_reach(caller, o, &tree) == Some(Reach::Whole))
        .map(|o| o.id)
        .collect();
    let contracts = store
        .contracts()
        .await?
        .into_iter()
        .filter(|c| offices.contains(&c.terms.office_id))
        .map(|c| c.terms.code)
        .collect();
    let j = &caller.jurisdiction;
    let points = store
        .payment_points()
        .await?
        .into_iter()
        .filter(|p| j.covers_point(p.id, p.commune.as_str()))
        .map(|p| p.code)
        .collect();
    let program_wide =
        j.is_everywhere() || matches!(caller.user.scope, chitra_core::access::Scope::Province(_));
    Ok(Holdings {
        offices,
        contracts,
        points,
        program_wide,
    })
}
