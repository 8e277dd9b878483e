//! Signing in and out, bearer tokens, and the health check.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chitra_store::access::{NewSession, SessionKind, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{self, Caller, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Json;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    /// `ok`, or `unavailable` with the reason.
    pub status: String,
    pub backend: &'static str,
    pub schema_version: i64,
    pub initialised: bool,
    pub journal_entries: i64,
}

/// Whether the service and its database answer.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, body = HealthBody), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<HealthBody>> {
    let h = state
        .store
        .health()
        .await
        .map_err(|e| ApiError::Unavailable(format!("the database does not answer: {e}")))?;
    if !h.initialised {
        return Err(ApiError::Unavailable(
            "the database is not initialised: run `chitra init`".into(),
        ));
    }
    Ok(Json(HealthBody {
        status: "ok".into(),
        backend: h.backend,
        schema_version: h.schema_version,
        initialised: h.initialised,
        journal_entries: h.journal_entries,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Ask for a bearer token (a tablet, an integration) instead of a browser cookie.
    #[serde(default)]
    pub bearer: bool,
    /// What the session is for ("máy tính bảng điểm 12").
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginAnswer {
    #[schema(value_type = Object)]
    pub user: User,
    /// Repeat it in the `x-csrf-token` header of every change made with the cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// The bearer token, when one was asked for: shown once, kept only as its hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub expires_at: String,
}

fn session_cookie(state: &AppState, token: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::Internal(format!("cookie: {e}")))
}

/// Starts a session for `user`: a cookie and its CSRF token, or a bearer token.
pub async fn start_session(
    state: &AppState,
    user: &User,
    bearer: bool,
    label: Option<String>,
) -> ApiResult<(LoginAnswer, Option<HeaderValue>)> {
    let token = auth::new_token()?;
    let csrf = auth::new_token()?;
    let (kind, lasts) = if bearer {
        (SessionKind::Bearer, state.config.bearer_session)
    } else {
        (SessionKind::Browser, state.config.browser_session)
    };
    let expires_at = chrono::Utc::now() + lasts;
    let label = label.filter(|l| !l.trim().is_empty()).unwrap_or_else(|| {
        if bearer {
            "thiết bị"
        } else {
            "trình duyệt"
        }
        .to_owned()
    });
    state
        .store
        .start_session(
            &chitra_store::Change::now(user.username.clone(), "đăng nhập"),
            &NewSession {
                token_hash: auth::token_hash(&token),
                user_id: user.id,
                kind,
                label,
                csrf: csrf.clone(),
                expires_at,
            },
        )
        .await?;
    let expires_text = expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if bearer {
        Ok((
            LoginAnswer {
                user: user.clone(),
                csrf_token: None,
                token: Some(token),
                expires_at: expires_text,
            },
            None,
        ))
    } else {
        let cookie = session_cookie(state, &token, lasts.num_seconds())?;
        Ok((
            LoginAnswer {
                user: user.clone(),
                csrf_token: Some(csrf),
                token: None,
                expires_at: expires_text,
            },
            Some(cookie),
        ))
    }
}

/// Checks a user name and password, counting failures against both the name and the address.
pub async fn check_login(
    state: &AppState,
    address: &SocketAddr,
    username: &str,
    password: &str,
) -> ApiResult<User> {
    let name = username.trim().to_lowercase();
    let by_user = format!("user:{name}");
    let by_address = format!("addr:{}", address.ip());
    state.login_by_user.check(&by_user)?;
    state.login_by_address.check(&by_address)?;
    let found = state.store.credentials(&name).await?;
    let hash = found
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| auth::decoy_hash().to_owned());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    match found {
        Some(c) if matches && c.user.active => {
            state.login_by_user.forget(&by_user);
            Ok(c.user)
        }
        _ => {
            state.login_by_user.record(&by_user);
            state.login_by_address.record(&by_address);
            tracing::warn!(username = %name, address = %address.ip(), "login refused");
            Err(ApiError::LoginRefused)
        }
    }
}

/// Signs in with a user name and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginAnswer), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let user = check_login(&state, &address, &req.username, &req.password).await?;
    let (answer, cookie) = start_session(&state, &user, req.bearer, req.label).await?;
    let mut response = Json(answer).into_response();
    if let Some(c) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// Ends the caller's session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "session",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    state
        .store
        .end_session(&caller.change("đăng xuất"), &caller.token_hash)
        .await?;
    state.forget_session(Some(&caller.token_hash));
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0)?);
    Ok(response)
}

/// Who the caller is, and where they may act.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "session",
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> Json<User> {
    Json(caller.user)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for ("máy tính bảng điểm 12").
    pub label: String,
}

/// A bearer token for the caller, for a tablet or an integration: shown once.
#[utoipa::path(post, path = "/api/v1/auth/tokens", tag = "session", request_body = TokenRequest,
    responses((status = 201, body = LoginAnswer), (status = 401, body = ErrorBody)))]
pub async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<TokenRequest>,
) -> ApiResult<(StatusCode, Json<LoginAnswer>)> {
    chitra_core::text::required("label", &req.label, 100)?;
    let (answer, _) = start_session(&state, &caller.user, true, Some(req.label)).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}
