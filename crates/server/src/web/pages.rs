//! The dashboard, payment points and schedules, contracts, reports, anomalies and the journal.

use std::collections::{BTreeMap, HashMap};

use axum::Form as PostForm;
use axum::extract::{Path as AxPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chitra_core::access::{Action, Role};
use chitra_core::contract::{FeeRule, Timeliness};
use chitra_core::forms::ContractForm;
use chitra_core::payroll::{LineStatus, RunState};
use chitra_core::units::UnitLevel;
use chitra_core::{Dong, Period, Program};

use crate::api::payroll as payroll_api;
use crate::api::points::{self as points_api, FlagsParams, SchedulesParams};
use crate::api::reports::{self as reports_api, SpanParams};
use crate::api::{Query as ApiQuery, audit as audit_api};
use crate::error::ApiError;
use crate::json::Json;
use crate::state::AppState;
use crate::web::charts;
use crate::web::month::state_name;
use crate::web::views::{
    Cell, Field, Form, Section, Table, money, not_number, number, number_or, opt,
};
use crate::web::{Lang, Page, Web, WebResult};

fn csv_of(q: &HashMap<String, String>) -> Option<&str> {
    q.get("csv").map(String::as_str)
}

fn sum_status(run: &chitra_store::cycle::Run, status: LineStatus) -> (i64, Dong) {
    run.by_status
        .iter()
        .filter(|s| s.status == status)
        .fold((0, Dong::ZERO), |(n, a), s| {
            (n + s.lines, a.checked_add(s.amount).unwrap_or(a))
        })
}

/// How the user's lines of `runs` kept to their contracts' pay windows: each day's payments
/// against the window, and what is still due once it has passed.
async fn timeliness(
    state: &AppState,
    web: &Web,
    runs: &[&chitra_store::cycle::Run],
) -> Result<Timeliness, crate::web::WebError> {
    let contracts = state
        .store
        .contracts()
        .await
        .map_err(|e| web.fail(e.into()))?;
    let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    let days = state
        .store
        .paid_days(&ids, &crate::api::payments::within(&web.caller))
        .await
        .map_err(|e| web.fail(e.into()))?;
    let today = chitra_store::Change::now("", "").date();
    let mut t = Timeliness::default();
    for r in runs {
        let Some(c) = contracts.iter().find(|c| c.id == r.contract_id) else {
            continue;
        };
        let window = c.terms.pay_window(r.period);
        for d in days.iter().filter(|d| d.run_id == r.id) {
            t.paid(window, d.day, d.lines);
        }
        if sum_status(r, LineStatus::Due).0 > 0 {
            let reach = crate::scope::run_reach(state, &web.caller, r)
                .await
                .map_err(|e| web.fail(e))?;
            let mut filter = chitra_store::cycle::LineFilter {
                status: Some(LineStatus::Due),
                limit: 1,
                ..Default::default()
            };
            crate::scope::narrow_lines(&web.caller, reach, &mut filter).map_err(|e| web.fail(e))?;
            let due = state
                .store
                .run_lines(r.id, &filter)
                .await
                .map_err(|e| web.fail(e.into()))?
                .total;
            t.due(window, today, due);
        }
    }
    Ok(t)
}

/// `GET /`: the dashboard of the user's role (an agent goes to their point's screen).
pub async fn home(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    if web.role() == Role::Agent {
        return Ok(Redirect::to("/agent").into_response());
    }
    let mut page = Page::new(web.chrome(web.t("dashboard_title")));
    if state.store.setting("demo").await.ok().flatten().as_deref() == Some("true") {
        page.push(
            Section {
                id: "demo".into(),
                ..Section::default()
            }
            .note("info", web.t("demo_notice")),
        );
    }
    if !web.role().may(Action::ReadPayroll) {
        return Ok(page.ok());
    }
    let runs = payroll_api::list(
        State(state.clone()),
        web.caller.clone(),
        ApiQuery(payroll_api::RunsParams { period: None }),
    )
    .await
    .map_err(|e| web.fail(e))?
    .0;
    let current = runs.iter().map(|r| r.period).max();
    if let Some(p) = current {
        let these: Vec<_> = runs.iter().filter(|r| r.period == p).collect();
        let mut totals = [(0i64, Dong::ZERO); 4];
        for r in &these {
            for (i, st) in [
                LineStatus::Due,
                LineStatus::Paid,
                LineStatus::Carried,
                LineStatus::Returned,
            ]
            .into_iter()
            .enumerate()
            {
                let (n, a) = sum_status(r, st);
                totals[i].0 += n;
                totals[i].1 = totals[i].1.checked_add(a).unwrap_or(totals[i].1);
            }
        }
        let mut states: BTreeMap<&'static str, usize> = BTreeMap::new();
        for r in &these {
            *states.entry(state_name(web.lang, r.state)).or_default() += 1;
        }
        let mut s = Section::titled("current", format!("{} {p}", web.t("current_period")))
            .fact(
                web.t("state"),
                states
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .fact(
                web.t("paid"),
                format!("{} — {}", number(totals[1].0), money(totals[1].1)),
            )
            .fact(
                web.t("unpaid"),
                format!("{} — {}", number(totals[0].0), money(totals[0].1)),
            )
            .fact(
                web.t("carried"),
                format!("{} — {}", number(totals[2].0), money(totals[2].1)),
            )
            .fact(
                web.t("returned"),
                format!("{} — {}", number(totals[3].0), money(totals[3].1)),
            );
        let timely = timeliness(&state, &web, &these).await?;
        if let Some(bp) = timely.on_time_bp() {
            s = s.fact(
                web.t("on_time"),
                format!(
                    "{},{:02}% — {} / {} {}",
                    bp / 100,
                    bp % 100,
                    number(timely.on_time),
                    number(timely.counted()),
                    web.t("ontime_note"),
                ),
            );
            s = s.fact(
                web.t("ontime_outside"),
                format!(
                    "{} {}, {} {}, {} {}",
                    number(timely.early),
                    web.t("paid_early"),
                    number(timely.late),
                    web.t("paid_late"),
                    number(timely.overdue),
                    web.t("overdue"),
                ),
            );
        }
        if web.role().may(Action::ReadAnomalies) {
            let flags = points_api::flags(
                State(state.clone()),
                web.caller.clone(),
                ApiQuery(FlagsParams {
                    period: Some(p.to_string()),
                    kind: None,
                    point: None,
                    limit: Some(1),
                    offset: None,
                }),
            )
            .await
            .map_err(|e| web.fail(e))?
            .0;
            s = s.fact(web.t("anomalies_waiting"), number(flags.total));
        }
        s = s
            .link(format!("/payrolls?period={p}"), web.t("nav_month"))
            .link("/anomalies", web.t("nav_anomalies"));
        page.push(s);

        // Points behind: while the month is being paid, the points with the largest share still due.
        let paying: Vec<_> = these
            .iter()
            .filter(|r| r.state == RunState::Paying)
            .collect();
        if !paying.is_empty() {
            let mut by_point: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
            for r in paying {
                let reach = crate::scope::run_reach(&state, &web.caller, r)
                    .await
                    .map_err(|e| web.fail(e))?;
                let mut filter = chitra_store::cycle::LineFilter {
                    limit: 10_000,
                    ..Default::default()
                };
                crate::scope::narrow_lines(&web.caller, reach, &mut filter)
                    .map_err(|e| web.fail(e))?;
                let lines = state
                    .store
                    .run_lines(r.id, &filter)
                    .await
                    .map_err(|e| web.fail(e.into()))?;
                for l in &lines.items {
                    if let chitra_core::payroll::Channel::Point(pt) = l.channel {
                        let e = by_point.entry(pt).or_default();
                        e.0 += 1;
                        if l.status == LineStatus::Due {
                            e.1 += 1;
                        }
                    }
                }
            }
            let mut behind: Vec<(i64, i64, i64)> = by_point
                .into_iter()
                .filter(|(_, (_, due))| *due > 0)
                .map(|(p, (all, due))| (p, all, due))
                .collect();
            behind.sort_by(|a, b| (b.2 * a.1).cmp(&(a.2 * b.1)).then(a.0.cmp(&b.0)));
            let mut t = Table::new(
                web.t("points_behind"),
                &[web.t("point"), web.t("lines"), web.t("due"), "%"],
            );
            for (p, all, due) in behind.iter().take(10) {
                t.row(vec![
                    Cell::link(format!("#{p}"), format!("/points/{p}")),
                    Cell::num(number(*all)),
                    Cell::num(number(*due)),
                    Cell::num(format!("{}%", due * 100 / (*all).max(1))),
                ]);
            }
            page.push(Section::titled("behind", web.t("points_behind")).table(t));
        }
    }

    // Charts: paid per month (the runs the user reaches), people per year, paid by district.
    let mut per_month: BTreeMap<Period, i64> = BTreeMap::new();
    for r in &runs {
        *per_month.entry(r.period).or_default() += sum_status(r, LineStatus::Paid).1.0;
    }
    if !per_month.is_empty() {
        let items: Vec<(String, f64)> = per_month
            .iter()
            .map(|(p, v)| (p.to_string(), *v as f64 / 1e6))
            .collect();
        let every = (items.len() / 6).max(1);
        page.push(
            Section::titled("chart-months", web.t("chart_totals")).svg(charts::columns(
                web.t("chart_totals"),
                "triệu đ",
                &items,
                every,
            )),
        );
    }
    if let (Some(first), Some(last)) = (per_month.keys().next(), per_month.keys().next_back())
        && web.role().may(Action::ReadReports)
    {
        let summary = reports_api::summary(
            State(state.clone()),
            web.caller.clone(),
            ApiQuery(SpanParams {
                from: first.to_string(),
                to: last.to_string(),
            }),
        )
        .await;
        match summary {
            Ok(Json(s)) => {
                let people: Vec<(String, f64)> = s
                    .by_year
                    .iter()
                    .map(|y| (y.year.to_string(), y.beneficiaries as f64))
                    .collect();
                page.push(Section::titled("chart-people", web.t("chart_people")).svg(
                    charts::bars(web.t("chart_people"), web.t("people"), &people),
                ));
                let areas: Vec<(String, f64)> = s
                    .by_area
                    .iter()
                    .map(|g| (g.name.clone(), g.paid_vnd as f64 / 1e6))
                    .collect();
                page.push(
                    Section::titled("chart-areas", web.t("chart_by_area")).svg(charts::bars(
                        web.t("chart_by_area"),
                        "triệu đ",
                        &areas,
                    )),
                );
            }
            // The summary is a province's: others see the charts of their own runs only.
            Err(ApiError::Forbidden(_)) => {}
            Err(e) => return Err(web.fail(e)),
        }
    }
    Ok(page.finish(csv_of(&q)))
}

/// `GET /points`: the payment points the user reaches, and the month's schedules.
pub async fn points(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadPoints)?;
    let Json(points) = points_api::list(State(state.clone()), web.caller.clone())
        .await
        .map_err(|e| web.fail(e))?;
    let mut page = Page::new(web.chrome(web.t("points_title")));
    let tree = state
        .store
        .unit_tree()
        .await
        .map_err(|e| web.fail(e.into()))?;
    let today = chitra_store::Change::now("", "").date();
    let mut t = Table::new(
        format!(
            "{} ({})",
            web.t("points_title"),
            number(points.len() as i64)
        ),
        &[
            "#",
            web.t("code"),
            web.t("name"),
            web.t("kind"),
            web.t("commune"),
            web.t("address"),
            web.t("days"),
        ],
    );
    for p in &points {
        let commune = tree
            .at(UnitLevel::Commune, p.commune.as_str(), today)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| p.commune.as_str().to_owned());
        t.row(vec![
            Cell::link(p.id.to_string(), format!("/points/{}", p.id)),
            Cell::link(&p.code, format!("/points/{}", p.id)),
            Cell::text(&p.name),
            Cell::text(p.kind.code()),
            Cell::text(commune),
            Cell::text(&p.address),
            Cell::text(format!("{}–{}", p.pay_days.0, p.pay_days.1)),
        ]);
    }
    t.csv = Some(web.csv_href("points"));
    page.push(Section::titled("points", web.t("points_title")).table(t));
    Ok(page.finish(csv_of(&q)))
}

