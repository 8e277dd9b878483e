//! The implementation both backends share.
//!
//! sqlx's API is the same for SQLite and PostgreSQL, and the SQL here is written in the dialect both
//! accept (`$1` placeholders, `CAST(… AS BIGINT)`, `ON CONFLICT`), so one body serves both. Each
//! backend module defines `Db`, its store type with a `pool` field and a `begin_write` method that
//! opens a transaction holding the journal head, then invokes `shared_store!(TheStore)`.

macro_rules! shared_store {
    ($Store:ident) => {
        use std::collections::{BTreeMap, HashMap, HashSet};

        use chitra_core::decision::{check_decision, Decision, DecisionKind, NewDecision};
        use chitra_core::ids::{CitizenId, CommuneCode};
        use chitra_core::journal::{Draft, Entry, Head, Mismatch, Verifier};
        use chitra_core::office::{
            Facility, NewPaymentPoint, Office, OfficeKind, PaymentPoint, PointKind,
        };
        use chitra_core::register::{AddressSpell, BankAccount, Beneficiary, NewBeneficiary, Sex};
        use chitra_core::rules::{
            BaseLevel, CategoryRule, Coefficient, Combination, CoefficientRule, FuneralRule,
            PaidTo, Rate, RuleBook, Start,
        };
        use chitra_core::units::{AdminUnit, OfficialUnits, Succession, UnitLevel, UnitTree};

        use chitra_core::{text, Dong, FieldError, Period, Program};
        use std::sync::Arc;
        use sqlx::{QueryBuilder, Row};

        use crate::{
            BeneficiaryFile, BeneficiaryFilter, BeneficiaryRow, Change, DecisionFor, GroupRow,
            Health, Initialised, NewFacility, NewOffice, Page, Result, Store, StoreError, Summary,
            UnitsLoaded, Verification, YearRow,
        };

        type Conn = <Db as sqlx::Database>::Connection;

        /// Bind parameters per statement: under SQLite's limit of 32,766 (PostgreSQL's is 65,535).
        const MAX_PARAMS: usize = 30_000;

        /// One journal entry to append: action, subject, payload.
        struct Note {
            action: &'static str,
            subject: String,
            payload: String,
        }

        fn note(action: &'static str, subject: String, payload: &impl serde::Serialize) -> Result<Note> {
            Ok(Note {
                action,
                subject,
                payload: serde_json::to_string(payload)
                    .map_err(|e| StoreError::corrupt(format!("journal payload: {e}")))?,
            })
        }

        /// ` AND <column> IN (…)` of a jurisdiction's communes; none matches nothing.
        fn push_in_communes(q: &mut QueryBuilder<Db>, column: &str, communes: &[String]) {
            if communes.is_empty() {
                q.push(" AND 1 = 0");
                return;
            }
            q.push(format!(" AND {column} IN ("));
            let mut list = q.separated(", ");
            for c in communes {
                list.push_bind(c.clone());
            }
            q.push(")");
        }

        /// Chains the notes after `head`, inserts them and moves the stored head, inside `tx`.
        async fn append_journal(tx: &mut Tx, head: &mut Head, change: &Change, notes: Vec<Note>) -> Result<()> {
            let entries = chain(head, change, notes);
            insert_entries(&mut hold(tx).await?, &entries).await
        }

        /// Chains the notes after `head` (which moves to the last of them): pure, no database.
        fn chain(head: &mut Head, change: &Change, notes: Vec<Note>) -> Vec<Entry> {
            if notes.is_empty() {
                return Vec::new();
            }
            let at = change.at_text();
            notes
                .into_iter()
                .map(|n| {
                    head.append(Draft {
                        at: at.clone(),
                        actor: change.actor.clone(),
                        action: n.action.to_owned(),
                        subject: n.subject,
                        reason: change.reason.clone(),
                        payload: n.payload,
                    })
                })
                .collect()
        }

        /// Inserts chained entries and moves the stored head to the last of them, inside `tx`.
        async fn insert_entries(tx: &mut Held<'_>, entries: &[Entry]) -> Result<()> {
            let Some(last) = entries.last() else {
                return Ok(());
            };
            insert_rows(
                tx,
                "journal",
                &["seq", "at", "actor", "action", "subject", "reason", "payload", "prev_hash", "hash"],
                entries,
                |e, r| {
                    r.int(e.seq)
                        .text(&e.draft.at)
                        .text(&e.draft.actor)
                        .text(&e.draft.action)
                        .text(&e.draft.subject)
                        .text(&e.draft.reason)
                        .text(&e.draft.payload)
                        .text(&e.prev_hash)
                        .text(&e.hash);
                },
            )
            .await?;
            // The head's one row, written like the entries (no round trip of its own).
            insert_rows_with(tx, "journal_head", &["id", "seq", "hash"], &[last], "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash", |e, r| {
                r.int(1).int(e.seq).text(&e.hash);
            })
            .await
        }

        /// Appends the change's journal entries and commits: the change and its entries land together.
        async fn commit(mut tx: Tx, mut head: Head, change: &Change, notes: Vec<Note>) -> Result<()> {
            // No entry without who and why; returning here rolls the whole change back.
            change.check()?;
            append_journal(&mut tx, &mut head, change, notes).await?;
            tx.commit().await?;
            Ok(())
        }

        fn entry_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Entry> {
            Ok(Entry {
                seq: r.try_get("seq")?,
                draft: Draft {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    reason: r.try_get("reason")?,
                    payload: r.try_get("payload")?,
                },
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
            })
        }

        /// The next free id of a table (writes are serialised on the journal head, so it is ours).
        async fn next_id(conn: &mut Conn, table: &'static str) -> Result<i64> {
            let sql = match table {
                "admin_units" => "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM admin_units",
                "offices" => "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM offices",
                "facilities" => "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM facilities",
                "payment_points" => "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM payment_points",
                "beneficiaries" => "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM beneficiaries",
                "contracts" => "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM contracts",
                "payroll_runs" => "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM payroll_runs",
                "reviews" => "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM reviews",
                "decisions" => "SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM decisions",
                other => return Err(StoreError::corrupt(format!("no id sequence for {other}"))),
            };
            Ok(sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *conn).await?)
        }

        fn period_of(v: i64) -> Result<Period> {
            Period::from_yyyymm(v).map_err(|e| StoreError::corrupt(format!("stored month {v}: {}", e.reason)))
        }

        fn parsed<T>(what: &str, r: std::result::Result<T, FieldError>) -> Result<T> {
            r.map_err(|e| StoreError::corrupt(format!("stored {what}: {e}")))
        }

        /// Prefixes the field of an error about one item of a batch with its position.
        fn in_batch(len: usize, i: usize, e: FieldError) -> StoreError {
            if len == 1 {
                StoreError::Invalid(e)
            } else {
                let field = format!("[{}].{}", i + 1, e.field);
                StoreError::Invalid(e.renamed(field))
            }
        }

        async fn load_tree(conn: &mut Conn) -> Result<UnitTree> {
            let rows = sqlx::query(
                "SELECT code, level, name, parent_code, valid_from, valid_to FROM admin_units ORDER BY id",
            )
            .fetch_all(&mut *conn)
            .await?;
            let mut units = Vec::with_capacity(rows.len());
            for r in rows {
                units.push(AdminUnit {
                    code: r.try_get("code")?,
                    level: parsed("unit level", UnitLevel::parse(&r.try_get::<String, _>("level")?))?,
                    name: r.try_get("name")?,
                    parent_code: r.try_get("parent_code")?,
                    valid_from: r.try_get("valid_from")?,
                    valid_to: r.try_get("valid_to")?,
                });
            }
            let rows = sqlx::query(
                "SELECT from_level, from_code, to_level, to_code, on_date FROM unit_successions",
            )
            .fetch_all(&mut *conn)
            .await?;
            let mut successions = Vec::with_capacity(rows.len());
            for r in rows {
                successions.push(Succession {
                    from_level: parsed("unit level", UnitLevel::parse(&r.try_get::<String, _>("from_level")?))?,
                    from_code: r.try_get("from_code")?,
                    to_level: parsed("unit level", UnitLevel::parse(&r.try_get::<String, _>("to_level")?))?,
                    to_code: r.try_get("to_code")?,
                    on: r.try_get("on_date")?,
                });
            }
            Ok(UnitTree::new(units, &successions))
        }

        /// The register status in `month` of each of `ids`, as the engine reads their decisions:
        /// a page's few are looked up; a filter's candidates (`whole`) read the table through.
        async fn register_statuses(conn: &mut Conn, ids: &[i64], month: Period, whole: bool) -> Result<HashMap<i64, chitra_core::register::RegisterStatus>> {
            let rules = load_rules(conn).await?;
            let engine = Engine::new(&rules);
            let mut decisions: HashMap<i64, Vec<CDecision>> = HashMap::with_capacity(ids.len());
            for id in ids {
                decisions.insert(*id, Vec::new());
            }
            if !whole {
                let sql = format!("{DECISION_FACTS} WHERE beneficiary_id");
                for (b, d) in lookup_ids(conn, &sql, ids, |r| decision_facts(r, &engine)).await? {
                    decisions.entry(b).or_default().push(d);
                }
            } else {
                scan(conn, DECISION_FACTS, &[], |r| {
                    let (b, d) = decision_facts(r, &engine)?;
                    if let Some(v) = decisions.get_mut(&b) {
                        v.push(d);
                    }
                    Ok(())
                })
                .await?;
            }
            Ok(decisions
                .into_iter()
                .map(|(b, mut ds)| {
                    chitra_core::calc::in_order(&mut ds);
                    (b, chitra_core::calc::register_status(&ds, month))
                })
                .collect())
        }

        async fn load_rules(conn: &mut Conn) -> Result<RuleBook> {
            let mut book = RuleBook::default();
            for r in sqlx::query(
                "SELECT code, program, clause, name_vi, name_en, paid_to, per_dependant, starts, from_period, to_period FROM rule_categories ORDER BY code",
            )
            .fetch_all(&mut *conn)
            .await?
            {
                book.categories.push(CategoryRule {
                    code: r.try_get("code")?,
                    program: parsed("program", Program::parse(&r.try_get::<String, _>("program")?))?,
                    clause: r.try_get("clause")?,
                    name_vi: r.try_get("name_vi")?,
                    name_en: r.try_get("name_en")?,
                    paid_to: match r.try_get::<String, _>("paid_to")?.as_str() {
                        "facility" => PaidTo::Facility,
                        _ => PaidTo::Beneficiary,
                    },
                    per_dependant: r.try_get("per_dependant")?,
                    starts: match r.try_get::<String, _>("starts")?.as_str() {
                        "birthday" => Start::Birthday,
                        "certificate" => Start::Certificate,
                        _ => Start::Signing,
                    },
                    from: period_of(r.try_get("from_period")?)?,
                    to: r.try_get::<Option<i64>, _>("to_period")?.map(period_of).transpose()?,
                });
            }
            for r in sqlx::query(
                "SELECT program, from_period, amount, source, announced_on FROM rule_base_levels ORDER BY program, from_period",
            )
            .fetch_all(&mut *conn)
            .await?
            {
                book.base_levels.push(BaseLevel {
                    program: parsed("program", Program::parse(&r.try_get::<String, _>("program")?))?,
                    from: period_of(r.try_get("from_period")?)?,
                    amount: Dong(r.try_get("amount")?),
                    source: r.try_get("source")?,
                    announced_on: r.try_get("announced_on")?,
                });
            }
            for r in sqlx::query(
                "SELECT category, from_period, min_age, max_age, coefficient_milli, fixed_amount, source, announced_on FROM rule_coefficients ORDER BY category, from_period, min_age",
            )
            .fetch_all(&mut *conn)
            .await?
            {
                let age = |v: i64| u32::try_from(v).map_err(|_| StoreError::corrupt(format!("stored age {v}")));
                let rate = match (
                    r.try_get::<Option<i64>, _>("coefficient_milli")?,
                    r.try_get::<Option<i64>, _>("fixed_amount")?,
                ) {
                    (Some(c), None) => Rate::Coefficient(Coefficient::from_thousandths(age(c)?)),
                    (None, Some(f)) => Rate::Fixed(Dong(f)),
                    _ => return Err(StoreError::corrupt("coefficient row with both or neither rate")),
                };
                book.coefficients.push(CoefficientRule {
                    category: r.try_get("category")?,
                    from: period_of(r.try_get("from_period")?)?,
                    min_age: age(r.try_get("min_age")?)?,
                    max_age: r.try_get::<Option<i64>, _>("max_age")?.map(age).transpose()?,
                    rate,
                    source: r.try_get("source")?,
                    announced_on: r.try_get("announced_on")?,
                });
            }
            for r in sqlx::query(
                "SELECT program, from_period, multiple_milli, source, announced_on FROM rule_funeral ORDER BY program, from_period",
            )
            .fetch_all(&mut *conn)
            .await?
            {
                let m: i64 = r.try_get("multiple_milli")?;
                book.funeral.push(FuneralRule {
                    program: parsed("program", Program::parse(&r.try_get::<String, _>("program")?))?,
                    from: period_of(r.try_get("from_period")?)?,
                    multiple: Coefficient::from_thousandths(
                        u32::try_from(m).map_err(|_| StoreError::corrupt(format!("stored multiple {m}")))?,
                    ),
                    source: r.try_get("source")?,
                    announced_on: r.try_get("announced_on")?,
                });
            }
            for r in sqlx::query(
                "SELECT category, with_category, from_period, source FROM rule_combinations ORDER BY category, with_category, from_period",
            )
            .fetch_all(&mut *conn)
            .await?
            {
                book.combinations.push(Combination {
                    category: r.try_get("category")?,
                    with: r.try_get("with_category")?,
                    from: period_of(r.try_get("from_period")?)?,
                    source: r.try_get("source")?,
                });
            }
            Ok(book.sorted())
        }

        fn beneficiary_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Beneficiary> {
            Ok(Beneficiary {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                program: parsed("program", Program::parse(&r.try_get::<String, _>("program")?))?,
                full_name: r.try_get("full_name")?,
                birth_date: r.try_get("birth_date")?,
                sex: parsed("sex", Sex::parse(&r.try_get::<String, _>("sex")?))?,
                citizen_id: parsed("citizen ID", CitizenId::parse(&r.try_get::<String, _>("citizen_id")?))?,
                addresses: Vec::new(),
                payment_point_id: r.try_get("payment_point_id")?,
                home_delivery: r.try_get("home_delivery")?,
                bank_account: match (r.try_get::<Option<String>, _>("bank_name")?, r.try_get::<Option<String>, _>("bank_account")?) {
                    (Some(bank), Some(account)) => Some(BankAccount { bank, account }),
                    _ => None,
                },
            })
        }

        fn address_from_row(r: &<Db as sqlx::Database>::Row) -> Result<(i64, AddressSpell)> {
            Ok((
                r.try_get("beneficiary_id")?,
                AddressSpell {
                    from: period_of(r.try_get("from_period")?)?,
                    commune: parsed("commune", CommuneCode::parse(&r.try_get::<String, _>("commune_code")?))?,
                    hamlet: r.try_get("hamlet")?,
                    street: r.try_get("street")?,
                    facility_id: r.try_get("facility_id")?,
                },
            ))
        }

        fn decision_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Decision> {
            let dependants: i64 = r.try_get("dependants")?;
            Ok(Decision {
                id: r.try_get("id")?,
                beneficiary_id: r.try_get("beneficiary_id")?,
                recorded_on: r.try_get("recorded_on")?,
                terms: NewDecision {
                    kind: parsed("decision kind", DecisionKind::parse(&r.try_get::<String, _>("kind")?))?,
                    number: r.try_get("number")?,
                    category: r.try_get("category")?,
                    replaces: r.try_get("replaces")?,
                    dependants: u32::try_from(dependants)
                        .map_err(|_| StoreError::corrupt(format!("stored dependants {dependants}")))?,
                    effective: period_of(r.try_get("effective")?)?,
                    signed_on: r.try_get("signed_on")?,
                    signer: r.try_get("signer")?,
                    reason: r.try_get("reason")?,
                    death_date: r.try_get("death_date")?,
                },
            })
        }

        /// Which beneficiaries' files to read.
        enum Select {
            Code(String),
            Program(Program),
        }

        /// The files of the beneficiaries selected: each with their addresses and decisions.
        async fn files(conn: &mut Conn, select: Select) -> Result<Vec<BeneficiaryFile>> {
            let (q_b, q_a, q_d, arg) = match select {
                Select::Code(code) => (
                    "SELECT id, code, program, full_name, birth_date, sex, citizen_id, payment_point_id, home_delivery, bank_name, bank_account FROM beneficiaries b WHERE b.code = $1",
                    "SELECT a.beneficiary_id, a.from_period, a.commune_code, a.hamlet, a.street, a.facility_id FROM addresses a JOIN beneficiaries b ON b.id = a.beneficiary_id WHERE b.code = $1 ORDER BY a.beneficiary_id, a.from_period",
                    "SELECT d.id, d.beneficiary_id, d.kind, d.number, d.category, d.replaces, d.dependants, d.effective, d.signed_on, d.signer, d.reason, d.death_date, d.recorded_on FROM decisions d JOIN beneficiaries b ON b.id = d.beneficiary_id WHERE b.code = $1 ORDER BY d.id",
                    code,
                ),
                Select::Program(program) => (
                    "SELECT id, code, program, full_name, birth_date, sex, citizen_id, payment_point_id, home_delivery, bank_name, bank_account FROM beneficiaries b WHERE b.program = $1 ORDER BY b.id",
                    "SELECT a.beneficiary_id, a.from_period, a.commune_code, a.hamlet, a.street, a.facility_id FROM addresses a JOIN beneficiaries b ON b.id = a.beneficiary_id WHERE b.program = $1 ORDER BY a.beneficiary_id, a.from_period",
                    "SELECT d.id, d.beneficiary_id, d.kind, d.number, d.category, d.replaces, d.dependants, d.effective, d.signed_on, d.signer, d.reason, d.death_date, d.recorded_on FROM decisions d JOIN beneficiaries b ON b.id = d.beneficiary_id WHERE b.program = $1 ORDER BY d.id",
                    program.code().to_owned(),
                ),
            };
            let mut out: Vec<BeneficiaryFile> = Vec::new();
            let mut index: HashMap<i64, usize> = HashMap::new();
            for r in sqlx::query(q_b).bind(arg.clone()).fetch_all(&mut *conn).await? {
                let b = beneficiary_from_row(&r)?;
                index.insert(b.id, out.len());
                out.push(BeneficiaryFile { beneficiary: b, decisions: Vec::new() });
            }
            for r in sqlx::query(q_a).bind(arg.clone()).fetch_all(&mut *conn).await? {
                let (id, a) = address_from_row(&r)?;
                if let Some(i) = index.get(&id) {
                    out[*i].beneficiary.addresses.push(a);
                }
            }
            for r in sqlx::query(q_d).bind(arg).fetch_all(&mut *conn).await? {
                let d = decision_from_row(&r)?;
                if let Some(i) = index.get(&d.beneficiary_id) {
                    out[*i].decisions.push(d);
                }
            }
            Ok(out)
        }

        /// Inserts the official units and successions; returns what was loaded and its journal note.
        async fn insert_official_units(tx: &mut Tx, official: &OfficialUnits) -> Result<(UnitsLoaded, Note)> {
                let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admin_units")
                    .fetch_one(&mut **tx)
                    .await?;
                if existing > 0 {
                    return Err(StoreError::invalid("units", format!("{existing} administrative units are already loaded")));
                }
                let units: Vec<(i64, &AdminUnit)> = official.units.iter().enumerate().map(|(i, u)| (i as i64 + 1, u)).collect();
                for chunk in units.chunks(MAX_PARAMS / 7) {
                    let mut q = QueryBuilder::<Db>::new(
                        "INSERT INTO admin_units (id, code, level, name, parent_code, valid_from, valid_to) ",
                    );
                    q.push_values(chunk, |mut b, (id, u)| {
                        b.push_bind(*id)
                            .push_bind(u.code.clone())
                            .push_bind(u.level.code())
                            .push_bind(u.name.clone())
                            .push_bind(u.parent_code.clone())
                            .push_bind(u.valid_from)
                            .push_bind(u.valid_to);
                    });
                    q.build().execute(&mut **tx).await?;
                }
                for chunk in official.successions.chunks(MAX_PARAMS / 5) {
                    let mut q = QueryBuilder::<Db>::new(
                        "INSERT INTO unit_successions (from_level, from_code, to_level, to_code, on_date) ",
                    );
                    q.push_values(chunk, |mut b, s| {
                        b.push_bind(s.from_level.code())
                            .push_bind(s.from_code.clone())
                            .push_bind(s.to_level.code())
                            .push_bind(s.to_code.clone())
                            .push_bind(s.on);
                    });
                    q.build().execute(&mut **tx).await?;
                }
                let loaded = UnitsLoaded {
                    units: official.units.len(),
                    successions: official.successions.len(),
                    quirks: official.quirks.len(),
                };
                let n = note(
                    "units.load",
                    "admin_units".into(),
                    &serde_json::json!({ "loaded": &loaded, "quirks": official.quirk_counts() }),
                )?;
                Ok((loaded, n))
            }


        /// Inserts the rule tables; returns their journal note.
        async fn insert_rules(tx: &mut Tx, rules: &RuleBook) -> Result<Note> {
                rules.validate()?;
                let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rule_categories")
                    .fetch_one(&mut **tx)
                    .await?;
                if existing > 0 {
                    return Err(StoreError::invalid("rules", "the rule tables are already loaded"));
                }
                for c in &rules.categories {
                    sqlx::query(
                        "INSERT INTO rule_categories (code, program, clause, name_vi, name_en, paid_to, per_dependant, starts, from_period, to_period) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(c.code.clone())
                    .bind(c.program.code())
                    .bind(c.clause.clone())
                    .bind(c.name_vi.clone())
                    .bind(c.name_en.clone())
                    .bind(match c.paid_to {
                        PaidTo::Beneficiary => "beneficiary",
                        PaidTo::Facility => "facility",
                    })
                    .bind(c.per_dependant)
                    .bind(match c.starts {
                        Start::Signing => "signing",
                        Start::Birthday => "birthday",
                        Start::Certificate => "certificate",
                    })
                    .bind(c.from.yyyymm())
                    .bind(c.to.map(Period::yyyymm))
                    .execute(&mut **tx)
                    .await?;
                }
                for b in &rules.base_levels {
                    sqlx::query(
                        "INSERT INTO rule_base_levels (program, from_period, amount, source, announced_on) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(b.program.code())
                    .bind(b.from.yyyymm())
                    .bind(b.amount.get())
                    .bind(b.source.clone())
                    .bind(b.announced_on)
                    .execute(&mut **tx)
                    .await?;
                }
                for r in &rules.coefficients {
                    let (coefficient, fixed) = match r.rate {
                        Rate::Coefficient(c) => (Some(i64::from(c.thousandths())), None),
                        Rate::Fixed(d) => (None, Some(d.get())),
                    };
                    sqlx::query(
                        "INSERT INTO rule_coefficients (category, from_period, min_age, max_age, coefficient_milli, fixed_amount, source, announced_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(r.category.clone())
                    .bind(r.from.yyyymm())
                    .bind(i64::from(r.min_age))
                    .bind(r.max_age.map(i64::from))
                    .bind(coefficient)
                    .bind(fixed)
                    .bind(r.source.clone())
                    .bind(r.announced_on)
                    .execute(&mut **tx)
                    .await?;
                }
                for f in &rules.funeral {
                    sqlx::query(
                        "INSERT INTO rule_funeral (program, from_period, multiple_milli, source, announced_on) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(f.program.code())
                    .bind(f.from.yyyymm())
                    .bind(i64::from(f.multiple.thousandths()))
                    .bind(f.source.clone())
                    .bind(f.announced_on)
                    .execute(&mut **tx)
                    .await?;
                }
                for c in &rules.combinations {
                    sqlx::query(
                        "INSERT INTO rule_combinations (category, with_category, from_period, source) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(c.category.clone())
                    .bind(c.with.clone())
                    .bind(c.from.yyyymm())
                    .bind(c.source.clone())
                    .execute(&mut **tx)
                    .await?;
                }
                note("rules.load", "rules".into(), rules)
            }


        /// What registering beneficiaries checks against, read once in the writing transaction,
        /// and the ids the next ones get.
        struct RegisterWith {
            tree: Arc<UnitTree>,
            rules: RuleBook,
            points: HashSet<i64>,
            facilities: HashSet<i64>,
            next_beneficiary: i64,
            next_decision: i64,
            /// Items checked so far (their positions number errors).
            seen: u64,
            added: u64,
        }

        impl RegisterWith {
            async fn read(store: &$Store, tx: &mut Tx) -> Result<RegisterWith> {
                let tree = store.tree(&mut **tx).await?;
                let rules = load_rules(&mut **tx).await?;
                if rules.categories.is_empty() || tree.units().is_empty() {
                    return Err(StoreError::NotInitialised);
                }
                let points: HashSet<i64> = sqlx::query_scalar("SELECT id FROM payment_points").fetch_all(&mut **tx).await?.into_iter().collect();
                let facilities: HashSet<i64> = sqlx::query_scalar("SELECT id FROM facilities").fetch_all(&mut **tx).await?.into_iter().collect();
                Ok(RegisterWith {
                    tree,
                    rules,
                    points,
                    facilities,
                    next_beneficiary: next_id(&mut **tx, "beneficiaries").await?,
                    next_decision: next_id(&mut **tx, "decisions").await?,
                    seen: 0,
                    added: 0,
                })
            }
        }

        /// The journal entry of a registration: the beneficiary and their grant. The journal is read
        /// by inspectors: the citizen ID in it is masked (Decree 13/2023).
        fn added_note(b: &Beneficiary, grant: &Decision) -> Result<Note> {
            let failed = |e: serde_json::Error| StoreError::corrupt(format!("journal payload: {e}"));
            let shown = serde_json::to_string(b)
                .map_err(failed)?
                .replace(&format!("\"{}\"", b.citizen_id.as_str()), &format!("\"{}\"", b.citizen_id.masked()));
            let grant = serde_json::to_string(grant).map_err(failed)?;
            Ok(Note {
                action: "beneficiary.add",
                subject: format!("beneficiary:{}", b.code),
                payload: format!("{{\"beneficiary\":{shown},\"grant\":{grant}}}"),
            })
        }

        /// Which of `ids` are registered, in any program.
        async fn registered_among(conn: &mut Conn, ids: &[CitizenId]) -> Result<Vec<crate::RegisteredCitizen>> {
            let keys: Vec<String> = ids.iter().map(|c| c.as_str().to_owned()).collect();
            let rows = lookup_texts(
                conn,
                "SELECT citizen_id, code, program, full_name, birth_date FROM beneficiaries WHERE citizen_id",
                &keys,
                |r| Ok((r.text(0), r.text(1), r.text(2), r.text(3), r.date(4))),
            )
            .await?;
            rows.into_iter()
                .map(|(id, code, program, full_name, birth)| {
                    Ok(crate::RegisteredCitizen {
                        citizen_id: parsed("citizen ID", CitizenId::parse(&id))?,
                        program: parsed("program", Program::parse(&program))?,
                        birth_date: birth.ok_or_else(|| StoreError::corrupt(format!("beneficiary {code} has no birth date")))?,
                        code,
                        full_name,
                    })
                })
                .collect()
        }

        /// A chunk checked and made ready to write: the beneficiaries, their grants, and the journal
        /// entries, already chained.
        struct PreparedChunk {
            created: Vec<Beneficiary>,
            /// The search key of each name, by position.
            name_keys: Vec<String>,
            decisions: Vec<Decision>,
            entries: Vec<Entry>,
        }

        impl PreparedChunk {
            /// The files of the chunk, as they are (or will be) written.
            fn files(&self) -> Vec<BeneficiaryFile> {
                self.created
                    .iter()
                    .zip(&self.decisions)
                    .map(|(b, d)| BeneficiaryFile { beneficiary: b.clone(), decisions: vec![d.clone()] })
                    .collect()
            }
        }

        /// The citizen IDs among `ids` registered in the database as `tx` sees it: ID → code.
        async fn registered_codes(tx: &mut Tx, ids: &[CitizenId]) -> Result<HashMap<String, String>> {
            Ok(registered_among(&mut **tx, ids)
                .await?
                .into_iter()
                .map(|r| (r.citizen_id.as_str().to_owned(), r.code))
                .collect())
        }

        /// Checks a chunk of new beneficiaries and builds their rows, grants and chained journal
        /// entries: no database (`registered` says which citizen IDs are taken, ID → code), so it
        /// can run beside the writing of the chunk before. Errors name the item: by its place in
        /// `batch` (`offset` none), or in a registration that has already seen `offset` items.
        fn prepare_chunk(
            head: &mut Head,
            change: &Change,
            with: &mut RegisterWith,
            batch: &[NewBeneficiary],
            registered: &HashMap<String, String>,
            offset: Option<u64>,
        ) -> Result<PreparedChunk> {
            let today = change.date();
            let len = batch.len();
            let position = |i: usize, e: FieldError| match offset {
                None => in_batch(len, i, e),
                Some(o) => {
                    let field = format!("[{}].{}", o + i as u64 + 1, e.field);
                    StoreError::Invalid(e.renamed(field))
                }
            };
            let mut in_batch_ids: HashMap<&str, usize> = HashMap::new();
            let (tree, rules) = (&with.tree, &with.rules);
            let mut created = Vec::with_capacity(len);
            let mut decisions = Vec::with_capacity(len);
            let mut notes = Vec::with_capacity(len);
            for (i, nb) in batch.iter().enumerate() {
                let err = |e: FieldError| position(i, e);
                nb.check(today).map_err(err)?;
                let date = nb.address.from.first_day();
                let commune = tree.commune(nb.address.commune.as_str(), date).map_err(err)?;
                let province = tree
                    .ancestor(commune, UnitLevel::Province, date)
                    .ok_or_else(|| StoreError::corrupt(format!("commune {} has no province", commune.code)))?;
                if let Some(code) = registered.get(nb.citizen_id.as_str()) {
                    return Err(err(FieldError::new(
                        "citizen_id",
                        format!("{} is already registered, to beneficiary {code}", nb.citizen_id.masked()),
                    )));
                }
                if let Some(j) = in_batch_ids.insert(nb.citizen_id.as_str(), i) {
                    return Err(err(FieldError::new(
                        "citizen_id",
                        format!("{} is given twice in this batch (also item {})", nb.citizen_id.masked(), j + 1),
                    )));
                }
                if let Some(p) = nb.payment_point_id.filter(|p| !with.points.contains(p)) {
                    return Err(err(FieldError::new("payment_point_id", format!("no payment point #{p}"))));
                }
                if let Some(f) = nb.address.facility_id.filter(|f| !with.facilities.contains(f)) {
                    return Err(err(FieldError::new("facility_id", format!("no facility #{f}"))));
                }
                if nb.grant.kind != DecisionKind::Grant {
                    return Err(err(FieldError::new("kind", "a beneficiary is registered with a grant decision")));
                }
                let id = with.next_beneficiary + i as i64;
                let b = Beneficiary {
                    id,
                    code: format!("{}-{:07}", province.code, id),
                    program: nb.program,
                    full_name: text::clean(&nb.full_name),
                    birth_date: nb.birth_date,
                    sex: nb.sex,
                    citizen_id: nb.citizen_id.clone(),
                    addresses: vec![AddressSpell {
                        hamlet: nb.address.hamlet.as_deref().map(text::clean),
                        street: nb.address.street.as_deref().map(text::clean),
                        ..nb.address.clone()
                    }],
                    payment_point_id: nb.payment_point_id,
                    home_delivery: nb.home_delivery.as_deref().map(text::clean),
                    bank_account: nb.bank_account.clone(),
                };
                check_decision(&b, &[], &nb.grant, rules, today).map_err(err)?;
                let grant = Decision {
                    id: with.next_decision + i as i64,
                    beneficiary_id: id,
                    recorded_on: today,
                    terms: NewDecision {
                        signer: text::clean(&nb.grant.signer),
                        reason: text::clean(&nb.grant.reason),
                        ..nb.grant.clone()
                    },
                };
                notes.push(added_note(&b, &grant)?);
                decisions.push(grant);
                created.push(b);
            }
            let entries = chain(head, change, notes);
            let name_keys = created.iter().map(|b| text::search_key(&b.full_name)).collect();
            with.next_beneficiary += len as i64;
            with.next_decision += len as i64;
            with.seen += len as u64;
            with.added += len as u64;
            Ok(PreparedChunk { created, name_keys, decisions, entries })
        }

        /// Writes a prepared chunk inside `tx`: the beneficiaries, their addresses and grants, the
        /// journal entries and the head.
        async fn write_chunk(tx: &mut Tx, change: &Change, chunk: &PreparedChunk) -> Result<()> {
            let at = change.at_text();
            let created = &chunk.created;
            insert_rows(
                tx,
                "beneficiaries",
                &["id", "code", "program", "full_name", "name_key", "birth_date", "sex", "citizen_id", "payment_point_id", "home_delivery", "bank_name", "bank_account", "created_at"],
                &created.iter().zip(&chunk.name_keys).collect::<Vec<_>>(),
                |(b, key), r| {
                    r.int(b.id)
                        .text(&b.code)
                        .code(b.program.code())
                        .text(&b.full_name)
                        .text(key)
                        .date(b.birth_date)
                        .code(b.sex.code())
                        .text(b.citizen_id.as_str())
                        .opt_int(b.payment_point_id)
                        .opt_text(b.home_delivery.as_deref())
                        .opt_text(b.bank_account.as_ref().map(|a| text::clean(&a.bank)).as_deref())
                        .opt_text(b.bank_account.as_ref().map(|a| a.account.trim()))
                        .text(&at);
                },
            )
            .await?;
            insert_rows(
                tx,
                "addresses",
                &["beneficiary_id", "from_period", "commune_code", "hamlet", "street", "facility_id"],
                created,
                |b, r| {
                    let a = &b.addresses[0];
                    r.int(b.id)
                        .int(a.from.yyyymm())
                        .text(a.commune.as_str())
                        .opt_text(a.hamlet.as_deref())
                        .opt_text(a.street.as_deref())
                        .opt_int(a.facility_id);
                },
            )
            .await?;
            insert_decisions(tx, &chunk.decisions, &at).await?;
            insert_entries(&mut hold(tx).await?, &chunk.entries).await
        }

        /// Checks a chunk of new beneficiaries and writes them, their grants and their journal
        /// entries inside `tx` (see [`prepare_chunk`]).
        async fn register_chunk(
            tx: &mut Tx,
            head: &mut Head,
            change: &Change,
            with: &mut RegisterWith,
            batch: &[NewBeneficiary],
            offset: Option<u64>,
        ) -> Result<Vec<BeneficiaryFile>> {
            let ids: Vec<CitizenId> = batch.iter().map(|b| b.citizen_id.clone()).collect();
            let registered = registered_codes(tx, &ids).await?;
            let chunk = prepare_chunk(head, change, with, batch, &registered, offset)?;
            write_chunk(tx, change, &chunk).await?;
            Ok(chunk.files())
        }

        /// A registration in chunks: one open writing transaction (see [`crate::Registration`]).
        /// Each chunk is prepared ([`prepare_chunk`]) on a blocking thread while the chunk before
        /// it is written: the checks, the rows, the journal payloads and their hashes run beside
        /// SQLite's inserts. The last chunk is written by `commit`.
        struct Registering {
            tx: Tx,
            /// The journal's head after the last chunk prepared (none while one is being prepared).
            head: Option<Head>,
            change: Change,
            with: Option<RegisterWith>,
            /// Prepared, not yet written.
            pending: Option<PreparedChunk>,
            added: u64,
            /// A chunk failed: the transaction may hold part of it, so it can only be rolled back.
            broken: bool,
        }

        impl Registering {
            fn lost() -> StoreError {
                StoreError::invalid("registration", "an earlier chunk failed: nothing can be added; start again")
            }

            /// Writes the pending chunk, if any.
            async fn flush(&mut self) -> Result<()> {
                if let Some(chunk) = self.pending.take() {
                    write_chunk(&mut self.tx, &self.change, &chunk).await?;
                }
                Ok(())
            }

            async fn add_chunk(&mut self, chunk: Vec<NewBeneficiary>) -> Result<Vec<BeneficiaryFile>> {
                // Citizen IDs taken: in the database, or by the chunk prepared and not yet written.
                let ids: Vec<CitizenId> = chunk.iter().map(|b| b.citizen_id.clone()).collect();
                let mut registered = registered_codes(&mut self.tx, &ids).await?;
                if let Some(p) = &self.pending {
                    for b in &p.created {
                        registered.insert(b.citizen_id.as_str().to_owned(), b.code.clone());
                    }
                }
                let (Some(mut head), Some(mut with)) = (self.head.take(), self.with.take()) else {
                    return Err(Registering::lost());
                };
                let change = self.change.clone();
                let offset = with.seen;
                let preparing = tokio::task::spawn_blocking(move || {
                    // The files returned are copies of what will be written, made here too.
                    let prepared = prepare_chunk(&mut head, &change, &mut with, &chunk, &registered, Some(offset)).map(|p| {
                        let files = p.files();
                        (p, files)
                    });
                    (head, with, prepared)
                });
                let written = self.flush().await;
                let (head, with, prepared) = preparing
                    .await
                    .map_err(|e| StoreError::corrupt(format!("preparing a chunk: {e}")))?;
                written?;
                let (prepared, files) = prepared?;
                self.head = Some(head);
                self.with = Some(with);
                self.added += prepared.created.len() as u64;
                self.pending = Some(prepared);
                Ok(files)
            }
        }

        #[async_trait::async_trait]
        impl crate::Registration for Registering {
            async fn add(&mut self, chunk: Vec<NewBeneficiary>) -> Result<Vec<BeneficiaryFile>> {
                if self.broken {
                    return Err(StoreError::invalid("registration", "an earlier chunk was refused: nothing can be added; start again"));
                }
                let done = self.add_chunk(chunk).await;
                if done.is_err() {
                    self.broken = true;
                }
                done
            }

            async fn registered(&mut self, ids: &[CitizenId]) -> Result<Vec<crate::RegisteredCitizen>> {
                let mut found = registered_among(&mut *self.tx, ids).await?;
                if let Some(p) = &self.pending {
                    let asked: HashSet<&str> = ids.iter().map(CitizenId::as_str).collect();
                    found.extend(p.created.iter().filter(|b| asked.contains(b.citizen_id.as_str())).map(|b| crate::RegisteredCitizen {
                        citizen_id: b.citizen_id.clone(),
                        code: b.code.clone(),
                        program: b.program,
                        full_name: b.full_name.clone(),
                        birth_date: b.birth_date,
                    }));
                }
                Ok(found)
            }

            fn added(&self) -> u64 {
                self.added
            }

            async fn commit(mut self: Box<Self>) -> Result<u64> {
                if self.broken {
                    return Err(StoreError::invalid("registration", "an earlier chunk was refused: nothing was registered"));
                }
                self.flush().await?;
                let Registering { tx, head, change, added, .. } = *self;
                let head = head.ok_or_else(Registering::lost)?;
                commit(tx, head, &change, Vec::new()).await?;
                Ok(added)
            }
        }

        impl $Store {
            /// The unit tree, from the cache while no unit was added since it was read (units are
            /// only ever appended, so the largest id is their version).
            async fn tree(&self, conn: &mut Conn) -> Result<Arc<UnitTree>> {
                let version: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM admin_units")
                    .fetch_one(&mut *conn)
                    .await?;
                if let Some((v, tree)) = self.units.lock().ok().and_then(|c| c.clone()) {
                    if v == version {
                        return Ok(tree);
                    }
                }
                let tree = Arc::new(load_tree(conn).await?);
                if let Ok(mut cache) = self.units.lock() {
                    *cache = Some((version, tree.clone()));
                }
                Ok(tree)
            }
        }

        #[async_trait::async_trait]
        impl Store for $Store {
            async fn close(&self) {
                // The store's own `close`: inherent items are found before the trait's.
                <$Store>::close(self).await
            }

            fn backend(&self) -> &'static str {
                BACKEND
            }

            async fn health(&self) -> Result<Health> {
                let mut conn = self.pool.acquire().await?;
                let schema_version: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM _sqlx_migrations WHERE success",
                )
                .fetch_one(&mut *conn)
                .await?;
                let journal_entries: i64 = sqlx::query_scalar("SELECT seq FROM journal_head WHERE id = 1")
                    .fetch_one(&mut *conn)
                    .await?;
                let beneficiaries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM beneficiaries")
                    .fetch_one(&mut *conn)
                    .await?;
                drop(conn);
                Ok(Health {
                    backend: BACKEND,
                    schema_version,
                    initialised: self.setting("initialised").await?.as_deref() == Some("true"),
                    demo: self.setting("demo").await?.as_deref() == Some("true"),
                    journal_entries,
                    beneficiaries,
                })
            }

            async fn setting(&self, key: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key.to_owned())
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn set_setting(&self, change: &Change, key: &str, value: &str) -> Result<()> {
                let (mut tx, head) = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key.to_owned())
                .bind(value.to_owned())
                .execute(&mut *tx)
                .await?;
                let n = note("setting.set", format!("setting:{key}"), &serde_json::json!({ "key": key, "value": value }))?;
                commit(tx, head, change, vec![n]).await?;
                Ok(())
            }

            async fn initialise(&self, change: &Change, official: &OfficialUnits, rules: &RuleBook) -> Result<Initialised> {
                let (mut tx, head) = self.begin_write().await?;
                let done: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'initialised'")
                    .fetch_optional(&mut *tx)
                    .await?;
                if done.as_deref() == Some("true") {
                    return Ok(Initialised { already: true, units: None, rule_categories: 0 });
                }
                let (units, units_note) = insert_official_units(&mut tx, official).await?;
                let rules_note = insert_rules(&mut tx, rules).await?;
                sqlx::query("INSERT INTO settings (key, value) VALUES ('initialised', 'true')")
                    .execute(&mut *tx)
                    .await?;
                commit(tx, head, change, vec![units_note, rules_note]).await?;
                Ok(Initialised { already: false, units: Some(units), rule_categories: rules.categories.len() })
            }

            async fn add_units(&self, change: &Change, units: &[AdminUnit]) -> Result<()> {
                let (mut tx, head) = self.begin_write().await?;
                let tree = self.tree(&mut tx).await?;
                let mut notes = Vec::with_capacity(units.len());
                for (i, u) in units.iter().enumerate() {
                    let name = text::required("name", &u.name, 200).map_err(|e| in_batch(units.len(), i, e))?;
                    if u.level != UnitLevel::Hamlet {
                        return Err(in_batch(units.len(), i, FieldError::new("level", "only hamlets are added by hand; official units come from the code lists")));
                    }
                    let parent = u.parent_code.as_deref().unwrap_or("");
                    let date = u.valid_from.unwrap_or(chitra_core::units::LAST_DAY_OF_DISTRICTS);
                    tree.commune(parent, date).map_err(|e| in_batch(units.len(), i, e.renamed("parent_code")))?;
                    if tree.at(UnitLevel::Hamlet, &u.code, date).is_some() {
                        return Err(in_batch(units.len(), i, FieldError::new("code", format!("hamlet {} already exists", u.code))));
                    }
                    notes.push(note("unit.add", format!("unit:{}", u.code), &AdminUnit { name, ..u.clone() })?);
                }
                let first = next_id(&mut tx, "admin_units").await?;
                let rows: Vec<(i64, &AdminUnit)> = units.iter().enumerate().map(|(i, u)| (first + i as i64, u)).collect();
                for chunk in rows.chunks(MAX_PARAMS / 7) {
                    let mut q = QueryBuilder::<Db>::new(
                        "INSERT INTO admin_units (id, code, level, name, parent_code, valid_from, valid_to) ",
                    );
                    q.push_values(chunk, |mut b, (id, u)| {
                        b.push_bind(*id)
                            .push_bind(u.code.clone())
                            .push_bind(u.level.code())
                            .push_bind(text::clean(&u.name))
                            .push_bind(u.parent_code.clone())
                            .push_bind(u.valid_from)
                            .push_bind(u.valid_to);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                commit(tx, head, change, notes).await?;
                Ok(())
            }

            async fn unit_tree(&self) -> Result<Arc<UnitTree>> {
                let mut conn = self.pool.acquire().await?;
                self.tree(&mut conn).await
            }

            async fn rule_book(&self) -> Result<RuleBook> {
                let mut conn = self.pool.acquire().await?;
                load_rules(&mut conn).await
            }

            async fn add_office(&self, change: &Change, office: &NewOffice) -> Result<Office> {
                let name = text::required("name", &office.name, 200)?;
                let (mut tx, head) = self.begin_write().await?;
                let tree = self.tree(&mut tx).await?;
                let level = match office.kind {
                    OfficeKind::Department => UnitLevel::Province,
                    OfficeKind::DistrictOffice => UnitLevel::District,
                    OfficeKind::CommuneCommittee => UnitLevel::Commune,
                };
                let date = office.valid_from.or(office.valid_to).unwrap_or(chitra_core::units::LAST_DAY_OF_DISTRICTS);
                if tree.at(level, &office.unit_code, date).is_none() {
                    return Err(StoreError::invalid(
                        "unit_code",
                        format!("{} is not a {} in force on {date}", office.unit_code, level),
                    ));
                }
                let id = next_id(&mut tx, "offices").await?;
                sqlx::query(
                    "INSERT INTO offices (id, kind, name, unit_code, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(office.kind.code())
                .bind(name.clone())
                .bind(office.unit_code.clone())
                .bind(office.valid_from)
                .bind(office.valid_to)
                .execute(&mut *tx)
                .await?;
                let created = Office {
                    id,
                    kind: office.kind,
                    name,
                    unit_code: office.unit_code.clone(),
                    valid_from: office.valid_from,
                    valid_to: office.valid_to,
                };
                let n = note("office.add", format!("office:{id}"), &created)?;
                commit(tx, head, change, vec![n]).await?;
                Ok(created)
            }

            async fn offices(&self) -> Result<Vec<Office>> {
                let rows = sqlx::query("SELECT id, kind, name, unit_code, valid_from, valid_to FROM offices ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Office {
                            id: r.try_get("id")?,
                            kind: parsed("office kind", OfficeKind::parse(&r.try_get::<String, _>("kind")?))?,
                            name: r.try_get("name")?,
                            unit_code: r.try_get("unit_code")?,
                            valid_from: r.try_get("valid_from")?,
                            valid_to: r.try_get("valid_to")?,
                        })
                    })
                    .collect()
            }

            async fn add_facility(&self, change: &Change, facility: &NewFacility) -> Result<Facility> {
                let name = text::required("name", &facility.name, 200)?;
                let code = text::required("code", &facility.code, 40)?;
                let (mut tx, head) = self.begin_write().await?;
                let tree = self.tree(&mut tx).await?;
                if !tree.units().iter().any(|u| u.level == UnitLevel::Commune && u.code == facility.commune.as_str()) {
                    return Err(StoreError::invalid("commune", format!("'{}' is not an official commune code", facility.commune)));
                }
                let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM facilities WHERE code = $1")
                    .bind(code.clone())
                    .fetch_one(&mut *tx)
                    .await?;
                if taken > 0 {
                    return Err(StoreError::invalid("code", format!("facility {code} already exists")));
                }
                let id = next_id(&mut tx, "facilities").await?;
                sqlx::query("INSERT INTO facilities (id, code, name, commune_code) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(code.clone())
                    .bind(name.clone())
                    .bind(facility.commune.as_str().to_owned())
                    .execute(&mut *tx)
                    .await?;
                let created = Facility { id, code, name, commune: facility.commune.clone() };
                let n = note("facility.add", format!("facility:{id}"), &created)?;
                commit(tx, head, change, vec![n]).await?;
                Ok(created)
            }

            async fn facilities(&self) -> Result<Vec<Facility>> {
                let rows = sqlx::query("SELECT id, code, name, commune_code FROM facilities ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Facility {
                            id: r.try_get("id")?,
                            code: r.try_get("code")?,
                            name: r.try_get("name")?,
                            commune: parsed("commune", CommuneCode::parse(&r.try_get::<String, _>("commune_code")?))?,
                        })
                    })
                    .collect()
            }

            async fn add_payment_points(&self, change: &Change, points: &[NewPaymentPoint]) -> Result<Vec<PaymentPoint>> {
                let (mut tx, head) = self.begin_write().await?;
                let tree = self.tree(&mut tx).await?;
                let communes: HashSet<&str> = tree
                    .units()
                    .iter()
                    .filter(|u| u.level == UnitLevel::Commune)
                    .map(|u| u.code.as_str())
                    .collect();
                let existing: HashSet<String> = sqlx::query_scalar("SELECT code FROM payment_points")
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .collect();
                let mut seen = HashSet::new();
                for (i, p) in points.iter().enumerate() {
                    p.check().map_err(|e| in_batch(points.len(), i, e))?;
                    if !communes.contains(p.commune.as_str()) {
                        return Err(in_batch(points.len(), i, FieldError::new("commune", format!("'{}' is not an official commune code", p.commune))));
                    }
                    if existing.contains(&p.code) || !seen.insert(p.code.as_str()) {
                        return Err(in_batch(points.len(), i, FieldError::new("code", format!("payment point {} already exists", p.code))));
                    }
                }
                let first = next_id(&mut tx, "payment_points").await?;
                let created: Vec<PaymentPoint> = points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| PaymentPoint {
                        id: first + i as i64,
                        code: p.code.clone(),
                        name: text::clean(&p.name),
                        kind: p.kind,
                        commune: p.commune.clone(),
                        address: text::clean(&p.address),
                        latitude: p.latitude,
                        longitude: p.longitude,
                        pay_days: p.pay_days,
                        opening_days: p.opening_days,
                    })
                    .collect();
                for chunk in created.chunks(MAX_PARAMS / 11) {
                    let mut q = QueryBuilder::<Db>::new(
                        "INSERT INTO payment_points (id, code, name, kind, commune_code, address, latitude, longitude, pay_day_first, pay_day_last, opening_days) ",
                    );
                    q.push_values(chunk, |mut b, p| {
                        b.push_bind(p.id)
                            .push_bind(p.code.clone())
                            .push_bind(p.name.clone())
                            .push_bind(p.kind.code())
                            .push_bind(p.commune.as_str().to_owned())
                            .push_bind(p.address.clone())
                            .push_bind(p.latitude)
                            .push_bind(p.longitude)
                            .push_bind(i64::from(p.pay_days.0))
                            .push_bind(i64::from(p.pay_days.1))
                            .push_bind(p.opening_days.code());
                    });
                    q.build().execute(&mut *tx).await?;
                }
                let notes = created
                    .iter()
                    .map(|p| note("payment_point.add", format!("payment_point:{}", p.code), p))
                    .collect::<Result<Vec<_>>>()?;
                commit(tx, head, change, notes).await?;
                Ok(created)
            }

            async fn payment_points(&self) -> Result<Vec<PaymentPoint>> {
                let rows = sqlx::query(
                    "SELECT id, code, name, kind, commune_code, address, latitude, longitude, pay_day_first, pay_day_last, opening_days FROM payment_points ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let day = |c: &str| -> Result<u8> {
                            let v: i64 = r.try_get(c)?;
                            u8::try_from(v).map_err(|_| StoreError::corrupt(format!("stored pay day {v}")))
                        };
                        Ok(PaymentPoint {
                            id: r.try_get("id")?,
                            code: r.try_get("code")?,
                            name: r.try_get("name")?,
                            kind: parsed("point kind", PointKind::parse(&r.try_get::<String, _>("kind")?))?,
                            commune: parsed("commune", CommuneCode::parse(&r.try_get::<String, _>("commune_code")?))?,
                            address: r.try_get("address")?,
                            latitude: r.try_get("latitude")?,
                            longitude: r.try_get("longitude")?,
                            pay_days: (day("pay_day_first")?, day("pay_day_last")?),
                            opening_days: parsed("opening days", chitra_core::schedule::Weekdays::parse(&r.try_get::<String, _>("opening_days")?))?,
                        })
                    })
                    .collect()
            }

            async fn add_beneficiaries(&self, change: &Change, batch: &[NewBeneficiary]) -> Result<Vec<BeneficiaryFile>> {
                change.check()?;
                let (mut tx, mut head) = self.begin_write().await?;
                let mut with = RegisterWith::read(self, &mut tx).await?;
                let created = register_chunk(&mut tx, &mut head, change, &mut with, batch, None).await?;
                commit(tx, head, change, Vec::new()).await?;
                Ok(created)
            }

            async fn begin_registration(&self, change: &Change) -> Result<Box<dyn crate::Registration>> {
                change.check()?;
                let (mut tx, head) = self.begin_write().await?;
                let with = RegisterWith::read(self, &mut tx).await?;
                Ok(Box::new(Registering { tx, head: Some(head), change: change.clone(), with: Some(with), pending: None, added: 0, broken: false }))
            }

            async fn registered_citizens(&self, ids: &[CitizenId]) -> Result<Vec<crate::RegisteredCitizen>> {
                let mut conn = self.pool.acquire().await?;
                registered_among(&mut conn, ids).await
            }

            async fn beneficiary(&self, code: &str) -> Result<Option<BeneficiaryFile>> {
                let mut conn = self.pool.acquire().await?;
                Ok(files(&mut conn, Select::Code(code.trim().to_owned())).await?.into_iter().next())
            }

            async fn beneficiaries(&self, filter: &BeneficiaryFilter) -> Result<Page<BeneficiaryRow>> {
                fn conditions(q: &mut QueryBuilder<Db>, f: &BeneficiaryFilter) {
                    q.push(" WHERE 1 = 1");
                    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                        let key = text::search_key(s).replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                        q.push(" AND (b.name_key LIKE ").push_bind(format!("%{key}%")).push(" ESCAPE '\\'");
                        q.push(" OR b.code = ").push_bind(s.to_owned());
                        q.push(" OR b.citizen_id = ").push_bind(s.to_owned()).push(")");
                    }
                    if let Some(c) = &f.commune {
                        q.push(" AND a.commune_code = ").push_bind(c.clone());
                    }
                    if let Some(cs) = &f.communes {
                        push_in_communes(q, "a.commune_code", cs);
                    }
                    if let Some(p) = f.payment_point_id {
                        q.push(" AND b.payment_point_id = ").push_bind(p);
                    }
                    if let Some(c) = &f.category {
                        q.push(" AND EXISTS (SELECT 1 FROM decisions d WHERE d.beneficiary_id = b.id AND d.category = ")
                            .push_bind(c.clone())
                            .push(")");
                    }
                }
                const FROM: &str = " FROM beneficiaries b JOIN addresses a ON a.beneficiary_id = b.id AND a.from_period = (SELECT MAX(from_period) FROM addresses x WHERE x.beneficiary_id = b.id)";
                const COLUMNS: &str = "SELECT b.id, b.code, b.full_name, b.birth_date, b.sex, b.citizen_id, a.commune_code, b.payment_point_id";
                let limit = if filter.limit <= 0 { 50 } else { filter.limit.min(1000) };
                let offset = filter.offset.max(0);
                let mut conn = self.pool.acquire().await?;
                let (total, rows) = match (filter.status, filter.as_of) {
                    (Some(_), None) => return Err(StoreError::invalid("as_of", "a status filter needs the month the status is read in")),
                    (Some(status), Some(month)) => {
                        // The status comes from the decisions, read through the engine's rules:
                        // the candidates are listed, their statuses computed, and the page cut.
                        let mut q = QueryBuilder::<Db>::new("SELECT b.id");
                        q.push(FROM);
                        conditions(&mut q, filter);
                        q.push(" ORDER BY b.id");
                        let ids: Vec<i64> = q.build_query_scalar().fetch_all(&mut *conn).await?;
                        let statuses = register_statuses(&mut conn, &ids, month, true).await?;
                        let matched: Vec<i64> = ids.into_iter().filter(|id| statuses.get(id) == Some(&status)).collect();
                        let page: Vec<i64> = matched.iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).take(usize::try_from(limit).unwrap_or(0)).copied().collect();
                        let rows = if page.is_empty() {
                            Vec::new()
                        } else {
                            let mut q = QueryBuilder::<Db>::new(COLUMNS);
                            q.push(FROM).push(" WHERE b.id IN (");
                            let mut list = q.separated(", ");
                            for id in &page {
                                list.push_bind(*id);
                            }
                            q.push(") ORDER BY b.id");
                            q.build().fetch_all(&mut *conn).await?
                        };
                        (i64::try_from(matched.len()).unwrap_or(i64::MAX), rows)
                    }
                    (None, _) => {
                        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*)");
                        count.push(FROM);
                        conditions(&mut count, filter);
                        let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
                        let mut q = QueryBuilder::<Db>::new(COLUMNS);
                        q.push(FROM);
                        conditions(&mut q, filter);
                        q.push(" ORDER BY b.id LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
                        (total, q.build().fetch_all(&mut *conn).await?)
                    }
                };
                let mut items = rows
                    .iter()
                    .map(|r| {
                        let id: String = r.try_get("citizen_id")?;
                        Ok(BeneficiaryRow {
                            id: r.try_get("id")?,
                            code: r.try_get("code")?,
                            full_name: r.try_get("full_name")?,
                            birth_date: r.try_get("birth_date")?,
                            sex: r.try_get("sex")?,
                            citizen_id_masked: parsed("citizen ID", CitizenId::parse(&id))?.masked(),
                            commune_code: r.try_get("commune_code")?,
                            payment_point_id: r.try_get("payment_point_id")?,
                            status: None,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                if let Some(month) = filter.as_of {
                    let ids: Vec<i64> = items.iter().map(|r| r.id).collect();
                    let statuses = register_statuses(&mut conn, &ids, month, false).await?;
                    for r in &mut items {
                        r.status = statuses.get(&r.id).copied();
                    }
                }
                Ok(Page { total, offset, items })
            }

            async fn register(&self, program: Program) -> Result<Vec<BeneficiaryFile>> {
                let mut conn = self.pool.acquire().await?;
                files(&mut conn, Select::Program(program)).await
            }

            async fn add_decisions(&self, change: &Change, batch: &[DecisionFor]) -> Result<Vec<Decision>> {
                change.check()?;
                let today = change.date();
                let (mut tx, head) = self.begin_write().await?;
                let rules = load_rules(&mut tx).await?;
                let first = next_id(&mut tx, "decisions").await?;
                let len = batch.len();
                let mut known: HashMap<String, BeneficiaryFile> = HashMap::new();
                let mut created = Vec::with_capacity(len);
                let mut notes = Vec::with_capacity(len);
                for (i, item) in batch.iter().enumerate() {
                    let err = |e: FieldError| in_batch(len, i, e);
                    let code = item.beneficiary_code.trim();
                    if !known.contains_key(code) {
                        match files(&mut tx, Select::Code(code.to_owned())).await?.into_iter().next() {
                            Some(f) => {
                                known.insert(code.to_owned(), f);
                            }
                            None => {
                                return Err(err(FieldError::new(
                                    "beneficiary",
                                    format!("no beneficiary has the code '{code}'"),
                                )))
                            }
                        }
                    }
                    let file = known
                        .get_mut(code)
                        .ok_or_else(|| StoreError::corrupt("beneficiary file vanished"))?;
                    check_decision(&file.beneficiary, &file.decisions, &item.decision, &rules, today).map_err(err)?;
                    let d = Decision {
                        id: first + i as i64,
                        beneficiary_id: file.beneficiary.id,
                        recorded_on: today,
                        terms: NewDecision {
                            signer: text::clean(&item.decision.signer),
                            reason: text::clean(&item.decision.reason),
                            number: item.decision.number.as_deref().map(text::clean),
                            ..item.decision.clone()
                        },
                    };
                    notes.push(note("decision.add", format!("beneficiary:{code}"), &d)?);
                    file.decisions.push(d.clone());
                    created.push(d);
                }
                insert_decisions(&mut tx, &created, &change.at_text()).await?;
                commit(tx, head, change, notes).await?;
                Ok(created)
            }

            async fn summary(&self, from: Period, to: Period) -> Result<Summary> {
                if to < from {
                    return Err(StoreError::invalid("to", format!("{to} is before {from}")));
                }
                let mut conn = self.pool.acquire().await?;
                let (a, b) = (from.yyyymm(), to.yyyymm());
                // One pass over the lines: each beneficiary's year in each group, then the groups.
                // Beneficiary-turns are distinct beneficiaries per year, summed over the years.
                // Line ids begin with their month: the span is a range of ids.
                let (a, b) = (a * 10_000_000_000, (b + 1) * 10_000_000_000);
                let rows = sqlx::query(
                    "WITH y AS MATERIALIZED (
                        SELECT l.id / 1000000000000 AS yr, l.beneficiary_id AS b, o.unit_code AS area,
                               COALESCE(l.category, '') AS cat,
                               CASE WHEN l.channel = 'facility' THEN 'facility' ELSE 'community' END AS res,
                               SUM(l.total) AS paid
                        FROM payroll_lines l
                        JOIN payroll_runs r ON r.id = l.run_id
                        JOIN offices o ON o.id = r.office_id
                        WHERE l.status = 'paid' AND l.id >= $1 AND l.id < $2
                        GROUP BY l.id / 1000000000000, l.beneficiary_id, o.unit_code, COALESCE(l.category, ''),
                                 CASE WHEN l.channel = 'facility' THEN 'facility' ELSE 'community' END)
                    SELECT 'year' AS dim, CAST(yr AS TEXT) AS g, COUNT(DISTINCT b) AS n, CAST(SUM(paid) AS BIGINT) AS paid FROM y GROUP BY yr
                    UNION ALL SELECT 'area', area, COUNT(DISTINCT b), CAST(SUM(paid) AS BIGINT) FROM y GROUP BY area, yr
                    UNION ALL SELECT 'category', cat, COUNT(DISTINCT b), CAST(SUM(paid) AS BIGINT) FROM y GROUP BY cat, yr
                    UNION ALL SELECT 'residence', res, COUNT(DISTINCT b), CAST(SUM(paid) AS BIGINT) FROM y GROUP BY res, yr",
                )
                .bind(a)
                .bind(b)
                .fetch_all(&mut *conn)
                .await?;
                let mut groups: BTreeMap<String, BTreeMap<String, (i64, i64)>> = BTreeMap::new();
                for r in rows {
                    let e = groups
                        .entry(r.try_get("dim")?)
                        .or_default()
                        .entry(r.try_get("g")?)
                        .or_insert((0, 0));
                    e.0 += r.try_get::<i64, _>("n")?;
                    e.1 += r.try_get::<i64, _>("paid")?;
                }
                let mut take = |dim: &str| groups.remove(dim).unwrap_or_default();
                let (years, areas, categories, residences) = (take("year"), take("area"), take("category"), take("residence"));
                let counts = sqlx::query(
                    "SELECT COUNT(*) AS lines, COUNT(DISTINCT point_id) AS points FROM payroll_lines WHERE status = 'paid' AND id >= $1 AND id < $2",
                )
                .bind(a)
                .bind(b)
                .fetch_one(&mut *conn)
                .await?;
                let (lines_paid, points): (i64, i64) = (counts.try_get("lines")?, counts.try_get("points")?);
                let registered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payment_points").fetch_one(&mut *conn).await?;
                let tree = self.tree(&mut conn).await?;
                let rules = load_rules(&mut conn).await?;
                drop(conn);
                let area_name = |code: &str| {
                    tree.units()
                        .iter()
                        .find(|u| u.code == code && u.level != UnitLevel::Hamlet && (code.len() != 3 || u.level == UnitLevel::District))
                        .map(|u| u.name.clone())
                        .unwrap_or_default()
                };
                let rows = |m: BTreeMap<String, (i64, i64)>, name: &dyn Fn(&str) -> String| -> Vec<GroupRow> {
                    m.into_iter()
                        .map(|(k, (n, paid))| GroupRow { name: name(&k), key: k, beneficiary_turns: n, paid_vnd: paid })
                        .collect()
                };
                let by_year: Vec<YearRow> = years
                    .iter()
                    .map(|(y, (n, paid))| YearRow { year: y.parse().unwrap_or(0), beneficiaries: *n, paid_vnd: *paid })
                    .collect();
                Ok(Summary {
                    from,
                    to,
                    demo: self.setting("demo").await?.as_deref() == Some("true"),
                    beneficiary_turns: by_year.iter().map(|y| y.beneficiaries).sum(),
                    total_paid_vnd: by_year.iter().map(|y| y.paid_vnd).sum(),
                    payment_points: points,
                    payment_points_registered: registered,
                    lines_paid,
                    by_year,
                    by_area: rows(areas, &area_name),
                    by_category: rows(categories, &|c| rules.category(c).map(|r| r.name_vi.clone()).unwrap_or_default()),
                    by_residence: rows(residences, &|r| if r == "facility" { "Tại cơ sở trợ giúp xã hội".into() } else { "Tại cộng đồng".into() }),
                })
            }

            async fn verify_journal(&self) -> Result<Verification> {
                let mut conn = self.pool.acquire().await?;
                // The head first: entries appended while we read are after it, and not checked.
                let row = sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1").fetch_one(&mut *conn).await?;
                let (head_seq, head_hash): (i64, String) = (row.try_get("seq")?, row.try_get("hash")?);
                let mut v = Verifier::default();
                let mut after = 0i64;
                let mut mismatch: Option<Mismatch> = None;
                'pages: loop {
                    let rows = sqlx::query(
                        "SELECT seq, at, actor, action, subject, reason, payload, prev_hash, hash FROM journal WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 5000",
                    )
                    .bind(after)
                    .bind(head_seq)
                    .fetch_all(&mut *conn)
                    .await?;
                    if rows.is_empty() {
                        break;
                    }
                    for r in &rows {
                        let e = entry_from_row(r)?;
                        after = e.seq;
                        if let Err(m) = v.check(&e) {
                            mismatch = Some(m);
                            break 'pages;
                        }
                    }
                }
                if mismatch.is_none() {
                    let (seq, hash) = (head_seq, head_hash);
                    if seq != v.head().seq || hash != v.head().hash {
                        mismatch = Some(Mismatch {
                            seq: v.head().seq + 1,
                            reason: format!(
                                "the journal ends at entry {} but its head records entry {seq}: entries were removed from the end",
                                v.head().seq
                            ),
                        });
                    }
                }
                Ok(Verification {
                    entries_checked: v.checked(),
                    intact: mismatch.is_none(),
                    first_mismatch: mismatch,
                    head_hash: v.head().hash.clone(),
                })
            }

            async fn journal_tail(&self, limit: i64) -> Result<Vec<Entry>> {
                let rows = sqlx::query(
                    "SELECT seq, at, actor, action, subject, reason, payload, prev_hash, hash FROM journal ORDER BY seq DESC LIMIT $1",
                )
                .bind(limit.clamp(1, 10_000))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(entry_from_row).collect()
            }
        }

        async fn insert_decisions(tx: &mut Tx, decisions: &[Decision], at: &str) -> Result<()> {
            insert_rows(
                tx,
                "decisions",
                &["id", "beneficiary_id", "kind", "number", "category", "replaces", "dependants", "effective", "signed_on", "signer", "reason", "death_date", "recorded_on", "created_at"],
                decisions,
                |d, r| {
                    let t = &d.terms;
                    r.int(d.id)
                        .int(d.beneficiary_id)
                        .code(t.kind.code())
                        .opt_text(t.number.as_deref())
                        .opt_text(t.category.as_deref())
                        .opt_text(t.replaces.as_deref())
                        .int(i64::from(t.dependants))
                        .int(t.effective.yyyymm())
                        .date(t.signed_on)
                        .text(&t.signer)
                        .text(&t.reason)
                        .opt_date(t.death_date)
                        .date(d.recorded_on)
                        .text(at);
                },
            )
            .await?;
            Ok(())
        }
    };
}
