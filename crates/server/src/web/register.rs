//! The register: the list with its filters and search, a beneficiary's page, and the forms to add
//! a beneficiary and to record a decision.

use std::collections::HashMap;

use axum::Form as PostForm;
use axum::extract::{Path as AxPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chitra_core::access::Action;
use chitra_core::entitlement::entitlement;
use chitra_core::forms::{BeneficiaryForm, DecisionForm};
use chitra_core::payroll::LineStatus;
use chitra_core::register::RegisterStatus;
use chitra_core::units::UnitLevel;
use chitra_core::{Period, Program};
use chitra_store::cycle::LineFilter;

use crate::api::register::{self as api, ListParams};
use crate::api::{Path, Query as ApiQuery};
use crate::error::ApiError;
use crate::json::Json;
use crate::scope;
use crate::state::AppState;
use crate::web::views::{
    Cell, Field, Form, Section, Table, money, not_number, number, number_or, opt, opt_number,
    url_encode,
};
use crate::web::{Lang, Page, Web, WebError, WebResult};

const PAGE: i64 = 50;

/// The links to the previous and next pages of the register's list, keeping the filters.
fn page_links(t: &mut Table, q: &HashMap<String, String>, offset: i64, total: i64) {
    let link = |o: i64| {
        let mut kept: Vec<String> = q
            .iter()
            .filter(|(k, v)| k.as_str() != "offset" && k.as_str() != "csv" && !v.is_empty())
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect();
        kept.sort();
        kept.push(format!("offset={o}"));
        format!("/beneficiaries?{}", kept.join("&"))
    };
    if offset > 0 {
        t.prev = Some(link((offset - PAGE).max(0)));
    }
    if offset + PAGE < total {
        t.next = Some(link(offset + PAGE));
    }
}

fn filter_form(web: &Web, q: &HashMap<String, String>) -> Form {
    let v = |k: &str| q.get(k).cloned().unwrap_or_default();
    let mut f = Form::get("register-filter", "/beneficiaries", web.t("search"))
        .field(
            Field::new("search", web.t("search"), "search")
                .value(v("search"))
                .hint(web.t("search_hint"))
                .autofocus(),
        )
        .field(Field::new("commune", web.t("commune"), "text").value(v("commune")))
        .field(Field::new("category", web.t("category"), "text").value(v("category")))
        .field(Field::new("point", web.t("point"), "text").value(v("point")))
        .field(
            Field::new("status", web.t("register_status"), "select")
                .options(
                    std::iter::once((String::new(), "—".to_owned()))
                        .chain(RegisterStatus::ALL.iter().map(|s| {
                            (
                                s.code().to_owned(),
                                register_status_name(web.lang, *s).to_owned(),
                            )
                        }))
                        .collect(),
                )
                .value(v("status")),
        )
        .field(
            Field::new("month_status", web.t("status_latest"), "select")
                .options(
                    ["", "due", "paid", "carried", "returned"]
                        .iter()
                        .map(|s| {
                            (
                                (*s).to_owned(),
                                if s.is_empty() {
                                    "—".to_owned()
                                } else {
                                    status_name(web.lang, s)
                                },
                            )
                        })
                        .collect(),
                )
                .value(v("month_status")),
        );
    f.live = Some("register-results".into());
    f
}

/// The register filtered by the status of each beneficiary's line in the latest month: those
/// lines, within the user's reach, filtered like the register.
async fn by_status(
    state: &AppState,
    web: &Web,
    q: &HashMap<String, String>,
    status: LineStatus,
    point: Option<i64>,
    offset: i64,
) -> Result<Table, WebError> {
    let runs = crate::api::payroll::list(
        State(state.clone()),
        web.caller.clone(),
        ApiQuery(crate::api::payroll::RunsParams { period: None }),
    )
    .await
    .map_err(|e| web.fail(e))?
    .0;
    let latest = runs.iter().map(|r| r.period).max();
    let key = opt(q, "search").map(|s| chitra_core::text::search_key(&s));
    let commune = opt(q, "commune");
    let category = opt(q, "category");
    let mut rows = Vec::new();
    for run in runs.iter().filter(|r| Some(r.period) == latest) {
        let reach = scope::run_reach(state, &web.caller, run)
            .await
            .map_err(|e| web.fail(e))?;
        let mut filter = LineFilter {
            status: Some(status),
            point_id: point,
            limit: 10_000,
            ..LineFilter::default()
        };
        scope::narrow_lines(&web.caller, reach, &mut filter).map_err(|e| web.fail(e))?;
        loop {
            let lines = state
                .store
                .run_lines(run.id, &filter)
                .await
                .map_err(|e| web.fail(e.into()))?;
            let n = lines.items.len() as i64;
            rows.extend(lines.items.into_iter().filter(|l| {
                key.as_ref().is_none_or(|k| {
                    chitra_core::text::search_key(&l.full_name).contains(k.as_str())
                        || l.beneficiary_code == q.get("search").map(|s| s.trim()).unwrap_or("")
                }) && commune.as_ref().is_none_or(|c| &l.commune_code == c)
                    && category
                        .as_ref()
                        .is_none_or(|c| l.category.as_deref() == Some(c.as_str()))
            }));
            filter.offset += n;
            if n == 0 || filter.offset >= lines.total {
                break;
            }
        }
    }
    rows.sort_by(|a, b| a.beneficiary_code.cmp(&b.beneficiary_code));
    let total = rows.len() as i64;
    let mut t = Table::new(
        format!(
            "{} {} — {} {}",
            number(total),
            web.t("results"),
            web.t("status_latest"),
            latest.map(|p| p.to_string()).unwrap_or_default()
        ),
        &[
            web.t("code"),
            web.t("full_name"),
            web.t("category"),
            web.t("commune"),
            web.t("point"),
            web.t("amount"),
            web.t("status"),
        ],
    );
    for l in rows.iter().skip(offset as usize).take(PAGE as usize) {
        let point = match l.channel {
            chitra_core::payroll::Channel::Point(p) => {
                Cell::link(p.to_string(), format!("/points/{p}"))
            }
            _ => Cell::text(""),
        };
        t.row(vec![
            Cell::link(
                &l.beneficiary_code,
                format!("/beneficiaries/{}", url_encode(&l.beneficiary_code)),
            ),
            Cell::link(
                &l.full_name,
                format!("/beneficiaries/{}", url_encode(&l.beneficiary_code)),
            ),
            Cell::text(l.category.clone().unwrap_or_default()),
            Cell::text(&l.commune_code),
            point,
            Cell::num(money(l.total)),
            Cell::text(status_name(web.lang, l.status.code())),
        ]);
    }
    page_links(&mut t, q, offset, total);
    t.csv = Some(web.csv_href("register-results"));
    Ok(t)
}

/// `GET /beneficiaries`: paged, filtered by area, category and point, searched ignoring case and
/// diacritics; narrowed to the user's jurisdiction.
pub async fn list(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadRegister)?;
    let mut page = Page::new(web.chrome(web.t("register_title")));
    if web.caller.user.role.may(Action::EditRegister) {
        page.push(
            Section {
                id: "register-actions".into(),
                ..Section::default()
            }
            .link("/beneficiaries/new", web.t("add_beneficiary")),
        );
    }
    let form = filter_form(&web, &q);
    let offset = opt(&q, "offset")
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let point = match opt(&q, "point").map(|p| p.parse::<i64>()) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            let f = form.refused(
                Some("point"),
                format!(
                    "'{}': {}",
                    q.get("point").cloned().unwrap_or_default(),
                    not_number(web.lang)
                ),
                &q,
            );
            page.push(Section::titled("register-search", web.t("search")).form(f));
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    if let Some(st) = opt(&q, "month_status") {
        let Some(status) = LineStatus::parse(&st) else {
            let f = form.refused(
                Some("month_status"),
                format!("'{st}': due, paid, carried, returned"),
                &q,
            );
            page.push(Section::titled("register-search", web.t("search")).form(f));
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        };
        if let Some(c) = opt(&q, "commune")
            && let Err(e) = chitra_core::ids::CommuneCode::parse(&c)
        {
            let f = form.refused(Some("commune"), e.reason, &q);
            page.push(Section::titled("register-search", web.t("search")).form(f));
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        }
        let t = by_status(&state, &web, &q, status, point, offset).await?;
        page.push(Section::titled("register-search", web.t("search")).form(form));
        page.push(
            Section {
                id: "register-results".into(),
                ..Section::default()
            }
            .table(t),
        );
        return Ok(page.finish(q.get("csv").map(String::as_str)));
    }
    let today = chitra_store::Change::now("", "").date();
    let params = ListParams {
        search: opt(&q, "search"),
        commune: opt(&q, "commune"),
        category: opt(&q, "category"),
        point,
        status: opt(&q, "status"),
        as_of: Some(Period::of(today).to_string()),
        limit: Some(PAGE),
        offset: Some(offset),
    };
    let found = api::list(State(state.clone()), web.caller.clone(), ApiQuery(params)).await;
    let found = match found {
        Ok(Json(p)) => p,
        Err(ApiError::Invalid(e)) => {
            let f = form.refused(Some(&e.field), e.reason, &q);
            page.push(Section::titled("register-search", web.t("search")).form(f));
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        }
        Err(e) => return Err(web.fail(e)),
    };
    page.push(Section::titled("register-search", web.t("search")).form(form));
    let tree = state
        .store
        .unit_tree()
        .await
        .map_err(|e| web.fail(e.into()))?;
    let mut t = Table::new(
        format!("{} {}", number(found.total), web.t("results")),
        &[
            web.t("code"),
            web.t("full_name"),
            web.t("birth_date"),
            web.t("sex"),
            web.t("citizen_id"),
            web.t("commune"),
            web.t("point"),
            web.t("register_status"),
        ],
    );
    for b in &found.items {
        let commune = tree
            .at(UnitLevel::Commune, &b.commune_code, today)
            .map(|u| format!("{} ({})", u.name, b.commune_code))
            .unwrap_or_else(|| b.commune_code.clone());
        t.row(vec![
            Cell::link(&b.code, format!("/beneficiaries/{}", url_encode(&b.code))),
            Cell::link(
                &b.full_name,
                format!("/beneficiaries/{}", url_encode(&b.code)),
            ),
            Cell::text(b.birth_date.to_string()),
            Cell::text(sex_name(web.lang, &b.sex)),
            Cell::text(&b.citizen_id_masked),
            Cell::text(commune),
            match b.payment_point_id {
                Some(p) => Cell::link(p.to_string(), format!("/points/{p}")),
                None => Cell::text(""),
            },
            Cell::text(
                b.status
                    .map(|s| register_status_name(web.lang, s))
                    .unwrap_or_default(),
            ),
        ]);
    }
    page_links(&mut t, &q, offset, found.total);
    t.csv = Some(web.csv_href("register-results"));
    page.push(
        Section {
            id: "register-results".into(),
            ..Section::default()
        }
        .table(t),
    );
    Ok(page.finish(q.get("csv").map(String::as_str)))
}