/// `GET /points/{id}`: one point and its schedules (403 for an agent of another point).
pub async fn point(
    State(state): State<AppState>,
    web: Web,
    AxPath(id): AxPath<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadPoints)?;
    let month = opt(&q, "period")
        .unwrap_or_else(|| Period::of(chitra_store::Change::now("", "").date()).to_string());
    let form = schedule_form(&web, id, &month);
    let (page, status) =
        point_page(&state, &web, id, &q, &month, form, q.contains_key("saved")).await?;
    if status != StatusCode::OK {
        return Ok(page.respond(status));
    }
    Ok(page.finish(csv_of(&q)))
}

fn schedule_form(web: &Web, id: i64, month: &str) -> Form {
    Form::post(
        "schedule-form",
        format!("/points/{id}"),
        web.t("save"),
        &web.csrf,
    )
    .field(
        Field::new("period", web.t("period"), "text")
            .value(month)
            .required(),
    )
    .field(
        Field::new("days", web.t("days"), "text")
            .required()
            .hint("2-10, 2-6,9-13"),
    )
    .field(
        Field::new("hours", web.t("hours"), "text")
            .value("07:30-16:30")
            .required()
            .hint("07:30-16:30"),
    )
}

async fn point_page(
    state: &AppState,
    web: &Web,
    id: i64,
    q: &HashMap<String, String>,
    month: &str,
    schedule: Form,
    saved: bool,
) -> Result<(Page, StatusCode), crate::web::WebError> {
    let Json(points) = points_api::list(State(state.clone()), web.caller.clone())
        .await
        .map_err(|e| web.fail(e))?;
    let Some(p) = points.into_iter().find(|p| p.id == id) else {
        let exists = state
            .store
            .payment_points()
            .await
            .map_err(|e| web.fail(e.into()))?
            .iter()
            .any(|p| p.id == id);
        return Err(web.fail(if exists {
            ApiError::forbidden(format!("payment point {id} is outside your jurisdiction"))
        } else {
            ApiError::NotFound {
                what: "payment point",
                key: id.to_string(),
            }
        }));
    };
    let mut page = Page::new(web.chrome(format!("{} — {}", p.code, p.name)));
    page.push(
        Section::titled("point", web.t("point"))
            .fact(web.t("code"), &p.code)
            .fact(web.t("name"), &p.name)
            .fact(web.t("kind"), p.kind.code())
            .fact(web.t("address"), &p.address)
            .fact(web.t("days"), format!("{}–{}", p.pay_days.0, p.pay_days.1))
            .fact(web.t("commune"), p.commune.as_str())
            .link(
                format!("/documents/payroll/{id}?period={month}&format=xlsx"),
                format!("{} {month} (.xlsx)", web.t("payroll_list")),
            )
            .link(
                format!("/documents/payroll/{id}?period={month}&format=pdf"),
                format!("{} {month} (PDF)", web.t("payroll_list")),
            )
            .link(
                format!("/documents/notice/{id}?period={month}"),
                format!("{} {month} (PDF)", web.t("point_notice")),
            ),
    );
    let form = Form::get("schedule-month", format!("/points/{id}"), web.t("open"))
        .field(Field::new("period", web.t("period"), "text").value(month));
    let schedules = points_api::schedules(
        State(state.clone()),
        web.caller.clone(),
        ApiQuery(SchedulesParams {
            period: month.to_owned(),
            point: Some(id),
        }),
    )
    .await;
    let schedules = match schedules {
        Ok(Json(s)) => s,
        Err(ApiError::Invalid(e)) => {
            page.push(
                Section::titled("schedules", web.t("schedules")).form(form.refused(
                    Some(&e.field),
                    e.reason,
                    q,
                )),
            );
            return Ok((page, StatusCode::UNPROCESSABLE_ENTITY));
        }
        Err(e) => return Err(web.fail(e)),
    };
    let mut t = Table::new(
        format!("{} {month}", web.t("schedules")),
        &[web.t("month"), web.t("days"), web.t("hours"), ""],
    );
    for s in &schedules {
        t.row(vec![
            Cell::text(s.period.to_string()),
            Cell::text(s.days.to_string()),
            Cell::text(format!(
                "{}–{}",
                s.opens.format("%H:%M"),
                s.closes.format("%H:%M")
            )),
            Cell::text(if s.default {
                "(mặc định / default)"
            } else {
                ""
            }),
        ]);
    }
    let mut sec = Section::titled("schedules", web.t("schedules"))
        .form(form)
        .table(t);
    if saved {
        sec = sec.note("ok", format!("✓ {}", web.t("saved")));
    }
    page.push(sec);
    let status = if schedule.has_errors() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    if web.role().may(Action::ManagePoints) {
        page.push(Section::titled("set-schedule", web.t("set_schedule")).form(schedule));
    }
    Ok((page, status))
}

