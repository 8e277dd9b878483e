//! Payment points: where money is handed over, within the caller's jurisdiction.

use axum::extract::State;
use axum::http::StatusCode;
use chitra_core::access::Action;
use chitra_core::ids::CommuneCode;
use chitra_core::office::{NewPaymentPoint, PaymentPoint, PointKind};
use chitra_core::schedule::{MonthDays, Weekdays, parse_hours};
use chitra_store::Page;
use chitra_store::payments::{Assignment, FlagFilter, FlagRow, NewSchedule, Schedule};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::{Path, Query, page_limit, page_offset, period};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Json;
use crate::state::AppState;

/// The payment points the caller reaches (an agent: their own).
#[utoipa::path(get, path = "/api/v1/points", tag = "points",
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<PaymentPoint>>> {
    caller.require(Action::ReadPoints)?;
    let j = &caller.jurisdiction;
    let ours = state
        .store
        .payment_points()
        .await?
        .into_iter()
        .filter(|p| j.covers_point(p.id, p.commune.as_str()))
        .collect();
    Ok(Json(ours))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPointRequest {
    pub code: String,
    pub name: String,
    /// district_post_office, post_office_branch, commune_cultural_post_office,
    /// commune_committee_office or hamlet.
    pub kind: String,
    /// 5-digit commune code.
    pub commune: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// First and last day of the month it pays (default: the kind's usual days).
    #[schema(min_items = 2, max_items = 2)]
    pub pay_days: Option<(u8, u8)>,
    /// The weekdays it opens, e.g. `mon-sat` (default: Monday to Saturday).
    pub opening_days: Option<String>,
}

/// Adds a payment point in a commune of the caller's jurisdiction.
#[utoipa::path(post, path = "/api/v1/points", tag = "points", request_body = NewPointRequest,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewPointRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<PaymentPoint>)> {
    caller.require(Action::ManagePoints)?;
    let Json(req) = body?;
    let kind = PointKind::parse(req.kind.trim()).map_err(|e| e.renamed("kind"))?;
    let commune = CommuneCode::parse(&req.commune)?;
    if !caller.jurisdiction.covers_commune(commune.as_str()) {
        return Err(ApiError::invalid(
            "commune",
            format!("commune {} is outside your jurisdiction", commune.as_str()),
        ));
    }
    let point = NewPaymentPoint {
        code: req.code,
        name: req.name,
        kind,
        commune,
        address: req.address,
        latitude: req.latitude,
        longitude: req.longitude,
        pay_days: req.pay_days.unwrap_or_else(|| kind.usual_pay_days()),
        opening_days: match req.opening_days.as_deref() {
            Some(d) => Weekdays::parse(d).map_err(|e| e.renamed("opening_days"))?,
            None => Weekdays::default(),
        },
    };
    point.check()?;
    let made = state
        .store
        .add_payment_points(&caller.change("thêm điểm chi trả"), &[point])
        .await?
        .remove(0);
    Ok((StatusCode::CREATED, Json(made)))
}

