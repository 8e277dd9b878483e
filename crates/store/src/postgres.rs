//! PostgreSQL: the path to a national deployment and to replication.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

type Db = sqlx::Postgres;
/// A write transaction.
type Tx = sqlx::Transaction<'static, Db>;

/// PostgreSQL syncs its WAL inside the commit (`synchronous_commit` on).
impl crate::CommitLater for Tx {
    async fn commit_later(self) -> Result<crate::payments::Durable> {
        self.commit().await?;
        Ok(crate::payments::Durable::done())
    }

    /// What a transaction reads here is committed, and so synced: rolled back.
    async fn end_unchanged(self) -> Result<crate::payments::Durable> {
        self.rollback().await?;
        Ok(crate::payments::Durable::done())
    }
}
const BACKEND: &str = "postgres";

/// A month's transfers of lines (`tl`, the view of migration 0010) with their whole rows (`t`),
/// both read through the index `transfers_line`.
const LINE_TRANSFERS: &str = "transfer_lines tl JOIN transfers t ON t.period = tl.period AND t.kind = tl.kind AND t.line_id = tl.line_id";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The planner's cost of a random page read on the store's connections (see
/// [`PgStore::connect_with`]).
const RANDOM_PAGE_COST: &str = "1.1";

/// A store in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: sqlx::Pool<Db>,
    units: crate::UnitCache,
    registers: crate::RegisterCaches,
    /// The payment writer's copy of the lines it pays (see `line_cache`).
    pay_lines: std::sync::Arc<std::sync::Mutex<crate::line_cache::LineCache<PayLine>>>,
    /// The keys of the payment ids recorded and the lines paid (see `known_ids`).
    known_ids: std::sync::Arc<std::sync::Mutex<crate::known_ids::KnownIds>>,
    /// What the payment writer keeps between its transactions (see `WriterFacts`).
    writer_facts: std::sync::Arc<std::sync::Mutex<WriterFacts>>,
    /// When a transaction of payments is decided beside the writer.
    decide_beside: std::sync::Arc<crate::payments::DecideBeside>,
}

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &str) -> Result<PgStore> {
        PgStore::connect_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with options (the conformance suite gives each test its own schema this way).
    pub async fn connect_with(options: PgConnectOptions) -> Result<PgStore> {
        // The planner's default cost of a random page read (4.0) models a spinning disk. With it,
        // and no statistics yet, the deaths among 10,000 payments' beneficiaries were read by a
        // sequential scan of every decision (116 ms, against 3 ms by the partial index); with
        // statistics, the lines of 10,000 payments were joined to their beneficiaries by a scan
        // of the whole register (266 ms, against 118–138 ms by key). Our reads are by key, on
        // data that lives in memory or on SSD: 1.1, unless the URL sets its own.
        let options = if options
            .get_options()
            .is_some_and(|o| o.contains("random_page_cost"))
        {
            options
        } else {
            options.options([("random_page_cost", RANDOM_PAGE_COST)])
        };
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore {
            pool,
            units: Default::default(),
            registers: Default::default(),
            pay_lines: Default::default(),
            known_ids: Default::default(),
            writer_facts: Default::default(),
            decide_beside: std::sync::Arc::new(crate::payments::DecideBeside::new(
                crate::payments::DecideBeside::POSTGRES,
            )),
        })
    }

    /// A write transaction holding the journal head's row lock: writers queue here, so entries
    /// are chained one at a time and the chain never forks.
    async fn begin_write(&self) -> Result<(Tx, Head)> {
        let mut tx = self.pool.begin().await?;
        let row: (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE")
                .fetch_one(&mut *tx)
                .await?;
        Ok((
            tx,
            Head {
                seq: row.0,
                hash: row.1,
            },
        ))
    }

    /// The payment writer's: the same (PostgreSQL syncs inside each commit), and the copy of the
    /// lines kept only when no statement has changed what it holds since it was last checked: the
    /// counter `line_copy_version`, moved by triggers in the writing transaction itself (migration
    /// 0011). It is read before any line is: a change committed later moves it in the same
    /// commit, and the next payment transaction reads its lines again.
    async fn begin_payment_write(&self) -> Result<(Tx, Head)> {
        let (mut tx, head) = self.begin_write().await?;
        let (version, payments): (i64, i64) = sqlx::query_as(
            "SELECT l.version, p.version FROM line_copy_version l, payments_version p WHERE l.id = 1 AND p.id = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        if crate::line_cache::locked(&self.pay_lines).advance(version) == version {
            tracing::trace!(
                version,
                "the payment writer's copy of the lines is at the counter"
            );
        }
        crate::known_ids::locked(&self.known_ids).check_version(payments);
        Ok((tx, head))
    }

    /// The warm-up's transaction: a read-only snapshot that does not lock the journal head, so
    /// that other writers go on while a server reads a month's lines as it starts (about 6 s a
    /// million lines). The version is `line_copy_version` in that snapshot, and every line read
    /// is read there: the copy takes them only while it stays at that version
    /// ([`crate::line_cache::LineCache::takes`]). A copy already checked at a later version
    /// takes nothing from this older snapshot (`None`); one at an earlier version is emptied
    /// ([`crate::line_cache::LineCache::advance`]).
    async fn begin_warm_up(&self) -> Result<(Tx, Option<i64>)> {
        let mut tx = self.begin_snapshot().await?;
        let version: i64 = sqlx::query_scalar("SELECT version FROM line_copy_version WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let at = crate::line_cache::locked(&self.pay_lines).advance(version);
        Ok((tx, (at == version).then_some(version)))
    }

    /// A read-only transaction in one snapshot of the database, alone: a register's decisions
    /// are not read beside its persons here (`REGISTER_DECISIONS_BESIDE`).
    async fn snapshot_pair(&self) -> Result<(Tx, Option<sqlx::PgConnection>)> {
        Ok((self.begin_snapshot().await?, None))
    }

    /// A read-only transaction in one snapshot of the database (`REPEATABLE READ`).
    async fn begin_snapshot(&self) -> Result<Tx> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// The same: the copy of the lines follows `line_copy_version`, whoever writes.
    async fn begin_write_keeping_lines(&self) -> Result<(Tx, Head)> {
        self.begin_write().await
    }

    /// See `shared_payments`.
    fn pay_line_cache(&self) -> Option<&std::sync::Mutex<crate::line_cache::LineCache<PayLine>>> {
        Some(&self.pay_lines)
    }

    /// See `WriterFacts`: every writer, of any process, holds the journal head's row lock from
    /// before it reads to its commit, so what was kept at the head found is what the database
    /// holds.
    fn writer_facts(&self) -> &std::sync::Mutex<WriterFacts> {
        &self.writer_facts
    }

    /// See `known_ids`: kept at the counter `payments_version` (migration 0012), which every
    /// statement changing `payments` moves, whoever writes.
    fn known_payment_ids(&self) -> &std::sync::Mutex<crate::known_ids::KnownIds> {
        &self.known_ids
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction's connection for many statements in a row (on SQLite this saves a round
/// trip to its worker thread per statement; here it is the connection).
type Held<'c> = &'c mut sqlx::PgConnection;

async fn hold(conn: &mut sqlx::PgConnection) -> crate::Result<Held<'_>> {
    Ok(conn)
}

/// `n` read-only transactions that see one snapshot of the database: the first exports it
/// (`pg_export_snapshot`), the others take it (`SET TRANSACTION SNAPSHOT`). A read split over
/// them runs in as many server processes at once and still sees one state.
async fn snapshot_readers(
    pool: &sqlx::PgPool,
    n: usize,
) -> crate::Result<Vec<sqlx::Transaction<'static, Db>>> {
    const REPEATABLE: &str = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    let mut first = pool.begin().await?;
    sqlx::query(REPEATABLE).execute(&mut *first).await?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *first)
        .await?;
    // Written into the statement (SET takes no parameter): only what PostgreSQL's ids are made of.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(crate::StoreError::corrupt(format!(
            "snapshot id {snapshot:?}"
        )));
    }
    let mut readers = vec![first];
    for _ in 1..n {
        let mut t = pool.begin().await?;
        sqlx::query(REPEATABLE).execute(&mut *t).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SET TRANSACTION SNAPSHOT '{snapshot}'"
        )))
        .execute(&mut *t)
        .await?;
        readers.push(t);
    }
    Ok(readers)
}

