//! The agent's screen, for the tablet: my point today, a search, the line to pay with the check of
//! identity (the beneficiary's card or a proxy's authorisation), the receipt, and a clear refusal
//! when the line is already paid.

use std::collections::HashMap;

use axum::Form as PostForm;
use axum::extract::{Path as AxPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chitra_core::access::Action;
use chitra_core::payroll::{LineStatus, RunState};
use chitra_core::text::search_key;
use chitra_store::cycle::{LineFilter, LineTrail};

use crate::api::Path;
use crate::api::payments::{self, IdentityRequest, PaymentRequest};
use crate::api::payroll as api;
use crate::error::ApiError;
use crate::json::Json;
use crate::scope;
use crate::state::AppState;
use crate::web::register::status_name;
use crate::web::views::{Cell, Field, Form, Section, Table, money, number};
use crate::web::{Page, Web, WebError, WebResult};

/// `GET /agent?q=…`: the lines of my point in the payrolls being paid, searchable.
pub async fn today(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::RecordPayment)?;
    let Some(point_id) = web.caller.jurisdiction.point() else {
        return Err(web.fail(ApiError::forbidden(
            "the agent's screen is for an agent of one payment point",
        )));
    };
    let point = state
        .store
        .payment_points()
        .await
        .map_err(|e| web.fail(e.into()))?
        .into_iter()
        .find(|p| p.id == point_id);
    let mut page = Page::new(web.chrome(web.t("agent_title")));
    let today = chitra_store::Change::now("", "").date();
    let mut info =
        Section::titled("my-point", web.t("my_point")).fact(web.t("today"), today.to_string());
    if let Some(p) = &point {
        info = info
            .fact(
                web.t("point"),
                format!("{} — {} (#{})", p.code, p.name, p.id),
            )
            .fact(web.t("address"), &p.address);
    }
    page.push(info);
    let searched = q.get("q").map(|s| s.trim().to_owned()).unwrap_or_default();
    let mut search = Form::get("agent-search", "/agent", web.t("search")).field(
        Field::new("q", web.t("search"), "search")
            .value(&searched)
            .hint(web.t("search_hint"))
            .autofocus(),
    );
    search.big = true;
    search.live = Some("agent-lines".into());
    page.push(Section::titled("search", web.t("search")).form(search));

    let runs: Vec<_> = api::list(
        State(state.clone()),
        web.caller.clone(),
        crate::api::Query(api::RunsParams { period: None }),
    )
    .await
    .map_err(|e| web.fail(e))?
    .0
    .into_iter()
    .filter(|r| r.state == RunState::Paying)
    .collect();
    let key = search_key(&searched);
    let mut t = Table::new(
        web.t("open_runs"),
        &[
            web.t("month"),
            web.t("code"),
            web.t("full_name"),
            web.t("amount"),
            web.t("status"),
            "",
        ],
    );
    t.empty = web.t("not_open").to_owned();
    for run in &runs {
        let reach = scope::run_reach(&state, &web.caller, run)
            .await
            .map_err(|e| web.fail(e))?;
        let mut filter = LineFilter {
            limit: 10_000,
            ..LineFilter::default()
        };
        scope::narrow_lines(&web.caller, reach, &mut filter).map_err(|e| web.fail(e))?;
        let lines = state
            .store
            .run_lines(run.id, &filter)
            .await
            .map_err(|e| web.fail(e.into()))?;
        // Lines still due first, then those already paid, each by name.
        let mut items: Vec<_> = lines.items.iter().collect();
        items.sort_by(|a, b| {
            (a.status != LineStatus::Due, &a.full_name)
                .cmp(&(b.status != LineStatus::Due, &b.full_name))
        });
        for l in items.into_iter().filter(|l| {
            key.is_empty()
                || search_key(&l.full_name).contains(&key)
                || l.beneficiary_code.to_lowercase().contains(&key)
        }) {
            let action = if l.status == LineStatus::Due {
                Cell::link(web.t("pay"), format!("/agent/lines/{}", l.id))
            } else {
                Cell::link(web.t("see_receipt"), format!("/agent/lines/{}", l.id))
            };
            t.row(vec![
                Cell::text(run.period.to_string()),
                Cell::text(&l.beneficiary_code),
                Cell::text(&l.full_name),
                Cell::num(money(l.total)),
                Cell::text(status_name(web.lang, l.status.code())),
                action,
            ]);
        }
    }
    t.caption = format!(
        "{} — {} {}",
        web.t("open_runs"),
        number(t.rows.len() as i64),
        web.t("lines").to_lowercase()
    );
    page.push(
        Section {
            id: "agent-lines".into(),
            ..Section::default()
        }
        .table(t),
    );
    Ok(page.ok())
}

