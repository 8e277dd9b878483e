//! The documents of `chitra export`, downloaded from the pages: a point's payroll list (.xlsx or
//! PDF) and its schedule notice to post up (PDF), a contract's settlement report (.xlsx or PDF)
//! and the bank payout file (CSV). The same
//! code as the CLI's (`chitra_documents`); each within the user's jurisdiction.

use std::collections::HashMap;

use axum::extract::{Path as AxPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chitra_core::access::{Action, Scope};
use chitra_core::contract::NewContract;
use chitra_core::{Period, Program};
use chitra_documents::{Error as DocError, notices, payout, payroll, settlement};

use crate::api::points as points_api;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::views::opt;
use crate::web::{Web, WebResult};

fn doc_error(e: DocError) -> ApiError {
    match e {
        DocError::Invalid(f) => ApiError::Invalid(f),
        DocError::NotFound(what) => ApiError::NotFound {
            what: "document",
            key: what,
        },
        DocError::Store(s) => s.into(),
        other => ApiError::Internal(other.to_string()),
    }
}

fn period_of(q: &HashMap<String, String>) -> Result<Period, ApiError> {
    let p =
        opt(q, "period").ok_or_else(|| ApiError::invalid("period", "give the month, YYYY-MM"))?;
    Ok(Period::parse(&p)?)
}

fn program_of(q: &HashMap<String, String>) -> Result<Program, ApiError> {
    match opt(q, "program") {
        None => Ok(Program::SocialAssistance),
        Some(p) => Ok(Program::parse(&p)?),
    }
}

/// `xlsx` or `pdf`.
fn format_of(q: &HashMap<String, String>) -> Result<&'static str, ApiError> {
    match opt(q, "format").as_deref() {
        Some("xlsx") => Ok("xlsx"),
        Some("pdf") => Ok("pdf"),
        Some(other) => Err(ApiError::invalid(
            "format",
            format!("'{other}' is not a format: xlsx or pdf"),
        )),
        None => Err(ApiError::invalid("format", "give the format: xlsx or pdf")),
    }
}

fn attachment(bytes: Vec<u8>, content_type: &'static str, name: String) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A document written to a file of its own in the temporary directory (the writers take a path),
/// read back, removed.
fn via_file<T>(
    extension: &str,
    write: impl FnOnce(&std::path::Path) -> Result<T, DocError>,
) -> Result<Vec<u8>, ApiError> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("chitra-web-{}-{n}.{extension}", std::process::id()));
    let written = write(&path).map_err(doc_error);
    let read = written.and_then(|_| {
        std::fs::read(&path).map_err(|e| ApiError::Internal(format!("reading the document: {e}")))
    });
    let _ = std::fs::remove_file(&path);
    read
}

/// CPU-heavy work (typesetting) off the server's threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("a document task failed: {e}")))?
}

/// `doc` as an attachment named `name`, in `format` (from [`format_of`]): the spreadsheet
/// `xlsx` writes, or the PDF `pdf` typesets — off the server's threads either way.
async fn sheet_or_pdf<D: Send + 'static>(
    doc: D,
    format: &'static str,
    name: String,
    made_on: chrono::NaiveDate,
    xlsx: fn(&D, &std::path::Path) -> Result<(), DocError>,
    pdf: fn(&D, chrono::NaiveDate) -> Result<Vec<u8>, DocError>,
) -> Result<Response, ApiError> {
    Ok(if format == "xlsx" {
        let bytes = blocking(move || via_file("xlsx", |path| xlsx(&doc, path))).await?;
        attachment(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            name,
        )
    } else {
        let bytes = blocking(move || pdf(&doc, made_on).map_err(doc_error)).await?;
        attachment(bytes, "application/pdf", name)
    })
}

fn today() -> chrono::NaiveDate {
    chitra_store::Change::now("", "").date()
}

/// Whether the caller reaches the whole of a contract's area.
pub fn covers_contract(caller: &Caller, contract: &NewContract) -> bool {
    let (level, code) = contract.area_unit();
    caller.jurisdiction.covers_unit(level, code)
}

/// Whether the caller reaches the whole province (the payout file covers it).
pub fn covers_province(caller: &Caller) -> bool {
    caller.everywhere() || matches!(caller.user.scope, Scope::Province(_))
}

/// The payment point `id`, if it is one the caller reaches (403 otherwise).
async fn reachable_point(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<chitra_core::office::PaymentPoint, ApiError> {
    let crate::json::Json(points) = points_api::list(State(state.clone()), caller.clone()).await?;
    points
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::forbidden(format!("payment point {id} is not one you reach")))
}

