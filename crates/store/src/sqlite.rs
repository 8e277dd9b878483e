//! The embedded default: one SQLite file in WAL mode, every commit durable (`synchronous=FULL`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};

use crate::OpenMode;

type Db = sqlx::Sqlite;
const BACKEND: &str = "sqlite";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A store in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: sqlx::Pool<Db>,
    /// The one connection every write transaction runs on (see [`SqliteStore::open`]).
    writer: std::sync::Arc<tokio::sync::Mutex<sqlx::SqliteConnection>>,
    /// Dropped with the last clone of the store: the checkpoints stop.
    _checkpointer: std::sync::Arc<tokio::sync::oneshot::Sender<()>>,
    units: crate::UnitCache,
    registers: crate::RegisterCaches,
}

/// The write connection's page cache, in KiB as `PRAGMA cache_size` takes it (negative): 256 MiB.
const WRITER_CACHE_KIB: &str = "-262144";

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Copies the WAL back into the database file, at once and then every [`CHECKPOINT_EVERY`],
/// while the pool is open. SQLite's automatic checkpoint would run inside the commit that
/// crosses its threshold — with payments landing on pages all over the month's lines, that is
/// nearly every commit, and it made each one wait for the whole copy and its fsync. A passive
/// checkpoint here runs beside the writer and never blocks it; durability does not depend on it
/// (a commit is durable once its WAL frames are synced).
/// It stops when the last clone of the store is dropped.
async fn checkpoints(pool: sqlx::Pool<Db>, mut stop: tokio::sync::oneshot::Receiver<()>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = &mut stop => break,
        }
        if pool.is_closed() {
            break;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed; it will be tried again");
        }
    }
}

impl SqliteStore {
    /// Opens (or, with [`OpenMode::Create`], creates) the file and applies pending migrations.
    pub async fn open(path: impl AsRef<Path>, mode: OpenMode) -> Result<SqliteStore> {
        let path = path.as_ref();
        if mode == OpenMode::Existing && !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(mode == OpenMode::Create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            // Checkpoints run beside the writer, not inside its commits (see `checkpoints`).
            .pragma("wal_autocheckpoint", "0");
        // Writes run on a connection of their own, held for the store's life (not a pool's: a
        // pool connection goes back through a task that tests it, and the next transaction
        // waited for that behind every request of a busy server). In WAL mode a connection that
        // begins a transaction after another connection wrote drops its whole page cache; with
        // writes spread over the reading connections, every write transaction began on a cold
        // cache and read each B-tree page it needed from the file again (a transaction of 30
        // payments spent 5–11 ms reading). On its own connection the writer's cache stays warm
        // from one transaction to the next, and it is larger: payments land on pages all over a
        // month's lines.
        let mut writer = options
            .clone()
            .pragma("cache_size", WRITER_CACHE_KIB)
            .connect()
            .await?;
        MIGRATOR.run(&mut writer).await?;
        let writer = std::sync::Arc::new(tokio::sync::Mutex::new(writer));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let (checkpointer, stop) = tokio::sync::oneshot::channel();
        tokio::spawn(checkpoints(pool.clone(), stop));
        Ok(SqliteStore {
            _checkpointer: std::sync::Arc::new(checkpointer),
            pool,
            writer,
            units: Default::default(),
            registers: Default::default(),
        })
    }

    /// A write transaction: `BEGIN IMMEDIATE` takes SQLite's write lock at once, so the journal
    /// head read here stays the head until commit.
    async fn begin_write(&self) -> Result<(Tx, Head)> {
        let mut tx = WriteTx::begin(self.writer.clone()).await?;
        let row: (i64, String) = sqlx::query_as("SELECT seq, hash FROM journal_head WHERE id = 1")
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

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction on the store's writer connection, which it holds until it ends. It ends
/// by [`WriteTx::commit`]; dropped before that (an error, a refused change), it is rolled back
/// before the next write transaction can begin.
pub(crate) struct WriteTx {
    conn: Option<tokio::sync::OwnedMutexGuard<SqliteConnection>>,
}

/// A write transaction.
type Tx = WriteTx;

impl WriteTx {
    /// `BEGIN IMMEDIATE` takes SQLite's write lock at once.
    async fn begin(
        writer: std::sync::Arc<tokio::sync::Mutex<SqliteConnection>>,
    ) -> std::result::Result<WriteTx, sqlx::Error> {
        let mut conn = writer.lock_owned().await;
        if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
            // A transaction dropped where no runtime could roll it back is still open: undone
            // now, then begun again.
            if !e.to_string().contains("within a transaction") {
                return Err(e);
            }
            sqlx::query("ROLLBACK").execute(&mut *conn).await?;
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        }
        Ok(WriteTx { conn: Some(conn) })
    }

    pub(crate) async fn commit(mut self) -> std::result::Result<(), sqlx::Error> {
        if let Some(mut conn) = self.conn.take() {
            if let Err(e) = sqlx::query("COMMIT").execute(&mut *conn).await {
                // The transaction is still open (SQLite keeps it when COMMIT fails): undone
                // before the connection is let go.
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            // The guard moves into the task: no other transaction begins before the rollback.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Err(e) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
                        tracing::error!(error = %e, "rolling back a write transaction failed");
                    }
                });
            }
        }
    }
}