fn sex_name(lang: Lang, code: &str) -> String {
    match (lang, code) {
        (Lang::Vi, "male") => "Nam".into(),
        (Lang::Vi, "female") => "Nữ".into(),
        (Lang::En, "male") => "Male".into(),
        (Lang::En, "female") => "Female".into(),
        (_, other) => other.to_owned(),
    }
}

/// `GET /beneficiaries/{code}`: identity, address history, decisions, why this month's amount,
/// every month's payment, and the form to record a decision.
pub async fn file(
    State(state): State<AppState>,
    web: Web,
    AxPath(code): AxPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadRegister)?;
    let f = api::file_of(&state, &web.caller, &code)
        .await
        .map_err(|e| web.fail(e))?;
    file_page(
        &state,
        &web,
        &f,
        decision_form(&web, &code),
        q.contains_key("saved"),
    )
    .await
    .map(|p| p.finish(q.get("csv").map(String::as_str)))
}

async fn file_page(
    state: &AppState,
    web: &Web,
    f: &chitra_store::BeneficiaryFile,
    decision: Form,
    saved: bool,
) -> Result<Page, crate::web::WebError> {
    let b = &f.beneficiary;
    let store = &state.store;
    let tree = store.unit_tree().await.map_err(|e| web.fail(e.into()))?;
    let today = chitra_store::Change::now("", "").date();
    let mut page = Page::new(web.chrome(format!("{} — {}", b.full_name, b.code)));
    let id = if api::sees_whole_ids(web.role()) {
        b.citizen_id.as_str().to_owned()
    } else {
        b.citizen_id.masked()
    };
    let mut identity = Section::titled("identity", web.t("identity"))
        .fact(web.t("code"), &b.code)
        .fact(web.t("full_name"), &b.full_name)
        .fact(web.t("birth_date"), b.birth_date.to_string())
        .fact(web.t("sex"), sex_name(web.lang, b.sex.code()))
        .fact(web.t("citizen_id"), id)
        .fact(
            web.t("program"),
            match web.lang {
                Lang::Vi => b.program.name_vi().to_owned(),
                Lang::En => b.program.code().replace('_', " "),
            },
        )
        .fact(
            web.t("point"),
            b.payment_point_id
                .map(|p| p.to_string())
                .unwrap_or_default(),
        );
    if let Some(h) = &b.home_delivery {
        identity = identity.fact(web.t("home_delivery"), h);
    }
    if saved {
        identity = identity.note("ok", web.t("saved"));
    }
    page.push(identity);

    let mut addresses = Table::new(
        web.t("addresses"),
        &[web.t("from"), web.t("address"), web.t("commune")],
    );
    for a in &b.addresses {
        let name = tree
            .at(UnitLevel::Commune, a.commune.as_str(), a.from.first_day())
            .map(|u| u.name.clone())
            .unwrap_or_default();
        let place = [a.street.clone(), a.hamlet.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        addresses.row(vec![
            Cell::text(a.from.to_string()),
            Cell::text(place),
            Cell::text(format!("{name} ({})", a.commune.as_str())),
        ]);
    }
    page.push(Section::titled("addresses", web.t("addresses")).table(addresses));

    let mut decisions = Table::new(
        web.t("decisions"),
        &[
            "#",
            web.t("kind"),
            web.t("category"),
            web.t("effective"),
            web.t("signed_on"),
            web.t("signer"),
            web.t("number"),
            web.t("reason"),
        ],
    );
    for d in &f.decisions {
        let t = &d.terms;
        decisions.row(vec![
            Cell::num(d.id.to_string()),
            Cell::text(t.kind.to_string()),
            Cell::text(t.category.clone().unwrap_or_default()),
            Cell::text(t.effective.to_string()),
            Cell::text(t.signed_on.to_string()),
            Cell::text(&t.signer),
            Cell::text(t.number.clone().unwrap_or_default()),
            Cell::text(&t.reason),
        ]);
    }
    page.push(Section::titled("decisions", web.t("decisions")).table(decisions));

    let month = Period::of(today);
    let rules = store.rule_book().await.map_err(|e| web.fail(e.into()))?;
    if let Ok(due) = entitlement(b, &f.decisions, &rules, month) {
        let mut s = Section::titled("entitlement", format!("{} ({month})", web.t("entitlement")))
            .fact(web.t("age"), due.month.age.to_string())
            .fact(web.t("rule"), &due.month.rule)
            .fact(web.t("month"), money(due.month.amount))
            .fact(
                web.t("arrears"),
                money(due.arrears_total().unwrap_or(chitra_core::Dong::ZERO)),
            );
        for r in &due.arrears_reasons {
            s = s.para(r.clone());
        }
        if let Some(fs) = &due.funeral {
            s = s.fact(web.t("funeral"), money(fs.amount));
        }
        s = s.fact(web.t("total"), money(due.total));
        let mut parts = Table::new(
            web.t("rule"),
            &[
                web.t("category"),
                web.t("base"),
                web.t("rate"),
                web.t("age"),
                web.t("dependants"),
                web.t("amount"),
                web.t("counted"),
                web.t("reason"),
            ],
        );
        for c in &due.month.components {
            let rate = match c.rate {
                Some(chitra_core::rules::Rate::Coefficient(k)) => format!("× {k}"),
                Some(chitra_core::rules::Rate::Fixed(d)) => money(d),
                None => String::new(),
            };
            parts.row(vec![
                Cell::text(&c.category),
                Cell::num(c.base.map(money).unwrap_or_default()),
                Cell::text(
                    [Some(rate), c.rate_source.clone()]
                        .into_iter()
                        .flatten()
                        .filter(|x| !x.is_empty())
                        .collect::<Vec<_>>()
                        .join(" — "),
                ),
                Cell::text(c.age_band.clone().unwrap_or_default()),
                Cell::num(c.dependants.to_string()),
                Cell::num(money(c.amount)),
                Cell::text(if c.counted { web.t("yes") } else { web.t("no") }),
                Cell::text(&c.note),
            ]);
        }
        page.push(s.table(parts));
    }

    // Every month's line, newest first, with its payment and the proof of who received it.
    let latest = store
        .runs(None)
        .await
        .map_err(|e| web.fail(e.into()))?
        .iter()
        .map(|r| r.period)
        .max();
    let mut pays = Table::new(
        web.t("payments"),
        &[
            web.t("month"),
            web.t("amount"),
            web.t("status"),
            web.t("paid_at"),
            web.t("agent"),
            web.t("check_identity"),
            web.t("payment_id"),
            web.t("flags"),
        ],
    );
    let first = b.addresses.first().map(|a| a.from);
    if let (Some(first), Some(latest)) = (first, latest) {
        let mut p = latest;
        while p >= first {
            if let Some(id) = chitra_core::payroll::line_id(p, b.program, b.id)
                && let Ok(trail) = store.line_trail(id).await
            {
                let l = &trail.line;
                let (at, agent, proof, pid, flags) = match &trail.payment {
                    Some(pay) => (
                        pay.paid_at.clone(),
                        pay.agent.clone(),
                        proof_text(&pay.proof),
                        pay.id.clone(),
                        pay.flags
                            .iter()
                            .map(|f| f.kind.code())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    None => Default::default(),
                };
                pays.row(vec![
                    Cell::text(p.to_string()),
                    Cell::num(money(l.total)),
                    Cell::text(status_name(web.lang, l.status.code())),
                    Cell::text(at),
                    Cell::text(agent),
                    Cell::text(proof),
                    Cell::text(pid),
                    Cell::text(flags),
                ]);
            }
            p = p.prev();
        }
    }
    pays.csv = Some(web.csv_href("payments"));
    page.push(Section::titled("payments", web.t("payments")).table(pays));

    if web.role().may(Action::EditRegister) {
        page.push(Section::titled("decide", web.t("decision_title")).form(decision));
    }
    Ok(page)
}

/// How identity was checked, from a payment's proof: `citizen_id 0830******23`, `proxy …`.
pub fn proof_text(proof: &serde_json::Value) -> String {
    let Some(identity) = proof.get("identity") else {
        return String::new();
    };
    let kind = identity.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let detail: Vec<String> = identity
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "kind")
                .map(|(k, v)| match v.as_str() {
                    Some(s) => format!("{k}: {s}"),
                    None => format!("{k}: {v}"),
                })
                .collect()
        })
        .unwrap_or_default();
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({})", detail.join("; "))
    }
}