/// `POST /points/{id}`: sets the point's schedule for a month.
pub async fn set_schedule(
    State(state): State<AppState>,
    web: Web,
    AxPath(id): AxPath<i64>,
    PostForm(typed): PostForm<HashMap<String, String>>,
) -> WebResult {
    web.check_csrf(typed.get("csrf"))?;
    web.require(Action::ManagePoints)?;
    let month = typed
        .get("period")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let done = points_api::set_schedule(
        State(state.clone()),
        web.caller.clone(),
        crate::api::Path((id, month.clone())),
        Ok(Json(points_api::ScheduleRequest {
            days: typed.get("days").cloned().unwrap_or_default(),
            hours: typed.get("hours").cloned().unwrap_or_default(),
        })),
    )
    .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/points/{id}?period={month}&saved=1")).into_response()),
        Err(ApiError::Invalid(e)) => {
            let form = schedule_form(&web, id, &month).refused(Some(&e.field), e.reason, &typed);
            let shown = Period::parse(&month)
                .map(|p| p.to_string())
                .unwrap_or_else(|_| {
                    Period::of(chitra_store::Change::now("", "").date()).to_string()
                });
            let (page, _) =
                point_page(&state, &web, id, &HashMap::new(), &shown, form, false).await?;
            Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(web.fail(e)),
    }
}

