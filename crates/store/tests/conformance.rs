//! One conformance suite, run against SQLite and PostgreSQL. Every case is written once against
//! `&dyn Store`; `conformance!` instantiates it for both backends (`sqlite::…` and `postgres::…` in
//! the test output). PostgreSQL is at `CHITRA_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test gets a schema of its own. There is no skip:
//! if PostgreSQL is unreachable, the PostgreSQL cases fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chitra_core::anomaly::FlagKind;
use chitra_core::contract::{FeeRule, NewContract};
use chitra_core::decision::{DecisionKind, NewDecision};
use chitra_core::ids::{CitizenId, CommuneCode};
use chitra_core::office::{NewPaymentPoint, OfficeKind, PointKind};
use chitra_core::payment::{Identity, Location};
use chitra_core::payroll::{LineStatus, RunState};
use chitra_core::register::{AddressSpell, NewBeneficiary, Sex};
use chitra_core::rules::RuleBook;
use chitra_core::schedule::{MonthDays, Weekdays};
use chitra_core::units::{AdminUnit, OfficialFiles, UnitLevel, load_official};
use chitra_core::{Dong, Period, Program};
use chitra_store::cycle::{LineFilter, NewPayment, PaymentResult};
use chitra_store::payments::{Assignment, FlagFilter, NewSchedule, PaidDay, PaymentGroup, Within};
use chitra_store::postgres::PgStore;
use chitra_store::sqlite::SqliteStore;
use chitra_store::{
    BeneficiaryFilter, Change, DecisionFor, NewFacility, NewOffice, OpenMode, Store, StoreError,
};
use chrono::NaiveDate;
use sqlx::postgres::PgConnectOptions;

/// A store under test, and a second, raw connection to the same data (to tamper with it, as an
/// attacker with database access would).
struct Harness {
    store: Arc<dyn Store>,
    raw: Raw,
    _dir: Option<tempfile::TempDir>,
}

enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool, String),
}

impl Raw {
    async fn exec(&self, sql: &str) {
        match self {
            Raw::Sqlite(p) => {
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(p)
                    .await
                    .unwrap();
            }
            Raw::Postgres(p, _) => {
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
    }

    /// [`Raw::exec`], with the database's refusal returned.
    async fn try_exec(&self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Raw::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            Raw::Postgres(p, _) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
    }

    async fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) FROM {table}")).await
    }

    async fn scalar(&self, sql: &str) -> i64 {
        let sql = sql.to_owned();
        match self {
            Raw::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(p)
                .await
                .unwrap(),
            Raw::Postgres(p, _) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(p)
                .await
                .unwrap(),
        }
    }
}

impl Harness {
    async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chitra.db");
        let store = SqliteStore::open(&path, OpenMode::Create).await.unwrap();
        let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        Harness {
            store: Arc::new(store),
            raw: Raw::Sqlite(raw),
            _dir: Some(dir),
        }
    }

    async fn postgres() -> Harness {
        static N: AtomicU32 = AtomicU32::new(0);
        let url = std::env::var("CHITRA_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let schema = format!(
            "conformance_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let admin = sqlx::PgPool::connect(&url).await.unwrap_or_else(|e| {
            panic!("PostgreSQL at {url} is required by the conformance suite: {e}")
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
        let options = PgConnectOptions::from_str(&url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let store = PgStore::connect_with(options.clone()).await.unwrap();
        let raw = sqlx::PgPool::connect_with(options).await.unwrap();
        Harness {
            store: Arc::new(store),
            raw: Raw::Postgres(raw, schema),
            _dir: None,
        }
    }

    /// Another store on the same database: another process on SQLite's file, another server on
    /// PostgreSQL's schema.
    async fn second_store(&self) -> Arc<dyn Store> {
        match (&self.raw, &self._dir) {
            (Raw::Postgres(_, schema), _) => {
                let url = std::env::var("CHITRA_TEST_PG")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
                let options = PgConnectOptions::from_str(&url)
                    .unwrap()
                    .options([("search_path", schema.as_str())]);
                Arc::new(PgStore::connect_with(options).await.unwrap())
            }
            (Raw::Sqlite(_), Some(dir)) => Arc::new(
                SqliteStore::open(dir.path().join("chitra.db"), OpenMode::Existing)
                    .await
                    .unwrap(),
            ),
            (Raw::Sqlite(_), None) => unreachable!("a SQLite harness has its directory"),
        }
    }

    async fn finish(self) {
        if let Raw::Postgres(pool, schema) = &self.raw {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let h = super::Harness::sqlite().await;
                    super::$case(&h).await;
                    h.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let h = super::Harness::postgres().await;
                    super::$case(&h).await;
                    h.finish().await;
                }
            )*
        }
    };
}

conformance!(
    a_new_store_is_migrated_and_empty,
    reference_data_loads_once_and_reads_back,
    a_beneficiary_is_registered_with_a_grant_and_read_back,
    bad_input_names_the_field_and_changes_nothing,
    a_registration_in_chunks_lands_whole_on_commit,
    a_refused_or_abandoned_registration_changes_nothing,
    decisions_are_checked_against_the_file,
    the_register_is_searched_without_diacritics,
    the_register_is_filtered_by_status,
    three_beneficiaries_through_the_monthly_cycle,
    several_offices_are_generated_in_one_go,
    a_draft_generated_again_follows_the_register,
    the_journal_verifies_and_names_a_tampered_entry,
    concurrent_writers_keep_one_chain,
    who_and_why_are_required_and_ids_are_masked_in_the_journal,
    verification_while_others_write_raises_no_false_alarm,
    groups_are_committed_together_and_a_line_is_paid_once,
    groups_decided_beside_the_writer_a_payment_at_a_time,
    anomalies_are_flagged_with_their_evidence,
    anomalies_flagged_by_payments_decided_beside_the_writer,
    schedules_and_assignments,
    users_and_sessions_are_kept_with_their_scopes,
    notices_are_queued_once_and_the_public_sees_its_own,
    a_payment_reads_its_line_as_it_is_now,
    payments_recorded_by_another_writer_are_found_by_their_ids_and_lines,
    payments_decided_beside_the_writer_find_another_writers,
    a_second_pay_transfer_of_a_line_is_refused_or_listed,
    an_id_whose_key_another_payment_holds_is_refused,
);

fn change() -> Change {
    Change::on("officer.test", "conformance", d(TODAY))
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn p(s: &str) -> Period {
    Period::parse(s).unwrap()
}

/// The department's 2021 contract with the provincial post office, for `office_id`.
fn contract_2021(office_id: i64) -> NewContract {
    NewContract {
        code: "BT-BĐ-2021".into(),
        name: "Hợp đồng chi trả trợ giúp xã hội qua bưu điện năm 2021".into(),
        office_id,
        post_office: "Bưu điện tỉnh Bến Tre".into(),
        area_code: "83".into(),
        program: Program::SocialAssistance,
        fee: FeeRule::PerBeneficiary {
            amount: Dong(6_600),
        },
        advance_by_day: 25,
        pay_from_day: 2,
        pay_to_day: 20,
        report_by_day: 20,
        valid_from: p("2021-01"),
        valid_to: None,
    }
}

fn at(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap()
}

const TODAY: &str = "2026-11-26";

async fn init(s: &dyn Store) {
    let official = load_official(&OfficialFiles::EMBEDDED).unwrap();
    let done = s
        .initialise(&change(), &official, &RuleBook::statutory().unwrap())
        .await
        .unwrap();
    assert!(!done.already);
}

fn grant(category: &str, effective: &str, signed: &str) -> NewDecision {
    NewDecision {
        kind: DecisionKind::Grant,
        number: Some("15/QĐ-UBND".into()),
        category: Some(category.into()),
        replaces: None,
        dependants: 1,
        effective: p(effective),
        signed_on: d(signed),
        signer: "Chủ tịch UBND huyện Ba Tri".into(),
        reason: "đủ điều kiện hưởng".into(),
        death_date: None,
    }
}

fn person(
    name: &str,
    birth: &str,
    citizen_id: &str,
    commune: &str,
    category: &str,
) -> NewBeneficiary {
    NewBeneficiary {
        program: Program::SocialAssistance,
        full_name: name.into(),
        birth_date: d(birth),
        sex: Sex::Female,
        citizen_id: CitizenId::parse(citizen_id).unwrap(),
        address: AddressSpell {
            from: p("2018-01"),
            commune: CommuneCode::parse(commune).unwrap(),
            hamlet: Some("Ấp Phú Hòa".into()),
            street: None,
            facility_id: None,
        },
        payment_point_id: None,
        home_delivery: None,
        bank_account: None,
        grant: grant(category, "2018-01", "2017-12-15"),
    }
}

async fn journal_len(s: &dyn Store) -> i64 {
    s.health().await.unwrap().journal_entries
}

async fn a_new_store_is_migrated_and_empty(h: &Harness) {
    let s = &*h.store;
    let health = s.health().await.unwrap();
    assert!(health.schema_version >= 1);
    assert!(!health.initialised);
    assert_eq!(health.journal_entries, 0);
    assert_eq!(health.beneficiaries, 0);
    let v = s.verify_journal().await.unwrap();
    assert!(v.intact);
    assert_eq!(v.entries_checked, 0);
    // On PostgreSQL the balances and the flows, updated by every payment transaction, leave room
    // on their pages for updates in place (migration 0014).
    if let Raw::Postgres(..) = h.raw {
        let roomy = h
            .raw
            .scalar(
                "SELECT COUNT(*) FROM pg_class \
                 WHERE oid IN ('accounts'::regclass, 'transfer_sums'::regclass) \
                 AND 'fillfactor=50' = ANY (reloptions)",
            )
            .await;
        assert_eq!(roomy, 2);
    }
}

async fn reference_data_loads_once_and_reads_back(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    assert_eq!(
        s.rule_book().await.unwrap(),
        RuleBook::statutory().unwrap(),
        "rules read back exactly"
    );
    let tree = s.unit_tree().await.unwrap();
    let bt = tree.at(UnitLevel::Province, "83", d("2019-01-01")).unwrap();
    assert_eq!(bt.name, "Tỉnh Bến Tre");
    assert_eq!(tree.children(bt, d("2019-01-01")).len(), 9);
    assert_eq!(tree.successors(UnitLevel::Province, "83"), ["86"]);

    let before = journal_len(s).await;
    let units = h.raw.count("admin_units").await;
    let official = load_official(&OfficialFiles::EMBEDDED).unwrap();
    let again = s
        .initialise(&change(), &official, &RuleBook::statutory().unwrap())
        .await
        .unwrap();
    assert!(again.already);
    assert_eq!(
        journal_len(s).await,
        before,
        "initialising again writes nothing"
    );
    assert_eq!(h.raw.count("admin_units").await, units);
    let health = s.health().await.unwrap();
    assert!(health.initialised);

    let office = s
        .add_office(
            &change(),
            &NewOffice {
                kind: OfficeKind::DistrictOffice,
                name: "Phòng LĐ-TB&XH huyện Ba Tri".into(),
                unit_code: "836".into(),
                valid_from: None,
                valid_to: Some(d("2025-06-30")),
            },
        )
        .await
        .unwrap();
    assert_eq!(s.offices().await.unwrap(), vec![office]);
    let bad = s
        .add_office(
            &change(),
            &NewOffice {
                kind: OfficeKind::DistrictOffice,
                name: "x".into(),
                unit_code: "999".into(),
                valid_from: None,
                valid_to: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(bad, StoreError::Invalid(ref e) if e.field == "unit_code"),
        "{bad}"
    );

    let facility = s
        .add_facility(
            &change(),
            &NewFacility {
                code: "TTBTXH-BT".into(),
                name: "Trung tâm Bảo trợ xã hội tỉnh Bến Tre".into(),
                commune: CommuneCode::parse("28756").unwrap(),
            },
        )
        .await
        .unwrap();
    assert_eq!(s.facilities().await.unwrap(), vec![facility]);

    let point = NewPaymentPoint {
        code: "BT-836-001".into(),
        name: "Bưu điện huyện Ba Tri".into(),
        kind: PointKind::DistrictPostOffice,
        commune: CommuneCode::parse(&ba_tri_commune(s).await).unwrap(),
        address: "Thị trấn Ba Tri".into(),
        latitude: Some(10.04),
        longitude: Some(106.59),
        pay_days: (11, 25),
        opening_days: Weekdays::parse("mon-fri").unwrap(),
    };
    let created = s
        .add_payment_points(&change(), std::slice::from_ref(&point))
        .await
        .unwrap();
    assert_eq!(s.payment_points().await.unwrap(), created);
    let again = s.add_payment_points(&change(), &[point]).await.unwrap_err();
    assert!(
        matches!(again, StoreError::Invalid(ref e) if e.field == "code"),
        "{again}"
    );

    let hamlet = AdminUnit {
        code: "28756-01".into(),
        level: UnitLevel::Hamlet,
        name: "Khu phố 1".into(),
        parent_code: Some("28756".into()),
        valid_from: None,
        valid_to: None,
    };
    s.add_units(&change(), std::slice::from_ref(&hamlet))
        .await
        .unwrap();
    let tree = s.unit_tree().await.unwrap();
    let k1 = tree
        .at(UnitLevel::Hamlet, "28756-01", d("2019-01-01"))
        .unwrap();
    assert_eq!(tree.parent(k1, d("2019-01-01")).unwrap().code, "28756");
    assert!(s.add_units(&change(), &[hamlet]).await.is_err(), "twice");
    assert!(s.verify_journal().await.unwrap().intact);
}

/// A commune of Ba Tri district (836), from the official units.
async fn ba_tri_commune(s: &dyn Store) -> String {
    let tree = s.unit_tree().await.unwrap();
    let district = tree
        .at(UnitLevel::District, "836", d("2019-01-01"))
        .unwrap();
    tree.children(district, d("2019-01-01"))[0].code.clone()
}

async fn a_beneficiary_is_registered_with_a_grant_and_read_back(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    let before = journal_len(s).await;
    let nb = person(
        "Nguyễn Thị Ánh",
        "1936-04-02",
        "083136000001",
        "28756",
        "K5c",
    );
    let created = s
        .add_beneficiaries(&change(), std::slice::from_ref(&nb))
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    let b = &created[0].beneficiary;
    assert_eq!(created[0].decisions[0].terms, nb.grant);
    assert!(b.code.starts_with("83-"), "{}", b.code);
    assert_eq!(
        journal_len(s).await,
        before + 1,
        "one journal entry for the registration"
    );

    let file = s.beneficiary(&b.code).await.unwrap().unwrap();
    assert_eq!(&file.beneficiary, b);
    assert_eq!(file.decisions.len(), 1);
    assert_eq!(file.decisions[0].terms, nb.grant);
    assert!(s.beneficiary("83-9999999").await.unwrap().is_none());

    let all = s.register(Program::SocialAssistance).await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(
        s.register(Program::MeritAllowance)
            .await
            .unwrap()
            .is_empty()
    );

    let tail = s.journal_tail(1).await.unwrap();
    assert_eq!(tail[0].draft.action, "beneficiary.add");
    assert_eq!(tail[0].draft.actor, "officer.test");
    assert_eq!(tail[0].draft.subject, format!("beneficiary:{}", b.code));
}

async fn bad_input_names_the_field_and_changes_nothing(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    let ok = person("Trần Văn Bảy", "1935-01-01", "083135000002", "28756", "K5c");
    s.add_beneficiaries(&change(), std::slice::from_ref(&ok))
        .await
        .unwrap();
    let (entries, people) = (journal_len(s).await, h.raw.count("beneficiaries").await);

    let expect =
        |r: Result<Vec<chitra_store::BeneficiaryFile>, StoreError>, field: &str, words: &str| {
            match r {
                Err(StoreError::Invalid(e)) => {
                    assert_eq!(e.field, field, "{e}");
                    assert!(e.reason.contains(words), "{e}");
                }
                other => panic!("expected an error on {field}, got {other:?}"),
            }
        };
    let mut unknown = person("Lê Thị Cúc", "1935-01-01", "083135000003", "28756", "K5c");
    unknown.address.commune = CommuneCode::parse("99999").unwrap();
    expect(
        s.add_beneficiaries(&change(), &[unknown]).await,
        "commune",
        "not an official commune code",
    );

    let dup = person("Lê Thị Cúc", "1935-01-01", "083135000002", "28756", "K5c");
    expect(
        s.add_beneficiaries(&change(), &[dup]).await,
        "citizen_id",
        "already registered",
    );

    let future = person("Lê Thị Cúc", "2027-01-01", "083135000003", "28756", "K1");
    expect(
        s.add_beneficiaries(&change(), &[future]).await,
        "birth_date",
        "future",
    );

    let young = person("Lê Thị Cúc", "1990-01-01", "083190000003", "28756", "K5c");
    expect(
        s.add_beneficiaries(&change(), &[young]).await,
        "category",
        "80 and over",
    );

    // One bad item refuses the whole batch, and says which.
    let a = person(
        "Phạm Văn Dũng",
        "1934-01-01",
        "083134000004",
        "28756",
        "K5c",
    );
    let b = person("Phạm Thị Em", "1934-01-01", "083134000004", "28756", "K5c");
    expect(
        s.add_beneficiaries(&change(), &[a, b]).await,
        "[2].citizen_id",
        "twice",
    );

    let e = s
        .add_decisions(
            &change(),
            &[DecisionFor {
                beneficiary_code: "83-0009999".into(),
                decision: grant("K6b", "2019-01", "2019-01-10"),
            }],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref f) if f.field == "beneficiary" && f.reason.contains("83-0009999")),
        "{e}"
    );

    assert_eq!(
        journal_len(s).await,
        entries,
        "refusals write no journal entry"
    );
    assert_eq!(h.raw.count("beneficiaries").await, people);
    assert_eq!(h.raw.count("decisions").await, 1);
    assert_eq!(h.raw.count("addresses").await, 1);
}

