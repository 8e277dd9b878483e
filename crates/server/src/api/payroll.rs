//! Contracts and the monthly cycle: generate, approve (a second person), fund, open, close; the
//! lines, their differences from last month and each line's trail.

use axum::extract::State;
use axum::http::StatusCode;
use chitra_core::Program;
use chitra_core::access::Action;
use chitra_core::contract::Contract;
use chitra_core::forms::ContractForm;
use chitra_core::payroll::LineStatus;
use chitra_store::Page;
use chitra_store::cycle::{Closed, DiffRow, LineFilter, LineRow, LineTrail, Review, Run};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::{Path, Query, page_limit, page_offset, period};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Json;
use crate::scope::{self, Reach};
use crate::state::AppState;

/// The contracts of the offices whose work the caller reaches.
#[utoipa::path(get, path = "/api/v1/contracts", tag = "payroll",
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn contracts(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Contract>>> {
    caller.require(Action::ReadContracts)?;
    let tree = state.store.unit_tree().await?;
    let offices = state.store.offices().await?;
    let ours: Vec<Contract> = state
        .store
        .contracts()
        .await?
        .into_iter()
        .filter(|c| {
            offices
                .iter()
                .find(|o| o.id == c.terms.office_id)
                .is_some_and(|o| scope::office_reach(&caller, o, &tree).is_some())
        })
        .collect();
    Ok(Json(ours))
}

/// The form of a contract (see `chitra_core::forms::ContractForm`).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ContractFormDoc {
    pub code: String,
    pub name: String,
    pub office_id: i64,
    pub post_office: String,
    pub area_code: String,
    pub program: Option<String>,
    /// `1.2%` or `6600/beneficiary`.
    pub fee: String,
    #[schema(minimum = 1, maximum = 31)]
    pub advance_by_day: Option<u8>,
    #[schema(minimum = 1, maximum = 31)]
    pub pay_from_day: Option<u8>,
    #[schema(minimum = 1, maximum = 31)]
    pub pay_to_day: Option<u8>,
    #[schema(minimum = 1, maximum = 31)]
    pub report_by_day: Option<u8>,
    /// YYYY-MM.
    pub valid_from: String,
    pub valid_to: Option<String>,
}

/// Records a payment contract of an office in the caller's jurisdiction.
#[utoipa::path(post, path = "/api/v1/contracts", tag = "payroll", request_body = ContractFormDoc,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn add_contract(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<ContractForm>, ApiError>,
) -> ApiResult<(StatusCode, Json<Contract>)> {
    caller.require(Action::ManageContracts)?;
    let Json(form) = body?;
    let terms = form.parse()?;
    let office = scope::office(&state, terms.office_id)
        .await
        .map_err(|_| ApiError::invalid("office_id", format!("no office #{}", terms.office_id)))?;
    let tree = state.store.unit_tree().await?;
    if scope::office_reach(&caller, &office, &tree) != Some(Reach::Whole) {
        return Err(ApiError::forbidden(format!(
            "office {} is outside your jurisdiction",
            office.id
        )));
    }
    let made = state
        .store
        .add_contract(&caller.change("ký hợp đồng chi trả"), &terms)
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunsParams {
    /// YYYY-MM.
    pub period: Option<String>,
}

/// The payroll runs the caller reaches, of a month or of all months.
#[utoipa::path(get, path = "/api/v1/payrolls", tag = "payroll", params(RunsParams),
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<RunsParams>,
) -> ApiResult<Json<Vec<Run>>> {
    caller.require(Action::ReadPayroll)?;
    let month = p
        .period
        .as_deref()
        .map(|s| period("period", s))
        .transpose()?;
    let tree = state.store.unit_tree().await?;
    let offices = state.store.offices().await?;
    let mut runs = Vec::new();
    for r in state.store.runs(month).await? {
        let reach = offices
            .iter()
            .find(|o| o.id == r.office_id)
            .and_then(|o| scope::office_reach(&caller, o, &tree));
        match reach {
            Some(Reach::Whole) => runs.push(r),
            Some(Reach::Part) => runs.push(part_of(&state, &caller, r.id).await?),
            None => {}
        }
    }
    Ok(Json(runs))
}