fn fee_text(f: &FeeRule) -> String {
    match f {
        FeeRule::Percent { basis_points } => {
            format!("{}.{:02}%", basis_points / 100, basis_points % 100)
        }
        FeeRule::PerBeneficiary { amount } => format!("{} / người", money(*amount)),
    }
}

/// `GET /contracts`: the contracts, and the form to record one.
pub async fn contracts(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadContracts)?;
    let mut page = contracts_page(&state, &web, None).await?;
    if q.contains_key("saved")
        && let Some(s) = page.sections.iter_mut().find(|s| s.id == "contracts")
    {
        s.note = Some(crate::web::views::Note {
            kind: "ok",
            text: format!("✓ {}", web.t("saved")),
        });
    }
    Ok(page.finish(csv_of(&q)))
}

async fn contracts_page(
    state: &AppState,
    web: &Web,
    refused: Option<Form>,
) -> Result<Page, crate::web::WebError> {
    let Json(all) = payroll_api::contracts(State(state.clone()), web.caller.clone())
        .await
        .map_err(|e| web.fail(e))?;
    let mut page = Page::new(web.chrome(web.t("contracts_title")));
    let mut t = Table::new(
        web.t("contracts_title"),
        &[
            web.t("code"),
            web.t("name"),
            web.t("post_office"),
            web.t("fee"),
            web.t("pay_window"),
            web.t("valid_from"),
            web.t("valid_to"),
        ],
    );
    for c in &all {
        let k = &c.terms;
        t.row(vec![
            Cell::text(&k.code),
            Cell::text(&k.name),
            Cell::text(&k.post_office),
            Cell::text(fee_text(&k.fee)),
            Cell::text(format!("{}–{}", k.pay_from_day, k.pay_to_day)),
            Cell::text(k.valid_from.to_string()),
            Cell::text(k.valid_to.map(|p| p.to_string()).unwrap_or_default()),
        ]);
    }
    t.csv = Some(web.csv_href("contracts"));
    page.push(Section::titled("contracts", web.t("contracts_title")).table(t));
    if web.role().may(Action::ManageContracts) {
        let form = match refused {
            Some(f) => f,
            None => contract_form(state, web).await?,
        };
        page.push(Section::titled("add-contract", web.t("add_contract")).form(form));
    }
    Ok(page)
}