/// Five people of Ba Tri's first commune, citizen IDs 083130000101…105.
fn five_people(commune: &str) -> Vec<NewBeneficiary> {
    [
        "Võ Văn Một",
        "Võ Thị Hai",
        "Võ Văn Ba",
        "Võ Thị Bốn",
        "Võ Văn Năm",
    ]
    .iter()
    .enumerate()
    .map(|(i, name)| {
        person(
            name,
            "1930-06-01",
            &format!("0831300001{:02}", i + 1),
            commune,
            "K5c",
        )
    })
    .collect()
}

fn ids(people: &[NewBeneficiary]) -> Vec<CitizenId> {
    people.iter().map(|p| p.citizen_id.clone()).collect()
}

async fn a_registration_in_chunks_lands_whole_on_commit(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    let commune = ba_tri_commune(s).await;
    let people = five_people(&commune);
    let before = journal_len(s).await;

    let mut r = s.begin_registration(&change()).await.unwrap();
    let first = r.add(people[..2].to_vec()).await.unwrap();
    let second = r.add(people[2..].to_vec()).await.unwrap();
    assert_eq!((first.len(), second.len(), r.added()), (2, 3, 5));
    // Ids and codes run on from one chunk to the next.
    let codes: Vec<&str> = first
        .iter()
        .chain(&second)
        .map(|f| f.beneficiary.code.as_str())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, codes, "five distinct codes, in order");
    // The registration sees what it added; nobody else does before the commit.
    assert_eq!(r.registered(&ids(&people)).await.unwrap().len(), 5);
    assert!(
        s.registered_citizens(&ids(&people))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(h.raw.count("beneficiaries").await, 0);
    assert_eq!(r.commit().await.unwrap(), 5);

    assert_eq!(h.raw.count("beneficiaries").await, 5);
    assert_eq!(h.raw.count("decisions").await, 5);
    assert_eq!(h.raw.count("addresses").await, 5);
    assert_eq!(
        journal_len(s).await,
        before + 5,
        "one journal entry per beneficiary"
    );
    let v = s.verify_journal().await.unwrap();
    assert!(v.intact, "{:?}", v.first_mismatch);
    let register = s.register(Program::SocialAssistance).await.unwrap();
    assert_eq!(register.len(), 5);
    let file = s.beneficiary(codes[3]).await.unwrap().unwrap();
    assert_eq!(file.beneficiary.full_name, "Võ Thị Bốn");
    assert_eq!(file.decisions[0].terms, people[3].grant);

    // The register answers for the IDs asked, with who holds them.
    let mut asked = ids(&people[1..3]);
    asked.push(CitizenId::parse("083130000199").unwrap());
    let mut found = s.registered_citizens(&asked).await.unwrap();
    found.sort_by(|a, b| a.citizen_id.as_str().cmp(b.citizen_id.as_str()));
    let got: Vec<(&str, &str, &str, NaiveDate, Program)> = found
        .iter()
        .map(|r| {
            (
                r.citizen_id.as_str(),
                r.code.as_str(),
                r.full_name.as_str(),
                r.birth_date,
                r.program,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "083130000102",
                codes[1],
                "Võ Thị Hai",
                d("1930-06-01"),
                Program::SocialAssistance
            ),
            (
                "083130000103",
                codes[2],
                "Võ Văn Ba",
                d("1930-06-01"),
                Program::SocialAssistance
            ),
        ]
    );
    assert!(s.registered_citizens(&[]).await.unwrap().is_empty());
}

