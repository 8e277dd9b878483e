//! Recording payments: one at a time from a connected tablet, or up to 10,000 from a tablet
//! syncing after being offline. Each carries the client's id (sending it again gives the first
//! answer), how identity was checked, and where. All go through the one payment writer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chitra_core::Dong;
use chitra_core::access::Action;
use chitra_core::payment::{Identity, Location};
use chitra_store::cycle::{NewPayment, PaymentResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::{self, Json};
use crate::state::AppState;
use crate::writer::Within;

/// The largest batch body accepted (10,000 payments of about 500 bytes, with room).
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// How the agent checked who took the money.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum IdentityRequest {
    /// The beneficiary's own citizen ID card, seen: its 12-digit number.
    CitizenId { number: String },
    /// A proxy with a written authorisation certified by the commune.
    Proxy {
        full_name: String,
        /// The proxy's own citizen ID number.
        citizen_id: String,
        /// The authorisation's number.
        authorisation: String,
        /// Who certified it (the commune People's Committee).
        issuer: String,
        /// YYYY-MM-DD.
        expires: String,
    },
    /// Paid into the beneficiary's bank or e-wallet account. (Braces, not a unit variant: serde
    /// would take any other field beside the tag of a unit variant without a word.)
    BankAccount {},
    /// Paid to the social-protection facility caring for the beneficiary.
    Facility {},
}

/// One payment as a tablet sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// Chosen by the client (e.g. `tablet-7:000123`): sending it again returns the first answer.
    pub id: String,
    pub line_id: i64,
    /// Must equal the line's amount, in đồng.
    pub amount: i64,
    /// When it was paid, RFC 3339 (default: now).
    #[serde(default)]
    pub paid_at: Option<String>,
    /// point (default), home, bank or facility.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(deserialize_with = "json::object")]
    pub identity: IdentityRequest,
    /// Required for a home delivery.
    #[serde(default)]
    pub location: Option<json::Gps>,
}

impl PaymentRequest {
    /// The payment as the store records it, by `agent`.
    pub fn parse(self, agent: &str) -> Result<NewPayment, ApiError> {
        let method = self.method.as_deref().unwrap_or("point");
        let (lat, lon) = match self.location {
            Some(l) => (Some(l.latitude), Some(l.longitude)),
            None => (None, None),
        };
        let location = Location::of_method(method, lat, lon)?;
        let paid_at = match self.paid_at.as_deref() {
            Some(s) => chrono::DateTime::parse_from_rfc3339(s.trim()).map_err(|_| {
                ApiError::invalid(
                    "paid_at",
                    format!("'{s}' is not a time such as 2021-01-05T08:30:00+07:00"),
                )
            })?,
            // Vietnam time (UTC+7, no daylight saving), as agents read their clocks.
            None => chrono::Utc::now().with_timezone(&chitra_core::schedule::vietnam()),
        };
        let identity = match self.identity {
            IdentityRequest::CitizenId { number } => {
                Identity::citizen_id(&number).map_err(|e| e.renamed("identity.number"))?
            }
            IdentityRequest::Proxy {
                full_name,
                citizen_id,
                authorisation,
                issuer,
                expires,
            } => {
                let expires = chitra_core::register::parse_date("identity.expires", &expires)?;
                Identity::proxy(&full_name, &citizen_id, &authorisation, &issuer, expires)?
            }
            IdentityRequest::BankAccount {} => Identity::bank_account(None, None, None)?,
            IdentityRequest::Facility {} => Identity::Facility,
        };
        Ok(NewPayment {
            id: self.id,
            line_id: self.line_id,
            amount: Dong(self.amount),
            paid_at,
            agent: agent.to_owned(),
            identity,
            location,
        })
    }
}

/// What the caller may pay (or see of payments).
pub fn within(caller: &Caller) -> Within {
    let j = &caller.jurisdiction;
    if let Some(p) = j.point() {
        Within::Point(p)
    } else if j.is_everywhere() {
        Within::Anywhere
    } else {
        Within::Communes(std::sync::Arc::new(j.communes().clone()))
    }
}

