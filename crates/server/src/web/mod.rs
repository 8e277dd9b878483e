//! The web interface: server-rendered pages (askama templates, htmx vendored in `static/`), in
//! Vietnamese by default with a switch to English. Pages call the same store and the same checks
//! of who may do what where as the JSON API (they call its handlers), and everything they load is
//! served by this binary, so that they work on a closed network.

pub mod agent;
pub mod assets;
pub mod charts;
pub mod downloads;
pub mod i18n;
pub mod month;
pub mod pages;
pub mod public;
pub mod register;
pub mod session;
pub mod views;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chitra_core::access::{Action, Role};

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::state::AppState;

pub use i18n::Lang;
pub use views::{Chrome, Field, Form, Section, Table};

/// The pages, merged into the service's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/static/{name}", get(assets::serve))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang/{code}", get(session::switch_language))
        .route("/lookup", get(public::lookup))
        .route("/beneficiaries", get(register::list))
        .route(
            "/beneficiaries/new",
            get(register::new_page).post(register::add),
        )
        .route("/beneficiaries/{code}", get(register::file))
        .route("/beneficiaries/{code}/decisions", post(register::decide))
        .route("/payrolls", get(month::list).post(month::generate))
        .route("/payrolls/{id}", get(month::show))
        .route("/payrolls/{id}/{step}", post(month::step))
        .route("/settlement", get(month::settlement))
        .route("/documents/payroll/{point}", get(downloads::payroll_list))
        .route("/documents/notice/{point}", get(downloads::point_notice))
        .route("/documents/settlement", get(downloads::settlement_report))
        .route("/documents/payout", get(downloads::payout_file))
        .route("/agent", get(agent::today))
        .route("/agent/lines/{id}", get(agent::line).post(agent::pay))
        .route("/points", get(pages::points))
        .route("/points/{id}", get(pages::point).post(pages::set_schedule))
        .route(
            "/contracts",
            get(pages::contracts).post(pages::add_contract),
        )
        .route("/reports", get(pages::reports))
        .route("/anomalies", get(pages::anomalies))
        .route("/audit", get(pages::audit))
        .layer(axum::middleware::from_fn(no_control_characters))
}

/// The most a form's body may hold (axum's default limit for bodies).
const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// Refuses, with a page, an address (path or query) or a form whose fields hold a control
/// character once decoded (`%00`, a line break): no page takes one — the forms have no field of
/// several lines — and PostgreSQL cannot hold a NUL in text at all.
async fn no_control_characters(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let refuse = |parts: &Parts, field: &str, what: &str| {
        let e = ApiError::bad_request(
            "invalid_query",
            format!("{what} contains control characters"),
            Some(field.to_owned()),
        );
        WebError::bare(e, Lang::of(parts)).into_response()
    };
    let uri = request.uri();
    if decodes_to_control(uri.path()) {
        let (parts, _) = request.into_parts();
        return refuse(&parts, "address", "the address");
    }
    if let Some(field) = uri.query().and_then(field_with_control) {
        let (parts, _) = request.into_parts();
        return refuse(&parts, &field, &format!("the address's '{field}'"));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        let e = ApiError::TooLarge("the form is too large".into());
        return WebError::bare(e, Lang::of(&parts)).into_response();
    };
    if let Some(field) = field_with_control(&String::from_utf8_lossy(&bytes)) {
        return refuse(&parts, &field, &format!("the field '{field}'"));
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// The first field of an urlencoded query or form (`name=value&…`) whose name or value decodes to
/// a control character, named as the page's form names it; `form` when the name itself is bent.
fn field_with_control(pairs: &str) -> Option<String> {
    pairs
        .split('&')
        .find(|pair| decodes_to_control(pair))
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            let decoded = percent_decoded(&name.replace('+', " "));
            if decoded.is_empty() || decoded.chars().any(char::is_control) {
                "form".to_owned()
            } else {
                decoded
            }
        })
}

/// Whether percent-decoding `s` gives a control character (C0, DEL or C1).
fn decodes_to_control(s: &str) -> bool {
    percent_decoded(s).chars().any(char::is_control)
}

/// `s` percent-decoded, bytes that are not UTF-8 replaced; a `%` not followed by two hex digits
/// kept as it is.
fn percent_decoded(s: &str) -> String {
    let raw = s.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            raw[i],
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                bytes.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A signed-in user of the pages: the API's caller, the CSRF token forms repeat, the language.
pub struct Web {
    pub caller: Caller,
    pub csrf: String,
    pub lang: Lang,
    pub path: String,
    /// The query string, without the `?`.
    pub query: String,
}

impl Web {
    /// The frame of a page: language, the user, the menu.
    pub fn chrome(&self, title: impl Into<String>) -> Chrome {
        Chrome::new(
            self.lang,
            title.into(),
            Some(&self.caller),
            self.csrf.clone(),
            self.path.clone(),
        )
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        self.lang.t(key)
    }

    /// Refuses with a 403 page unless the role may do `action`.
    pub fn require(&self, action: Action) -> Result<(), WebError> {
        self.caller.require(action).map_err(|e| self.fail(e))
    }

    /// An API error as a page in this user's language.
    pub fn fail(&self, e: ApiError) -> WebError {
        WebError {
            error: e,
            lang: self.lang,
            caller: Some(Box::new(self.caller.clone())),
            csrf: self.csrf.clone(),
        }
    }

    /// Whether a POSTed form repeated this session's CSRF token.
    pub fn check_csrf(&self, sent: Option<&String>) -> Result<(), WebError> {
        match sent {
            Some(s) if !s.is_empty() && *s == self.csrf => Ok(()),
            _ => Err(self.fail(ApiError::bad_request(
                "csrf",
                "the form's security token is missing or out of date: reload the page and try again",
                Some("csrf".into()),
            ))),
        }
    }

    pub fn role(&self) -> Role {
        self.caller.user.role
    }

    /// This page's address with `csv=TABLE` added: the same rows as CSV.
    pub fn csv_href(&self, table: &str) -> String {
        let kept: Vec<&str> = self
            .query
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("csv="))
            .collect();
        let mut q = kept.join("&");
        if !q.is_empty() {
            q.push('&');
        }
        format!("{}?{q}csv={table}", self.path)
    }
}

