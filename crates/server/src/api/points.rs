//! Payment points: where money is handed over, within the caller's jurisdiction.

use axum::extract::State;
use axum::http::StatusCode;
use chitra_core::access::Action;
use chitra_core::ids::CommuneCode;
use chitra_core::office::{NewPaymentPoint, PaymentPoint, PointKind};
use serde::Deserialize;
use utoipa::ToSchema;

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
    pub pay_days: Option<(u8, u8)>,
}

/// Adds a payment point in a commune of the caller's jurisdiction.
#[utoipa::path(post, path = "/api/v1/points", tag = "points", request_body = NewPointRequest,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<NewPointRequest>,
) -> ApiResult<(StatusCode, Json<PaymentPoint>)> {
    caller.require(Action::ManagePoints)?;
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
    };
    point.check()?;
    let made = state
        .store
        .add_payment_points(&caller.change("thêm điểm chi trả"), &[point])
        .await?
        .remove(0);
    Ok((StatusCode::CREATED, Json(made)))
}