async fn contract_form(state: &AppState, web: &Web) -> Result<Form, crate::web::WebError> {
    let tree = state
        .store
        .unit_tree()
        .await
        .map_err(|e| web.fail(e.into()))?;
    let offices: Vec<(String, String)> = state
        .store
        .offices()
        .await
        .map_err(|e| web.fail(e.into()))?
        .into_iter()
        .filter(|o| {
            crate::scope::office_reach(&web.caller, o, &tree) == Some(crate::scope::Reach::Whole)
        })
        .map(|o| (o.id.to_string(), format!("{} (#{})", o.name, o.id)))
        .collect();
    Ok(
        Form::post("contract-form", "/contracts", web.t("save"), &web.csrf)
            .field(
                Field::new("code", web.t("code"), "text")
                    .required()
                    .hint("BT-BĐ-2021"),
            )
            .field(Field::new("name", web.t("name"), "text").required())
            .field(
                Field::new("office_id", web.t("office"), "select")
                    .options(offices)
                    .required(),
            )
            .field(Field::new("post_office", web.t("post_office"), "text").required())
            .field(
                Field::new("area_code", web.t("area_code"), "text")
                    .required()
                    .hint("83"),
            )
            .field(
                Field::new("fee", web.t("fee"), "text")
                    .required()
                    .hint("1.2% — 6600/beneficiary"),
            )
            .field(Field::new("advance_by_day", web.t("advance_by_day"), "number").value("25"))
            .field(Field::new("pay_from_day", web.t("pay_from_day"), "number").value("2"))
            .field(Field::new("pay_to_day", web.t("pay_to_day"), "number").value("20"))
            .field(Field::new("report_by_day", web.t("report_by_day"), "number").value("20"))
            .field(
                Field::new("valid_from", web.t("valid_from"), "text")
                    .required()
                    .hint("YYYY-MM"),
            )
            .field(Field::new("valid_to", web.t("valid_to"), "text").hint("YYYY-MM")),
    )
}

