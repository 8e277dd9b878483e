//! The register: offices, beneficiaries and their decisions, within the caller's jurisdiction.

use axum::extract::State;
use axum::http::StatusCode;
use chitra_core::Period;
use chitra_core::access::{Action, Role};
use chitra_core::forms::{BeneficiaryForm, DecisionForm};
use chitra_core::ids::CommuneCode;
use chitra_core::office::Office;
use chitra_core::register::RegisterStatus;
use chitra_store::{BeneficiaryFile, BeneficiaryFilter, BeneficiaryRow, DecisionFor, Page};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::{Path, Query, page_limit, page_offset};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Json;
use crate::scope;
use crate::state::AppState;

/// The offices whose work the caller reaches, wholly or in part.
#[utoipa::path(get, path = "/api/v1/offices", tag = "register",
    responses((status = 200, body = [Object]), (status = 401, body = ErrorBody)))]
pub async fn offices(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Office>>> {
    caller.require(Action::ReadPayroll)?;
    let tree = state.store.unit_tree().await?;
    let ours = state
        .store
        .offices()
        .await?
        .into_iter()
        .filter(|o| scope::office_reach(&caller, o, &tree).is_some())
        .collect();
    Ok(Json(ours))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Name (case and diacritics ignored), code, or whole citizen ID.
    pub search: Option<String>,
    /// A 5-digit commune code.
    pub commune: Option<String>,
    /// A category code (K5c, …).
    pub category: Option<String>,
    /// A payment point id.
    pub point: Option<i64>,
    /// pending, active, suspended, stopped or deceased: the standing in `as_of` as the decisions
    /// have it.
    pub status: Option<String>,
    /// The month (YYYY-MM) statuses are read in; this month when not given. Rows then carry
    /// their status.
    pub as_of: Option<String>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The register, paged and filtered; narrowed to the caller's jurisdiction. Citizen IDs are masked.
#[utoipa::path(get, path = "/api/v1/beneficiaries", tag = "register", params(ListParams),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<BeneficiaryRow>>> {
    caller.require(Action::ReadRegister)?;
    let j = &caller.jurisdiction;
    let commune = p
        .commune
        .as_deref()
        .map(|c| CommuneCode::parse(c).map(|c| c.as_str().to_owned()))
        .transpose()?;
    let mut filter = BeneficiaryFilter {
        search: p.search,
        commune: commune.clone(),
        communes: None,
        category: p.category,
        payment_point_id: p.point,
        status: p.status.as_deref().map(RegisterStatus::parse).transpose()?,
        as_of: None,
        limit: page_limit(p.limit, 50, 500)?,
        offset: page_offset(p.offset)?,
    };
    if let Some(month) = &p.as_of {
        filter.as_of = Some(Period::parse(month).map_err(|e| e.renamed("as_of"))?);
    } else if filter.status.is_some() {
        filter.as_of = Some(Period::of(chitra_store::Change::now("", "").date()));
    }
    if let Some(point) = j.point() {
        if p.point.is_some_and(|asked| asked != point) {
            return Err(ApiError::forbidden("that payment point is not yours"));
        }
        filter.payment_point_id = Some(point);
    } else if !j.is_everywhere() {
        if let Some(c) = &commune
            && !j.covers_commune(c)
        {
            return Err(ApiError::forbidden(format!(
                "commune {c} is outside your jurisdiction"
            )));
        }
        let mut communes: Vec<String> = j.communes().iter().cloned().collect();
        communes.sort();
        filter.communes = Some(communes);
    }
    Ok(Json(state.store.beneficiaries(&filter).await?))
}

/// Whether a beneficiary is the caller's: where they live now, or (an agent) the point that pays them.
fn file_is_ours(caller: &Caller, file: &BeneficiaryFile) -> bool {
    let j = &caller.jurisdiction;
    let b = &file.beneficiary;
    match j.point() {
        Some(p) => b.payment_point_id == Some(p),
        None => b
            .current_address()
            .is_some_and(|a| j.covers_commune(a.commune.as_str())),
    }
}

/// Citizen IDs are shown whole only to those who keep the register (Decree 13/2023).
pub fn sees_whole_ids(role: Role) -> bool {
    matches!(
        role,
        Role::Admin | Role::ProvinceOfficer | Role::LocalOfficer
    )
}

/// A file as the caller may see it.
fn shown(caller: &Caller, file: &BeneficiaryFile) -> ApiResult<serde_json::Value> {
    let mut v = serde_json::to_value(file).map_err(|e| ApiError::Internal(e.to_string()))?;
    if !sees_whole_ids(caller.user.role)
        && let Some(id) = v.pointer_mut("/beneficiary/citizen_id")
    {
        *id = serde_json::Value::String(file.beneficiary.citizen_id.masked());
    }
    Ok(v)
}

pub async fn file_of(state: &AppState, caller: &Caller, code: &str) -> ApiResult<BeneficiaryFile> {
    let file = state
        .store
        .beneficiary(code)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            what: "beneficiary",
            key: code.to_owned(),
        })?;
    if !file_is_ours(caller, &file) {
        return Err(ApiError::forbidden(format!(
            "beneficiary {code} is outside your jurisdiction"
        )));
    }
    Ok(file)
}