async fn a_refused_or_abandoned_registration_changes_nothing(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    let commune = ba_tri_commune(s).await;
    let people = five_people(&commune);
    s.add_beneficiaries(&change(), &people[..1]).await.unwrap();
    let (entries, count) = (journal_len(s).await, h.raw.count("beneficiaries").await);

    // A chunk naming someone already registered — by an earlier chunk or before — is refused,
    // the item named by its place in the whole registration.
    let mut r = s.begin_registration(&change()).await.unwrap();
    r.add(people[1..3].to_vec()).await.unwrap();
    let again = [people[4].clone(), people[2].clone()];
    match r.add(again.to_vec()).await {
        Err(StoreError::Invalid(e)) => {
            assert_eq!(e.field, "[4].citizen_id", "{e}");
            assert!(e.reason.contains("already registered"), "{e}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Refused once, it takes nothing more and commits nothing.
    assert!(r.add(people[3..4].to_vec()).await.is_err());
    assert!(r.commit().await.is_err());
    assert_eq!(h.raw.count("beneficiaries").await, count);
    assert_eq!(journal_len(s).await, entries);

    let mut r = s.begin_registration(&change()).await.unwrap();
    let mut bad = people[3].clone();
    bad.address.commune = CommuneCode::parse("99999").unwrap();
    match r.add(vec![people[1].clone(), bad]).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field, "[2].commune", "{e}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    drop(r);

    // Dropped without a commit: rolled back.
    let mut r = s.begin_registration(&change()).await.unwrap();
    r.add(people[1..].to_vec()).await.unwrap();
    drop(r);
    assert_eq!(h.raw.count("beneficiaries").await, count);
    assert_eq!(h.raw.count("decisions").await, count);
    assert_eq!(journal_len(s).await, entries);
    assert!(
        s.registered_citizens(&ids(&people[1..]))
            .await
            .unwrap()
            .is_empty()
    );

    // The writer is free again, and the chain goes on from where it was.
    let mut r = s.begin_registration(&change()).await.unwrap();
    r.add(people[1..].to_vec()).await.unwrap();
    assert_eq!(r.commit().await.unwrap(), 4);
    assert_eq!(journal_len(s).await, entries + 4);
    let v = s.verify_journal().await.unwrap();
    assert!(v.intact, "{:?}", v.first_mismatch);

    // Who and why are required to begin.
    let nobody = Change::on("", "conformance", d(TODAY));
    assert!(matches!(
        s.begin_registration(&nobody).await.map(|_| ()),
        Err(StoreError::Invalid(e)) if e.field == "as"
    ));
}

async fn decisions_are_checked_against_the_file(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    let b = s
        .add_beneficiaries(
            &change(),
            &[person(
                "Võ Văn Giàu",
                "1970-06-01",
                "083170000005",
                "28756",
                "K6b",
            )],
        )
        .await
        .unwrap()
        .remove(0)
        .beneficiary;
    let decide = |kind: DecisionKind, effective: &str, signed: &str| DecisionFor {
        beneficiary_code: b.code.clone(),
        decision: NewDecision {
            kind,
            category: None,
            ..grant("K6b", effective, signed)
        },
    };
    let resume = decide(DecisionKind::Resume, "2019-03", "2019-03-02");
    let e = s
        .add_decisions(&change(), std::slice::from_ref(&resume))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not suspended"), "{e}");

    // A suspension and its resumption in one batch: checked in order.
    let suspend = decide(DecisionKind::Suspend, "2019-01", "2018-12-28");
    let made = s
        .add_decisions(&change(), &[suspend, resume])
        .await
        .unwrap();
    assert_eq!(made.len(), 2);
    let file = s.beneficiary(&b.code).await.unwrap().unwrap();
    assert_eq!(file.decisions.len(), 3);
    assert_eq!(file.decisions[2].terms.kind, DecisionKind::Resume);

    let mut adjust = decide(DecisionKind::Adjust, "2020-01", "2020-01-05");
    adjust.decision.category = Some("K6a".into());
    adjust.decision.replaces = Some("K6b".into());
    s.add_decisions(&change(), &[adjust]).await.unwrap();
    let death = DecisionFor {
        beneficiary_code: b.code.clone(),
        decision: NewDecision::death(
            d("2020-07-04"),
            d("2020-07-10"),
            "Chủ tịch UBND huyện",
            "chết",
        ),
    };
    s.add_decisions(&change(), &[death]).await.unwrap();
    let after = decide(DecisionKind::Suspend, "2020-09", "2020-09-01");
    let e = s.add_decisions(&change(), &[after]).await.unwrap_err();
    assert!(e.to_string().contains("died"), "{e}");
    assert_eq!(
        s.beneficiary(&b.code)
            .await
            .unwrap()
            .unwrap()
            .decisions
            .len(),
        5
    );
}

/// The register's status filter reads the decisions as the engine does: suspended, stopped,
/// deceased, granted from a later month, or active, in the month asked.
async fn the_register_is_filtered_by_status(h: &Harness) {
    use chitra_core::register::RegisterStatus as S;
    let s = &*h.store;
    init(s).await;
    let mut people = five_people("28756");
    people[4].grant = grant("K5c", "2021-01", "2020-12-20");
    let made = s.add_beneficiaries(&change(), &people).await.unwrap();
    let code = |i: usize| made[i].beneficiary.code.clone();
    let decide = |i: usize, kind: DecisionKind, effective: &str| DecisionFor {
        beneficiary_code: code(i),
        decision: NewDecision {
            kind,
            category: None,
            ..grant("K5c", effective, "2019-12-20")
        },
    };
    let death = DecisionFor {
        beneficiary_code: code(3),
        decision: NewDecision::death(d("2020-02-10"), d("2020-02-15"), "Chủ tịch UBND xã", "chết"),
    };
    s.add_decisions(
        &change(),
        &[
            decide(1, DecisionKind::Suspend, "2020-01"),
            decide(2, DecisionKind::Stop, "2020-01"),
            death,
        ],
    )
    .await
    .unwrap();
    let with = |status: Option<S>, month: &str| BeneficiaryFilter {
        status,
        as_of: Some(p(month)),
        limit: 10,
        ..Default::default()
    };
    let names = |page: chitra_store::Page<chitra_store::BeneficiaryRow>| {
        page.items
            .into_iter()
            .map(|r| (r.full_name, r.status))
            .collect::<Vec<_>>()
    };
    // Every row carries its status in the month asked.
    assert_eq!(
        names(s.beneficiaries(&with(None, "2020-03")).await.unwrap()),
        [
            ("Võ Văn Một".to_owned(), Some(S::Active)),
            ("Võ Thị Hai".to_owned(), Some(S::Suspended)),
            ("Võ Văn Ba".to_owned(), Some(S::Stopped)),
            ("Võ Thị Bốn".to_owned(), Some(S::Deceased)),
            ("Võ Văn Năm".to_owned(), Some(S::Pending)),
        ]
    );
    // Before the decisions take effect, four were active and one not yet granted.
    let active_2019 = s
        .beneficiaries(&with(Some(S::Active), "2019-12"))
        .await
        .unwrap();
    assert_eq!(active_2019.total, 4);
    for (status, name) in [
        (S::Active, "Võ Văn Một"),
        (S::Suspended, "Võ Thị Hai"),
        (S::Stopped, "Võ Văn Ba"),
        (S::Deceased, "Võ Thị Bốn"),
        (S::Pending, "Võ Văn Năm"),
    ] {
        let page = s
            .beneficiaries(&with(Some(status), "2020-03"))
            .await
            .unwrap();
        assert_eq!(page.total, 1, "{status:?}");
        assert_eq!(names(page), [(name.to_owned(), Some(status))]);
    }
    // The status combines with the other filters, and pages.
    let page = s
        .beneficiaries(&BeneficiaryFilter {
            search: Some("vo thi".into()),
            ..with(Some(S::Active), "2019-12")
        })
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    let second = s
        .beneficiaries(&BeneficiaryFilter {
            limit: 1,
            offset: 1,
            ..with(Some(S::Active), "2019-12")
        })
        .await
        .unwrap();
    assert_eq!(
        (second.total, names(second)),
        (4, vec![("Võ Thị Hai".to_owned(), Some(S::Active))])
    );
    // A status without its month is refused, naming the field.
    let e = s
        .beneficiaries(&BeneficiaryFilter {
            status: Some(S::Active),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("as_of"), "{e}");
    // Without a month, rows carry no status.
    let plain = s
        .beneficiaries(&BeneficiaryFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(plain.items.iter().all(|r| r.status.is_none()));
}

async fn the_register_is_searched_without_diacritics(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    let people = [
        person(
            "Nguyễn Văn Ân",
            "1930-01-01",
            "083130000011",
            "28756",
            "K5c",
        ),
        person("Đặng Thị Đào", "1931-01-01", "083131000012", "28756", "K5c"),
        person(
            "Nguyễn Thị Hoa",
            "1932-01-01",
            "083132000013",
            "28759",
            "K5c",
        ),
    ];
    let created = s.add_beneficiaries(&change(), &people).await.unwrap();
    let find = |q: &str| BeneficiaryFilter {
        search: Some(q.into()),
        limit: 10,
        ..Default::default()
    };
    let names = |page: chitra_store::Page<chitra_store::BeneficiaryRow>| {
        page.items
            .into_iter()
            .map(|r| r.full_name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(s.beneficiaries(&find("nguyen van an")).await.unwrap()),
        ["Nguyễn Văn Ân"]
    );
    assert_eq!(
        names(s.beneficiaries(&find("dang")).await.unwrap()),
        ["Đặng Thị Đào"]
    );
    assert_eq!(
        names(s.beneficiaries(&find("NGUYỄN")).await.unwrap()).len(),
        2
    );
    assert_eq!(
        names(
            s.beneficiaries(&find(&created[2].beneficiary.code))
                .await
                .unwrap()
        ),
        ["Nguyễn Thị Hoa"]
    );
    assert_eq!(
        names(s.beneficiaries(&find("083131000012")).await.unwrap()),
        ["Đặng Thị Đào"]
    );
    assert!(
        s.beneficiaries(&find("%")).await.unwrap().items.is_empty(),
        "wildcards are literal"
    );
    let page = s
        .beneficiaries(&BeneficiaryFilter {
            commune: Some("28756".into()),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (2, 1));
    assert_eq!(page.items[0].citizen_id_masked, "********0011");
    // A jurisdiction's communes: listed ones only; an empty list reaches nobody.
    let within = |communes: Vec<&str>| BeneficiaryFilter {
        communes: Some(communes.into_iter().map(String::from).collect()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        s.beneficiaries(&within(vec!["28756"])).await.unwrap().total,
        2
    );
    assert_eq!(
        s.beneficiaries(&within(vec!["28756", "28759"]))
            .await
            .unwrap()
            .total,
        3
    );
    assert_eq!(s.beneficiaries(&within(vec![])).await.unwrap().total, 0);
    let k5c = s
        .beneficiaries(&BeneficiaryFilter {
            category: Some("K5c".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(k5c.total, 3);
}

/// Three beneficiaries through five months of the real cycle (issue: the monthly cycle):
/// - Ánh is granted in August, retroactively from May, across the July 2021 base change;
/// - Bình dies in mid-August: paid for August, not September, and funeral support appears;
/// - Cúc does not collect June, July and August: carried twice, returned and suspended at the
///   third close, and paid again — with arrears and the returned money — after a resume decision.
async fn three_beneficiaries_through_the_monthly_cycle(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    let on = |who: &str, date: &str| Change::on(who, "chu kỳ chi trả", d(date));
    let office = s
        .add_office(
            &on("admin", "2021-01-04"),
            &NewOffice {
                kind: OfficeKind::DistrictOffice,
                name: "Phòng LĐ-TB&XH thành phố Bến Tre".into(),
                unit_code: "829".into(),
                valid_from: None,
                valid_to: Some(d("2025-06-30")),
            },
        )
        .await
        .unwrap();
    let point = s
        .add_payment_points(
            &on("admin", "2021-01-04"),
            &[NewPaymentPoint {
                code: "BĐ-829-001".into(),
                name: "Bưu điện thành phố Bến Tre".into(),
                kind: PointKind::DistrictPostOffice,
                commune: CommuneCode::parse("28756").unwrap(),
                address: "Phường Phú Khương".into(),
                latitude: None,
                longitude: None,
                pay_days: (2, 20),
                opening_days: Weekdays::EVERY_DAY,
            }],
        )
        .await
        .unwrap()
        .remove(0);
    let contract = contract_2021(office.id);
    s.add_contract(&on("admin", "2021-01-04"), &contract)
        .await
        .unwrap();
    let mut bad = contract.clone();
    bad.code = "BT 2".into();
    assert!(
        matches!(s.add_contract(&on("admin", "2021-01-04"), &bad).await, Err(StoreError::Invalid(ref e)) if e.field == "code")
    );
    // The area is a unit in force when the contract starts: no province 99; the districts were
    // dissolved in July 2025.
    let before = journal_len(s).await;
    for (area, from) in [("99", "2021-01"), ("829", "2026-01"), ("", "2021-01")] {
        let bad = NewContract {
            code: format!("BT-{area}-{from}"),
            area_code: area.into(),
            valid_from: p(from),
            ..contract.clone()
        };
        assert!(
            matches!(s.add_contract(&on("admin", "2021-01-04"), &bad).await, Err(StoreError::Invalid(ref e)) if e.field == "area_code"),
            "{area} from {from}"
        );
    }
    assert_eq!(journal_len(s).await, before);

    let register =
        |name: &str, birth: &str, id: &str, category: &str, effective: &str, signed: &str| {
            let mut b = person(name, birth, id, "28756", category);
            b.payment_point_id = Some(point.id);
            b.address.from = p(effective);
            b.grant = grant(category, effective, signed);
            b
        };
    let binh = register(
        "Trần Văn Bình",
        "1936-02-02",
        "083036000002",
        "K5c",
        "2021-01",
        "2021-01-10",
    );
    let cuc = register(
        "Lê Thị Cúc",
        "1935-03-03",
        "083035000003",
        "K5c",
        "2021-01",
        "2021-01-10",
    );
    let made = s
        .add_beneficiaries(&on("officer.an", "2021-01-10"), &[binh, cuc])
        .await
        .unwrap();
    let (binh, cuc) = (made[0].beneficiary.clone(), made[1].beneficiary.clone());
    let mut anh: Option<chitra_core::register::Beneficiary> = None;

    // A month before any base level, or too far ahead to know its decisions, is refused.
    let before = journal_len(s).await;
    for month in ["1900-01", "2021-09"] {
        let e = s
            .generate_payroll(
                &on("officer.an", "2021-05-21"),
                office.id,
                Program::SocialAssistance,
                p(month),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref f) if f.field == "period"),
            "{month}: {e:?}"
        );
    }
    assert_eq!(journal_len(s).await, before);
    let mut lines_of = std::collections::HashMap::new();
    for month in ["2021-06", "2021-07", "2021-08", "2021-09", "2021-10"] {
        let m = p(month);
        let prev = m.prev();
        let day = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(prev.year(), prev.month(), d)
                .unwrap()
                .to_string()
        };
        let own = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(m.year(), m.month(), d)
                .unwrap()
                .to_string()
        };
        // What happened before this month's list was made.
        if month == "2021-09" {
            let mut a = register(
                "Nguyễn Thị Ánh",
                "1985-04-04",
                "083185000001",
                "K6b",
                "2021-05",
                "2021-08-10",
            );
            a.sex = Sex::Female;
            anh = Some(
                s.add_beneficiaries(&on("officer.an", "2021-08-10"), &[a])
                    .await
                    .unwrap()
                    .remove(0)
                    .beneficiary,
            );
            s.add_decisions(
                &on("officer.an", "2021-08-18"),
                &[DecisionFor {
                    beneficiary_code: binh.code.clone(),
                    decision: NewDecision::death(
                        d("2021-08-15"),
                        d("2021-08-18"),
                        "Chủ tịch UBND thành phố Bến Tre",
                        "Chết ngày 15/08/2021",
                    ),
                }],
            )
            .await
            .unwrap();
        }
        if month == "2021-10" {
            let resume = DecisionFor {
                beneficiary_code: cuc.code.clone(),
                decision: NewDecision {
                    kind: DecisionKind::Resume,
                    category: None,
                    reason: "Đã liên hệ nhận lại trợ cấp".into(),
                    ..grant("K5c", "2021-09", "2021-09-10")
                },
            };
            s.add_decisions(&on("officer.an", "2021-09-10"), &[resume])
                .await
                .unwrap();
        }
        let run = s
            .generate_payroll(
                &on("officer.an", &day(21)),
                office.id,
                Program::SocialAssistance,
                m,
            )
            .await
            .unwrap();
        // Generating a draft again gives the same payroll.
        let again = s
            .generate_payroll(
                &on("officer.an", &day(21)),
                office.id,
                Program::SocialAssistance,
                m,
            )
            .await
            .unwrap();
        assert_eq!(
            (again.id, again.lines, again.total),
            (run.id, run.lines, run.total)
        );
        // Maker-checker.
        let e = s
            .approve_payroll(&on("officer.an", &day(22)), run.id)
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref f) if f.field == "as"),
            "{e}"
        );
        s.approve_payroll(&on("officer.binh", &day(22)), run.id)
            .await
            .unwrap();
        let e = s
            .generate_payroll(
                &on("officer.an", &day(23)),
                office.id,
                Program::SocialAssistance,
                m,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref f) if f.field == "state"),
            "an approved payroll is not regenerated: {e}"
        );
        s.fund_payroll(&on("officer.an", &day(24)), run.id)
            .await
            .unwrap();
        assert!(
            s.fund_payroll(&on("officer.an", &day(24)), run.id)
                .await
                .is_err(),
            "funded once"
        );
        s.open_payroll(&on("post.manager", &own(2)), run.id)
            .await
            .unwrap();

        let lines = s
            .run_lines(
                run.id,
                &LineFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items;
        let by_code: std::collections::HashMap<String, chitra_store::cycle::LineRow> = lines
            .iter()
            .map(|l| (l.beneficiary_code.clone(), l.clone()))
            .collect();
        let cuc_skips = ["2021-06", "2021-07", "2021-08"].contains(&month);
        let mut citizen_ids = std::collections::HashMap::new();
        for l in &lines {
            let f = s.beneficiary(&l.beneficiary_code).await.unwrap().unwrap();
            citizen_ids.insert(
                l.beneficiary_code.clone(),
                f.beneficiary.citizen_id.as_str().to_owned(),
            );
        }
        // Each beneficiary shows their card; after Bình's death, his family collects the funeral
        // support with an authorisation.
        let payments: Vec<NewPayment> = lines
            .iter()
            .filter(|l| !(cuc_skips && l.beneficiary_code == cuc.code))
            .map(|l| {
                let identity = if l.funeral.get() > 0 {
                    Identity::proxy(
                        "Trần Văn Bảo",
                        "083070000777",
                        "UQ-12",
                        "UBND phường Phú Khương",
                        d("2021-12-31"),
                    )
                    .unwrap()
                } else {
                    Identity::citizen_id(&citizen_ids[&l.beneficiary_code]).unwrap()
                };
                NewPayment {
                    id: format!("tablet-1:{}", l.id),
                    line_id: l.id,
                    amount: l.total,
                    paid_at: at(&format!("{}T09:00:00+07:00", own(5))),
                    agent: "agent.tam".into(),
                    identity,
                    location: Location::Point,
                }
            })
            .collect();
        let results = s
            .record_payments(&on("agent.tam", &own(5)), &payments)
            .await
            .unwrap();
        assert!(
            results
                .iter()
                .all(|r| matches!(r, PaymentResult::Accepted { flags, .. } if flags.is_empty())),
            "{results:?}"
        );
        // The tablet resends: the same ids give the first result, nothing is paid twice.
        let resent = s
            .record_payments(&on("agent.tam", &own(6)), &payments)
            .await
            .unwrap();
        assert!(
            resent
                .iter()
                .all(|r| matches!(r, PaymentResult::AlreadyRecorded { .. })),
            "{resent:?}"
        );
        if let Some(first) = payments.first() {
            let other = NewPayment {
                id: "tablet-2:dup".into(),
                ..first.clone()
            };
            let r = s
                .record_payments(&on("agent.nam", &own(6)), &[other])
                .await
                .unwrap();
            assert!(
                matches!(&r[0], PaymentResult::Conflict { paid_by, .. } if *paid_by == first.id),
                "{r:?}"
            );
        }
        let closed = s
            .close_payroll(&on("post.manager", &own(21)), run.id)
            .await
            .unwrap();
        assert_eq!(closed.run.state, RunState::Closed);
        let settlement = s.settlement(m).await.unwrap();
        assert!(settlement.balances, "{month}: {:?}", settlement.settlement);
        let rec = s.reconcile(m).await.unwrap();
        assert!(rec.mismatches.is_empty(), "{month}: {:?}", rec.mismatches);
        if month == "2021-08" {
            assert_eq!(
                closed.suspended,
                vec![cuc.code.clone()],
                "suspended at the third close"
            );
            let reviews = s.reviews().await.unwrap();
            assert_eq!(reviews.len(), 1);
            assert_eq!(reviews[0].beneficiary_code, cuc.code);
        }
        let _ = by_code;
        // As they ended.
        let ended = s
            .run_lines(
                run.id,
                &LineFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items;
        // A jurisdiction's communes narrow the list: theirs, or nobody's.
        let within = |communes: &[&str]| LineFilter {
            communes: Some(communes.iter().map(|c| c.to_string()).collect()),
            limit: 100,
            ..Default::default()
        };
        let ours = s.run_lines(run.id, &within(&["28756"])).await.unwrap();
        assert_eq!(ours.total as usize, ended.len());
        let theirs = s.run_lines(run.id, &within(&["28759"])).await.unwrap();
        assert_eq!(theirs.total, 0);
        lines_of.insert(
            month,
            ended
                .into_iter()
                .map(|l| (l.beneficiary_code.clone(), l))
                .collect::<std::collections::HashMap<_, _>>(),
        );
    }
    let line = |month: &str, code: &str| lines_of[month].get(code).cloned();
    // Cúc: 270,000 in June carried; July 360,000 + 270,000 carried; August 360,000 + 630,000, returned.
    let c = |m| line(m, &cuc.code).unwrap();
    assert_eq!(
        (c("2021-06").total, c("2021-06").status),
        (Dong(270_000), LineStatus::Carried)
    );
    assert_eq!(
        (c("2021-07").carried, c("2021-07").total),
        (Dong(270_000), Dong(630_000))
    );
    assert_eq!(
        (c("2021-08").total, c("2021-08").status),
        (Dong(990_000), LineStatus::Returned)
    );
    assert!(
        line("2021-09", &cuc.code).is_none(),
        "suspended in September"
    );
    let oct = c("2021-10");
    assert_eq!(
        (oct.monthly, oct.arrears, oct.reissued),
        (Dong(360_000), Dong(360_000), Dong(990_000))
    );
    assert_eq!((oct.total, oct.status), (Dong(1_710_000), LineStatus::Paid));
    // Bình: August paid, then funeral support of 20 × 360,000 and nothing more.
    let b = |m| line(m, &binh.code);
    assert_eq!(b("2021-08").unwrap().total, Dong(360_000));
    let sept = b("2021-09").unwrap();
    assert_eq!(
        (sept.monthly, sept.funeral, sept.total),
        (Dong::ZERO, Dong(7_200_000), Dong(7_200_000))
    );
    assert!(b("2021-10").is_none());
    // Ánh: September, with May and June at 270,000 × 1.5 and July and August at 360,000 × 1.5.
    let anh = anh.unwrap();
    let a = line("2021-09", &anh.code).unwrap();
    assert_eq!(
        (a.monthly, a.arrears),
        (Dong(540_000), Dong(2 * 405_000 + 2 * 540_000))
    );
    assert_eq!(a.total, Dong(2_430_000));
    assert_eq!(line("2021-10", &anh.code).unwrap().total, Dong(540_000));

    // The ledger: balances sum to zero, cash is back to nothing, the post holds nothing carried.
    let balances = s.ledger_balances().await.unwrap();
    assert_eq!(balances.iter().map(|b| b.balance).sum::<i64>(), 0);
    for b in &balances {
        if b.kind == "cash" || b.kind == "bank" || b.kind == "post" {
            assert_eq!(b.balance, 0, "{}", b.account);
        }
    }
    let paid: i64 = balances
        .iter()
        .filter(|b| b.kind == "paid")
        .map(|b| b.balance)
        .sum();
    let returned: i64 = balances
        .iter()
        .filter(|b| b.kind == "returned")
        .map(|b| b.balance)
        .sum();
    assert_eq!(returned, 990_000);
    assert!(paid > 0);
    let sum = s.summary(p("2021-06"), p("2021-10")).await.unwrap();
    assert_eq!(sum.total_paid_vnd, paid);
    assert!(s.verify_journal().await.unwrap().intact);
}

/// Two district offices of Bến Tre (the city and Châu Thành), the province's department with the
/// payment contract, and four people: two in each district, registered in 2021-01 and granted
/// K5c from 2021-02. The offices' ids in that order, and the people's codes.
async fn ben_tre_offices_and_four_people(s: &dyn Store) -> (Vec<i64>, Vec<String>) {
    init(s).await;
    let on = |who: &str, date: &str| Change::on(who, "chu kỳ chi trả", d(date));
    let mut offices = Vec::new();
    for (name, unit) in [
        ("Phòng LĐ-TB&XH thành phố Bến Tre", "829"),
        ("Phòng LĐ-TB&XH huyện Châu Thành", "831"),
        ("Sở LĐ-TB&XH tỉnh Bến Tre", "83"),
    ] {
        let kind = if unit.len() == 2 {
            OfficeKind::Department
        } else {
            OfficeKind::DistrictOffice
        };
        let o = s
            .add_office(
                &on("admin", "2021-01-04"),
                &NewOffice {
                    kind,
                    name: name.into(),
                    unit_code: unit.into(),
                    valid_from: None,
                    valid_to: None,
                },
            )
            .await
            .unwrap();
        offices.push(o.id);
    }
    s.add_contract(&on("admin", "2021-01-04"), &contract_2021(offices[2]))
        .await
        .unwrap();
    let people = [
        ("Nguyễn Thị Ánh", "083038000011", "28756"),
        ("Trần Văn Bảo", "083038000012", "28804"),
        ("Lê Thị Châu", "083038000013", "28757"),
        ("Phạm Văn Dũng", "083038000014", "28807"),
    ];
    let batch: Vec<NewBeneficiary> = people
        .iter()
        .map(|(name, id, commune)| NewBeneficiary {
            grant: grant("K5c", "2021-02", "2021-01-10"),
            ..person(name, "1938-01-01", id, commune, "K5c")
        })
        .collect();
    let made = s
        .add_beneficiaries(&on("officer.an", "2021-01-10"), &batch)
        .await
        .unwrap();
    let codes = made.into_iter().map(|m| m.beneficiary.code).collect();
    (offices, codes)
}

/// A department generates its districts' month at once: the same runs as one by one, written in
/// one transaction; the settlement's sums kept on the side agree with the transfers themselves.
async fn several_offices_are_generated_in_one_go(h: &Harness) {
    let s = &*h.store;
    let on = |who: &str, date: &str| Change::on(who, "chu kỳ chi trả", d(date));
    let (offices, _) = ben_tre_offices_and_four_people(s).await;
    let month = p("2021-02");
    let before = journal_len(s).await;
    // The same office twice is refused, and nothing is written.
    let e = s
        .generate_payrolls(
            &on("officer.an", "2021-01-20"),
            &[offices[0], offices[0]],
            Program::SocialAssistance,
            month,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref f) if f.field == "office"),
        "{e:?}"
    );
    assert_eq!(journal_len(s).await, before);
    // Both districts, then the department over the same province: the department's run finds
    // every line already on a district's payroll and is left empty.
    let runs = s
        .generate_payrolls(
            &on("officer.an", "2021-01-20"),
            &offices,
            Program::SocialAssistance,
            month,
        )
        .await
        .unwrap();
    assert_eq!(runs.iter().map(|r| r.lines).collect::<Vec<_>>(), [2, 2, 0]);
    assert_eq!(journal_len(s).await, before + 3);
    for r in &runs[..2] {
        assert_eq!(r.by_status.len(), 1);
        assert_eq!(r.by_status[0].lines, 2);
        assert_eq!(r.by_status[0].amount, r.total);
        // What the store reads back is what the batch answered.
        let again = s.run(r.id).await.unwrap();
        assert_eq!((again.lines, again.total), (r.lines, r.total));
        assert_eq!(again.by_status.len(), 1);
        assert_eq!(again.by_status[0].amount, r.total);
    }
    // Regenerating one district alone gives the same lines, and the batch again the same runs.
    let alone = s
        .generate_payroll(
            &on("officer.an", "2021-01-21"),
            offices[1],
            Program::SocialAssistance,
            month,
        )
        .await
        .unwrap();
    assert_eq!(
        (alone.id, alone.lines, alone.total),
        (runs[1].id, 2, runs[1].total)
    );
    let again = s
        .generate_payrolls(
            &on("officer.an", "2021-01-21"),
            &offices,
            Program::SocialAssistance,
            month,
        )
        .await
        .unwrap();
    let ids = |rs: &[chitra_store::cycle::Run]| {
        rs.iter()
            .map(|r| (r.id, r.lines, r.total))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&again), ids(&runs));
    // Through the cycle for the first district: the settlement's kept sums match the transfers.
    let run = runs[0].id;
    approved_funded_opened(s, run, ["2021-01-22", "2021-01-23", "2021-02-01"]).await;
    s.close_payroll(&on("buu.dien", "2021-02-21"), run)
        .await
        .unwrap();
    let settled = s.settlement(month).await.unwrap();
    assert!(settled.balances, "{settled:#?}");
    let advanced: i64 = h
        .raw
        .scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transfers WHERE period = 202102",
        )
        .await;
    let kept: i64 = h
        .raw.scalar("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transfer_sums WHERE period = 202102")
        .await;
    let (n, kept_n): (i64, i64) = (
        h.raw.scalar("SELECT COUNT(*) FROM transfers WHERE period = 202102").await,
        h.raw.scalar("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM transfer_sums WHERE period = 202102")
            .await,
    );
    assert!(advanced > 0);
    assert_eq!((kept, kept_n), (advanced, n));
    // Nobody of the first district came in February: their money was carried. The department
    // closes its empty February and pays March for the whole province, the first district's
    // carried money in its lines: the settlement counts that money once, while the department's
    // March is a draft (held by the post office, waiting) and once it is paid.
    let carried: i64 = h
        .raw
        .scalar(&format!(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transfers WHERE kind = 'carry' AND run_id = {run}"
        ))
        .await;
    assert_eq!(carried, runs[0].total.get());
    let department = runs[2].id;
    approved_funded_opened(s, department, ["2021-01-22", "2021-01-23", "2021-02-01"]).await;
    s.close_payroll(&on("buu.dien", "2021-02-21"), department)
        .await
        .unwrap();
    let march = s
        .generate_payroll(
            &on("officer.an", "2021-02-22"),
            offices[2],
            Program::SocialAssistance,
            p("2021-03"),
        )
        .await
        .unwrap();
    assert_eq!(march.lines, 4);
    let settled = s.settlement(p("2021-03")).await.unwrap();
    assert!(settled.balances, "{settled:#?}");
    let post = &settled.settlement.contracts["post:BT-BĐ-2021"];
    assert_eq!(
        (post.held_before, post.held_waiting),
        (Dong(carried), Dong(carried))
    );
    approved_funded_opened(s, march.id, ["2021-02-23", "2021-02-24", "2021-03-01"]).await;
    let settled = s.settlement(p("2021-03")).await.unwrap();
    assert!(settled.balances, "{settled:#?}");
    s.close_payroll(&on("buu.dien", "2021-03-21"), march.id)
        .await
        .unwrap();
    let settled = s.settlement(p("2021-03")).await.unwrap();
    assert!(settled.balances, "{settled:#?}");
    ledger_balances_and_matches(s, "2021-03").await;
}