fn parse_contract(
    typed: &HashMap<String, String>,
    lang: Lang,
) -> Result<ContractForm, chitra_core::FieldError> {
    let g = |k: &str| {
        typed
            .get(k)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    Ok(ContractForm {
        code: g("code"),
        name: g("name"),
        office_id: g("office_id").parse::<i64>().map_err(|_| {
            chitra_core::FieldError::new(
                "office_id",
                format!("'{}' {}", g("office_id"), not_number(lang)),
            )
        })?,
        post_office: g("post_office"),
        area_code: g("area_code"),
        program: Program::SocialAssistance.code().to_owned(),
        fee: g("fee"),
        advance_by_day: number_or(typed, "advance_by_day", 25u8, lang)?,
        pay_from_day: number_or(typed, "pay_from_day", 2u8, lang)?,
        pay_to_day: number_or(typed, "pay_to_day", 20u8, lang)?,
        report_by_day: number_or(typed, "report_by_day", 20u8, lang)?,
        valid_from: g("valid_from"),
        valid_to: opt(typed, "valid_to"),
    })
}

/// `POST /contracts`: records a payment contract (the core's form, the API's checks).
pub async fn add_contract(
    State(state): State<AppState>,
    web: Web,
    PostForm(typed): PostForm<HashMap<String, String>>,
) -> WebResult {
    web.check_csrf(typed.get("csrf"))?;
    web.require(Action::ManageContracts)?;
    let parsed = parse_contract(&typed, web.lang);
    let done = match parsed {
        Ok(form) => {
            payroll_api::add_contract(State(state.clone()), web.caller.clone(), Ok(Json(form)))
                .await
                .map(|_| ())
        }
        Err(e) => Err(ApiError::Invalid(e)),
    };
    match done {
        Ok(()) => Ok(Redirect::to("/contracts?saved=1").into_response()),
        Err(ApiError::Invalid(e)) => {
            let form = contract_form(&state, &web)
                .await?
                .refused(Some(&e.field), e.reason, &typed);
            let page = contracts_page(&state, &web, Some(form)).await?;
            Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(web.fail(e)),
    }
}

/// `GET /reports?from=&to=`: the multi-year summary and its breakdowns, each table as CSV.
pub async fn reports(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadReports)?;
    let runs = payroll_api::list(
        State(state.clone()),
        web.caller.clone(),
        ApiQuery(payroll_api::RunsParams { period: None }),
    )
    .await
    .map_err(|e| web.fail(e))?
    .0;
    let closed: Vec<Period> = runs
        .iter()
        .filter(|r| r.state == RunState::Closed)
        .map(|r| r.period)
        .collect();
    let from = opt(&q, "from")
        .or_else(|| closed.iter().min().map(|p| p.to_string()))
        .unwrap_or_default();
    let to = opt(&q, "to")
        .or_else(|| closed.iter().max().map(|p| p.to_string()))
        .unwrap_or_default();
    let mut page = Page::new(web.chrome(web.t("reports_title")));
    let form = Form::get("report-span", "/reports", web.t("open"))
        .field(
            Field::new("from", web.t("from"), "text")
                .value(&from)
                .hint("YYYY-MM"),
        )
        .field(
            Field::new("to", web.t("to"), "text")
                .value(&to)
                .hint("YYYY-MM"),
        );
    let summary = reports_api::summary(
        State(state.clone()),
        web.caller.clone(),
        ApiQuery(SpanParams {
            from: from.clone(),
            to: to.clone(),
        }),
    )
    .await;
    let s = match summary {
        Ok(Json(s)) => s,
        Err(ApiError::Invalid(e)) => {
            page.push(Section::titled("span", web.t("summary")).form(form.refused(
                Some(&e.field),
                e.reason,
                &q,
            )));
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        }
        Err(e) => return Err(web.fail(e)),
    };
    page.push(
        Section::titled(
            "span",
            format!("{} {} – {}", web.t("summary"), s.from, s.to),
        )
        .form(form)
        .fact(web.t("turns"), number(s.beneficiary_turns))
        .fact(web.t("total_paid"), money(Dong(s.total_paid_vnd)))
        .fact(web.t("points_active"), number(s.payment_points))
        .fact(web.t("lines_paid"), number(s.lines_paid)),
    );
    let mut t = Table::new(
        web.t("by_year"),
        &[web.t("month"), web.t("beneficiaries"), web.t("total_paid")],
    );
    for y in &s.by_year {
        t.row(vec![
            Cell::text(y.year.to_string()),
            Cell::num(number(y.beneficiaries)),
            Cell::num(money(Dong(y.paid_vnd))),
        ]);
    }
    t.csv = Some(web.csv_href("by-year"));
    page.push(Section::titled("by-year", web.t("by_year")).table(t));
    for (id, key, rows) in [
        ("by-area", "by_area", &s.by_area),
        ("by-category", "by_category", &s.by_category),
    ] {
        let mut t = Table::new(
            web.t(key),
            &[
                web.t("code"),
                web.t("name"),
                web.t("turns"),
                web.t("total_paid"),
            ],
        );
        for g in rows {
            t.row(vec![
                Cell::text(&g.key),
                Cell::text(&g.name),
                Cell::num(number(g.beneficiary_turns)),
                Cell::num(money(Dong(g.paid_vnd))),
            ]);
        }
        t.csv = Some(web.csv_href(id));
        page.push(Section::titled(id, web.t(key)).table(t));
    }
    // By month: the runs the user reaches, paid and lines, month by month in the span.
    let (pf, pt) = (Period::parse(&from).ok(), Period::parse(&to).ok());
    let mut per_month: BTreeMap<Period, (i64, Dong, i64)> = BTreeMap::new();
    for r in runs
        .iter()
        .filter(|r| pf.is_none_or(|f| r.period >= f) && pt.is_none_or(|t| r.period <= t))
    {
        let (n, a) = sum_status(r, LineStatus::Paid);
        let e = per_month.entry(r.period).or_insert((0, Dong::ZERO, 0));
        e.0 += n;
        e.1 = e.1.checked_add(a).unwrap_or(e.1);
        e.2 += r.lines;
    }
    let mut t = Table::new(
        web.t("by_month"),
        &[
            web.t("month"),
            web.t("lines"),
            web.t("lines_paid"),
            web.t("total_paid"),
        ],
    );
    for (p, (n, a, lines)) in &per_month {
        t.row(vec![
            Cell::text(p.to_string()),
            Cell::num(number(*lines)),
            Cell::num(number(*n)),
            Cell::num(money(*a)),
        ]);
    }
    t.csv = Some(web.csv_href("by-month"));
    page.push(Section::titled("by-month", web.t("by_month")).table(t));
    Ok(page.finish(csv_of(&q)))
}

/// `GET /anomalies?period=&kind=&point=`: flags raised by payments, with their evidence.
pub async fn anomalies(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadAnomalies)?;
    let kinds: Vec<(String, String)> = std::iter::once((String::new(), "—".to_owned()))
        .chain(
            chitra_core::anomaly::FlagKind::ALL
                .iter()
                .map(|k| (k.code().to_owned(), k.code().replace('_', " "))),
        )
        .collect();
    let form = Form::get("flag-filter", "/anomalies", web.t("filter"))
        .field(
            Field::new("period", web.t("period"), "text")
                .value(opt(&q, "period").unwrap_or_default()),
        )
        .field(
            Field::new("kind", web.t("kind"), "select")
                .options(kinds)
                .value(opt(&q, "kind").unwrap_or_default()),
        )
        .field(
            Field::new("point", web.t("point"), "text").value(opt(&q, "point").unwrap_or_default()),
        );
    let mut page = Page::new(web.chrome(web.t("anomalies_title")));
    let offset = opt(&q, "offset")
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let point = match opt(&q, "point").map(|p| p.parse::<i64>()) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            page.push(
                Section::titled("filter", web.t("filter")).form(form.refused(
                    Some("point"),
                    not_number(web.lang).to_owned(),
                    &q,
                )),
            );
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let found = points_api::flags(
        State(state.clone()),
        web.caller.clone(),
        ApiQuery(FlagsParams {
            period: opt(&q, "period"),
            kind: opt(&q, "kind"),
            point,
            limit: Some(100),
            offset: Some(offset),
        }),
    )
    .await;
    let found = match found {
        Ok(Json(f)) => f,
        Err(ApiError::Invalid(e)) => {
            page.push(
                Section::titled("filter", web.t("filter")).form(form.refused(
                    Some(&e.field),
                    e.reason,
                    &q,
                )),
            );
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        }
        Err(e) => return Err(web.fail(e)),
    };
    page.push(Section::titled("filter", web.t("filter")).form(form));
    let mut t = Table::new(
        format!("{} ({})", web.t("flags"), number(found.total)),
        &[
            web.t("month"),
            web.t("kind"),
            web.t("code"),
            web.t("full_name"),
            web.t("point"),
            web.t("agent"),
            web.t("paid_at"),
            web.t("payment_id"),
            web.t("evidence"),
        ],
    );
    for f in &found.items {
        t.row(vec![
            Cell::text(f.period.to_string()),
            Cell::text(f.kind.code()),
            Cell::link(
                &f.beneficiary_code,
                format!("/beneficiaries/{}", f.beneficiary_code),
            ),
            Cell::text(&f.full_name),
            Cell::text(f.point_code.clone().unwrap_or_default()),
            Cell::text(&f.agent),
            Cell::text(&f.paid_at),
            Cell::text(&f.payment_id),
            Cell::text(f.evidence.to_string()),
        ]);
    }
    let base: Vec<String> = ["period", "kind", "point"]
        .iter()
        .filter_map(|k| opt(&q, k).map(|v| format!("{k}={}", crate::web::views::url_encode(&v))))
        .collect();
    let link = |o: i64| {
        let mut b = base.clone();
        b.push(format!("offset={o}"));
        format!("/anomalies?{}", b.join("&"))
    };
    if offset > 0 {
        t.prev = Some(link((offset - 100).max(0)));
    }
    if offset + 100 < found.total {
        t.next = Some(link(offset + 100));
    }
    t.csv = Some(web.csv_href("flags"));
    page.push(Section::titled("flags", web.t("flags")).table(t));
    Ok(page.finish(csv_of(&q)))
}

