//! Who is calling: passwords (argon2id), session tokens (random, kept only as their SHA-256),
//! browser cookies with a CSRF token, bearer tokens for tablets, and limits on guessing.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use base64::Engine as _;
use chitra_core::FieldError;
use chitra_core::access::{Action, Jurisdiction};
use chitra_store::Change;
use chitra_store::access::{SessionKind, User};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::error::ApiError;
use crate::state::AppState;

/// The cookie a browser session rides in.
pub const SESSION_COOKIE: &str = "chitra_session";
/// The header a browser repeats its CSRF token in, on every request that changes something.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Hashes a new password with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, FieldError> {
    if password.chars().count() < 10 {
        return Err(FieldError::new(
            "password",
            "a password has at least 10 characters",
        ));
    }
    if password.len() > 200 {
        return Err(FieldError::new(
            "password",
            "a password has at most 200 characters",
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| FieldError::new("password", format!("no randomness for the salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| FieldError::new("password", format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| FieldError::new("password", format!("could not be hashed: {e}")))
}

/// Whether `password` is the one `hash` was made from.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that a missing user takes as long
/// to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$ZGVjb3lkZWNveWRlY295$5SvVa2VVPWTGi7Fh2d3rUO4aAtgqxCHhNhJbh+QHg1k"
}

/// 32 random bytes, URL-safe base64: a session token or a CSRF token.
pub fn new_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Internal(format!("no randomness for a token: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts attempts per key in a sliding window: logins that failed, public lookups.
#[derive(Debug)]
pub struct RateLimiter {
    window: Duration,
    max: usize,
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max: usize, window: Duration) -> RateLimiter {
        RateLimiter {
            window,
            max,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Refused while `key` has had `max` attempts in the window: how long until it may try again.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| ApiError::Internal("rate limiter".into()))?;
        if let Some(times) = seen.get_mut(key) {
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                times.pop_front();
            }
            if times.len() >= self.max
                && let Some(first) = times.front()
            {
                let wait = self.window.saturating_sub(now.duration_since(*first));
                return Err(ApiError::RateLimited {
                    retry_after: wait.as_secs().max(1),
                });
            }
        }
        Ok(())
    }

    /// Counts one attempt.
    pub fn record(&self, key: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            // Keys of the past are dropped now and then, so the map stays small.
            if seen.len() > 100_000 {
                let window = self.window;
                seen.retain(|_, t| t.back().is_some_and(|b| b.elapsed() < window));
            }
            seen.entry(key.to_owned())
                .or_default()
                .push_back(Instant::now());
        }
    }

    /// Checks and counts in one step.
    pub fn hit(&self, key: &str) -> Result<(), ApiError> {
        self.check(key)?;
        self.record(key);
        Ok(())
    }

    pub fn forget(&self, key: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.remove(key);
        }
    }
}

/// An authenticated caller: the user, where they may act, and how they came in.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    pub jurisdiction: Arc<Jurisdiction>,
    pub kind: SessionKind,
    pub token_hash: String,
}

impl Caller {
    /// Refuses with 403 unless the caller's role may do `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.user.role.may(action) {
            Ok(())
        } else {
            let role = self.user.role.code();
            let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            Err(ApiError::forbidden(format!(
                "{article} {role} may not {}",
                action_words(action)
            )))
        }
    }

    /// Who and why, for the journal.
    pub fn change(&self, why: &str) -> Change {
        Change::now(self.user.username.clone(), why)
    }

    /// Whether the whole of Vietnam is the caller's.
    pub fn everywhere(&self) -> bool {
        self.jurisdiction.is_everywhere()
    }
}

fn action_words(a: Action) -> &'static str {
    match a {
        Action::ReadRegister => "read the register",
        Action::EditRegister => "change the register",
        Action::ReadPayroll => "read payrolls",
        Action::GeneratePayroll => "generate payrolls",
        Action::ApprovePayroll => "approve payrolls",
        Action::FundPayroll => "advance funds",
        Action::OpenPayroll => "open payment",
        Action::ClosePayroll => "close payment periods",
        Action::RecordPayment => "record payments",
        Action::ReadPoints => "read payment points",
        Action::ManagePoints => "manage payment points and schedules",
        Action::ReadContracts => "read contracts",
        Action::ManageContracts => "manage contracts",
        Action::ReadLedger => "read the ledger",
        Action::ReadReports => "read reports",
        Action::ReadAnomalies => "read anomalies",
        Action::ReadAudit => "read the audit journal",
        Action::SendNotices => "send notices",
        Action::ManageUsers => "manage users",
    }
}

/// The token a request carries: `Authorization: Bearer …`, else the session cookie.
pub fn presented_token(parts: &Parts) -> Option<(String, bool)> {
    if let Some(v) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            return Some((t.trim().to_owned(), false));
        }
    }
    cookie(parts, SESSION_COOKIE).map(|t| (t, true))
}

/// A cookie's value.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, by_cookie) = presented_token(parts).ok_or(ApiError::Unauthenticated)?;
        let hash = token_hash(&token);
        let session = state
            .session(&hash)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if by_cookie && changes_something(&parts.method) {
            // A page of another site can make the browser send the cookie, but cannot read the
            // token it must repeat.
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if sent.is_empty() || sent != session.csrf {
                return Err(ApiError::bad_request(
                    "csrf",
                    format!(
                        "a change made with the session cookie must repeat its CSRF token in the {CSRF_HEADER} header"
                    ),
                    None,
                ));
            }
        }
        let jurisdiction = state.jurisdiction(&session.user).await?;
        Ok(Caller {
            user: session.user,
            jurisdiction,
            kind: session.kind,
            token_hash: hash,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let h = hash_password("mật khẩu dài 123").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "mật khẩu dài 123"));
        assert!(!verify_password(&h, "mật khẩu dài 124"));
        assert!(!verify_password("not a hash", "x"));
        assert!(!verify_password(decoy_hash(), "mật khẩu dài 123"));
        assert_eq!(hash_password("short").unwrap_err().field, "password");
    }

    #[test]
    fn tokens_are_random_and_kept_as_hashes() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn the_limiter_refuses_after_the_maximum_and_says_when() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        l.hit("a").unwrap();
        l.hit("a").unwrap();
        let e = l.hit("a").unwrap_err();
        assert!(matches!(e, ApiError::RateLimited { retry_after } if retry_after <= 60));
        l.hit("b").unwrap();
        l.forget("a");
        l.hit("a").unwrap();
    }
}
