//! Stories of `chitra import` and `chitra export`: the real binary on a fresh database. A bad file
//! or flag exits with code 2, names the field, and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../documents/tests/fixtures")
        .join(name)
}

fn chitra(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chitra"))
        .args(args)
        .arg("--db")
        .arg(dir.join("chitra.db"))
        .current_dir(dir)
        .env("CHITRA_TODAY", "2021-02-20")
        .env_remove("CHITRA_DB")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn beneficiaries(dir: &Path) -> i64 {
    let out = chitra(dir, &["healthcheck", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["beneficiaries"].as_i64().unwrap()
}

#[test]
fn importing_a_spreadsheet_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(chitra(d, &["init"]).status.success());

    // Every bad row in the report, exit code 2, nothing registered.
    let bad = fixture("bad_rows.csv");
    let out = chitra(
        d,
        &[
            "import",
            "beneficiaries",
            bad.to_str().unwrap(),
            "--province",
            "83",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(report.contains("31/02/1950"), "{report}");
    assert!(report.contains("unknown category"), "{report}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("error: file:") && err.contains("nothing was imported"),
        "{err}"
    );
    assert_eq!(beneficiaries(d), 0);

    // The dry run of a good file registers nothing; the import registers it once.
    let good = fixture("good.csv");
    let out = chitra(
        d,
        &[
            "import",
            "beneficiaries",
            good.to_str().unwrap(),
            "--dry-run",
            "--province",
            "83",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(beneficiaries(d), 0);
    let out = chitra(
        d,
        &[
            "import",
            "beneficiaries",
            good.to_str().unwrap(),
            "--province",
            "83",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["added"], 3);
    let out = chitra(
        d,
        &[
            "import",
            "beneficiaries",
            good.to_str().unwrap(),
            "--province",
            "83",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["added"].as_i64(), v["already_registered"].as_i64()),
        (Some(0), Some(3))
    );
    assert_eq!(beneficiaries(d), 3);

    // A mapping that names no field is refused before anything is read.
    let out = chitra(
        d,
        &[
            "import",
            "beneficiaries",
            good.to_str().unwrap(),
            "--map",
            "Tên=nobody",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["field"], "map");
}

#[test]
fn exports_refuse_bad_flags_with_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(chitra(d, &["init"]).status.success());
    for (args, field) in [
        (
            vec![
                "export", "payroll", "--period", "2021-13", "--point", "1", "-o", "x.pdf",
            ],
            "period",
        ),
        (
            vec![
                "export", "payroll", "--period", "2021-03", "--point", "1", "-o", "x.txt",
            ],
            "format",
        ),
        (
            vec![
                "export", "payroll", "--period", "2021-03", "--point", "NOPE", "-o", "x.xlsx",
            ],
            "point",
        ),
        (
            vec![
                "export", "notices", "--period", "2021-03", "--point", "1", "-o", "x.xlsx",
            ],
            "format",
        ),
        (
            vec![
                "report", "summary", "--from", "2021-01", "--to", "2021-02", "--format", "pdf",
            ],
            "format",
        ),
    ] {
        let mut all = args.clone();
        if !all.contains(&"--format") {
            all.extend(["--format", "json"]);
        }
        let out = chitra(d, &all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(field), "{args:?}: {stderr}");
    }
    assert!(!d.join("x.pdf").exists() && !d.join("x.xlsx").exists());
}