fn pay_form(web: &Web, trail: &LineTrail) -> Form {
    let methods = vec![
        ("citizen_id".to_owned(), web.t("by_citizen_id").to_owned()),
        ("proxy".to_owned(), web.t("by_proxy").to_owned()),
    ];
    let mut f = Form::post(
        "pay-form",
        format!("/agent/lines/{}", trail.line.id),
        format!("{} {}", web.t("pay"), money(trail.line.total)),
        &web.csrf,
    )
    .field(Field::new("payment_id", "", "hidden").value(new_payment_id(web, trail.line.id)))
    .field(Field::new("amount", "", "hidden").value(trail.line.total.0.to_string()))
    .field(Field::new("method", web.t("method"), "select").options(methods))
    .field(Field::new("number", web.t("citizen_id"), "text").hint("12 số / 12 digits"))
    .field(Field::new("full_name", web.t("proxy_name"), "text"))
    .field(Field::new("citizen_id", web.t("proxy_id"), "text"))
    .field(Field::new("authorisation", web.t("authorisation"), "text"))
    .field(Field::new("issuer", web.t("issuer"), "text"))
    .field(Field::new("expires", web.t("expires"), "text"));
    f.big = true;
    f
}

/// "Bốn trăm linh năm nghìn đồng".
fn in_words(d: chitra_core::Dong) -> String {
    format!(
        "{} đồng",
        chitra_core::words::capitalised(&chitra_core::words::in_words(d))
    )
}

/// A payment id chosen when the form is shown: sending the same form twice records it once.
fn new_payment_id(web: &Web, line: i64) -> String {
    let mut b = [0u8; 6];
    let salt = if getrandom::fill(&mut b).is_ok() {
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    } else {
        chrono::Utc::now().timestamp_micros().to_string()
    };
    format!("web-{}-{line}-{salt}", web.caller.user.username)
}

async fn trail_of(state: &AppState, web: &Web, id: i64) -> Result<LineTrail, WebError> {
    web.require(Action::RecordPayment)?;
    api::line(State(state.clone()), web.caller.clone(), Path(id))
        .await
        .map(|j| j.0)
        .map_err(|e| web.fail(e))
}

