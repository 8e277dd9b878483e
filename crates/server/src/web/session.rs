//! Signing in and out from the browser, and the language switch.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Form as PostForm;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::api::session::{check_login, start_session};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::i18n::LANG_COOKIE;
use crate::web::views::{Field, Form, Section, local_path};
use crate::web::{Chrome, Lang, Page, Web, WebResult};

/// The language of a request from its headers (for handlers without the signed-in user).
pub fn lang_of(headers: &HeaderMap, query: Option<&str>) -> Lang {
    let mut parts = axum::http::Request::new(()).into_parts().0;
    parts.headers = headers.clone();
    if let Some(q) = query
        && let Ok(uri) = format!("/?{q}").parse()
    {
        parts.uri = uri;
    }
    Lang::of(&parts)
}

fn login_form(lang: Lang, next: &str) -> Form {
    Form::post("login", "/login", lang.t("login"), "")
        .field(Field::new("next", "", "hidden").value(next))
        .field(
            Field::new("username", lang.t("username"), "text")
                .required()
                .autofocus(),
        )
        .field(Field::new("password", lang.t("password"), "password").required())
}

fn login_page_with(lang: Lang, form: Form, status: StatusCode) -> Response {
    let mut form = form;
    form.csrf = None;
    let mut page = Page::new(Chrome::new(
        lang,
        lang.t("login_title").to_owned(),
        None,
        String::new(),
        "/login".into(),
    ));
    page.push(
        Section {
            id: "login-card".into(),
            ..Section::default()
        }
        .form(form)
        .link("/lookup", lang.t("nav_lookup")),
    );
    page.respond(status)
}

/// `GET /login`.
pub async fn login_page(headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let lang = q
        .get("lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or_else(|| lang_of(&headers, None));
    let next = local_path(q.get("next").map(String::as_str));
    login_page_with(lang, login_form(lang, &next), StatusCode::OK)
}

/// `POST /login`: the same check as the API's, the same session cookie.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    PostForm(typed): PostForm<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers, None);
    let next = local_path(typed.get("next").map(String::as_str));
    let username = typed.get("username").map(|s| s.trim()).unwrap_or("");
    let password = typed.get("password").map(String::as_str).unwrap_or("");
    let refuse = |field: Option<&str>, reason: String, status: StatusCode| {
        login_page_with(
            lang,
            login_form(lang, &next).refused(field, reason, &typed),
            status,
        )
    };
    if username.is_empty() {
        return refuse(
            Some("username"),
            format!("{}: {}", lang.t("username"), required(lang)),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if password.is_empty() {
        return refuse(
            Some("password"),
            format!("{}: {}", lang.t("password"), required(lang)),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let user = match check_login(&state, &address, username, password).await {
        Ok(u) => u,
        Err(ApiError::LoginRefused) => {
            return refuse(
                None,
                lang.t("login_failed").to_owned(),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(e) => {
            let status = e.status();
            return refuse(None, e.body().error.message, status);
        }
    };
    match start_session(&state, &user, false, Some("trình duyệt (web)".into())).await {
        Ok((_, Some(cookie))) => {
            let target = if next == "/" && user.role == chitra_core::access::Role::Agent {
                "/agent".to_owned()
            } else {
                next
            };
            let mut r = Redirect::to(&target).into_response();
            r.headers_mut().insert(header::SET_COOKIE, cookie);
            r
        }
        Ok((_, None)) => refuse(None, "no session".into(), StatusCode::INTERNAL_SERVER_ERROR),
        Err(e) => refuse(None, e.body().error.message, e.status()),
    }
}

fn required(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "bắt buộc phải nhập",
        Lang::En => "required",
    }
}

/// `POST /logout`: ends the session, clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    web: Web,
    PostForm(typed): PostForm<HashMap<String, String>>,
) -> WebResult {
    web.check_csrf(typed.get("csrf"))?;
    state
        .store
        .end_session(&web.caller.change("đăng xuất"), &web.caller.token_hash)
        .await
        .map_err(|e| web.fail(e.into()))?;
    state.forget_session(Some(&web.caller.token_hash));
    let mut r = Redirect::to("/login").into_response();
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}",
        auth::SESSION_COOKIE
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// `GET /lang/{vi|en}?back=/path`: remembers the language and goes back.
pub async fn switch_language(
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Vi);
    let back = local_path(q.get("back").map(String::as_str));
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}
