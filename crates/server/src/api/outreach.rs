//! Telling beneficiaries: phone numbers, the month's schedule notices, and the public lookup of
//! one's own schedule and payments.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use chitra_core::access::Action;
use chitra_store::Page;
use chitra_store::outreach::{
    Notice, NoticeFilter, NoticeStatus, NoticesQueued, PublicCheck, PublicStatus,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::payments::within;
use crate::api::{Path, Query, page_limit, page_offset, period};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Json;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneRequest {
    /// A mobile number such as 0912 345 678; null removes it.
    pub phone: Option<String>,
}

/// Sets a beneficiary's mobile number, for notices.
#[utoipa::path(put, path = "/api/v1/beneficiaries/{code}/phone", tag = "notices",
    params(("code" = String, Path, description = "The beneficiary's code")),
    request_body = PhoneRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn set_phone(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    body: Result<Json<PhoneRequest>, ApiError>,
) -> ApiResult<axum::http::StatusCode> {
    caller.require(Action::EditRegister)?;
    let Json(req) = body?;
    let file = state
        .store
        .beneficiary(&code)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            what: "beneficiary",
            key: code.clone(),
        })?;
    let ours = file
        .beneficiary
        .current_address()
        .is_some_and(|a| caller.jurisdiction.covers_commune(a.commune.as_str()));
    if !ours {
        return Err(ApiError::forbidden(format!(
            "beneficiary {code} is outside your jurisdiction"
        )));
    }
    state
        .store
        .set_phone(&caller.change("số điện thoại"), &code, req.phone.as_deref())
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueRequest {
    /// YYYY-MM.
    pub period: String,
}

/// Writes the month's schedule notices of the caller's jurisdiction to the outbox (once per line).
#[utoipa::path(post, path = "/api/v1/notices", tag = "notices", request_body = QueueRequest,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<QueueRequest>, ApiError>,
) -> ApiResult<Json<NoticesQueued>> {
    caller.require(Action::SendNotices)?;
    let Json(req) = body?;
    let month = period("period", &req.period)?;
    Ok(Json(
        state
            .store
            .queue_notices(
                &caller.change("thông báo lịch chi trả"),
                month,
                &within(&caller),
            )
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoticesParams {
    /// YYYY-MM.
    pub period: Option<String>,
    pub point: Option<i64>,
    /// pending, sent, failed or no_phone.
    pub status: Option<String>,
    /// 1–1,000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The notices of the caller's jurisdiction (phone numbers masked).
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(NoticesParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<NoticesParams>,
) -> ApiResult<Json<Page<Notice>>> {
    caller.require(Action::SendNotices)?;
    let filter = NoticeFilter {
        period: p
            .period
            .as_deref()
            .map(|s| period("period", s))
            .transpose()?,
        point_id: p.point,
        status: p
            .status
            .as_deref()
            .map(|s| {
                NoticeStatus::parse(s).ok_or_else(|| {
                    ApiError::invalid(
                        "status",
                        format!("'{s}' is not a notice status: pending, sent, failed or no_phone"),
                    )
                })
            })
            .transpose()?,
        within: within(&caller),
        limit: page_limit(p.limit, 100, 1_000)?,
        offset: page_offset(p.offset)?,
    };
    Ok(Json(state.store.notices(&filter).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupParams {
    /// The code printed on the beneficiary's notice.
    pub code: String,
    /// The year of birth…
    pub birth_year: Option<i32>,
    /// …or the last 4 digits of the citizen ID.
    pub citizen_last4: Option<String>,
}

/// A beneficiary's own schedule and payment status, for who knows their code and birth year (or
/// the last 4 digits of their citizen ID). No sign-in; limited per address.
#[utoipa::path(get, path = "/api/v1/public/lookup", tag = "public", params(LookupParams),
    security(()),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn lookup(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Query(p): Query<LookupParams>,
) -> ApiResult<Json<PublicStatus>> {
    let today = chitra_store::Change::now("", "").date();
    public_lookup(&state, &address, p, today).await.map(Json)
}

/// The public lookup as of `today`, limited per address: the API's and the public page's.
pub async fn public_lookup(
    state: &AppState,
    address: &SocketAddr,
    p: LookupParams,
    today: chrono::NaiveDate,
) -> ApiResult<PublicStatus> {
    state.lookups.hit(&format!("addr:{}", address.ip()))?;
    let code = chitra_core::text::required("code", &p.code, 40)?;
    let check = match (p.birth_year, p.citizen_last4.as_deref().map(str::trim)) {
        (Some(y), None) if (1900..=2100).contains(&y) => PublicCheck::BirthYear(y),
        (Some(y), None) => {
            return Err(ApiError::invalid(
                "birth_year",
                format!("{y} is not a year of birth"),
            ));
        }
        (None, Some(d)) if d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()) => {
            PublicCheck::CitizenLast4(d.to_owned())
        }
        (None, Some(d)) => {
            return Err(ApiError::invalid(
                "citizen_last4",
                format!("'{d}' is not the last 4 digits of a citizen ID"),
            ));
        }
        _ => {
            return Err(ApiError::invalid(
                "birth_year",
                "give your year of birth, or the last 4 digits of your citizen ID (one of them)",
            ));
        }
    };
    state
        .store
        .public_status(&code, &check, today)
        .await?
        .ok_or(ApiError::NotFound {
            what: "beneficiary",
            key: "with this code and these details".into(),
        })
}