/// The answer to one payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentAnswer {
    /// accepted, already_recorded, conflict, forbidden or refused.
    pub result: String,
    pub id: String,
    pub line_id: Option<i64>,
    /// For a conflict: the payment that paid the line first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Records one payment. 201 when recorded now; 200 with the first answer when its id was seen
/// before; 409 with the first payment's id when the line was paid by another.
#[utoipa::path(post, path = "/api/v1/payments", tag = "payments", request_body = PaymentRequest,
    responses((status = 201, body = PaymentAnswer), (status = 200, body = PaymentAnswer),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_one(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<PaymentRequest>, ApiError>,
) -> ApiResult<Response> {
    caller.require(Action::RecordPayment)?;
    let Json(req) = body?;
    let payment = req.parse(&caller.user.username)?;
    let line_id = payment.line_id;
    let answer = state
        .writer
        .record(caller.change("chi trả"), within(&caller), vec![payment])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("the writer gave no answer".into()))?;
    match answer {
        PaymentResult::Accepted { .. } => Ok((
            StatusCode::CREATED,
            Json(serde_json::to_value(&answer).map_err(internal)?),
        )
            .into_response()),
        PaymentResult::AlreadyRecorded { .. } => Ok((
            StatusCode::OK,
            Json(serde_json::to_value(&answer).map_err(internal)?),
        )
            .into_response()),
        PaymentResult::Conflict { paid_by, .. } => Err(ApiError::Conflict {
            message: format!("line {line_id} is already paid, by payment {paid_by}"),
            field: Some("line_id".into()),
            paid_by: Some(paid_by),
        }),
        PaymentResult::Forbidden { reason, .. } => Err(ApiError::forbidden(reason)),
        PaymentResult::Refused { field, reason, .. } => Err(ApiError::invalid(field, reason)),
    }
}

fn internal(e: serde_json::Error) -> ApiError {
    ApiError::Internal(e.to_string())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Up to 10,000 payments, each as `POST /api/v1/payments` takes it.
    #[schema(value_type = Vec<PaymentRequest>)]
    pub payments: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    /// One answer per payment, in order: accepted (durable before this answer), already_recorded,
    /// conflict, forbidden, or refused (nothing changed for it).
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<serde_json::Value>,
}

/// Records a batch of payments, answering item by item.
#[utoipa::path(post, path = "/api/v1/payments/batch", tag = "payments", request_body = BatchRequest,
    responses((status = 200, body = BatchAnswer), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_batch(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<BatchRequest>, ApiError>,
) -> ApiResult<Json<BatchAnswer>> {
    caller.require(Action::RecordPayment)?;
    let Json(req) = body?;
    let max = state.config.max_batch;
    if req.payments.len() > max {
        return Err(ApiError::invalid(
            "payments",
            format!(
                "{} payments: a batch carries at most {max}",
                req.payments.len()
            ),
        ));
    }
    // Items that do not parse are answered at once; the rest go to the writer together.
    let mut answers: Vec<Option<serde_json::Value>> = Vec::with_capacity(req.payments.len());
    let mut good = Vec::new();
    for item in req.payments {
        let id = item
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        match json::from_value::<PaymentRequest>(item).and_then(|r| r.parse(&caller.user.username))
        {
            Ok(p) => {
                good.push(p);
                answers.push(None);
            }
            Err(e) => {
                let body = e.body();
                answers.push(Some(serde_json::json!({
                    "result": "refused",
                    "id": id,
                    "field": body.error.field,
                    "reason": body.error.message,
                })));
            }
        }
    }
    let recorded = if good.is_empty() {
        Vec::new()
    } else {
        state
            .writer
            .record(caller.change("chi trả (đồng bộ)"), within(&caller), good)
            .await?
    };
    let mut recorded = recorded.into_iter();
    let mut results = Vec::with_capacity(answers.len());
    for a in answers {
        match a {
            Some(v) => results.push(v),
            None => {
                let r = recorded
                    .next()
                    .ok_or_else(|| ApiError::Internal("the writer answered too few".into()))?;
                results.push(serde_json::to_value(&r).map_err(internal)?);
            }
        }
    }
    Ok(Json(BatchAnswer { results }))
}