/// Where the path asks to be sent after signing in.
fn login_redirect(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    Redirect::to(&format!("/login?next={}", views::url_encode(&next))).into_response()
}

impl FromRequestParts<AppState> for Web {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::of(parts);
        let Some(token) = auth::cookie(parts, auth::SESSION_COOKIE).filter(|t| !t.is_empty())
        else {
            return Err(login_redirect(parts));
        };
        let hash = auth::token_hash(&token);
        let session = match state.session(&hash).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(login_redirect(parts)),
            Err(e) => return Err(WebError::bare(e, lang).into_response()),
        };
        let jurisdiction = match state.jurisdiction(&session.user).await {
            Ok(j) => j,
            Err(e) => return Err(WebError::bare(e, lang).into_response()),
        };
        Ok(Web {
            caller: Caller {
                user: session.user,
                jurisdiction,
                kind: session.kind,
                token_hash: hash,
            },
            csrf: session.csrf,
            lang,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
        })
    }
}

/// A refusal or failure, shown as a page.
pub struct WebError {
    pub error: ApiError,
    pub lang: Lang,
    pub caller: Option<Box<Caller>>,
    pub csrf: String,
}

impl WebError {
    pub fn bare(error: ApiError, lang: Lang) -> WebError {
        WebError {
            error,
            lang,
            caller: None,
            csrf: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    status: u16,
    message: String,
    field: Option<String>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        if status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/login").into_response();
        }
        if status.is_server_error() {
            tracing::error!(error = %self.error, "page failed");
        }
        let body = self.error.body();
        let title = match status {
            StatusCode::FORBIDDEN => self.lang.t("forbidden"),
            StatusCode::NOT_FOUND => self.lang.t("not_found"),
            StatusCode::CONFLICT => self.lang.t("conflict"),
            s if s.is_client_error() => self.lang.t("bad_input"),
            _ => self.lang.t("server_error"),
        };
        let page = ErrorPage {
            c: Chrome::new(
                self.lang,
                title.to_owned(),
                self.caller.as_deref(),
                self.csrf,
                String::new(),
            ),
            status: status.as_u16(),
            message: body.error.message,
            field: body.error.field,
        };
        (status, render(&page)).into_response()
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        WebError::bare(e, Lang::Vi)
    }
}

/// Pages load scripts, styles, images and forms from this server only (htmx adds one inline
/// style for its request indicators).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// A template as an HTML response (a template that fails to render is a 500).
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => {
            let mut r = Html(html).into_response();
            let h = r.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            // The browser itself refuses anything from elsewhere, and framing by other sites.
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// A page made of sections.
#[derive(Template)]
#[template(path = "page.html")]
pub struct Page {
    pub c: Chrome,
    pub sections: Vec<Section>,
}

impl Page {
    pub fn new(c: Chrome) -> Page {
        Page {
            c,
            sections: Vec::new(),
        }
    }

    pub fn push(&mut self, s: Section) -> &mut Self {
        self.sections.push(s);
        self
    }

    pub fn respond(&self, status: StatusCode) -> Response {
        (status, render(self)).into_response()
    }

    pub fn ok(&self) -> Response {
        render(self)
    }

    /// The page, or one of its tables as CSV when the query asks for it (`csv=SECTION`).
    pub fn finish(&self, csv: Option<&str>) -> Response {
        if let Some(id) = csv
            && let Some(t) = self
                .sections
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.table.as_ref())
        {
            let name = format!(
                "chitra-{}.csv",
                id.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
            );
            return (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                t.to_csv(),
            )
                .into_response();
        }
        render(self)
    }
}

pub type WebResult = Result<Response, WebError>;

#[cfg(test)]
mod address_tests {
    use super::{decodes_to_control, field_with_control};

    #[test]
    fn the_field_holding_a_control_character_is_named() {
        assert_eq!(
            field_with_control("username=a%00b&password=x").as_deref(),
            Some("username")
        );
        assert_eq!(
            field_with_control("search=ok&code=%0A1").as_deref(),
            Some("code")
        );
        assert_eq!(field_with_control("a%00=1").as_deref(), Some("form"));
        assert_eq!(
            field_with_control("ghi+ch%C3%BA=%7f").as_deref(),
            Some("ghi chú")
        );
        assert_eq!(field_with_control("search=Nguy%E1%BB%85n&page=2"), None);
    }

    #[test]
    fn control_characters_are_found_once_decoded() {
        for plain in [
            "/beneficiaries",
            "search=Nguy%E1%BB%85n",
            "q=100%25",
            "a=%2",
            "a=%zz",
        ] {
            assert!(!decodes_to_control(plain), "{plain}");
        }
        for bent in ["search=%00", "a=%0A", "a=%7f", "/x/%C2%85", "a=\u{1}"] {
            assert!(decodes_to_control(bent), "{bent}");
        }
    }
}
