//! `chitra bench http`: payments over HTTP on loopback, through the real server (`chitra serve`'s
//! router, its sessions, scope checks and single writer), on the database `bench payroll` made.
//!
//! - the batch endpoint: clients send `POST /api/v1/payments/batch` of `--batch` payments each;
//! - single payments: `wrk` (Debian's package) sends `POST /api/v1/payments`, each request paying
//!   another line, for `--seconds`, with `--connections` connections; its latency percentiles
//!   are read from its report. With `--rate R`, `oha` (`cargo install --locked oha`) sends them instead at
//!   R requests a second, each taking a line at random (a line drawn twice is paid once and
//!   answered again), its latencies corrected for coordinated omission. Without the tool on the
//!   PATH this part is skipped, and says so.
//! - with `--together`, the single payments are sent while the batches are: agents at their
//!   counters while tablets sync, each single payment's latency then counting its wait behind
//!   the tablets' transactions.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use chitra_core::FieldError;
use chitra_core::access::{Role, Scope};
use chitra_store::access::NewUser;
use chitra_store::cycle::DueLine;
use chitra_store::{Change, OpenMode, Store};
use serde::Serialize;

use super::{MONTH, Rng, bench_citizen_ids, month_to_pay, peak_mib, per_second};
use crate::output::{Failure, Outcome, emit, fields};
use crate::{BenchHttp, Global};

const USER: &str = "bench.http";

#[derive(Serialize)]
pub struct HttpBench {
    pub db: String,
    pub backend: &'static str,
    pub batch: Option<BatchFigures>,
    pub single: Option<SingleFigures>,
    /// Why the single-payment part did not run, when it did not.
    pub single_skipped: Option<String>,
    /// The single payments were sent while the batches were (`--together`).
    pub together: bool,
    pub peak_memory_mib: Option<f64>,
}

#[derive(Serialize)]
pub struct BatchFigures {
    pub payments: usize,
    pub requests: usize,
    pub clients: usize,
    pub seconds: f64,
    pub payments_per_second: f64,
    /// How long a client waited for each batch's answer: what a tablet syncing waits.
    pub answer_p50_ms: f64,
    pub answer_p99_ms: f64,
    pub answer_max_ms: f64,
}

#[derive(Serialize)]
pub struct SingleFigures {
    pub tool: String,
    pub connections: usize,
    pub seconds: u64,
    pub requests: u64,
    pub requests_per_second: f64,
    /// Payments the store holds that it did not hold before the single payments began.
    pub accepted_by_the_store: i64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p90_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub latency_p999_ms: Option<f64>,
    /// The rate requests were sent at (`--rate`), when set.
    pub offered_per_second: Option<u32>,
    /// Answers whose HTTP status was not 2xx.
    pub non_2xx: u64,
    /// Requests that got no answer (the connection failed), when the tool tells them apart (oha).
    pub failed: u64,
    /// Answers by HTTP status, and failures by kind, when the tool reports them (oha). A line
    /// drawn a second time is answered 200 (its payment given again), not 201.
    pub answers: std::collections::BTreeMap<String, u64>,
}

/// A payment as the tablet's JSON carries it.
fn body(l: &DueLine, citizen_id: &str, prefix: &str) -> serde_json::Value {
    let (method, location) = if l.home_delivery {
        (
            "home",
            Some(serde_json::json!({ "latitude": 10.05, "longitude": 106.0 })),
        )
    } else {
        ("point", None)
    };
    let mut v = serde_json::json!({
        "id": format!("{prefix}:{}", l.id),
        "line_id": l.id,
        "amount": l.total.get(),
        "method": method,
        "paid_at": format!("{}-{:02}-05T08:30:00+07:00", MONTH.0, MONTH.1),
        "identity": { "kind": "citizen_id", "number": citizen_id },
    });
    if let (Some(loc), Some(obj)) = (location, v.as_object_mut()) {
        obj.insert("location".into(), loc);
    }
    v
}

/// wrk's script: each thread pays its own share of the lines, one request each.
const WRK_SCRIPT: &str = r#"-- chitra bench http: each request pays another line (one JSON body per line of the file).
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  bodies = {}
  for l in io.lines(args[1]) do table.insert(bodies, l) end
  step = tonumber(args[2])
  token = args[3]
  i = tid + 1
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
end
function request()
  local b = bodies[i]
  if b == nil then b = bodies[1] end
  i = i + step
  return wrk.format("POST", "/api/v1/payments", headers, b)
end
"#;

