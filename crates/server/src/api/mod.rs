//! The routes of `/api/v1`, one module per part of the work.

pub mod audit;
pub mod outreach;
pub mod payments;
pub mod payroll;
pub mod points;
pub mod register;
pub mod reports;
pub mod session;
pub mod users;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path as AxumPath, Query as AxumQuery};
use axum::http::request::Parts;
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(session::healthz))
        .route("/api/v1/openapi.json", get(crate::openapi::document))
        .route("/api/v1/auth/login", post(session::login))
        .route("/api/v1/auth/logout", post(session::logout))
        .route("/api/v1/auth/me", get(session::me))
        .route("/api/v1/auth/tokens", post(session::issue_token))
        .route("/api/v1/users", get(users::list).post(users::add))
        .route("/api/v1/offices", get(register::offices))
        .route(
            "/api/v1/beneficiaries",
            get(register::list).post(register::add),
        )
        .route("/api/v1/beneficiaries/{code}", get(register::file))
        .route(
            "/api/v1/beneficiaries/{code}/decisions",
            post(register::add_decision),
        )
        .route(
            "/api/v1/beneficiaries/{code}/phone",
            axum::routing::put(outreach::set_phone),
        )
        .route("/api/v1/notices", get(outreach::list).post(outreach::queue))
        .route("/api/v1/public/lookup", get(outreach::lookup))
        .route("/api/v1/points", get(points::list).post(points::add))
        .route(
            "/api/v1/points/{id}/schedules/{period}",
            axum::routing::put(points::set_schedule),
        )
        .route("/api/v1/points/{id}/assignments", post(points::assign))
        .route("/api/v1/schedules", get(points::schedules))
        .route("/api/v1/flags", get(points::flags))
        .route(
            "/api/v1/contracts",
            get(payroll::contracts).post(payroll::add_contract),
        )
        .route(
            "/api/v1/payrolls",
            get(payroll::list).post(payroll::generate),
        )
        .route("/api/v1/payrolls/{id}", get(payroll::show))
        .route("/api/v1/payrolls/{id}/lines", get(payroll::lines))
        .route(
            "/api/v1/payrolls/{id}/differences",
            get(payroll::differences),
        )
        .route("/api/v1/payrolls/{id}/approve", post(payroll::approve))
        .route("/api/v1/payrolls/{id}/fund", post(payroll::fund))
        .route("/api/v1/payrolls/{id}/open", post(payroll::open))
        .route("/api/v1/payrolls/{id}/close", post(payroll::close))
        .route("/api/v1/lines/{id}", get(payroll::line))
        .route("/api/v1/reviews", get(payroll::reviews))
        .route("/api/v1/payments", post(payments::record_one))
        .route(
            "/api/v1/payments/batch",
            post(payments::record_batch).layer(axum::extract::DefaultBodyLimit::max(
                payments::MAX_BATCH_BYTES,
            )),
        )
        .route("/api/v1/reports/settlement", get(reports::settlement))
        .route("/api/v1/reports/reconcile", get(reports::reconcile))
        .route("/api/v1/reports/summary", get(reports::summary))
        .route("/api/v1/ledger/balances", get(reports::balances))
        .route("/api/v1/audit/verify", get(audit::verify))
        .route("/api/v1/audit/log", get(audit::log))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// A known path asked with a method it does not take (axum adds the `Allow` header).
async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

async fn not_found() -> ApiError {
    ApiError::NotFound {
        what: "route",
        key: "(no such endpoint)".into(),
    }
}

/// A query string parsed into `T`, refused with the parameter at fault.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Ok(AxumQuery(pairs)) =
            AxumQuery::<Vec<(String, String)>>::from_request_parts(parts, state).await
        {
            no_control_characters(&pairs, "invalid_query")?;
        }
        AxumQuery::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| {
                let text = e.body_text();
                let field = text.split('`').nth(1).map(str::to_owned).or_else(|| {
                    text.split_once(": ")
                        .and_then(|(_, r)| r.split(':').next())
                        .map(|f| f.trim().to_owned())
                        .filter(|f| !f.contains(' '))
                });
                ApiError::bad_request("invalid_query", text, field)
            })
    }
}

/// A path parameter parsed into `T`.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Ok(AxumPath(pairs)) =
            AxumPath::<Vec<(String, String)>>::from_request_parts(parts, state).await
        {
            no_control_characters(&pairs, "invalid_path")?;
        }
        AxumPath::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| {
                ApiError::bad_request("invalid_path", e.body_text(), Some("path".into()))
            })
    }
}

/// Refuses a parameter whose name or value holds a control character (`%00`, a line break): no
/// code, name or search of the product has one, and PostgreSQL cannot hold a NUL in text at all.
fn no_control_characters(pairs: &[(String, String)], code: &'static str) -> Result<(), ApiError> {
    match pairs
        .iter()
        .find(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
    {
        Some((k, _)) => Err(ApiError::bad_request(
            code,
            format!("{k} contains control characters"),
            Some(k.clone()),
        )),
        None => Ok(()),
    }
}

/// A month given as `YYYY-MM` in a query or path.
pub fn period(field: &str, s: &str) -> Result<chitra_core::Period, ApiError> {
    chitra_core::Period::parse(s).map_err(|e| ApiError::Invalid(e.renamed(field)))
}

/// How many rows a list answers at most.
pub fn page_limit(limit: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match limit {
        None => Ok(default),
        Some(l) if (1..=max).contains(&l) => Ok(l),
        Some(l) => Err(ApiError::invalid(
            "limit",
            format!("{l} is not between 1 and {max}"),
        )),
    }
}

pub fn page_offset(offset: Option<i64>) -> Result<i64, ApiError> {
    match offset {
        None => Ok(0),
        Some(o) if o >= 0 => Ok(o),
        Some(o) => Err(ApiError::invalid("offset", format!("{o} is negative"))),
    }
}
