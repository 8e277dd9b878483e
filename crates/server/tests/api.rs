//! The payment service end to end: the real server on port 0 with a fresh database, on SQLite and
//! PostgreSQL, each role doing what it may where it may — allowed actions succeed, forbidden ones
//! get 403, unauthenticated ones 401 — and bad input refused with the field, changing nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Client, PASSWORD, TestApp};
use serde_json::{Value, json};

both_backends!(
    each_role_does_what_it_may_where_it_may,
    bad_input_is_refused_with_the_field_and_changes_nothing,
    a_browser_session_needs_its_csrf_token_and_ends_at_logout,
    guessing_passwords_is_slowed_down,
    the_service_describes_itself,
    notices_go_out_and_beneficiaries_look_themselves_up,
);

fn citizen_id_of(app: &TestApp, code: &str) -> String {
    app.fixture.citizen_ids[code].clone()
}

async fn lines_of(client: &Client, run: i64, query: &str) -> Vec<Value> {
    let (s, body) = client
        .get(&format!("/api/v1/payrolls/{run}/lines?limit=1000{query}"))
        .await;
    assert_eq!(s, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

fn pay(id: &str, line: &Value, citizen_id: &str) -> Value {
    json!({
        "id": id,
        "line_id": line["id"],
        "amount": line["total"],
        "identity": { "kind": "citizen_id", "number": citizen_id },
    })
}

async fn each_role_does_what_it_may_where_it_may(app: &TestApp) {
    let f = &app.fixture;
    let period = f.period.to_string();

    // No session: 401 everywhere but the health check and the public document.
    let anon = app.anonymous();
    for path in [
        "/api/v1/auth/me",
        "/api/v1/beneficiaries",
        "/api/v1/payrolls",
        "/api/v1/points",
        "/api/v1/ledger/balances",
        "/api/v1/audit/verify",
        "/api/v1/users",
    ] {
        let (s, body) = anon.get(path).await;
        assert_eq!(s, 401, "{path}: {body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let (s, _) = anon.post("/api/v1/payments", &json!({})).await;
    assert_eq!(s, 401);
    let (s, _) = anon.get("/healthz").await;
    assert_eq!(s, 200);

    let officer = app.client("can.bo").await;
    let checker = app.client("chu.tich").await;
    let neighbour = app.client("can.bo.son.dong").await;
    let province = app.client("so.ldtbxh").await;
    let post = app.client("buu.dien").await;
    let agent1 = app.client("nhan.vien.1").await;
    let agent2 = app.client("nhan.vien.2").await;
    let inspector = app.client("thanh.tra").await;
    let admin = app.client("admin").await;

    // The register, each within their own.
    let total = |b: &Value| b["total"].as_i64().unwrap();
    let (s, b) = officer.get("/api/v1/beneficiaries").await;
    assert_eq!((s, total(&b)), (200, 6), "{b}");
    assert!(
        b["items"][0]["citizen_id_masked"]
            .as_str()
            .unwrap()
            .starts_with("********")
    );
    let (_, b) = neighbour.get("/api/v1/beneficiaries").await;
    assert_eq!(total(&b), 2);
    let (_, b) = agent1.get("/api/v1/beneficiaries").await;
    assert_eq!(total(&b), 3, "an agent lists their point's beneficiaries");
    let (s, _) = agent1
        .get(&format!("/api/v1/beneficiaries?point={}", f.point2))
        .await;
    assert_eq!(s, 403);
    let (_, b) = inspector.get("/api/v1/beneficiaries").await;
    assert_eq!(total(&b), 8);
    let (s, _) = officer
        .get(&format!("/api/v1/beneficiaries/{}", f.at_point3[0]))
        .await;
    assert_eq!(s, 403, "another commune's file");
    let (s, _) = agent1
        .get(&format!("/api/v1/beneficiaries/{}", f.at_point2[0]))
        .await;
    assert_eq!(s, 403, "another point's file");
    let (s, b) = agent1
        .get(&format!("/api/v1/beneficiaries/{}", f.at_point1[0]))
        .await;
    assert_eq!(s, 200);
    assert!(
        b["beneficiary"]["citizen_id"]
            .as_str()
            .unwrap()
            .starts_with("********"),
        "an agent sees a masked ID: {b}"
    );
    let (_, b) = officer
        .get(&format!("/api/v1/beneficiaries/{}", f.at_point1[0]))
        .await;
    assert_eq!(
        b["beneficiary"]["citizen_id"].as_str().unwrap(),
        citizen_id_of(app, &f.at_point1[0])
    );

    // Changing the register.
    let newcomer = json!({
        "full_name": "Trương Thị Lan",
        "birth_date": "1940-03-04",
        "sex": "nữ",
        "citizen_id": "086140000099",
        "commune": "28756",
        "category": "K5c",
        "effective": "2025-09",
        "payment_point_id": f.point1,
    });
    let before = app.journal_len().await;
    for who in [&inspector, &agent1, &post] {
        let (s, b) = who.post("/api/v1/beneficiaries", &newcomer).await;
        assert_eq!(s, 403, "{b}");
    }
    let (_, b) = agent1.post("/api/v1/beneficiaries", &newcomer).await;
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("an agent may not"),
        "{b}"
    );
    let (s, b) = neighbour.post("/api/v1/beneficiaries", &newcomer).await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (422, Some("commune")),
        "{b}"
    );
    assert_eq!(app.journal_len().await, before, "refusals change nothing");
    let (s, b) = officer.post("/api/v1/beneficiaries", &newcomer).await;
    assert_eq!(s, 201, "{b}");
    let lan = b["beneficiary"]["code"].as_str().unwrap().to_owned();

    // The month: generated by one officer, approved by another, funded, opened by the post.
    let generate = json!({ "office_id": f.office, "period": period });
    for who in [&agent1, &inspector, &neighbour, &post] {
        let (s, b) = who.post("/api/v1/payrolls", &generate).await;
        assert_eq!(s, 403, "{b}");
    }
    let (s, run) = officer.post("/api/v1/payrolls", &generate).await;
    assert_eq!(s, 201, "{run}");
    let id = run["id"].as_i64().unwrap();
    assert_eq!(run["lines"], 7);
    let (s, b) = officer
        .post(&format!("/api/v1/payrolls/{id}/approve"), &json!({}))
        .await;
    assert_eq!(s, 403, "maker-checker: {b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("second person")
    );
    for who in [&inspector, &agent1, &post, &neighbour] {
        let (s, _) = who
            .post(&format!("/api/v1/payrolls/{id}/approve"), &json!({}))
            .await;
        assert_eq!(s, 403);
    }
    let (s, b) = checker
        .post(&format!("/api/v1/payrolls/{id}/approve"), &json!({}))
        .await;
    assert_eq!((s, b["state"].as_str()), (200, Some("approved")), "{b}");
    let (s, _) = post
        .post(&format!("/api/v1/payrolls/{id}/fund"), &json!({}))
        .await;
    assert_eq!(s, 403, "the post office does not advance funds");
    let (s, b) = officer
        .post(&format!("/api/v1/payrolls/{id}/fund"), &json!({}))
        .await;
    assert_eq!((s, b["state"].as_str()), (200, Some("funded")), "{b}");
    let (s, _) = officer
        .post(&format!("/api/v1/payrolls/{id}/open"), &json!({}))
        .await;
    assert_eq!(s, 403, "opening is the post office's");
    let (s, b) = post
        .post(&format!("/api/v1/payrolls/{id}/open"), &json!({}))
        .await;
    assert_eq!((s, b["state"].as_str()), (200, Some("paying")), "{b}");

    // Reading the run and its lines.
    let (s, _) = neighbour.get(&format!("/api/v1/payrolls/{id}")).await;
    assert_eq!(s, 403);
    let (s, whole) = inspector.get(&format!("/api/v1/payrolls/{id}")).await;
    assert_eq!((s, whole["lines"].as_i64()), (200, Some(7)), "{whole}");
    let mine = lines_of(&agent1, id, "").await;
    assert_eq!(mine.len(), 4, "an agent reads their point's lines only");
    // The run's totals as the agent sees them are their point's, in the run and in the list.
    let mine_total: i64 = mine.iter().map(|l| l["total"].as_i64().unwrap()).sum();
    let (s, part) = agent1.get(&format!("/api/v1/payrolls/{id}")).await;
    assert_eq!(s, 200, "{part}");
    assert_eq!(
        (part["lines"].as_i64(), part["total"].as_i64()),
        (Some(4), Some(mine_total)),
        "{part}"
    );
    assert!(whole["total"].as_i64().unwrap() > mine_total);
    let (s, listed) = agent1.get("/api/v1/payrolls").await;
    assert_eq!(s, 200);
    let listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    assert_eq!(listed["total"].as_i64(), Some(mine_total), "{listed}");
    assert!(
        mine.iter()
            .all(|l| l["channel"] == json!({"kind": "point", "id": f.point1})),
        "{mine:?}"
    );
    let (s, _) = agent1
        .get(&format!("/api/v1/payrolls/{id}/lines?point={}", f.point2))
        .await;
    assert_eq!(s, 403);
    assert_eq!(lines_of(&inspector, id, "").await.len(), 7);
    let theirs = lines_of(&officer, id, &format!("&point={}", f.point2)).await;
    assert_eq!(theirs.len(), 3);
    let (s, _) = agent1
        .get(&format!("/api/v1/lines/{}", theirs[0]["id"]))
        .await;
    assert_eq!(s, 403, "another point's line");
    let (s, _) = agent1
        .get(&format!("/api/v1/lines/{}", mine[0]["id"]))
        .await;
    assert_eq!(s, 200);

    // Paying: at one's own point, once.
    let line1 = &mine[0];
    let who1 = line1["beneficiary_code"].as_str().unwrap().to_owned();
    let cid1 = if who1 == lan {
        "086140000099".to_owned()
    } else {
        citizen_id_of(app, &who1)
    };
    let first = pay("tablet-1:0001", line1, &cid1);
    let (s, b) = agent1.post("/api/v1/payments", &first).await;
    assert_eq!((s, b["result"].as_str()), (201, Some("accepted")), "{b}");
    let (s, b) = agent1.post("/api/v1/payments", &first).await;
    assert_eq!(
        (s, b["result"].as_str()),
        (200, Some("already_recorded")),
        "{b}"
    );
    let (s, b) = agent1
        .post("/api/v1/payments", &pay("tablet-1:0002", line1, &cid1))
        .await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["error"]["paid_by"], "tablet-1:0001");
    let line2 = &theirs[0];
    let cid2 = citizen_id_of(app, line2["beneficiary_code"].as_str().unwrap());
    let (s, b) = agent1
        .post("/api/v1/payments", &pay("tablet-1:0003", line2, &cid2))
        .await;
    assert_eq!(s, 403, "{b}");
    for who in [&inspector, &officer, &neighbour] {
        let (s, _) = who
            .post("/api/v1/payments", &pay("x:1", line2, &cid2))
            .await;
        assert_eq!(s, 403);
    }
    let (s, b) = agent2
        .post("/api/v1/payments", &pay("tablet-2:0001", line2, &cid2))
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = post
        .post(
            "/api/v1/payments",
            &pay(
                "post:0001",
                &theirs[1],
                &citizen_id_of(app, theirs[1]["beneficiary_code"].as_str().unwrap()),
            ),
        )
        .await;
    assert_eq!(
        s, 201,
        "the commune's post manager pays in the commune: {b}"
    );

    // Reading money and the journal.
    let (s, b) = inspector.get("/api/v1/audit/verify").await;
    assert_eq!((s, b["intact"].as_bool()), (200, Some(true)));
    for who in [&agent1, &officer, &post] {
        let (s, _) = who.get("/api/v1/audit/verify").await;
        assert_eq!(s, 403);
    }
    let (s, _) = officer.get("/api/v1/ledger/balances").await;
    assert_eq!(s, 403);
    let (s, b) = province.get("/api/v1/ledger/balances").await;
    assert_eq!(s, 200);
    let sum: i64 = b
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["balance"].as_i64().unwrap())
        .sum();
    assert_eq!(
        sum, 0,
        "a province's accounts: the budget, funds, post and cash: {b}"
    );
    let (s, b) = inspector
        .get(&format!("/api/v1/reports/settlement?period={period}"))
        .await;
    assert_eq!((s, b["balances"].as_bool()), (200, Some(true)), "{b}");
    let (s, b) = admin
        .get(&format!("/api/v1/reports/reconcile?period={period}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["mismatches"].as_array().unwrap().len(), 0, "{b}");
    assert_eq!(b["payments"], 3);

    // The close, and nothing paid after it.
    for who in [&agent1, &officer, &inspector] {
        let (s, _) = who
            .post(&format!("/api/v1/payrolls/{id}/close"), &json!({}))
            .await;
        assert_eq!(s, 403);
    }
    let (s, b) = post
        .post(&format!("/api/v1/payrolls/{id}/close"), &json!({}))
        .await;
    assert_eq!(s, 200, "{b}");
    let line3 = &mine[1];
    let cid3 = {
        let who = line3["beneficiary_code"].as_str().unwrap();
        if who == lan {
            "086140000099".to_owned()
        } else {
            citizen_id_of(app, who)
        }
    };
    let (s, b) = agent1
        .post("/api/v1/payments", &pay("tablet-1:0009", line3, &cid3))
        .await;
    assert_eq!(s, 422, "a closed period: {b}");

    // Users: only administrators make them, within their own jurisdiction.
    let agent = json!({
        "username": "nhan.vien.3", "display_name": "Nhân viên 3", "password": PASSWORD,
        "role": "agent", "scope": format!("point:{}", f.point1),
    });
    for who in [&officer, &province, &inspector] {
        let (s, _) = who.post("/api/v1/users", &agent).await;
        assert_eq!(s, 403);
    }
    let (s, b) = admin.post("/api/v1/users", &agent).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = admin.get("/api/v1/users").await;
    assert_eq!((s, b.as_array().unwrap().len()), (200, 10));
    assert!(
        b.to_string().find("argon2").is_none(),
        "no password hash is shown"
    );
    let (s, _) = app.client("nhan.vien.3").await.get("/api/v1/auth/me").await;
    assert_eq!(s, 200);
    assert!(app.store.verify_journal().await.unwrap().intact);
}

async fn bad_input_is_refused_with_the_field_and_changes_nothing(app: &TestApp) {
    let f = &app.fixture;
    let officer = app.client("can.bo").await;
    let checker = app.client("chu.tich").await;
    let post = app.client("buu.dien").await;
    let agent = app.client("nhan.vien.1").await;
    let inspector = app.client("thanh.tra").await;
    let (_, run) = officer
        .post(
            "/api/v1/payrolls",
            &json!({ "office_id": f.office, "period": f.period.to_string() }),
        )
        .await;
    let id = run["id"].as_i64().unwrap();
    // A payment before the money arrived is refused.
    let lines = lines_of(&agent, id, "").await;
    let line = &lines[0];
    let cid = citizen_id_of(app, line["beneficiary_code"].as_str().unwrap());
    let (s, b) = agent
        .post("/api/v1/payments", &pay("early:1", line, &cid))
        .await;
    assert_eq!(s, 422, "{b}");
    checker
        .post(&format!("/api/v1/payrolls/{id}/approve"), &json!({}))
        .await;
    officer
        .post(&format!("/api/v1/payrolls/{id}/fund"), &json!({}))
        .await;
    post.post(&format!("/api/v1/payrolls/{id}/open"), &json!({}))
        .await;

    let before = app.journal_len().await;
    let good = pay("bad:0", line, &cid);
    let with = |k: &str, v: Value| {
        let mut p = good.clone();
        p[k] = v;
        p
    };
    // (body, status, code, field)
    let cases: Vec<(String, u16, &str, &str)> = vec![
        ("{\"id\": ".into(), 400, "invalid_json", "body"),
        (format!("{good} x"), 400, "invalid_json", "body"),
        ("[1, 2]".into(), 400, "wrong_type", "body"),
        (format!("[{good}]"), 400, "wrong_type", "body"),
        (
            good.to_string().replacen("{", "{\"amount\": 1, ", 1),
            400,
            "duplicate_field",
            "amount",
        ),
        (
            good.to_string().replacen("{", "{\"amount\": 1e999, ", 1),
            400,
            "invalid_json",
            "amount",
        ),
        (with("amount", json!("540000")).to_string(), 400, "wrong_type", "amount"),
        (with("line_id", json!(1.5)).to_string(), 400, "wrong_type", "line_id"),
        (with("tip", json!(5)).to_string(), 400, "unknown_field", "tip"),
        (
            json!({"id": "x", "line_id": line["id"], "identity": {"kind": "citizen_id", "number": cid}}).to_string(),
            400,
            "missing_field",
            "amount",
        ),
        (with("identity", json!({"kind": "palm"})).to_string(), 400, "wrong_type", "identity.kind"),
        // An object's fields given as an array, tag first, as serde alone would take them.
        (with("identity", json!(["citizen_id", cid])).to_string(), 400, "wrong_type", "identity"),
        (
            with("identity", json!({"kind": "citizen_id", "number": "12"})).to_string(),
            422,
            "invalid",
            "identity.number",
        ),
        (
            with("amount", json!(line["total"].as_i64().unwrap() - 1)).to_string(),
            422,
            "invalid",
            "amount",
        ),
        (with("line_id", json!(999_999_999)).to_string(), 422, "invalid", "line_id"),
        (with("method", json!("helicopter")).to_string(), 422, "invalid", "method"),
        (with("method", json!("home")).to_string(), 422, "invalid", "location"),
        (with("paid_at", json!("yesterday")).to_string(), 422, "invalid", "paid_at"),
        (with("id", json!("")).to_string(), 422, "invalid", "id"),
        (with("id", json!("bad\u{7}1")).to_string(), 422, "invalid", "id"),
        (
            with("paid_at", json!("0001-01-01T09:00:00+07:00")).to_string(),
            422,
            "invalid",
            "paid_at",
        ),
        (
            with("location", json!({"latitude": 10.3, "longitude": 1e300})).to_string(),
            422,
            "invalid",
            "location",
        ),
        (
            with("identity", json!({"kind": "bank_account", "iban": "VN00"})).to_string(),
            400,
            "unknown_field",
            "identity.iban",
        ),
        (
            with("identity", json!({"kind": "facility", "name": "x"})).to_string(),
            400,
            "unknown_field",
            "identity.name",
        ),
    ];
    for (body, status, code, field) in &cases {
        let (s, b) = agent
            .post_raw("/api/v1/payments", "application/json", body)
            .await;
        assert_eq!(s, *status, "{body} → {b}");
        assert_eq!(b["error"]["code"], *code, "{body} → {b}");
        // Every refusal names the field at fault, the body itself when it is not JSON.
        assert_eq!(b["error"]["field"], *field, "{body} → {b}");
        assert!(!b["error"]["message"].as_str().unwrap().is_empty());
    }
    let (s, b) = agent
        .post_raw("/api/v1/payments", "text/plain", &good.to_string())
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str(), b["error"]["field"].as_str()),
        (400, Some("content_type"), Some("Content-Type"))
    );
    // A role that may not record payments gets 403 whatever the body, before it is read.
    for body in ["{\"id\": ", "[1]", "{\"colour\": 1}"] {
        let (s, b) = inspector
            .post_raw("/api/v1/payments", "application/json", body)
            .await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{body} → {b}"
        );
    }
    // A path asked with a method it does not take: 405 with the error body.
    let (s, b) = agent.put("/api/v1/payments", &good).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (405, Some("method_not_allowed")),
        "{b}"
    );
    // A body past the limit (2 MB for one payment) is refused as too large, naming the body.
    let huge = with("id", json!("x".repeat(3_000_000))).to_string();
    let (s, b) = agent
        .post_raw("/api/v1/payments", "application/json", &huge)
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str(), b["error"]["field"].as_str()),
        (413, Some("too_large"), Some("body")),
        "{b}"
    );
    // Bad query strings and paths.
    for (path, field) in [
        ("/api/v1/payrolls?period=2026-13", "period"),
        ("/api/v1/beneficiaries?limit=0", "limit"),
        ("/api/v1/beneficiaries?limit=abc", "limit"),
        ("/api/v1/beneficiaries?colour=red", "colour"),
    ] {
        let (s, b) = officer.get(path).await;
        assert!(s == 400 || s == 422, "{path} → {s} {b}");
        assert_eq!(b["error"]["field"], field, "{path} → {b}");
    }
    let (s, _) = officer.get("/api/v1/payrolls/abc").await;
    assert_eq!(s, 400);
    // What the path names and is not there: 404, naming the path's parameter.
    let (s, b) = officer.get("/api/v1/payrolls/999999").await;
    assert_eq!(
        (s, b["error"]["code"].as_str(), b["error"]["field"].as_str()),
        (404, Some("not_found"), Some("id")),
        "{b}"
    );
    let (s, b) = officer.get("/api/v1/beneficiaries/BT-NONE").await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (404, Some("code")),
        "{b}"
    );
    let (s, b) = officer.get("/api/v1/nothing/here").await;
    assert_eq!(
        (s, b["error"]["code"].as_str(), b["error"]["field"].as_str()),
        (404, Some("not_found"), Some("path"))
    );
    // A bad form names its field.
    let (s, b) = officer
        .post(
            "/api/v1/beneficiaries",
            &json!({"full_name": "X", "birth_date": "31/02/1950", "sex": "nữ",
                    "citizen_id": "086150000001", "commune": "28756", "category": "K5c"}),
        )
        .await;
    assert_eq!(
        (s, b["error"]["field"].as_str()),
        (422, Some("birth_date")),
        "{b}"
    );
    // A batch answers item by item; the bad ones change nothing.
    let other = &lines[1];
    let cid2 = citizen_id_of(app, other["beneficiary_code"].as_str().unwrap());
    let (s, b) = agent
        .post(
            "/api/v1/payments/batch",
            &json!({ "payments": [
                with("amount", json!(1)),
                {"id": "batch:2", "line_id": other["id"], "amount": "x"},
                pay("batch:3", other, &cid2),
            ]}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let r = b["results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[0]["result"].as_str(), r[0]["field"].as_str()),
        (Some("refused"), Some("amount"))
    );
    assert_eq!(
        (r[1]["result"].as_str(), r[1]["field"].as_str()),
        (Some("refused"), Some("amount"))
    );
    assert_eq!(r[2]["result"], "accepted");
    assert_eq!(
        app.journal_len().await,
        before + 1,
        "only the accepted payment was journaled"
    );
    // The id of that payment sent for another line is refused, not taken for a repeat.
    let (s, b) = agent
        .post("/api/v1/payments", &pay("batch:3", line, &cid))
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (422, Some("id")), "{b}");
    assert_eq!(app.journal_len().await, before + 1);
    let (s, b) = agent
        .post(
            "/api/v1/payments/batch",
            &json!({ "payments": vec![good.clone(); 10_001] }),
        )
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (422, Some("payments")));
    assert_eq!(app.journal_len().await, before + 1);
    // Beneficiaries assigned to a point: each an object; an item given as an array is refused,
    // naming the item, and nothing is assigned.
    let assign = format!("/api/v1/points/{}/assignments", f.point1);
    let (s, b) = post
        .post(
            &assign,
            &json!({ "assignments": [
                {"beneficiary_code": f.at_point1[0]},
                [f.at_point1[1], "frail", null],
            ]}),
        )
        .await;
    assert_eq!(
        (s, b["error"]["code"].as_str(), b["error"]["field"].as_str()),
        (400, Some("wrong_type"), Some("assignments[1]")),
        "{b}"
    );
    assert_eq!(app.journal_len().await, before + 1);
    let (s, b) = post
        .post(
            &assign,
            &json!({ "assignments": [
                {"beneficiary_code": f.at_point1[1], "home_delivery": "frail",
                 "home": {"latitude": 10.98, "longitude": 106.65}},
            ]}),
        )
        .await;
    assert_eq!((s, b["assigned"].as_i64()), (200, Some(1)), "{b}");
    assert_eq!(app.journal_len().await, before + 2);
    let (s, b) = app
        .store
        .reconcile(f.period)
        .await
        .map(|r| (200, r.mismatches.len()))
        .unwrap();
    assert_eq!((s, b), (200, 0));
}

