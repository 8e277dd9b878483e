//! Stories: the real `chitra` binary, run as a user would, on a fresh database in a temporary
//! directory. Every refusal must name the field, exit with code 2 and change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new() -> Run {
        Run {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("chitra.db")
    }

    fn chitra(&self, args: &[&str]) -> Output {
        self.chitra_on("2026-11-26", args)
    }

    /// Runs as if on `date`: what is recorded then is known to the payrolls from then.
    fn chitra_on(&self, date: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_chitra"))
            .args(args)
            .current_dir(self.dir.path())
            .env("CHITRA_TODAY", date)
            .env_remove("CHITRA_DB")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        self.ok_on("2026-11-26", args)
    }

    fn ok_on(&self, date: &str, args: &[&str]) -> String {
        let out = self.chitra_on(date, args);
        assert!(
            out.status.success(),
            "chitra {args:?} failed ({:?}):\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Runs and expects a refusal of bad input (exit code 2) naming `field`; returns the message.
    fn refused(&self, args: &[&str], field: &str) -> String {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.chitra(&all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "chitra {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(err["error"]["field"], field, "{err}");
        err["error"]["message"].as_str().unwrap().to_owned()
    }

    fn journal_entries(&self) -> i64 {
        self.json(&["healthcheck"])["journal_entries"]
            .as_i64()
            .unwrap()
    }
}

fn sqlite3(db: &Path, sql: &str) {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 command (Debian package sqlite3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn rules_show_the_base_levels_without_a_database() {
    let r = Run::new();
    let sa = |at: &str| {
        r.json(&["rules", "show", "--at", at])["social_assistance_base_vnd"]
            .as_i64()
            .unwrap()
    };
    let merit = |at: &str| {
        r.json(&["rules", "show", "--at", at])["merit_base_vnd"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(sa("2020-06"), 270_000);
    assert_eq!(sa("2021-07"), 360_000);
    assert_eq!(sa("2024-07"), 500_000);
    assert_eq!(merit("2021-07"), 1_624_000);
    assert_eq!(merit("2023-07"), 2_055_000);
    assert_eq!(merit("2024-07"), 2_789_000);
    let shown = r.json(&["rules", "show", "--at", "2021-07"]);
    assert_eq!(shown["source"], "built-in");
    let k5b = shown["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "K5b")
        .unwrap();
    assert_eq!(k5b["monthly_amount"], 360_000);
    assert!(
        r.ok(&["rules", "show", "--at", "2021-07"])
            .contains("Decree 20/2021")
    );
    assert!(!r.db().exists(), "showing rules creates no database");
    r.refused(&["rules", "show", "--at", "2021-13"], "at");
}

#[test]
fn register_decide_and_refuse_bad_input() {
    let r = Run::new();
    let init = r.json(&["init"]);
    // 63 provinces, 696 districts and 10,051 communes until June 2025; 34 and 3,321 from July 2025.
    assert_eq!(init["units"], 63 + 696 + 10_051 + 34 + 3_321);
    assert_eq!(r.json(&["init"])["already_initialised"], true);
    // Rules now come from the database.
    assert_eq!(
        r.json(&["rules", "show", "--at", "2020-06"])["source"],
        "database"
    );

    let add = |extra: &[&str]| {
        let mut a = vec![
            "beneficiary",
            "add",
            "--name",
            "Nguyễn Văn Ân",
            "--birth-date",
            "1938-05-12",
            "--sex",
            "nam",
            "--citizen-id",
            "083038000123",
            "--commune",
            "28756",
            "--category",
            "K5c",
            "--effective",
            "2019-01",
            "--signed-on",
            "2019-01-08",
            "--signer",
            "Chủ tịch UBND thành phố Bến Tre",
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let args = add(&[]);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--format", "json"]);
    // Entered on the day the grant was signed.
    let b: Value = serde_json::from_str(&r.ok_on("2019-01-08", &args)).unwrap();
    args.truncate(args.len() - 2);
    let code = b["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("83-"), "{code}");
    let entries = r.journal_entries();

    // Bad input: each names its field, exits 2, and changes nothing.
    // The registration above with some flags changed; a fresh citizen ID unless one is given.
    let swap = |flag: &str, value: &str| {
        let mut v = add(&[]);
        for (f, x) in [("--citizen-id", "083038000999"), (flag, value)] {
            let i = v.iter().position(|a| a == f).unwrap();
            v[i + 1] = x.to_owned();
        }
        v
    };
    let m = r.refused(&as_refs(&swap("--commune", "99999")), "commune");
    assert!(m.contains("not an official commune code"), "{m}");
    let m = r.refused(&as_refs(&swap("--citizen-id", "08303800012")), "citizen_id");
    assert!(m.contains("12 digits"), "{m}");
    let m = r.refused(&as_refs(&swap("--birth-date", "2030-01-01")), "birth_date");
    assert!(m.contains("future"), "{m}");
    let m = r.refused(&as_refs(&swap("--birth-date", "1938-02-30")), "birth_date");
    assert!(m.contains("not a date"), "{m}");
    let m = r.refused(&args, "citizen_id");
    assert!(m.contains("already registered"), "{m}");
    let m = r.refused(&as_refs(&swap("--category", "K9")), "category");
    assert!(m.contains("not a category"), "{m}");
    let m = r.refused(
        &[
            "decision",
            "add",
            "--beneficiary",
            "83-0999999",
            "--kind",
            "suspend",
            "--effective",
            "2020-01",
            "--reason",
            "x",
        ],
        "beneficiary",
    );
    assert!(m.contains("83-0999999"), "{m}");
    r.refused(
        &[
            "decision",
            "add",
            "--beneficiary",
            &code,
            "--kind",
            "pause",
            "--effective",
            "2020-01",
            "--reason",
            "x",
        ],
        "kind",
    );
    assert_eq!(r.journal_entries(), entries, "refusals wrote nothing");

    // A retroactive adjustment and a death, then the file explains the month.
    r.ok_on(
        "2020-05-20",
        &[
            "decision",
            "add",
            "--beneficiary",
            &code,
            "--kind",
            "grant",
            "--category",
            "K6a",
            "--effective",
            "2020-03",
            "--signed-on",
            "2020-05-20",
            "--reason",
            "Khuyết tật đặc biệt nặng",
        ],
    );
    let june = r.json(&["beneficiary", "show", &code, "--at", "2020-06"]);
    // K6a for an elderly person is 2.5 × 270,000 = 675,000; March to May are arrears of the
    // difference from K5c: 3 × (675,000 − 270,000).
    assert_eq!(june["entitlement"]["month"]["amount"], 675_000);
    assert_eq!(june["entitlement"]["total"], 675_000 + 3 * 405_000);
    r.ok_on(
        "2021-02-10",
        &[
            "decision",
            "add",
            "--beneficiary",
            &code,
            "--kind",
            "stop",
            "--death-date",
            "2021-02-03",
            "--signed-on",
            "2021-02-10",
            "--reason",
            "Chết",
        ],
    );
    let march = r.json(&["beneficiary", "show", &code, "--at", "2021-03"]);
    assert_eq!(march["entitlement"]["month"]["status"], "deceased");
    assert_eq!(march["entitlement"]["funeral"]["amount"], 20 * 270_000);
    let m = r.refused(
        &[
            "decision",
            "add",
            "--beneficiary",
            &code,
            "--kind",
            "suspend",
            "--effective",
            "2021-06",
            "--reason",
            "x",
        ],
        "effective",
    );
    assert!(m.contains("died"), "{m}");
    // Who acts must be said: the journal records it.
    let m = r.refused(
        &[
            "--as",
            " ",
            "decision",
            "add",
            "--beneficiary",
            &code,
            "--kind",
            "suspend",
            "--effective",
            "2021-01",
            "--reason",
            "x",
        ],
        "as",
    );
    assert!(m.contains("empty"), "{m}");

    let list = r.json(&["beneficiary", "list", "--search", "nguyen van an"]);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["citizen_id_masked"], "********0123");
    assert!(
        !r.ok(&["beneficiary", "list"]).contains("083038000123"),
        "lists mask the citizen ID"
    );
    assert!(r.ok(&["audit", "verify"]).contains("journal intact"));
}

#[test]
fn commands_on_a_missing_database_say_what_to_do() {
    let r = Run::new();
    let out = r.chitra(&["report", "summary", "--from", "2018-01", "--to", "2020-12"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chitra init"));
    assert!(!r.db().exists(), "a read does not create the file");
    let out = r.chitra(&["healthcheck"]);
    assert!(!out.status.success());
}

/// The demo province: the seed's scale, an intact journal, and tampering found.
#[test]
fn the_demo_province_has_the_seeds_scale_and_a_verifiable_journal() {
    let r = Run::new();
    let db = r.dir.path().join("demo.db");
    let db_arg = db.to_str().unwrap();
    r.ok(&["demo", "--db", db_arg]);
    let s = r.json(&[
        "report", "summary", "--db", db_arg, "--from", "2018-01", "--to", "2020-12",
    ]);
    let turns = s["beneficiary_turns"].as_i64().unwrap();
    let paid = s["total_paid_vnd"].as_i64().unwrap();
    assert!(
        (150_000..=180_000).contains(&turns),
        "beneficiary-turns {turns}"
    );
    assert!(
        (580_000_000_000..=660_000_000_000).contains(&paid),
        "paid {paid}"
    );
    assert_eq!(s["payment_points"], 201);
    assert_eq!(s["demo"], true);
    assert_eq!(
        s["by_area"].as_array().unwrap().len(),
        9,
        "the 9 districts of Bến Tre"
    );
    let residences: Vec<&str> = s["by_residence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(residences, ["community", "facility"]);
    let area_turns: i64 = s["by_area"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["beneficiary_turns"].as_i64().unwrap())
        .sum();
    assert_eq!(area_turns, turns, "every turn is in one district");
    let area_paid: i64 = s["by_area"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["paid_vnd"].as_i64().unwrap())
        .sum();
    assert_eq!(area_paid, paid);

    let health = r.json(&["healthcheck", "--db", db_arg]);
    assert_eq!(health["demo"], true);
    let v = r.json(&["audit", "verify", "--db", db_arg]);
    assert_eq!(v["intact"], true);
    let n = v["entries_checked"].as_i64().unwrap();
    assert!(n > 50_000, "{n}");

    // Change one stored row with sqlite3: verification fails and names that entry.
    let seq = n / 3;
    sqlite3(
        &db,
        &format!("UPDATE journal SET payload = replace(payload, '\"', '''') WHERE seq = {seq}"),
    );
    let out = r.chitra(&["audit", "verify", "--db", db_arg]);
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("entry {seq} does not match")),
        "{stderr}"
    );
}
