//! The month: generate the payroll and read its differences from last month; approve it (a second
//! person); record the fund advance; open payment and follow it by point; close; the settlement.

use std::collections::{BTreeMap, HashMap};

use axum::Form as PostForm;
use axum::extract::{Path as AxPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chitra_core::access::Action;
use chitra_core::payroll::{Channel, LineStatus, RunState};
use chitra_core::{Dong, Period};
use chitra_store::cycle::{LineFilter, Run};

use crate::api::payroll::{self as api, GenerateRequest, RunsParams};
use crate::api::reports::{self, PeriodParams};
use crate::api::{Path, Query as ApiQuery};
use crate::error::ApiError;
use crate::json::Json;
use crate::scope;
use crate::state::AppState;
use crate::web::register::status_name;
use crate::web::views::{Cell, Field, Form, Section, Table, money, number, opt};
use crate::web::{Lang, Page, Web, WebError, WebResult};

pub fn state_name(lang: Lang, s: RunState) -> &'static str {
    match (lang, s) {
        (Lang::Vi, RunState::Draft) => "Dự thảo",
        (Lang::Vi, RunState::Approved) => "Đã phê duyệt",
        (Lang::Vi, RunState::Funded) => "Đã chuyển kinh phí",
        (Lang::Vi, RunState::Paying) => "Đang chi trả",
        (Lang::Vi, RunState::Closed) => "Đã kết thúc",
        (Lang::En, RunState::Draft) => "Draft",
        (Lang::En, RunState::Approved) => "Approved",
        (Lang::En, RunState::Funded) => "Funded",
        (Lang::En, RunState::Paying) => "Paying",
        (Lang::En, RunState::Closed) => "Closed",
    }
}

