//! The monthly cycle, one body for both backends (see `shared.rs`). Expanded after
//! `shared_store!` in the same module, whose helpers it uses.

macro_rules! shared_cycle {
    ($Store:ident) => {
        use chitra_core::calc::{CDecision, CSpell, DecisionFacts, Engine};
        use crate::{Arg, Grouped};
        use chitra_core::contract::{Contract, FeeRule, NewContract};
        use chitra_core::cycle::{self as cyc, Flow, LineFact, PaymentFact, RunRef, TransferFact};
        use chitra_core::ledger::{Account, Balance, Ledger, LedgerError, Transfer, TransferKind};
        use chitra_core::payroll::{
            self as pay, Channel, Generation, Line, LineStatus, Previous, Register, RunAction, RunState,
        };
        use crate::cycle::{
            Closed, Cycle, DayFlow, DiffRow, DueLine, LineFilter, LineRow, LineTrail, NewPayment, PaymentRecord,
            PaymentResult, Reconciliation, Review, Run, SettlementReport, StatusCount,
        };

        const RUN_COLUMNS: &str = "id, office_id, program, period, contract_id, state, known_since, known_until, lines, total, to_advance, fee, generated_by, approved_by";

        fn ledger_error(e: LedgerError) -> StoreError {
            match e {
                LedgerError::Invalid(f) => StoreError::Invalid(f),
                LedgerError::Insufficient { .. } => StoreError::invalid("amount", e.to_string()),
                LedgerError::Conflict { .. } => StoreError::invalid("id", e.to_string()),
            }
        }

        fn contract_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Contract> {
            let value: i64 = r.try_get("fee_value")?;
            let fee = match r.try_get::<String, _>("fee_kind")?.as_str() {
                "percent" => FeeRule::Percent { basis_points: u32::try_from(value).map_err(StoreError::corrupt)? },
                _ => FeeRule::PerBeneficiary { amount: Dong(value) },
            };
            let day = |c: &str| -> Result<u8> {
                let v: i64 = r.try_get(c)?;
                u8::try_from(v).map_err(|_| StoreError::corrupt(format!("stored day {v}")))
            };
            Ok(Contract {
                id: r.try_get("id")?,
                terms: NewContract {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    office_id: r.try_get("office_id")?,
                    post_office: r.try_get("post_office")?,
                    area_code: r.try_get("area_code")?,
                    program: parsed("program", Program::parse(&r.try_get::<String, _>("program")?))?,
                    fee,
                    advance_by_day: day("advance_by_day")?,
                    pay_from_day: day("pay_from_day")?,
                    pay_to_day: day("pay_to_day")?,
                    report_by_day: day("report_by_day")?,
                    valid_from: period_of(r.try_get("valid_from")?)?,
                    valid_to: r.try_get::<Option<i64>, _>("valid_to")?.map(period_of).transpose()?,
                },
            })
        }

        /// A run without its counts by status (which need a pass over its lines).
        async fn run_head(conn: &mut Conn, run_id: i64) -> Result<Run> {
            let sql = "SELECT id, office_id, program, period, contract_id, state, known_since, known_until, lines, total, to_advance, fee, generated_by, approved_by FROM payroll_runs WHERE id = $1";
            let r = sqlx::query(sql)
                .bind(run_id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| StoreError::NotFound { what: "payroll run", key: run_id.to_string() })?;
            run_from_row(&r)
        }

        async fn run_row(conn: &mut Conn, run_id: i64) -> Result<Run> {
            let mut run = run_head(conn, run_id).await?;
            for s in sqlx::query(
                "SELECT status, COUNT(*) AS n, CAST(SUM(total) AS BIGINT) AS amount FROM run_lines WHERE run_id = $1 GROUP BY status ORDER BY status",
            )
            .bind(run_id)
            .fetch_all(&mut *conn)
            .await?
            {
                run.by_status.push(StatusCount {
                    status: LineStatus::parse(&s.try_get::<String, _>("status")?).ok_or_else(|| StoreError::corrupt("line status"))?,
                    lines: s.try_get("n")?,
                    amount: Dong(s.try_get::<Option<i64>, _>("amount")?.unwrap_or(0)),
                });
            }
            Ok(run)
        }

        fn run_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Run> {
            let _ = RUN_COLUMNS;
            Ok(Run {
                id: r.try_get("id")?,
                office_id: r.try_get("office_id")?,
                program: parsed("program", Program::parse(&r.try_get::<String, _>("program")?))?,
                period: period_of(r.try_get("period")?)?,
                contract_id: r.try_get("contract_id")?,
                state: RunState::parse(&r.try_get::<String, _>("state")?).ok_or_else(|| StoreError::corrupt("run state"))?,
                known_since: r.try_get("known_since")?,
                known_until: r.try_get("known_until")?,
                lines: r.try_get("lines")?,
                total: Dong(r.try_get("total")?),
                to_advance: Dong(r.try_get("to_advance")?),
                fee: r.try_get::<Option<i64>, _>("fee")?.map(Dong),
                generated_by: r.try_get("generated_by")?,
                approved_by: r.try_get("approved_by")?,
                by_status: Vec::new(),
            })
        }

        /// The ids of a month's lines of a program: `[lo, hi)`.
        fn period_range(period: Period, program: Program) -> (i64, i64) {
            let lo = pay::line_id(period, program, 1).unwrap_or(0) - 1;
            (lo, lo + 1_000_000_000)
        }

        /// The `WHERE` of a run's lines narrowed by `filter` (its status too, if `by_status`).
        fn line_conditions(q: &mut QueryBuilder<Db>, run: &Run, filter: &LineFilter, by_status: bool) {
            let (lo, hi) = period_range(run.period, run.program);
            q.push(" WHERE l.id >= ").push_bind(lo).push(" AND l.id < ").push_bind(hi).push(" AND l.run_id = ").push_bind(run.id);
            if let Some(s) = filter.status.filter(|_| by_status) {
                q.push(" AND l.status = ").push_bind(s.code());
            }
            if let Some(p) = filter.point_id {
                q.push(" AND l.point_id = ").push_bind(p);
            }
            if let Some(cs) = &filter.communes {
                push_in_communes(q, "l.commune_code", cs);
            }
        }

        fn status_of(s: &str) -> Result<LineStatus> {
            LineStatus::parse(s).ok_or_else(|| StoreError::corrupt(format!("line status {s}")))
        }

        fn channel_of(kind: &str, point: Option<i64>, facility: Option<i64>) -> Result<Channel> {
            match (kind, point, facility) {
                ("point", Some(p), _) => Ok(Channel::Point(p)),
                ("bank", _, _) => Ok(Channel::Bank),
                ("facility", _, Some(f)) => Ok(Channel::Facility(f)),
                _ => Err(StoreError::corrupt(format!("line channel {kind}"))),
            }
        }

        /// Writes lines (each with its run): a line whose id its run already holds (a draft
        /// generated again) takes the old one's place. Those whose id is taken by another run are
        /// not written: their positions are returned, in order.
        async fn write_lines(tx: &mut Tx, lines: &[(i64, &Line)], engine: &Engine<'_>) -> Result<Vec<usize>> {
            const COLUMNS: &[&str] = &["id", "run_id", "beneficiary_id", "channel", "point_id", "facility_id", "home_delivery", "category", "commune_code", "monthly", "arrears", "arrears_months", "funeral", "carried", "reissued", "recovery_left", "total", "unpaid_streak", "status"];
            insert_rows_over(tx, "payroll_line_rows", COLUMNS, "run_id", lines, |&(run_id, l)| (l.id, run_id), |&(run_id, l), b| {
                let (point, facility) = match l.channel {
                    Channel::Point(p) => (Some(p), None),
                    Channel::Facility(f) => (None, Some(f)),
                    Channel::Bank => (None, None),
                };
                let category = engine.category_code(l.category);
                b.int(l.id)
                    .int(run_id)
                    .int(l.beneficiary_id)
                    .code(l.channel.code())
                    .opt_int(point)
                    .opt_int(facility)
                    .int(i64::from(l.home_delivery))
                    .opt_text((!category.is_empty()).then_some(category))
                    .text(l.commune_str())
                    .int(l.monthly.get())
                    .int(l.arrears.get())
                    .int(i64::from(l.arrears_months))
                    .int(l.funeral.get())
                    .int(l.carried.get())
                    .int(l.reissued.get())
                    .int(l.recovery_left.get())
                    .int(l.total.get())
                    .int(i64::from(l.unpaid_streak))
                    .code(LineStatus::Due.code());
            })
            .await
        }

        /// Posts transfers to the ledger inside `tx`: all or nothing; a transfer already made with
        /// the same content is left as it is. Returns the `seq` of each pay transfer made, by its
        /// line, where transfers have one (see `TRANSFER_SEQ`).
        async fn post_transfers(tx: &mut Tx, transfers: &[Transfer], at: &str) -> Result<crate::IntMap<i64, i64>> {
            if transfers.is_empty() {
                return Ok(crate::IntMap::default());
            }
            // Transfers already made (a step repeated): read whole, to compare. Those of a line
            // are found by their line (see `transfer_lines`), the others by their id.
            let mut made = Vec::new();
            let mut by_key: BTreeMap<(i64, &str), Vec<i64>> = BTreeMap::new();
            let mut ids: Vec<String> = Vec::new();
            for t in transfers {
                match t.line_id {
                    Some(line) => by_key.entry((t.period.yyyymm(), t.kind.code())).or_default().push(line),
                    None => ids.push(t.id.clone()),
                }
            }
            for ((period, kind), mut lines) in by_key {
                lines.sort_unstable();
                lines.dedup();
                // `period` is a number and `kind` one of the kinds' codes: neither comes from a caller.
                let query = format!("SELECT {TRANSFER_COLUMNS} FROM {LINE_TRANSFERS} WHERE tl.period = {period} AND tl.kind = '{kind}' AND tl.line_id");
                made.extend(lookup_ids(&mut **tx, &query, &lines, transfer_read).await?);
            }
            made.extend(lookup_texts(&mut **tx, &format!("SELECT {TRANSFER_COLUMNS} FROM transfers t WHERE t.line_id IS NULL AND t.id"), &ids, transfer_read).await?);
            let names = account_names(transfers);
            let mut held = hold(tx).await?;
            let (balances, stored) = account_balances(&mut held, &names).await?;
            let mut ledger = Ledger::with(balances, made);
            let posted = ledger.post_all(transfers).map_err(ledger_error)?;
            let new: Vec<(&Transfer, &str)> = transfers
                .iter()
                .zip(&posted)
                .filter(|(_, p)| **p == chitra_core::ledger::Posted::Applied)
                .map(|(t, _)| (t, at))
                .collect();
            let seqs = store_transfers(&mut held, &ledger, &names, &stored, &new).await?;
            Ok(new
                .iter()
                .zip(seqs)
                .filter(|((t, _), _)| t.kind == TransferKind::Pay)
                .filter_map(|((t, _), seq)| Some((t.line_id?, seq)))
                .collect())
        }

        /// The accounts transfers touch, sorted, once each.
        fn account_names(transfers: &[Transfer]) -> Vec<String> {
            let mut names: Vec<String> = transfers
                .iter()
                .flat_map(|t| [t.debit.to_string(), t.credit.to_string()])
                .collect();
            names.sort();
            names.dedup();
            names
        }

        /// The stored balances of accounts (those never moved are absent), and the names of
        /// those stored (for [`store_transfers`]).
        async fn account_balances(tx: &mut Held<'_>, names: &[String]) -> Result<(Vec<(Account, Balance)>, HashSet<String>)> {
            let mut stored = HashSet::with_capacity(names.len());
            let balances = lookup_texts(tx, "SELECT name, debits, credits FROM accounts WHERE name", names, |r| {
                let name = r.text(0);
                let account = Account::parse(&name)?;
                stored.insert(name);
                Ok((account, Balance { debits: r.int(1), credits: r.int(2) }))
            })
            .await?;
            Ok((balances, stored))
        }

        /// Writes what `ledger` posted: the balances of the accounts `names` (updated where
        /// `stored` says they are, inserted where not), the transfers `new` (each with the time
        /// it is recorded at), and the month's flows they add to.
        ///
        /// Every writer reads `stored` with the journal head held, so no account appears between
        /// that read and this write. An update is one search of the accounts' tree where the
        /// upsert it replaces was two (the insert tried, then the update): in a transaction of
        /// 10,000 payments over a whole month, the step took 26–34 ms against 51–56 ms on
        /// SQLite, 37.9 ms against 58.8 ms on PostgreSQL (BENCHMARKS.md).
        ///
        /// Returns the `seq` given to each of `new`, in its order, where transfers have one (see
        /// `TRANSFER_SEQ`); nothing where not.
        async fn store_transfers(tx: &mut Held<'_>, ledger: &Ledger, names: &[String], stored: &HashSet<String>, new: &[(&Transfer, &str)]) -> Result<Vec<i64>> {
            store_balances(tx, ledger, names, stored).await?;
            let seqs = insert_transfer_rows(tx, new).await?;
            let mut sums = TransferSums::default();
            for (t, _) in new {
                sums.add(t)?;
            }
            store_transfer_sums(tx, sums).await?;
            Ok(seqs)
        }

        /// Writes the balances `ledger` holds of the accounts `names`: updated where `stored` says
        /// they are, inserted where not (see [`store_transfers`]).
        async fn store_balances(tx: &mut Held<'_>, ledger: &Ledger, names: &[String], stored: &HashSet<String>) -> Result<()> {
            let mut known: Vec<(&str, Balance)> = Vec::with_capacity(names.len());
            let mut fresh: Vec<(&str, String, Balance)> = Vec::new();
            for n in names {
                let Ok(a) = Account::parse(n) else { continue };
                if stored.contains(n) {
                    known.push((n, ledger.balance(&a)));
                } else {
                    let kind = a.kind().map(|k| format!("{k:?}").to_lowercase()).unwrap_or_default();
                    fresh.push((n, kind, ledger.balance(&a)));
                }
            }
            let updated = set_balances(tx, &known).await?;
            if updated != known.len() as u64 {
                return Err(StoreError::corrupt(format!("{} of {} stored accounts' balances were updated", updated, known.len())));
            }
            insert_rows(tx, "accounts", &["name", "kind", "debits", "credits"], &fresh, |(name, kind, bal), b| {
                b.text(name).text(kind).int(bal.debits).int(bal.credits);
            })
            .await?;
            tracing::trace!(accounts = names.len(), "transfers: balances written");
            Ok(())
        }

        /// Inserts the rows of transfers `new`, each with the time it is recorded at. Where
        /// transfers have a `seq` (see `TRANSFER_SEQ`), each is given the next after the table's
        /// last, in the order of `new`, and the `seq`s are returned in that order (a payment keeps
        /// its pay transfer's); nothing is returned where not. Every writer holds the journal head
        /// (or, for payments, the write lock) from here to its commit: no other row comes between.
        async fn insert_transfer_rows(tx: &mut Held<'_>, new: &[(&Transfer, &str)]) -> Result<Vec<i64>> {
            const COLUMNS: &[&str] = &["id", "kind", "debit", "credit", "amount", "period", "on_date", "run_id", "line_id", "recorded_at", "seq"];
            let mut last = 0i64;
            if TRANSFER_SEQ && !new.is_empty() {
                scan(tx, "SELECT COALESCE(MAX(seq), 0) FROM transfers", &[], |r| {
                    last = r.int(0);
                    Ok(())
                })
                .await?;
            }
            let seqs: Vec<i64> = if TRANSFER_SEQ { (1..).map(|i| last + i).take(new.len()).collect() } else { Vec::new() };
            let columns = if TRANSFER_SEQ { COLUMNS } else { &COLUMNS[..COLUMNS.len() - 1] };
            let mut seq = seqs.iter();
            insert_rows(tx, "transfers", columns, new, |(t, at), b| {
                b.row_text(&t.id)
                    .code(t.kind.code())
                    .row_text(t.debit.as_str())
                    .row_text(t.credit.as_str())
                    .int(t.amount.get())
                    .int(t.period.yyyymm())
                    .date(t.on)
                    .int(t.run_id)
                    .opt_int(t.line_id)
                    .row_text(at);
                if let Some(seq) = seq.next() {
                    b.int(*seq);
                }
            })
            .await?;
            if LINE_ROWS_WRITTEN {
                // A line's transfers other than its pay transfer, by line (a pay transfer is
                // found through its payment: see `TRANSFER_SEQ`).
                let by_line: Vec<(&Transfer, i64, i64)> = new
                    .iter()
                    .zip(&seqs)
                    .filter(|((t, _), _)| t.kind != TransferKind::Pay)
                    .filter_map(|((t, _), seq)| Some((*t, t.line_id?, *seq)))
                    .collect();
                insert_rows(tx, "transfer_line_rows", &["period", "kind", "line_id", "amount", "run_id", "seq"], &by_line, |(t, line_id, seq), b| {
                    b.int(t.period.yyyymm()).code(t.kind.code()).int(*line_id).int(t.amount.get()).int(t.run_id).int(*seq);
                })
                .await?;
            }
            tracing::trace!(transfers = new.len(), "transfers: rows written");
            Ok(seqs)
        }

        /// The month's flows of transfers, summed by month, kind and accounts, as
        /// `transfer_sums` keeps them.
        #[derive(Default)]
        struct TransferSums(crate::IntMap<(i64, &'static str, String, String), (i64, i64)>);

        impl TransferSums {
            fn add(&mut self, t: &Transfer) -> Result<()> {
                let s = self.0.entry((t.period.yyyymm(), t.kind.code(), t.debit.as_str().to_owned(), t.credit.as_str().to_owned())).or_default();
                s.0 = s.0.checked_add(t.amount.get()).ok_or_else(|| StoreError::invalid("amount", "out of range"))?;
                s.1 += 1;
                Ok(())
            }
        }

        /// Adds `sums` to the month's flows, in the order of their keys.
        async fn store_transfer_sums(tx: &mut Held<'_>, sums: TransferSums) -> Result<()> {
            let mut sums: Vec<_> = sums.0.into_iter().collect();
            sums.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            insert_rows_with(
                tx,
                "transfer_sums",
                &["period", "kind", "debit", "credit", "amount", "n"],
                &sums,
                "ON CONFLICT (period, kind, debit, credit) DO UPDATE SET amount = transfer_sums.amount + excluded.amount, n = transfer_sums.n + excluded.n",
                |((period, kind, debit, credit), (amount, n)), b| {
                    b.int(*period).text(kind).text(debit).text(credit).int(*amount).int(*n);
                },
            )
            .await?;
            Ok(())
        }

        /// The lines as `line_row` reads them, from `from` (`payroll_lines`, or `run_lines` for a
        /// run's) as `l`.
        fn line_select(from: &str) -> String {
            format!("SELECT l.id, l.run_id, l.beneficiary_id, b.code, b.full_name, l.channel, l.point_id, l.facility_id, l.home_delivery, l.category, l.commune_code, l.monthly, l.arrears, l.funeral, l.carried, l.reissued, l.total, l.unpaid_streak, l.status FROM {from} l JOIN beneficiaries b ON b.id = l.beneficiary_id")
        }

        fn line_row(r: &<Db as sqlx::Database>::Row) -> Result<LineRow> {
            Ok(LineRow {
                id: r.try_get("id")?,
                run_id: r.try_get("run_id")?,
                beneficiary_id: r.try_get("beneficiary_id")?,
                beneficiary_code: r.try_get("code")?,
                full_name: r.try_get("full_name")?,
                channel: channel_of(&r.try_get::<String, _>("channel")?, r.try_get("point_id")?, r.try_get("facility_id")?)?,
                home_delivery: r.try_get::<i64, _>("home_delivery")? != 0,
                category: r.try_get("category")?,
                commune_code: r.try_get("commune_code")?,
                monthly: Dong(r.try_get("monthly")?),
                arrears: Dong(r.try_get("arrears")?),
                funeral: Dong(r.try_get("funeral")?),
                carried: Dong(r.try_get("carried")?),
                reissued: Dong(r.try_get("reissued")?),
                total: Dong(r.try_get("total")?),
                unpaid_streak: r.try_get("unpaid_streak")?,
                status: LineStatus::parse(&r.try_get::<String, _>("status")?).ok_or_else(|| StoreError::corrupt("line status"))?,
            })
        }

        /// The columns of a transfer (`t`), in the order [`transfer_read`] reads them.
        const TRANSFER_COLUMNS: &str = "t.id, t.kind, t.debit, t.credit, t.amount, t.period, t.on_date, t.run_id, t.line_id";

        /// A transfer read as [`TRANSFER_COLUMNS`].
        fn transfer_read(r: &Reader<'_>) -> Result<Transfer> {
            Ok(Transfer {
                id: r.text(0),
                kind: TransferKind::parse(r.str(1).unwrap_or("")).ok_or_else(|| StoreError::corrupt("transfer kind"))?,
                debit: Account::parse(r.str(2).unwrap_or(""))?,
                credit: Account::parse(r.str(3).unwrap_or(""))?,
                amount: Dong(r.int(4)),
                period: period_of(r.int(5))?,
                on: r.date(6).ok_or_else(|| StoreError::corrupt("transfer date"))?,
                run_id: r.int(7),
                line_id: r.opt_int(8),
            })
        }

        /// What funding and distribution need of a run: sums by channel, read as sums.
        async fn run_sums(conn: &mut Conn, run: &Run) -> Result<cyc::RunSums> {
            let mut sums = cyc::RunSums::default();
            for r in sqlx::query("SELECT channel, point_id, facility_id, CAST(SUM(total) AS BIGINT) AS t, CAST(SUM(carried) AS BIGINT) AS c FROM run_lines WHERE run_id = $1 GROUP BY channel, point_id, facility_id")
                .bind(run.id)
                .fetch_all(&mut *conn)
                .await?
            {
                let channel = channel_of(&r.try_get::<String, _>("channel")?, r.try_get("point_id")?, r.try_get("facility_id")?)?;
                sums.add(channel, Dong(r.try_get("t")?), Dong(r.try_get("c")?))
                    .map_err(|_| StoreError::invalid("total", "out of range"))?;
            }
            Ok(sums)
        }

        /// Lines of a run as moving their money needs them, narrowed by `condition` (a fixed SQL
        /// condition on the line).
        async fn owed_lines(conn: &mut Conn, run: &Run, condition: &'static str) -> Result<Vec<(cyc::Owed, i64, Dong, u8)>> {
            let sql = format!("SELECT id, beneficiary_id, channel, point_id, facility_id, total, reissued, unpaid_streak FROM run_lines WHERE {condition} AND run_id");
            let mut rows = lookup_ids(conn, &sql, &[run.id], |r| {
                Ok((
                    cyc::Owed { line_id: r.int(0), channel: channel_of(&r.text(2), r.opt_int(3), r.opt_int(4))?, total: Dong(r.int(5)) },
                    r.int(1),
                    Dong(r.int(6)),
                    u8::try_from(r.int(7)).unwrap_or(u8::MAX),
                ))
            })
            .await?;
            rows.sort_by_key(|r| r.0.line_id);
            Ok(rows)
        }

        /// The code of each payment point, for the names of their cash accounts.
        async fn point_codes(conn: &mut Conn) -> Result<HashMap<i64, String>> {
            let mut out = HashMap::new();
            for r in sqlx::query("SELECT id, code FROM payment_points").fetch_all(&mut *conn).await? {
                out.insert(r.try_get("id")?, r.try_get("code")?);
            }
            Ok(out)
        }

        async fn contract_of(conn: &mut Conn, id: i64) -> Result<Contract> {
            let r = sqlx::query("SELECT id, code, name, office_id, post_office, area_code, program, fee_kind, fee_value, advance_by_day, pay_from_day, pay_to_day, report_by_day, valid_from, valid_to FROM contracts WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
            contract_from_row(&r)
        }

        /// Moves a run to its next state (or refuses), records who and when.
        async fn step_run(tx: &mut Tx, run: &Run, action: RunAction, actor: &str, at: &str) -> Result<RunState> {
            let next = pay::transition(run.state, action, actor, &run.generated_by)?;
            let sql = match action {
                RunAction::Approve => "UPDATE payroll_runs SET state = $1, approved_by = $2, approved_at = $3 WHERE id = $4",
                RunAction::Fund => "UPDATE payroll_runs SET state = $1, funded_at = $3 WHERE id = $4 AND $2 = $2",
                RunAction::Pay => "UPDATE payroll_runs SET state = $1, paying_at = $3 WHERE id = $4 AND $2 = $2",
                RunAction::Close => "UPDATE payroll_runs SET state = $1, closed_at = $3 WHERE id = $4 AND $2 = $2",
                RunAction::Generate => "UPDATE payroll_runs SET state = $1, generated_by = $2, generated_at = $3 WHERE id = $4",
            };
            sqlx::query(sql)
                .bind(next.code())
                .bind(actor.to_owned())
                .bind(at.to_owned())
                .bind(run.id)
                .execute(&mut **tx)
                .await?;
            Ok(next)
        }

        /// A decision as the engine reads it, from `SELECT id, beneficiary_id, kind, category,
        /// replaces, dependants, effective, signed_on, recorded_on, death_date`.
        const DECISION_FACTS: &str = "SELECT id, beneficiary_id, kind, category, replaces, dependants, effective, signed_on, recorded_on, death_date FROM decisions";

        fn decision_facts(r: &Reader<'_>, engine: &Engine<'_>) -> Result<(i64, CDecision)> {
            let date = |col, what| r.date(col).ok_or_else(|| StoreError::corrupt(format!("decision {} {what}", r.int(0))));
            let facts = DecisionFacts {
                id: r.int(0),
                kind: parsed("decision kind", DecisionKind::parse(r.str(2).unwrap_or("")))?,
                category: r.str(3),
                replaces: r.str(4),
                dependants: u32::try_from(r.int(5)).map_err(|_| StoreError::corrupt("stored dependants"))?,
                effective: period_of(r.int(6))?,
                signed_on: date(7, "signed_on")?,
                recorded_on: date(8, "recorded_on")?,
                death_date: r.date(9),
            };
            Ok((r.int(1), CDecision::compile(engine, &facts)))
        }

        /// The decisions of every beneficiary with an id above `after`, compiled, each
        /// beneficiary's in order and together: the compiled decisions, and per beneficiary
        /// (in id order) the range of theirs.
        type DecisionsRead = (Vec<CDecision>, Vec<(i64, u32, u32)>);

        /// Reads them with `sizes` (decisions, beneficiaries) the arrays' capacities: at most
        /// the number of rows of both tables.
        async fn read_decisions(conn: &mut Conn, engine: &Engine<'_>, after: i64, sizes: (usize, usize)) -> Result<DecisionsRead> {
            let mut all: Vec<CDecision> = Vec::with_capacity(sizes.0);
            let mut ranges: Vec<(i64, u32, u32)> = Vec::with_capacity(sizes.1);
            let mut decisions = Grouped::new();
            let mut give = |id: i64, rows: &[CDecision]| {
                let start = all.len();
                all.extend_from_slice(rows);
                chitra_core::calc::in_order(&mut all[start..]);
                ranges.push((id, start as u32, all.len() as u32));
            };
            let sql = format!("{DECISION_FACTS} WHERE beneficiary_id > $1 ORDER BY beneficiary_id, id");
            scan(conn, &sql, &[Arg::Int(after)], |r| {
                let (beneficiary, d) = decision_facts(r, engine)?;
                decisions.add(beneficiary, d, &mut give);
                Ok(())
            })
            .await?;
            decisions.finish(&mut give);
            Ok((all, ranges))
        }

        /// Where a whole register's decisions may be read while its persons and their addresses
        /// are (see `read_register`).
        enum Beside<'a> {
            /// Nowhere else: after them, on the same connection.
            No,
            /// On a connection of the pool, which sees what is committed: only beside a
            /// connection whose transaction holds the writer, so that nothing is committed
            /// meanwhile.
            Pool(&'a sqlx::Pool<Db>),
            /// On this reader, in a read transaction that sees what the connection's sees (see
            /// `snapshot_pair`).
            Reader(Conn),
        }

        /// [`read_decisions`] on a connection of `pool`, or on the reader given, as a task of
        /// its own (on another thread where the runtime has one), with an engine of its own on a
        /// copy of the rules.
        fn read_decisions_beside(beside: Beside<'_>, rules: &RuleBook, after: i64) -> Option<crate::AbortOnDrop<Result<DecisionsRead>>> {
            /// The arrays allocated once, at their size (at most the tables' rows), not grown by
            /// doubling, each step a block twice the size and a copy.
            async fn read_sized(conn: &mut Conn, engine: &Engine<'_>, after: i64) -> Result<DecisionsRead> {
                let sizes: (i64, i64) = sqlx::query_as("SELECT (SELECT COUNT(*) FROM decisions), (SELECT COUNT(*) FROM beneficiaries)")
                    .fetch_one(&mut *conn)
                    .await?;
                let sizes = (usize::try_from(sizes.0).unwrap_or(0), usize::try_from(sizes.1).unwrap_or(0));
                read_decisions(conn, engine, after, sizes).await
            }
            let task = match beside {
                Beside::No => return None,
                Beside::Pool(pool) => {
                    let (pool, rules) = (pool.clone(), rules.clone());
                    tokio::spawn(async move {
                        let engine = Engine::new(&rules);
                        let mut conn = pool.acquire().await?;
                        map_reader(&mut conn).await?;
                        let read = read_sized(&mut conn, &engine, after).await;
                        close_reader(conn).await;
                        read
                    })
                }
                Beside::Reader(mut conn) => {
                    let rules = rules.clone();
                    tokio::spawn(async move {
                        let engine = Engine::new(&rules);
                        let read = read_sized(&mut conn, &engine, after).await;
                        // Closed, its read transaction with it (a reader of its own: see `snapshot_pair`).
                        let _ = sqlx::Connection::close(conn).await;
                        read
                    })
                }
            };
            Some(crate::AbortOnDrop(task))
        }

        /// Reads the beneficiaries of `program` with ids above `after` into `register`, table by
        /// table, each in id order: nothing is held but the compiled register (and, read beside,
        /// the decisions).
        ///
        /// Where the backend allows it (`REGISTER_DECISIONS_BESIDE`) and a reader is given
        /// `beside`, a whole register's decisions are read there while the persons and their
        /// addresses are read on `conn`: the two largest reads of a payroll's generation then
        /// share the machine's cores. The transaction on `conn` must not have written the
        /// register's tables: the reader sees only what is committed.
        async fn read_register(conn: &mut Conn, beside: Beside<'_>, engine: &Engine<'_>, program: Program, after: i64, register: &mut Register) -> Result<()> {
            let first = register.persons.len();
            let beside = if REGISTER_DECISIONS_BESIDE && after == 0 && first == 0 { read_decisions_beside(beside, engine.rules(), after) } else { None };
            if beside.is_some() {
                // The persons and their addresses allocated at most once, at the tables' sizes
                // (SQLite counts a table's rows from its pages: 0.03 s for 5,000,000), and
                // shrunk to what this program has once read.
                let (persons, spells): (i64, i64) = sqlx::query_as("SELECT (SELECT COUNT(*) FROM beneficiaries), (SELECT COUNT(*) FROM addresses)")
                    .fetch_one(&mut *conn)
                    .await?;
                register.persons.reserve_exact(usize::try_from(persons).unwrap_or(0));
                register.spells.reserve_exact(usize::try_from(spells).unwrap_or(0));
            }
            scan(
                conn,
                "SELECT id, birth_date, payment_point_id, CAST(CASE WHEN home_delivery IS NULL THEN 0 ELSE 1 END AS BIGINT), CAST(CASE WHEN bank_account IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM beneficiaries WHERE program = $1 AND id > $2 ORDER BY id",
                &[Arg::Text(program.code()), Arg::Int(after)],
                |r| {
                    let birth = r.date(1).ok_or_else(|| StoreError::corrupt(format!("beneficiary {} birth_date", r.int(0))))?;
                    register.push_person(pay::Person {
                        id: r.int(0),
                        program,
                        birth_month: chitra_core::calc::month_ix(Period::of(birth)),
                        decisions: (0, 0),
                        spells: (0, 0),
                        point: r.opt_int(2),
                        bank: r.int(4) != 0,
                        home_delivery: r.int(3) != 0,
                    });
                    Ok(())
                },
            )
            .await?;
            // Both tables are read in beneficiary order: the persons are walked alongside.
            let mut cursor = first;
            let mut spells = Grouped::new();
            let mut give_spells = |id: i64, rows: &[CSpell]| {
                if let Some(i) = register.walk_to(&mut cursor, id) {
                    register.set_spells(i, rows);
                }
            };
            scan(
                conn,
                "SELECT beneficiary_id, from_period, commune_code, facility_id FROM addresses WHERE beneficiary_id > $1 ORDER BY beneficiary_id, from_period",
                &[Arg::Int(after)],
                |r| {
                    let spell = CSpell::new(period_of(r.int(1))?, r.str(2).unwrap_or(""), r.opt_int(3));
                    spells.add(r.int(0), spell, &mut give_spells);
                    Ok(())
                },
            )
            .await?;
            spells.finish(&mut give_spells);
            let (all, ranges) = match beside {
                Some(task) => {
                    register.persons.shrink_to_fit();
                    register.spells.shrink_to_fit();
                    task.join().await??
                }
                None => read_decisions(conn, engine, after, (0, 0)).await?,
            };
            register.take_decisions(first, all, &ranges);
            Ok(())
        }

        impl $Store {
            /// The register of a program compiled for the engine, and who lives in each commune in
            /// `month`: kept between calls and brought up to date with what was added since (new
            /// beneficiaries are read; a beneficiary with a new decision has their decisions read
            /// again). Where `register_version` says a row was changed, or the rule tables changed,
            /// it is read again whole.
            ///
            /// `beside`: where a whole register's decisions may be read (see `read_register`).
            async fn compiled_register(&self, conn: &mut Conn, engine: &Engine<'_>, program: Program, month: i32, beside: Beside<'_>) -> Result<(Arc<Register>, Arc<crate::ByCommune>)> {
                let version: i64 = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'register_version'")
                    .fetch_optional(&mut *conn)
                    .await?
                    .and_then(|v: String| v.parse().ok())
                    .unwrap_or(0);
                // The last ids of both tables (of every program: read from the key's end at once).
                let (last_beneficiary, last_decision): (i64, i64) =
                    sqlx::query_as("SELECT COALESCE((SELECT MAX(id) FROM beneficiaries), 0), COALESCE((SELECT MAX(id) FROM decisions), 0)")
                        .fetch_one(&mut *conn)
                        .await?;
                let rules_key = engine.rules().categories.len();
                let cached = self.registers.lock().ok().and_then(|mut c| c.remove(&program));
                let mut cache = match cached {
                    Some(c) if c.version == version && c.rules_key == rules_key => c,
                    _ => crate::RegisterCache {
                        version,
                        rules_key,
                        last_beneficiary: 0,
                        last_decision: 0,
                        register: Arc::default(),
                        by_commune: None,
                    },
                };
                let mut changed = false;
                // New decisions of beneficiaries already read: their decisions, read again whole.
                if cache.last_beneficiary > 0 && last_decision > cache.last_decision {
                    let mut touched = Vec::new();
                    scan(
                        conn,
                        "SELECT DISTINCT beneficiary_id FROM decisions WHERE id > $1 AND beneficiary_id <= $2 ORDER BY beneficiary_id",
                        &[Arg::Int(cache.last_decision), Arg::Int(cache.last_beneficiary)],
                        |r| {
                            touched.push(r.int(0));
                            Ok(())
                        },
                    )
                    .await?;
                    if !touched.is_empty() {
                        let mut read = lookup_ids(conn, &format!("{DECISION_FACTS} WHERE beneficiary_id"), &touched, |r| decision_facts(r, engine)).await?;
                        read.sort_by_key(|(b, d)| (*b, d.id));
                        let register = Arc::make_mut(&mut cache.register);
                        let mut group = Grouped::new();
                        let mut give = |id: i64, rows: &[CDecision]| {
                            if let Some(i) = register.index_of(id) {
                                register.set_decisions(i, rows);
                            }
                        };
                        for (b, d) in read {
                            group.add(b, d, &mut give);
                        }
                        group.finish(&mut give);
                        changed = true;
                    }
                }
                if last_beneficiary > cache.last_beneficiary {
                    read_register(conn, beside, engine, program, cache.last_beneficiary, Arc::make_mut(&mut cache.register)).await?;
                    changed = true;
                }
                cache.last_beneficiary = cache.last_beneficiary.max(last_beneficiary);
                cache.last_decision = cache.last_decision.max(last_decision);
                if changed {
                    cache.by_commune = None;
                }
                let by_commune = match &cache.by_commune {
                    Some((m, b)) if *m == month => b.clone(),
                    _ => {
                        let b = Arc::new(cache.register.by_commune(month));
                        cache.by_commune = Some((month, b.clone()));
                        b
                    }
                };
                let register = cache.register.clone();
                if let Ok(mut c) = self.registers.lock() {
                    c.insert(program, cache);
                }
                Ok((register, by_commune))
            }
        }

        impl $Store {
            /// What an office's payroll of the month is computed from, read inside `tx`.
            async fn prepare_run(&self, tx: &mut Tx, change: &Change, office_id: i64, program: Program, period: Period) -> Result<Prepared> {
                let today = change.date();
                let rules = load_rules(&mut **tx).await?;
                pay::check_payable(&rules, program, period, today)?;
                let office = sqlx::query("SELECT id, kind, unit_code FROM offices WHERE id = $1")
                    .bind(office_id)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or_else(|| StoreError::invalid("office", format!("no office #{office_id}")))?;
                let unit_code: String = office.try_get("unit_code")?;
                let kind = parsed("office kind", OfficeKind::parse(&office.try_get::<String, _>("kind")?))?;
                let tree = self.tree(&mut **tx).await?;
                let day = period.first_day();
                let level = match kind {
                    OfficeKind::Department => UnitLevel::Province,
                    OfficeKind::DistrictOffice => UnitLevel::District,
                    OfficeKind::CommuneCommittee => UnitLevel::Commune,
                };
                let area = tree.at(level, &unit_code, day).ok_or_else(|| {
                    StoreError::invalid("period", format!("office #{office_id} manages {unit_code}, which is not in force in {period}"))
                })?;
                let province = tree
                    .ancestor(area, UnitLevel::Province, day)
                    .map(|u| u.code.clone())
                    .unwrap_or_default();
                // The contract that covers the office's province (or its own area) for the month.
                let contracts = sqlx::query("SELECT id, code, name, office_id, post_office, area_code, program, fee_kind, fee_value, advance_by_day, pay_from_day, pay_to_day, report_by_day, valid_from, valid_to FROM contracts WHERE program = $1 ORDER BY id")
                    .bind(program.code())
                    .fetch_all(&mut **tx)
                    .await?;
                let contract = contracts
                    .iter()
                    .map(contract_from_row)
                    .collect::<Result<Vec<_>>>()?
                    .into_iter()
                    .find(|c| c.terms.in_force(period) && (c.terms.area_code == province || c.terms.area_code == unit_code))
                    .ok_or_else(|| {
                        StoreError::invalid("contract", format!("no payment contract covers {} for {program} in {period}", area.name))
                    })?;
                // The communes the office pays in that month.
                let communes: Vec<[u8; 5]> = tree
                    .units()
                    .iter()
                    .filter(|u| u.level == UnitLevel::Commune && u.valid_on(day))
                    .filter(|u| tree.ancestor(u, level, day).is_some_and(|a| a.code == unit_code))
                    .map(|u| CSpell::new(period, &u.code, None).commune)
                    .collect();
                let existing = sqlx::query("SELECT id, office_id, program, period, contract_id, state, known_since, known_until, lines, total, to_advance, fee, generated_by, approved_by FROM payroll_runs WHERE office_id = $1 AND program = $2 AND period = $3")
                    .bind(office_id)
                    .bind(program.code())
                    .bind(period.yyyymm())
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(|r| run_from_row(&r))
                    .transpose()?;
                if let Some(run) = &existing {
                    pay::transition(run.state, RunAction::Generate, &change.actor, &run.generated_by)?;
                }
                let previous_run = sqlx::query("SELECT id, office_id, program, period, contract_id, state, known_since, known_until, lines, total, to_advance, fee, generated_by, approved_by FROM payroll_runs WHERE office_id = $1 AND program = $2 AND period = $3")
                    .bind(office_id)
                    .bind(program.code())
                    .bind(period.prev().yyyymm())
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(|r| run_from_row(&r))
                    .transpose()?;
                if let Some(prev) = &previous_run
                    && prev.state != RunState::Closed
                {
                    return Err(StoreError::invalid(
                        "period",
                        format!("the payroll of {} is {}: close it first, what it did not pay is carried into {period}", prev.period, prev.state),
                    ));
                }
                let until = today.succ_opt().unwrap_or(today);
                let since = previous_run.as_ref().map(|r| r.known_until).unwrap_or_else(|| period.prev().first_day());
                let engine = Engine::new(&rules);
                // The office's beneficiaries: who lives in its communes this month.
                let month = chitra_core::calc::month_ix(period);
                let (register, by_commune) = self.compiled_register(&mut **tx, &engine, program, month, Beside::Pool(&self.pool)).await?;
                let mut indexes: Vec<u32> = communes.iter().filter_map(|c| by_commune.get(c)).flatten().copied().collect();
                indexes.sort_unstable();
                // A person once, whichever of the office's communes listed them: a run never has
                // two lines of one id (a line written over in place would count twice).
                indexes.dedup();
                // Their lines of last month: the office's own payroll of last month, read whole; a
                // line elsewhere (someone who moved here) looked up one by one, if last month had
                // any other payroll.
                let previous_row = |r: &Reader<'_>| -> Result<Previous> {
                    Ok(Previous {
                        beneficiary_id: r.int(0),
                        status: status_of(r.str(1).unwrap_or(""))?,
                        total: Dong(r.int(2)),
                        recovery_left: Dong(r.int(3)),
                        unpaid_streak: u8::try_from(r.int(4)).unwrap_or(u8::MAX),
                    })
                };
                let mut previous = Vec::new();
                if let Some(prev) = &previous_run {
                    scan(
                        &mut **tx,
                        "SELECT beneficiary_id, status, total, recovery_left, unpaid_streak FROM run_lines WHERE run_id = $1 ORDER BY id",
                        &[Arg::Int(prev.id)],
                        |r| {
                            previous.push(previous_row(r)?);
                            Ok(())
                        },
                    )
                    .await?;
                }
                let other_runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payroll_runs WHERE program = $1 AND period = $2 AND id <> $3")
                    .bind(program.code())
                    .bind(period.prev().yyyymm())
                    .bind(previous_run.as_ref().map(|r| r.id).unwrap_or(0))
                    .fetch_one(&mut **tx)
                    .await?;
                if other_runs > 0 {
                    let found: HashSet<i64> = previous.iter().map(|p| p.beneficiary_id).collect();
                    let ids: Vec<i64> = indexes
                        .iter()
                        .filter_map(|&i| register.persons.get(i as usize))
                        .filter(|p| !found.contains(&p.id))
                        .filter_map(|p| pay::line_id(period.prev(), program, p.id))
                        .collect();
                    previous.extend(lookup_ids(&mut **tx, "SELECT beneficiary_id, status, total, recovery_left, unpaid_streak FROM payroll_lines WHERE id", &ids, previous_row).await?);
                }
                previous.sort_by_key(|p| p.beneficiary_id);
                // Months whose lines went back unpaid in the last year: never recovered.
                let mut returned_months: HashMap<i64, Vec<i32>> = HashMap::new();
                for r in sqlx::query("SELECT beneficiary_id, period FROM payee_returns WHERE program = $1 AND period >= $2")
                    .bind(program.code())
                    .bind(period.plus(-12).yyyymm())
                    .fetch_all(&mut **tx)
                    .await?
                {
                    let p = period_of(r.try_get("period")?)?;
                    returned_months.entry(r.try_get("beneficiary_id")?).or_default().push(chitra_core::calc::month_ix(p));
                }
                let mut returned_owed = HashMap::new();
                for r in sqlx::query("SELECT beneficiary_id, returned_owed FROM payee_balances WHERE program = $1 AND returned_owed > 0")
                    .bind(program.code())
                    .fetch_all(&mut **tx)
                    .await?
                {
                    returned_owed.insert(r.try_get::<i64, _>("beneficiary_id")?, Dong(r.try_get("returned_owed")?));
                }
                Ok(Prepared {
                    head: RunHead { office_id, run_id: existing.as_ref().map(|r| r.id), contract_id: contract.id, since, until },
                    register,
                    persons: indexes,
                    previous,
                    returned_owed,
                    returned_months,
                })
            }
        }

        /// What an office's run row is written from.
        #[derive(Clone, Copy)]
        struct RunHead {
            office_id: i64,
            /// The run, when the draft is generated again.
            run_id: Option<i64>,
            contract_id: i64,
            since: chrono::NaiveDate,
            until: chrono::NaiveDate,
        }

        /// An office's payroll read, before it is computed and written.
        struct Prepared {
            head: RunHead,
            register: Arc<Register>,
            /// The register indexes of those it pays, ascending.
            persons: Vec<u32>,
            previous: Vec<Previous>,
            returned_owed: HashMap<i64, Dong>,
            returned_months: HashMap<i64, Vec<i32>>,
        }

        /// Persons of the register computed at a time, all offices together: the lines of one
        /// range are written while the next is computed.
        const PERSONS_A_RANGE: u32 = 65_536;

        /// The lines of the offices' month, a range of persons at a time, each with its office's
        /// position, in id order; computed on a thread of its own while the caller writes what it
        /// has been sent. It stops at the first error, or when the receiver is dropped.
        fn compute_beside(
            rules: RuleBook,
            period: Period,
            prepared: Vec<Prepared>,
        ) -> (tokio::sync::mpsc::Receiver<Result<Vec<(u32, Line)>>>, tokio::task::JoinHandle<()>) {
            let (send, receive) = tokio::sync::mpsc::channel(2);
            let task = tokio::task::spawn_blocking(move || {
                let engine = Engine::new(&rules);
                let parts: Vec<pay::OfficePart<'_>> = prepared
                    .iter()
                    .map(|p| pay::OfficePart {
                        register: &p.register,
                        persons: &p.persons,
                        generation: Generation {
                            period,
                            since: chitra_core::calc::day_ix(p.head.since),
                            until: chitra_core::calc::day_ix(p.head.until),
                            previous: &p.previous,
                            returned_owed: &p.returned_owed,
                            returned_months: &p.returned_months,
                        },
                    })
                    .collect();
                let end = prepared.iter().filter_map(|p| p.persons.last()).max().map_or(0, |&i| i.saturating_add(1));
                let mut lo = 0;
                let mut busy = std::time::Duration::ZERO;
                while lo < end {
                    let hi = lo.saturating_add(PERSONS_A_RANGE);
                    let mut lines = Vec::new();
                    let t = std::time::Instant::now();
                    let made = pay::generate_between(&engine, &parts, lo, hi, &mut lines)
                        .map(|()| lines)
                        .map_err(|_| StoreError::invalid("total", "an amount is out of range"));
                    busy += t.elapsed();
                    let failed = made.is_err();
                    // A range with no line (an office paying a few of a large register's persons)
                    // is not sent: nothing to write.
                    let empty = made.as_ref().is_ok_and(Vec::is_empty);
                    if !empty && (send.blocking_send(made).is_err() || failed) {
                        return;
                    }
                    lo = hi;
                }
                tracing::debug!(?busy, "lines computed");
            });
            (receive, task)
        }

        #[async_trait::async_trait]
        impl Cycle for $Store {
            async fn add_contract(&self, change: &Change, contract: &NewContract) -> Result<Contract> {
                contract.check()?;
                let (mut tx, head) = self.begin_write().await?;
                let office: Option<i64> = sqlx::query_scalar("SELECT id FROM offices WHERE id = $1")
                    .bind(contract.office_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if office.is_none() {
                    return Err(StoreError::invalid("office", format!("no office #{}", contract.office_id)));
                }
                let (level, code) = contract.area_unit();
                let from = contract.valid_from.first_day();
                if self.tree(&mut *tx).await?.at(level, code, from).is_none() {
                    return Err(StoreError::invalid("area_code", format!("no {} {code} is in force in {}", level.code(), contract.valid_from)));
                }
                let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contracts WHERE code = $1")
                    .bind(contract.code.clone())
                    .fetch_one(&mut *tx)
                    .await?;
                if taken > 0 {
                    return Err(StoreError::invalid("code", format!("contract {} already exists", contract.code)));
                }
                let id = next_id(&mut tx, "contracts").await?;
                let (fee_kind, fee_value) = match contract.fee {
                    FeeRule::Percent { basis_points } => ("percent", i64::from(basis_points)),
                    FeeRule::PerBeneficiary { amount } => ("per_beneficiary", amount.get()),
                };
                sqlx::query("INSERT INTO contracts (id, code, name, office_id, post_office, area_code, program, fee_kind, fee_value, advance_by_day, pay_from_day, pay_to_day, report_by_day, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)")
                    .bind(id)
                    .bind(contract.code.clone())
                    .bind(text::clean(&contract.name))
                    .bind(contract.office_id)
                    .bind(text::clean(&contract.post_office))
                    .bind(contract.area_code.clone())
                    .bind(contract.program.code())
                    .bind(fee_kind)
                    .bind(fee_value)
                    .bind(i64::from(contract.advance_by_day))
                    .bind(i64::from(contract.pay_from_day))
                    .bind(i64::from(contract.pay_to_day))
                    .bind(i64::from(contract.report_by_day))
                    .bind(contract.valid_from.yyyymm())
                    .bind(contract.valid_to.map(Period::yyyymm))
                    .execute(&mut *tx)
                    .await?;
                let made = Contract { id, terms: contract.clone() };
                let n = note("contract.add", format!("contract:{}", contract.code), &made)?;
                commit(tx, head, change, vec![n]).await?;
                Ok(made)
            }

            async fn contracts(&self) -> Result<Vec<Contract>> {
                let rows = sqlx::query("SELECT id, code, name, office_id, post_office, area_code, program, fee_kind, fee_value, advance_by_day, pay_from_day, pay_to_day, report_by_day, valid_from, valid_to FROM contracts ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(contract_from_row).collect()
            }

            async fn generate_payroll(&self, change: &Change, office_id: i64, program: Program, period: Period) -> Result<Run> {
                let mut runs = self.generate_payrolls(change, &[office_id], program, period).await?;
                runs.pop().ok_or_else(|| StoreError::corrupt("a payroll generated without its run"))
            }

            async fn generate_payrolls(&self, change: &Change, offices: &[i64], program: Program, period: Period) -> Result<Vec<Run>> {
                change.check()?;
                let mut seen = HashSet::new();
                if let Some(o) = offices.iter().find(|o| !seen.insert(**o)) {
                    return Err(StoreError::invalid("office", format!("office #{o} is given twice")));
                }
                let started = std::time::Instant::now();
                let (mut tx, head) = self.begin_write().await?;
                let mut prepared = Vec::with_capacity(offices.len());
                for office in offices {
                    prepared.push(self.prepare_run(&mut tx, change, *office, program, period).await?);
                }
                tracing::debug!(elapsed = ?started.elapsed(), "payrolls read");
                let mut next_run = next_id(&mut tx, "payroll_runs").await?;
                let heads: Vec<RunHead> = prepared.iter().map(|p| p.head).collect();
                // Each office's lines as written, counted and summed (the lines themselves are not
                // kept: a month of 5,000,000 would hold 500 MB for three figures a run).
                let mut sums: Vec<(usize, Dong, Dong)> = vec![(0, Dong::ZERO, Dong::ZERO); prepared.len()];
                // Where the store writes each line's run itself (`LINE_RUNS_WRITTEN`), the ids of
                // each office's lines as written, ascending (the ranges come in id order).
                let mut line_ids: Vec<Vec<i64>> = prepared
                    .iter()
                    .map(|p| if LINE_RUNS_WRITTEN { Vec::with_capacity(p.persons.len()) } else { Vec::new() })
                    .collect();
                // The rows a draft generated again keeps (`clear_draft_lines`), whose entries stay.
                let mut staying: Vec<Vec<i64>> = vec![Vec::new(); prepared.len()];
                let mut run_ids = Vec::with_capacity(heads.len());
                for h in &heads {
                    let id = h.run_id.unwrap_or_else(|| {
                        next_run += 1;
                        next_run - 1
                    });
                    run_ids.push(id);
                }
                let rules = load_rules(&mut tx).await?;
                let engine = Engine::new(&rules);
                // The month's lines come in id order, whichever office they are for, a range of
                // persons at a time, computed beside the writing: they are written to the table in
                // one pass, in key order. A line already on another office's payroll of the month
                // (the beneficiary moved; or the same person in two offices given here: the first
                // keeps them) stays there: the key refuses it, and it is left out.
                let (mut ranges, computing) = compute_beside(rules.clone(), period, prepared);
                // A draft generated again makes way for its lines first: each run's ids, those a
                // line of another office given here before it takes left out (see
                // `clear_draft_lines`); so its lines are all computed before any is written. Rows
                // of other runs are never written over: the key refuses those lines.
                let again = heads.iter().any(|h| h.run_id.is_some());
                let mut waiting = std::collections::VecDeque::new();
                if again {
                    while let Some(range) = ranges.recv().await {
                        waiting.push_back(range?);
                    }
                    let mut kept: Vec<Vec<i64>> = vec![Vec::new(); heads.len()];
                    for range in &waiting {
                        for same_id in range.chunk_by(|a, b| a.1.id == b.1.id) {
                            let (r, line) = &same_id[0];
                            if heads[*r as usize].run_id.is_some() {
                                kept[*r as usize].push(line.id);
                            }
                        }
                    }
                    for ((h, kept), staying) in heads.iter().zip(&kept).zip(staying.iter_mut()) {
                        if let Some(run_id) = h.run_id {
                            *staying = clear_draft_lines(&mut tx, run_id, kept).await?;
                        }
                    }
                    tracing::debug!(elapsed = ?started.elapsed(), "lines computed, those no longer due deleted");
                }
                let mut written = 0;
                let mut waited = std::time::Duration::ZERO;
                loop {
                    let t = std::time::Instant::now();
                    let range = match waiting.pop_front() {
                        Some(range) => range,
                        None if again => break,
                        None => match ranges.recv().await {
                            Some(range) => range?,
                            None => break,
                        },
                    };
                    waited += t.elapsed();
                    let rows: Vec<(i64, &Line)> = range.iter().map(|(r, l)| (run_ids[*r as usize], l)).collect();
                    let refused = write_lines(&mut tx, &rows, &engine).await?;
                    written += rows.len();
                    drop(rows);
                    let mut refused = refused.into_iter().peekable();
                    for (k, (r, line)) in range.into_iter().enumerate() {
                        if refused.next_if_eq(&k).is_none() {
                            let (count, total, to_advance) = &mut sums[r as usize];
                            *count += 1;
                            if LINE_RUNS_WRITTEN && staying[r as usize].binary_search(&line.id).is_err() {
                                line_ids[r as usize].push(line.id);
                            }
                            *total = total.checked_add(line.total).map_err(|_| StoreError::invalid("total", "out of range"))?;
                            *to_advance = to_advance.checked_add(line.to_advance()).map_err(|_| StoreError::invalid("total", "out of range"))?;
                        }
                    }
                }
                // Every range sent: a computation that stopped short (it panicked) is an error,
                // not a shorter month.
                computing.await.map_err(|e| StoreError::corrupt(format!("the payroll's computation stopped: {e}")))?;
                tracing::debug!(elapsed = ?started.elapsed(), lines = written, ?waited, "lines computed and written");
                if LINE_RUNS_WRITTEN {
                    let mut runs: Vec<(i64, Vec<i64>)> = run_ids.iter().copied().zip(line_ids).collect();
                    write_line_runs(&mut tx, &mut runs).await?;
                    tracing::debug!(elapsed = ?started.elapsed(), "lines' runs written");
                }
                let at = change.at_text();
                let mut notes = Vec::with_capacity(heads.len());
                let mut made = Vec::with_capacity(heads.len());
                for ((RunHead { office_id, run_id: existing, contract_id, since, until }, run_id), (count, total, to_advance)) in heads.into_iter().zip(&run_ids).zip(sums) {
                    let run_id = *run_id;
                    if existing.is_some() {
                        sqlx::query("UPDATE payroll_runs SET contract_id = $1, known_since = $2, known_until = $3, lines = $4, total = $5, to_advance = $6, generated_by = $7, generated_at = $8 WHERE id = $9")
                            .bind(contract_id)
                            .bind(since)
                            .bind(until)
                            .bind(count as i64)
                            .bind(total.get())
                            .bind(to_advance.get())
                            .bind(change.actor.clone())
                            .bind(at.clone())
                            .bind(run_id)
                            .execute(&mut *tx)
                            .await?;
                    } else {
                        sqlx::query("INSERT INTO payroll_runs (id, office_id, program, period, contract_id, state, known_since, known_until, lines, total, to_advance, generated_by, generated_at) VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9, $10, $11, $12)")
                            .bind(run_id)
                            .bind(office_id)
                            .bind(program.code())
                            .bind(period.yyyymm())
                            .bind(contract_id)
                            .bind(since)
                            .bind(until)
                            .bind(count as i64)
                            .bind(total.get())
                            .bind(to_advance.get())
                            .bind(change.actor.clone())
                            .bind(at.clone())
                            .execute(&mut *tx)
                            .await?;
                    }
                    notes.push(note(
                        "payroll.generate",
                        format!("run:{run_id}"),
                        &serde_json::json!({ "office_id": office_id, "program": program, "period": period, "lines": count, "total_vnd": total, "known_since": since, "known_until": until, "again": existing.is_some() }),
                    )?);
                    // A new draft's lines are all due.
                    let mut run = run_head(&mut tx, run_id).await?;
                    if count > 0 {
                        run.by_status.push(StatusCount { status: LineStatus::Due, lines: count as i64, amount: total });
                    }
                    made.push(run);
                }
                tracing::debug!(elapsed = ?started.elapsed(), "runs written");
                commit(tx, head, change, notes).await?;
                tracing::debug!(elapsed = ?started.elapsed(), "committed");
                Ok(made)
            }

            async fn load_register(&self, program: Program, period: Period) -> Result<usize> {
                // Read in one snapshot of the database, beside the writer (a server loads its
                // registers as it starts, while payments come): every table read as of the same
                // moment, so what is kept is what a generation would have read then. Where the
                // backend gives a second reader in the same snapshot, the decisions are read on
                // it meanwhile.
                let (mut first, second) = self.snapshot_pair().await?;
                let conn: &mut Conn = &mut first;
                let rules = load_rules(&mut *conn).await?;
                let engine = Engine::new(&rules);
                let beside = match second {
                    Some(reader) => Beside::Reader(reader),
                    None => Beside::No,
                };
                let (register, _) = self.compiled_register(conn, &engine, program, chitra_core::calc::month_ix(period), beside).await?;
                Ok(register.persons.len())
            }

            async fn approve_payroll(&self, change: &Change, run_id: i64) -> Result<Run> {
                change.check()?;
                let (mut tx, head) = self.begin_write().await?;
                let run = run_head(&mut tx, run_id).await?;
                step_run(&mut tx, &run, RunAction::Approve, &change.actor, &change.at_text()).await?;
                let n = note("payroll.approve", format!("run:{run_id}"), &serde_json::json!({ "lines": run.lines, "total_vnd": run.total, "generated_by": run.generated_by }))?;
                commit(tx, head, change, vec![n]).await?;
                self.run(run_id).await
            }

            async fn fund_payroll(&self, change: &Change, run_id: i64) -> Result<Run> {
                change.check()?;
                let (mut tx, head) = self.begin_write().await?;
                let run = run_head(&mut tx, run_id).await?;
                step_run(&mut tx, &run, RunAction::Fund, &change.actor, &change.at_text()).await?;
                let contract = contract_of(&mut tx, run.contract_id).await?;
                let sums = run_sums(&mut tx, &run).await?;
                let r = RunRef { run_id, office_id: run.office_id, program: run.program, period: run.period, contract: &contract.terms.code };
                let on = change.date();
                let mut transfers = r.funding(&sums, on);
                // Facilities are paid from the fund with the advance.
                let codes = point_codes(&mut tx).await?;
                let code = |p: i64| crate::point_code(codes.get(&p).map(String::as_str), p);
                let facility: Vec<cyc::Owed> = owed_lines(&mut tx, &run, "channel = 'facility' AND total > 0")
                    .await?
                    .into_iter()
                    .map(|(o, ..)| o)
                    .collect();
                transfers.extend(facility.iter().map(|l| r.payment(*l, on, &code)));
                let pay_seqs = post_transfers(&mut tx, &transfers, &change.at_text()).await?;
                let paid_at = change.at.fixed_offset();
                let payments: Vec<NewPayment> = facility
                    .iter()
                    .map(|l| NewPayment {
                        id: format!("facility:{}", l.line_id),
                        line_id: l.line_id,
                        amount: l.total,
                        paid_at,
                        agent: change.actor.clone(),
                        identity: chitra_core::payment::Identity::Facility,
                        location: chitra_core::payment::Location::Remote,
                    })
                    .collect();
                let at = change.at_text();
                let mut rows = Vec::with_capacity(payments.len());
                for p in &payments {
                    rows.push(PaymentRow::new(p, run_id, chitra_core::payment::Method::Facility, None, &at, pay_seqs.get(&p.line_id).copied())?);
                }
                insert_payment_rows(&mut hold(&mut tx).await?, &rows).await?;
                let n = note("payroll.fund", format!("run:{run_id}"), &serde_json::json!({ "transfers": transfers.len(), "advanced_vnd": run.to_advance, "facility_lines_paid": facility.len() }))?;
                commit(tx, head, change, vec![n]).await?;
                self.run(run_id).await
            }

            async fn open_payroll(&self, change: &Change, run_id: i64) -> Result<Run> {
                change.check()?;
                let (mut tx, head) = self.begin_write().await?;
                let run = run_head(&mut tx, run_id).await?;
                step_run(&mut tx, &run, RunAction::Pay, &change.actor, &change.at_text()).await?;
                let contract = contract_of(&mut tx, run.contract_id).await?;
                let sums = run_sums(&mut tx, &run).await?;
                let codes = point_codes(&mut tx).await?;
                let code = |p: i64| crate::point_code(codes.get(&p).map(String::as_str), p);
                let r = RunRef { run_id, office_id: run.office_id, program: run.program, period: run.period, contract: &contract.terms.code };
                let transfers = r.distribution(&sums, change.date(), &code);
                post_transfers(&mut tx, &transfers, &change.at_text()).await?;
                let n = note("payroll.open", format!("run:{run_id}"), &serde_json::json!({ "points": transfers.len() }))?;
                commit(tx, head, change, vec![n]).await?;
                self.run(run_id).await
            }

            async fn record_payments(&self, change: &Change, batch: &[NewPayment]) -> Result<Vec<PaymentResult>> {
                change.check()?;
                let group = crate::payments::PaymentGroup { change: change.clone(), within: crate::payments::Within::Anywhere, payments: batch.to_vec() };
                let (mut answers, durable) = self.record_groups(vec![group]).await?;
                durable.wait().await?;
                Ok(answers.pop().unwrap_or_default())
            }

            async fn close_payroll(&self, change: &Change, run_id: i64) -> Result<Closed> {
                change.check()?;
                let (mut tx, head) = self.begin_write().await?;
                let run = run_head(&mut tx, run_id).await?;
                step_run(&mut tx, &run, RunAction::Close, &change.actor, &change.at_text()).await?;
                let contract = contract_of(&mut tx, run.contract_id).await?;
                let rules = load_rules(&mut tx).await?;
                let engine = Engine::new(&rules);
                // Only the lines not paid are looked at one by one; the paid are counted.
                let unpaid = owed_lines(&mut tx, &run, "status = 'due'").await?;
                let reissued_paid: Vec<(i64, Dong)> = owed_lines(&mut tx, &run, "status = 'paid' AND reissued > 0")
                    .await?
                    .into_iter()
                    .map(|(_, b, reissued, _)| (b, reissued))
                    .collect();
                // The post office's fee is for what the post office paid: facilities are paid by the office.
                let paid_row = sqlx::query("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS amount FROM run_lines WHERE run_id = $1 AND status = 'paid' AND total > 0 AND channel <> 'facility'")
                    .bind(run_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let (paid_count, paid_amount): (i64, Dong) = (paid_row.try_get("n")?, Dong(paid_row.try_get("amount")?));
                let (register, _) = self.compiled_register(&mut tx, &engine, run.program, chitra_core::calc::month_ix(run.period), Beside::Pool(&self.pool)).await?;
                let codes = point_codes(&mut tx).await?;
                let code = |p: i64| crate::point_code(codes.get(&p).map(String::as_str), p);
                let r = RunRef { run_id, office_id: run.office_id, program: run.program, period: run.period, contract: &contract.terms.code };
                let on = change.date();
                let known = chitra_core::calc::day_ix(on.succ_opt().unwrap_or(on));
                let next = chitra_core::calc::month_ix(run.period.next());
                let mut transfers = Vec::new();
                let mut outcomes: Vec<(i64, LineStatus)> = Vec::new();
                let mut returned: Vec<(i64, Dong)> = Vec::new();
                let mut returned_lines: Vec<(i64, i64, Dong)> = Vec::new();
                let mut suspend: Vec<i64> = Vec::new();
                let (mut carried_count, mut returned_count) = (0i64, 0i64);
                for (owed, beneficiary, reissued, streak) in &unpaid {
                    let person = register.persons.binary_search_by_key(beneficiary, |p| p.id).ok().map(|i| &register.persons[i]);
                    let paid_next = person.is_some_and(|p| {
                        engine.month(register.subject(p), next, known, &mut ()).status == chitra_core::entitlement::MonthStatus::Due
                    });
                    let closing = pay::close_line(owed.channel, owed.total, *streak, false, paid_next);
                    outcomes.push((owed.line_id, closing.status));
                    transfers.extend(r.unpaid(*owed, closing.status, on, &code));
                    match closing.status {
                        LineStatus::Carried => carried_count += 1,
                        LineStatus::Returned => {
                            returned_count += 1;
                            returned_lines.push((owed.line_id, *beneficiary, owed.total));
                            if closing.suspend || paid_next {
                                returned.push((*beneficiary, Dong(owed.total.get() - reissued.get())));
                            }
                        }
                        _ => {}
                    }
                    if closing.suspend {
                        suspend.push(*beneficiary);
                    }
                }
                let fee = contract.terms.fee.fee(paid_amount, paid_count).map_err(|_| StoreError::invalid("fee", "out of range"))?;
                transfers.extend(r.fee(fee, on));
                post_transfers(&mut tx, &transfers, &change.at_text()).await?;
                for status in [LineStatus::Carried, LineStatus::Returned, LineStatus::Paid] {
                    let ids: Vec<i64> = outcomes.iter().filter(|(_, s)| *s == status).map(|(id, _)| *id).collect();
                    set_status(&mut tx, &ids, status.code()).await?;
                }
                // A payment leaves its line's row alone (migration 0009): the view reads a line
                // as paid while its row says due. Once the last run of the month and program being
                // paid is closed, the lines paid become 'paid' in their rows in one pass over the
                // month's range of line ids (the lines of one run are spread over all of it), so
                // that a closed month reads its statuses as stored.
                let paying: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payroll_runs WHERE period = $1 AND program = $2 AND state = 'paying'")
                    .bind(run.period.yyyymm())
                    .bind(run.program.code())
                    .fetch_one(&mut *tx)
                    .await?;
                if paying == 0 {
                    let (lo, hi) = period_range(run.period, run.program);
                    sqlx::query("UPDATE payroll_line_rows SET status = 'paid' WHERE id >= $1 AND id < $2 AND status = 'due' AND EXISTS (SELECT 1 FROM payment_lines p WHERE p.line_id = payroll_line_rows.id)")
                        .bind(lo)
                        .bind(hi)
                        .execute(&mut *tx)
                        .await?;
                }
                for chunk in returned_lines.chunks(MAX_PARAMS / 5) {
                    let mut q = QueryBuilder::<Db>::new("INSERT INTO payee_returns (program, beneficiary_id, period, line_id, amount) ");
                    q.push_values(chunk, |mut b, (line, beneficiary, total)| {
                        b.push_bind(run.program.code()).push_bind(*beneficiary).push_bind(run.period.yyyymm()).push_bind(*line).push_bind(total.get());
                    });
                    q.build().execute(&mut *tx).await?;
                }
                // Returned money stays owed to whoever will be paid again; reissued money paid is settled.
                for (b, delta) in returned.iter().map(|(b, d)| (*b, d.get())).chain(reissued_paid.iter().map(|(b, d)| (*b, -d.get()))) {
                    sqlx::query("INSERT INTO payee_balances (program, beneficiary_id, returned_owed) VALUES ($1, $2, $3) ON CONFLICT (program, beneficiary_id) DO UPDATE SET returned_owed = payee_balances.returned_owed + excluded.returned_owed")
                        .bind(run.program.code())
                        .bind(b)
                        .bind(delta.max(-i64::MAX))
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("UPDATE payroll_runs SET fee = $1 WHERE id = $2")
                    .bind(fee.get())
                    .bind(run_id)
                    .execute(&mut *tx)
                    .await?;
                // Suspensions for three months not collected, each a decision, listed for review.
                let mut codes_suspended = Vec::new();
                if !suspend.is_empty() {
                    let first = next_id(&mut tx, "decisions").await?;
                    let review0 = next_id(&mut tx, "reviews").await?;
                    let mut made = Vec::new();
                    for b in &suspend {
                        let code: Option<String> = sqlx::query_scalar("SELECT code FROM beneficiaries WHERE id = $1")
                            .bind(*b)
                            .fetch_optional(&mut *tx)
                            .await?;
                        let Some(file) = files(&mut tx, Select::Code(code.unwrap_or_default())).await?.into_iter().next() else {
                            continue;
                        };
                        let d = Decision {
                            id: first + made.len() as i64,
                            beneficiary_id: *b,
                            recorded_on: on,
                            terms: NewDecision {
                                kind: DecisionKind::Suspend,
                                number: None,
                                category: None,
                                replaces: None,
                                dependants: 1,
                                effective: run.period.next(),
                                signed_on: on,
                                signer: change.actor.clone(),
                                reason: format!("Không nhận trợ cấp {} tháng liên tục (đến {})", pay::UNCOLLECTED_MONTHS_BEFORE_SUSPENSION, run.period),
                                death_date: None,
                            },
                        };
                        // Only what the decision rules allow (not after a death recorded since, not twice).
                        if check_decision(&file.beneficiary, &file.decisions, &d.terms, &rules, on).is_ok() {
                            made.push(d);
                        }
                    }
                    insert_decisions(&mut tx, &made, &change.at_text()).await?;
                    for (i, d) in made.iter().enumerate() {
                        sqlx::query("INSERT INTO reviews (id, beneficiary_id, run_id, reason, decision_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                            .bind(review0 + i as i64)
                            .bind(d.beneficiary_id)
                            .bind(run_id)
                            .bind("suspended: not collected three months running".to_owned())
                            .bind(d.id)
                            .bind(change.at_text())
                            .execute(&mut *tx)
                            .await?;
                        let code: Option<String> = sqlx::query_scalar("SELECT code FROM beneficiaries WHERE id = $1")
                            .bind(d.beneficiary_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                        codes_suspended.push(code.unwrap_or_default());
                    }
                }
                let n = note(
                    "payroll.close",
                    format!("run:{run_id}"),
                    &serde_json::json!({ "paid": paid_count, "paid_vnd": paid_amount, "carried": carried_count, "returned": returned_count, "fee_vnd": fee, "suspended": codes_suspended }),
                )?;
                commit(tx, head, change, vec![n]).await?;
                Ok(Closed { run: self.run(run_id).await?, carried: carried_count, returned: returned_count, fee, suspended: codes_suspended })
            }

            async fn runs(&self, period: Option<Period>) -> Result<Vec<Run>> {
                let mut q = QueryBuilder::<Db>::new("SELECT id FROM payroll_runs");
                if let Some(p) = period {
                    q.push(" WHERE period = ").push_bind(p.yyyymm());
                }
                q.push(" ORDER BY period, office_id, program");
                let ids: Vec<i64> = q.build_query_scalar().fetch_all(&self.pool).await?;
                let mut conn = self.pool.acquire().await?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.push(run_row(&mut conn, id).await?);
                }
                Ok(out)
            }

            async fn run(&self, run_id: i64) -> Result<Run> {
                let mut conn = self.pool.acquire().await?;
                run_row(&mut conn, run_id).await
            }

            async fn run_lines(&self, run_id: i64, filter: &LineFilter) -> Result<Page<LineRow>> {
                let mut conn = self.pool.acquire().await?;
                let run = run_row(&mut conn, run_id).await?;
                let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM run_lines l");
                line_conditions(&mut count, &run, filter, true);
                let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
                let mut q = QueryBuilder::<Db>::new(line_select("run_lines"));
                line_conditions(&mut q, &run, filter, true);
                let limit = if filter.limit <= 0 { 100 } else { filter.limit.min(10_000) };
                q.push(" ORDER BY l.id LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(filter.offset.max(0));
                let rows = q.build().fetch_all(&mut *conn).await?;
                let items = rows.iter().map(line_row).collect::<Result<Vec<_>>>()?;
                Ok(Page { total, offset: filter.offset.max(0), items })
            }

            async fn run_part(&self, run_id: i64, filter: &LineFilter) -> Result<Run> {
                let mut conn = self.pool.acquire().await?;
                let mut run = run_head(&mut conn, run_id).await?;
                let mut q = QueryBuilder::<Db>::new("SELECT l.status, COUNT(*) AS n, CAST(SUM(l.total) AS BIGINT) AS amount FROM run_lines l");
                line_conditions(&mut q, &run, filter, false);
                q.push(" GROUP BY l.status ORDER BY l.status");
                for s in q.build().fetch_all(&mut *conn).await? {
                    run.by_status.push(StatusCount {
                        status: status_of(&s.try_get::<String, _>("status")?)?,
                        lines: s.try_get("n")?,
                        amount: Dong(s.try_get::<Option<i64>, _>("amount")?.unwrap_or(0)),
                    });
                }
                run.lines = run.by_status.iter().map(|s| s.lines).sum();
                run.total = Dong(run.by_status.iter().map(|s| s.amount.get()).sum());
                run.to_advance = run.total;
                run.fee = None;
                Ok(run)
            }

            async fn line_trail(&self, line_id: i64) -> Result<LineTrail> {
                let mut conn = self.pool.acquire().await?;
                // Both parts are constants of this file.
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{} WHERE l.id = $1", line_select("payroll_lines"))))
                    .bind(line_id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or_else(|| StoreError::NotFound { what: "payroll line", key: line_id.to_string() })?;
                let line = line_row(&row)?;
                let run = run_head(&mut conn, line.run_id).await?;
                let rules = load_rules(&mut conn).await?;
                let code = line.beneficiary_code.clone();
                let explanation = match files(&mut conn, Select::Code(code)).await?.into_iter().next() {
                    Some(f) => {
                        let learned = chitra_core::entitlement::Learned { since: run.known_since, until: run.known_until };
                        chitra_core::entitlement::entitlement_learned(&f.beneficiary, &f.decisions, &rules, run.period, learned).ok()
                    }
                    None => None,
                };
                let payment = match sqlx::query(sqlx::AssertSqlSafe(format!("SELECT p.id, p.amount, p.paid_at, p.agent, p.method, p.proof, p.recorded_at FROM payment_lines pl {PAYMENT_OF_LINE} WHERE pl.line_id = $1")))
                    .bind(line_id)
                    .fetch_optional(&mut *conn)
                    .await?
                {
                    Some(r) => Some(PaymentRecord {
                        flags: {
                            let id: String = r.try_get("id")?;
                            let mut flags = Vec::new();
                            for f in sqlx::query("SELECT kind, evidence FROM payment_flags WHERE payment_id = $1 ORDER BY kind")
                                .bind(id)
                                .fetch_all(&mut *conn)
                                .await?
                            {
                                flags.push(crate::cycle::RecordedFlag {
                                    kind: parsed("flag kind", chitra_core::anomaly::FlagKind::parse(&f.try_get::<String, _>("kind")?))?,
                                    evidence: serde_json::from_str(&f.try_get::<String, _>("evidence")?).map_err(StoreError::corrupt)?,
                                });
                            }
                            flags
                        },
                        id: r.try_get("id")?,
                        amount: Dong(r.try_get("amount")?),
                        paid_at: r.try_get("paid_at")?,
                        agent: r.try_get("agent")?,
                        method: r.try_get("method")?,
                        proof: serde_json::from_str(&r.try_get::<String, _>("proof")?).map_err(StoreError::corrupt)?,
                        recorded_at: r.try_get("recorded_at")?,
                    }),
                    None => None,
                };
                let mut transfers = Vec::new();
                scan(
                    &mut conn,
                    &format!("SELECT {TRANSFER_COLUMNS} FROM {LINE_TRANSFERS} WHERE tl.period = $1 AND tl.kind IN ('pay', 'carry', 'return') AND tl.line_id = $2 ORDER BY t.id"),
                    &[Arg::Int(run.period.yyyymm()), Arg::Int(line_id)],
                    |r| {
                        transfers.push(transfer_read(r)?);
                        Ok(())
                    },
                )
                .await?;
                Ok(LineTrail { period: run.period, run_state: run.state, line, explanation, payment, transfers })
            }

            async fn run_differences(&self, run_id: i64) -> Result<Vec<DiffRow>> {
                let mut conn = self.pool.acquire().await?;
                let run = run_row(&mut conn, run_id).await?;
                let previous: Option<i64> = sqlx::query_scalar("SELECT id FROM payroll_runs WHERE office_id = $1 AND program = $2 AND period = $3")
                    .bind(run.office_id)
                    .bind(run.program.code())
                    .bind(run.period.prev().yyyymm())
                    .fetch_optional(&mut *conn)
                    .await?;
                let amounts = |rows: Vec<<Db as sqlx::Database>::Row>| -> Result<Vec<(i64, Dong)>> {
                    rows.iter().map(|r| Ok((r.try_get("beneficiary_id")?, Dong(r.try_get("monthly")?)))).collect()
                };
                let now = amounts(
                    sqlx::query("SELECT beneficiary_id, monthly FROM run_lines WHERE run_id = $1 ORDER BY id")
                        .bind(run_id)
                        .fetch_all(&mut *conn)
                        .await?,
                )?;
                let before = match previous {
                    Some(prev) => {
                        amounts(
                            sqlx::query("SELECT beneficiary_id, monthly FROM run_lines WHERE run_id = $1 ORDER BY id")
                                .bind(prev)
                                .fetch_all(&mut *conn)
                                .await?,
                        )?
                    }
                    None => Vec::new(),
                };
                let diffs = pay::differences(&before, &now);
                let rules = load_rules(&mut conn).await?;
                let mut out = Vec::with_capacity(diffs.len());
                for d in diffs.into_iter().take(10_000) {
                    let file = sqlx::query_scalar::<_, String>("SELECT code FROM beneficiaries WHERE id = $1")
                        .bind(d.beneficiary_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                    let Some(code) = file else { continue };
                    let Some(f) = files(&mut conn, Select::Code(code.clone())).await?.into_iter().next() else { continue };
                    let learned = chitra_core::entitlement::Learned { since: run.known_since, until: run.known_until };
                    let why = chitra_core::entitlement::entitlement_learned(&f.beneficiary, &f.decisions, &rules, run.period, learned)
                        .map(|e| e.month.rule)
                        .unwrap_or_default();
                    out.push(DiffRow {
                        beneficiary_id: d.beneficiary_id,
                        beneficiary_code: code,
                        full_name: f.beneficiary.full_name.clone(),
                        kind: d.kind,
                        before: d.before,
                        now: d.now,
                        why,
                    });
                }
                Ok(out)
            }

            async fn due_lines(&self, run_id: i64) -> Result<Vec<DueLine>> {
                let mut conn = self.pool.acquire().await?;
                run_head(&mut conn, run_id).await?;
                let mut due = lookup_ids(
                    &mut conn,
                    "SELECT id, beneficiary_id, channel, point_id, facility_id, home_delivery, total FROM run_lines WHERE status = 'due' AND total > 0 AND run_id",
                    &[run_id],
                    |r| {
                        Ok(DueLine {
                            id: r.int(0),
                            beneficiary_id: r.int(1),
                            channel: channel_of(&r.text(2), r.opt_int(3), r.opt_int(4))?,
                            home_delivery: r.int(5) != 0,
                            total: Dong(r.int(6)),
                        })
                    },
                )
                .await?;
                due.sort_by_key(|l| l.id);
                Ok(due)
            }

            async fn reviews(&self) -> Result<Vec<Review>> {
                let rows = sqlx::query("SELECT r.id, b.code, b.full_name, p.period, r.reason, r.decision_id FROM reviews r JOIN beneficiaries b ON b.id = r.beneficiary_id JOIN payroll_runs p ON p.id = r.run_id WHERE r.resolved_at IS NULL ORDER BY r.id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Review {
                            id: r.try_get("id")?,
                            beneficiary_code: r.try_get("code")?,
                            full_name: r.try_get("full_name")?,
                            period: period_of(r.try_get("period")?)?,
                            reason: r.try_get("reason")?,
                            decision_id: r.try_get("decision_id")?,
                        })
                    })
                    .collect()
            }

            async fn settlement(&self, period: Period) -> Result<SettlementReport> {
                let mut conn = self.pool.acquire().await?;
                let mut flows = Vec::new();
                for r in sqlx::query("SELECT kind, debit, credit, amount, n FROM transfer_sums WHERE period = $1 ORDER BY kind, debit, credit")
                    .bind(period.yyyymm())
                    .fetch_all(&mut *conn)
                    .await?
                {
                    flows.push(Flow {
                        kind: TransferKind::parse(&r.try_get::<String, _>("kind")?).ok_or_else(|| StoreError::corrupt("transfer kind"))?,
                        debit: Account::parse(&r.try_get::<String, _>("debit")?)?,
                        credit: Account::parse(&r.try_get::<String, _>("credit")?)?,
                        amount: Dong(r.try_get("amount")?),
                        count: r.try_get("n")?,
                    });
                }
                let mut held = BTreeMap::new();
                for r in sqlx::query("SELECT debit, CAST(SUM(amount) AS BIGINT) AS amount FROM transfer_sums WHERE period = $1 AND kind = 'carry' GROUP BY debit")
                    .bind(period.prev().yyyymm())
                    .fetch_all(&mut *conn)
                    .await?
                {
                    held.insert(r.try_get::<String, _>("debit")?, Dong(r.try_get("amount")?));
                }
                // From the lines: what is still due on payrolls funded or paying, and what was
                // carried in for offices not funded yet — on a draft, or with no payroll this month.
                let mut holding: BTreeMap<String, cyc::Holding> = BTreeMap::new();
                let mut hold = |code: String, open: i64, waiting: i64| -> Result<()> {
                    let h = holding.entry(format!("post:{code}")).or_default();
                    h.open = h.open.checked_add(Dong(open)).map_err(|_| StoreError::invalid("period", "amounts out of range"))?;
                    h.waiting = h.waiting.checked_add(Dong(waiting)).map_err(|_| StoreError::invalid("period", "amounts out of range"))?;
                    Ok(())
                };
                for r in sqlx::query(
                    "SELECT c.code, r.state, CAST(SUM(CASE WHEN l.status = 'due' THEN l.total ELSE 0 END) AS BIGINT) AS due, CAST(SUM(l.carried) AS BIGINT) AS carried \
                     FROM run_lines l JOIN payroll_runs r ON r.id = l.run_id JOIN contracts c ON c.id = r.contract_id \
                     WHERE l.run_id IN (SELECT id FROM payroll_runs WHERE period = $1 AND state <> 'closed') AND l.channel <> 'facility' GROUP BY c.code, r.state",
                )
                .bind(period.yyyymm())
                .fetch_all(&mut *conn)
                .await?
                {
                    let state: String = r.try_get("state")?;
                    let (due, carried): (Option<i64>, Option<i64>) = (r.try_get("due")?, r.try_get("carried")?);
                    match state.as_str() {
                        "funded" | "paying" => hold(r.try_get("code")?, due.unwrap_or(0), 0)?,
                        _ => hold(r.try_get("code")?, 0, carried.unwrap_or(0))?,
                    }
                }
                // Carried into no line of this month yet: the beneficiary's line of this month (its
                // id derived from last month's) is on no payroll, whichever office pays them now.
                let next_line = pay::line_id_shift(period.prev(), period);
                for r in sqlx::query(
                    "SELECT c.code, CAST(SUM(t.amount) AS BIGINT) AS amount FROM transfer_lines t JOIN payroll_runs p ON p.id = t.run_id JOIN contracts c ON c.id = p.contract_id \
                     WHERE t.period = $1 AND t.kind = 'carry' \
                     AND NOT EXISTS (SELECT 1 FROM payroll_lines n WHERE n.id = t.line_id + $2) GROUP BY c.code",
                )
                .bind(period.prev().yyyymm())
                .bind(next_line)
                .fetch_all(&mut *conn)
                .await?
                {
                    hold(r.try_get("code")?, 0, r.try_get::<Option<i64>, _>("amount")?.unwrap_or(0))?;
                }
                // What each point (or the bank transit account) still holds for lines due on
                // payrolls being paid.
                let codes = point_codes(&mut conn).await?;
                let mut at_points: BTreeMap<String, Dong> = BTreeMap::new();
                for r in sqlx::query(
                    "SELECT l.channel, l.point_id, c.code, CAST(SUM(l.total) AS BIGINT) AS due \
                     FROM run_lines l JOIN payroll_runs r ON r.id = l.run_id JOIN contracts c ON c.id = r.contract_id \
                     WHERE l.run_id IN (SELECT id FROM payroll_runs WHERE period = $1 AND state = 'paying') AND l.status = 'due' AND l.channel <> 'facility' GROUP BY l.channel, l.point_id, c.code",
                )
                .bind(period.yyyymm())
                .fetch_all(&mut *conn)
                .await?
                {
                    let holder = match (r.try_get::<String, _>("channel")?.as_str(), r.try_get::<Option<i64>, _>("point_id")?) {
                        ("point", Some(p)) => Account::cash(&crate::point_code(codes.get(&p).map(String::as_str), p)),
                        _ => Account::bank(&r.try_get::<String, _>("code")?),
                    };
                    let due = Dong(r.try_get::<Option<i64>, _>("due")?.unwrap_or(0));
                    let h = at_points.entry(holder.as_str().to_owned()).or_default();
                    *h = h.checked_add(due).map_err(|_| StoreError::invalid("period", "amounts out of range"))?;
                }
                let settlement = cyc::settle(&flows, &held, &holding, &at_points).map_err(|_| StoreError::invalid("period", "amounts out of range"))?;
                Ok(SettlementReport { period, balances: settlement.balances(), settlement })
            }

            async fn reconcile(&self, period: Period) -> Result<Reconciliation> {
                // The month's lines, payments and pay transfers, each read in line order (the
                // payments and transfers from what is kept by their line: `payment_lines` and
                // `transfer_lines`, migration 0010), as they are stored: the match
                // trusts no sum kept on the side. All three from one snapshot; on PostgreSQL in
                // three server processes at once (the time is the server's producing the rows).
                /// Every row of `sql` over the month's line ids of each program (`$1` to `$2`).
                async fn scan_month(conn: &mut <Db as sqlx::Database>::Connection, period: Period, sql: &str, mut each: impl FnMut(&Reader<'_>) -> Result<()>) -> Result<()> {
                    for program in Program::ALL {
                        let (lo, hi) = period_range(period, program);
                        scan(conn, sql, &[Arg::Int(lo), Arg::Int(hi)], &mut each).await?;
                    }
                    Ok(())
                }
                async fn match_lines(conn: &mut <Db as sqlx::Database>::Connection, period: Period) -> Result<Vec<LineFact>> {
                    let mut lines = Vec::new();
                    scan_month(conn, period, "SELECT id, total, status FROM payroll_lines WHERE id >= $1 AND id < $2 ORDER BY id", |r| {
                        lines.push(LineFact { id: r.int(0), total: Dong(r.int(1)), status: status_of(r.str(2).unwrap_or(""))? });
                        Ok(())
                    })
                    .await?;
                    Ok(lines)
                }
                async fn match_payments(conn: &mut <Db as sqlx::Database>::Connection, period: Period) -> Result<Vec<PaymentFact>> {
                    let mut payments = Vec::new();
                    scan_month(conn, period, PAYMENT_FACTS, |r| {
                        payments.push(PaymentFact { line_id: r.int(0), amount: Dong(r.int(1)), id: r.text(2) });
                        Ok(())
                    })
                    .await?;
                    Ok(payments)
                }
                async fn match_transfers(conn: &mut <Db as sqlx::Database>::Connection, period: Period) -> Result<Vec<TransferFact>> {
                    let mut transfers = Vec::new();
                    scan(conn, PAY_TRANSFER_FACTS, &[Arg::Int(period.yyyymm())], |r| {
                        transfers.push(TransferFact { line_id: r.int(0), amount: Dong(r.int(1)) });
                        Ok(())
                    })
                    .await?;
                    // In line order for the match (SQLite's come in the order they were made).
                    transfers.sort_unstable_by_key(|t| t.line_id);
                    Ok(transfers)
                }
                async fn payment_ids_of_lines(conn: &mut <Db as sqlx::Database>::Connection, lines: &[i64]) -> Result<Vec<(i64, String)>> {
                    lookup_ids(conn, PAYMENT_IDS_OF_LINES, lines, |r| Ok((r.int(0), r.text(1)))).await
                }
                let mut readers = snapshot_readers(&self.pool, 3).await?;
                let (lines, mut payments, transfers) = match readers.as_mut_slice() {
                    [a, b, c] => futures_util::future::try_join3(match_lines(a, period), match_payments(b, period), match_transfers(c, period)).await?,
                    [a] => (match_lines(a, period).await?, match_payments(a, period).await?, match_transfers(a, period).await?),
                    _ => return Err(StoreError::corrupt("no connection to read the month with")),
                };
                let mut mismatches = cyc::three_way(&lines, &payments, &transfers);
                // Where the month's payments came without their ids (SQLite's `PAYMENT_FACTS`),
                // the ids of the lines the match names are read, from the same snapshot, and the
                // match made again with them: its findings name the payments.
                if !mismatches.is_empty() && payments.iter().any(|p| p.id.is_empty()) {
                    let mut named: Vec<i64> = mismatches.iter().map(|m| m.line_id).collect();
                    named.sort_unstable();
                    named.dedup();
                    let Some(reader) = readers.first_mut() else {
                        return Err(StoreError::corrupt("no connection to read the month with"));
                    };
                    let ids: HashMap<i64, String> = payment_ids_of_lines(reader, &named).await?.into_iter().collect();
                    for p in payments.iter_mut().filter(|p| p.id.is_empty()) {
                        if let Some(id) = ids.get(&p.line_id) {
                            p.id.clone_from(id);
                        }
                    }
                    mismatches = cyc::three_way(&lines, &payments, &transfers);
                }
                Ok(Reconciliation {
                    period,
                    lines: lines.len() as i64,
                    payments: payments.len() as i64,
                    pay_transfers: transfers.len() as i64,
                    mismatches,
                })
            }

            async fn ledger_balances(&self) -> Result<Vec<crate::cycle::AccountBalance>> {
                let rows = sqlx::query("SELECT name, kind, debits, credits FROM accounts ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let name: String = r.try_get("name")?;
                        let kind: String = r.try_get("kind")?;
                        Ok(crate::cycle::AccountBalance::from((name.as_str(), kind.as_str(), Balance { debits: r.try_get("debits")?, credits: r.try_get("credits")? })))
                    })
                    .collect()
            }

            async fn ledger_days(&self) -> Result<Vec<DayFlow>> {
                let rows = sqlx::query("SELECT on_date, period, kind, debit, credit, CAST(SUM(amount) AS BIGINT) AS amount, COUNT(*) AS n FROM transfers GROUP BY on_date, period, kind, debit, credit ORDER BY on_date, period, kind, debit, credit")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(DayFlow {
                            on: r.try_get("on_date")?,
                            period: period_of(r.try_get("period")?)?,
                            flow: Flow {
                                kind: TransferKind::parse(&r.try_get::<String, _>("kind")?).ok_or_else(|| StoreError::corrupt("transfer kind"))?,
                                debit: Account::parse(&r.try_get::<String, _>("debit")?)?,
                                credit: Account::parse(&r.try_get::<String, _>("credit")?)?,
                                amount: Dong(r.try_get("amount")?),
                                count: r.try_get("n")?,
                            },
                        })
                    })
                    .collect()
            }

            async fn ledger_transfers(&self, after: Option<(Period, String)>, limit: i64) -> Result<Vec<Transfer>> {
                let (period, id) = after.map(|(p, id)| (p.yyyymm(), id)).unwrap_or((0, String::new()));
                let mut conn = self.pool.acquire().await?;
                let mut transfers = Vec::new();
                scan(
                    &mut conn,
                    &format!("SELECT {TRANSFER_COLUMNS} FROM transfers t WHERE t.period > $1 OR (t.period = $1 AND t.id > $2) ORDER BY t.period, t.id LIMIT $3"),
                    &[Arg::Int(period), Arg::Text(&id), Arg::Int(limit.clamp(1, 100_000))],
                    |r| {
                        transfers.push(transfer_read(r)?);
                        Ok(())
                    },
                )
                .await?;
                Ok(transfers)
            }
        }

    };
}