/// A beneficiary's file: identity, addresses over time, decisions.
#[utoipa::path(get, path = "/api/v1/beneficiaries/{code}", tag = "register",
    params(("code" = String, Path, description = "The beneficiary's code")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(Action::ReadRegister)?;
    let f = file_of(&state, &caller, &code).await?;
    Ok(Json(shown(&caller, &f)?))
}

/// The form of a new beneficiary (see `chitra_core::forms::BeneficiaryForm`).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct BeneficiaryFormDoc {
    pub full_name: String,
    /// YYYY-MM-DD.
    pub birth_date: String,
    /// nam / nữ.
    pub sex: String,
    /// 12 digits.
    pub citizen_id: String,
    /// 5-digit official commune code.
    pub commune: String,
    /// K1 … K8, or a merit allowance type.
    pub category: String,
    pub program: Option<String>,
    pub hamlet: Option<String>,
    pub street: Option<String>,
    #[schema(minimum = 1, maximum = 20)]
    pub dependants: Option<u32>,
    /// YYYY-MM.
    pub effective: Option<String>,
    /// YYYY-MM-DD.
    pub signed_on: Option<String>,
    pub signer: Option<String>,
    pub number: Option<String>,
    pub reason: Option<String>,
    pub payment_point_id: Option<i64>,
    pub facility_id: Option<i64>,
    pub home_delivery: Option<String>,
    pub bank: Option<String>,
    pub bank_account: Option<String>,
}

/// Registers a beneficiary with the decision that grants their first category.
#[utoipa::path(post, path = "/api/v1/beneficiaries", tag = "register",
    request_body = BeneficiaryFormDoc,
    responses((status = 201, body = Object), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<BeneficiaryForm>, ApiError>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.require(Action::EditRegister)?;
    let Json(form) = body?;
    let change = caller.change("đăng ký đối tượng");
    let new = form.parse(change.date(), &caller.user.username)?;
    if !caller
        .jurisdiction
        .covers_commune(new.address.commune.as_str())
    {
        return Err(ApiError::Invalid(chitra_core::FieldError::new(
            "commune",
            format!(
                "commune {} is outside your jurisdiction",
                new.address.commune.as_str()
            ),
        )));
    }
    let made = state
        .store
        .add_beneficiaries(&change, std::slice::from_ref(&new))
        .await?
        .remove(0);
    Ok((StatusCode::CREATED, Json(shown(&caller, &made)?)))
}

/// The form of a decision (see `chitra_core::forms::DecisionForm`).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct DecisionFormDoc {
    /// grant, adjust, suspend, resume or stop.
    pub kind: String,
    pub category: Option<String>,
    pub replaces: Option<String>,
    #[schema(minimum = 1, maximum = 20)]
    pub dependants: Option<u32>,
    /// YYYY-MM.
    pub effective: Option<String>,
    pub signed_on: Option<String>,
    pub signer: Option<String>,
    pub number: Option<String>,
    pub reason: String,
    /// YYYY-MM-DD, for a stop on death.
    pub death_date: Option<String>,
}

/// Records a decision about a beneficiary.
#[utoipa::path(post, path = "/api/v1/beneficiaries/{code}/decisions", tag = "register",
    params(("code" = String, Path, description = "The beneficiary's code")),
    request_body = DecisionFormDoc,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_decision(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    body: Result<Json<DecisionForm>, ApiError>,
) -> ApiResult<(StatusCode, Json<chitra_core::decision::Decision>)> {
    caller.require(Action::EditRegister)?;
    let Json(form) = body?;
    file_of(&state, &caller, &code).await?;
    let change = caller.change("ghi quyết định");
    let decision = form.parse(change.date(), &caller.user.username)?;
    let made = state
        .store
        .add_decisions(
            &change,
            &[DecisionFor {
                beneficiary_code: code,
                decision,
            }],
        )
        .await?
        .remove(0);
    Ok((StatusCode::CREATED, Json(made)))
}