fn line_page(
    web: &Web,
    trail: &LineTrail,
    form: Option<Form>,
    note: Option<(&'static str, String)>,
) -> Page {
    let l = &trail.line;
    let mut page = Page::new(web.chrome(format!("{} — {}", web.t("pay_title"), l.full_name)));
    let mut s = Section::titled(
        "line",
        format!("{} {} — {}", web.t("line"), l.id, trail.period),
    )
    .fact(web.t("code"), &l.beneficiary_code)
    .fact(web.t("full_name"), &l.full_name)
    .fact(web.t("amount"), money(l.total))
    .fact(web.t("in_words"), in_words(l.total))
    .fact(web.t("status"), status_name(web.lang, l.status.code()));
    if let Some((kind, text)) = note {
        s = s.note(kind, text);
    }
    page.push(s);
    if let Some(p) = &trail.payment {
        let proof = crate::web::register::proof_text(&p.proof);
        page.push(
            Section::titled("receipt", web.t("receipt_title"))
                .fact(web.t("payment_id"), &p.id)
                .fact(web.t("amount"), money(p.amount))
                .fact(web.t("in_words"), in_words(p.amount))
                .fact(web.t("paid_at"), &p.paid_at)
                .fact(web.t("agent"), &p.agent)
                .fact(web.t("check_identity"), proof),
        );
    }
    if let Some(f) = form {
        page.push(Section::titled("pay", web.t("check_identity")).form(f));
    }
    page.push(
        Section {
            id: "back".into(),
            ..Section::default()
        }
        .link("/agent", web.t("back")),
    );
    page
}

/// `GET /agent/lines/{id}`: the line and the form to pay it, or its receipt once paid.
pub async fn line(
    State(state): State<AppState>,
    web: Web,
    AxPath(id): AxPath<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    let trail = trail_of(&state, &web, id).await?;
    let payable = trail.line.status == LineStatus::Due && trail.run_state == RunState::Paying;
    let note = trail.payment.as_ref().map(|p| {
        if q.contains_key("paid") {
            (
                "ok",
                format!("✓ {} — {} {}", web.t("paid"), web.t("payment_id"), p.id),
            )
        } else {
            (
                "info",
                format!("{} — {} {}", web.t("already_paid"), web.t("paid_by"), p.id),
            )
        }
    });
    let form = payable.then(|| pay_form(&web, &trail));
    Ok(line_page(&web, &trail, form, note).ok())
}

fn typed_or_empty(typed: &HashMap<String, String>, k: &str) -> String {
    typed
        .get(k)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// `POST /agent/lines/{id}`: records the payment through the payment writer, as the API does.
pub async fn pay(
    State(state): State<AppState>,
    web: Web,
    AxPath(id): AxPath<i64>,
    PostForm(typed): PostForm<HashMap<String, String>>,
) -> WebResult {
    web.check_csrf(typed.get("csrf"))?;
    let trail = trail_of(&state, &web, id).await?;
    let g = |k: &str| typed_or_empty(&typed, k);
    let identity = match g("method").as_str() {
        "proxy" => IdentityRequest::Proxy {
            full_name: g("full_name"),
            citizen_id: g("citizen_id"),
            authorisation: g("authorisation"),
            issuer: g("issuer"),
            expires: g("expires"),
        },
        _ => IdentityRequest::CitizenId {
            number: g("number"),
        },
    };
    let amount = g("amount").parse::<i64>().unwrap_or(trail.line.total.0);
    let payment_id = match g("payment_id") {
        s if s.is_empty() => new_payment_id(&web, id),
        s => s,
    };
    let answer = payments::record_one(
        State(state.clone()),
        web.caller.clone(),
        Ok(Json(PaymentRequest {
            id: payment_id,
            line_id: id,
            amount,
            paid_at: None,
            method: Some("point".into()),
            identity,
            location: None,
        })),
    )
    .await;
    match answer {
        Ok(_) => Ok(Redirect::to(&format!("/agent/lines/{id}?paid=1")).into_response()),
        Err(ApiError::Conflict { paid_by, .. }) => {
            let trail = trail_of(&state, &web, id).await?;
            let text = format!(
                "{} — {} {}",
                web.t("already_paid"),
                web.t("paid_by"),
                paid_by.unwrap_or_default()
            );
            Ok(line_page(&web, &trail, None, Some(("error", text))).respond(StatusCode::CONFLICT))
        }
        Err(ApiError::Invalid(e)) => {
            let field = e.field.rsplit('.').next().unwrap_or(&e.field).to_owned();
            let field = match (g("method").as_str(), field.as_str()) {
                // A proxy's own ID number is the proxy's field, not the beneficiary's card.
                ("proxy", "number") => "citizen_id".to_owned(),
                (_, f) => f.to_owned(),
            };
            let form = pay_form(&web, &trail).refused(Some(&field), e.reason, &typed);
            Ok(line_page(&web, &trail, Some(form), None).respond(StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(web.fail(e)),
    }
}