/// A draft generated again follows the register: a line whose amount changed is written over, a
/// line no longer due goes, a new one comes; a line moves to the office given first. What is
/// stored is what the runs say, with the amounts the rules give; a line held by a run not
/// generated again stays there.
async fn a_draft_generated_again_follows_the_register(h: &Harness) {
    let s = &*h.store;
    let on = |who: &str, date: &str| Change::on(who, "chu kỳ chi trả", d(date));
    let (offices, codes) = ben_tre_offices_and_four_people(s).await;
    let (a, b, department) = (offices[0], offices[1], offices[2]);
    let month = p("2021-02");
    // The register read into memory first, as a server does as it starts: the generations below
    // start from it, and what is added or decided after it is read too.
    assert_eq!(
        s.load_register(Program::SocialAssistance, month)
            .await
            .unwrap(),
        4
    );
    let generate = |order: [i64; 3], day: &'static str| async move {
        s.generate_payrolls(
            &on("officer.an", day),
            &order,
            Program::SocialAssistance,
            month,
        )
        .await
        .unwrap()
    };
    // The stored rows of the month: (run, beneficiary, monthly, total), by line id.
    let stored = || async {
        let runs = h
            .raw
            .scalar("SELECT COUNT(*) FROM payroll_line_rows WHERE id >= 202102 * 10000000000 AND id < 202103 * 10000000000")
            .await;
        let mut rows = Vec::new();
        for r in s.runs(Some(month)).await.unwrap() {
            let total: i64 = h
                .raw
                .scalar(&format!("SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) FROM payroll_line_rows WHERE run_id = {}", r.id))
                .await;
            let n: i64 = h
                .raw
                .scalar(&format!(
                    "SELECT COUNT(*) FROM payroll_line_rows WHERE run_id = {}",
                    r.id
                ))
                .await;
            // What the run says is what its rows hold.
            assert_eq!((n, Dong(total)), (r.lines, r.total), "run #{}", r.id);
            // And each of them is found as the run's, and nothing else is (SQLite keeps a line's
            // run in a table of its own).
            let found: i64 = h
                .raw
                .scalar(&format!(
                    "SELECT COUNT(*) FROM payroll_line_runs k JOIN payroll_line_rows l ON l.id = k.line_id AND l.run_id = k.run_id WHERE k.run_id = {}",
                    r.id
                ))
                .await;
            let entries: i64 = h
                .raw
                .scalar(&format!(
                    "SELECT COUNT(*) FROM payroll_line_runs WHERE run_id = {}",
                    r.id
                ))
                .await;
            assert_eq!((found, entries), (n, n), "run #{}", r.id);
            rows.push((r.office_id, n, total));
        }
        rows.sort_unstable();
        (runs, rows)
    };
    let first = generate([a, b, department], "2021-01-20").await;
    let lines = |rs: &[chitra_store::cycle::Run]| rs.iter().map(|r| r.lines).collect::<Vec<_>>();
    assert_eq!(lines(&first), [2, 2, 0]);
    let (n, by_office) = stored().await;
    assert_eq!(n, 4);
    // The department given first takes every line; given last again, it has none.
    let taken = generate([department, a, b], "2021-01-20").await;
    assert_eq!(lines(&taken), [4, 0, 0]);
    assert_eq!(stored().await.0, 4);
    let back = generate([a, b, department], "2021-01-20").await;
    assert_eq!(lines(&back), [2, 2, 0]);
    assert_eq!(stored().await, (4, by_office.clone()));
    // Ánh's category changes from February, Bảo's allowance stops, and Em joins the city's list.
    let decide = |i: usize, kind: DecisionKind| DecisionFor {
        beneficiary_code: codes[i].clone(),
        decision: NewDecision {
            kind,
            category: None,
            ..grant("K5c", "2021-02", "2021-01-21")
        },
    };
    let mut adjust = decide(0, DecisionKind::Adjust);
    adjust.decision.category = Some("K6a".into());
    adjust.decision.replaces = Some("K5c".into());
    s.add_decisions(
        &on("officer.an", "2021-01-21"),
        &[adjust, decide(1, DecisionKind::Stop)],
    )
    .await
    .unwrap();
    let mut em = person("Võ Thị Em", "1938-01-01", "083038000015", "28756", "K5c");
    em.grant = grant("K5c", "2021-02", "2021-01-21");
    s.add_beneficiaries(&on("officer.an", "2021-01-21"), &[em])
        .await
        .unwrap();
    assert_eq!(
        s.load_register(Program::SocialAssistance, month)
            .await
            .unwrap(),
        5
    );
    let changed = generate([a, b, department], "2021-01-21").await;
    let after = vec![
        (a, 3, 675_000 + 2 * 270_000),
        (b, 1, 270_000),
        (department, 0, 0),
    ];
    assert_eq!(lines(&changed), [3, 1, 0]);
    // Before the base change of 2021-07: K5c 270,000 đ a month; K6a, at the age of 83, 675,000 đ.
    assert_eq!(
        by_office,
        [(a, 2, 540_000), (b, 2, 540_000), (department, 0, 0)]
    );
    assert_eq!(stored().await, (4, after.clone()));
    // Generated again with nothing changed, the month stays as it is.
    let again = generate([a, b, department], "2021-01-21").await;
    assert_eq!(lines(&again), [3, 1, 0]);
    assert_eq!(
        again.iter().map(|r| r.total).collect::<Vec<_>>(),
        changed.iter().map(|r| r.total).collect::<Vec<_>>()
    );
    assert_eq!(stored().await, (4, after.clone()));
    // The department alone, the districts' runs not generated again: their lines stay theirs.
    let alone = s
        .generate_payroll(
            &on("officer.an", "2021-01-21"),
            department,
            Program::SocialAssistance,
            month,
        )
        .await
        .unwrap();
    assert_eq!(alone.lines, 0);
    assert_eq!(stored().await, (4, after));
}

/// A run approved, funded and opened, on these days, by the head of office, the accountant and
/// the post office.
async fn approved_funded_opened(s: &dyn Store, run: i64, days: [&str; 3]) {
    let on = |who: &str, date: &str| Change::on(who, "chu kỳ chi trả", d(date));
    s.approve_payroll(&on("truong.phong", days[0]), run)
        .await
        .unwrap();
    s.fund_payroll(&on("ke.toan", days[1]), run).await.unwrap();
    s.open_payroll(&on("buu.dien", days[2]), run).await.unwrap();
}

