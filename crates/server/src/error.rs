//! The one error of the API, mapped to an HTTP status in one place. Every refusal names what was
//! wrong and, when a field was, the field: `{"error": {"code", "message", "field"}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chitra_core::FieldError;
use chitra_store::StoreError;
use serde::Serialize;

/// What went wrong, in terms a client can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON, or not the JSON this endpoint takes.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// Well-formed, but a value is wrong.
    #[error("{0}")]
    Invalid(FieldError),
    #[error("sign in first")]
    Unauthenticated,
    /// A sign-in refused: the same answer whether the user is unknown, inactive, or the password
    /// wrong, so that it tells no one which names exist.
    #[error("wrong user name or password")]
    LoginRefused,
    #[error("{0}")]
    Forbidden(String),
    #[error("{what} {key} not found")]
    NotFound { what: &'static str, key: String },
    #[error("this path does not take {0}")]
    MethodNotAllowed(String),
    /// The thing was done before, differently (a line already paid).
    #[error("{message}")]
    Conflict {
        message: String,
        field: Option<String>,
        paid_by: Option<String>,
    },
    /// The body is larger than the endpoint takes.
    #[error("{0}")]
    TooLarge(String),
    #[error("too many attempts: try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// Ours, not the client's: logged in full, answered briefly.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(
        code: &'static str,
        message: impl Into<String>,
        field: Option<String>,
    ) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
            field,
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::Invalid(FieldError::new(field, reason))
    }

    pub fn forbidden(why: impl Into<String>) -> Self {
        ApiError::Forbidden(why.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthenticated | ApiError::LoginRefused => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::Invalid(_) => "invalid",
            ApiError::Unauthenticated | ApiError::LoginRefused => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Conflict { .. } => "conflict",
            ApiError::TooLarge(_) => "too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { field, .. } | ApiError::Conflict { field, .. } => {
                field.as_deref()
            }
            ApiError::Invalid(e) => Some(&e.field),
            ApiError::TooLarge(_) => Some("body"),
            // What was not found is named by the request's path: its parameter is the field.
            ApiError::NotFound { what, .. } => Some(match *what {
                "beneficiary" => "code",
                "user" => "username",
                "route" => "path",
                _ => "id",
            }),
            _ => None,
        }
    }

    /// The body the client reads.
    pub fn body(&self) -> ErrorBody {
        let message = match self {
            ApiError::Invalid(e) => e.reason.clone(),
            ApiError::Internal(_) => "the server could not complete the request".to_owned(),
            other => other.to_string(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                field: self.field().map(str::to_owned),
                paid_by: match self {
                    ApiError::Conflict { paid_by, .. } => paid_by.clone(),
                    _ => None,
                },
            },
        }
    }
}

/// `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// invalid_json, unknown_field, duplicate_field, missing_field, wrong_type, invalid,
    /// unauthenticated, forbidden, csrf, not_found, method_not_allowed, conflict, too_large, rate_limited,
    /// unavailable, internal.
    pub code: &'static str,
    pub message: String,
    /// The field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a line already paid: the payment that paid it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_by: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let ApiError::RateLimited { retry_after } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Invalid(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(f) => ApiError::Invalid(f),
            StoreError::NotFound { what, key } => ApiError::NotFound { what, key },
            StoreError::NotInitialised | StoreError::Missing(_) => {
                ApiError::Unavailable(e.to_string())
            }
            // The file held by another process longer than the store waits: try again later.
            busy if busy.is_busy() => ApiError::Unavailable(busy.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