shared_store!(PgStore);
shared_cycle!(PgStore);
shared_access!(PgStore);
shared_outreach!(PgStore);
shared_payments!(PgStore);

/// One row's values, collected to be bound into a multi-row statement.
pub(crate) struct Binder {
    values: Vec<Value>,
}

enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Date(Option<chrono::NaiveDate>),
}

impl Binder {
    pub fn int(&mut self, v: i64) -> &mut Self {
        self.values.push(Value::Int(Some(v)));
        self
    }
    pub fn text(&mut self, v: &str) -> &mut Self {
        self.values.push(Value::Text(Some(v.to_owned())));
        self
    }
    pub fn code(&mut self, v: &'static str) -> &mut Self {
        self.text(v)
    }
    /// Text of the row being written: SQLite binds it without a copy; here it is `text`.
    pub fn row_text(&mut self, v: &str) -> &mut Self {
        self.text(v)
    }
    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        self.values.push(Value::Int(v));
        self
    }
    pub fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        self.values.push(Value::Text(v.map(str::to_owned)));
        self
    }
    pub fn date(&mut self, d: chrono::NaiveDate) -> &mut Self {
        self.values.push(Value::Date(Some(d)));
        self
    }
    pub fn opt_date(&mut self, d: Option<chrono::NaiveDate>) -> &mut Self {
        self.values.push(Value::Date(d));
        self
    }
}