/// A point the caller reaches (404 if there is none, 403 if it is not theirs).
async fn point_of(state: &AppState, caller: &Caller, id: i64) -> ApiResult<PaymentPoint> {
    let point = state
        .store
        .payment_points()
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(ApiError::NotFound {
            what: "payment point",
            key: id.to_string(),
        })?;
    if !caller
        .jurisdiction
        .covers_point(point.id, point.commune.as_str())
    {
        return Err(ApiError::forbidden(format!(
            "payment point {id} is outside your jurisdiction"
        )));
    }
    Ok(point)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SchedulesParams {
    /// YYYY-MM.
    pub period: String,
    /// One point's only.
    pub point: Option<i64>,
}

/// The month's schedules of the points the caller reaches (a point without one set shows its
/// default: its pay days on its opening weekdays).
#[utoipa::path(get, path = "/api/v1/schedules", tag = "points", params(SchedulesParams),
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn schedules(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<SchedulesParams>,
) -> ApiResult<Json<Vec<Schedule>>> {
    caller.require(Action::ReadPoints)?;
    let month = period("period", &p.period)?;
    if let Some(id) = p.point {
        point_of(&state, &caller, id).await?;
    }
    let j = &caller.jurisdiction;
    let ours = state
        .store
        .schedules(month, p.point)
        .await?
        .into_iter()
        .filter(|s| j.covers_point(s.point_id, &s.commune_code))
        .collect();
    Ok(Json(ours))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// Days of the month: `2-10`, `2-6,9-13`.
    pub days: String,
    /// Opening hours: `07:30-16:30`.
    pub hours: String,
}

/// Sets (or sets again) a point's schedule for a month.
#[utoipa::path(put, path = "/api/v1/points/{id}/schedules/{period}", tag = "points",
    params(("id" = i64, Path, description = "The point's id"),
           ("period" = String, Path, description = "YYYY-MM")),
    request_body = ScheduleRequest,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn set_schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, month)): Path<(i64, String)>,
    body: Result<Json<ScheduleRequest>, ApiError>,
) -> ApiResult<Json<Schedule>> {
    caller.require(Action::ManagePoints)?;
    let Json(req) = body?;
    let month = period("period", &month)?;
    let days = MonthDays::parse(&req.days)?;
    let (opens, closes) = parse_hours(&req.hours)?;
    point_of(&state, &caller, id).await?;
    let made = state
        .store
        .set_schedule(
            &caller.change("lập lịch chi trả"),
            &NewSchedule {
                point_id: id,
                period: month,
                days,
                opens,
                closes,
            },
        )
        .await?;
    Ok(Json(made))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRequest {
    pub beneficiary_code: String,
    /// Paid at home, and why (old, frail, sick); absent: at the point.
    #[serde(default)]
    pub home_delivery: Option<String>,
    /// The home's GPS coordinates, to check home deliveries against.
    #[serde(default)]
    pub home: Option<crate::json::Gps>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentsRequest {
    #[serde(deserialize_with = "crate::json::objects")]
    pub assignments: Vec<AssignmentRequest>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AssignedAnswer {
    pub assigned: usize,
}

/// Assigns beneficiaries of the caller's jurisdiction to a point, at the point or at home (with
/// the reason): all or nothing.
#[utoipa::path(post, path = "/api/v1/points/{id}/assignments", tag = "points",
    params(("id" = i64, Path, description = "The point's id")),
    request_body = AssignmentsRequest,
    responses((status = 200, body = AssignedAnswer), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: Result<Json<AssignmentsRequest>, ApiError>,
) -> ApiResult<Json<AssignedAnswer>> {
    caller.require(Action::ManagePoints)?;
    let Json(req) = body?;
    point_of(&state, &caller, id).await?;
    let j = &caller.jurisdiction;
    let mut assignments = Vec::with_capacity(req.assignments.len());
    for (i, a) in req.assignments.into_iter().enumerate() {
        if let Some(file) = state.store.beneficiary(&a.beneficiary_code).await?
            && !file
                .beneficiary
                .current_address()
                .is_some_and(|ad| j.covers_commune(ad.commune.as_str()))
        {
            return Err(ApiError::forbidden(format!(
                "assignments[{i}]: beneficiary {} is outside your jurisdiction",
                a.beneficiary_code
            )));
        }
        assignments.push(Assignment {
            beneficiary_code: a.beneficiary_code,
            home_delivery: a.home_delivery,
            home: a.home.map(|c| (c.latitude, c.longitude)),
        });
    }
    let assigned = state
        .store
        .assign_beneficiaries(&caller.change("phân điểm chi trả"), id, &assignments)
        .await?;
    Ok(Json(AssignedAnswer { assigned }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FlagsParams {
    /// YYYY-MM.
    pub period: Option<String>,
    /// outside_schedule, dead_beneficiary, proxy_expired, proxy_for_many, home_far_from_address.
    pub kind: Option<String>,
    pub point: Option<i64>,
    /// 1–1,000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// What payments raised for an inspector, with the evidence, within the caller's jurisdiction.
#[utoipa::path(get, path = "/api/v1/flags", tag = "points", params(FlagsParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn flags(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<FlagsParams>,
) -> ApiResult<Json<Page<FlagRow>>> {
    caller.require(Action::ReadAnomalies)?;
    let filter = FlagFilter {
        period: p
            .period
            .as_deref()
            .map(|s| period("period", s))
            .transpose()?,
        kind: p
            .kind
            .as_deref()
            .map(chitra_core::anomaly::FlagKind::parse)
            .transpose()?,
        point_id: p.point,
        within: crate::api::payments::within(&caller),
        limit: page_limit(p.limit, 100, 1_000)?,
        offset: page_offset(p.offset)?,
    };
    Ok(Json(state.store.flags(&filter).await?))
}