impl std::ops::Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        // Only `commit` and `drop` take the connection, and both consume the transaction.
        match &self.conn {
            Some(c) => c,
            None => unreachable!("a write transaction is used after it ended"),
        }
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match &mut self.conn {
            Some(c) => c,
            None => unreachable!("a write transaction is used after it ended"),
        }
    }
}

shared_store!(SqliteStore);
shared_cycle!(SqliteStore);
shared_access!(SqliteStore);
shared_outreach!(SqliteStore);
shared_payments!(SqliteStore);

use crate::sqlite_bulk::{Binder, Reader, run_many};

/// Inserts `rows` into `table`, binding each (values in `columns` order) with `bind`.
async fn insert_rows<T>(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: &[T],
    mut bind: impl FnMut(&T, &mut Binder),
) -> crate::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; columns.len()].join(", ");
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({marks})",
        columns.join(", ")
    );
    run_many(tx, &sql, rows.iter(), |r, b| bind(r, b)).await?;
    Ok(())
}

/// Sets the status of payroll lines.
async fn set_status(tx: &mut Tx, ids: &[i64], status: &str) -> crate::Result<()> {
    let sql = format!("UPDATE payroll_lines SET status = '{status}' WHERE id = ?");
    run_many(tx, &sql, ids.iter(), |id, b| {
        b.int(**id);
    })
    .await?;
    Ok(())
}

/// The rows of `query` (which ends with the key's column: `… WHERE run_id`) for each key, in key
/// order: a point lookup per key through SQLite's C API.
async fn lookup_ids<T>(
    conn: &mut <Db as sqlx::Database>::Connection,
    query: &str,
    keys: &[i64],
    read: impl FnMut(&Reader<'_>) -> crate::Result<T>,
) -> crate::Result<Vec<T>> {
    let sql = format!("{query} = ?");
    crate::sqlite_bulk::lookup_many(
        conn,
        &sql,
        keys.iter(),
        |k, b| {
            b.int(**k);
        },
        read,
    )
    .await
}

/// [`lookup_ids`] for text keys.
async fn lookup_texts<T>(
    conn: &mut <Db as sqlx::Database>::Connection,
    query: &str,
    keys: &[String],
    read: impl FnMut(&Reader<'_>) -> crate::Result<T>,
) -> crate::Result<Vec<T>> {
    let sql = format!("{query} = ?");
    crate::sqlite_bulk::lookup_many(
        conn,
        &sql,
        keys.iter(),
        |k, b| {
            b.text(k);
        },
        read,
    )
    .await
}

/// The rows of `sql` with `args`, each handed to `each` as SQLite steps through them.
async fn scan(
    conn: &mut <Db as sqlx::Database>::Connection,
    sql: &str,
    args: &[crate::Arg<'_>],
    each: impl FnMut(&Reader<'_>) -> crate::Result<()>,
) -> crate::Result<()> {
    crate::sqlite_bulk::scan(conn, sql, args, each).await
}

/// Inserts `rows` into `table` (whose key is the first column, an integer) unless a row with the
/// same key is there: the rows not inserted, by position.
async fn insert_rows_ignoring<T>(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: &[T],
    mut bind: impl FnMut(&T, &mut Binder),
) -> crate::Result<Vec<usize>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; columns.len()].join(", ");
    let sql = format!(
        "INSERT OR IGNORE INTO {table} ({}) VALUES ({marks})",
        columns.join(", ")
    );
    crate::sqlite_bulk::run_many_ignoring(tx, &sql, rows.iter(), |r, b| bind(r, b)).await
}
