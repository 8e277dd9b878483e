//! The payment service, one body for both backends (see `shared.rs`). Expanded after
//! `shared_store!` and `shared_cycle!` in the same module, whose helpers it uses.
//!
//! Recording a transaction of payments reads what it needs with one batched lookup per table
//! (lines with their beneficiaries and deaths, payments already made, runs, points and schedules,
//! proxies), decides each payment in memory with the core's rules, and writes the accepted ones
//! with a bulk insert per table and chunk — whatever the number of groups. A large transaction
//! is decided on a thread of its own while the writer writes the chunks already decided.

macro_rules! shared_payments {
    ($Store:ident) => {
        use chitra_core::anomaly::{self, Flag, FlagKind};
        use chitra_core::payment::{self as pmt, Coordinates, Identity, Location};
        use chitra_core::schedule::{MonthDays, PointSchedule, Weekdays};
        use crate::CommitLater as _;
        use crate::IntMap;
        use crate::payments::{Assignment, FlagFilter, FlagRow, NewSchedule, PaidDay, PaymentGroup, Payments, Schedule, Within};

        /// How late a payment's time may be after the moment it is recorded: tablets' clocks drift.
        const CLOCK_SKEW_MINUTES: i64 = 15;

        /// Narrows a query to `within`: the point in `point_column`, or the communes of the line
        /// joined as `l`.
        fn push_within(q: &mut QueryBuilder<Db>, within: &Within, point_column: &'static str) {
            match within {
                Within::Anywhere => {}
                Within::Point(p) => {
                    q.push(" AND ").push(point_column).push(" = ").push_bind(*p);
                }
                Within::Communes(c) => {
                    let mut codes: Vec<String> = c.iter().cloned().collect();
                    codes.sort();
                    push_in_communes(q, "l.commune_code", &codes);
                }
            }
        }

        /// What paying a line needs to know of it and its beneficiary.
        #[derive(Clone)]
        struct PayLine {
            run_id: i64,
            beneficiary_id: i64,
            channel: Channel,
            commune: std::sync::Arc<str>,
            total: Dong,
            funeral: Dong,
            status: LineStatus,
            citizen_id: std::sync::Arc<str>,
            home: Option<Coordinates>,
            /// The beneficiary's death on record, the earliest if more than one.
            death: Option<chrono::NaiveDate>,
        }

        impl PayLine {
            fn point(&self) -> Option<i64> {
                match self.channel {
                    Channel::Point(p) => Some(p),
                    _ => None,
                }
            }
        }

        /// What paying a line needs to know of its run.
        struct PayRun {
            id: i64,
            office_id: i64,
            program: Program,
            period: Period,
            state: RunState,
        }

        /// A payment point as schedules need it.
        #[derive(Clone)]
        struct PointFacts {
            code: String,
            name: String,
            commune: String,
            pay_days: (u8, u8),
            opening: Weekdays,
        }

        /// The points' facts and schedules, by point and by (point, month).
        type Points = std::sync::Arc<HashMap<i64, PointFacts>>;
        type Schedules = std::sync::Arc<HashMap<(i64, Period), (PointSchedule, bool)>>;

        /// What the payment writer keeps from one of its transactions to the next (each store's
        /// `writer_facts`): the facts of the points it has paid at, their schedules, and the
        /// balances of the accounts it has moved money in. A transaction of 40,000 payments at
        /// random lines names nearly every one of 11,000 points, and read as many points,
        /// schedules and cash balances: about 50 ms of its 800 ms on a slow day, every
        /// transaction (BENCHMARKS.md).
        ///
        /// What is kept holds at one journal head: the one the transaction that kept it wrote.
        /// Every change writes a journal entry in its own transaction, so a transaction that
        /// begins at another head (another write since, of this process or another, or this one's
        /// commit that failed) throws it all away and reads afresh. A transaction takes what is
        /// kept and gives it back, with the balances it leaves, just before it commits, while it
        /// still holds the writer.
        #[derive(Default)]
        pub(crate) struct WriterFacts {
            at: Option<Head>,
            points: Points,
            schedules: Schedules,
            balances: HashMap<Account, Balance>,
        }

        impl std::fmt::Debug for WriterFacts {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("WriterFacts")
                    .field("at", &self.at.as_ref().map(|h| h.seq))
                    .field("points", &self.points.len())
                    .field("schedules", &self.schedules.len())
                    .field("balances", &self.balances.len())
                    .finish()
            }
        }

        impl WriterFacts {
            /// What was kept at `head`, taken out of `kept`; nothing if it was kept at another.
            /// Taken out, it is not there for another transaction to find until given back.
            fn take_at(kept: &std::sync::Mutex<WriterFacts>, head: &Head) -> WriterFacts {
                let facts = std::mem::take(&mut *Self::locked(kept));
                if facts.at.as_ref() == Some(head) {
                    facts
                } else {
                    WriterFacts::default()
                }
            }

            /// Gives these back to `kept`, as holding at `head`.
            fn keep_at(mut self, kept: &std::sync::Mutex<WriterFacts>, head: &Head) {
                self.at = Some(head.clone());
                *Self::locked(kept) = self;
            }

            fn locked(kept: &std::sync::Mutex<WriterFacts>) -> std::sync::MutexGuard<'_, WriterFacts> {
                kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
            }
        }

        /// A payment row to write.
        struct PaymentRow<'a> {
            p: &'a NewPayment,
            run_id: i64,
            method: pmt::Method,
            point_id: Option<i64>,
            at: &'a str,
            facts: RowFacts,
            /// The `seq` of the payment's pay transfer, where the store links them (see
            /// `TRANSFER_SEQ`).
            transfer: Option<i64>,
        }

        /// What a payment's row holds that is made from the payment itself: made where the
        /// payment is decided, which may be beside the writer (see `Decider`).
        #[derive(Default)]
        struct RowFacts {
            proof: String,
            paid_at: String,
            /// The id's key: in the writer's set of known ids (`known_ids`), and stored where the
            /// ids are found by it (see `PAYMENT_ID_KEYED`).
            id_key: i64,
        }

        impl RowFacts {
            fn of(p: &NewPayment) -> Result<RowFacts> {
                RowFacts::with_key(p, pmt::payment_id_key(&p.id))
            }

            /// With the id's key already computed (`payment_id_key`).
            fn with_key(p: &NewPayment, id_key: i64) -> Result<RowFacts> {
                Ok(RowFacts { proof: proof_json(&p.identity, &p.location)?, paid_at: p.paid_at.to_rfc3339(), id_key })
            }
        }

        impl<'a> PaymentRow<'a> {
            fn new(p: &'a NewPayment, run_id: i64, method: pmt::Method, point_id: Option<i64>, at: &'a str, transfer: Option<i64>) -> Result<Self> {
                Ok(PaymentRow { p, run_id, method, point_id, at, facts: RowFacts::of(p)?, transfer })
            }
        }

        /// The proof a payment keeps: how identity was checked (never a whole citizen ID) and where.
        fn proof_json(identity: &Identity, location: &Location) -> Result<String> {
            // Written straight from the types, not through a `serde_json::Value` (a map built,
            // then written, then dropped: 5 % of the writer's time in transactions of 100,000).
            #[derive(serde::Serialize)]
            struct Proof<'a> {
                identity: &'a chitra_core::payment::StoredIdentity,
                location: &'a Location,
            }
            serde_json::to_string(&Proof { identity: &identity.stored(), location })
                .map_err(|e| StoreError::corrupt(format!("payment proof: {e}")))
        }

        /// Inserts payments. Their lines are paid by being named (the view `payroll_lines`); the
        /// rows of the lines are left as they are until the close. Where the store writes the
        /// rows keyed by line itself (see `LINE_ROWS_WRITTEN`), each payment's `seq` is given here,
        /// one more than the table's last, and its row in `payment_lines` written after the
        /// payments': its key, the line, refuses a second payment of a line.
        async fn insert_payment_rows(tx: &mut Held<'_>, rows: &[PaymentRow<'_>]) -> Result<()> {
            const COLUMNS: &[&str] = &["id", "line_id", "run_id", "amount", "paid_at", "agent", "method", "point_id", "proof", "recorded_at", "id_key", "transfer", "seq"];
            // The id's key only where the ids are found by it (see `PAYMENT_ID_KEYED`), the pay
            // transfer's `seq` only where the payment leads to it (see `TRANSFER_SEQ`), and the
            // payment's own where `payment_lines` is written with it: all SQLite's, so all three
            // columns or none.
            const _: () = assert!(PAYMENT_ID_KEYED == TRANSFER_SEQ && TRANSFER_SEQ == LINE_ROWS_WRITTEN);
            if rows.is_empty() {
                return Ok(());
            }
            let columns = if PAYMENT_ID_KEYED { COLUMNS } else { &COLUMNS[..COLUMNS.len() - 3] };
            let mut last = 0i64;
            if LINE_ROWS_WRITTEN {
                scan(tx, "SELECT COALESCE(MAX(seq), 0) FROM payments", &[], |r| {
                    last = r.int(0);
                    Ok(())
                })
                .await?;
            }
            let mut seq = last;
            insert_rows(tx, "payments", columns, rows, |r, b| {
                b.row_text(&r.p.id)
                    .int(r.p.line_id)
                    .int(r.run_id)
                    .int(r.p.amount.get())
                    .row_text(&r.facts.paid_at)
                    .row_text(&r.p.agent)
                    .code(r.method.code())
                    .opt_int(r.point_id)
                    .row_text(&r.facts.proof)
                    .row_text(r.at);
                if PAYMENT_ID_KEYED {
                    seq += 1;
                    b.int(r.facts.id_key).opt_int(r.transfer).int(seq);
                }
            })
            .await?;
            if LINE_ROWS_WRITTEN {
                let mut seq = last;
                insert_rows(tx, "payment_lines", &["line_id", "amount", "payment", "transfer"], rows, |r, b| {
                    seq += 1;
                    b.int(r.p.line_id).int(r.p.amount.get()).int(seq).opt_int(r.transfer);
                })
                .await?;
            }
            Ok(())
        }

        fn parse_point(r: &Reader<'_>) -> Result<(i64, PointFacts)> {
            let day = |c| u8::try_from(r.int(c)).map_err(|_| StoreError::corrupt(format!("stored pay day {}", r.int(c))));
            Ok((
                r.int(0),
                PointFacts {
                    code: r.text(1),
                    name: r.text(2),
                    commune: r.text(3),
                    pay_days: (day(4)?, day(5)?),
                    opening: parsed("opening days", Weekdays::parse(r.str(6).unwrap_or("")))?,
                },
            ))
        }

        /// A point's code, as the accounts of its cash are named (see [`crate::point_code`]).
        fn point_code(points: &HashMap<i64, PointFacts>, p: i64) -> String {
            crate::point_code(points.get(&p).map(|f| f.code.as_str()), p)
        }

        const POINT_FACTS: &str = "SELECT id, code, name, commune_code, pay_day_first, pay_day_last, opening_days FROM payment_points";

        async fn point_facts(conn: &mut Held<'_>, ids: &[i64]) -> Result<HashMap<i64, PointFacts>> {
            Ok(lookup_ids(conn, &format!("{POINT_FACTS} WHERE id"), ids, parse_point).await?.into_iter().collect())
        }

        /// The schedules of (point, month) pairs: as set, else the default; only for known points.
        async fn schedules_of(conn: &mut Held<'_>, points: &HashMap<i64, PointFacts>, wanted: &[(i64, Period)]) -> Result<HashMap<(i64, Period), (PointSchedule, bool)>> {
            let mut ids: Vec<i64> = wanted.iter().map(|(p, _)| *p).filter(|p| points.contains_key(p)).collect();
            ids.sort_unstable();
            ids.dedup();
            let set: Vec<(i64, i64, String, String, String)> = lookup_ids(conn, "SELECT point_id, period, days, opens, closes FROM point_schedules WHERE point_id", &ids, |r| {
                Ok((r.int(0), r.int(1), r.text(2), r.text(3), r.text(4)))
            })
            .await?;
            let mut out = HashMap::new();
            for (point, period, days, opens, closes) in set {
                let period = period_of(period)?;
                let s = PointSchedule {
                    period,
                    days: parsed("schedule days", MonthDays::parse(&days))?,
                    opens: parsed("schedule hours", chitra_core::schedule::parse_time("opens", &opens))?,
                    closes: parsed("schedule hours", chitra_core::schedule::parse_time("closes", &closes))?,
                };
                out.insert((point, period), (s, false));
            }
            for (point, period) in wanted {
                if let Some(f) = points.get(point) {
                    out.entry((*point, *period)).or_insert_with(|| (PointSchedule::default_for(*period, f.pay_days, f.opening), true));
                }
            }
            Ok(out)
        }

        fn schedule_row(point_id: i64, f: &PointFacts, s: &PointSchedule, default: bool) -> Schedule {
            Schedule {
                point_id,
                point_code: f.code.clone(),
                point_name: f.name.clone(),
                commune_code: f.commune.clone(),
                period: s.period,
                days: s.days,
                opens: s.opens,
                closes: s.closes,
                default,
            }
        }

        /// The kinds of flag recorded for payments, by payment id.
        async fn flags_of(conn: &mut Held<'_>, ids: &[String]) -> Result<HashMap<String, Vec<FlagKind>>> {
            let mut out: HashMap<String, Vec<FlagKind>> = HashMap::new();
            for (id, kind) in lookup_texts(conn, "SELECT payment_id, kind FROM payment_flags WHERE payment_id", ids, |r| Ok((r.text(0), r.text(1)))).await? {
                out.entry(id).or_default().push(parsed("flag kind", FlagKind::parse(&kind))?);
            }
            for kinds in out.values_mut() {
                kinds.sort();
            }
            Ok(out)
        }

        /// What a payment reads of its line and beneficiary, by line id. The death is found in the
        /// index of deaths (`decisions_death`), a few rows where the decisions are millions.
        const PAY_LINES: &str = "SELECT l.id, l.run_id, l.beneficiary_id, l.channel, l.point_id, l.facility_id, l.commune_code, l.total, l.funeral, l.status, b.citizen_id, b.home_latitude, b.home_longitude, (SELECT MIN(d.death_date) FROM decisions d WHERE d.beneficiary_id = l.beneficiary_id AND d.death_date IS NOT NULL) FROM payroll_lines l JOIN beneficiaries b ON b.id = l.beneficiary_id WHERE l.id";

        fn parse_pay_line(r: &Reader<'_>) -> Result<(i64, PayLine)> {
            let home = match (r.opt_real(11), r.opt_real(12)) {
                (Some(lat), Some(lon)) => Coordinates::new("home", lat, lon).ok(),
                _ => None,
            };
            Ok((r.int(0), PayLine {
                run_id: r.int(1),
                beneficiary_id: r.int(2),
                channel: channel_of(r.str(3).unwrap_or(""), r.opt_int(4), r.opt_int(5))?,
                commune: r.text(6).into(),
                total: Dong(r.int(7)),
                funeral: Dong(r.int(8)),
                status: status_of(r.str(9).unwrap_or(""))?,
                citizen_id: r.text(10).into(),
                home,
                death: r.date(13),
            }))
        }

        /// [`PAY_LINES`] for the lines of a range of ids, in id order, their status as stored: the
        /// view's look for each line's payment is left out (whether a line is paid is read from
        /// the payments, see [`pay_lines`]).
        const PAY_LINE_RANGE: &str = "SELECT l.id, l.run_id, l.beneficiary_id, l.channel, l.point_id, l.facility_id, l.commune_code, l.total, l.funeral, l.status, b.citizen_id, b.home_latitude, b.home_longitude, (SELECT MIN(d.death_date) FROM decisions d WHERE d.beneficiary_id = l.beneficiary_id AND d.death_date IS NOT NULL) FROM payroll_line_rows l JOIN beneficiaries b ON b.id = l.beneficiary_id WHERE l.id BETWEEN $1 AND $2 ORDER BY l.id";

        /// At most this many blocks (262,144 lines) are read by one statement: once the copy is full
        /// the rest is not read.
        const SPAN_BLOCKS: i64 = 64;

        /// Reads `blocks` (in order, each once) of lines into the writer's copy while it has room
        /// and is at version `at`, the one the transaction reading them checked it at (see
        /// [`crate::line_cache::LineCache::takes`]): each span of consecutive blocks as ranges of
        /// ids of up to [`SPAN_BLOCKS`] blocks, read in order, each block kept as its last line is
        /// read. (A month's 1,000,000 lines on PostgreSQL: 8–9 s block by block, one statement of
        /// 4,096 lines each; 6.2 s by spans.)
        async fn load_line_blocks(held: &mut Held<'_>, cache: &std::sync::Mutex<crate::line_cache::LineCache<PayLine>>, blocks: &[i64], at: Option<i64>) -> Result<()> {
            use crate::line_cache::LineCache;
            if blocks.is_empty() {
                return Ok(());
            }
            let lock = || crate::line_cache::locked(cache);
            let started = std::time::Instant::now();
            for (first, last) in LineCache::<PayLine>::spans(blocks, SPAN_BLOCKS) {
                if !lock().takes(at) {
                    break;
                }
                // The lines of the block being read so far, kept once the next block begins; the
                // blocks that had lines; whether the copy refused one (it then takes no more).
                let mut rows: Vec<(i64, PayLine)> = Vec::new();
                let mut had_lines: Vec<i64> = Vec::new();
                let mut refused = false;
                let mut keep = |rows: &mut Vec<(i64, PayLine)>| {
                    let Some(&(id, _)) = rows.first() else { return };
                    let block = LineCache::<PayLine>::block_of(id);
                    had_lines.push(block);
                    let rows = std::mem::take(rows);
                    let mut copy = lock();
                    if !refused && copy.takes(at) {
                        copy.fill(block, rows);
                    } else {
                        refused = true;
                    }
                };
                let (from, _) = LineCache::<PayLine>::block_range(first);
                let (_, to) = LineCache::<PayLine>::block_range(last);
                scan(held, PAY_LINE_RANGE, &[crate::Arg::Int(from), crate::Arg::Int(to)], |r| {
                    let (id, line) = parse_pay_line(r)?;
                    if rows.first().is_some_and(|(f, _)| LineCache::<PayLine>::block_of(*f) != LineCache::<PayLine>::block_of(id)) {
                        keep(&mut rows);
                    }
                    rows.push((id, line));
                    Ok(())
                })
                .await?;
                keep(&mut rows);
                if refused {
                    break;
                }
                // The span's blocks without lines are read too.
                let mut copy = lock();
                for b in copy.unread(first..=last) {
                    if !copy.takes(at) {
                        break;
                    }
                    if had_lines.binary_search(&b).is_err() {
                        copy.fill(b, Vec::new());
                    }
                }
            }
            tracing::trace!(blocks = blocks.len(), kept = lock().len(), elapsed = ?started.elapsed(), "payments: lines read into the writer's copy");
            Ok(())
        }

        /// The lines `ids` that exist, with their beneficiaries: from the writer's copy when the
        /// backend keeps one (`cache`), whose missing blocks are read first, each as one range
        /// of ids; otherwise looked up one by one.
        ///
        /// A line in the copy keeps the status it had when read (`due` after it is paid: a
        /// payment writes nothing of its line). Whether a line is paid is read afresh from the
        /// payments in each transaction and checked before its status; the other statuses are
        /// set by closing, a write that empties the copy.
        ///
        /// Only ids that can name a line are looked for in the copy: ids made up by a client
        /// would otherwise each read an empty block.
        async fn pay_lines(
            held: &mut Held<'_>,
            cache: Option<&std::sync::Mutex<crate::line_cache::LineCache<PayLine>>>,
            ids: &[i64],
        ) -> Result<IntMap<i64, PayLine>> {
            let Some(cache) = cache else {
                return Ok(lookup_ids(held, PAY_LINES, ids, parse_pay_line).await?.into_iter().collect());
            };
            // Locked only between awaits. The writer, held, keeps every other writer out; on
            // PostgreSQL a server's warm-up may be filling it beside, at the same version or
            // stopping (see `warm_up_payments`).
            let lock = || crate::line_cache::locked(cache);
            let real: Vec<i64> = ids.iter().copied().filter(|id| pay::parse_line_id(*id).is_some()).collect();
            let (missing, at) = {
                let copy = lock();
                (copy.missing_blocks(&real), copy.version())
            };
            load_line_blocks(held, cache, &missing, at).await?;
            let (mut found, rest) = {
                let copy = lock();
                let found: IntMap<i64, PayLine> = real.iter().filter_map(|id| Some((*id, copy.get(*id)?.clone()))).collect();
                // The copy was full before every block was read: the rest are looked up.
                let rest: Vec<i64> = real.iter().copied().filter(|id| !copy.has_block_of(*id)).collect();
                (found, rest)
            };
            if !rest.is_empty() {
                found.extend(lookup_ids(held, PAY_LINES, &rest, parse_pay_line).await?);
            }
            Ok(found)
        }

        /// One payment accepted by the decision pass, with what writing it needs.
        struct Accepted {
            /// The payment: `groups[group].payments[index]`.
            group: usize,
            index: usize,
            line_id: i64,
            run_id: i64,
            method: pmt::Method,
            point_id: Option<i64>,
            period: Period,
            beneficiary_id: i64,
            transfer: Transfer,
            flags: Vec<Flag>,
            proxy_key: Option<String>,
            facts: RowFacts,
        }

        /// What the decision pass hands the writer: accepted payments, a chunk at a time, then
        /// what is left to write once every payment is decided.
        enum Step {
            Chunk(Vec<Accepted>),
            Done(Box<Decided>),
        }

        /// Everything decided: the answers, the balances after the accepted payments, the
        /// month's flows they add to, and one journal note per group that accepted something.
        struct Decided {
            results: Vec<Vec<PaymentResult>>,
            ledger: Ledger,
            sums: TransferSums,
            notes: Vec<(usize, Note)>,
        }

        /// Decides each payment of a transaction in order, across groups, with what the
        /// transaction read: it reads nothing itself and writes nothing, so it may run beside
        /// the writer.
        struct Decider {
            groups: std::sync::Arc<Vec<PaymentGroup>>,
            /// Payments already recorded under the transaction's ids, and their lines.
            by_id: HashMap<String, i64>,
            /// The keys of the transaction's ids that payments under other ids hold (see
            /// `PAYMENT_ID_KEYED`).
            taken_keys: crate::IntSet<i64>,
            /// The flags those raised.
            already: HashMap<String, Vec<FlagKind>>,
            lines: IntMap<i64, PayLine>,
            /// Lines already paid, and by which payment.
            paid: IntMap<i64, String>,
            runs: HashMap<i64, (PayRun, String)>,
            points: Points,
            schedules: Schedules,
            proxies: HashMap<(String, i64), HashSet<i64>>,
            ledger: Ledger,
            /// Accepted payments handed on together.
            chunk: usize,
        }

        impl Decider {
            /// Decides every payment, handing each chunk of accepted ones and then the rest to
            /// `emit`, which says whether it wants more (the writer may have stopped).
            fn run(mut self, emit: &mut dyn FnMut(Result<Step>) -> bool) {
                match self.decide(emit) {
                    Ok(Some(done)) => {
                        emit(Ok(Step::Done(Box::new(done))));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        emit(Err(e));
                    }
                }
            }

            fn decide(&mut self, emit: &mut dyn FnMut(Result<Step>) -> bool) -> Result<Option<Decided>> {
                let started = std::time::Instant::now();
                let groups = std::sync::Arc::clone(&self.groups);
                let code = |p: i64| point_code(&self.points, p);
                let mut results: Vec<Vec<PaymentResult>> = Vec::with_capacity(groups.len());
                let capacity = self.chunk.min(groups.iter().map(|g| g.payments.len()).sum());
                let mut pending: Vec<Accepted> = Vec::with_capacity(capacity);
                // Accepted in this transaction: by id, the line and the flags' kinds; by line, the id.
                let mut seen_ids: HashMap<&str, (i64, Vec<FlagKind>)> = HashMap::new();
                let mut seen_lines: IntMap<i64, &str> = IntMap::default();
                // The keys of the ids accepted in this transaction (see `PAYMENT_ID_KEYED`).
                let mut seen_keys: crate::IntSet<i64> = crate::IntSet::default();
                let mut sums = TransferSums::default();
                // Each group's accepted payments and the flags they raised, for its journal note.
                let mut per_group: Vec<(Vec<&NewPayment>, usize)> = vec![(Vec::new(), 0); groups.len()];
                for (gi, g) in groups.iter().enumerate() {
                    let (change, within) = (&g.change, &g.within);
                    let mut answers = Vec::with_capacity(g.payments.len());
                    let who = change.check();
                    let latest = change.at + chrono::Duration::minutes(CLOCK_SKEW_MINUTES);
                    for (index, p) in g.payments.iter().enumerate() {
                        let refuse = |field: &str, reason: String| PaymentResult::Refused { id: p.id.clone(), field: field.to_owned(), reason };
                        let forbidden = || PaymentResult::Forbidden {
                            id: p.id.clone(),
                            line_id: p.line_id,
                            reason: "this line is not within what you may pay".into(),
                        };
                        if let Err(e) = &who {
                            answers.push(refuse(&e.field, e.reason.clone()));
                            continue;
                        }
                        if let Err(e) = pmt::check_payment_id(&p.id) {
                            answers.push(refuse(&e.field, e.reason));
                            continue;
                        }
                        // The same id again: the first result, if the caller may see it.
                        let first = self
                            .by_id
                            .get(&p.id)
                            .map(|line| (*line, self.already.get(&p.id).cloned().unwrap_or_default()))
                            .or_else(|| seen_ids.get(p.id.as_str()).cloned());
                        if let Some((line_id, flags)) = first {
                            if line_id != p.line_id {
                                // An id names one payment: sent for another line it is a client's
                                // mistake, not a repeat.
                                answers.push(refuse("id", format!("payment id '{}' was already used for another line: each payment needs an id of its own", p.id)));
                                continue;
                            }
                            let allowed = self.lines.get(&line_id).is_some_and(|l| within.allows(l.point(), &l.commune));
                            answers.push(if allowed {
                                PaymentResult::AlreadyRecorded { id: p.id.clone(), line_id, flags }
                            } else {
                                PaymentResult::Forbidden { id: p.id.clone(), line_id, reason: "this payment id was used for a line not within what you may pay".into() }
                            });
                            continue;
                        }
                        // A new id: its key may not be another payment's (the unique index of
                        // keys, migration 0016). 64 bits of SHA-256 do not meet by chance.
                        let id_key = pmt::payment_id_key(&p.id);
                        if PAYMENT_ID_KEYED && (self.taken_keys.contains(&id_key) || seen_keys.contains(&id_key)) {
                            answers.push(refuse("id", format!("payment id '{}' cannot be told apart from another payment's id: send this payment again under another id", p.id)));
                            continue;
                        }
                        let Some(line) = self.lines.get(&p.line_id) else {
                            answers.push(refuse("line_id", format!("no payroll line {}", p.line_id)));
                            continue;
                        };
                        if !within.allows(line.point(), &line.commune) {
                            answers.push(forbidden());
                            continue;
                        }
                        if let Some(first) = self.paid.get(&p.line_id).map(String::as_str).or(seen_lines.get(&p.line_id).copied()) {
                            answers.push(PaymentResult::Conflict { id: p.id.clone(), line_id: p.line_id, paid_by: first.to_owned() });
                            continue;
                        }
                        let Some((run, contract)) = self.runs.get(&line.run_id) else {
                            answers.push(refuse("line_id", format!("no payroll line {}", p.line_id)));
                            continue;
                        };
                        if line.total.is_zero() {
                            answers.push(refuse("line_id", "the line is for 0 đ: there is nothing to pay".into()));
                            continue;
                        }
                        if let Err(e) = pay::check_payment(run.state, line.status, line.total, p.amount) {
                            answers.push(refuse(&e.field, e.reason));
                            continue;
                        }
                        if let Err(e) = text::required("agent", &p.agent, 100) {
                            answers.push(refuse(&e.field, e.reason));
                            continue;
                        }
                        if p.paid_at > latest {
                            answers.push(refuse("paid_at", format!("{} is after the payment is recorded ({}): a payment is recorded once it is made", p.paid_at.to_rfc3339(), change.at.to_rfc3339())));
                            continue;
                        }
                        let local = chitra_core::schedule::vietnam_time(&p.paid_at);
                        if let Err(e) = pay::check_paid_on(run.period, local.date()) {
                            answers.push(refuse(&e.field, e.reason));
                            continue;
                        }
                        let method = match pmt::check_payment_proof(&p.identity, &p.location, line.channel, &line.citizen_id) {
                            Ok(m) => m,
                            Err(e) => {
                                answers.push(refuse(&e.field, e.reason));
                                continue;
                            }
                        };
                        let r = RunRef { run_id: run.id, office_id: run.office_id, program: run.program, period: run.period, contract };
                        let owed = cyc::Owed { line_id: p.line_id, channel: line.channel, total: line.total };
                        let transfer = r.payment(owed, local.date(), &code);
                        if let Err(e) = self.ledger.post(&transfer) {
                            let e = ledger_error(e);
                            answers.push(match e {
                                StoreError::Invalid(f) => refuse(&f.field, f.reason),
                                other => refuse("amount", other.to_string()),
                            });
                            continue;
                        }
                        // Accepted: the flags it raises, for the inspector.
                        let proxy_key = p.identity.proxy_key();
                        let proxy_beneficiaries = match &proxy_key {
                            Some(key) => {
                                let set = self.proxies.entry((key.clone(), run.period.yyyymm())).or_default();
                                set.insert(line.beneficiary_id);
                                set.len()
                            }
                            None => 0,
                        };
                        let schedule = line.point().and_then(|pt| self.schedules.get(&(pt, run.period))).map(|(s, d)| (s, *d));
                        let flags = anomaly::check(&anomaly::PaymentFacts {
                            paid_at: local,
                            identity: &p.identity,
                            location: &p.location,
                            schedule,
                            death_date: line.death,
                            funeral: line.funeral,
                            home: line.home,
                            proxy_beneficiaries,
                        });
                        let kinds: Vec<FlagKind> = flags.iter().map(Flag::kind).collect();
                        answers.push(PaymentResult::Accepted { id: p.id.clone(), line_id: p.line_id, flags: kinds.clone() });
                        seen_ids.insert(p.id.as_str(), (p.line_id, kinds));
                        seen_lines.insert(p.line_id, p.id.as_str());
                        if PAYMENT_ID_KEYED {
                            seen_keys.insert(id_key);
                        }
                        sums.add(&transfer)?;
                        per_group[gi].0.push(p);
                        per_group[gi].1 += flags.len();
                        pending.push(Accepted {
                            group: gi,
                            index,
                            line_id: p.line_id,
                            run_id: run.id,
                            method,
                            point_id: line.point(),
                            period: run.period,
                            beneficiary_id: line.beneficiary_id,
                            transfer,
                            flags,
                            proxy_key,
                            facts: RowFacts::with_key(p, id_key)?,
                        });
                        if pending.len() >= self.chunk && !emit(Ok(Step::Chunk(std::mem::replace(&mut pending, Vec::with_capacity(capacity))))) {
                            return Ok(None);
                        }
                    }
                    results.push(answers);
                }
                if !pending.is_empty() && !emit(Ok(Step::Chunk(pending))) {
                    return Ok(None);
                }
                // One journal entry per group that accepted something, by the group's actor.
                let mut notes = Vec::new();
                for (gi, (mine, flags)) in per_group.into_iter().enumerate() {
                    if mine.is_empty() {
                        continue;
                    }
                    let n = note(
                        "payments.record",
                        format!("payments:{}", mine.len()),
                        &serde_json::json!({
                            "accepted": mine.iter().map(|p| (&p.id, p.line_id, p.amount)).collect::<Vec<_>>(),
                            "flags": flags,
                        }),
                    )?;
                    notes.push((gi, n));
                }
                tracing::debug!(elapsed = ?started.elapsed(), accepted = seen_lines.len(), "payments: decided");
                Ok(Some(Decided { results, ledger: std::mem::take(&mut self.ledger), sums, notes }))
            }
        }

        /// Where the writer takes the decision pass's steps from: decided before (a small
        /// transaction), or from the thread deciding beside it.
        enum Steps {
            Before(std::vec::IntoIter<Result<Step>>),
            Beside(tokio::sync::mpsc::Receiver<Result<Step>>),
        }

        impl Steps {
            async fn next(&mut self) -> Option<Result<Step>> {
                match self {
                    Steps::Before(steps) => steps.next(),
                    Steps::Beside(steps) => steps.recv().await,
                }
            }
        }

        /// Writes a chunk of accepted payments: their transfers, their rows, their flags and
        /// proxies. In the order of their lines: the trees keyed by the line (`payment_lines`,
        /// `transfer_lines`, and on PostgreSQL `proxy_collections`) then take their rows in key
        /// order, a page after the other, instead of at random pages (the ledger has already
        /// checked the money in the order the payments came).
        async fn write_accepted(held: &mut Held<'_>, groups: &[PaymentGroup], ats: &[String], known: &std::sync::Mutex<crate::known_ids::KnownIds>, mut chunk: Vec<Accepted>) -> Result<()> {
            chunk.sort_unstable_by_key(|a| a.line_id);
            let new: Vec<(&Transfer, &str)> = chunk.iter().map(|a| (&a.transfer, ats[a.group].as_str())).collect();
            // Each payment's pay transfer, in the chunk's order (see `TRANSFER_SEQ`).
            let seqs = insert_transfer_rows(held, &new).await?;
            let payment = |a: &Accepted| &groups[a.group].payments[a.index];
            let rows: Vec<PaymentRow<'_>> = chunk
                .iter_mut()
                .enumerate()
                .map(|(i, a)| PaymentRow {
                    p: payment(a),
                    run_id: a.run_id,
                    method: a.method,
                    point_id: a.point_id,
                    at: ats[a.group].as_str(),
                    facts: std::mem::take(&mut a.facts),
                    transfer: seqs.get(i).copied(),
                })
                .collect();
            // Their ids' keys and their lines are known from now on (kept should this
            // transaction not land: those ids and lines are then looked up, see `known_ids`).
            crate::known_ids::locked(known).add(rows.iter().map(|r| (r.facts.id_key, r.p.line_id)));
            insert_payment_rows(held, &rows).await?;
            let flagged: Vec<(&Accepted, &Flag)> = chunk.iter().flat_map(|a| a.flags.iter().map(move |f| (a, f))).collect();
            const FLAG_COLUMNS: &[&str] = &["payment_id", "kind", "line_id", "period", "point_id", "evidence", "recorded_at"];
            insert_rows(held, "payment_flags", FLAG_COLUMNS, &flagged, |(a, f), b| {
                b.row_text(&payment(a).id)
                    .code(f.kind().code())
                    .int(a.line_id)
                    .int(a.period.yyyymm())
                    .opt_int(a.point_id)
                    .text(&f.evidence().to_string())
                    .text(&ats[a.group]);
            })
            .await?;
            let by_proxy: Vec<(&Accepted, &str)> = chunk.iter().filter_map(|a| Some((a, a.proxy_key.as_deref()?))).collect();
            insert_rows(held, "proxy_collections", &["line_id", "proxy_key", "period", "beneficiary_id", "payment_id"], &by_proxy, |(a, key), b| {
                b.int(a.line_id).row_text(key).int(a.period.yyyymm()).int(a.beneficiary_id).row_text(&payment(a).id);
            })
            .await?;
            Ok(())
        }

        impl $Store {
            /// Records groups of payments in one transaction (see [`Payments::record_payment_groups`]).
            async fn record_groups(&self, groups: Vec<PaymentGroup>) -> Result<(Vec<Vec<PaymentResult>>, crate::payments::Durable)> {
                let started = std::time::Instant::now();
                let groups = std::sync::Arc::new(groups);
                let all = || groups.iter().flat_map(|g| g.payments.iter());
                let total = all().count();
                let mut ids: Vec<String> = all().map(|p| p.id.clone()).collect();
                ids.sort_unstable();
                ids.dedup();
                let mut wanted_lines: Vec<i64> = all().map(|p| p.line_id).collect();
                let (mut tx, head) = self.begin_payment_write().await?;
                // What the writer's transaction before kept, if it still holds (see `WriterFacts`).
                let kept = WriterFacts::take_at(self.writer_facts(), &head);
                // Every read and write below on the connection held once (see `Held`).
                let mut held = hold(&mut tx).await?;
                // Payments already recorded under these ids, and the lines they paid.
                let (by_id, taken_keys) = payments_by_id(&mut held, &ids, self.known_payment_ids()).await?;
                let by_id: HashMap<String, i64> = by_id.into_iter().collect();
                tracing::trace!(elapsed = ?started.elapsed(), "payments: read by id");
                wanted_lines.extend(by_id.values().copied());
                wanted_lines.sort_unstable();
                wanted_lines.dedup();
                // The lines, with their beneficiaries.
                let lines = pay_lines(&mut held, self.pay_line_cache(), &wanted_lines).await?;
                tracing::trace!(elapsed = ?started.elapsed(), "payments: read lines");
                // Lines already paid, and by which payment: only those the writer's set of paid
                // lines holds, when it holds them all (see `known_ids`).
                let maybe_paid: Vec<i64> = {
                    let known = crate::known_ids::locked(self.known_payment_ids());
                    wanted_lines.iter().copied().filter(|l| known.may_be_paid(*l)).collect()
                };
                let paid: IntMap<i64, String> = if maybe_paid.is_empty() {
                    IntMap::default()
                } else {
                    lookup_ids(&mut held, PAYMENT_IDS_OF_LINES, &maybe_paid, |r| Ok((r.int(0), r.text(1))))
                        .await?
                        .into_iter()
                        .collect()
                };
                tracing::trace!(elapsed = ?started.elapsed(), "payments: read paid lines");
                // The runs and their contracts.
                let mut run_ids: Vec<i64> = lines.values().map(|l| l.run_id).collect();
                run_ids.sort_unstable();
                run_ids.dedup();
                // One query for all of them: each wait on the database costs a transaction of
                // single payments more than the work itself.
                let runs: HashMap<i64, (PayRun, String)> = lookup_ids(
                    &mut held,
                    "SELECT r.id, r.office_id, r.program, r.period, r.state, c.code FROM payroll_runs r JOIN contracts c ON c.id = r.contract_id WHERE r.id",
                    &run_ids,
                    |r| {
                        let run = PayRun {
                            id: r.int(0),
                            office_id: r.int(1),
                            program: parsed("program", Program::parse(r.str(2).unwrap_or("")))?,
                            period: period_of(r.int(3))?,
                            state: RunState::parse(r.str(4).unwrap_or("")).ok_or_else(|| StoreError::corrupt("run state"))?,
                        };
                        Ok((run.id, (run, r.text(5))))
                    },
                )
                .await?
                .into_iter()
                .collect();
                tracing::trace!(elapsed = ?started.elapsed(), "payments: read runs");
                // The points, their schedules for the lines' months, and proxies' months so far.
                let mut point_ids: Vec<i64> = lines.values().filter_map(|l| l.point()).collect();
                point_ids.sort_unstable();
                point_ids.dedup();
                let WriterFacts { mut points, mut schedules, balances: mut kept_balances, .. } = kept;
                point_ids.retain(|p| !points.contains_key(p));
                if !point_ids.is_empty() {
                    let read = point_facts(&mut held, &point_ids).await?;
                    std::sync::Arc::make_mut(&mut points).extend(read);
                }
                let mut months: Vec<(i64, Period)> = lines
                    .iter()
                    .filter_map(|(id, l)| Some((l.point()?, pay::parse_line_id(*id)?.0)))
                    .filter(|month| !schedules.contains_key(month))
                    .collect();
                months.sort_unstable();
                months.dedup();
                if !months.is_empty() {
                    let read = schedules_of(&mut held, &points, &months).await?;
                    std::sync::Arc::make_mut(&mut schedules).extend(read);
                }
                tracing::trace!(elapsed = ?started.elapsed(), "payments: read points and schedules");
                let mut proxy_keys: Vec<String> = all().filter_map(|p| p.identity.proxy_key()).collect();
                proxy_keys.sort_unstable();
                proxy_keys.dedup();
                let mut proxies: HashMap<(String, i64), HashSet<i64>> = HashMap::new();
                for (key, period, beneficiary) in lookup_texts(&mut held, "SELECT proxy_key, period, beneficiary_id FROM proxy_collections WHERE proxy_key", &proxy_keys, |r| Ok((r.text(0), r.int(1), r.int(2)))).await? {
                    proxies.entry((key, period)).or_default().insert(beneficiary);
                }
                tracing::trace!(elapsed = ?started.elapsed(), "payments: read proxies");
                // Balances of the accounts the lines' money waits in, and of paid-out.
                let code = |p: i64| point_code(&points, p);
                // Named once per run and channel, not once per line.
                let holders: HashSet<(i64, Channel)> = lines.values().map(|l| (l.run_id, l.channel)).collect();
                let mut names: Vec<String> = holders
                    .iter()
                    .filter_map(|&(run_id, channel)| {
                        let (run, contract) = runs.get(&run_id)?;
                        let r = RunRef { run_id: run.id, office_id: run.office_id, program: run.program, period: run.period, contract };
                        Some([r.holder(channel, &code).to_string(), Account::paid(run.program).to_string()])
                    })
                    .flatten()
                    .collect();
                names.sort_unstable();
                names.dedup();
                // The balances kept, and the others read.
                let mut balances = Vec::with_capacity(names.len());
                let mut unread = Vec::new();
                for n in &names {
                    match kept_balances.get_key_value(n.as_str()) {
                        Some((a, b)) => balances.push((a.clone(), *b)),
                        None => unread.push(n.clone()),
                    }
                }
                let (read, mut stored) = account_balances(&mut held, &unread).await?;
                stored.extend(balances.iter().map(|(a, _)| a.as_str().to_owned()));
                balances.extend(read);
                let ledger = Ledger::with(balances, []);
                tracing::trace!(elapsed = ?started.elapsed(), "payments: read balances");
                let already = flags_of(&mut held, &by_id.keys().cloned().collect::<Vec<_>>()).await?;
                tracing::debug!(elapsed = ?started.elapsed(), lines = lines.len(), "payments: read");

                // Decided beside the writer from `from` payments up (see `DecideBeside`).
                let (from, chunk) = self.decide_beside.get();
                let decider = Decider {
                    groups: std::sync::Arc::clone(&groups),
                    by_id,
                    taken_keys,
                    already,
                    lines,
                    paid,
                    runs,
                    points: std::sync::Arc::clone(&points),
                    schedules: std::sync::Arc::clone(&schedules),
                    proxies,
                    ledger,
                    // Below `from`, decided first, then written in one go.
                    chunk: if total < from { usize::MAX } else { chunk },
                };
                let mut steps = if total < from {
                    let mut before = Vec::new();
                    decider.run(&mut |step| {
                        before.push(step);
                        true
                    });
                    Steps::Before(before.into_iter())
                } else {
                    let (send, receive) = tokio::sync::mpsc::channel(2);
                    std::thread::Builder::new()
                        .name("payments-decide".into())
                        .spawn(move || decider.run(&mut |step| send.blocking_send(step).is_ok()))
                        .map_err(|e| StoreError::corrupt(format!("the thread deciding payments could not start: {e}")))?;
                    Steps::Beside(receive)
                };

                // Written as they are decided: transfers, payments and their lines, flags,
                // proxies; then the balances, the month's flows and the journal.
                let ats: Vec<String> = groups.iter().map(|g| g.change.at_text()).collect();
                let mut written = 0usize;
                let decided = loop {
                    match steps.next().await {
                        Some(Ok(Step::Chunk(chunk))) => {
                            written += chunk.len();
                            write_accepted(&mut held, &groups, &ats, self.known_payment_ids(), chunk).await?;
                            tracing::trace!(elapsed = ?started.elapsed(), written, "payments: wrote a chunk");
                        }
                        Some(Ok(Step::Done(decided))) => break decided,
                        Some(Err(e)) => return Err(e),
                        None => return Err(StoreError::corrupt("the thread deciding payments stopped before the end")),
                    }
                };
                let Decided { results, ledger, sums, notes } = *decided;
                // What this transaction leaves for the next (see `WriterFacts`): the balances
                // after it, updated in place.
                for (a, b) in ledger.balances() {
                    match kept_balances.get_mut(a.as_str()) {
                        Some(kept) => *kept = *b,
                        None => {
                            kept_balances.insert(a.clone(), *b);
                        }
                    }
                }
                let leave = WriterFacts { at: None, points, schedules, balances: kept_balances };
                if written == 0 {
                    // Nothing written, but the answers may rest on payments committed by the
                    // transaction before, not yet on disk (a tablet sending again what it has just
                    // sent): they wait for a sync after it.
                    #[allow(dropping_references)]
                    drop(held);
                    leave.keep_at(self.writer_facts(), &head);
                    let durable = tx.end_unchanged().await?;
                    return Ok((results, durable));
                }
                payments_written(&mut held, self.known_payment_ids()).await?;
                store_balances(&mut held, &ledger, &names, &stored).await?;
                store_transfer_sums(&mut held, sums).await?;
                tracing::debug!(elapsed = ?started.elapsed(), "payments: written");
                // The journal entries chained first, then written together (one statement run,
                // one head update).
                let mut head = head;
                let mut entries = Vec::new();
                for (gi, n) in notes {
                    entries.extend(chain(&mut head, &groups[gi].change, vec![n]));
                }
                insert_entries(&mut held, &entries).await?;
                // Let go before the commit (on PostgreSQL it is only a reference).
                #[allow(dropping_references)]
                drop(held);
                // Kept at the head this transaction leaves, while it holds the writer: should the
                // commit fail, the next transaction begins at the head before and reads afresh.
                leave.keep_at(self.writer_facts(), &head);
                let durable = tx.commit_later().await?;
                tracing::debug!(elapsed = ?started.elapsed(), "payments: committed");
                Ok((results, durable))
            }
        }

        #[async_trait::async_trait]
        impl Payments for $Store {
            async fn set_schedule(&self, change: &Change, schedule: &NewSchedule) -> Result<Schedule> {
                change.check()?;
                chitra_core::schedule::check_settable(schedule.period, change.date())?;
                let s = PointSchedule::new(schedule.period, schedule.days, schedule.opens, schedule.closes)?;
                // Schedules are read afresh by every payment transaction: the lines' copy stays.
                let (mut tx, head) = self.begin_write_keeping_lines().await?;
                let points = point_facts(&mut hold(&mut tx).await?, &[schedule.point_id]).await?;
                let Some(point) = points.get(&schedule.point_id) else {
                    return Err(StoreError::invalid("point", format!("no payment point #{}", schedule.point_id)));
                };
                sqlx::query(
                    "INSERT INTO point_schedules (point_id, period, days, opens, closes, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (point_id, period) DO UPDATE SET days = excluded.days, opens = excluded.opens, closes = excluded.closes, set_by = excluded.set_by, set_at = excluded.set_at",
                )
                .bind(schedule.point_id)
                .bind(s.period.yyyymm())
                .bind(s.days.code())
                .bind(s.opens.format("%H:%M").to_string())
                .bind(s.closes.format("%H:%M").to_string())
                .bind(change.actor.clone())
                .bind(change.at_text())
                .execute(&mut *tx)
                .await?;
                let row = schedule_row(schedule.point_id, point, &s, false);
                let n = note("payment_point.schedule", format!("payment_point:{}", point.code), &row)?;
                commit(tx, head, change, vec![n]).await?;
                Ok(row)
            }

            async fn schedules(&self, period: Period, point_id: Option<i64>) -> Result<Vec<Schedule>> {
                let mut conn = self.pool.acquire().await?;
                let mut points: Vec<(i64, PointFacts)> = match point_id {
                    Some(id) => lookup_ids(&mut conn, &format!("{POINT_FACTS} WHERE id"), &[id], parse_point).await?,
                    None => {
                        let mut all = Vec::new();
                        scan(&mut conn, &format!("{POINT_FACTS} ORDER BY id"), &[], |r| {
                            all.push(parse_point(r)?);
                            Ok(())
                        })
                        .await?;
                        all
                    }
                };
                if let (Some(id), true) = (point_id, points.is_empty()) {
                    return Err(StoreError::invalid("point", format!("no payment point #{id}")));
                }
                points.sort_by_key(|(id, _)| *id);
                let wanted: Vec<(i64, Period)> = points.iter().map(|(id, _)| (*id, period)).collect();
                let facts: HashMap<i64, PointFacts> = points.into_iter().collect();
                let schedules = schedules_of(&mut hold(&mut conn).await?, &facts, &wanted).await?;
                let mut out = Vec::with_capacity(wanted.len());
                for (id, _) in &wanted {
                    if let (Some(f), Some((s, default))) = (facts.get(id), schedules.get(&(*id, period))) {
                        out.push(schedule_row(*id, f, s, *default));
                    }
                }
                Ok(out)
            }

            async fn assign_beneficiaries(&self, change: &Change, point_id: i64, assignments: &[Assignment]) -> Result<usize> {
                change.check()?;
                let len = assignments.len();
                // Checked first, all of them: nothing is written if one is wrong.
                let mut checked = Vec::with_capacity(len);
                let mut seen = HashSet::new();
                for (i, a) in assignments.iter().enumerate() {
                    let code = a.beneficiary_code.trim();
                    if !seen.insert(code) {
                        return Err(in_batch(len, i, FieldError::new("beneficiary", format!("{code} is assigned twice"))));
                    }
                    let reason = match &a.home_delivery {
                        Some(r) => Some(text::required("home_delivery", r, 500).map_err(|e| in_batch(len, i, e))?),
                        None => None,
                    };
                    let home = match a.home {
                        Some((lat, lon)) => Some(Coordinates::new("home", lat, lon).map_err(|e| in_batch(len, i, e))?),
                        None => None,
                    };
                    checked.push((code.to_owned(), reason, home));
                }
                let (mut tx, head) = self.begin_write().await?;
                let points = point_facts(&mut hold(&mut tx).await?, &[point_id]).await?;
                let Some(point) = points.get(&point_id) else {
                    return Err(StoreError::invalid("point", format!("no payment point #{point_id}")));
                };
                let codes: Vec<String> = checked.iter().map(|(c, ..)| c.clone()).collect();
                let known: HashMap<String, i64> = lookup_texts(&mut tx, "SELECT code, id FROM beneficiaries WHERE code", &codes, |r| Ok((r.text(0), r.int(1))))
                    .await?
                    .into_iter()
                    .collect();
                let mut notes = Vec::with_capacity(len);
                let mut rows = Vec::with_capacity(len);
                for (i, (code, reason, home)) in checked.iter().enumerate() {
                    let Some(id) = known.get(code) else {
                        return Err(in_batch(len, i, FieldError::new("beneficiary", format!("no beneficiary has the code '{code}'"))));
                    };
                    rows.push((*id, reason.clone(), *home));
                    notes.push(note(
                        "beneficiary.assign",
                        format!("beneficiary:{code}"),
                        &serde_json::json!({ "payment_point": point.code, "point_id": point_id, "home_delivery": reason, "home": home }),
                    )?);
                }
                for (id, reason, home) in &rows {
                    sqlx::query(
                        "UPDATE beneficiaries SET payment_point_id = $1, home_delivery = $2, home_latitude = COALESCE($3, home_latitude), home_longitude = COALESCE($4, home_longitude) WHERE id = $5",
                    )
                    .bind(point_id)
                    .bind(reason.clone())
                    .bind(home.map(|h| h.latitude))
                    .bind(home.map(|h| h.longitude))
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
                }
                // The compiled registers must read the changed rows again.
                sqlx::query("UPDATE settings SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'register_version'")
                    .execute(&mut *tx)
                    .await?;
                commit(tx, head, change, notes).await?;
                Ok(rows.len())
            }

            fn decide_beside(&self) -> &crate::payments::DecideBeside {
                &self.decide_beside
            }

            async fn warm_up_payments(&self) -> Result<usize> {
                let Some(cache) = self.pay_line_cache() else {
                    return Ok(0);
                };
                let (mut tx, at) = self.begin_warm_up().await?;
                let mut held = hold(&mut tx).await?;
                let mut blocks = Vec::new();
                scan(
                    &mut held,
                    "SELECT MIN(k.line_id), MAX(k.line_id) FROM payroll_line_runs k WHERE k.run_id IN (SELECT id FROM payroll_runs WHERE state = 'paying') GROUP BY k.run_id",
                    &[],
                    |r| {
                        blocks.extend(crate::line_cache::LineCache::<PayLine>::blocks_between(r.int(0), r.int(1)));
                        Ok(())
                    },
                )
                .await?;
                let blocks = crate::line_cache::locked(cache).unread(blocks);
                load_line_blocks(&mut held, cache, &blocks, at).await?;
                #[allow(dropping_references)]
                drop(held);
                // Nothing written: the transaction only read.
                drop(tx.end_unchanged().await?);
                Ok(crate::line_cache::locked(cache).len())
            }
            async fn record_payment_groups(&self, groups: &[PaymentGroup]) -> Result<Vec<Vec<PaymentResult>>> {
                let (results, durable) = self.record_payment_groups_committed(groups.to_vec()).await?;
                durable.wait().await?;
                Ok(results)
            }

            async fn record_payment_groups_committed(&self, groups: Vec<PaymentGroup>) -> Result<(Vec<Vec<PaymentResult>>, crate::payments::Durable)> {
                self.record_groups(groups).await
            }

            async fn flags(&self, filter: &FlagFilter) -> Result<Page<FlagRow>> {
                fn conditions(q: &mut QueryBuilder<Db>, f: &FlagFilter) {
                    q.push(" WHERE 1 = 1");
                    if let Some(p) = f.period {
                        q.push(" AND f.period = ").push_bind(p.yyyymm());
                    }
                    if let Some(k) = f.kind {
                        q.push(" AND f.kind = ").push_bind(k.code());
                    }
                    if let Some(p) = f.point_id {
                        q.push(" AND f.point_id = ").push_bind(p);
                    }
                    push_within(q, &f.within, "f.point_id");
                }
                // A flag's payment is its line's.
                let from = format!(" FROM payment_flags f JOIN payment_lines pl ON pl.line_id = f.line_id {PAYMENT_OF_LINE} JOIN payroll_lines l ON l.id = f.line_id JOIN beneficiaries b ON b.id = l.beneficiary_id LEFT JOIN payment_points pt ON pt.id = f.point_id");
                let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*)");
                count.push(from.as_str());
                conditions(&mut count, filter);
                let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
                let mut q = QueryBuilder::<Db>::new(
                    "SELECT f.payment_id, f.line_id, f.period, f.kind, f.evidence, f.point_id, pt.code AS point_code, b.code AS beneficiary_code, b.full_name, l.commune_code, p.paid_at, p.agent, p.recorded_at",
                );
                q.push(from.as_str());
                conditions(&mut q, filter);
                let limit = if filter.limit <= 0 { 50 } else { filter.limit.min(1000) };
                q.push(" ORDER BY f.period DESC, p.recorded_at, f.payment_id, f.kind LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(filter.offset.max(0));
                let rows = q.build().fetch_all(&self.pool).await?;
                let items = rows
                    .iter()
                    .map(|r| {
                        let evidence: String = r.try_get("evidence")?;
                        Ok(FlagRow {
                            payment_id: r.try_get("payment_id")?,
                            line_id: r.try_get("line_id")?,
                            period: period_of(r.try_get("period")?)?,
                            beneficiary_code: r.try_get("beneficiary_code")?,
                            full_name: r.try_get("full_name")?,
                            commune_code: r.try_get("commune_code")?,
                            point_id: r.try_get("point_id")?,
                            point_code: r.try_get("point_code")?,
                            kind: parsed("flag kind", FlagKind::parse(&r.try_get::<String, _>("kind")?))?,
                            evidence: serde_json::from_str(&evidence).map_err(|e| StoreError::corrupt(format!("flag evidence: {e}")))?,
                            paid_at: r.try_get("paid_at")?,
                            agent: r.try_get("agent")?,
                            recorded_at: r.try_get("recorded_at")?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Page { total, offset: filter.offset.max(0), items })
            }

            async fn paid_days(&self, run_ids: &[i64], within: &Within) -> Result<Vec<PaidDay>> {
                if run_ids.is_empty() {
                    return Ok(Vec::new());
                }
                // `paid_at` is RFC 3339 text with the tablet's offset: grouped by its hour and its
                // offset in SQL (both backends' `substr`), then each hour is read as a Vietnam day.
                let mut q = QueryBuilder::<Db>::new(
                    "SELECT p.run_id, substr(p.paid_at, 1, 13) AS hour, substr(p.paid_at, length(p.paid_at) - 5) AS offset_text, COUNT(*) AS n, CAST(SUM(p.amount) AS BIGINT) AS amount FROM payments p",
                );
                if let Within::Communes(_) = within {
                    q.push(" JOIN payroll_lines l ON l.id = p.line_id");
                }
                q.push(" WHERE p.run_id IN (");
                let mut runs = q.separated(", ");
                for id in run_ids {
                    runs.push_bind(*id);
                }
                q.push(")");
                push_within(&mut q, within, "p.point_id");
                q.push(" GROUP BY p.run_id, substr(p.paid_at, 1, 13), substr(p.paid_at, length(p.paid_at) - 5)");
                let rows = q.build().fetch_all(&self.pool).await?;
                let mut days: BTreeMap<(i64, chrono::NaiveDate), (i64, Dong)> = BTreeMap::new();
                for r in &rows {
                    let hour: String = r.try_get("hour")?;
                    let offset: String = r.try_get("offset_text")?;
                    let at = chrono::DateTime::parse_from_rfc3339(&format!("{hour}:00:00{offset}"))
                        .map_err(|e| StoreError::corrupt(format!("payment time {hour}…{offset}: {e}")))?;
                    let day = chitra_core::schedule::vietnam_time(&at).date();
                    let e = days.entry((r.try_get("run_id")?, day)).or_insert((0, Dong::ZERO));
                    e.0 += r.try_get::<i64, _>("n")?;
                    e.1 = e.1.checked_add(Dong(r.try_get("amount")?)).map_err(|_| StoreError::corrupt("paid amount overflows"))?;
                }
                Ok(days
                    .into_iter()
                    .map(|((run_id, day), (lines, amount))| PaidDay { run_id, day, lines, amount })
                    .collect())
            }
        }
    };
}
