//! The web interface end to end: a demo province (stopped after February 2018), `chitra serve`,
//! and the Playwright script `e2e/run.mjs` driving Debian's chromium through the screens — sign
//! in, search the register, generate and approve a payroll as two users, pay as an agent (a second
//! attempt refused), close and settle, the public lookup, an agent kept out of another point.
//!
//! Needs `node`, `npm` and `chromium`: `.ci/run` installs them and runs `npm ci` in `e2e/`; this
//! test runs `npm ci` itself when `e2e/node_modules` is missing. It fails, never skips, without them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/serve.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_chitra");

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e")
}

fn require_tool(program: &str, arg: &str) {
    let ok = Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{program}` is needed by the web interface's end-to-end test and was not found: \
         `bash .ci/run` installs it (Debian packages chromium, nodejs, npm)"
    );
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

#[test]
fn the_web_interface_end_to_end() {
    require_tool("node", "--version");
    require_tool(&chromium(), "--version");
    let e2e = e2e_dir();
    if !e2e.join("node_modules/playwright-core").exists() {
        require_tool("npm", "--version");
        let st = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e)
            .status()
            .expect("npm ci");
        assert!(
            st.success(),
            "`npm ci` failed in e2e/ (`bash .ci/run` runs it)"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let db = db.to_str().unwrap();
    let t = Instant::now();
    let out = Command::new(BIN)
        .args(["demo", "--db", db, "--to", "2018-02", "--format", "json"])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "the demo failed");
    eprintln!(
        "web e2e: demo to 2018-02 built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let agent = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["role"] == "agent")
        .and_then(|u| u["username"].as_str())
        .expect("the demo makes an agent")
        .to_owned();

    let (mut server, base) = support::serve(BIN, db);

    let t = Instant::now();
    let status = Command::new("node")
        .arg(e2e.join("run.mjs"))
        .arg(&base)
        .arg(&agent)
        .env("CHROMIUM", chromium())
        .status()
        .unwrap();
    eprintln!(
        "web e2e: browser checks in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let _ = server.kill();
    let _ = server.wait();
    assert!(status.success(), "the end-to-end checks failed (see above)");
}
