//! Settlement, reconciliation, the multi-year summary and the ledger's balances, as far as the
//! caller's jurisdiction reaches.

use axum::extract::State;
use chitra_core::access::{Action, Scope};
use chitra_core::ledger::Account;
use chitra_store::Summary;
use chitra_store::cycle::{AccountBalance, Reconciliation, SettlementReport};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{Query, period};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Json;
use crate::scope;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodParams {
    /// YYYY-MM.
    pub period: String,
}

/// Province-wide reports need a province (or the country).
fn require_province(caller: &Caller, what: &str) -> ApiResult<()> {
    if caller.everywhere() || matches!(caller.user.scope, Scope::Province(_)) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{what} covers a whole province: it is read from a province's scope"
        )))
    }
}

/// The settlement of a month: per contract and per point, advanced = paid + returned + still held.
#[utoipa::path(get, path = "/api/v1/reports/settlement", tag = "reports", params(PeriodParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn settlement(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<PeriodParams>,
) -> ApiResult<Json<SettlementReport>> {
    caller.require(Action::ReadReports)?;
    let month = period("period", &p.period)?;
    let _turn = state.report_turn().await?;
    let mut report = state.store.settlement(month).await?;
    if !caller.everywhere() {
        let ours = scope::holdings(&state, &caller).await?;
        report
            .settlement
            .contracts
            .retain(|name, _| Account::parse(name).is_ok_and(|a| ours.owns(&a)));
        report
            .settlement
            .points
            .retain(|name, _| Account::parse(name).is_ok_and(|a| ours.owns(&a)));
        report.balances = report.settlement.balances();
    }
    Ok(Json(report))
}

/// The three-way match of a month's lines, payments and transfers: every mismatch.
#[utoipa::path(get, path = "/api/v1/reports/reconcile", tag = "reports", params(PeriodParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn reconcile(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<PeriodParams>,
) -> ApiResult<Json<Reconciliation>> {
    caller.require(Action::ReadReports)?;
    require_province(&caller, "the three-way match")?;
    let month = period("period", &p.period)?;
    let _turn = state.report_turn().await?;
    Ok(Json(state.store.reconcile(month).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SpanParams {
    /// YYYY-MM.
    pub from: String,
    /// YYYY-MM.
    pub to: String,
}

/// What was paid over a span of months: beneficiary-turns, total, points; by year, area, category.
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports", params(SpanParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<SpanParams>,
) -> ApiResult<Json<Summary>> {
    caller.require(Action::ReadReports)?;
    require_province(&caller, "the summary")?;
    let from = period("from", &p.from)?;
    let to = period("to", &p.to)?;
    if to < from {
        return Err(ApiError::invalid("to", format!("{to} is before {from}")));
    }
    let _turn = state.report_turn().await?;
    Ok(Json(state.store.summary(from, to).await?))
}

/// Every account the caller reaches, with its debits, credits and balance.
#[utoipa::path(get, path = "/api/v1/ledger/balances", tag = "reports",
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn balances(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AccountBalance>>> {
    caller.require(Action::ReadLedger)?;
    let mut all = state.store.ledger_balances().await?;
    if !caller.everywhere() {
        let ours = scope::holdings(&state, &caller).await?;
        all.retain(|b| Account::parse(&b.account).is_ok_and(|a| ours.owns(&a)));
    }
    Ok(Json(all))
}