async fn the_journal_verifies_and_names_a_tampered_entry(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    s.add_beneficiaries(
        &change(),
        &[person(
            "Huỳnh Văn Tám",
            "1930-01-01",
            "083130000031",
            "28756",
            "K5c",
        )],
    )
    .await
    .unwrap();
    s.set_setting(&change(), "province", "83").await.unwrap();
    let v = s.verify_journal().await.unwrap();
    assert!(v.intact, "{:?}", v.first_mismatch);
    let n = v.entries_checked as i64;
    assert_eq!(n, journal_len(s).await);

    // Change the reason of entry 3 behind the store's back.
    h.raw
        .exec("UPDATE journal SET reason = 'sửa lén' WHERE seq = 3")
        .await;
    let v = s.verify_journal().await.unwrap();
    assert!(!v.intact);
    assert_eq!(v.first_mismatch.as_ref().unwrap().seq, 3);
    assert_eq!(v.entries_checked, 2);

    // Removing the last entry is caught by the head.
    h.raw
        .exec("UPDATE journal SET reason = 'conformance' WHERE seq = 3")
        .await;
    assert!(s.verify_journal().await.unwrap().intact, "restored");
    h.raw
        .exec(&format!("DELETE FROM journal WHERE seq = {n}"))
        .await;
    let v = s.verify_journal().await.unwrap();
    assert_eq!(v.first_mismatch.unwrap().seq, n);
}

async fn concurrent_writers_keep_one_chain(h: &Harness) {
    let s = h.store.clone();
    let before = journal_len(&*s).await;
    let mut tasks = Vec::new();
    for w in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                s.set_setting(
                    &Change::now(format!("writer{w}"), "concurrency"),
                    &format!("k{w}"),
                    &i.to_string(),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(journal_len(&*s).await, before + 80);
    let v = s.verify_journal().await.unwrap();
    assert!(v.intact, "{:?}", v.first_mismatch);
    assert_eq!(s.setting("k3").await.unwrap().as_deref(), Some("9"));
}

async fn who_and_why_are_required_and_ids_are_masked_in_the_journal(h: &Harness) {
    let s = &*h.store;
    init(s).await;
    let before = journal_len(s).await;
    let nobody = Change::on("  ", "conformance", d(TODAY));
    let e = s
        .add_beneficiaries(
            &nobody,
            &[person(
                "Mai Thị Lan",
                "1930-01-01",
                "083130000041",
                "28756",
                "K5c",
            )],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref f) if f.field == "as"),
        "{e}"
    );
    let e = s
        .set_setting(&Change::on("admin", "", d(TODAY)), "k", "v")
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref f) if f.field == "reason"),
        "{e}"
    );
    assert_eq!(journal_len(s).await, before);
    assert_eq!(h.raw.count("beneficiaries").await, 0);

    let made = s
        .add_beneficiaries(
            &change(),
            &[person(
                "Mai Thị Lan",
                "1930-01-01",
                "083130000041",
                "28756",
                "K5c",
            )],
        )
        .await
        .unwrap();
    assert_eq!(
        made[0].decisions[0].recorded_on,
        d(TODAY),
        "recorded on the change's day"
    );
    let entry = s.journal_tail(1).await.unwrap().remove(0);
    assert!(
        !entry.draft.payload.contains("083130000041"),
        "{}",
        entry.draft.payload
    );
    assert!(entry.draft.payload.contains("********0041"));
}

async fn verification_while_others_write_raises_no_false_alarm(h: &Harness) {
    let s = h.store.clone();
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            for i in 0..300 {
                s.set_setting(&change(), "busy", &i.to_string())
                    .await
                    .unwrap();
            }
        })
    };
    let mut checks = 0;
    while !writer.is_finished() {
        let v = s.verify_journal().await.unwrap();
        assert!(v.intact, "{:?}", v.first_mismatch);
        checks += 1;
    }
    writer.await.unwrap();
    assert!(checks > 0);
    assert!(s.verify_journal().await.unwrap().intact);
}

/// A district paying June 2021: two points (Phú Khương, with everyone but Dũng; Phú Hưng, with
/// Dũng), the payroll opened on the 2nd.
struct PayingMonth {
    office: i64,
    points: [i64; 2],
    run: i64,
    /// Line id and citizen ID, by the beneficiary's first name.
    people: std::collections::HashMap<&'static str, (i64, String, String)>,
}

const NAMES: [&str; 8] = ["An", "Bình", "Cúc", "Dũng", "Em", "Giang", "Hà", "Khánh"];

impl PayingMonth {
    fn line(&self, name: &str) -> i64 {
        self.people[name].0
    }

    fn code(&self, name: &str) -> String {
        self.people[name].2.clone()
    }

    fn own(&self, name: &str) -> Identity {
        Identity::citizen_id(&self.people[name].1).unwrap()
    }
}

fn on(who: &str, date: &str) -> Change {
    Change::on(who, "dịch vụ chi trả", d(date))
}