/// A register status as the interface names it.
pub fn register_status_name(lang: Lang, status: RegisterStatus) -> &'static str {
    lang.t(match status {
        RegisterStatus::Pending => "rs_pending",
        RegisterStatus::Active => "rs_active",
        RegisterStatus::Suspended => "rs_suspended",
        RegisterStatus::Stopped => "rs_stopped",
        RegisterStatus::Deceased => "rs_deceased",
    })
}

pub fn status_name(lang: Lang, code: &str) -> String {
    let key = match code {
        "due" => "due",
        "paid" => "paid",
        "carried" => "carried",
        "returned" => "returned",
        other => return other.to_owned(),
    };
    lang.t(key).to_owned()
}

fn decision_form(web: &Web, code: &str) -> Form {
    let kinds = ["grant", "adjust", "suspend", "resume", "stop"]
        .iter()
        .map(|k| ((*k).to_owned(), (*k).to_owned()))
        .collect();
    Form::post(
        "decision-form",
        format!("/beneficiaries/{}/decisions", url_encode(code)),
        web.t("record_decision"),
        &web.csrf,
    )
    .field(
        Field::new("kind", web.t("kind"), "select")
            .options(kinds)
            .required(),
    )
    .field(Field::new("category", web.t("category"), "text"))
    .field(Field::new("replaces", web.t("replaces"), "text"))
    .field(Field::new("dependants", web.t("dependants"), "number").value("1"))
    .field(Field::new("effective", web.t("effective"), "text"))
    .field(Field::new("signed_on", web.t("signed_on"), "text"))
    .field(Field::new("signer", web.t("signer"), "text"))
    .field(Field::new("number", web.t("number"), "text"))
    .field(Field::new("reason", web.t("reason"), "text").required())
    .field(Field::new("death_date", web.t("death_date"), "text"))
}

