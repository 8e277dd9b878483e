//! Users: an administrator creates them within their own jurisdiction.

use axum::extract::State;
use axum::http::StatusCode;
use chitra_core::access::{Action, Role, Scope};
use chitra_store::access::{NewUser, User};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Json;
use crate::state::AppState;

/// Whether a scope lies inside the caller's jurisdiction.
async fn scope_is_ours(state: &AppState, caller: &Caller, scope: &Scope) -> ApiResult<bool> {
    let j = &caller.jurisdiction;
    if j.is_everywhere() {
        return Ok(true);
    }
    Ok(match scope {
        Scope::Country => false,
        Scope::Point(id) => state
            .store
            .payment_points()
            .await?
            .iter()
            .any(|p| p.id == *id && j.covers_point(p.id, p.commune.as_str())),
        other => match other.unit() {
            Some((level, code)) => j.covers_unit(level, code),
            None => false,
        },
    })
}

/// The users within the caller's jurisdiction.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<User>>> {
    caller.require(Action::ManageUsers)?;
    let mut ours = Vec::new();
    for u in state.store.users().await? {
        if scope_is_ours(&state, &caller, &u.scope).await? {
            ours.push(u);
        }
    }
    Ok(Json(ours))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// 3 to 50 lower-case letters, digits, `.`, `_`, `-`.
    pub username: String,
    pub display_name: String,
    /// At least 10 characters.
    pub password: String,
    /// admin, province_officer, local_officer, post_manager, agent or inspector.
    pub role: String,
    /// country, province:CODE, district:CODE, commune:CODE or point:ID.
    pub scope: String,
}

/// Creates a user within the caller's jurisdiction.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewUserRequest>, ApiError>,
) -> ApiResult<(StatusCode, Json<User>)> {
    caller.require(Action::ManageUsers)?;
    let Json(req) = body?;
    let role = Role::parse(&req.role)?;
    let scope = Scope::parse(&req.scope)?;
    chitra_store::access::check_username(&req.username)?;
    if !scope_is_ours(&state, &caller, &scope).await? {
        return Err(ApiError::forbidden(format!(
            "the scope {scope} is outside your jurisdiction"
        )));
    }
    let password = req.password;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing: {e}")))??;
    let user = state
        .store
        .add_user(
            &caller.change("tạo người dùng"),
            &NewUser {
                username: req.username,
                display_name: req.display_name,
                password_hash: hash,
                role,
                scope,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}
