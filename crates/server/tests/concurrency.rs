//! 32 clients pay overlapping lines at once: every line is paid exactly once, every other attempt
//! is told which payment paid it, and the ledger stays balanced.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::{Backend, TestApp};
use serde_json::{Value, json};

const CLIENTS: usize = 32;

async fn thirty_two_clients_pay_each_line_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, 150, chitra_server::Config::default()).await;
    let f = app.fixture.clone();
    let id = app.paying_run().await;
    let agent = app.client("nhan.vien.1").await;
    let (_, page) = agent
        .get(&format!("/api/v1/payrolls/{id}/lines?limit=1000"))
        .await;
    let lines: Vec<Value> = page["items"].as_array().unwrap().clone();
    assert_eq!(lines.len(), 153);

    // Each client goes through every line, starting at its own place in the list.
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = agent.clone();
        let lines = lines.clone();
        let ids = f.citizen_ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            for k in 0..lines.len() {
                let line = &lines[(k + c * 7) % lines.len()];
                let payment = json!({
                    "id": format!("client-{c}:{}", line["id"]),
                    "line_id": line["id"],
                    "amount": line["total"],
                    "identity": { "kind": "citizen_id", "number": ids[line["beneficiary_code"].as_str().unwrap()] },
                });
                let (status, body) = client.post("/api/v1/payments", &payment).await;
                answers.push((line["id"].as_i64().unwrap(), payment["id"].as_str().unwrap().to_owned(), status, body));
            }
            answers
        }));
    }
    let mut accepted: HashMap<i64, String> = HashMap::new();
    let mut conflicts: Vec<(i64, String)> = Vec::new();
    for t in tasks {
        for (line, pid, status, body) in t.await.unwrap() {
            match status {
                201 => {
                    let before = accepted.insert(line, pid);
                    assert!(before.is_none(), "line {line} accepted twice");
                }
                409 => {
                    conflicts.push((line, body["error"]["paid_by"].as_str().unwrap().to_owned()))
                }
                other => panic!("line {line}: {other} {body}"),
            }
        }
    }
    assert_eq!(accepted.len(), lines.len(), "every line paid");
    assert_eq!(conflicts.len(), lines.len() * (CLIENTS - 1));
    for (line, paid_by) in &conflicts {
        assert_eq!(
            &accepted[line], paid_by,
            "a refusal names the payment that paid line {line}"
        );
    }
    let store = &app.store;
    let r = store.reconcile(f.period).await.unwrap();
    assert!(r.mismatches.is_empty(), "{:?}", r.mismatches);
    assert_eq!(r.payments as usize, lines.len());
    let balances = store.ledger_balances().await.unwrap();
    assert_eq!(balances.iter().map(|b| b.balance).sum::<i64>(), 0);
    for b in &balances {
        if ["fund", "post", "cash", "bank"]
            .iter()
            .any(|k| b.account.starts_with(&format!("{k}:")))
        {
            assert!(b.balance >= 0, "{b:?}");
        }
    }
    assert!(store.settlement(f.period).await.unwrap().balances);
    assert!(store.verify_journal().await.unwrap().intact);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_thirty_two_clients_pay_each_line_once() {
    thirty_two_clients_pay_each_line_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_thirty_two_clients_pay_each_line_once() {
    thirty_two_clients_pay_each_line_once(Backend::Postgres).await;
}
