//! The audit journal: its verification and its latest entries.

use axum::extract::State;
use chitra_core::access::Action;
use chitra_core::journal::Entry;
use chitra_store::Verification;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{Query, page_limit};
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::json::Json;
use crate::state::AppState;

/// Recomputes the journal's hash chain and names the first entry that does not match.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Verification>> {
    caller.require(Action::ReadAudit)?;
    Ok(Json(state.store.verify_journal().await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// 1–1,000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The latest journal entries, newest first.
#[utoipa::path(get, path = "/api/v1/audit/log", tag = "audit", params(LogParams),
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn log(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<LogParams>,
) -> ApiResult<Json<Vec<Entry>>> {
    caller.require(Action::ReadAudit)?;
    let limit = page_limit(p.limit, 50, 1_000)?;
    Ok(Json(state.store.journal_tail(limit).await?))
}