/// A run as one who reaches part of it sees it: the totals of their part only.
async fn part_of(state: &AppState, caller: &Caller, run_id: i64) -> ApiResult<Run> {
    let mut filter = LineFilter::default();
    scope::narrow_lines(caller, Reach::Part, &mut filter)?;
    Ok(state.store.run_part(run_id, &filter).await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// The office whose beneficiaries are paid.
    pub office_id: i64,
    /// YYYY-MM.
    pub period: String,
    /// social_assistance (default) or merit_allowance.
    #[serde(default)]
    pub program: Option<String>,
}

/// Generates (or generates again, while a draft) an office's payroll for a month.
#[utoipa::path(post, path = "/api/v1/payrolls", tag = "payroll", request_body = GenerateRequest,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<GenerateRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    caller.require(Action::GeneratePayroll)?;
    let Json(req) = body?;
    let month = period("period", &req.period)?;
    let program = match req.program.as_deref() {
        Some(p) => Program::parse(p)?,
        None => Program::SocialAssistance,
    };
    let office = scope::office(&state, req.office_id)
        .await
        .map_err(|_| ApiError::invalid("office_id", format!("no office #{}", req.office_id)))?;
    let tree = state.store.unit_tree().await?;
    if scope::office_reach(&caller, &office, &tree) != Some(Reach::Whole) {
        return Err(ApiError::forbidden(format!(
            "office {} is outside your jurisdiction",
            office.id
        )));
    }
    let run = state
        .store
        .generate_payroll(
            &caller.change("lập danh sách chi trả"),
            office.id,
            program,
            month,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(run)))
}

async fn run_of(state: &AppState, caller: &Caller, id: i64) -> ApiResult<(Run, Reach)> {
    let run = state.store.run(id).await?;
    let reach = scope::run_reach(state, caller, &run).await?;
    Ok((run, reach))
}

/// One payroll run: its state, totals and lines by status (for one who reaches part of its office,
/// an agent of one point say, the totals of their part).
#[utoipa::path(get, path = "/api/v1/payrolls/{id}", tag = "payroll",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Run>> {
    caller.require(Action::ReadPayroll)?;
    match run_of(&state, &caller, id).await? {
        (run, Reach::Whole) => Ok(Json(run)),
        (_, Reach::Part) => Ok(Json(part_of(&state, &caller, id).await?)),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LinesParams {
    /// due, paid, carried or returned.
    pub status: Option<String>,
    /// A payment point id.
    pub point: Option<i64>,
    /// 1–10,000, default 100.
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// A run's lines, narrowed to the caller's jurisdiction (an agent: their point's).
#[utoipa::path(get, path = "/api/v1/payrolls/{id}/lines", tag = "payroll",
    params(("id" = i64, Path, description = "The run's id"), LinesParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn lines(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(p): Query<LinesParams>,
) -> ApiResult<Json<Page<LineRow>>> {
    caller.require(Action::ReadPayroll)?;
    let (_, reach) = run_of(&state, &caller, id).await?;
    let status = p
        .status
        .as_deref()
        .map(|s| {
            LineStatus::parse(s.trim()).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    format!("'{s}' is not a line status: due, paid, carried or returned"),
                )
            })
        })
        .transpose()?;
    let mut filter = LineFilter {
        status,
        point_id: p.point,
        communes: None,
        limit: page_limit(p.limit, 100, 10_000)?,
        offset: page_offset(p.offset)?,
    };
    scope::narrow_lines(&caller, reach, &mut filter)?;
    Ok(Json(state.store.run_lines(id, &filter).await?))
}

