//! No input makes the service fail, and a refused input changes nothing — for every operation the
//! OpenAPI document lists, not only the cases written out in `api.rs`. Each operation is sent, by
//! each role and without a session, a request that should pass, then the same request bent one
//! thing at a time: each field of its body given a value of another type, out of range, empty,
//! huge, with a NUL byte or nested too deep; each field left out; a field added; bodies that are
//! not JSON at all or not UTF-8; each path and query parameter given values that are not what it
//! takes. Every answer must be below 500, and every 4xx must leave the journal as it was.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Client, TestApp};
use serde_json::{Value, json};

/// Values a field is given in place of its own.
fn bent_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(-1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(-1.5e300),
        json!(""),
        json!("x".repeat(70_000)),
        json!("a\u{0}b"),
        json!("\u{202e}💥"),
        // Another payment's id for a line already paid: a conflict.
        json!("bent:2"),
        json!([]),
        json!({}),
        json!([[[[[["deep"]]]]]]),
    ]
}

/// Values a path segment or a query parameter is given (already percent-encoded where needed).
const BENT_SEGMENTS: [&str; 10] = [
    "0",
    "-1",
    "9223372036854775807",
    "99999999999999999999",
    "abc",
    "%00",
    "%F0%9F%92%A5",
    "1.5",
    "%20",
    "..%2F..",
];

/// Bodies that are not what any operation takes.
fn bent_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", Vec::new()),
        ("cut short", b"{\"a\": ".to_vec()),
        ("null", b"null".to_vec()),
        ("an array", b"[1, 2]".to_vec()),
        ("a string", b"\"s\"".to_vec()),
        ("two objects", b"{}{}".to_vec()),
        ("nested 100,000 deep", "[".repeat(100_000).into_bytes()),
        ("not UTF-8", b"{\"id\": \"\xff\xfe\"}".to_vec()),
    ]
}

/// One request to send.
struct Request {
    method: &'static str,
    path: String,
    body: Option<Vec<u8>>,
    what: String,
}

async fn send(client: &Client, r: &Request) -> (u16, String) {
    let url = format!("{}{}", client.base, r.path);
    let mut b = match r.method {
        "GET" => client.http.get(&url),
        "POST" => client.http.post(&url),
        "PUT" => client.http.put(&url),
        other => panic!("no method {other} in the document expected"),
    };
    if let Some(t) = &client.bearer {
        b = b.bearer_auth(t);
    }
    if let Some(body) = &r.body {
        b = b
            .header("content-type", "application/json")
            .body(body.clone());
    }
    let answer = b.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap_or_default())
}

/// What a request that should pass sends to each operation, from the fixture's paying month.
struct Ready {
    run: i64,
    line: Value,
    citizen_id: String,
    code: String,
}

impl Ready {
    fn path(&self, app: &TestApp, template: &str) -> String {
        let f = &app.fixture;
        template
            .replace("/payrolls/{id}", &format!("/payrolls/{}", self.run))
            .replace("/lines/{id}", &format!("/lines/{}", self.line["id"]))
            .replace("/points/{id}", &format!("/points/{}", f.point1))
            .replace("{code}", &self.code)
            .replace("{period}", &f.period.to_string())
    }

