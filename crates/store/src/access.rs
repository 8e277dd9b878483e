//! Users, roles and scopes, and sessions, as the store keeps them. Passwords arrive hashed (the
//! server hashes them with argon2id); session tokens arrive as their SHA-256, so that a copy of the
//! database lets nobody in.

use chitra_core::FieldError;
use chitra_core::access::{Role, Scope};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Change, Result};

/// A user to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    /// argon2id, PHC string format.
    pub password_hash: String,
    pub role: Role,
    pub scope: Scope,
}

impl NewUser {
    /// A username is 3 to 50 characters: lower-case letters, digits, `.`, `_` and `-`.
    pub fn check(&self) -> std::result::Result<(), FieldError> {
        check_username(&self.username)?;
        chitra_core::text::required("display_name", &self.display_name, 100)?;
        if !self.password_hash.starts_with("$argon2id$") {
            return Err(FieldError::new(
                "password",
                "the password must be hashed with argon2id",
            ));
        }
        self.role.fits(&self.scope)
    }
}

pub fn check_username(username: &str) -> std::result::Result<(), FieldError> {
    let ok = (3..=50).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "username",
            format!(
                "'{username}' is not a username: 3 to 50 lower-case letters, digits, '.', '_' or '-'"
            ),
        ))
    }
}

/// A user as others see them (never with the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    pub active: bool,
    pub created_at: String,
}

/// A user with what a login is checked against.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// How a session is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// A browser's cookie (HttpOnly, SameSite), with a CSRF token for forms.
    Browser,
    /// A bearer token for a tablet or an integration.
    Bearer,
}

impl SessionKind {
    pub fn code(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Bearer => "bearer",
        }
    }
}

/// A session to start.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    pub user_id: i64,
    pub kind: SessionKind,
    /// What it is for ("trình duyệt", "máy tính bảng điểm 12").
    pub label: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// A live session and its user.
#[derive(Clone, Debug)]
pub struct Session {
    pub token_hash: String,
    pub user: User,
    pub kind: SessionKind,
    pub label: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// Users and sessions.
#[async_trait::async_trait]
pub trait Access: Send + Sync {
    /// Creates a user. The scope must name a unit or payment point that exists.
    async fn add_user(&self, change: &Change, user: &NewUser) -> Result<User>;
    async fn users(&self) -> Result<Vec<User>>;
    /// A user with their password hash, for a login.
    async fn credentials(&self, username: &str) -> Result<Option<Credentials>>;
    /// Disables or enables a user; disabling ends their sessions.
    async fn set_user_active(&self, change: &Change, username: &str, active: bool) -> Result<User>;
    async fn set_password(
        &self,
        change: &Change,
        username: &str,
        password_hash: &str,
    ) -> Result<()>;

    async fn start_session(&self, change: &Change, session: &NewSession) -> Result<()>;
    /// The session of a token hash, if it is live at `now` and its user is active.
    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
    async fn end_session(&self, change: &Change, token_hash: &str) -> Result<()>;
}
