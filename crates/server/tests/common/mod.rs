//! The real server on port 0 with a fresh database each (SQLite in a temporary folder, or a
//! PostgreSQL schema of its own), a small province to work on, and a client per user.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chitra_store::postgres::PgStore;
use chitra_store::sqlite::SqliteStore;
use chitra_store::{OpenMode, Store};
use serde_json::{Value, json};

pub mod fixture;

pub use fixture::{Fixture, PASSWORD};

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub fixture: Fixture,
    pub backend: Backend,
    schema: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

async fn open(
    backend: Backend,
) -> (
    Arc<dyn Store>,
    Option<(String, String)>,
    Option<tempfile::TempDir>,
) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::open(dir.path().join("chitra.db"), OpenMode::Create)
                .await
                .unwrap();
            (Arc::new(store), None, Some(dir))
        }
        Backend::Postgres => {
            static N: AtomicU32 = AtomicU32::new(0);
            let url = std::env::var("CHITRA_TEST_PG")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
            let schema = format!(
                "server_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            );
            let admin = sqlx::PgPool::connect(&url).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {url} is required by the server tests: {e}")
            });
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&admin)
            .await
            .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            let options = sqlx::postgres::PgConnectOptions::from_str(&url)
                .unwrap()
                .options([("search_path", schema.as_str())]);
            let store = PgStore::connect_with(options).await.unwrap();
            (Arc::new(store), Some((url, schema)), None)
        }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, 0, chitra_server::Config::default()).await
    }

    /// With `extra` more beneficiaries at point 1, and a configuration of its own.
    pub async fn spawn_with(
        backend: Backend,
        extra: u32,
        config: chitra_server::Config,
    ) -> TestApp {
        let (store, schema, dir) = open(backend).await;
        let fixture = fixture::build(&*store, extra).await;
        let state = chitra_server::AppState::new(store.clone(), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(chitra_server::serve(
            listener,
            state,
            std::future::pending(),
        ));
        TestApp {
            base,
            store,
            fixture,
            backend,
            schema,
            _dir: dir,
        }
    }

    pub async fn finish(self) {
        if let Some((url, schema)) = &self.schema {
            let admin = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await
                .unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with no session.
    pub fn anonymous(&self) -> Client {
        Client {
            base: self.base.clone(),
            // A new connection for each request: the server may close a connection after
            // answering before it read the whole body (a 413, a 403), and a request sent on it in
            // that moment fails to send — a race of the transport, not what these tests check.
            http: reqwest::Client::builder()
                .cookie_store(true)
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            bearer: None,
            csrf: None,
        }
    }

    /// A client signed in as `username` with a bearer token.
    pub async fn client(&self, username: &str) -> Client {
        let mut client = self.anonymous();
        let (status, body) = client
            .post(
                "/api/v1/auth/login",
                &json!({ "username": username, "password": PASSWORD, "bearer": true }),
            )
            .await;
        assert_eq!(status, 200, "login {username}: {body}");
        client.bearer = Some(body["token"].as_str().unwrap().to_owned());
        client
    }

    /// The fixture's month for the first office generated, approved (by a second user), funded
    /// and opened for payment through the API, each step answered 200: the run's id.
    pub async fn paying_run(&self) -> i64 {
        let f = &self.fixture;
        let officer = self.client("can.bo").await;
        let (s, run) = officer
            .post(
                "/api/v1/payrolls",
                &json!({ "office_id": f.office, "period": f.period.to_string() }),
            )
            .await;
        assert!(s < 300, "generate: {s} {run}");
        let id = run["id"].as_i64().unwrap();
        for (who, step) in [
            ("chu.tich", "approve"),
            ("can.bo", "fund"),
            ("buu.dien", "open"),
        ] {
            let (s, b) = self
                .client(who)
                .await
                .post(&format!("/api/v1/payrolls/{id}/{step}"), &json!({}))
                .await;
            assert_eq!(s, 200, "{step}: {b}");
        }
        id
    }

    pub async fn journal_len(&self) -> i64 {
        self.store.health().await.unwrap().journal_entries
    }
}

/// A test client: JSON in, status and JSON out.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub bearer: Option<String>,
    pub csrf: Option<String>,
}

impl Client {
    fn with_auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let r = match &self.bearer {
            Some(t) => r.bearer_auth(t),
            None => r,
        };
        match &self.csrf {
            Some(t) => r.header("x-csrf-token", t),
            None => r,
        }
    }

    async fn answer(r: reqwest::Response) -> (u16, Value) {
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .with_auth(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .unwrap();
        Client::answer(r).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .with_auth(self.http.post(format!("{}{path}", self.base)).json(body))
            .send()
            .await
            .unwrap();
        Client::answer(r).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .with_auth(self.http.put(format!("{}{path}", self.base)).json(body))
            .send()
            .await
            .unwrap();
        Client::answer(r).await
    }

    /// A body sent as is, with a content type of the caller's choosing.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> (u16, Value) {
        let r = self
            .with_auth(
                self.http
                    .post(format!("{}{path}", self.base))
                    .header("content-type", content_type)
                    .body(body.to_owned()),
            )
            .send()
            .await
            .unwrap();
        Client::answer(r).await
    }
}

/// Runs a test on SQLite and on PostgreSQL (`sqlite::…`, `postgres::…` in the output).
#[macro_export]
macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let app = $crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await;
                    super::$case(&app).await;
                    app.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let app = $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await;
                    super::$case(&app).await;
                    app.finish().await;
                }
            )*
        }
    };
}