/// `GET /documents/payroll/{point}?period=&format=xlsx|pdf`: the point's payroll list, to print
/// and sign.
pub async fn payroll_list(
    State(state): State<AppState>,
    web: Web,
    AxPath(point): AxPath<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadPayroll)?;
    let go = async {
        let period = period_of(&q)?;
        let format = format_of(&q)?;
        let program = program_of(&q)?;
        let p = reachable_point(&state, &web.caller, point).await?;
        let made_on = today();
        let list = payroll::payroll_list(state.store.as_ref(), period, &p.code, program, made_on)
            .await
            .map_err(doc_error)?;
        let name = format!("danh-sach-chi-tra-{}-{period}.{format}", p.code);
        sheet_or_pdf(
            list,
            format,
            name,
            made_on,
            payroll::write_xlsx,
            payroll::pdf,
        )
        .await
    };
    go.await.map_err(|e| web.fail(e))
}

/// `GET /documents/notice/{point}?period=`: the point's schedule notice for the month (where,
/// which days and hours, who and how much), to print and post up at the point.
pub async fn point_notice(
    State(state): State<AppState>,
    web: Web,
    AxPath(point): AxPath<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadPayroll)?;
    let go = async {
        let period = period_of(&q)?;
        let program = program_of(&q)?;
        let p = reachable_point(&state, &web.caller, point).await?;
        let made_on = today();
        let n = notices::notice(state.store.as_ref(), period, &p.code, program, made_on)
            .await
            .map_err(doc_error)?;
        let bytes = blocking(move || notices::pdf(&n, made_on).map_err(doc_error)).await?;
        Ok(attachment(
            bytes,
            "application/pdf",
            format!("thong-bao-lich-chi-tra-{}-{period}.pdf", p.code),
        ))
    };
    go.await.map_err(|e| web.fail(e))
}

/// `GET /documents/settlement?period=&contract=&format=xlsx|pdf`: the settlement report of a
/// contract (of every contract, for a user who reaches everywhere).
pub async fn settlement_report(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadReports)?;
    let go = async {
        let period = period_of(&q)?;
        let format = format_of(&q)?;
        let contract = opt(&q, "contract");
        match &contract {
            None if !web.caller.everywhere() => {
                return Err(ApiError::invalid(
                    "contract",
                    "give the contract's code: the report of every contract is for users who reach everywhere",
                ));
            }
            None => {}
            Some(code) => {
                let all = state.store.contracts().await?;
                let Some(c) = all.iter().find(|c| &c.terms.code == code) else {
                    return Err(ApiError::NotFound {
                        what: "contract",
                        key: code.clone(),
                    });
                };
                if !covers_contract(&web.caller, &c.terms) {
                    return Err(ApiError::forbidden(format!(
                        "contract {code} covers more than your jurisdiction"
                    )));
                }
            }
        }
        let made_on = today();
        let doc = settlement::settlement_document(
            state.store.as_ref(),
            period,
            contract.as_deref(),
            made_on,
        )
        .await
        .map_err(doc_error)?;
        let name = format!(
            "quyet-toan-{}-{period}.{format}",
            contract.as_deref().unwrap_or("tat-ca")
        );
        sheet_or_pdf(
            doc,
            format,
            name,
            made_on,
            settlement::write_xlsx,
            settlement::pdf,
        )
        .await
    };
    go.await.map_err(|e| web.fail(e))
}

/// `GET /documents/payout?period=`: the bank and e-wallet payout file (CSV) of a month, for the
/// province.
pub async fn payout_file(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<HashMap<String, String>>,
) -> WebResult {
    web.require(Action::ReadLedger)?;
    let go = async {
        if !covers_province(&web.caller) {
            return Err(ApiError::forbidden(
                "the payout file covers the province: it is for the province's users",
            ));
        }
        let period = period_of(&q)?;
        let program = program_of(&q)?;
        let payouts = payout::payouts(state.store.as_ref(), period, program)
            .await
            .map_err(doc_error)?;
        let bytes = blocking(move || {
            via_file("csv", |path| {
                payout::write_payout_csv(period, &payouts, path)
            })
        })
        .await?;
        Ok(attachment(
            bytes,
            "text/csv; charset=utf-8",
            format!("chuyen-khoan-{period}.csv"),
        ))
    };
    go.await.map_err(|e| web.fail(e))
}
