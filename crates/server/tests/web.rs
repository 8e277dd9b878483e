//! The web pages over HTTP, without a browser: signing in with the form, the language, who may
//! open what, the CSRF token of forms, field errors, and nothing loaded from elsewhere. (The
//! browser's view is `crates/cli/tests/web.rs`, with Playwright.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, PASSWORD, TestApp};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn page(http: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let r = http.get(url).send().await.unwrap();
    let status = r.status();
    (status, r.text().await.unwrap())
}

/// Signs in with the form: the session cookie is kept by the client.
async fn sign_in(app: &TestApp, user: &str) -> reqwest::Client {
    let http = browser();
    let r = http
        .post(app.url("/login"))
        .form(&[("username", user), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{user} signs in");
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("chitra_session=") && cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    http
}

/// The text of a PDF, as `pdftotext -layout` reads it (poppler-utils; `.ci/run` installs it).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext must be installed (Debian package poppler-utils)");
    assert!(out.status.success(), "pdftotext failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its token");
    let rest = &html[at + 19..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// No `src` or `href` points outside the server.
fn nothing_from_outside(html: &str) {
    for attr in ["src=\"", "href=\"", "action=\""] {
        for (i, _) in html.match_indices(attr) {
            let v = &html[i + attr.len()..];
            assert!(
                v.starts_with('/') || v.starts_with('#') || v.starts_with('"'),
                "{attr}{} leaves the server",
                &v[..v.find('"').unwrap_or(v.len()).min(60)]
            );
        }
    }
}

/// October 2025 of Phú Khương, being paid: four people registered in September 2025 (those of
/// the fixture are registered today, too late for it), their payroll generated, approved by a
/// second person, funded and opened. The run, its lines, and the four's citizen IDs by code.
async fn october_2025(
    app: &TestApp,
) -> (
    chitra_store::cycle::Run,
    Vec<chitra_store::cycle::LineRow>,
    std::collections::HashMap<String, String>,
) {
    use chitra_core::{Period, Program};
    use chitra_store::Change;
    use chitra_store::cycle::LineFilter;
    let s = &app.store;
    let on = |who: &str, day: &str| {
        Change::on(
            who,
            "tháng chi trả thử nghiệm",
            chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
        )
    };
    // Four people registered in September 2025 (those of the fixture are registered today, too
    // late for October 2025's payroll).
    let people: Vec<_> = ["Lê Thị Mai", "Trần Văn Nam", "Phan Thị Oanh", "Đỗ Văn Phúc"]
        .iter()
        .enumerate()
        .map(|(i, name)| common::fixture::person(name, 200 + i as u32, "28756", app.fixture.point1))
        .collect();
    let made = s
        .add_beneficiaries(&on("admin", "2025-09-01"), &people)
        .await
        .unwrap();
    let run = s
        .generate_payroll(
            &on("admin", "2025-09-20"),
            app.fixture.office,
            Program::SocialAssistance,
            Period::parse("2025-10").unwrap(),
        )
        .await
        .unwrap();
    s.approve_payroll(&on("chu.tich", "2025-09-21"), run.id)
        .await
        .unwrap();
    s.fund_payroll(&on("admin", "2025-09-24"), run.id)
        .await
        .unwrap();
    s.open_payroll(&on("buu.dien", "2025-10-01"), run.id)
        .await
        .unwrap();
    let lines = s
        .run_lines(
            run.id,
            &LineFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(lines.len(), 4, "the four known in September");
    let ids = made
        .iter()
        .map(|f| {
            (
                f.beneficiary.code.clone(),
                f.beneficiary.citizen_id.as_str().to_owned(),
            )
        })
        .collect();
    (run, lines, ids)
}

#[tokio::test]
async fn the_pages_sign_in_in_vietnamese_and_switch_to_english() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let http = browser();
    let r = http.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=/");
    let r = http.get(app.url("/login")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'self'") && csp.contains("script-src 'self';"));
    let (s, html) = page(&http, &app.url("/login")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<html lang=\"vi\">"), "{html}");
    assert!(html.contains("<label for=\"f-username\">Tên đăng nhập</label>"));
    nothing_from_outside(&html);
    let (_, html) = page(&http, &app.url("/login?lang=en")).await;
    assert!(html.contains("<html lang=\"en\">") && html.contains(">User name</label>"));
    // The switch remembers the language in a cookie.
    let r = http
        .get(app.url("/lang/en?back=/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/login");
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("lang=en")
    );
    let (_, html) = page(&http, &app.url("/login")).await;
    assert!(html.contains("<html lang=\"en\">"));
    // The switch never sends anyone to another site.
    let r = http
        .get(app.url("/lang/vi?back=//evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");

    // Bad input: the error beside its field, 422; a wrong password, 401.
    let r = http
        .post(app.url("/login"))
        .form(&[("username", ""), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("aria-describedby=\"username-error\""));
    assert!(html.contains("id=\"username-error\""));
    let r = http
        .post(app.url("/login"))
        .form(&[("username", "can.bo"), ("password", "wrong password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn an_officer_opens_every_page_and_nothing_comes_from_outside() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let http = sign_in(&app, "can.bo").await;
    let code = &app.fixture.at_point1[0];
    for path in [
        "/".to_owned(),
        "/beneficiaries".to_owned(),
        "/beneficiaries?search=nguyen".to_owned(),
        format!("/beneficiaries/{code}"),
        "/beneficiaries/new".to_owned(),
        "/payrolls".to_owned(),
        format!("/points/{}", app.fixture.point1),
        "/points".to_owned(),
        "/contracts".to_owned(),
        "/anomalies".to_owned(),
        "/lookup".to_owned(),
    ] {
        let (s, html) = page(&http, &app.url(&path)).await;
        assert_eq!(s, StatusCode::OK, "{path}: {html}");
        assert!(html.contains("<html lang=\"vi\">"), "{path}");
        nothing_from_outside(&html);
    }
    // A filter with a bad value: refused beside its field.
    let (s, html) = page(&http, &app.url("/beneficiaries?status=lost")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"status-error\""));
    let (s, html) = page(&http, &app.url("/beneficiaries?commune=12")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"commune-error\""));
    // A CSV of a table.
    let r = http
        .get(app.url("/beneficiaries?csv=register-results"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}Mã,Họ và tên,"), "{csv}");
    assert!(csv.contains(code.as_str()));
    // Static files: from the binary, cached for a year.
    let r = http
        .get(app.url("/static/htmx.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    app.finish().await;
}

#[tokio::test]
async fn forms_need_their_token_and_show_field_errors() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let http = sign_in(&app, "can.bo").await;
    let before = app.journal_len().await;
    let good = [
        ("full_name", "Lê Thị Thử"),
        ("birth_date", "1940-01-01"),
        ("sex", "nữ"),
        ("citizen_id", "083140000999"),
        ("commune", "28756"),
        ("category", "K5c"),
    ];
    // Without the token: refused, nothing changed.
    let r = http
        .post(app.url("/beneficiaries/new"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.journal_len().await, before);
    let (_, html) = page(&http, &app.url("/beneficiaries/new")).await;
    let csrf = csrf_of(&html);
    // A bad citizen ID: 422, the error beside the field, what was typed kept, nothing changed.
    let mut bad: Vec<(&str, &str)> = good.to_vec();
    bad[3] = ("citizen_id", "12345");
    bad.push(("csrf", &csrf));
    let r = http
        .post(app.url("/beneficiaries/new"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"citizen_id-error\""));
    assert!(html.contains("id=\"citizen_id-error\""));
    assert!(html.contains("value=\"Lê Thị Thử\""));
    assert_eq!(app.journal_len().await, before);
    // Good: registered, and the page of the new beneficiary opens.
    let mut ok: Vec<(&str, &str)> = good.to_vec();
    ok.push(("csrf", &csrf));
    let r = http
        .post(app.url("/beneficiaries/new"))
        .form(&ok)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = r.text().await.unwrap();
    let refusal = body
        .find("field-error")
        .map(|i| &body[i..(i + 300).min(body.len())])
        .unwrap_or("");
    assert_eq!(status, StatusCode::SEE_OTHER, "{refusal}");
    assert!(to.starts_with("/beneficiaries/"), "{to}");
    let (s, html) = page(&http, &app.url(&to)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Lê Thị Thử") && html.contains("083140000999"));
    app.finish().await;
}

#[tokio::test]
async fn an_agent_sees_their_point_only() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let http = sign_in(&app, "nhan.vien.1").await;
    let (s, _) = page(&http, &app.url("/agent")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = page(&http, &app.url(&format!("/points/{}", app.fixture.point1))).await;
    assert_eq!(s, StatusCode::OK);
    let (s, html) = page(&http, &app.url(&format!("/points/{}", app.fixture.point2))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("id=\"error-message\""));
    // Another point's beneficiary, the register's forms, the journal: not the agent's.
    let other = &app.fixture.at_point2[0];
    let (s, _) = page(&http, &app.url(&format!("/beneficiaries/{other}"))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = page(&http, &app.url("/beneficiaries/new")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = page(&http, &app.url("/audit")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.finish().await;
}

/// The dashboard's on-time rate compares the day each line was paid with the contract's pay
/// window (the 1st to the 28th here), and counts lines still unpaid once it has passed.
#[tokio::test]
async fn the_dashboard_measures_payments_against_the_contract_window() {
    use chitra_core::payment::{Identity, Location};
    use chitra_core::payroll::LineStatus;

    use chitra_store::Change;
    use chitra_store::cycle::{NewPayment, PaymentResult};

    let app = TestApp::spawn(Backend::Sqlite).await;
    let s = &app.store;
    let (run, lines, ids) = october_2025(&app).await;
    let citizen_id = |code: &str| ids[code].clone();
    let on = |who: &str, day: &str| {
        Change::on(
            who,
            "tháng chi trả thử nghiệm",
            chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
        )
    };
    let pay = |i: usize, when: &str| NewPayment {
        id: format!("thu:{i}"),
        line_id: lines[i].id,
        amount: lines[i].total,
        paid_at: chrono::DateTime::parse_from_rfc3339(when).unwrap(),
        agent: "nhan.vien.1".into(),
        identity: Identity::citizen_id(&citizen_id(&lines[i].beneficiary_code)).unwrap(),
        location: Location::Point,
    };
    // Within the window (its first and last day, the last by UTC+7 although sent in UTC), and a
    // day after it.
    let answers = s
        .record_payments(
            &on("nhan.vien.1", "2025-10-30"),
            &[
                pay(0, "2025-10-01T08:00:00+07:00"),
                pay(1, "2025-10-28T09:30:00+00:00"),
                pay(2, "2025-10-28T17:30:00+00:00"),
            ],
        )
        .await
        .unwrap();
    assert!(
        answers
            .iter()
            .all(|a| matches!(a, PaymentResult::Accepted { .. })),
        "{answers:?}"
    );
    let run = s.run(run.id).await.unwrap();
    assert_eq!(
        run.by_status
            .iter()
            .find(|x| x.status == LineStatus::Due)
            .map(|x| x.lines),
        Some(1)
    );
    // Two of four on time: 17:30 UTC on the 28th is the 29th in Vietnam, late; the one unpaid is
    // past the window.
    let http = sign_in(&app, "can.bo").await;
    let (st, html) = page(&http, &app.url("/")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Tỷ lệ chi đúng lịch"), "{html}");
    assert!(html.contains("50,00% — 2 / 4"), "{html}");
    assert!(
        html.contains("0 chi trước, 1 chi muộn, 1 quá hạn chưa chi"),
        "{html}"
    );
    app.finish().await;
}

/// The documents of `chitra export`, downloaded from the pages: a point's payroll list as .xlsx
/// (read back with calamine) and PDF, the settlement report, the payout file; within the user's
/// jurisdiction, bad input refused naming the field.
#[tokio::test]
async fn documents_download_from_the_pages() {
    use calamine::Reader;

    let app = TestApp::spawn(Backend::Sqlite).await;
    october_2025(&app).await;
    let point = app.fixture.point1;
    let http = sign_in(&app, "can.bo").await;
    let (_, html) = page(&http, &app.url(&format!("/points/{point}?period=2025-10"))).await;
    assert!(
        html.contains(&format!(
            "/documents/payroll/{point}?period=2025-10&#38;format=xlsx"
        )),
        "the point's page links its payroll list: {html}"
    );
    let get = |path: String| {
        let http = http.clone();
        let url = app.url(&path);
        async move { http.get(url).send().await.unwrap() }
    };
    let r = get(format!(
        "/documents/payroll/{point}?period=2025-10&format=xlsx"
    ))
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".xlsx")
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let text: Vec<String> = sheet.rows().flatten().map(|c| c.to_string()).collect();
    for name in ["Lê Thị Mai", "Trần Văn Nam", "Phan Thị Oanh", "Đỗ Văn Phúc"] {
        assert!(
            text.iter().any(|t| t == name),
            "{name} in the list: {text:?}"
        );
    }
    assert!(text.iter().any(|t| t.starts_with("Bằng chữ")), "{text:?}");
    let r = get(format!(
        "/documents/payroll/{point}?period=2025-10&format=pdf"
    ))
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    // Bad input names the field; another office's point is not this user's.
    let r = get(format!(
        "/documents/payroll/{point}?period=2025-10&format=doc"
    ))
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("format"));
    let r = get(format!(
        "/documents/payroll/{point}?period=10/2025&format=pdf"
    ))
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = get(format!(
        "/documents/payroll/{}?period=2025-10&format=pdf",
        app.fixture.point3
    ))
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The point's schedule notice, to post up: linked from its page, a PDF naming its people.
    assert!(
        html.contains(&format!("/documents/notice/{point}?period=2025-10")),
        "the point's page links its schedule notice: {html}"
    );
    let r = get(format!("/documents/notice/{point}?period=2025-10")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap().to_vec();
    let text = pdf_text(&pdf);
    assert!(
        text.contains("Lê Thị Mai"),
        "the notice names the point's people: {text}"
    );
    let r = get(format!("/documents/notice/{point}?period=2025/10")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("period"));
    let r = get(format!(
        "/documents/notice/{}?period=2025-10",
        app.fixture.point3
    ))
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // An agent downloads their own point's list, not another's.
    let agent = sign_in(&app, "nhan.vien.1").await;
    let r = agent
        .get(app.url(&format!(
            "/documents/payroll/{point}?period=2025-10&format=xlsx"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = agent
        .get(app.url(&format!(
            "/documents/payroll/{}?period=2025-10&format=xlsx",
            app.fixture.point2
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The settlement of a contract and the payout file: an administrator may; the payout file
    // covers the province, which a commune's officer does not reach.
    let admin = sign_in(&app, "admin").await;
    let r = admin
        .get(app.url("/documents/settlement?period=2025-10&contract=VL-BĐ-28756&format=pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    let r = admin
        .get(app.url("/documents/payout?period=2025-10"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let r = get("/documents/payout?period=2025-10".to_owned()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a commune's officer");
    app.finish().await;
}

/// The register lists each beneficiary's status this month and filters by it.
#[tokio::test]
async fn the_register_filters_by_status() {
    use chitra_core::decision::{DecisionKind, NewDecision};
    use chitra_store::{Change, DecisionFor};

    let app = TestApp::spawn(Backend::Sqlite).await;
    let code = app.fixture.at_point1[1].clone();
    let today = Change::now("x", "x").date();
    let this_month = chitra_core::Period::of(today);
    app.store
        .add_decisions(
            &Change::now("admin", "không đến nhận"),
            &[DecisionFor {
                beneficiary_code: code.clone(),
                decision: NewDecision {
                    kind: DecisionKind::Suspend,
                    number: Some("7/QĐ-UBND".into()),
                    category: None,
                    replaces: None,
                    dependants: 1,
                    effective: this_month,
                    signed_on: today,
                    signer: "Chủ tịch UBND phường".into(),
                    reason: "không đến nhận 3 tháng".into(),
                    death_date: None,
                },
            }],
        )
        .await
        .unwrap();
    let http = sign_in(&app, "can.bo").await;
    let (st, html) = page(&http, &app.url("/beneficiaries?status=suspended")).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("1 kết quả"), "{html}");
    assert!(html.contains(&code) && html.contains("Tạm dừng"), "{html}");
    let (_, html) = page(&http, &app.url("/beneficiaries?status=active")).await;
    assert!(html.contains("5 kết quả"), "{html}");
    assert!(!html.contains(&format!(">{code}<")), "{html}");
    app.finish().await;
}