/// One column of the rows to insert, as the array it is bound as.
enum ColumnValues {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Date(Vec<Option<chrono::NaiveDate>>),
}

/// Inserts `rows` into `table`, binding each (values in `columns` order) with `bind`: each column
/// bound as one array and the rows unnested from them (`INSERT … SELECT * FROM UNNEST($1, …)`),
/// so that a statement carries up to 100,000 rows with one parameter per column, and PostgreSQL
/// plans it once whatever the number of rows.
async fn insert_rows<T>(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: &[&str],
    rows: &[T],
    bind: impl FnMut(&T, &mut Binder),
) -> crate::Result<()> {
    if rows.len() >= COPY_FROM {
        return copy_into(conn, table, columns, rows, bind, |_| true).await;
    }
    insert_rows_with(conn, table, columns, rows, "", bind).await
}

/// Plain inserts of this many rows or more go by `COPY` (see [`copy_into`]); fewer by one
/// `INSERT`, one round trip where `COPY` takes two.
const COPY_FROM: usize = 1_000;

/// [`insert_rows`] by `COPY … FROM STDIN` in text form: the same rows, the same constraints and
/// triggers, and an error ends the transaction as the `INSERT` would, without PostgreSQL parsing
/// arrays of each column and unnesting them first. Only the rows whose values `keep` accepts are
/// sent.
async fn copy_into<T>(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: &[&str],
    rows: &[T],
    mut bind: impl FnMut(&T, &mut Binder),
    mut keep: impl FnMut(&[Value]) -> bool,
) -> crate::Result<()> {
    let mut copy = conn
        .copy_in_raw(&format!("COPY {table} ({}) FROM STDIN", columns.join(", ")))
        .await?;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut b = Binder {
        values: Vec::with_capacity(columns.len()),
    };
    for r in rows {
        b.values.clear();
        bind(r, &mut b);
        if b.values.len() != columns.len() {
            let e = format!(
                "{} values for the {} columns of {table}",
                b.values.len(),
                columns.len()
            );
            copy.abort(e.clone()).await?;
            return Err(StoreError::corrupt(e));
        }
        if !keep(&b.values) {
            continue;
        }
        for (i, v) in b.values.iter().enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            copy_value(&mut buf, v);
        }
        buf.push(b'\n');
        if buf.len() >= 1 << 20 {
            copy.send(buf.as_slice()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_slice()).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// [`insert_rows`] with a clause after the rows (`ON CONFLICT …`; a key may then come once in
/// `rows`).
async fn insert_rows_with<T>(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: &[&str],
    rows: &[T],
    then: &str,
    mut bind: impl FnMut(&T, &mut Binder),
) -> crate::Result<()> {
    for chunk in rows.chunks(100_000) {
        let mut values: Vec<ColumnValues> = Vec::with_capacity(columns.len());
        for r in chunk {
            let mut b = Binder {
                values: Vec::with_capacity(columns.len()),
            };
            bind(r, &mut b);
            if b.values.len() != columns.len() {
                return Err(StoreError::corrupt(format!(
                    "{} values for the {} columns of {table}",
                    b.values.len(),
                    columns.len()
                )));
            }
            for (i, v) in b.values.into_iter().enumerate() {
                if values.len() <= i {
                    values.push(match v {
                        Value::Int(_) => ColumnValues::Int(Vec::with_capacity(chunk.len())),
                        Value::Text(_) => ColumnValues::Text(Vec::with_capacity(chunk.len())),
                        Value::Date(_) => ColumnValues::Date(Vec::with_capacity(chunk.len())),
                    });
                }
                match (&mut values[i], v) {
                    (ColumnValues::Int(c), Value::Int(x)) => c.push(x),
                    (ColumnValues::Text(c), Value::Text(x)) => c.push(x),
                    (ColumnValues::Date(c), Value::Date(x)) => c.push(x),
                    _ => {
                        return Err(StoreError::corrupt(format!(
                            "column {} of {table} bound with values of two types",
                            columns[i]
                        )));
                    }
                }
            }
        }
        let arrays: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let kind = match v {
                    ColumnValues::Int(_) => "bigint",
                    ColumnValues::Text(_) => "text",
                    ColumnValues::Date(_) => "date",
                };
                format!("${}::{kind}[]", i + 1)
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT * FROM UNNEST({}) {then}",
            columns.join(", "),
            arrays.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in values {
            q = match v {
                ColumnValues::Int(c) => q.bind(c),
                ColumnValues::Text(c) => q.bind(c),
                ColumnValues::Date(c) => q.bind(c),
            };
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sets the balances of accounts already stored (see `store_transfers`); returns the rows
/// changed.
async fn set_balances(
    conn: &mut sqlx::PgConnection,
    rows: &[(&str, chitra_core::ledger::Balance)],
) -> crate::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let names: Vec<&str> = rows.iter().map(|(n, _)| *n).collect();
    let debits: Vec<i64> = rows.iter().map(|(_, b)| b.debits).collect();
    let credits: Vec<i64> = rows.iter().map(|(_, b)| b.credits).collect();
    let done = sqlx::query(
        "UPDATE accounts AS a SET debits = u.debits, credits = u.credits \
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[]) AS u (name, debits, credits) \
         WHERE a.name = u.name",
    )
    .persistent(false)
    .bind(names)
    .bind(debits)
    .bind(credits)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Sets the status of payroll lines.
async fn set_status(conn: &mut sqlx::PgConnection, ids: &[i64], status: &str) -> crate::Result<()> {
    // Planned afresh each time, as `lookup_ids` says.
    sqlx::query("UPDATE payroll_line_rows SET status = $1 WHERE id = ANY($2)")
        .persistent(false)
        .bind(status.to_owned())
        .bind(ids.to_vec())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Makes way for a draft's lines generated again: the run's rows are all deleted, and its lines
/// inserted again. PostgreSQL writes a new version of a row for an update as for an insert, and
/// finding the rows to keep cost more than it saved: regenerating 1,000,000 unchanged lines took
/// 10.35 s that way (2.05 s of it reading the run's ids) against 8.62 s (BENCHMARKS, 2026-12-05).
async fn clear_draft_lines(
    conn: &mut sqlx::PgConnection,
    run_id: i64,
    _kept: &[i64],
) -> crate::Result<Vec<i64>> {
    sqlx::query("DELETE FROM payroll_line_rows WHERE run_id = $1")
        .bind(run_id)
        .execute(&mut *conn)
        .await?;
    // No row stays.
    Ok(Vec::new())
}

/// A line's run is found through the index on `payroll_line_rows (run_id)`, which PostgreSQL
/// keeps; `payroll_line_runs` is a view over the lines here (migration 0015).
const LINE_RUNS_WRITTEN: bool = false;

/// Nothing to write: see [`LINE_RUNS_WRITTEN`].
async fn write_line_runs(
    _conn: &mut sqlx::PgConnection,
    _runs: &mut [(i64, Vec<i64>)],
) -> crate::Result<()> {
    Ok(())
}

/// A row, read column by column as the SQLite reader is: a row as sqlx decodes it, or the fields
/// of a row of `COPY … TO STDOUT` in text form (`None` for NULL).
pub(crate) enum Reader<'r> {
    Row(&'r sqlx::postgres::PgRow),
    Text(&'r [Option<std::borrow::Cow<'r, str>>]),
}

impl Reader<'_> {
    fn field(&self, col: i32) -> Option<&str> {
        match self {
            Reader::Text(fields) => usize::try_from(col)
                .ok()
                .and_then(|c| fields.get(c))
                .and_then(|f| f.as_deref()),
            Reader::Row(_) => None,
        }
    }
    pub fn int(&self, col: i32) -> i64 {
        self.opt_int(col).unwrap_or(0)
    }
    pub fn opt_int(&self, col: i32) -> Option<i64> {
        use sqlx::Row;
        match self {
            Reader::Row(row) => row.try_get::<Option<i64>, _>(col as usize).ok().flatten(),
            Reader::Text(_) => self.field(col).and_then(|f| f.parse().ok()),
        }
    }
    pub fn opt_real(&self, col: i32) -> Option<f64> {
        use sqlx::Row;
        match self {
            Reader::Row(row) => row.try_get::<Option<f64>, _>(col as usize).ok().flatten(),
            Reader::Text(_) => self.field(col).and_then(|f| f.parse().ok()),
        }
    }
    pub fn text(&self, col: i32) -> String {
        self.opt_text(col).unwrap_or_default()
    }
    pub fn opt_text(&self, col: i32) -> Option<String> {
        self.str(col).map(str::to_owned)
    }
    pub fn str(&self, col: i32) -> Option<&str> {
        use sqlx::Row;
        match self {
            Reader::Row(row) => row.try_get::<Option<&str>, _>(col as usize).ok().flatten(),
            Reader::Text(_) => self.field(col),
        }
    }
    pub fn date(&self, col: i32) -> Option<chrono::NaiveDate> {
        use sqlx::Row;
        match self {
            Reader::Row(row) => row
                .try_get::<Option<chrono::NaiveDate>, _>(col as usize)
                .ok()
                .flatten(),
            // sqlx opens every connection with DateStyle ISO: a date reads YYYY-MM-DD.
            Reader::Text(_) => self
                .field(col)
                .and_then(|f| chrono::NaiveDate::parse_from_str(f, "%Y-%m-%d").ok()),
        }
    }
}

/// The rows of `sql` with `args`, each handed to `each` as they arrive. With integer arguments
/// only (every bulk read: a month's lines, the register; the keys an `INSERT … RETURNING` of a
/// million rows gives back), the rows come by `COPY (…) TO STDOUT` in text form and are split
/// here. For reads this measured the same as sqlx's rows (the time is PostgreSQL's producing
/// them; BENCHMARKS.md, "PostgreSQL: payroll lines written by COPY").
async fn scan(
    conn: &mut <Db as sqlx::Database>::Connection,
    sql: &str,
    args: &[crate::Arg<'_>],
    mut each: impl FnMut(&Reader<'_>) -> crate::Result<()>,
) -> crate::Result<()> {
    use futures_util::TryStreamExt;
    let ints: Option<Vec<i64>> = args
        .iter()
        .map(|a| match a {
            crate::Arg::Int(v) => Some(*v),
            crate::Arg::Text(_) => None,
        })
        .collect();
    if let Some(ints) = ints {
        // Integers written into the text cannot change its meaning; `$10` before `$1`.
        let mut sql = sql.to_owned();
        for (i, v) in ints.iter().enumerate().rev() {
            sql = sql.replace(&format!("${}", i + 1), &v.to_string());
        }
        let mut stream = conn
            .copy_out_raw(&format!("COPY ({sql}) TO STDOUT"))
            .await?;
        let mut pending: Vec<u8> = Vec::new();
        while let Some(chunk) = stream.try_next().await? {
            // PostgreSQL sends a row a message; a row split over messages is put together.
            if pending.is_empty() {
                let used = copy_rows(&chunk, &mut each)?;
                pending.extend_from_slice(&chunk[used..]);
            } else {
                pending.extend_from_slice(&chunk);
                let used = copy_rows(&pending, &mut each)?;
                pending.drain(..used);
            }
        }
        if !pending.is_empty() {
            return Err(crate::StoreError::corrupt("a row of COPY without its end"));
        }
        return Ok(());
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for a in args {
        q = match a {
            crate::Arg::Int(v) => q.bind(*v),
            crate::Arg::Text(v) => q.bind(v.to_string()),
        };
    }
    let mut rows = q.fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        each(&Reader::Row(&row))?;
    }
    Ok(())
}

/// Hands each whole row of COPY's text format in `data` to `each`: how many bytes were used.
fn copy_rows(
    data: &[u8],
    each: &mut impl FnMut(&Reader<'_>) -> crate::Result<()>,
) -> crate::Result<usize> {
    let mut used = 0;
    let mut fields = Vec::new();
    while let Some(end) = data[used..].iter().position(|&b| b == b'\n') {
        let line = &data[used..used + end];
        fields.clear();
        for f in line.split(|&b| b == b'\t') {
            fields.push(copy_field(f)?);
        }
        each(&Reader::Text(&fields))?;
        used += end + 1;
    }
    Ok(used)
}

/// A field of COPY's text format: `\N` is NULL; a backslash escapes a tab, a newline, a
/// backslash (and the other control characters COPY writes that way).
fn copy_field(f: &[u8]) -> crate::Result<Option<std::borrow::Cow<'_, str>>> {
    use std::borrow::Cow;
    let not_utf8 = |_| crate::StoreError::corrupt("a field of COPY not in UTF-8");
    if f == b"\\N" {
        return Ok(None);
    }
    if !f.contains(&b'\\') {
        return std::str::from_utf8(f)
            .map(|s| Some(Cow::Borrowed(s)))
            .map_err(not_utf8);
    }
    let mut out = Vec::with_capacity(f.len());
    let mut bytes = f.iter();
    while let Some(&b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        out.push(match bytes.next() {
            Some(b'n') => b'\n',
            Some(b't') => b'\t',
            Some(b'r') => b'\r',
            Some(b'b') => 8,
            Some(b'f') => 12,
            Some(b'v') => 11,
            Some(&other) => other,
            None => {
                return Err(crate::StoreError::corrupt(
                    "a field of COPY ends in a backslash",
                ));
            }
        });
    }
    String::from_utf8(out)
        .map(|s| Some(Cow::Owned(s)))
        .map_err(|e| not_utf8(e.utf8_error()))
}

/// Inserts `rows` into `table` (whose key is the first column, an integer) unless a row with the
/// same key is there: the rows not inserted, by position (a key given twice is inserted once, by
/// its first row). No row of the same `owner` is there (`clear_draft_lines` deleted them), so
/// this is what SQLite's `insert_rows_over` does. The rows are streamed by `COPY … FROM STDIN`
/// into a staging table of the transaction and moved from it in one `INSERT … WHERE NOT
/// EXISTS`, whose keys come back by `COPY`: multi-row `INSERT`s of a few thousand bound values
/// each cost PostgreSQL a parse and a plan per statement, and wrote a month's million lines at
/// about 53,000 a second; `ON CONFLICT DO NOTHING` takes 6.2 s for a million rows where `NOT
/// EXISTS` takes 3.7 s (the store's writes are serialised: no other transaction inserts the same
/// key meanwhile).
async fn insert_rows_over<T>(
    tx: &mut sqlx::PgConnection,
    table: &str,
    columns: &[&str],
    _owner: &str,
    rows: &[T],
    _key_owner: impl Fn(&T) -> (i64, i64),
    bind: impl FnMut(&T, &mut Binder),
) -> crate::Result<Vec<usize>> {
    let key = columns.first().copied().unwrap_or("id");
    let cols = columns.join(", ");
    let stage = format!("chitra_stage_{table}");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"
    )))
    .execute(&mut *tx)
    .await?;
    // Each key once, by its first row; the later rows with a key already given are not sent.
    let mut keys = Vec::with_capacity(rows.len());
    let mut sent = std::collections::HashSet::with_capacity(rows.len());
    copy_into(tx, &stage, columns, rows, bind, |values| {
        let k = match values.first() {
            Some(Value::Int(Some(k))) => *k,
            _ => i64::MIN,
        };
        keys.push(k);
        sent.insert(k)
    })
    .await?;
    drop(sent);
    let mut inserted = std::collections::HashSet::with_capacity(rows.len());
    scan(
        &mut *tx,
        &format!(
            "INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} AS s WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.{key} = s.{key}) ORDER BY {key} RETURNING {key}"
        ),
        &[],
        |r| {
            inserted.insert(r.int(0));
            Ok(())
        },
    )
    .await?;
    // Empty for the next call in the same transaction (the table is dropped at its commit).
    sqlx::query(sqlx::AssertSqlSafe(format!("TRUNCATE {stage}")))
        .execute(&mut *tx)
        .await?;
    Ok(keys
        .iter()
        .enumerate()
        .filter(|(_, k)| !inserted.remove(k))
        .map(|(i, _)| i)
        .collect())
}

/// A value in COPY's text format: `\N` for NULL; a backslash, a tab, a newline or a carriage
/// return in text escaped.
fn copy_value(buf: &mut Vec<u8>, v: &Value) {
    use std::io::Write;
    match v {
        Value::Int(Some(i)) => {
            let _ = write!(buf, "{i}");
        }
        Value::Date(Some(d)) => {
            let _ = write!(buf, "{}", d.format("%Y-%m-%d"));
        }
        Value::Text(Some(t)) => {
            for &c in t.as_bytes() {
                match c {
                    b'\\' => buf.extend_from_slice(b"\\\\"),
                    b'\t' => buf.extend_from_slice(b"\\t"),
                    b'\n' => buf.extend_from_slice(b"\\n"),
                    b'\r' => buf.extend_from_slice(b"\\r"),
                    _ => buf.push(c),
                }
            }
        }
        Value::Int(None) | Value::Text(None) | Value::Date(None) => buf.extend_from_slice(b"\\N"),
    }
}

/// The rows of `query` (which ends with the key's column: `… WHERE run_id`) for the keys, all at
/// once (`= ANY($1)`).
///
/// Planned afresh each time (an unnamed statement, not kept prepared): after five runs of a kept
/// statement PostgreSQL may settle on one plan for any array, and one settled while a table was
/// small (the accounts before a month's funding) scans the table comparing each row with every
/// key — 1.2–1.9 s for the 5,000 accounts of 10,000 payments, where a fresh plan, which sees the
/// array and hashes it, took 8 ms. (As `IN (SELECT UNNEST($1))` instead, the settled plan
/// scanned all the decisions for each single payment: 0.2 s each.)
async fn lookup_ids<T>(
    conn: &mut <Db as sqlx::Database>::Connection,
    query: &str,
    keys: &[i64],
    mut read: impl FnMut(&Reader<'_>) -> crate::Result<T>,
) -> crate::Result<Vec<T>> {
    let sql = format!("{query} = ANY($1)");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .persistent(false)
        .bind(keys.to_vec())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|row| read(&Reader::Row(row))).collect()
}

/// [`lookup_ids`] for text keys.
async fn lookup_texts<T>(
    conn: &mut <Db as sqlx::Database>::Connection,
    query: &str,
    keys: &[String],
    mut read: impl FnMut(&Reader<'_>) -> crate::Result<T>,
) -> crate::Result<Vec<T>> {
    let sql = format!("{query} = ANY($1)");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .persistent(false)
        .bind(keys.to_vec())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|row| read(&Reader::Row(row))).collect()
}

/// Payments' ids are found by their text: PostgreSQL's index of them is the table's key.
const PAYMENT_ID_KEYED: bool = false;
/// Transfers have no `seq`: a line's transfers, pay transfers included, are found by the unique
/// index `transfers_line (period, kind, line_id)`.
const TRANSFER_SEQ: bool = false;
/// `payment_lines` and `transfer_lines` are views of `payments` and `transfers`: nothing more
/// to write.
const LINE_ROWS_WRITTEN: bool = false;
/// A month's pay transfers for the three-way match, `$1` the month: line and amount, by line
/// (from `transfers_line`).
const PAY_TRANSFER_FACTS: &str = "SELECT line_id, amount FROM transfer_lines WHERE period = $1 AND kind = 'pay' ORDER BY line_id";
/// A register is read on the transaction's connection alone: a transaction holds a connection
/// of the pool, and one that waited for a second while others wait for its lock could wait
/// for ever.
const REGISTER_DECISIONS_BESIDE: bool = false;

/// Nothing to ready (see the SQLite store's).
async fn map_reader(_conn: &mut sqlx::pool::PoolConnection<Db>) -> Result<()> {
    Ok(())
}

/// Gives the reader back to the pool: nothing was set on it.
async fn close_reader(_conn: sqlx::pool::PoolConnection<Db>) {}
/// From a row of `payment_lines pl` (a view of `payments`) to its payment's, `p`.
const PAYMENT_OF_LINE: &str = "JOIN payments p ON p.id = pl.id";
/// The ids of the payments of lines, by line (for `lookup_ids`): the view `payment_lines` has
/// them (read through a join with `payments`, the step took 33 ms a transaction of 10,000 over
/// a whole month against 23 ms, one run each: BENCHMARKS.md).
const PAYMENT_IDS_OF_LINES: &str = "SELECT line_id, id FROM payment_lines WHERE line_id";
/// A month's payments by line for the three-way match, `$1` to `$2`: line, amount and id (from
/// the index `payments_line (line_id) INCLUDE (amount, id)`).
const PAYMENT_FACTS: &str = "SELECT line_id, amount, id FROM payment_lines WHERE line_id >= $1 AND line_id < $2 ORDER BY line_id";

/// The payment transaction has written its payments: the counter `payments_version` they moved
/// is where the set of known ids, which holds them, stands once the transaction commits (should
/// it not, the counter stays where it was, and the next transaction throws the set away).
async fn payments_written(
    conn: &mut <Db as sqlx::Database>::Connection,
    known: &std::sync::Mutex<crate::known_ids::KnownIds>,
) -> crate::Result<()> {
    let version: i64 = sqlx::query_scalar("SELECT version FROM payments_version WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    crate::known_ids::locked(known).moved_to(version);
    Ok(())
}

/// The payments recorded under `ids`, as (id, line): only the ids whose key the writer's set
/// holds, when it holds them all (see `known_ids`); the set is read whole, from every payment's
/// id and line, in a transaction of [`crate::known_ids::READ_WHOLE_FROM`] ids or more.
async fn payments_by_id(
    conn: &mut <Db as sqlx::Database>::Connection,
    ids: &[String],
    known: &std::sync::Mutex<crate::known_ids::KnownIds>,
) -> crate::Result<(Vec<(String, i64)>, crate::IntSet<i64>)> {
    use crate::known_ids::{READ_WHOLE_FROM, locked};
    use chitra_core::payment::payment_id_key;
    if !locked(known).is_whole() && ids.len() >= READ_WHOLE_FROM {
        let started = std::time::Instant::now();
        let (mut keys, mut lines) = (crate::IntSet::default(), crate::IntSet::default());
        let mut rows = sqlx::query_as::<_, (String, i64)>("SELECT id, line_id FROM payments")
            .fetch(&mut *conn);
        while let Some((id, line)) = futures_util::TryStreamExt::try_next(&mut rows).await? {
            keys.insert(payment_id_key(&id));
            lines.insert(line);
        }
        drop(rows);
        tracing::debug!(keys = keys.len(), elapsed = ?started.elapsed(), "payments: the keys of the ids recorded read");
        locked(known).fill(keys, lines);
    }
    let wanted: Vec<String> = {
        let known = locked(known);
        ids.iter()
            .filter(|id| known.may_hold(payment_id_key(id)))
            .cloned()
            .collect()
    };
    if wanted.is_empty() {
        return Ok(Default::default());
    }
    // No key is taken: ids are found by their text, the table's key.
    let found = lookup_texts(
        conn,
        "SELECT id, line_id FROM payments WHERE id",
        &wanted,
        |r| Ok((r.text(0), r.int(1))),
    )
    .await?;
    Ok((found, crate::IntSet::default()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The readers a three-way match is split over see the database as it was when the first
    /// began: a payment committed meanwhile is in none of them, so the match cannot find it in one
    /// stream and miss it in another.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn snapshot_readers_see_one_state() {
        let url = std::env::var("CHITRA_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect(&url)
            .await
            .unwrap();
        let table = format!("snapshot_probe_{}", std::process::id());
        let run = |sql: String| {
            let pool = pool.clone();
            async move {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&pool)
                    .await
                    .unwrap()
            }
        };
        run(format!("DROP TABLE IF EXISTS {table}")).await;
        run(format!("CREATE TABLE {table} (n BIGINT)")).await;
        run(format!("INSERT INTO {table} VALUES (1)")).await;
        let mut readers = snapshot_readers(&pool, 3).await.unwrap();
        // Committed after the first reader began, before any of them reads the table.
        run(format!("INSERT INTO {table} VALUES (2)")).await;
        let count = format!("SELECT COUNT(*) FROM {table}");
        for reader in readers.iter_mut() {
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()))
                .fetch_one(&mut **reader)
                .await
                .unwrap();
            assert_eq!(n, 1, "every reader sees the state of the first");
        }
        drop(readers);
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 2, "a new read sees the later write");
        run(format!("DROP TABLE {table}")).await;
    }

    #[test]
    fn rows_of_copy_are_split_and_unescaped() {
        let data = b"7\tpaid\t\\N\n8\ta\\tb\\\\c\\nd\t2021-03-04\n9\tpart";
        let mut seen = Vec::new();
        let used = copy_rows(data, &mut |r| {
            seen.push((r.int(0), r.text(1), r.opt_text(2), r.date(2)));
            Ok(())
        })
        .unwrap();
        assert_eq!(&data[used..], b"9\tpart", "the unfinished row is left");
        assert_eq!(
            seen,
            [
                (7, "paid".to_owned(), None, None),
                (
                    8,
                    "a\tb\\c\nd".to_owned(),
                    Some("2021-03-04".to_owned()),
                    chrono::NaiveDate::from_ymd_opt(2021, 3, 4)
                ),
            ]
        );
        assert!(copy_field(b"ends\\").is_err());
    }

    #[test]
    fn values_written_for_copy_read_back_the_same() {
        let mut buf = Vec::new();
        for v in [
            Value::Int(Some(-42)),
            Value::Text(Some("tab\there\\ \r\nend".into())),
            Value::Text(None),
            Value::Date(chrono::NaiveDate::from_ymd_opt(2025, 7, 1)),
        ] {
            copy_value(&mut buf, &v);
            buf.push(b'\t');
        }
        buf.pop();
        buf.push(b'\n');
        let mut seen = Vec::new();
        copy_rows(&buf, &mut |r| {
            seen.push((r.int(0), r.text(1), r.opt_text(2), r.date(3)));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            [(
                -42,
                "tab\there\\ \r\nend".to_owned(),
                None,
                chrono::NaiveDate::from_ymd_opt(2025, 7, 1)
            )]
        );
    }

    /// Plain inserts store the same rows whether they go by `INSERT` (fewer than `COPY_FROM`) or
    /// by `COPY`: text with tabs, line ends and backslashes, Vietnamese letters, NULLs, dates and
    /// the extremes of 64 bits. A `COPY` that breaks a constraint fails as the `INSERT` does, and
    /// writes nothing.
    #[tokio::test]
    async fn rows_inserted_by_copy_read_back_as_inserted() {
        use sqlx::Connection as _;
        let url = std::env::var("CHITRA_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(
            "CREATE TEMP TABLE copy_probe (k BIGINT PRIMARY KEY, t TEXT, d DATE, n BIGINT)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        type Row = (i64, Option<String>, Option<chrono::NaiveDate>, Option<i64>);
        let row = |k: i64| -> Row {
            let t = match k % 4 {
                0 => None,
                1 => Some(format!("tab\there\\ \r\nĐồng {k}")),
                2 => Some(String::new()),
                _ => Some("\\N".to_owned()),
            };
            let d = (k % 3 != 0).then(|| chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap());
            let n = match k % 5 {
                0 => None,
                1 => Some(i64::MIN),
                2 => Some(i64::MAX),
                _ => Some(-k),
            };
            (k, t, d, n)
        };
        let bind = |r: &Row, b: &mut Binder| {
            b.int(r.0)
                .opt_text(r.1.as_deref())
                .opt_date(r.2)
                .opt_int(r.3);
        };
        let columns = ["k", "t", "d", "n"];
        let by_insert: Vec<Row> = (0..(COPY_FROM as i64 - 1)).map(row).collect();
        let by_copy: Vec<Row> = (COPY_FROM as i64..3 * COPY_FROM as i64).map(row).collect();
        insert_rows(&mut conn, "copy_probe", &columns, &by_insert, bind)
            .await
            .unwrap();
        insert_rows(&mut conn, "copy_probe", &columns, &by_copy, bind)
            .await
            .unwrap();
        let read: Vec<Row> = sqlx::query_as("SELECT k, t, d, n FROM copy_probe ORDER BY k")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let mut expected = by_insert.clone();
        expected.extend(by_copy.iter().cloned());
        assert_eq!(read, expected);

        // A key given twice: the whole COPY fails, and the transaction around it keeps nothing.
        let mut twice: Vec<Row> = (10 * COPY_FROM as i64..12 * COPY_FROM as i64)
            .map(row)
            .collect();
        twice.push(row(10 * COPY_FROM as i64));
        let mut tx = conn.begin().await.unwrap();
        let e = insert_rows(&mut tx, "copy_probe", &columns, &twice, bind).await;
        assert!(e.is_err(), "a duplicate key must fail the copy");
        tx.rollback().await.unwrap();
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM copy_probe")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(count, expected.len() as i64);
    }
}
