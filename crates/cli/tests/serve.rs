//! `chitra serve` as an operator runs it: the real binary, killed with SIGKILL while tablets
//! submit payments. After a restart every payment that was acknowledged is there, none twice, and
//! `chitra audit verify` passes — on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../server/tests/common/fixture.rs"]
mod fixture;
#[path = "support/serve.rs"]
mod support;

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chitra_core::Program;
use chitra_store::{Change, OpenMode, Store};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_chitra");

/// Starts `chitra serve` on a free port; the address it printed.
fn serve(db: &str) -> (Child, String) {
    support::serve(BIN, db)
}

async fn token(http: &reqwest::Client, base: &str, user: &str) -> String {
    let body: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": user, "password": fixture::PASSWORD, "bearer": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// A month open for payment at the fixture's points, with `extra` more people at point 1.
async fn paying_month(store: &dyn Store, extra: u32) -> (fixture::Fixture, i64) {
    let f = fixture::build(store, extra).await;
    let run = store
        .generate_payroll(
            &Change::now("can.bo", "lập danh sách"),
            f.office,
            Program::SocialAssistance,
            f.period,
        )
        .await
        .unwrap();
    store
        .approve_payroll(&Change::now("chu.tich", "phê duyệt"), run.id)
        .await
        .unwrap();
    store
        .fund_payroll(&Change::now("can.bo", "chuyển kinh phí"), run.id)
        .await
        .unwrap();
    store
        .open_payroll(&Change::now("buu.dien", "bắt đầu chi trả"), run.id)
        .await
        .unwrap();
    (f, run.id)
}

async fn acknowledged_payments_survive_a_kill(db: &str, store: Box<dyn Store>) {
    let (f, run) = paying_month(&*store, 400).await;
    let lines = store
        .run_lines(
            run,
            &chitra_store::cycle::LineFilter {
                point_id: Some(f.point1),
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    drop(store);

    let (mut server, base) = serve(db);
    let http = reqwest::Client::new();
    let agent = token(&http, &base, "nhan.vien.1").await;
    let acknowledged: Arc<Mutex<HashMap<i64, String>>> = Arc::default();
    // Eight tablets, each with its own share of the lines: some one by one, some in batches.
    let mut tablets = Vec::new();
    for t in 0..8usize {
        let share: Vec<_> = lines.iter().skip(t).step_by(8).cloned().collect();
        let (http, base, agent, acknowledged) = (
            http.clone(),
            base.clone(),
            agent.clone(),
            acknowledged.clone(),
        );
        let ids = f.citizen_ids.clone();
        tablets.push(tokio::spawn(async move {
            let payment = |l: &chitra_store::cycle::LineRow| {
                json!({
                    "id": format!("tablet-{t}:{}", l.id),
                    "line_id": l.id,
                    "amount": l.total.get(),
                    "identity": { "kind": "citizen_id", "number": ids[&l.beneficiary_code] },
                })
            };
            for chunk in share.chunks(5) {
                let sent = if t % 2 == 0 {
                    http.post(format!("{base}/api/v1/payments"))
                        .bearer_auth(&agent)
                        .json(&payment(&chunk[0]))
                        .send()
                        .await
                } else {
                    http.post(format!("{base}/api/v1/payments/batch"))
                        .bearer_auth(&agent)
                        .json(&json!({ "payments": chunk.iter().map(payment).collect::<Vec<_>>() }))
                        .send()
                        .await
                };
                let Ok(r) = sent else { return };
                let status = r.status().as_u16();
                let Ok(body) = r.json::<Value>().await else {
                    return;
                };
                let mut ack = acknowledged.lock().unwrap();
                if status == 201 {
                    ack.insert(
                        body["line_id"].as_i64().unwrap(),
                        body["id"].as_str().unwrap().to_owned(),
                    );
                } else if status == 200 {
                    for item in body["results"].as_array().into_iter().flatten() {
                        if item["result"] == "accepted" {
                            ack.insert(
                                item["line_id"].as_i64().unwrap(),
                                item["id"].as_str().unwrap().to_owned(),
                            );
                        }
                    }
                }
            }
        }));
    }
    // Kill the server while the tablets are still sending.
    for _ in 0..200 {
        if acknowledged.lock().unwrap().len() >= 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    for t in tablets {
        t.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 60,
        "only {} acknowledged",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() < lines.len(),
        "the server was killed before the tablets finished"
    );

    // After a restart: every acknowledged payment is there, once.
    let (mut server, base) = serve(db);
    let inspector = token(&http, &base, "thanh.tra").await;
    for (line, id) in &acknowledged {
        let trail: Value = http
            .get(format!("{base}/api/v1/lines/{line}"))
            .bearer_auth(&inspector)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(trail["payment"]["id"], id.as_str(), "line {line}: {trail}");
    }
    let reconcile: Value = http
        .get(format!(
            "{base}/api/v1/reports/reconcile?period={}",
            f.period
        ))
        .bearer_auth(&inspector)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reconcile["mismatches"], json!([]), "{reconcile}");
    assert!(reconcile["payments"].as_i64().unwrap() >= acknowledged.len() as i64);
    server.kill().unwrap();
    server.wait().unwrap();
    let verify = Command::new(BIN)
        .args(["audit", "verify", "--db", db])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_acknowledged_payments_survive_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chitra.db").display().to_string();
    let store = chitra_store::open(&db, OpenMode::Create).await.unwrap();
    acknowledged_payments_survive_a_kill(&db, store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_acknowledged_payments_survive_a_kill() {
    let url = std::env::var("CHITRA_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let name = format!("chitra_crash_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&admin)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let base = url.rsplit_once('/').unwrap().0;
    let db = format!("{base}/{name}");
    let store = chitra_store::open(&db, OpenMode::Create).await.unwrap();
    acknowledged_payments_survive_a_kill(&db, store).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
}

/// As a new user would: a database, its first administrator, the server, a login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_administrator_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chitra.db").display().to_string();
    let init = Command::new(BIN)
        .args(["init", "--db", &db])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let add = |extra: &[&str], password: Option<&str>| {
        let mut c = Command::new(BIN);
        c.args([
            "user",
            "add",
            "--db",
            &db,
            "--username",
            "quan.tri",
            "--display-name",
            "Quản trị",
            "--role",
            "admin",
            "--scope",
            "country",
        ])
        .args(extra)
        .env_remove("CHITRA_PASSWORD");
        if let Some(p) = password {
            c.env("CHITRA_PASSWORD", p);
        }
        c.output().unwrap()
    };
    let refused = add(&["--format", "json"], None);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("\"field\":\"password\""));
    let short = add(&[], Some("ngắn"));
    assert_eq!(short.status.code(), Some(2), "a short password is refused");
    let bad_scope = {
        let mut c = Command::new(BIN);
        c.args([
            "user",
            "add",
            "--db",
            &db,
            "--username",
            "nhan.vien",
            "--display-name",
            "NV",
            "--role",
            "agent",
            "--scope",
            "province:86",
        ])
        .env("CHITRA_PASSWORD", "một mật khẩu dài");
        c.output().unwrap()
    };
    assert_eq!(bad_scope.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_scope.stderr).contains("scope"));
    let made = add(&[], Some("một mật khẩu dài"));
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let list = Command::new(BIN)
        .args(["user", "list", "--db", &db])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("quan.tri"));
    assert_eq!(wal_bytes(&db), 0, "each command closes its store");

    let (mut server, base) = serve(&db);
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": "quan.tri", "password": "một mật khẩu dài", "bearer": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: Value = http
        .get(format!("{base}/api/v1/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["role"].as_str(), me["scope"].as_str()),
        (Some("admin"), Some("country"))
    );
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // Stopped as a service manager stops it: the server ends cleanly and leaves one file.
    let term = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let ended = server.wait().unwrap();
    assert!(ended.success(), "SIGTERM ends the server cleanly: {ended}");
    assert_eq!(wal_bytes(&db), 0, "the WAL is folded into the database");
}

/// The size of the database's WAL file (0 when there is none).
fn wal_bytes(db: &str) -> u64 {
    std::fs::metadata(format!("{db}-wal")).map_or(0, |m| m.len())
}