    fn body(&self, app: &TestApp, method: &str, template: &str) -> Option<Value> {
        let f = &app.fixture;
        let period = f.period.to_string();
        let payment = json!({
            "id": "bent:1",
            "line_id": self.line["id"],
            "amount": self.line["total"],
            "identity": { "kind": "citizen_id", "number": self.citizen_id },
            "method": "point",
            "paid_at": chrono::Utc::now().to_rfc3339(),
        });
        let body = match (method, template) {
            ("POST", "/api/v1/auth/login") => {
                json!({ "username": "admin", "password": common::PASSWORD, "bearer": true, "label": "bent" })
            }
            ("POST", "/api/v1/auth/tokens") => json!({ "label": "máy tính bảng" }),
            ("POST", "/api/v1/beneficiaries") => json!({
                "full_name": "Trương Thị Lan", "birth_date": "1940-03-04", "sex": "nữ",
                "citizen_id": "086140000077", "commune": "28756", "category": "K5c",
                "hamlet": "Khu phố 1", "payment_point_id": f.point1, "dependants": 1,
                "effective": period, "signed_on": "2025-08-01", "signer": "Chủ tịch",
                "number": "9/QĐ-UBND", "reason": "đủ điều kiện", "program": "social_assistance",
            }),
            ("POST", "/api/v1/beneficiaries/{code}/decisions") => json!({
                "kind": "adjust", "reason": "điều chỉnh", "category": "K5c", "dependants": 1,
                "effective": period, "signed_on": "2025-08-01", "signer": "Chủ tịch",
                "number": "10/QĐ-UBND",
            }),
            ("PUT", "/api/v1/beneficiaries/{code}/phone") => json!({ "phone": "0912345678" }),
            ("POST", "/api/v1/contracts") => json!({
                "code": "VL-BĐ-BENT", "name": "Hợp đồng", "office_id": f.office,
                "post_office": "Bưu điện tỉnh Vĩnh Long", "area_code": "86", "fee": "6600",
                "valid_from": "2025-07", "program": "social_assistance", "advance_by_day": 25,
                "pay_from_day": 1, "pay_to_day": 28, "report_by_day": 20,
            }),
            ("POST", "/api/v1/notices") => json!({ "period": period }),
            ("POST", "/api/v1/payments") => payment,
            ("POST", "/api/v1/payments/batch") => json!({ "payments": [payment] }),
            ("POST", "/api/v1/payrolls") => json!({ "office_id": f.office, "period": period }),
            ("POST", "/api/v1/points") => json!({
                "code": "P-BENT", "name": "Điểm chi trả", "kind": "commune_cultural_post_office",
                "commune": "28756", "address": "Vĩnh Long", "latitude": 10.2,
                "longitude": 106.3, "opening_days": "mon-fri", "pay_days": [1, 10],
            }),
            ("POST", "/api/v1/points/{id}/assignments") => json!({ "assignments": [
                { "beneficiary_code": self.code, "home_delivery": "đi lại khó khăn",
                  "home": { "latitude": 10.98, "longitude": 106.65 } },
            ] }),
            ("PUT", "/api/v1/points/{id}/schedules/{period}") => {
                json!({ "days": "5-10", "hours": "07:30-11:00" })
            }
            ("POST", "/api/v1/users") => json!({
                "username": "nhan.vien.9", "display_name": "Nhân viên 9",
                "password": common::PASSWORD, "role": "agent",
                "scope": format!("point:{}", f.point1),
            }),
            // Operations of no body (approve, fund, open, close, logout) get an empty object.
            ("POST", _) => json!({}),
            _ => return None,
        };
        Some(body)
    }
}