/// `POST /beneficiaries/{code}/decisions`.
pub async fn decide(
    State(state): State<AppState>,
    web: Web,
    AxPath(code): AxPath<String>,
    PostForm(typed): PostForm<HashMap<String, String>>,
) -> WebResult {
    web.check_csrf(typed.get("csrf"))?;
    web.require(Action::EditRegister)?;
    let parsed = number_or(&typed, "dependants", 1u32, web.lang).map(|dependants| DecisionForm {
        kind: typed.get("kind").cloned().unwrap_or_default(),
        category: opt(&typed, "category"),
        replaces: opt(&typed, "replaces"),
        dependants,
        effective: opt(&typed, "effective"),
        signed_on: opt(&typed, "signed_on"),
        signer: opt(&typed, "signer"),
        number: opt(&typed, "number"),
        reason: typed.get("reason").cloned().unwrap_or_default(),
        death_date: opt(&typed, "death_date"),
    });
    let result = match parsed {
        Ok(form) => {
            api::add_decision(
                State(state.clone()),
                web.caller.clone(),
                Path(code.clone()),
                Ok(Json(form)),
            )
            .await
        }
        Err(e) => Err(ApiError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "/beneficiaries/{}?saved=1#identity",
            url_encode(&code)
        ))
        .into_response()),
        Err(ApiError::Invalid(e)) => {
            let f = api::file_of(&state, &web.caller, &code)
                .await
                .map_err(|e| web.fail(e))?;
            let form = decision_form(&web, &code).refused(Some(&e.field), e.reason, &typed);
            let page = file_page(&state, &web, &f, form, false).await?;
            Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(web.fail(e)),
    }
}