/// Reads a latency such as `1.23ms`, `850.00us` or `1.02s` in milliseconds.
fn millis(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Some(v) = s.strip_suffix("us") {
        v.parse::<f64>().ok().map(|v| v / 1000.0)
    } else if let Some(v) = s.strip_suffix("ms") {
        v.parse().ok()
    } else if let Some(v) = s.strip_suffix('s') {
        v.parse::<f64>().ok().map(|v| v * 1000.0)
    } else {
        None
    }
}

fn wrk_figures(report: &str) -> (Option<f64>, Option<f64>, Option<f64>, u64, f64, u64) {
    let mut p = (None, None, None);
    let (mut requests, mut rps, mut non2xx) = (0u64, 0f64, 0u64);
    for line in report.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => p.0 = millis(v),
            ["90%", v] => p.1 = millis(v),
            ["99%", v] => p.2 = millis(v),
            ["Requests/sec:", v] => rps = v.parse().unwrap_or(0.0),
            [n, "requests", "in", ..] => requests = n.parse().unwrap_or(0),
            ["Non-2xx", "or", "3xx", "responses:", n] => non2xx = n.parse().unwrap_or(0),
            _ => {}
        }
    }
    (p.0, p.1, p.2, requests, rps, non2xx)
}

pub async fn run(g: &Global, args: BenchHttp) -> Outcome {
    if args.batch == 0 || args.batch > 10_000 {
        return Err(FieldError::new("batch", "between 1 and 10,000 (the endpoint's limit)").into());
    }
    let store: Arc<dyn Store> = crate::commands::open(g, OpenMode::Existing).await?;
    let runs = month_to_pay(store.as_ref(), g).await?;
    let ids = bench_citizen_ids(store.health().await?.beneficiaries as usize)?;
    let mut due = Vec::new();
    for run in &runs {
        if run.state == chitra_core::payroll::RunState::Paying {
            due.extend(store.due_lines(run.id).await?);
        }
    }
    // In no order: agents at thousands of points.
    let mut rng = Rng(0x0048_5454_5042);
    for i in (1..due.len()).rev() {
        due.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let citizen = |l: &DueLine| -> Result<String, Failure> {
        usize::try_from(l.beneficiary_id - 1)
            .ok()
            .and_then(|i| ids.get(i))
            .map(|c| c.as_str().to_owned())
            .ok_or_else(|| {
                Failure::Other(format!(
                    "beneficiary {} is not the bench's",
                    l.beneficiary_id
                ))
            })
    };

    // The bench's user: everywhere, so that every line is theirs.
    if store.credentials(USER).await?.is_none() {
        let hash = chitra_server::auth::hash_password("bench http password")?;
        store
            .add_user(
                &Change::now("admin", "bench http"),
                &NewUser {
                    username: USER.into(),
                    display_name: "Bench HTTP".into(),
                    password_hash: hash,
                    role: Role::Admin,
                    scope: Scope::Country,
                },
            )
            .await?;
    }
    let state = chitra_server::AppState::new(store.clone(), chitra_server::Config::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Failure::Other(format!("cannot listen: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::Other(format!("the address: {e}")))?;
    tokio::spawn(chitra_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": USER, "password": "bench http password", "bearer": true }))
        .send()
        .await
        .map_err(|e| Failure::Other(format!("login: {e}")))?
        .json()
        .await
        .map_err(|e| Failure::Other(format!("login: {e}")))?;
    let token = login["token"]
        .as_str()
        .ok_or_else(|| Failure::Other(format!("login: {login}")))?
        .to_owned();

    let batch_lines = args.batch_payments.min(due.len());
    let (for_batches, rest) = due.split_at(batch_lines);
    let mut report = HttpBench {
        db: g.db.clone(),
        backend: store.backend(),
        batch: None,
        single: None,
        single_skipped: None,
        together: args.together,
        peak_memory_mib: None,
    };

    // The batch endpoint's bodies: `--clients` clients each sending their share in batches.
    let mut bodies = Vec::new();
    for chunk in for_batches.chunks(args.batch) {
        let payments = chunk
            .iter()
            .map(|l| Ok(body(l, &citizen(l)?, "batch")))
            .collect::<Result<Vec<_>, Failure>>()?;
        bodies.push(
            serde_json::to_vec(&serde_json::json!({ "payments": payments }))
                .map_err(|e| Failure::Other(e.to_string()))?,
        );
    }

    // Single payments, sent by wrk, or by oha at a set rate: their bodies in a file.
    let (tool, install) = match args.rate {
        Some(_) => ("oha", "cargo install --locked oha"),
        None => ("wrk", "Debian package `wrk`"),
    };
    let tool_here = std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok();
    let dir = tempfile_dir()?;
    let script = dir.join("pay.lua");
    let lines = dir.join("payments.jsonl");
    let singles_sent = if !tool_here {
        report.single_skipped = Some(format!("{tool} is not installed ({install})"));
        false
    } else if rest.is_empty() {
        report.single_skipped = Some("no lines left to pay".into());
        false
    } else {
        std::fs::write(&script, WRK_SCRIPT).map_err(|e| Failure::Other(e.to_string()))?;
        let file = std::fs::File::create(&lines).map_err(|e| Failure::Other(e.to_string()))?;
        let mut f = std::io::BufWriter::new(file);
        for l in rest {
            writeln!(f, "{}", body(l, &citizen(l)?, "wrk"))
                .map_err(|e| Failure::Other(e.to_string()))?;
        }
        f.flush().map_err(|e| Failure::Other(e.to_string()))?;
        true
    };
    let singles = || async {
        if !singles_sent {
            return Ok(None);
        }
        match args.rate {
            Some(rate) => oha(&args, rate, &base, &token, &lines).await,
            None => wrk(&args, &script, &base, &token, &lines).await,
        }
        .map(Some)
    };
    let (requests, clients) = (bodies.len(), args.clients.max(1));
    let batches = || send_batches(&http, &base, &token, bodies, clients);

    // Payments of the month before the single payments: those after, less these and the
    // batches' sent beside them, are theirs.
    let month = chitra_core::Period::new(MONTH.0, MONTH.1)?;
    let (batch, single, before) = if args.together {
        let before = store.reconcile(month).await?.payments;
        let (batch, single) = tokio::join!(batches(), singles());
        (batch, single, before)
    } else {
        let batch = batches().await;
        let before = store.reconcile(month).await?.payments;
        (batch, singles().await, before)
    };
    let _ = std::fs::remove_dir_all(&dir);
    let (accepted, waited, elapsed) = batch?;
    if accepted != for_batches.len() {
        return Err(Failure::Other(format!(
            "{accepted} of {} batch payments were accepted",
            for_batches.len()
        )));
    }
    if accepted > 0 {
        report.batch = Some(BatchFigures {
            payments: accepted,
            requests,
            clients,
            seconds: elapsed.as_secs_f64(),
            payments_per_second: per_second(accepted, elapsed),
            answer_p50_ms: percentile(&waited, 0.50),
            answer_p99_ms: percentile(&waited, 0.99),
            answer_max_ms: waited.last().copied().unwrap_or(0.0),
        });
    }
    if let Some(mut single) = single? {
        let during = if args.together { accepted as i64 } else { 0 };
        single.accepted_by_the_store = store.reconcile(month).await?.payments - before - during;
        report.single = Some(single);
    }
    report.peak_memory_mib = peak_mib();
    emit_report(g, &args, &report)
}

/// Sends `bodies` through the batch endpoint from `clients` clients, each waiting for its answer
/// before it sends again. Returns the payments accepted, each request's wait in milliseconds
/// (sorted), and the time from the first request sent to the last answer.
async fn send_batches(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    bodies: Vec<Vec<u8>>,
    clients: usize,
) -> Result<(usize, Vec<f64>, std::time::Duration), Failure> {
    let mut shares: Vec<Vec<Vec<u8>>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, b) in bodies.into_iter().enumerate() {
        shares[i % clients].push(b);
    }
    let t = Instant::now();
    let mut tasks = Vec::new();
    for share in shares.into_iter().filter(|s| !s.is_empty()) {
        let (http, base, token) = (http.clone(), base.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0usize;
            let mut waited = Vec::new();
            for b in share {
                let sent = Instant::now();
                let r: serde_json::Value = http
                    .post(format!("{base}/api/v1/payments/batch"))
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(b)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                waited.push(sent.elapsed().as_secs_f64() * 1000.0);
                accepted += r["results"]
                    .as_array()
                    .map(|a| a.iter().filter(|x| x["result"] == "accepted").count())
                    .unwrap_or(0);
            }
            Ok::<(usize, Vec<f64>), String>((accepted, waited))
        }));
    }
    let mut accepted = 0;
    let mut waited = Vec::new();
    for task in tasks {
        let (n, w) = task
            .await
            .map_err(|e| Failure::Other(e.to_string()))?
            .map_err(Failure::Other)?;
        accepted += n;
        waited.extend(w);
    }
    waited.sort_by(f64::total_cmp);
    Ok((accepted, waited, t.elapsed()))
}

/// oha's JSON report, as far as it is read here (latencies in seconds).
#[derive(serde::Deserialize)]
struct OhaReport {
    summary: OhaSummary,
    #[serde(rename = "latencyPercentiles")]
    latency: std::collections::HashMap<String, Option<f64>>,
    #[serde(rename = "statusCodeDistribution")]
    status: std::collections::HashMap<String, u64>,
    #[serde(rename = "errorDistribution")]
    errors: std::collections::HashMap<String, u64>,
}

#[derive(serde::Deserialize)]
struct OhaSummary {
    #[serde(rename = "requestsPerSec")]
    requests_per_second: f64,
}

impl OhaReport {
    fn figures(&self, args: &BenchHttp, rate: u32) -> SingleFigures {
        let ms = |p: &str| self.latency.get(p).copied().flatten().map(|s| s * 1000.0);
        let answered: u64 = self.status.values().sum();
        let not_2xx: u64 = self
            .status
            .iter()
            .filter(|(code, _)| !code.starts_with('2'))
            .map(|(_, n)| n)
            .sum();
        // Requests still unanswered when the run's time was up are cut by oha itself: neither
        // answered nor failed.
        let failed: u64 = self
            .errors
            .iter()
            .filter(|(kind, _)| !kind.contains("deadline"))
            .map(|(_, n)| n)
            .sum();
        SingleFigures {
            tool: "oha".into(),
            connections: args.connections,
            seconds: args.seconds,
            requests: answered + failed,
            requests_per_second: self.summary.requests_per_second,
            accepted_by_the_store: 0,
            latency_p50_ms: ms("p50"),
            latency_p90_ms: ms("p90"),
            latency_p99_ms: ms("p99"),
            latency_p999_ms: ms("p99.9"),
            offered_per_second: Some(rate),
            non_2xx: not_2xx,
            failed,
            answers: self
                .status
                .iter()
                .chain(self.errors.iter())
                .map(|(k, n)| (k.clone(), *n))
                .collect(),
        }
    }
}

/// Single payments sent by wrk's connections as fast as they are answered, each body a line of
/// `lines` (see [`WRK_SCRIPT`]).
async fn wrk(
    args: &BenchHttp,
    script: &std::path::Path,
    base: &str,
    token: &str,
    lines: &std::path::Path,
) -> Result<SingleFigures, Failure> {
    let threads = 2usize;
    let out = tokio::process::Command::new("wrk")
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &args.connections.to_string(),
            "-d",
            &format!("{}s", args.seconds),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(base)
        .arg("--")
        .arg(lines)
        .arg(threads.to_string())
        .arg(token)
        .output()
        .await
        .map_err(|e| Failure::Other(format!("wrk: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    tracing::info!(report = %text, "wrk");
    let (p50, p90, p99, requests, rps, non2xx) = wrk_figures(&text);
    Ok(SingleFigures {
        tool: "wrk".into(),
        connections: args.connections,
        seconds: args.seconds,
        requests,
        requests_per_second: rps,
        accepted_by_the_store: 0,
        latency_p50_ms: p50,
        latency_p90_ms: p90,
        latency_p99_ms: p99,
        latency_p999_ms: None,
        offered_per_second: None,
        non_2xx: non2xx,
        failed: 0,
        answers: Default::default(),
    })
}

/// Single payments sent by oha at `rate` requests a second, each body a line of `lines`.
async fn oha(
    args: &BenchHttp,
    rate: u32,
    base: &str,
    token: &str,
    lines: &std::path::Path,
) -> Result<SingleFigures, Failure> {
    let out = tokio::process::Command::new("oha")
        .args(["-z", &format!("{}s", args.seconds)])
        .args(["-c", &args.connections.to_string()])
        .args(["-q", &rate.to_string()])
        .arg("--latency-correction")
        .args(["--no-tui", "--output-format", "json", "-m", "POST"])
        .args(["-T", "application/json"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg("-Z")
        .arg(lines)
        .arg(format!("{base}/api/v1/payments"))
        .output()
        .await
        .map_err(|e| Failure::Other(format!("oha: {e}")))?;
    if !out.status.success() {
        return Err(Failure::Other(format!(
            "oha: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let report: OhaReport = serde_json::from_slice(&out.stdout)
        .map_err(|e| Failure::Other(format!("oha's report: {e}")))?;
    Ok(report.figures(args, rate))
}

/// The value below which a share `q` of the sorted `values` lie (nearest rank); 0 for none.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn emit_report(g: &Global, args: &BenchHttp, report: &HttpBench) -> Outcome {
    emit(g.format, report, || {
        let mut pairs: Vec<(&str, String)> = vec![("backend", report.backend.to_owned())];
        if let Some(b) = &report.batch {
            pairs.push((
                "batch endpoint",
                format!(
                    "{} payments in {} requests of up to {} from {} clients: {:.2} s, {:.0} payments/s; each answered in p50 {:.0} ms, p99 {:.0} ms, at most {:.0} ms",
                    b.payments,
                    b.requests,
                    args.batch,
                    b.clients,
                    b.seconds,
                    b.payments_per_second,
                    b.answer_p50_ms,
                    b.answer_p99_ms,
                    b.answer_max_ms
                ),
            ));
        }
        if let Some(s) = &report.single {
            let ms = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or("-".into());
            let offered = s
                .offered_per_second
                .map(|r| format!(" sent at {r}/s,"))
                .unwrap_or_default();
            pairs.push((
                match (s.tool.as_str(), report.together) {
                    ("oha", false) => "single payments (oha)",
                    ("oha", true) => "single payments (oha), during the batches",
                    (_, false) => "single payments (wrk)",
                    (_, true) => "single payments (wrk), during the batches",
                },
                format!(
                    "{} requests in {} s over {} connections,{offered} {:.0} requests/s; p50 {} ms, p90 {} ms, p99 {} ms, p99.9 {} ms; non-2xx {}, unanswered {}; {} payments recorded{}",
                    s.requests,
                    s.seconds,
                    s.connections,
                    s.requests_per_second,
                    ms(s.latency_p50_ms),
                    ms(s.latency_p90_ms),
                    ms(s.latency_p99_ms),
                    ms(s.latency_p999_ms),
                    s.non_2xx,
                    s.failed,
                    s.accepted_by_the_store,
                    if !s.answers.is_empty() {
                        format!(
                            " ({})",
                            s.answers
                                .iter()
                                .map(|(k, n)| format!("{k}: {n}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        if let Some(why) = &report.single_skipped {
            pairs.push(("single payments", format!("skipped: {why}")));
        }
        if let Some(m) = report.peak_memory_mib {
            pairs.push(("peak memory", format!("{m:.0} MiB")));
        }
        fields(&pairs)
    })
}

fn tempfile_dir() -> Result<std::path::PathBuf, Failure> {
    let dir = std::env::temp_dir().join(format!("chitra-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Failure::Other(e.to_string()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn percentiles_are_nearest_ranks() {
        let v: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 100.0);
        assert_eq!(percentile(&v, 0.99), 198.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn wrk_reports_are_read() {
        let report = "Running 10s test @ http://127.0.0.1:1\n  2 threads and 64 connections\n  Latency Distribution\n     50%    5.10ms\n     75%    7.00ms\n     90%    9.50ms\n     99%   18.20ms\n  51000 requests in 10.00s, 9.00MB read\n  Non-2xx or 3xx responses: 3\nRequests/sec:   5100.12\n";
        let (p50, p90, p99, n, rps, bad) = wrk_figures(report);
        assert_eq!((p50, p90, p99), (Some(5.10), Some(9.50), Some(18.20)));
        assert_eq!((n, bad), (51000, 3));
        assert!((rps - 5100.12).abs() < 1e-9);
        assert_eq!(millis("850.00us"), Some(0.85));
        assert_eq!(millis("1.5s"), Some(1500.0));
    }

    #[test]
    fn oha_reports_are_read() {
        let report = r#"{"summary": {"successRate": 1.0, "total": 10.0, "requestsPerSec": 4999.5},
            "latencyPercentiles": {"p50": 0.0021, "p90": 0.004, "p99": 0.0125, "p99.9": 0.031, "p99.99": null},
            "statusCodeDistribution": {"200": 49000, "409": 7, "503": 2},
            "errorDistribution": {"connection closed": 1, "aborted due to deadline": 5}}"#;
        let report: OhaReport = serde_json::from_str(report).unwrap();
        let args = BenchHttp {
            batch_payments: 0,
            batch: 10_000,
            clients: 8,
            connections: 32,
            seconds: 10,
            rate: Some(5000),
            together: false,
        };
        let f = report.figures(&args, 5000);
        assert_eq!((f.requests, f.non_2xx, f.failed), (49_010, 9, 1));
        assert_eq!(f.latency_p99_ms, Some(12.5));
        assert_eq!(f.latency_p999_ms, Some(31.0));
        assert_eq!(f.offered_per_second, Some(5000));
        assert_eq!(f.answers.get("409"), Some(&7));
        assert_eq!(f.answers.get("connection closed"), Some(&1));
        assert!((f.requests_per_second - 4999.5).abs() < 1e-9);
    }
}
