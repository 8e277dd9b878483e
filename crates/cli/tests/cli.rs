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
        // The error is the last line; a log line (a warning) may come before it.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let err: Value = serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("chitra {args:?}: the error is not JSON ({e}): {stderr}"));
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

    the_demo_ran_the_real_cycle(&r, db_arg);
    a_new_month_through_the_cli(&r, db_arg);
    hledger_agrees_with_the_ledger(&r, db_arg);

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

/// Every month of 2018–2020 went through draft → approved → funded → paying → closed, with
/// carry-overs, returns and home deliveries, and settles and reconciles.
fn the_demo_ran_the_real_cycle(r: &Run, db: &str) {
    let runs = r.json(&["payroll", "list", "--db", db]);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 36 * 9, "one run per district office and month");
    assert!(runs.iter().all(|x| x["state"] == "closed"));
    assert!(
        runs.iter()
            .all(|x| x["generated_by"] != x["approved_by"] && !x["approved_by"].is_null()),
        "maker-checker"
    );
    let (mut carried, mut returned) = (0, 0);
    for run in runs.iter().filter(|x| x["period"] == "2019-06") {
        for s in run["by_status"].as_array().unwrap() {
            let n = s["lines"].as_i64().unwrap();
            match s["status"].as_str().unwrap() {
                "carried" => carried += n,
                "returned" => returned += n,
                _ => {}
            }
        }
    }
    assert!(
        carried > 0 && returned > 0,
        "carried {carried}, returned {returned}"
    );

    for period in ["2018-01", "2019-06", "2020-12"] {
        let s = r.json(&["report", "settlement", "--db", db, "--period", period]);
        assert_eq!(s["balances"], true, "{period}: {s}");
        let c = &s["settlement"]["contracts"]["post:BT-BĐ-2018"];
        let v = |k: &str| c[k].as_i64().unwrap();
        assert_eq!(
            v("held_before") + v("advanced"),
            v("paid") + v("returned") + v("held_after"),
            "{period}: {c}"
        );
        assert!(v("paid") > 10_000_000_000, "{period}: {c}");
        // The fee: 6,600 đồng per beneficiary paid.
        assert_eq!(v("fee"), 6_600 * v("paid_lines"), "{period}");
        let points = s["settlement"]["points"].as_object().unwrap();
        assert!(points.len() > 150, "{period}: {} points", points.len());
        let m = r.json(&["report", "reconcile", "--db", db, "--period", period]);
        assert_eq!(m["mismatches"].as_array().unwrap().len(), 0, "{m}");
        assert_eq!(m["payments"], m["pay_transfers"]);
    }
    // The frail are paid at home, with the proof of who received the money.
    let run_id = runs[0]["id"].as_i64().unwrap().to_string();
    let paid = r.json(&[
        "payroll", "lines", &run_id, "--db", db, "--status", "paid", "--limit", "2000",
    ]);
    let home = paid["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["home_delivery"] == true)
        .expect("a home delivery");
    let trail = r.json(&[
        "payroll",
        "line",
        &home["id"].as_i64().unwrap().to_string(),
        "--db",
        db,
    ]);
    assert_eq!(trail["payment"]["method"], "home");
    assert_eq!(trail["payment"]["amount"], home["total"]);
    assert!(trail["payment"]["proof"]["identity"]["kind"].is_string());
    assert_eq!(trail["payment"]["proof"]["location"]["at"], "home");
    assert!(
        !trail["explanation"]["month"]["components"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        trail["transfers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "pay"),
        "{trail}"
    );
}

/// January 2021 for one district, with the commands an officer, the head of office, the post
/// office and an agent would type.
fn a_new_month_through_the_cli(r: &Run, db: &str) {
    let generate = [
        "payroll", "generate", "--db", db, "--office", "2", "--period", "2021-01", "--as", "can.bo",
    ];
    let run = r.json(&generate);
    assert_eq!(run["state"], "draft");
    let id = run["id"].as_i64().unwrap().to_string();
    // Regenerating a draft makes the same lines.
    let again = r.json(&generate);
    assert_eq!(again["id"], run["id"]);
    assert_eq!(again["total"], run["total"]);
    assert_eq!(again["lines"], run["lines"]);
    let diff = r.json(&["payroll", "diff", &id, "--db", db]);
    assert!(
        !diff.as_array().unwrap().is_empty(),
        "some change since December"
    );

    // Whoever made it cannot approve it.
    r.refused(
        &["payroll", "approve", &id, "--db", db, "--as", "can.bo"],
        "as",
    );
    r.ok(&[
        "payroll",
        "approve",
        &id,
        "--db",
        db,
        "--as",
        "truong.phong",
    ]);
    // Paying before the money is at the points is refused.
    let due = r.json(&[
        "payroll", "lines", &id, "--db", db, "--status", "due", "--limit", "1",
    ]);
    let line = &due["items"][0];
    let (line_id, total) = (
        line["id"].as_i64().unwrap().to_string(),
        line["total"].as_i64().unwrap().to_string(),
    );
    // The agent checks the beneficiary's card: its number must be theirs.
    let file = r.json(&[
        "beneficiary",
        "show",
        line["beneficiary_code"].as_str().unwrap(),
        "--db",
        db,
    ]);
    let card = file["beneficiary"]["citizen_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let card = card.as_str();
    let pay = |extra: &[&str]| -> Vec<String> {
        [
            "payroll",
            "pay",
            "--db",
            db,
            "--line",
            &line_id,
            "--as",
            "nv.chitra",
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
    };
    r.refused(
        &as_refs(&pay(&["--amount", &total, "--citizen-id", card])),
        "line_id",
    );
    r.ok(&["payroll", "fund", &id, "--db", db]);
    r.ok(&["payroll", "open", &id, "--db", db, "--as", "buu.dien"]);
    // Bad input names the field and pays nothing.
    r.refused(
        &as_refs(&pay(&["--amount", "1", "--citizen-id", card])),
        "amount",
    );
    r.refused(&as_refs(&pay(&["--amount", &total])), "citizen_id");
    r.refused(
        &as_refs(&pay(&["--amount", &total, "--citizen-id", "12345"])),
        "identity.citizen_id",
    );
    // Someone else's card: a proxy collects with an authorisation, not with a card.
    r.refused(
        &as_refs(&pay(&["--amount", &total, "--citizen-id", "083038000999"])),
        "identity.citizen_id",
    );
    r.refused(
        &as_refs(&pay(&[
            "--amount",
            &total,
            "--method",
            "home",
            "--citizen-id",
            card,
        ])),
        "location",
    );
    r.refused(
        &as_refs(&pay(&[
            "--amount",
            &total,
            "--proxy-name",
            "Lê Văn Tư",
            "--proxy-citizen-id",
            "083070000001",
        ])),
        "proxy_authorisation",
    );
    r.refused(
        &as_refs(&pay(&[
            "--amount",
            &total,
            "--method",
            "cash",
            "--citizen-id",
            card,
        ])),
        "method",
    );
    // The point's January: the 4th to the 8th, 07:30–16:30; the default until then.
    let point = line["channel"]["id"].as_i64().unwrap().to_string();
    let schedules = r.json(&[
        "point",
        "schedules",
        "--db",
        db,
        "--period",
        "2021-01",
        "--point",
        &point,
    ]);
    assert_eq!(schedules[0]["default"], true, "{schedules}");
    let schedule = |days: &str, hours: &str| -> Vec<String> {
        [
            "point", "schedule", "--db", db, "--point", &point, "--period", "2021-01", "--days",
            days, "--hours", hours,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    r.refused(&as_refs(&schedule("4-32", "07:30-16:30")), "days");
    r.refused(&as_refs(&schedule("4-8", "16:30-07:30")), "hours");
    r.ok(&as_refs(&schedule("4-8", "07:30-16:30")));
    let schedules = r.json(&[
        "point",
        "schedules",
        "--db",
        db,
        "--period",
        "2021-01",
        "--point",
        &point,
    ]);
    assert_eq!(schedules[0]["default"], false, "{schedules}");
    assert_eq!(schedules[0]["days"], "4-8", "{schedules}");
    // Paid in the evening: recorded, and flagged for the inspectors.
    let paid = r.json(&as_refs(&pay(&[
        "--amount",
        &total,
        "--citizen-id",
        card,
        "--id",
        "tablet-7:0001",
        "--paid-at",
        "2021-01-05T18:30:00+07:00",
    ])));
    assert_eq!(paid["result"], "accepted");
    assert_eq!(paid["flags"], serde_json::json!(["outside_schedule"]));
    let flags = r.json(&["flags", "--db", db, "--period", "2021-01"]);
    assert_eq!(flags["total"], 1, "{flags}");
    assert_eq!(flags["items"][0]["payment_id"], "tablet-7:0001");
    assert_eq!(flags["items"][0]["evidence"]["hours"], "07:30-16:30");
    let table = r.ok(&[
        "flags",
        "--db",
        db,
        "--period",
        "2021-01",
        "--kind",
        "outside_schedule",
    ]);
    assert!(table.contains("tablet-7:0001"), "{table}");
    r.refused(
        &["flags", "--db", db, "--period", "2021-01", "--kind", "late"],
        "kind",
    );
    // The beneficiary is paid at home from next month on; the home's coordinates come in pairs.
    let code = line["beneficiary_code"].as_str().unwrap();
    r.refused(
        &[
            "point",
            "assign",
            "--db",
            db,
            "--point",
            &point,
            "--beneficiary",
            code,
            "--lat",
            "10.2",
        ],
        "home",
    );
    let assigned = r.json(&[
        "point",
        "assign",
        "--db",
        db,
        "--point",
        &point,
        "--beneficiary",
        code,
        "--home",
        "Già yếu, không tự đi được",
        "--lat",
        "10.24",
        "--lon",
        "106.37",
    ]);
    assert_eq!(assigned["assigned"], 1);
    let file = r.json(&["beneficiary", "show", code, "--db", db]);
    assert_eq!(
        file["beneficiary"]["home_delivery"],
        "Già yếu, không tự đi được"
    );
    // The same payment sent again records nothing new; another payment of the line is refused.
    let again = r.json(&as_refs(&pay(&[
        "--amount",
        &total,
        "--citizen-id",
        card,
        "--id",
        "tablet-7:0001",
    ])));
    assert_eq!(again["result"], "already_recorded");
    let mut second = pay(&[
        "--amount",
        &total,
        "--citizen-id",
        card,
        "--id",
        "tablet-9:0001",
    ]);
    second.extend(["--format".to_owned(), "json".to_owned()]);
    let out = r.chitra(&as_refs(&second));
    assert_eq!(out.status.code(), Some(5), "a line is paid once");
    assert!(String::from_utf8_lossy(&out.stderr).contains("tablet-7:0001"));

    // Mid-month the contract balances too: what is not paid yet is held, named by the lines due.
    let s = r.json(&["report", "settlement", "--db", db, "--period", "2021-01"]);
    let c = &s["settlement"]["contracts"]["post:BT-BĐ-2018"];
    let due = r.json(&["payroll", "show", &id, "--db", db]);
    let due_amount = due["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "due")
        .map(|s| s["amount"].as_i64().unwrap())
        .sum::<i64>();
    assert!(c["held_open"].as_i64().unwrap() > 0, "{c}");
    assert!(c["held_open"].as_i64().unwrap() <= due_amount, "{c}");
    assert_eq!(c["balances"], true, "{c}");

    let closed = r.json(&["payroll", "close", &id, "--db", db]);
    assert_eq!(closed["run"]["state"], "closed");
    // Every line ends paid (the one paid here, and the facility's, paid with the advance),
    // carried or returned; none is left due.
    let mut by_status = std::collections::BTreeMap::new();
    for s in closed["run"]["by_status"].as_array().unwrap() {
        by_status.insert(
            s["status"].as_str().unwrap().to_owned(),
            s["lines"].as_i64().unwrap(),
        );
    }
    assert!(!by_status.contains_key("due"), "{by_status:?}");
    assert_eq!(
        by_status.values().sum::<i64>(),
        run["lines"].as_i64().unwrap()
    );
    assert_eq!(
        by_status.get("carried").copied().unwrap_or(0),
        closed["carried"].as_i64().unwrap()
    );
    assert_eq!(
        by_status.get("returned").copied().unwrap_or(0),
        closed["returned"].as_i64().unwrap()
    );
    assert!(
        closed["carried"].as_i64().unwrap() > 0,
        "unpaid lines are carried over"
    );
    let s = r.json(&["report", "settlement", "--db", db, "--period", "2021-01"]);
    let points = s["settlement"]["points"].as_object().unwrap();
    assert!(points.values().all(|p| p["balances"] == true), "{s}");
    // Only one of the nine districts has paid January: the money the post office still holds
    // for the other eight (carried from December, not yet on a January payroll) is shown as
    // waiting, to the đồng, and the contract balances.
    let december = r.json(&["payroll", "list", "--db", db, "--period", "2020-12"]);
    let held_for_others: i64 = december
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["office_id"] != 2)
        .flat_map(|x| x["by_status"].as_array().unwrap().clone())
        .filter(|s| s["status"] == "carried")
        .map(|s| s["amount"].as_i64().unwrap())
        .sum();
    assert!(held_for_others > 0);
    let c = &s["settlement"]["contracts"]["post:BT-BĐ-2018"];
    let v = |k: &str| c[k].as_i64().unwrap();
    assert_eq!(v("held_waiting"), held_for_others, "{c}");
    assert_eq!(v("held_open"), 0, "{c}");
    assert_eq!(
        v("held_before") + v("advanced"),
        v("paid") + v("returned") + v("held_after") + v("held_waiting"),
        "{c}"
    );
    assert_eq!(c["balances"], true, "{c}");
    let table = r.ok(&["report", "settlement", "--db", db, "--period", "2021-01"]);
    assert!(table.contains("post:BT-BĐ-2018"), "{table}");
    let m = r.json(&["report", "reconcile", "--db", db, "--period", "2021-01"]);
    // The agent's payment, and the facility's lines paid with the advance.
    assert!(m["payments"].as_i64().unwrap() >= 1);
    assert_eq!(m["payments"], m["pay_transfers"]);
    assert_eq!(m["mismatches"].as_array().unwrap().len(), 0);
}

/// hledger, an independent tool, reads the export and finds every balance `ledger balances` gives.
fn hledger_agrees_with_the_ledger(r: &Run, db: &str) {
    let balances = r.json(&["ledger", "balances", "--db", db]);
    let ours: std::collections::BTreeMap<String, i64> = balances
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["account"].as_str().unwrap().to_owned(),
                a["balance"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(ours.len() > 200, "{} accounts", ours.len());
    assert_eq!(ours.values().sum::<i64>(), 0, "double entry sums to zero");
    assert!(ours.iter().any(|(a, b)| a.starts_with("paid:") && *b > 0));

    let journal = r.dir.path().join("ledger.journal");
    r.ok(&[
        "export",
        "ledger",
        "--db",
        db,
        "--format",
        "hledger",
        "-o",
        journal.to_str().unwrap(),
    ]);
    let out = Command::new("hledger")
        .args([
            "-f",
            journal.to_str().unwrap(),
            "balance",
            "--flat",
            "--empty",
            "-O",
            "csv",
        ])
        .output()
        .expect("hledger (Debian package hledger; .ci/run installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut theirs = std::collections::BTreeMap::new();
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split("\",\"").map(|c| c.trim_matches('"')).collect();
        let (account, amount) = (cells[0], cells[1]);
        if account == "total" {
            assert_eq!(amount, "0", "hledger's total");
            continue;
        }
        let amount: i64 = amount.trim_end_matches(" VND").parse().unwrap();
        theirs.insert(account.to_owned(), amount);
    }
    assert_eq!(theirs, ours);
}
