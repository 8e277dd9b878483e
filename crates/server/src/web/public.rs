//! The public lookup: a beneficiary's own schedule and payments, by the code on their notice and
//! their year of birth (or the last 4 digits of their citizen ID). No sign-in.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::api::outreach::{self, LookupParams};
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::register::status_name;
use crate::web::session::lang_of;
use crate::web::views::{Cell, Field, Form, Section, Table, money};
use crate::web::{Chrome, Lang, Page};

/// The day the lookup is made as of: today, or the last day of the latest payroll when the
/// register ends earlier (a demo, an archive), so that its months can be looked up.
async fn as_of(state: &AppState) -> chrono::NaiveDate {
    let today = chitra_store::Change::now("", "").date();
    match state.store.runs(None).await {
        Ok(runs) => runs
            .iter()
            .map(|r| r.period.last_day())
            .max()
            .map_or(today, |last| last.min(today)),
        Err(_) => today,
    }
}

fn lookup_form(lang: Lang) -> Form {
    Form::get("lookup-form", "/lookup", lang.t("lookup_button"))
        .field(
            Field::new("code", lang.t("code"), "text")
                .required()
                .autofocus(),
        )
        .field(Field::new("birth_year", lang.t("birth_year"), "text"))
        .field(Field::new("citizen_last4", lang.t("citizen_last4"), "text"))
}

/// `GET /lookup`.
pub async fn lookup(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = q
        .get("lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or_else(|| lang_of(&headers, None));
    let mut page = Page::new(Chrome::new(
        lang,
        lang.t("lookup_title").to_owned(),
        None,
        String::new(),
        "/lookup".into(),
    ));
    let given = |k: &str| {
        q.get(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let intro = Section::titled("lookup", lang.t("lookup_title")).para(lang.t("lookup_intro"));
    let Some(code) = given("code") else {
        if q.contains_key("code") {
            let f = lookup_form(lang).refused(
                Some("code"),
                format!(
                    "{}: {}",
                    lang.t("code"),
                    match lang {
                        Lang::Vi => "bắt buộc phải nhập",
                        Lang::En => "required",
                    }
                ),
                &q,
            );
            page.push(intro.form(f));
            return page.respond(StatusCode::UNPROCESSABLE_ENTITY);
        }
        page.push(intro.form(lookup_form(lang)));
        return page.ok();
    };
    let birth_year = match given("birth_year").map(|y| y.parse::<i32>()) {
        None => None,
        Some(Ok(y)) => Some(y),
        Some(Err(_)) => {
            let f = lookup_form(lang).refused(
                Some("birth_year"),
                format!(
                    "'{}' — {}",
                    q.get("birth_year").cloned().unwrap_or_default(),
                    match lang {
                        Lang::Vi => "năm sinh gồm 4 chữ số, ví dụ 1950",
                        Lang::En => "a year of birth has 4 digits, such as 1950",
                    }
                ),
                &q,
            );
            page.push(intro.form(f));
            return page.respond(StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let today = as_of(&state).await;
    let answer = outreach::public_lookup(
        &state,
        &address,
        LookupParams {
            code,
            birth_year,
            citizen_last4: given("citizen_last4"),
        },
        today,
    )
    .await;
    match answer {
        Ok(status) => {
            page.push(intro.form(lookup_form(lang).refused(None, String::new(), &q).cleared()));
            let mut t = Table::new(
                format!("{} — {}", status.name, status.code),
                &[
                    lang.t("month"),
                    lang.t("amount"),
                    lang.t("status"),
                    lang.t("paid_on"),
                    lang.t("point"),
                    lang.t("address"),
                    lang.t("days"),
                    lang.t("hours"),
                ],
            );
            for m in status.months.iter().rev() {
                t.row(vec![
                    Cell::text(m.period.to_string()),
                    Cell::num(money(chitra_core::Dong(m.amount))),
                    Cell::text(status_name(lang, m.status.code())),
                    Cell::text(m.paid_on.clone().unwrap_or_default()),
                    Cell::text(if m.home_delivery {
                        match lang {
                            Lang::Vi => "Tại nhà".to_owned(),
                            Lang::En => "At home".to_owned(),
                        }
                    } else {
                        m.point_name.clone().unwrap_or_default()
                    }),
                    Cell::text(m.point_address.clone().unwrap_or_default()),
                    Cell::text(m.days.clone().unwrap_or_default()),
                    Cell::text(m.hours.clone().unwrap_or_default()),
                ]);
            }
            page.push(
                Section::titled(
                    "lookup-result",
                    format!("{} — {}", status.name, status.code),
                )
                .table(t),
            );
            page.ok()
        }
        Err(ApiError::Invalid(e)) => {
            page.push(intro.form(lookup_form(lang).refused(Some(&e.field), e.reason, &q)));
            page.respond(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(ApiError::NotFound { .. }) => {
            page.push(
                intro
                    .note("error", lang.t("lookup_none"))
                    .form(lookup_form(lang).refused(None, String::new(), &q).cleared()),
            );
            page.respond(StatusCode::NOT_FOUND)
        }
        Err(e) => {
            let status = e.status();
            page.push(
                intro
                    .note("error", e.body().error.message)
                    .form(lookup_form(lang)),
            );
            page.respond(status)
        }
    }
}