async fn a_browser_session_needs_its_csrf_token_and_ends_at_logout(app: &TestApp) {
    let browser = app.anonymous();
    let (s, b) = browser
        .post(
            "/api/v1/auth/login",
            &json!({ "username": "can.bo", "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(
        b.get("token").is_none(),
        "a browser gets a cookie, not a token"
    );
    let csrf = b["csrf_token"].as_str().unwrap().to_owned();
    let raw = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "username": "can.bo", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = raw.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let (s, _) = browser.get("/api/v1/auth/me").await;
    assert_eq!(s, 200, "the cookie signs the browser in");
    let generate =
        json!({ "office_id": app.fixture.office, "period": app.fixture.period.to_string() });
    let (s, b) = browser.post("/api/v1/payrolls", &generate).await;
    assert_eq!((s, b["error"]["code"].as_str()), (400, Some("csrf")), "{b}");
    let with_token = Client {
        csrf: Some(csrf),
        ..browser.clone()
    };
    let (s, b) = with_token.post("/api/v1/payrolls", &generate).await;
    assert_eq!(s, 201, "{b}");
    let (s, _) = with_token.post("/api/v1/auth/logout", &json!({})).await;
    assert_eq!(s, 204);
    let (s, _) = with_token.get("/api/v1/auth/me").await;
    assert_eq!(s, 401, "signed out");
    // A token the server never issued.
    let forged = Client {
        bearer: Some("forged".into()),
        ..app.anonymous()
    };
    let (s, _) = forged.get("/api/v1/auth/me").await;
    assert_eq!(s, 401);
}

async fn guessing_passwords_is_slowed_down(app: &TestApp) {
    let anon = app.anonymous();
    for _ in 0..5 {
        let (s, b) = anon
            .post(
                "/api/v1/auth/login",
                &json!({ "username": "thanh.tra", "password": "not the password" }),
            )
            .await;
        assert_eq!(
            (
                s,
                b["error"]["code"].as_str(),
                b["error"]["message"].as_str()
            ),
            (
                401,
                Some("unauthenticated"),
                Some("wrong user name or password")
            )
        );
    }
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "username": "thanh.tra", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "even the right password waits");
    assert!(r.headers().contains_key("retry-after"));
    // Another user is not held up by it.
    let (s, _) = anon
        .post(
            "/api/v1/auth/login",
            &json!({ "username": "can.bo", "password": PASSWORD, "bearer": true }),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = anon
        .post(
            "/api/v1/auth/login",
            &json!({ "username": "nobody.at.all", "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, 401, "an unknown user is refused like a wrong password");
    assert_eq!(b["error"]["message"], "wrong user name or password", "{b}");
}

async fn the_service_describes_itself(app: &TestApp) {
    let anon = app.anonymous();
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let (s, doc) = anon.get("/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut routes: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    routes.sort();
    insta::assert_snapshot!("routes", routes.join("\n"));
    // A parameter given in the path is one the path names; every other is in the query (clients
    // and fuzzers built from the document send them where it says).
    let mut in_query = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                match p["in"].as_str().unwrap() {
                    "path" => assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: '{name}' is not in the path"
                    ),
                    "query" => in_query += 1,
                    other => panic!("{method} {path}: '{name}' in {other}"),
                }
            }
        }
    }
    assert!(in_query >= 20, "query parameters described: {in_query}");
    // A point's pay days are two numbers, as the server reads them: not fewer, not more.
    let pay_days = &doc["components"]["schemas"]["NewPointRequest"]["properties"]["pay_days"];
    assert_eq!(
        (pay_days["minItems"].as_i64(), pay_days["maxItems"].as_i64()),
        (Some(2), Some(2)),
        "{pay_days}"
    );
    let summary = &doc["paths"]["/api/v1/reports/summary"]["get"]["parameters"];
    assert!(
        summary
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "from" && p["in"] == "query"),
        "{summary}"
    );
    let payment = &doc["components"]["schemas"]["PaymentRequest"];
    assert!(
        payment["required"]
            .as_array()
            .unwrap()
            .contains(&json!("line_id"))
    );
}

async fn notices_go_out_and_beneficiaries_look_themselves_up(app: &TestApp) {
    let f = &app.fixture;
    let officer = app.client("can.bo").await;
    let post = app.client("buu.dien").await;
    let agent = app.client("nhan.vien.1").await;
    let (an, binh) = (&f.at_point1[0], &f.at_point1[1]);
    for (code, phone) in [(an, "0912 345 678"), (binh, "+84983000111")] {
        let (s, b) = officer
            .put(
                &format!("/api/v1/beneficiaries/{code}/phone"),
                &json!({ "phone": phone }),
            )
            .await;
        assert_eq!(s, 204, "{b}");
    }
    let (s, b) = officer
        .put(
            &format!("/api/v1/beneficiaries/{an}/phone"),
            &json!({ "phone": "12345" }),
        )
        .await;
    assert_eq!((s, b["error"]["field"].as_str()), (422, Some("phone")));
    let (s, _) = agent
        .put(
            &format!("/api/v1/beneficiaries/{an}/phone"),
            &json!({ "phone": "0912345678" }),
        )
        .await;
    assert_eq!(s, 403);

    // The month handed to the post: its notices, once per line.
    let period = f.period.to_string();
    let (_, run) = officer
        .post(
            "/api/v1/payrolls",
            &json!({ "office_id": f.office, "period": period }),
        )
        .await;
    let id = run["id"].as_i64().unwrap();
    app.client("chu.tich")
        .await
        .post(&format!("/api/v1/payrolls/{id}/approve"), &json!({}))
        .await;
    let (s, _) = agent
        .post("/api/v1/notices", &json!({ "period": period }))
        .await;
    assert_eq!(s, 403);
    let (s, b) = post
        .post("/api/v1/notices", &json!({ "period": period }))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["queued"].as_i64(), b["without_phone"].as_i64()),
        (Some(2), Some(4)),
        "{b}"
    );
    let (_, again) = post
        .post("/api/v1/notices", &json!({ "period": period }))
        .await;
    assert_eq!(
        (again["queued"].as_i64(), again["already"].as_i64()),
        (Some(0), Some(6))
    );
    let (s, list) = post.get("/api/v1/notices?status=pending").await;
    assert_eq!((s, list["total"].as_i64()), (200, Some(2)), "{list}");
    let first = &list["items"][0];
    assert_eq!(first["phone_masked"], "*******678");
    assert!(
        list.to_string().find("0912345678").is_none(),
        "lists never show the number"
    );
    let text = first["text_vi"].as_str().unwrap();
    assert!(
        text.contains("Nguyễn Văn Ân") && text.contains("Bưu điện văn hóa phường Phú Khương"),
        "{text}"
    );
    assert!(first["text_ascii"].as_str().unwrap().is_ascii());

    // The default sender writes what a gateway would be given.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sms.jsonl");
    let sender = chitra_server::notices::FileSender::new(out.clone());
    let sent = chitra_server::notices::send_pending(&*app.store, &sender, 100)
        .await
        .unwrap();
    assert_eq!(sent, 2);
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.lines().count(), 2);
    assert!(written.contains("\"to\":\"0912345678\""), "{written}");
    let (_, left) = post.get("/api/v1/notices?status=pending").await;
    assert_eq!(left["total"], 0);
    let (_, done) = post.get("/api/v1/notices?status=sent").await;
    assert_eq!(done["total"], 2);

    // The public lookup: code and year of birth, or the last 4 digits of the citizen ID.
    let anon = app.anonymous();
    let file = app
        .store
        .beneficiary(an)
        .await
        .unwrap()
        .unwrap()
        .beneficiary;
    let year = chrono::Datelike::year(&file.birth_date);
    let (s, b) = anon
        .get(&format!(
            "/api/v1/public/lookup?code={an}&birth_year={year}"
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["name"], "Nguyễn V. Ân");
    let month = &b["months"][0];
    assert_eq!(month["period"], period);
    assert_eq!(month["status"], "due");
    assert_eq!(month["point_name"], "Bưu điện văn hóa phường Phú Khương");
    assert!(
        month["days"].as_str().is_some() && month["hours"].as_str().is_some(),
        "{b}"
    );
    assert!(b.get("citizen_id").is_none() && b.to_string().find(&f.citizen_ids[an]).is_none());
    let last4 = &f.citizen_ids[an][8..];
    let (s, _) = anon
        .get(&format!(
            "/api/v1/public/lookup?code={an}&citizen_last4={last4}"
        ))
        .await;
    assert_eq!(s, 200);
    let (s, b) = anon
        .get(&format!(
            "/api/v1/public/lookup?code={an}&birth_year={}",
            year + 1
        ))
        .await;
    assert_eq!((s, b["error"]["code"].as_str()), (404, Some("not_found")));
    let (s, b) = anon.get(&format!("/api/v1/public/lookup?code={an}")).await;
    assert_eq!((s, b["error"]["field"].as_str()), (422, Some("birth_year")));
    let mut limited = false;
    for _ in 0..25 {
        let (s, b) = anon
            .get(&format!(
                "/api/v1/public/lookup?code={an}&birth_year={year}"
            ))
            .await;
        if s == 429 {
            assert_eq!(b["error"]["code"], "rate_limited");
            limited = true;
            break;
        }
    }
    assert!(limited, "lookups are limited per address");
}