/// The body bent one field at a time: at the top, and inside the objects and arrays it holds
/// (a payment's identity, a batch's payment).
fn bent_fields(base: &Value) -> Vec<(String, Value)> {
    fn walk(at: &str, here: &Value, set: &dyn Fn(Value) -> Value, out: &mut Vec<(String, Value)>) {
        match here {
            Value::Object(map) => {
                for (k, v) in map {
                    let name = if at.is_empty() {
                        k.clone()
                    } else {
                        format!("{at}.{k}")
                    };
                    let key = k.clone();
                    let inner = |nv: Value| {
                        let mut m = map.clone();
                        m.insert(key.clone(), nv);
                        set(Value::Object(m))
                    };
                    for bent in bent_values() {
                        out.push((format!("{name} = {}", short(&bent)), inner(bent)));
                    }
                    let mut without = map.clone();
                    without.remove(k);
                    out.push((format!("{name} left out"), set(Value::Object(without))));
                    walk(&name, v, &inner, out);
                }
                let mut extra = map.clone();
                extra.insert("bent_extra".into(), json!(1));
                out.push((format!("{at}.bent_extra added"), set(Value::Object(extra))));
            }
            Value::Array(items) if !items.is_empty() => {
                let inner = |nv: Value| {
                    let mut a = items.clone();
                    a[0] = nv;
                    set(Value::Array(a))
                };
                walk(&format!("{at}[0]"), &items[0], &inner, out);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", base, &|v| v, &mut out);
    out
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        format!("{}…({} bytes)", &s[..20], s.len())
    } else {
        s
    }
}

/// The requests for one operation.
fn requests(
    app: &TestApp,
    ready: &Ready,
    method: &'static str,
    template: &str,
    query: &[String],
) -> Vec<Request> {
    let path = ready.path(app, template);
    let body = ready.body(app, method, template);
    let encoded = |b: &Option<Value>| b.as_ref().map(|v| v.to_string().into_bytes());
    let mut out = vec![Request {
        method,
        path: path.clone(),
        body: encoded(&body),
        what: "as it should be".into(),
    }];
    if let Some(base) = &body {
        for (what, bent) in bent_fields(base) {
            out.push(Request {
                method,
                path: path.clone(),
                body: Some(bent.to_string().into_bytes()),
                what,
            });
        }
        for (what, raw) in bent_bodies() {
            out.push(Request {
                method,
                path: path.clone(),
                body: Some(raw),
                what: format!("a body {what}"),
            });
        }
    }
    // Each path parameter bent, the others as they should be.
    let segments: Vec<(usize, &str)> = template
        .split('/')
        .enumerate()
        .filter(|(_, s)| s.starts_with('{'))
        .collect();
    for (i, name) in segments {
        for bent in BENT_SEGMENTS {
            let mut parts: Vec<String> = template.split('/').map(str::to_owned).collect();
            parts[i] = bent.to_owned();
            out.push(Request {
                method,
                path: ready.path(app, &parts.join("/")),
                body: encoded(&body),
                what: format!("path {name} = {bent}"),
            });
        }
    }
    for name in query {
        for bent in BENT_SEGMENTS.iter().chain(&["", "2025-13", "9999-01"]) {
            out.push(Request {
                method,
                path: format!("{path}?{name}={bent}"),
                body: encoded(&body),
                what: format!("query {name} = {bent}"),
            });
        }
        out.push(Request {
            method,
            path: format!("{path}?{name}=1&{name}=2"),
            body: encoded(&body),
            what: format!("query {name} twice"),
        });
    }
    out
}

async fn no_input_breaks_the_service(app: &TestApp) {
    let f = &app.fixture;
    let run = app.paying_run().await;
    let agent = app.client("nhan.vien.1").await;
    let (_, lines) = agent.get(&format!("/api/v1/payrolls/{run}/lines")).await;
    let line = lines["items"][0].clone();
    let code = line["beneficiary_code"].as_str().unwrap().to_owned();
    let ready = Ready {
        run,
        citizen_id: f.citizen_ids[&code].clone(),
        line,
        code,
    };

    let mut clients = vec![("no session", app.anonymous())];
    for user in [
        "admin",
        "can.bo",
        "chu.tich",
        "buu.dien",
        "nhan.vien.1",
        "thanh.tra",
    ] {
        clients.push((user, app.client(user).await));
    }

    let (_, doc) = app.anonymous().get("/api/v1/openapi.json").await;
    let mut operations: Vec<(&'static str, String, Vec<String>)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let method = match method.as_str() {
                "get" => "GET",
                "post" => "POST",
                "put" => "PUT",
                other => panic!("an operation {other} {path}: this test does not send it yet"),
            };
            let query = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            operations.push((method, path.clone(), query));
        }
    }
    assert!(
        operations.len() >= 40,
        "the document lists {} operations",
        operations.len()
    );
    // Reads first, then writes; closing the month and signing out last (after them the other
    // writes would only be refused for that).
    let last = |p: &str| p.ends_with("/close") || p.ends_with("/logout");
    operations.sort_by_key(|(m, p, _)| (last(p), *m != "GET", p.clone()));

    // The pages refuse the same addresses, signed in or not.
    for (path, named) in [
        ("/beneficiaries?search=%00", "search"),
        ("/lookup?code=%00", "code"),
        ("/beneficiaries/%00", "address"),
    ] {
        let (status, page) = app.anonymous().get(path).await;
        assert_eq!(status, 400, "{path}");
        let page = page.to_string();
        assert!(
            page.contains("control characters") && page.contains(named),
            "{path} should name {named}: {page}"
        );
    }
    let (status, page) = app
        .anonymous()
        .post_raw(
            "/login",
            "application/x-www-form-urlencoded",
            "username=a%00b&password=x",
        )
        .await;
    assert_eq!(status, 400, "a form with a NUL");
    assert!(
        page.to_string().contains("username"),
        "the page names the field: {page}"
    );

    let mut answers: std::collections::BTreeMap<u16, usize> = Default::default();
    let mut writes_done = 0usize;
    for (method, template, query) in &operations {
        for (who, client) in &clients {
            for r in requests(app, &ready, method, template, query) {
                let before = app.journal_len().await;
                let (status, text) = send(client, &r).await;
                *answers.entry(status).or_default() += 1;
                if *method != "GET" && status < 300 {
                    writes_done += 1;
                }
                assert!(
                    status < 500,
                    "{method} {template} by {who}, {}: {status} {}",
                    r.what,
                    &text[..text.len().min(300)]
                );
                if status >= 400 {
                    assert_eq!(
                        app.journal_len().await,
                        before,
                        "{method} {} by {who}, {}: refused ({status}) but the journal changed",
                        r.path,
                        r.what
                    );
                }
            }
        }
    }
    eprintln!("answers by status: {answers:?}; writes that succeeded: {writes_done}");
    // The requests reached past the session and the JSON into the rules and the store: some
    // writes went through, and some were refused by the rules (422) or as conflicts (409).
    assert!(
        writes_done > 0 && answers.contains_key(&422) && answers.contains_key(&409),
        "{answers:?}"
    );
}

both_backends!(no_input_breaks_the_service);