async fn paying_month(s: &dyn Store, home_of_cuc: Option<(f64, f64)>) -> PayingMonth {
    init(s).await;
    let office = s
        .add_office(
            &on("admin", "2021-01-04"),
            &NewOffice {
                kind: OfficeKind::DistrictOffice,
                name: "Phòng LĐ-TB&XH thành phố Bến Tre".into(),
                unit_code: "829".into(),
                valid_from: None,
                valid_to: Some(d("2025-06-30")),
            },
        )
        .await
        .unwrap();
    let point = |code: &str, commune: &str| NewPaymentPoint {
        code: code.into(),
        name: format!("Điểm chi trả {code}"),
        kind: PointKind::CommuneCulturalPostOffice,
        commune: CommuneCode::parse(commune).unwrap(),
        address: "Nhà văn hóa".into(),
        latitude: Some(10.2415),
        longitude: Some(106.3759),
        pay_days: (2, 10),
        opening_days: Weekdays::default(),
    };
    let made = s
        .add_payment_points(
            &on("admin", "2021-01-04"),
            &[point("PK-01", "28756"), point("PH-01", "28786")],
        )
        .await
        .unwrap();
    let points = [made[0].id, made[1].id];
    s.add_contract(&on("admin", "2021-01-04"), &contract_2021(office.id))
        .await
        .unwrap();
    let batch: Vec<NewBeneficiary> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let commune = if *name == "Dũng" { "28786" } else { "28756" };
            let mut b = person(
                &format!("Nguyễn Văn {name}"),
                "1936-02-02",
                &format!("08303600{:04}", i + 1),
                commune,
                "K5c",
            );
            b.address.from = p("2021-01");
            b.grant = grant("K5c", "2021-01", "2021-01-10");
            b.payment_point_id = Some(if *name == "Dũng" {
                points[1]
            } else {
                points[0]
            });
            b
        })
        .collect();
    let files = s
        .add_beneficiaries(&on("officer.an", "2021-01-10"), &batch)
        .await
        .unwrap();
    if let Some(home) = home_of_cuc {
        let n = s
            .assign_beneficiaries(
                &on("post.manager", "2021-05-10"),
                points[0],
                &[Assignment {
                    beneficiary_code: files[2].beneficiary.code.clone(),
                    home_delivery: Some("Già yếu, liệt giường".into()),
                    home: Some(home),
                }],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    let run = s
        .generate_payroll(
            &on("officer.an", "2021-05-21"),
            office.id,
            Program::SocialAssistance,
            p("2021-06"),
        )
        .await
        .unwrap();
    s.approve_payroll(&on("officer.binh", "2021-05-22"), run.id)
        .await
        .unwrap();
    s.fund_payroll(&on("officer.an", "2021-05-24"), run.id)
        .await
        .unwrap();
    s.open_payroll(&on("post.manager", "2021-06-02"), run.id)
        .await
        .unwrap();
    let lines = s
        .run_lines(
            run.id,
            &LineFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(lines.len(), NAMES.len());
    let mut people = std::collections::HashMap::new();
    for (name, f) in NAMES.iter().zip(&files) {
        let line = lines
            .iter()
            .find(|l| l.beneficiary_id == f.beneficiary.id)
            .unwrap();
        people.insert(
            *name,
            (
                line.id,
                f.beneficiary.citizen_id.as_str().to_owned(),
                f.beneficiary.code.clone(),
            ),
        );
    }
    PayingMonth {
        office: office.id,
        points,
        run: run.id,
        people,
    }
}

fn payment(m: &PayingMonth, id: &str, name: &str, identity: Identity, when: &str) -> NewPayment {
    NewPayment {
        id: id.into(),
        line_id: m.line(name),
        amount: Dong(270_000),
        paid_at: at(when),
        agent: "agent.tam".into(),
        identity,
        location: Location::Point,
    }
}

/// A point's schedule for June 2021: its days, and its hours as (hour, minute).
fn june_schedule(point: i64, days: &str, opens: (u32, u32), closes: (u32, u32)) -> NewSchedule {
    NewSchedule {
        point_id: point,
        period: p("2021-06"),
        days: MonthDays::parse(days).unwrap(),
        opens: chrono::NaiveTime::from_hms_opt(opens.0, opens.1, 0).unwrap(),
        closes: chrono::NaiveTime::from_hms_opt(closes.0, closes.1, 0).unwrap(),
    }
}

fn group(who: &str, within: Within, payments: Vec<NewPayment>) -> PaymentGroup {
    PaymentGroup {
        change: on(who, "2021-06-05"),
        within,
        payments,
    }
}

async fn ledger_balances_and_matches(s: &dyn Store, period: &str) {
    let balances = s.ledger_balances().await.unwrap();
    assert_eq!(balances.iter().map(|b| b.balance).sum::<i64>(), 0);
    assert!(balances.iter().all(|b| b.kind != "cash" || b.balance >= 0));
    // Each account's stored debits and credits are its transfers' added up.
    let mut added: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    let mut after = None;
    loop {
        let page = s.ledger_transfers(after.clone(), 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.period, last.id.clone()));
        for t in &page {
            added.entry(t.debit.to_string()).or_default().0 += t.amount.get();
            added.entry(t.credit.to_string()).or_default().1 += t.amount.get();
        }
    }
    let stored: std::collections::BTreeMap<String, (i64, i64)> = balances
        .iter()
        .filter(|b| b.debits != 0 || b.credits != 0)
        .map(|b| (b.account.clone(), (b.debits, b.credits)))
        .collect();
    assert_eq!(stored, added, "the stored balances against the transfers");
    let rec = s.reconcile(p(period)).await.unwrap();
    assert!(rec.mismatches.is_empty(), "{:?}", rec.mismatches);
    assert_eq!(rec.payments, rec.pay_transfers);
    assert!(s.verify_journal().await.unwrap().intact);
}

/// What a payment reads of its line and beneficiary is never an old copy. The payment writer keeps
/// the lines it pays (read ahead by `warm_up_payments`); a change made through the store, or by
/// another connection, is what the next payment sees.
async fn a_payment_reads_its_line_as_it_is_now(h: &Harness) {
    let s = &*h.store;
    let m = paying_month(s, Some((10.2415, 106.3759))).await;
    let kept = s.warm_up_payments().await.unwrap();
    assert_eq!(kept, NAMES.len());
    let pay = |p: NewPayment| async move {
        let answers = s
            .record_payments(&on("agent.tam", "2021-06-05"), &[p])
            .await
            .unwrap();
        answers.into_iter().next().unwrap()
    };
    let far = |answer: &PaymentResult| match answer {
        PaymentResult::Accepted { flags, .. } => flags.contains(&FlagKind::HomeFarFromAddress),
        other => panic!("not accepted: {other:?}"),
    };
    let outside = |answer: &PaymentResult| match answer {
        PaymentResult::Accepted { flags, .. } => flags.contains(&FlagKind::OutsideSchedule),
        other => panic!("not accepted: {other:?}"),
    };
    let first = pay(payment(
        &m,
        "now:an",
        "An",
        m.own("An"),
        "2021-06-05T09:00:00+07:00",
    ))
    .await;
    assert!(!far(&first));
    assert!(
        !outside(&first),
        "the point's default June pays from the 2nd"
    );
    // The point's June set through the store to begin on the 6th: a payment on the 5th is then
    // outside it, though the writer read the default for the payment before.
    s.set_schedule(
        &on("post.manager", "2021-06-05"),
        &june_schedule(m.points[0], "6-10", (7, 30), (16, 30)),
    )
    .await
    .unwrap();
    let em = pay(payment(
        &m,
        "now:em",
        "Em",
        m.own("Em"),
        "2021-06-05T09:10:00+07:00",
    ))
    .await;
    assert!(outside(&em), "paid by the schedule read before: {em:?}");
    // Cúc's home moves 2.2 km north, through the store: paid there, nothing is far.
    s.assign_beneficiaries(
        &on("post.manager", "2021-06-05"),
        m.points[0],
        &[Assignment {
            beneficiary_code: m.code("Cúc"),
            home_delivery: Some("Già yếu, liệt giường".into()),
            home: Some((10.2615, 106.3759)),
        }],
    )
    .await
    .unwrap();
    let mut cuc = payment(
        &m,
        "now:cuc",
        "Cúc",
        m.own("Cúc"),
        "2021-06-05T09:30:00+07:00",
    );
    cuc.location = Location::parse("home", Some(10.2615), Some(106.3759)).unwrap();
    assert!(!far(&pay(cuc).await), "measured from her old home");
    // Bình's citizen ID corrected by another connection (another process on the same file): the
    // new number is the one checked.
    let old = m.people["Bình"].1.clone();
    let new = format!("{}7777", &old[..old.len() - 4]);
    assert_ne!(old, new);
    h.raw
        .exec(&format!(
            "UPDATE beneficiaries SET citizen_id = '{new}' WHERE code = '{}'",
            m.code("Bình")
        ))
        .await;
    let stale = pay(payment(
        &m,
        "now:binh-old",
        "Bình",
        Identity::citizen_id(&old).unwrap(),
        "2021-06-05T10:00:00+07:00",
    ))
    .await;
    assert!(
        matches!(&stale, PaymentResult::Refused { field, .. } if field == "identity.citizen_id"),
        "the old number was taken: {stale:?}"
    );
    let fresh = pay(payment(
        &m,
        "now:binh",
        "Bình",
        Identity::citizen_id(&new).unwrap(),
        "2021-06-05T10:05:00+07:00",
    ))
    .await;
    assert!(!far(&fresh));
    // Giang's death on the 4th, recorded by another writer on the same database after the writer
    // read her line: the payment on the 5th is flagged.
    let other = h.second_store().await;
    other
        .add_decisions(
            &on("officer.an", "2021-06-05"),
            &[DecisionFor {
                beneficiary_code: m.code("Giang"),
                decision: NewDecision::death(
                    d("2021-06-04"),
                    d("2021-06-05"),
                    "Chủ tịch UBND phường",
                    "Chết ngày 04/06/2021",
                ),
            }],
        )
        .await
        .unwrap();
    drop(other);
    let giang = pay(payment(
        &m,
        "now:giang",
        "Giang",
        m.own("Giang"),
        "2021-06-05T10:10:00+07:00",
    ))
    .await;
    assert!(
        matches!(&giang, PaymentResult::Accepted { flags, .. } if flags.contains(&FlagKind::DeadBeneficiary)),
        "paid as if alive: {giang:?}"
    );
    ledger_balances_and_matches(s, "2021-06").await;
}

/// The same as [`groups_are_committed_together_and_a_line_is_paid_once`], every transaction
/// decided on the thread beside the writer (a large transaction's path), each accepted payment
/// handed to the writer alone: a repeat, a conflict and a refusal are decided against payments
/// already written, and the answers, the journal and the money come out the same.
async fn groups_decided_beside_the_writer_a_payment_at_a_time(h: &Harness) {
    h.store.decide_beside().set(0, 1);
    groups_are_committed_together_and_a_line_is_paid_once(h).await;
}

/// [`anomalies_are_flagged_with_their_evidence`] decided beside the writer, in chunks of two.
async fn anomalies_flagged_by_payments_decided_beside_the_writer(h: &Harness) {
    h.store.decide_beside().set(0, 2);
    anomalies_are_flagged_with_their_evidence(h).await;
}

/// [`payments_recorded_by_another_writer_are_found_by_their_ids_and_lines`] decided beside the
/// writer, in transactions of 1,001 payments.
async fn payments_decided_beside_the_writer_find_another_writers(h: &Harness) {
    h.store.decide_beside().set(1_000, 1);
    payments_recorded_by_another_writer_are_found_by_their_ids_and_lines(h).await;
}

/// The HTTP server's writer commits many callers' payments at once: a line is paid once across
/// groups, callers only pay within their jurisdiction, and each group is journaled by its actor.
async fn groups_are_committed_together_and_a_line_is_paid_once(h: &Harness) {
    let s = &*h.store;
    let m = paying_month(s, None).await;
    let before = journal_len(s).await;
    let nine = "2021-06-05T09:00:00+07:00";
    let answers = s
        .record_payment_groups(&[
            group(
                "agent.tam",
                Within::Point(m.points[0]),
                vec![
                    payment(&m, "tam:an", "An", m.own("An"), nine),
                    // Dũng is paid at the other point: this agent may not.
                    payment(&m, "tam:dung", "Dũng", m.own("Dũng"), nine),
                ],
            ),
            group(
                "agent.nam",
                Within::Point(m.points[0]),
                vec![
                    // The same line, at the same moment, by another agent.
                    payment(&m, "nam:an", "An", m.own("An"), nine),
                    payment(&m, "nam:em", "Em", m.own("Em"), nine),
                ],
            ),
            group(
                "inspector.lan",
                Within::Communes(Arc::new(["28786".to_owned()].into_iter().collect())),
                vec![payment(&m, "lan:giang", "Giang", m.own("Giang"), nine)],
            ),
            group(
                "agent.ha",
                Within::Anywhere,
                vec![
                    // A tablet resending within the same transaction.
                    payment(&m, "tam:an", "An", m.own("An"), nine),
                    payment(&m, "ha:dung", "Dũng", m.own("Dũng"), nine),
                    // A card that is not the beneficiary's.
                    payment(&m, "ha:ha", "Hà", m.own("Khánh"), nine),
                ],
            ),
        ])
        .await
        .unwrap();
    assert_eq!(answers.len(), 4);
    assert_eq!(
        answers[0][0],
        PaymentResult::Accepted {
            id: "tam:an".into(),
            line_id: m.line("An"),
            flags: vec![]
        }
    );
    assert!(
        matches!(&answers[0][1], PaymentResult::Forbidden { line_id, .. } if *line_id == m.line("Dũng")),
        "{:?}",
        answers[0][1]
    );
    assert_eq!(
        answers[1][0],
        PaymentResult::Conflict {
            id: "nam:an".into(),
            line_id: m.line("An"),
            paid_by: "tam:an".into()
        },
        "exactly one of two payments of a line is accepted, the other names it"
    );
    assert!(matches!(&answers[1][1], PaymentResult::Accepted { .. }));
    assert!(
        matches!(&answers[2][0], PaymentResult::Forbidden { .. }),
        "Giang lives in Phú Khương, not in the inspector's commune: {:?}",
        answers[2][0]
    );
    assert!(matches!(&answers[3][0], PaymentResult::AlreadyRecorded { id, .. } if id == "tam:an"));
    assert!(matches!(&answers[3][1], PaymentResult::Accepted { .. }));
    assert!(
        matches!(&answers[3][2], PaymentResult::Refused { field, .. } if field == "identity.citizen_id"),
        "{:?}",
        answers[3][2]
    );
    // One journal entry per group that accepted something, by its actor.
    assert_eq!(journal_len(s).await, before + 3);
    let tail = s.journal_tail(3).await.unwrap();
    let mut actors: Vec<&str> = tail.iter().map(|e| e.draft.actor.as_str()).collect();
    actors.sort();
    assert_eq!(actors, ["agent.ha", "agent.nam", "agent.tam"]);
    assert!(tail.iter().all(|e| e.draft.action == "payments.record"));
    // What was refused or forbidden changed nothing: three lines paid, the rest due.
    let run = s.run(m.run).await.unwrap();
    let paid = run
        .by_status
        .iter()
        .find(|x| x.status == LineStatus::Paid)
        .unwrap();
    assert_eq!((paid.lines, paid.amount), (3, Dong(3 * 270_000)));
    assert_eq!(h.raw.count("payments").await, 3);
    assert_eq!(h.raw.count("payment_flags").await, 0);
    // Sent again alone, the answers are the first ones; a line of another point stays forbidden.
    let resent = || {
        [group(
            "agent.tam",
            Within::Point(m.points[0]),
            vec![
                payment(&m, "tam:an", "An", m.own("An"), nine),
                payment(&m, "ha:dung", "Dũng", m.own("Dũng"), nine),
            ],
        )]
    };
    let again = s.record_payment_groups(&resent()).await.unwrap();
    assert!(
        matches!(&again[0][0], PaymentResult::AlreadyRecorded { line_id, .. } if *line_id == m.line("An"))
    );
    assert!(
        matches!(&again[0][1], PaymentResult::Forbidden { .. }),
        "an id used at another point says nothing of it: {:?}",
        again[0][1]
    );
    assert_eq!(journal_len(s).await, before + 3, "nothing new to journal");
    // A repeat is answered from what an earlier transaction committed, which on SQLite may not be
    // on disk yet when it is read: its answer waits for a sync of its own (PostgreSQL syncs in
    // every commit).
    let (repeated, durable) = s
        .record_payment_groups_committed(resent().to_vec())
        .await
        .unwrap();
    assert_eq!(repeated, again);
    assert_eq!(
        format!("{durable:?}") == "Durable(pending)",
        matches!(h.raw, Raw::Sqlite(_)),
        "{durable:?}"
    );
    durable.wait().await.unwrap();
    assert_eq!(journal_len(s).await, before + 3, "nothing new to journal");
    // Bad input is refused and names the field.
    let mut future = payment(
        &m,
        "tam:khanh",
        "Khánh",
        m.own("Khánh"),
        "2021-06-09T09:00:00+07:00",
    );
    let mut bank = payment(
        &m,
        "tam:khanh2",
        "Khánh",
        Identity::bank_account(Some("FT1"), None, None).unwrap(),
        nine,
    );
    bank.location = Location::Remote;
    let mut wrong = payment(&m, "tam:khanh3", "Khánh", m.own("Khánh"), nine);
    wrong.amount = Dong(1);
    // Dated before the month before the June payroll: a wrong clock.
    let long_ago = payment(
        &m,
        "tam:khanh4",
        "Khánh",
        m.own("Khánh"),
        "0001-01-01T09:00:00+07:00",
    );
    // An id already used for An's line, sent for Khánh's: not a repeat.
    let reused = payment(&m, "tam:an", "Khánh", m.own("Khánh"), nine);
    let control = payment(&m, "tam:\u{7}khanh", "Khánh", m.own("Khánh"), nine);
    let refused = s
        .record_payments(
            &on("agent.tam", "2021-06-05"),
            &[future.clone(), bank, wrong, long_ago, reused, control],
        )
        .await
        .unwrap();
    let fields: Vec<&str> = refused
        .iter()
        .map(|r| match r {
            PaymentResult::Refused { field, .. } => field.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        fields,
        ["paid_at", "identity", "amount", "paid_at", "id", "id"]
    );
    future.paid_at = at(nine);
    assert!(matches!(
        &s.record_payments(&on("agent.tam", "2021-06-05"), &[future])
            .await
            .unwrap()[0],
        PaymentResult::Accepted { .. }
    ));
    ledger_balances_and_matches(s, "2021-06").await;
    // The days lines were paid, in Vietnam time: 20:30 UTC on the 6th is the 7th in Vietnam.
    assert!(matches!(
        &s.record_payments(
            &on("agent.tam", "2021-06-07"),
            &[payment(
                &m,
                "tam:giang",
                "Giang",
                m.own("Giang"),
                "2021-06-06T20:30:00+00:00"
            )]
        )
        .await
        .unwrap()[0],
        PaymentResult::Accepted { .. }
    ));
    let day = |day: &str, lines: i64| PaidDay {
        run_id: m.run,
        day: d(day),
        lines,
        amount: Dong(lines * 270_000),
    };
    assert_eq!(
        s.paid_days(&[m.run], &Within::Anywhere).await.unwrap(),
        [day("2021-06-05", 4), day("2021-06-07", 1)]
    );
    assert_eq!(
        s.paid_days(&[m.run], &Within::Point(m.points[0]))
            .await
            .unwrap(),
        [day("2021-06-05", 3), day("2021-06-07", 1)]
    );
    let phu_khuong = Within::Communes(Arc::new(["28786".to_owned()].into_iter().collect()));
    assert_eq!(
        s.paid_days(&[m.run], &phu_khuong).await.unwrap(),
        [day("2021-06-05", 1)]
    );
    assert!(
        s.paid_days(&[], &Within::Anywhere)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.paid_days(&[m.run + 1000], &Within::Anywhere)
            .await
            .unwrap()
            .is_empty()
    );
    // A line changed behind the store's back (its total raised by 1 đ): the three-way match names
    // the payment on it by its id (which SQLite's stream of payments by line does not carry).
    h.raw
        .exec(&format!(
            "UPDATE payroll_line_rows SET total = total + 1 WHERE id = {}",
            m.line("An")
        ))
        .await;
    let rec = s.reconcile(p("2021-06")).await.unwrap();
    let found: Vec<(i64, &str, &str)> = rec
        .mismatches
        .iter()
        .map(|x| (x.line_id, x.problem, x.detail.as_str()))
        .collect();
    assert!(
        found.contains(&(
            m.line("An"),
            "amount_differs",
            "payment tam:an of 270000 for a line of 270001"
        )),
        "{found:?}"
    );
    let _ = m.office;
}

/// Each flag is raised with its evidence, written with the payment, and the payment is recorded
/// all the same.
async fn anomalies_are_flagged_with_their_evidence(h: &Harness) {
    let s = &*h.store;
    let home = (10.2415, 106.3759);
    let m = paying_month(s, Some(home)).await;
    // The point's June: the 2nd to the 10th, 07:30–16:30.
    s.set_schedule(
        &on("post.manager", "2021-05-25"),
        &june_schedule(m.points[0], "2-10", (7, 30), (16, 30)),
    )
    .await
    .unwrap();
    // Bình died on the 3rd; it was recorded on the 4th, after the payroll was made.
    s.add_decisions(
        &on("officer.an", "2021-06-04"),
        &[DecisionFor {
            beneficiary_code: m.code("Bình"),
            decision: NewDecision::death(
                d("2021-06-03"),
                d("2021-06-04"),
                "Chủ tịch UBND phường",
                "Chết ngày 03/06/2021",
            ),
        }],
    )
    .await
    .unwrap();
    let proxy = |id: &str, expires: &str| {
        Identity::proxy(
            "Lê Văn Tư",
            id,
            "UQ-88",
            "UBND phường Phú Khương",
            d(expires),
        )
        .unwrap()
    };
    let nine = "2021-06-05T09:00:00+07:00";
    let mut cuc = payment(&m, "t:cuc", "Cúc", m.own("Cúc"), nine);
    // About 2.2 km north of her home.
    cuc.location = Location::parse("home", Some(10.2615), Some(106.3759)).unwrap();
    // Recorded the next morning (the tablet synced then).
    let answers = s
        .record_payments(
            &on("agent.tam", "2021-06-06"),
            &[
                payment(&m, "t:an", "An", m.own("An"), "2021-06-05T18:00:00+07:00"),
                payment(&m, "t:binh", "Bình", m.own("Bình"), nine),
                cuc,
                payment(&m, "t:em", "Em", proxy("083070000002", "2021-05-31"), nine),
                payment(
                    &m,
                    "t:giang",
                    "Giang",
                    proxy("083070000001", "2021-12-31"),
                    nine,
                ),
                payment(&m, "t:ha", "Hà", proxy("083070000001", "2021-12-31"), nine),
            ],
        )
        .await
        .unwrap();
    let flags_of = |r: &PaymentResult| match r {
        PaymentResult::Accepted { flags, .. } => flags.clone(),
        other => panic!("every flagged payment is recorded: {other:?}"),
    };
    let got: Vec<Vec<FlagKind>> = answers.iter().map(flags_of).collect();
    assert_eq!(
        got,
        vec![
            vec![FlagKind::OutsideSchedule],
            vec![FlagKind::DeadBeneficiary],
            vec![FlagKind::HomeFarFromAddress],
            vec![FlagKind::ProxyExpired],
            vec![],
            vec![],
        ]
    );
    // The same proxy's third beneficiary of the month, in a later transaction, on the right day.
    let third = s
        .record_payments(
            &on("agent.tam", "2021-06-06"),
            &[payment(
                &m,
                "t:khanh",
                "Khánh",
                proxy("083070000001", "2021-12-31"),
                "2021-06-06T10:00:00+07:00",
            )],
        )
        .await
        .unwrap();
    assert_eq!(flags_of(&third[0]), vec![FlagKind::ProxyForMany]);
    // The inspector's list: every flag, with its evidence, the beneficiary and the point.
    let page = s
        .flags(&FlagFilter {
            period: Some(p("2021-06")),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    let find = |k: FlagKind| page.items.iter().find(|f| f.kind == k).unwrap();
    let outside = find(FlagKind::OutsideSchedule);
    assert_eq!(outside.payment_id, "t:an");
    assert_eq!(outside.beneficiary_code, m.code("An"));
    assert_eq!(outside.point_id, Some(m.points[0]));
    assert_eq!(outside.point_code.as_deref(), Some("PK-01"));
    assert_eq!(outside.evidence["days"], "2-10");
    assert_eq!(outside.evidence["hours"], "07:30-16:30");
    assert_eq!(outside.evidence["default_schedule"], false);
    assert_eq!(
        find(FlagKind::DeadBeneficiary).evidence["death_date"],
        "2021-06-03"
    );
    let far = &find(FlagKind::HomeFarFromAddress).evidence;
    assert!(
        (2_100..2_300).contains(&far["distance_m"].as_u64().unwrap()),
        "{far}"
    );
    assert_eq!(far["home"]["latitude"], home.0);
    assert_eq!(
        find(FlagKind::ProxyExpired).evidence["expires"],
        "2021-05-31"
    );
    let many = find(FlagKind::ProxyForMany);
    assert_eq!(many.payment_id, "t:khanh");
    assert_eq!(many.evidence["beneficiaries"], 3);
    assert_eq!(many.evidence["proxy_last4"], "0001");
    // No flag keeps a whole citizen ID, nor does any payment's proof.
    for f in &page.items {
        assert!(
            !f.evidence.to_string().contains("083070000001"),
            "{}",
            f.evidence
        );
    }
    assert_eq!(
        h.raw
            .scalar("SELECT COUNT(*) FROM payments WHERE proof LIKE '%0830700000%' OR proof LIKE '%0830360000%'")
            .await,
        0
    );
    // Narrowed by kind, by point, by jurisdiction.
    let by_kind = s
        .flags(&FlagFilter {
            period: Some(p("2021-06")),
            kind: Some(FlagKind::ProxyExpired),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_kind.total, 1);
    assert_eq!(by_kind.items[0].payment_id, "t:em");
    let other_point = s
        .flags(&FlagFilter {
            period: Some(p("2021-06")),
            point_id: Some(m.points[1]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(other_point.total, 0);
    let elsewhere = s
        .flags(&FlagFilter {
            period: Some(p("2021-06")),
            within: Within::Communes(Arc::new(["28786".to_owned()].into_iter().collect())),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(elsewhere.total, 0);
    // The line's trail shows its payment's flag; sending the payment again gives it too.
    let trail = s.line_trail(m.line("An")).await.unwrap();
    let payment = trail.payment.unwrap();
    assert_eq!(payment.flags.len(), 1);
    assert_eq!(payment.flags[0].kind, FlagKind::OutsideSchedule);
    assert_eq!(payment.method, "point");
    assert_eq!(payment.proof["identity"]["kind"], "citizen_id");
    assert_eq!(payment.proof["identity"]["last4"], "0001");
    // Its ledger transfer, found by its line.
    let moved: Vec<(String, i64)> = trail
        .transfers
        .iter()
        .map(|t| (t.id.clone(), t.amount.get()))
        .collect();
    assert_eq!(
        moved,
        vec![(format!("pay:{}", m.line("An")), payment.amount.get())]
    );
    let again = s
        .record_payments(&on("agent.tam", "2021-06-06"), &[payment_again(&m)])
        .await
        .unwrap();
    assert_eq!(
        again[0],
        PaymentResult::AlreadyRecorded {
            id: "t:an".into(),
            line_id: m.line("An"),
            flags: vec![FlagKind::OutsideSchedule]
        }
    );
    let cuc = s.line_trail(m.line("Cúc")).await.unwrap();
    assert!(
        cuc.line.home_delivery,
        "assigned to home delivery before the payroll"
    );
    assert_eq!(cuc.payment.unwrap().method, "home");
    ledger_balances_and_matches(s, "2021-06").await;
}

/// A second pay transfer of a line, written beside the store (as one with access to the database
/// could), is refused where the database keeps a line's transfers unique by line (PostgreSQL's
/// `transfers_line`); where it does not (SQLite finds a line's pay transfer through its payment,
/// migration 0015), the three-way match, which reads every pay transfer of the month, lists it.
async fn a_second_pay_transfer_of_a_line_is_refused_or_listed(h: &Harness) {
    let s = &*h.store;
    let m = paying_month(s, None).await;
    let an = m.line("An");
    let paid = s
        .record_payments(
            &on("agent.tam", "2021-06-05"),
            &[payment(
                &m,
                "t:an",
                "An",
                m.own("An"),
                "2021-06-05T09:00:00+07:00",
            )],
        )
        .await
        .unwrap();
    assert!(
        matches!(paid[0], PaymentResult::Accepted { .. }),
        "{paid:?}"
    );
    ledger_balances_and_matches(s, "2021-06").await;
    let copied = h
        .raw
        .try_exec(&format!(
            "INSERT INTO transfers (id, kind, debit, credit, amount, period, on_date, run_id, line_id, recorded_at) \
             SELECT 'pay:{an}:again', kind, debit, credit, amount, period, on_date, run_id, line_id, recorded_at \
             FROM transfers WHERE kind = 'pay' AND line_id = {an}"
        ))
        .await;
    let rec = s.reconcile(p("2021-06")).await.unwrap();
    match h.raw {
        Raw::Postgres(..) => {
            assert!(
                copied.is_err(),
                "PostgreSQL took a second pay transfer of a line"
            );
            assert!(rec.mismatches.is_empty(), "{:?}", rec.mismatches);
            assert_eq!(rec.pay_transfers, rec.payments);
        }
        Raw::Sqlite(_) => {
            copied.unwrap();
            let listed: Vec<(i64, &str)> = rec
                .mismatches
                .iter()
                .map(|x| (x.line_id, x.problem))
                .collect();
            assert_eq!(listed, vec![(an, "transferred_twice")]);
            assert_eq!(rec.pay_transfers, rec.payments + 1);
        }
    }
    // The line's trail still shows the pay transfer made with its payment.
    let trail = s.line_trail(an).await.unwrap();
    let moved: Vec<String> = trail.transfers.iter().map(|t| t.id.clone()).collect();
    assert_eq!(moved, vec![format!("pay:{an}")]);
}

fn payment_again(m: &PayingMonth) -> NewPayment {
    payment(m, "t:an", "An", m.own("An"), "2021-06-05T18:00:00+07:00")
}

/// Points' schedules: the default until one is set, checked against its month; beneficiaries
/// assigned to a point all or nothing.
async fn schedules_and_assignments(h: &Harness) {
    let s = &*h.store;
    let m = paying_month(s, None).await;
    let july = p("2021-07");
    let defaults = s.schedules(july, None).await.unwrap();
    assert_eq!(defaults.len(), 2);
    assert!(defaults.iter().all(|x| x.default));
    // July 2021: the 4th is a Sunday; the points open Monday to Saturday.
    assert_eq!(defaults[0].days.code(), "2-3,5-10");
    assert_eq!(
        (
            defaults[0].opens.to_string(),
            defaults[0].closes.to_string()
        ),
        ("07:00:00".into(), "17:00:00".into())
    );
    let before = journal_len(s).await;
    let set = |days: &str, opens: (u32, u32), closes: (u32, u32), point: i64| {
        june_schedule(point, days, opens, closes)
    };
    let field = |r: chitra_store::Result<chitra_store::payments::Schedule>| match r {
        Err(StoreError::Invalid(e)) => e.field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(
            s.set_schedule(&change(), &set("25-31", (7, 0), (17, 0), m.points[0]))
                .await
        ),
        "days"
    );
    assert_eq!(
        field(
            s.set_schedule(&change(), &set("2-10", (17, 0), (7, 0), m.points[0]))
                .await
        ),
        "hours"
    );
    assert_eq!(
        field(
            s.set_schedule(&change(), &set("2-10", (7, 0), (17, 0), 999))
                .await
        ),
        "point"
    );
    assert_eq!(journal_len(s).await, before, "refused: nothing changed");
    s.set_schedule(&change(), &set("2-10", (7, 30), (16, 30), m.points[0]))
        .await
        .unwrap();
    s.set_schedule(&change(), &set("3-8", (7, 30), (11, 0), m.points[0]))
        .await
        .unwrap();
    let june = s.schedules(p("2021-06"), Some(m.points[0])).await.unwrap();
    assert_eq!(june.len(), 1);
    assert!(!june[0].default);
    assert_eq!(june[0].days.code(), "3-8");
    assert_eq!(
        june[0].closes,
        chrono::NaiveTime::from_hms_opt(11, 0, 0).unwrap()
    );
    assert_eq!(journal_len(s).await, before + 2);
    assert!(s.schedules(p("2021-06"), Some(999)).await.is_err());

    // Assignments: one unknown code refuses them all.
    let assign = |code: String, home: Option<(f64, f64)>| Assignment {
        beneficiary_code: code,
        home_delivery: Some("Già yếu".into()),
        home,
    };
    let e = s
        .assign_beneficiaries(
            &change(),
            m.points[1],
            &[
                assign(m.code("An"), None),
                assign("83-9999999".into(), None),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref f) if f.field == "[2].beneficiary"),
        "{e}"
    );
    let e = s
        .assign_beneficiaries(
            &change(),
            m.points[1],
            &[assign(m.code("An"), Some((95.0, 106.0)))],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref f) if f.field == "home"),
        "{e}"
    );
    let e = s
        .assign_beneficiaries(&change(), 999, &[assign(m.code("An"), None)])
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref f) if f.field == "point"),
        "{e}"
    );
    let an = s
        .beneficiary(&m.code("An"))
        .await
        .unwrap()
        .unwrap()
        .beneficiary;
    assert_eq!(
        (an.payment_point_id, an.home_delivery),
        (Some(m.points[0]), None)
    );
    let n = s
        .assign_beneficiaries(
            &change(),
            m.points[1],
            &[assign(m.code("An"), Some((10.25, 106.37)))],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let an = s
        .beneficiary(&m.code("An"))
        .await
        .unwrap()
        .unwrap()
        .beneficiary;
    assert_eq!(an.payment_point_id, Some(m.points[1]));
    assert_eq!(an.home_delivery.as_deref(), Some("Già yếu"));
    assert_eq!(journal_len(s).await, before + 3);
    // The next payroll pays An at home, from the new point.
    s.close_payroll(&on("post.manager", "2021-06-21"), m.run)
        .await
        .unwrap();
    let july_run = s
        .generate_payroll(
            &on("officer.an", "2021-06-22"),
            m.office,
            Program::SocialAssistance,
            july,
        )
        .await
        .unwrap();
    let lines = s
        .run_lines(
            july_run.id,
            &LineFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    let an_line = lines
        .iter()
        .find(|l| l.beneficiary_code == m.code("An"))
        .unwrap();
    assert!(an_line.home_delivery);
    assert_eq!(
        an_line.channel,
        chitra_core::payroll::Channel::Point(m.points[1])
    );
}

/// Users with roles and scopes, and their sessions (issue: the payment service). Neither the
/// password hash nor the session token reaches the journal.
async fn users_and_sessions_are_kept_with_their_scopes(h: &Harness) {
    use chitra_core::access::{Role, Scope};
    use chitra_store::access::{NewSession, NewUser, SessionKind};
    let s = &*h.store;
    init(s).await;
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    let officer = NewUser {
        username: "can.bo.829".into(),
        display_name: "Nguyễn Thị Lan".into(),
        password_hash: hash.into(),
        role: Role::LocalOfficer,
        scope: Scope::District("829".into()),
    };
    let before = journal_len(s).await;
    let made = s.add_user(&change(), &officer).await.unwrap();
    assert_eq!(journal_len(s).await, before + 1);
    assert_eq!((made.role, made.active), (Role::LocalOfficer, true));
    assert_eq!(s.users().await.unwrap(), vec![made.clone()]);
    let creds = s.credentials("can.bo.829").await.unwrap().unwrap();
    assert_eq!(
        (creds.user.id, creds.password_hash.as_str()),
        (made.id, hash)
    );
    assert!(s.credentials("nobody").await.unwrap().is_none());

    // Bad input names the field and changes nothing.
    let refused = |u: NewUser, field: &'static str| async move {
        let e = s.add_user(&change(), &u).await.unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref f) if f.field == field),
            "{field}: {e}"
        );
    };
    refused(officer.clone(), "username").await;
    refused(
        NewUser {
            username: "Bad Name".into(),
            ..officer.clone()
        },
        "username",
    )
    .await;
    refused(
        NewUser {
            username: "agent.x".into(),
            role: Role::Agent,
            ..officer.clone()
        },
        "scope",
    )
    .await;
    refused(
        NewUser {
            username: "nowhere".into(),
            scope: Scope::District("999".into()),
            ..officer.clone()
        },
        "scope",
    )
    .await;
    refused(
        NewUser {
            username: "agent.y".into(),
            role: Role::Agent,
            scope: Scope::Point(999),
            ..officer.clone()
        },
        "scope",
    )
    .await;
    refused(
        NewUser {
            username: "plain".into(),
            password_hash: "secret".into(),
            ..officer.clone()
        },
        "password",
    )
    .await;
    assert_eq!(s.users().await.unwrap().len(), 1);
    assert_eq!(journal_len(s).await, before + 1);

    // A session lives until it expires or ends.
    let now = change().at;
    let token_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    s.start_session(
        &change(),
        &NewSession {
            token_hash: token_hash.into(),
            user_id: made.id,
            kind: SessionKind::Bearer,
            label: "máy tính bảng".into(),
            csrf: "csrf-1".into(),
            expires_at: now + chrono::Duration::hours(1),
        },
    )
    .await
    .unwrap();
    let live = s.session(token_hash, now).await.unwrap().unwrap();
    assert_eq!((live.user.id, live.kind), (made.id, SessionKind::Bearer));
    assert_eq!(live.csrf, "csrf-1");
    assert!(
        s.session(token_hash, now + chrono::Duration::hours(2))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(s.session("unknown", now).await.unwrap().is_none());
    s.end_session(&change(), token_hash).await.unwrap();
    assert!(s.session(token_hash, now).await.unwrap().is_none(), "ended");

    // Disabling a user ends their sessions.
    let second = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
    s.start_session(
        &change(),
        &NewSession {
            token_hash: second.into(),
            user_id: made.id,
            kind: SessionKind::Browser,
            label: "trình duyệt".into(),
            csrf: "csrf-2".into(),
            expires_at: now + chrono::Duration::hours(1),
        },
    )
    .await
    .unwrap();
    assert!(s.session(second, now).await.unwrap().is_some());
    let off = s
        .set_user_active(&change(), "can.bo.829", false)
        .await
        .unwrap();
    assert!(!off.active);
    assert!(s.session(second, now).await.unwrap().is_none());
    s.set_user_active(&change(), "can.bo.829", true)
        .await
        .unwrap();
    assert!(
        s.session(second, now).await.unwrap().is_none(),
        "stays ended"
    );
    // One user keeps at most MAX_LIVE_SESSIONS at once: the next ends the oldest.
    let max = chitra_core::access::MAX_LIVE_SESSIONS;
    let token = |i: usize| format!("token-{i:03}");
    for i in 0..=max {
        s.start_session(
            &change(),
            &NewSession {
                token_hash: token(i),
                user_id: made.id,
                kind: SessionKind::Bearer,
                label: format!("máy {i}"),
                csrf: format!("csrf-t{i}"),
                expires_at: now + chrono::Duration::hours(1),
            },
        )
        .await
        .unwrap();
    }
    assert!(
        s.session(&token(0), now).await.unwrap().is_none(),
        "the oldest ended"
    );
    for i in 1..=max {
        assert!(s.session(&token(i), now).await.unwrap().is_some(), "{i}");
    }
    let e = s
        .set_password(&change(), "can.bo.829", "plain")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(ref f) if f.field == "password"));

    let leaked = h
        .raw
        .scalar(&format!(
            "SELECT COUNT(*) FROM journal WHERE payload LIKE '%argon2id%' OR payload LIKE '%{token_hash}%' OR payload LIKE '%{second}%' OR payload LIKE '%csrf-%'"
        ))
        .await;
    assert_eq!(leaked, 0);
    assert!(s.verify_journal().await.unwrap().intact);
}

/// Schedule notices and the public lookup (issue: the payment service).
async fn notices_are_queued_once_and_the_public_sees_its_own(h: &Harness) {
    use chitra_store::outreach::{NoticeFilter, NoticeOutcome, NoticeStatus, PublicCheck};
    let s = &*h.store;
    let m = paying_month(s, None).await;
    let june = p("2021-06");
    let before = journal_len(s).await;
    s.set_phone(&change(), &m.code("An"), Some("0912 345 678"))
        .await
        .unwrap();
    let bad = s
        .set_phone(&change(), &m.code("Bình"), Some("12345"))
        .await
        .unwrap_err();
    assert!(
        matches!(bad, StoreError::Invalid(ref e) if e.field == "phone"),
        "{bad}"
    );
    let missing = s
        .set_phone(&change(), "00-0000000", Some("0912345678"))
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { .. }), "{missing}");
    assert_eq!(journal_len(s).await, before + 1);
    let leaked = h
        .raw
        .scalar("SELECT COUNT(*) FROM journal WHERE payload LIKE '%0912345678%'")
        .await;
    assert_eq!(leaked, 0, "the journal keeps the number masked");

    let lines = s
        .run_lines(
            m.run,
            &LineFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .total;
    let q = s
        .queue_notices(&change(), june, &Within::Anywhere)
        .await
        .unwrap();
    assert_eq!((q.queued, q.without_phone, q.already), (1, lines - 1, 0));
    let again = s
        .queue_notices(&change(), june, &Within::Anywhere)
        .await
        .unwrap();
    assert_eq!(
        (again.queued, again.without_phone, again.already),
        (0, 0, lines)
    );
    assert_eq!(h.raw.count("notices").await, lines);

    let of_point = s
        .notices(&NoticeFilter {
            period: Some(june),
            within: Within::Point(m.points[1]),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(of_point.total, 1, "Dũng alone is paid at Phú Hưng");
    assert_eq!(of_point.items[0].beneficiary_code, m.code("Dũng"));
    let pending = s.pending_notices(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    let n = &pending[0];
    assert_eq!(n.beneficiary_code, m.code("An"));
    assert_eq!(n.phone.as_deref(), Some("0912345678"));
    assert_eq!(n.phone_masked.as_deref(), Some("*******678"));
    assert!(
        n.text_vi.contains(&m.code("An")) && n.text_vi.contains("06/2021"),
        "{}",
        n.text_vi
    );
    assert!(n.text_ascii.is_ascii());

    // A failure waits until the month is queued again; then it is sent.
    let outcome = |sent: bool| NoticeOutcome {
        id: n.id,
        sent,
        detail: "gateway".into(),
    };
    s.mark_notices(&change(), &[outcome(false)]).await.unwrap();
    assert!(s.pending_notices(10).await.unwrap().is_empty());
    let retry = s
        .queue_notices(&change(), june, &Within::Anywhere)
        .await
        .unwrap();
    assert_eq!(retry.queued, 1);
    s.mark_notices(&change(), &[outcome(true)]).await.unwrap();
    let sent = s
        .notices(&NoticeFilter {
            status: Some(NoticeStatus::Sent),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((sent.total, sent.items[0].attempts), (1, 2));

    // The public lookup: the right details show the month, the wrong ones show nothing.
    let an = s
        .beneficiary(&m.code("An"))
        .await
        .unwrap()
        .unwrap()
        .beneficiary;
    let year = chrono::Datelike::year(&an.birth_date);
    let status = s
        .public_status(
            &m.code("An"),
            &PublicCheck::BirthYear(year),
            d("2021-06-15"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code, m.code("An"));
    assert!(!status.name.is_empty());
    let month = &status.months[0];
    assert_eq!(month.period, june);
    assert_eq!(month.status, LineStatus::Due);
    assert!(month.days.is_some() && month.point_name.is_some());
    let last4 = an.citizen_id.last_four().to_owned();
    assert!(
        s.public_status(
            &m.code("An"),
            &PublicCheck::CitizenLast4(last4),
            d("2021-06-15")
        )
        .await
        .unwrap()
        .is_some()
    );
    for wrong in [
        PublicCheck::BirthYear(year + 1),
        PublicCheck::CitizenLast4("0000".into()),
    ] {
        assert!(
            s.public_status(&m.code("An"), &wrong, d("2021-06-15"))
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(
        s.public_status("00-0000000", &PublicCheck::BirthYear(year), d("2021-06-15"))
            .await
            .unwrap()
            .is_none()
    );
}

/// PostgreSQL only: its writers are many connections, and a server reading a month's lines into
/// its payment writer's copy as it starts (seconds for a million lines) must not hold them back.
/// (SQLite has one writer, which the warm-up holds.) Another connection holds the journal head,
/// as any writer does until it commits, and has corrected Bình's citizen ID, not yet committed;
/// the warm-up reads every line all the same, as they were. Once that writer has committed, a
/// payment checks the new number, not the one the warm-up read, and the ledger stays balanced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_warm_up_does_not_wait_for_the_writers() {
    let h = Harness::postgres().await;
    let s = &*h.store;
    let m = paying_month(s, None).await;
    let Raw::Postgres(pool, _) = &h.raw else {
        unreachable!("a PostgreSQL harness")
    };
    let mut writer = pool.begin().await.unwrap();
    sqlx::query("SELECT seq FROM journal_head WHERE id = 1 FOR UPDATE")
        .execute(&mut *writer)
        .await
        .unwrap();
    let old = m.people["Bình"].1.clone();
    let new = format!("{}7777", &old[..old.len() - 4]);
    assert_ne!(old, new);
    sqlx::query("UPDATE beneficiaries SET citizen_id = $1 WHERE code = $2")
        .bind(&new)
        .bind(m.code("Bình"))
        .execute(&mut *writer)
        .await
        .unwrap();
    // A warm-up that waited for the head would wait for ever: the writer commits only after it.
    let kept = tokio::time::timeout(std::time::Duration::from_secs(30), s.warm_up_payments())
        .await
        .expect("the warm-up waited for the journal head")
        .unwrap();
    assert_eq!(kept, NAMES.len());
    writer.commit().await.unwrap();
    let pay = |p: NewPayment| async move {
        s.record_payments(&on("agent.tam", "2021-06-05"), &[p])
            .await
            .unwrap()
            .remove(0)
    };
    let stale = pay(payment(
        &m,
        "warm:binh-old",
        "Bình",
        Identity::citizen_id(&old).unwrap(),
        "2021-06-05T09:00:00+07:00",
    ))
    .await;
    assert!(
        matches!(&stale, PaymentResult::Refused { field, .. } if field == "identity.citizen_id"),
        "the number the warm-up read was taken: {stale:?}"
    );
    let fresh = pay(payment(
        &m,
        "warm:binh",
        "Bình",
        Identity::citizen_id(&new).unwrap(),
        "2021-06-05T09:05:00+07:00",
    ))
    .await;
    assert!(
        matches!(&fresh, PaymentResult::Accepted { .. }),
        "{fresh:?}"
    );
    ledger_balances_and_matches(s, "2021-06").await;
    h.finish().await;
}

/// The payment writer keeps the keys of the payment ids recorded and the lines paid, and looks
/// up only the ids and lines it holds (`known_ids`). A payment recorded by another writer on the
/// same database (another process on SQLite's file, another server on PostgreSQL) must still be
/// found: sent again, by its id, it gets its first result; another payment of its line gets a
/// conflict naming it — not a second payment of the line.
async fn payments_recorded_by_another_writer_are_found_by_their_ids_and_lines(h: &Harness) {
    let s = &*h.store;
    let m = paying_month(s, None).await;
    let nine = "2021-06-05T09:00:00+07:00";
    let an = payment(&m, "tam:an", "An", m.own("An"), nine);
    let first = padded_send(s, an.clone(), "a").await;
    assert!(
        matches!(first[0][0], PaymentResult::Accepted { .. }),
        "{:?}",
        first[0][0]
    );
    assert!(
        first[0][1..]
            .iter()
            .all(|r| matches!(r, PaymentResult::Refused { field, .. } if field == "line_id"))
    );
    // Sent again at once: its key and line were added to the set as it was written.
    let repeat = padded_send(s, an.clone(), "a2").await;
    assert_first_result(&repeat, "tam:an");
    let an_again = payment(&m, "tam:an-2", "An", m.own("An"), nine);
    let twice = padded_send(s, an_again, "a3").await;
    assert_conflict(&twice, "tam:an");

    // Another writer records Bình's and Cúc's payments on the same database.
    let other = h.second_store().await;
    let binh = payment(&m, "tam:binh", "Bình", m.own("Bình"), nine);
    let cuc = payment(&m, "tam:cuc", "Cúc", m.own("Cúc"), nine);
    let theirs = other
        .record_payment_groups(&[group(
            "agent.tam",
            Within::Anywhere,
            vec![binh.clone(), cuc],
        )])
        .await
        .unwrap();
    assert!(
        theirs[0]
            .iter()
            .all(|r| matches!(r, PaymentResult::Accepted { .. })),
        "{theirs:?}"
    );
    drop(other);

    // Cúc's line, paid by the other writer, under another id: a conflict naming its payment
    // (the set of paid lines, read before the other writer wrote, is not trusted).
    let cuc_again = payment(&m, "tam:cuc-2", "Cúc", m.own("Cúc"), nine);
    let conflict = padded_send(s, cuc_again, "d").await;
    assert_conflict(&conflict, "tam:cuc");
    // Sent again to this store: found by its id, as is this store's own.
    let again = padded_send(s, binh, "b").await;
    assert_first_result(&again, "tam:binh");
    let own = padded_send(s, an, "c").await;
    assert_first_result(&own, "tam:an");
    assert_eq!(h.raw.count("payments").await, 3);
    // Em's payment moves money out of the same point's cash as the other writer's did: from the
    // balance that writer left, not from the one this store had after An's.
    let em = padded_send(s, payment(&m, "tam:em", "Em", m.own("Em"), nine), "e").await;
    assert!(
        matches!(em[0][0], PaymentResult::Accepted { .. }),
        "{:?}",
        em[0][0]
    );
    ledger_balances_and_matches(s, "2021-06").await;
}

/// Sends `real` with 1,000 other payments for no line (each refused for its line, tagged `tag`):
/// enough ids for the payment writer to read its whole set of known ids (`known_ids`).
async fn padded_send(s: &dyn Store, real: NewPayment, tag: &str) -> Vec<Vec<PaymentResult>> {
    let mut all = vec![real.clone()];
    for i in 0..1_000 {
        let mut other = real.clone();
        other.id = format!("{tag}:{i}");
        other.line_id = 999_999_000 + i;
        all.push(other);
    }
    s.record_payment_groups(&[group("agent.tam", Within::Anywhere, all)])
        .await
        .unwrap()
}

/// The first payment of the first group was refused: its line was paid by `payment`.
fn assert_conflict(answers: &[Vec<PaymentResult>], payment: &str) {
    assert!(
        matches!(&answers[0][0], PaymentResult::Conflict { paid_by, .. } if paid_by == payment),
        "{:?}",
        answers[0][0]
    );
}

/// A payment was recorded.
fn assert_accepted(answer: &PaymentResult) {
    assert!(
        matches!(answer, PaymentResult::Accepted { .. }),
        "{answer:?}"
    );
}

/// The first payment of the first group was recorded before: its first result is given again.
fn assert_first_result(answers: &[Vec<PaymentResult>], payment: &str) {
    assert!(
        matches!(&answers[0][0], PaymentResult::AlreadyRecorded { id, .. } if id == payment),
        "{:?}",
        answers[0][0]
    );
}

/// On SQLite a payment's id is found by its 64-bit key, and no two payments share one (migration
/// 0016): a new id whose key another payment's id already holds is refused, naming `id`, and the
/// rest of its transaction is recorded. Such ids do not meet by chance, so the other payments are
/// written here straight into the table (for no line). PostgreSQL finds ids by their text: the
/// same payments are recorded.
async fn an_id_whose_key_another_payment_holds_is_refused(h: &Harness) {
    use chitra_core::payment::payment_id_key;
    let s = &*h.store;
    let m = paying_month(s, None).await;
    let nine = "2021-06-05T09:00:00+07:00";
    let sqlite = matches!(h.raw, Raw::Sqlite(_));
    if sqlite {
        for (other, of) in [("tam:khac", "tam:an"), ("tam:khac-2", "tam:cuc")] {
            h.raw
                .exec(&format!(
                    "INSERT INTO payments (id, id_key, line_id, run_id, amount, paid_at, agent, method, proof, recorded_at) \
                     VALUES ('{other}', {}, 999, 1, 270000, 'x', 'agent.tam', 'point', '{{}}', 'x')",
                    payment_id_key(of)
                ))
                .await;
        }
    }
    let an = payment(&m, "tam:an", "An", m.own("An"), nine);
    let binh = payment(&m, "tam:binh", "Bình", m.own("Bình"), nine);
    let answers = s
        .record_payment_groups(&[group("agent.tam", Within::Anywhere, vec![an, binh])])
        .await
        .unwrap();
    if sqlite {
        assert!(
            matches!(&answers[0][0], PaymentResult::Refused { id, field, reason } if id == "tam:an" && field == "id" && reason.contains("another id")),
            "{:?}",
            answers[0][0]
        );
    } else {
        assert_accepted(&answers[0][0]);
    }
    assert_accepted(&answers[0][1]);
    // With enough ids for the writer to read every key recorded (`known_ids`): the same.
    let cuc = padded_send(s, payment(&m, "tam:cuc", "Cúc", m.own("Cúc"), nine), "p").await;
    if sqlite {
        assert!(
            matches!(&cuc[0][0], PaymentResult::Refused { field, .. } if field == "id"),
            "{:?}",
            cuc[0][0]
        );
        // Sent again under another id: recorded.
        for (id, name) in [("tam:an-2", "An"), ("tam:cuc-2", "Cúc")] {
            let again = s
                .record_payment_groups(&[group(
                    "agent.tam",
                    Within::Anywhere,
                    vec![payment(&m, id, name, m.own(name), nine)],
                )])
                .await
                .unwrap();
            assert_accepted(&again[0][0]);
        }
    } else {
        assert_accepted(&cuc[0][0]);
    }
    let recorded = h
        .raw
        .scalar("SELECT COUNT(*) FROM payments WHERE line_id <> 999")
        .await;
    assert_eq!(recorded, 3);
}