/// `GET /audit?who=&what=&subject=&limit=&verify=1`: the journal's latest entries, filtered, and
/// (on request, it reads the whole chain) its verification.
pub async fn audit(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadAudit)?;
    let mut page = Page::new(web.chrome(web.t("audit_title")));
    let limit_text = opt(&q, "limit").unwrap_or_else(|| "200".into());
    let form = Form::get("audit-filter", "/audit", web.t("filter"))
        .field(Field::new("who", web.t("who"), "text").value(opt(&q, "who").unwrap_or_default()))
        .field(Field::new("what", web.t("what"), "text").value(opt(&q, "what").unwrap_or_default()))
        .field(
            Field::new("subject", web.t("detail"), "text")
                .value(opt(&q, "subject").unwrap_or_default()),
        )
        .field(Field::new("limit", "Số bản ghi / entries (1–1000)", "text").value(&limit_text));
    let limit = match limit_text.parse::<i64>() {
        Ok(l) => l,
        Err(_) => {
            page.push(
                Section::titled("filter", web.t("filter")).form(form.refused(
                    Some("limit"),
                    not_number(web.lang).to_owned(),
                    &q,
                )),
            );
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let entries = audit_api::log(
        State(state.clone()),
        web.caller.clone(),
        ApiQuery(audit_api::LogParams { limit: Some(limit) }),
    )
    .await;
    let entries = match entries {
        Ok(Json(e)) => e,
        Err(ApiError::Invalid(e)) => {
            page.push(
                Section::titled("filter", web.t("filter")).form(form.refused(
                    Some(&e.field),
                    e.reason,
                    &q,
                )),
            );
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        }
        Err(e) => return Err(web.fail(e)),
    };
    let mut v = Section::titled("verify", web.t("verify"));
    if q.contains_key("verify") {
        let Json(check) = audit_api::verify(State(state.clone()), web.caller.clone())
            .await
            .map_err(|e| web.fail(e))?;
        v = if check.intact {
            v.note("ok", format!("✓ {}", web.t("intact")))
        } else {
            v.note("error", web.t("broken"))
        };
        v = v
            .fact(
                web.t("entries_checked"),
                number(check.entries_checked as i64),
            )
            .fact(web.t("head_hash"), &check.head_hash);
        if let Some(m) = &check.first_mismatch {
            v = v.para(format!("{m:?}"));
        }
    } else {
        v = v.link("/audit?verify=1", web.t("verify"));
    }
    page.push(v);
    page.push(Section::titled("filter", web.t("filter")).form(form));
    let has = |field: &str, key: &str| match opt(&q, key) {
        Some(want) => field.to_lowercase().contains(&want.to_lowercase()),
        None => true,
    };
    let mut t = Table::new(
        web.t("journal"),
        &[
            "#",
            web.t("at"),
            web.t("who"),
            web.t("what"),
            web.t("detail"),
            web.t("reason"),
        ],
    );
    for e in entries.iter().filter(|e| {
        has(&e.draft.actor, "who")
            && has(&e.draft.action, "what")
            && has(&e.draft.subject, "subject")
    }) {
        t.row(vec![
            Cell::num(e.seq.to_string()),
            Cell::text(&e.draft.at),
            Cell::text(&e.draft.actor),
            Cell::text(&e.draft.action),
            Cell::text(&e.draft.subject),
            Cell::text(&e.draft.reason),
        ]);
    }
    t.csv = Some(web.csv_href("journal"));
    page.push(Section::titled("journal", web.t("journal")).table(t));
    Ok(page.finish(csv_of(&q)))
}