fn beneficiary_form(web: &Web) -> Form {
    let sexes = vec![
        ("".to_owned(), "—".to_owned()),
        ("nam".to_owned(), sex_name(web.lang, "male")),
        ("nữ".to_owned(), sex_name(web.lang, "female")),
    ];
    let programs = Program::ALL
        .iter()
        .map(|p| {
            (
                p.code().to_owned(),
                match web.lang {
                    Lang::Vi => p.name_vi().to_owned(),
                    Lang::En => p.code().replace('_', " "),
                },
            )
        })
        .collect();
    Form::post(
        "beneficiary-form",
        "/beneficiaries/new",
        web.t("save"),
        &web.csrf,
    )
    .field(
        Field::new("full_name", web.t("full_name"), "text")
            .required()
            .autofocus(),
    )
    .field(
        Field::new("birth_date", web.t("birth_date"), "text")
            .required()
            .hint("YYYY-MM-DD"),
    )
    .field(
        Field::new("sex", web.t("sex"), "select")
            .options(sexes)
            .required(),
    )
    .field(
        Field::new("citizen_id", web.t("citizen_id"), "text")
            .required()
            .hint("12 số / 12 digits"),
    )
    .field(Field::new("commune", web.t("commune"), "text").required())
    .field(
        Field::new("category", web.t("category"), "text")
            .required()
            .hint("K1 … K8"),
    )
    .field(Field::new("program", web.t("program"), "select").options(programs))
    .field(Field::new("hamlet", web.t("hamlet"), "text"))
    .field(Field::new("street", web.t("street"), "text"))
    .field(Field::new("dependants", web.t("dependants"), "number").value("1"))
    .field(Field::new("effective", web.t("effective"), "text"))
    .field(Field::new("signed_on", web.t("signed_on"), "text"))
    .field(Field::new("signer", web.t("signer"), "text"))
    .field(Field::new("number", web.t("number"), "text"))
    .field(Field::new("reason", web.t("reason"), "text"))
    .field(Field::new(
        "payment_point_id",
        web.t("payment_point"),
        "text",
    ))
    .field(Field::new("home_delivery", web.t("home_delivery"), "text"))
}

