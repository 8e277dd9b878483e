//! The chitra payment service: a JSON API under `/api/v1` (its OpenAPI document at
//! `/api/v1/openapi.json`), users and roles checked against their jurisdiction on every read and
//! write, and payments recorded through one writer that commits them in groups.
//!
//! The server translates: it parses requests into core types, checks who may do what where (the
//! rules of `chitra_core::access`), asks the store, and answers in JSON.

pub mod api;
pub mod auth;
pub mod error;
pub mod json;
pub mod notices;
pub mod openapi;
pub mod scope;
pub mod state;
pub mod web;
pub mod writer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

pub use state::{AppState, Config};

/// Request ids: a prefix fixed at start (so ids of two runs never collide) and a counter.
#[derive(Clone)]
struct Sequential {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl MakeRequestId for Sequential {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

fn request_ids() -> Sequential {
    let mut b = [0u8; 4];
    let prefix = if getrandom::fill(&mut b).is_ok() {
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    } else {
        "req".to_owned()
    };
    Sequential {
        prefix: prefix.into(),
        next: Arc::new(AtomicU64::new(1)),
    }
}

/// The whole service: the web pages, API, OpenAPI document, health, with request ids and tracing.
pub fn router(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    api::routes()
        .merge(web::routes())
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_owned();
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id)
            }),
        )
        .layer(SetRequestIdLayer::new(x_request_id, request_ids()))
}

/// Serves `state` on `listener` until `shutdown` completes.
///
/// First the payment writer reads the lines of the months being paid (connections wait in the
/// listener's queue meanwhile): the first payments do not pay for it.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    match state.store.warm_up_payments().await {
        Ok(lines) => {
            tracing::info!(lines, elapsed = ?started.elapsed(), "the payment writer has read the lines being paid")
        }
        Err(e) => {
            tracing::warn!(error = %e, "the lines being paid were not read ahead: payments read them as they come")
        }
    }
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