async fn office_names(state: &AppState, web: &Web) -> Result<HashMap<i64, String>, WebError> {
    Ok(state
        .store
        .offices()
        .await
        .map_err(|e| web.fail(e.into()))?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

/// The offices whose payroll the user may generate (the whole of their area is the user's).
async fn own_offices(state: &AppState, web: &Web) -> Result<Vec<(String, String)>, WebError> {
    let tree = state
        .store
        .unit_tree()
        .await
        .map_err(|e| web.fail(e.into()))?;
    let mut out: Vec<(String, String)> = state
        .store
        .offices()
        .await
        .map_err(|e| web.fail(e.into()))?
        .into_iter()
        .filter(|o| scope::office_reach(&web.caller, o, &tree) == Some(scope::Reach::Whole))
        .filter(|o| o.kind != chitra_core::office::OfficeKind::Department)
        .map(|o| (o.id.to_string(), format!("{} (#{})", o.name, o.id)))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn generate_form(web: &Web, offices: Vec<(String, String)>, period: &str) -> Form {
    Form::post("generate-form", "/payrolls", web.t("generate"), &web.csrf)
        .field(
            Field::new("office_id", web.t("office"), "select")
                .options(offices)
                .required(),
        )
        .field(
            Field::new("period", web.t("period"), "text")
                .value(period)
                .required(),
        )
}

async fn runs_of(
    state: &AppState,
    web: &Web,
    period: Option<Period>,
) -> Result<Vec<Run>, WebError> {
    api::list(
        State(state.clone()),
        web.caller.clone(),
        ApiQuery(RunsParams {
            period: period.map(|p| p.to_string()),
        }),
    )
    .await
    .map(|j| j.0)
    .map_err(|e| web.fail(e))
}

/// `GET /payrolls?period=YYYY-MM`: the month's runs and the form to generate one.
pub async fn list(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadPayroll)?;
    list_page(&state, &web, &q, None).await
}

async fn list_page(
    state: &AppState,
    web: &Web,
    q: &HashMap<String, String>,
    refused: Option<Form>,
) -> WebResult {
    let all = runs_of(state, web, None).await?;
    let latest = all.iter().map(|r| r.period).max();
    let asked = match opt(q, "period") {
        Some(p) => match Period::parse(&p) {
            Ok(p) => Some(p),
            Err(e) => return Err(web.fail(ApiError::Invalid(e.renamed("period")))),
        },
        None => latest,
    };
    let names = office_names(state, web).await?;
    let mut page = Page::new(web.chrome(web.t("month_title")));
    if web.role().may(Action::GeneratePayroll) {
        let next = latest
            .map(|p| {
                if all
                    .iter()
                    .any(|r| r.period == p && r.state == RunState::Draft)
                {
                    p
                } else {
                    p.next()
                }
            })
            .map(|p| p.to_string())
            .unwrap_or_default();
        let form = match refused {
            Some(f) => f,
            None => generate_form(web, own_offices(state, web).await?, &next),
        };
        page.push(Section::titled("generate", web.t("generate_title")).form(form));
    }
    let mut periods: Vec<Period> = all.iter().map(|r| r.period).collect();
    periods.sort();
    periods.dedup();
    let mut t = Table::new(
        format!(
            "{} {}",
            web.t("runs"),
            asked.map(|p| p.to_string()).unwrap_or_default()
        ),
        &[
            "#",
            web.t("office"),
            web.t("month"),
            web.t("state"),
            web.t("lines"),
            web.t("total"),
            web.t("paid"),
            web.t("generated_by"),
            web.t("approved_by"),
        ],
    );
    for r in all.iter().filter(|r| Some(r.period) == asked) {
        let paid = r
            .by_status
            .iter()
            .find(|s| s.status == LineStatus::Paid)
            .map(|s| s.amount)
            .unwrap_or(Dong::ZERO);
        t.row(vec![
            Cell::link(r.id.to_string(), format!("/payrolls/{}", r.id)),
            Cell::link(
                names.get(&r.office_id).cloned().unwrap_or_default(),
                format!("/payrolls/{}", r.id),
            ),
            Cell::text(r.period.to_string()),
            Cell::text(state_name(web.lang, r.state)),
            Cell::num(number(r.lines)),
            Cell::num(money(r.total)),
            Cell::num(money(paid)),
            Cell::text(&r.generated_by),
            Cell::text(r.approved_by.clone().unwrap_or_default()),
        ]);
    }
    t.csv = Some(web.csv_href("runs"));
    let mut s = Section::titled("runs", web.t("runs")).table(t);
    for p in periods.iter().rev().take(24) {
        s = s.link(format!("/payrolls?period={p}"), p.to_string());
    }
    if let Some(p) = asked {
        s = s.link(
            format!("/settlement?period={p}"),
            format!("{} {p}", web.t("settlement")),
        );
    }
    page.push(s);
    let status = if page
        .sections
        .iter()
        .any(|s| s.form.as_ref().is_some_and(Form::has_errors))
    {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    if status != StatusCode::OK {
        return Ok(page.respond(status));
    }
    Ok(page.finish(q.get("csv").map(String::as_str)))
}

/// `POST /payrolls`: generates an office's payroll for a month.
pub async fn generate(
    State(state): State<AppState>,
    web: Web,
    PostForm(typed): PostForm<HashMap<String, String>>,
) -> WebResult {
    web.check_csrf(typed.get("csrf"))?;
    web.require(Action::GeneratePayroll)?;
    let offices = own_offices(&state, &web).await?;
    let office = match opt(&typed, "office_id").map(|s| s.parse::<i64>()) {
        Some(Ok(id)) => id,
        _ => {
            let f = generate_form(&web, offices, "").refused(
                Some("office_id"),
                match web.lang {
                    Lang::Vi => "chọn một đơn vị".into(),
                    Lang::En => "choose an office".into(),
                },
                &typed,
            );
            return list_page(&state, &web, &HashMap::new(), Some(f)).await;
        }
    };
    let made = api::generate(
        State(state.clone()),
        web.caller.clone(),
        Ok(Json(GenerateRequest {
            office_id: office,
            period: typed.get("period").cloned().unwrap_or_default(),
            program: None,
        })),
    )
    .await;
    match made {
        Ok((_, Json(run))) => Ok(Redirect::to(&format!("/payrolls/{}", run.id)).into_response()),
        Err(ApiError::Invalid(e)) => {
            let f = generate_form(&web, offices, "").refused(Some(&e.field), e.reason, &typed);
            list_page(&state, &web, &HashMap::new(), Some(f)).await
        }
        Err(e) => Err(web.fail(e)),
    }
}

/// `GET /payrolls/{id}`: the run, its next step, its differences, its progress by point.
pub async fn show(
    State(state): State<AppState>,
    web: Web,
    AxPath(id): AxPath<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadPayroll)?;
    let page = run_page(&state, &web, id, None).await?;
    Ok(page.finish(q.get("csv").map(String::as_str)))
}

async fn run_page(
    state: &AppState,
    web: &Web,
    id: i64,
    note: Option<(&'static str, String)>,
) -> Result<Page, WebError> {
    let Json(run) = api::show(State(state.clone()), web.caller.clone(), Path(id))
        .await
        .map_err(|e| web.fail(e))?;
    let names = office_names(state, web).await?;
    let office = names.get(&run.office_id).cloned().unwrap_or_default();
    let mut page = Page::new(web.chrome(format!(
        "{} #{} — {} — {}",
        web.t("runs"),
        run.id,
        office,
        run.period
    )));
    let mut s = Section::titled("run", format!("{} — {}", office, run.period))
        .fact(web.t("state"), state_name(web.lang, run.state))
        .fact(web.t("lines"), number(run.lines))
        .fact(web.t("total"), money(run.total))
        .fact(web.t("to_advance"), money(run.to_advance))
        .fact(web.t("generated_by"), &run.generated_by)
        .fact(
            web.t("approved_by"),
            run.approved_by.clone().unwrap_or_default(),
        );
    if let Some(fee) = run.fee {
        s = s.fact(web.t("fee"), money(fee));
    }
    for st in &run.by_status {
        s = s.fact(
            status_name(web.lang, st.status.code()),
            format!("{} — {}", number(st.lines), money(st.amount)),
        );
    }
    if let Some((kind, text)) = note {
        s = s.note(kind, text);
    }
    let role = web.role();
    let step = match run.state {
        RunState::Draft => Some(("approve", Action::ApprovePayroll, web.t("approve"))),
        RunState::Approved => Some(("fund", Action::FundPayroll, web.t("fund"))),
        RunState::Funded => Some(("open", Action::OpenPayroll, web.t("open_payment"))),
        RunState::Paying => Some(("close", Action::ClosePayroll, web.t("close"))),
        RunState::Closed => None,
    };
    if let Some((path, action, label)) = step
        && role.may(action)
    {
        s = s.action(Form::post(
            &format!("step-{path}"),
            format!("/payrolls/{}/{path}", run.id),
            label,
            &web.csrf,
        ));
        if run.state == RunState::Draft {
            s = s.para(web.t("approve_note"));
        }
    }
    s = s.link(
        format!("/settlement?period={}", run.period),
        format!("{} {}", web.t("settlement"), run.period),
    );
    page.push(s);

    // Progress by point: every line the user reaches, added up by point and status.
    let reach = scope::run_reach(state, &web.caller, &run)
        .await
        .map_err(|e| web.fail(e))?;
    let mut filter = LineFilter {
        limit: 10_000,
        ..LineFilter::default()
    };
    scope::narrow_lines(&web.caller, reach, &mut filter).map_err(|e| web.fail(e))?;
    let mut by_point: BTreeMap<String, [(i64, Dong); 4]> = BTreeMap::new();
    loop {
        let lines = state
            .store
            .run_lines(run.id, &filter)
            .await
            .map_err(|e| web.fail(e.into()))?;
        for l in &lines.items {
            let key = match l.channel {
                Channel::Point(p) => format!("{} #{p}", web.t("point")),
                Channel::Bank => web.t("bank").to_owned(),
                Channel::Facility(f) => format!("{} #{f}", web.t("facility")),
            };
            let ix = match l.status {
                LineStatus::Due => 0,
                LineStatus::Paid => 1,
                LineStatus::Carried => 2,
                LineStatus::Returned => 3,
            };
            let e = by_point.entry(key).or_default();
            e[ix].0 += 1;
            e[ix].1 = e[ix].1.checked_add(l.total).unwrap_or(e[ix].1);
        }
        filter.offset += lines.items.len() as i64;
        if lines.items.is_empty() || filter.offset >= lines.total {
            break;
        }
    }
    let mut t = Table::new(
        web.t("progress_by_point"),
        &[
            web.t("point"),
            web.t("due"),
            web.t("paid"),
            web.t("carried"),
            web.t("returned"),
            "%",
        ],
    );
    for (point, c) in &by_point {
        let all: i64 = c.iter().map(|x| x.0).sum();
        let pct = if all > 0 { c[1].0 * 100 / all } else { 0 };
        let mut row = vec![Cell::text(point)];
        for x in c {
            row.push(Cell::num(format!("{} ({})", number(x.0), money(x.1))));
        }
        row.push(Cell::num(format!("{pct}%")));
        t.row(row);
    }
    t.csv = Some(web.csv_href("progress"));
    page.push(Section::titled("progress", web.t("progress_by_point")).table(t));

    if reach == scope::Reach::Whole {
        let diffs = state
            .store
            .run_differences(run.id)
            .await
            .map_err(|e| web.fail(e.into()))?;
        let mut t = Table::new(
            format!("{} ({})", web.t("differences"), number(diffs.len() as i64)),
            &[
                web.t("code"),
                web.t("full_name"),
                web.t("kind"),
                web.t("before"),
                web.t("now"),
                web.t("why"),
            ],
        );
        for d in &diffs {
            t.row(vec![
                Cell::link(
                    &d.beneficiary_code,
                    format!("/beneficiaries/{}", d.beneficiary_code),
                ),
                Cell::text(&d.full_name),
                Cell::text(format!("{:?}", d.kind).to_lowercase()),
                Cell::num(money(d.before)),
                Cell::num(money(d.now)),
                Cell::text(&d.why),
            ]);
        }
        t.csv = Some(web.csv_href("differences"));
        page.push(Section::titled("differences", web.t("differences")).table(t));
    }
    Ok(page)
}

/// `POST /payrolls/{id}/{approve|fund|open|close}`.
pub async fn step(
    State(state): State<AppState>,
    web: Web,
    AxPath((id, step)): AxPath<(i64, String)>,
    PostForm(typed): PostForm<HashMap<String, String>>,
) -> WebResult {
    web.check_csrf(typed.get("csrf"))?;
    let s = State(state.clone());
    let c = web.caller.clone();
    let done: Result<String, ApiError> = match step.as_str() {
        "approve" => api::approve(s, c, Path(id))
            .await
            .map(|_| web.t("approve").to_owned()),
        "fund" => api::fund(s, c, Path(id))
            .await
            .map(|_| web.t("fund").to_owned()),
        "open" => api::open(s, c, Path(id))
            .await
            .map(|_| web.t("open_payment").to_owned()),
        "close" => api::close(s, c, Path(id)).await.map(|Json(closed)| {
            format!(
                "{}: {} {}, {} {}, {} {}",
                web.t("closed_note"),
                web.t("carried"),
                closed.carried,
                web.t("returned"),
                closed.returned,
                web.t("suspended"),
                closed.suspended.len()
            )
        }),
        other => Err(ApiError::NotFound {
            what: "step",
            key: other.to_owned(),
        }),
    };
    match done {
        Ok(what) => {
            let page = run_page(&state, &web, id, Some(("ok", format!("✓ {what}")))).await?;
            Ok(page.ok())
        }
        Err(e @ (ApiError::Forbidden(_) | ApiError::Invalid(_) | ApiError::Conflict { .. })) => {
            let status = e.status();
            let message = e.body().error.message;
            let page = run_page(&state, &web, id, Some(("error", message))).await?;
            Ok(page.respond(status))
        }
        Err(e) => Err(web.fail(e)),
    }
}

/// `GET /settlement?period=YYYY-MM`: advanced = paid + returned + still held, per contract and point.
pub async fn settlement(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadReports)?;
    let period = match opt(&q, "period") {
        Some(p) => p,
        None => {
            let all = runs_of(&state, &web, None).await?;
            all.iter()
                .filter(|r| r.state == RunState::Closed)
                .map(|r| r.period)
                .max()
                .map(|p| p.to_string())
                .unwrap_or_default()
        }
    };
    let mut page = Page::new(web.chrome(format!("{} {period}", web.t("settlement_title"))));
    let form = Form::get("settlement-form", "/settlement", web.t("open")).field(
        Field::new("period", web.t("period"), "text")
            .value(&period)
            .required(),
    );
    let report = reports::settlement(
        State(state.clone()),
        web.caller.clone(),
        ApiQuery(PeriodParams {
            period: period.clone(),
        }),
    )
    .await;
    let report = match report {
        Ok(Json(r)) => r,
        Err(ApiError::Invalid(e)) => {
            page.push(Section::titled("pick", web.t("period")).form(form.refused(
                Some(&e.field),
                e.reason,
                &q,
            )));
            return Ok(page.respond(StatusCode::UNPROCESSABLE_ENTITY));
        }
        Err(e) => return Err(web.fail(e)),
    };
    page.push(Section::titled("pick", web.t("period")).form(form));
    let verdict = if report.balances {
        Section::titled("verdict", web.t("settlement"))
            .note("ok", format!("✓ {}", web.t("balances")))
    } else {
        Section::titled("verdict", web.t("settlement")).note(
            "error",
            format!("{} — {}", web.t("balances_not"), web.t("balances")),
        )
    };
    let mut verdict = verdict;
    for c in state
        .store
        .contracts()
        .await
        .map_err(|e| web.fail(e.into()))?
        .iter()
        .filter(|c| crate::web::downloads::covers_contract(&web.caller, &c.terms))
    {
        for format in ["xlsx", "pdf"] {
            verdict = verdict.link(
                format!(
                    "/documents/settlement?period={period}&contract={}&format={format}",
                    crate::web::views::url_encode(&c.terms.code)
                ),
                format!("{} {} ({format})", web.t("settlement_doc"), c.terms.code),
            );
        }
    }
    if crate::web::downloads::covers_province(&web.caller) {
        verdict = verdict.link(
            format!("/documents/payout?period={period}"),
            format!("{} {period} (CSV)", web.t("payout_file")),
        );
    }
    page.push(verdict);
    let mut t = Table::new(
        web.t("contracts_title"),
        &[
            web.t("account"),
            web.t("advanced"),
            web.t("paid"),
            web.t("returned"),
            web.t("still_held"),
            web.t("fee"),
            web.t("lines_paid"),
            "✓",
        ],
    );
    for (name, c) in &report.settlement.contracts {
        t.row(vec![
            Cell::text(name),
            Cell::num(money(c.advanced)),
            Cell::num(money(c.paid)),
            Cell::num(money(c.returned)),
            Cell::num(money(c.held_after)),
            Cell::num(money(c.fee)),
            Cell::num(number(c.paid_lines)),
            Cell::text(if c.balances {
                web.t("yes")
            } else {
                web.t("no")
            }),
        ]);
    }
    t.csv = Some(web.csv_href("contracts"));
    page.push(Section::titled("contracts", web.t("contracts_title")).table(t));
    let mut t = Table::new(
        web.t("points_title"),
        &[
            web.t("account"),
            web.t("advanced"),
            web.t("paid"),
            web.t("carried"),
            web.t("returned"),
            web.t("still_held"),
            web.t("lines_paid"),
            "✓",
        ],
    );
    for (name, p) in &report.settlement.points {
        t.row(vec![
            Cell::text(name),
            Cell::num(money(p.distributed)),
            Cell::num(money(p.paid)),
            Cell::num(money(p.carried)),
            Cell::num(money(p.returned)),
            Cell::num(money(p.held)),
            Cell::num(number(p.paid_lines)),
            Cell::text(if p.balances {
                web.t("yes")
            } else {
                web.t("no")
            }),
        ]);
    }
    t.csv = Some(web.csv_href("points"));
    page.push(Section::titled("points", web.t("points_title")).table(t));
    Ok(page.finish(q.get("csv").map(String::as_str)))
}