/// `GET /beneficiaries/new`.
pub async fn new_page(web: Web) -> WebResult {
    web.require(Action::EditRegister)?;
    let mut page = Page::new(web.chrome(web.t("new_title")));
    page.push(
        Section {
            id: "new".into(),
            ..Section::default()
        }
        .form(beneficiary_form(&web)),
    );
    Ok(page.ok())
}

/// `POST /beneficiaries/new`: the core's form parsing, the API's checks; refusals beside the field.
pub async fn add(
    State(state): State<AppState>,
    web: Web,
    PostForm(typed): PostForm<HashMap<String, String>>,
) -> WebResult {
    web.check_csrf(typed.get("csrf"))?;
    web.require(Action::EditRegister)?;
    let get = |k: &str| typed.get(k).cloned().unwrap_or_default();
    let parsed = number_or(&typed, "dependants", 1u32, web.lang).and_then(|dependants| {
        Ok(BeneficiaryForm {
            full_name: get("full_name"),
            birth_date: get("birth_date"),
            sex: get("sex"),
            citizen_id: get("citizen_id"),
            commune: get("commune"),
            category: get("category"),
            program: opt(&typed, "program")
                .unwrap_or_else(|| Program::SocialAssistance.code().to_owned()),
            hamlet: opt(&typed, "hamlet"),
            street: opt(&typed, "street"),
            dependants,
            effective: opt(&typed, "effective"),
            signed_on: opt(&typed, "signed_on"),
            signer: opt(&typed, "signer"),
            number: opt(&typed, "number"),
            reason: opt(&typed, "reason"),
            payment_point_id: opt_number::<i64>(&typed, "payment_point_id", web.lang)?,
            facility_id: None,
            home_delivery: opt(&typed, "home_delivery"),
            bank: None,
            bank_account: None,
        })
    });
    let result = match parsed {
        Ok(form) => api::add(State(state.clone()), web.caller.clone(), Ok(Json(form))).await,
        Err(e) => Err(ApiError::Invalid(e)),
    };
    match result {
        Ok((_, Json(made))) => {
            let code = made
                .pointer("/beneficiary/code")
                .and_then(|c| c.as_str())
                .unwrap_or("")
                .to_owned();
            Ok(
                Redirect::to(&format!("/beneficiaries/{}?saved=1", url_encode(&code)))
                    .into_response(),
            )
        }
        Err(ApiError::Invalid(e)) => {
            let mut page = Page::new(web.chrome(web.t("new_title")));
            page.push(
                Section {
                    id: "new".into(),
                    ..Section::default()
                }
                .form(beneficiary_form(&web).refused(
                    Some(&e.field),
                    e.reason,
                    &typed,
                )),
            );
            Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(web.fail(e)),
    }
}
