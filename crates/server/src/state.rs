//! What every request shares: the store, the payment writer, and short-lived caches of sessions
//! and jurisdictions (a tablet's requests should not each read its session from disk).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chitra_core::access::{Jurisdiction, Scope};
use chitra_store::Store;
use chitra_store::access::{Session, User};

use crate::auth::RateLimiter;
use crate::error::ApiError;
use crate::writer::PaymentWriter;

/// How long a session read from the store is trusted before it is read again. Logging out and
/// disabling a user clear it at once on this server.
const SESSION_CACHE: Duration = Duration::from_secs(10);
/// How long a large report waits for its turn before the caller is told to come back.
const REPORT_WAIT: Duration = Duration::from_secs(30);

/// Settings of a running server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// How long a browser session lasts.
    pub browser_session: chrono::Duration,
    /// How long a tablet's bearer token lasts.
    pub bearer_session: chrono::Duration,
    /// Failed logins allowed per user name (and 4× that per address) in `login_window`.
    pub login_failures: usize,
    pub login_window: Duration,
    /// Public lookups allowed per address in `lookup_window`.
    pub lookups: usize,
    pub lookup_window: Duration,
    /// The most payments one batch request may carry.
    pub max_batch: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            browser_session: chrono::Duration::hours(12),
            bearer_session: chrono::Duration::days(30),
            login_failures: 5,
            login_window: Duration::from_secs(15 * 60),
            lookups: 20,
            lookup_window: Duration::from_secs(60),
            max_batch: 10_000,
        }
    }
}

/// The state handlers share (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub writer: PaymentWriter,
    pub login_by_user: RateLimiter,
    pub login_by_address: RateLimiter,
    pub lookups: RateLimiter,
    /// Reports that read a whole month or years of them (the summary, the settlement, the
    /// three-way match) run one at a time: several at once would hold every connection of the
    /// pool and starve the API's short reads.
    reports: tokio::sync::Semaphore,
    sessions: Mutex<HashMap<String, (Session, Instant)>>,
    jurisdictions: Mutex<HashMap<i64, Arc<Jurisdiction>>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: Config) -> AppState {
        let writer = PaymentWriter::start(store.clone());
        AppState(Arc::new(Inner {
            login_by_user: RateLimiter::new(config.login_failures, config.login_window),
            login_by_address: RateLimiter::new(config.login_failures * 4, config.login_window),
            lookups: RateLimiter::new(config.lookups, config.lookup_window),
            reports: tokio::sync::Semaphore::new(1),
            store,
            config,
            writer,
            sessions: Mutex::new(HashMap::new()),
            jurisdictions: Mutex::new(HashMap::new()),
        }))
    }

    /// A turn to run a large report, waited for up to `REPORT_WAIT`: 503 past it.
    pub async fn report_turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(REPORT_WAIT, self.reports.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(ApiError::Internal("the report queue is closed".into())),
            Err(_) => Err(ApiError::Unavailable(format!(
                "other reports are being prepared: try again in a minute (waited {} s)",
                REPORT_WAIT.as_secs()
            ))),
        }
    }

    /// The live session of a token hash.
    pub async fn session(&self, hash: &str) -> Result<Option<Session>, ApiError> {
        let now = chrono::Utc::now();
        if let Ok(cache) = self.sessions.lock()
            && let Some((s, at)) = cache.get(hash)
            && at.elapsed() < SESSION_CACHE
            && s.expires_at > now
        {
            return Ok(Some(s.clone()));
        }
        let found = self.store.session(hash, now).await?;
        if let Ok(mut cache) = self.sessions.lock() {
            if cache.len() > 50_000 {
                cache.retain(|_, (_, at)| at.elapsed() < SESSION_CACHE);
            }
            match &found {
                Some(s) => {
                    cache.insert(hash.to_owned(), (s.clone(), Instant::now()));
                }
                None => {
                    cache.remove(hash);
                }
            }
        }
        Ok(found)
    }

    /// Forgets cached sessions (one, or all after a user was disabled).
    pub fn forget_session(&self, hash: Option<&str>) {
        if let Ok(mut cache) = self.sessions.lock() {
            match hash {
                Some(h) => {
                    cache.remove(h);
                }
                None => cache.clear(),
            }
        }
    }

    /// Where a user may act, resolved against the units once per user.
    pub async fn jurisdiction(&self, user: &User) -> Result<Arc<Jurisdiction>, ApiError> {
        if let Ok(cache) = self.jurisdictions.lock()
            && let Some(j) = cache.get(&user.id)
        {
            return Ok(j.clone());
        }
        let tree = self.store.unit_tree().await?;
        let point_commune = match user.scope {
            Scope::Point(id) => self
                .store
                .payment_points()
                .await?
                .into_iter()
                .find(|p| p.id == id)
                .map(|p| p.commune.as_str().to_owned()),
            _ => None,
        };
        let j = Arc::new(Jurisdiction::resolve(
            &user.scope,
            &tree,
            point_commune.as_deref(),
        )?);
        if let Ok(mut cache) = self.jurisdictions.lock() {
            cache.insert(user.id, j.clone());
        }
        Ok(j)
    }
}