/// What changed since the office's month before: new, stopped, amount changed, and why.
#[utoipa::path(get, path = "/api/v1/payrolls/{id}/differences", tag = "payroll",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn differences(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<DiffRow>>> {
    caller.require(Action::ReadPayroll)?;
    let (run, _) = run_of(&state, &caller, id).await?;
    scope::require_whole_run(&state, &caller, &run).await?;
    Ok(Json(state.store.run_differences(id).await?))
}

/// One step of a run, checked against the caller's role and the office's area.
async fn step(state: &AppState, caller: &Caller, id: i64, action: Action) -> ApiResult<Run> {
    caller.require(action)?;
    let run = state.store.run(id).await?;
    scope::require_whole_run(state, caller, &run).await?;
    if action == Action::ApprovePayroll && run.generated_by == caller.user.username {
        return Err(ApiError::forbidden(format!(
            "payroll {id} was generated by you: a second person approves it (maker-checker)"
        )));
    }
    let store = &state.store;
    Ok(match action {
        Action::ApprovePayroll => {
            store
                .approve_payroll(&caller.change("phê duyệt danh sách chi trả"), id)
                .await?
        }
        Action::FundPayroll => {
            store
                .fund_payroll(&caller.change("chuyển kinh phí"), id)
                .await?
        }
        _ => {
            store
                .open_payroll(&caller.change("bắt đầu chi trả"), id)
                .await?
        }
    })
}

/// Approves a draft: by someone other than whoever generated it (maker-checker).
#[utoipa::path(post, path = "/api/v1/payrolls/{id}/approve", tag = "payroll",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Run>> {
    Ok(Json(
        step(&state, &caller, id, Action::ApprovePayroll).await?,
    ))
}

/// The fund advance: budget → office fund → post office.
#[utoipa::path(post, path = "/api/v1/payrolls/{id}/fund", tag = "payroll",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn fund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Run>> {
    Ok(Json(step(&state, &caller, id, Action::FundPayroll).await?))
}

/// The start of payment: the post office distributes to its points.
#[utoipa::path(post, path = "/api/v1/payrolls/{id}/open", tag = "payroll",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Run>> {
    Ok(Json(step(&state, &caller, id, Action::OpenPayroll).await?))
}

/// The close: every line paid, carried or returned; suspensions; the fee.
#[utoipa::path(post, path = "/api/v1/payrolls/{id}/close", tag = "payroll",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Closed>> {
    caller.require(Action::ClosePayroll)?;
    let run = state.store.run(id).await?;
    scope::require_whole_run(&state, &caller, &run).await?;
    Ok(Json(
        state
            .store
            .close_payroll(&caller.change("kết thúc kỳ chi trả"), id)
            .await?,
    ))
}

/// One line: why its amount is what it is, its payment with the proof, its transfers.
#[utoipa::path(get, path = "/api/v1/lines/{id}", tag = "payroll",
    params(("id" = i64, Path, description = "The line's id")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn line(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<LineTrail>> {
    caller.require(Action::ReadPayroll)?;
    let trail = state.store.line_trail(id).await?;
    scope::require_line(&caller, &trail.line)?;
    Ok(Json(trail))
}

/// Beneficiaries suspended for not collecting, waiting for an officer's review.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "payroll",
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn reviews(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Review>>> {
    caller.require(Action::ReadRegister)?;
    caller.require(Action::ReadPayroll)?;
    let all = state.store.reviews().await?;
    if caller.everywhere() {
        return Ok(Json(all));
    }
    let j = &caller.jurisdiction;
    let mut ours = Vec::new();
    for r in all {
        if let Some(f) = state.store.beneficiary(&r.beneficiary_code).await?
            && f.beneficiary
                .current_address()
                .is_some_and(|a| j.covers_commune(a.commune.as_str()))
        {
            ours.push(r);
        }
    }
    Ok(Json(ours))
}
