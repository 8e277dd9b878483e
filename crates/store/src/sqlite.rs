//! The embedded default: one SQLite file in WAL mode, every write answered once its commit is on
//! disk: the writer commits with `synchronous=NORMAL` and a thread of its own syncs the WAL for the
//! commits that have landed, while the next transaction runs (see `sqlite_sync`).

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

/// A month's transfers of lines (`tl`, keyed by period, kind and line) with their whole rows
/// (`t`): migration 0010.
const LINE_TRANSFERS: &str = "transfer_lines tl JOIN transfers t ON t.seq = tl.seq";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A store in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: sqlx::Pool<Db>,
    /// The one connection every write transaction runs on (see [`SqliteStore::open`]).
    writer: std::sync::Arc<tokio::sync::Mutex<Writer>>,
    /// Set by the checkpoints when the writer should copy what is left of the WAL before its
    /// next transaction (see [`RESTART_FRAMES`]).
    catch_up: std::sync::Arc<CatchUp>,
    /// Dropped with the last clone of the store: the checkpoints stop.
    _checkpointer: std::sync::Arc<tokio::sync::oneshot::Sender<()>>,
    /// Syncs the WAL for the writer's commits (see `sqlite_sync`).
    syncer: std::sync::Arc<crate::sqlite_sync::Syncer>,
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

/// The connection every write transaction runs on, with the statements it keeps prepared.
pub(crate) struct Writer {
    // Declared before the connection: dropped, and so finalised, before it closes.
    statements: crate::sqlite_bulk::Statements,
    conn: SqliteConnection,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("statements_kept", &self.statements.len())
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// The connection locked for our calls through the C API, with the statements it keeps.
    async fn locked(&mut self) -> Result<crate::sqlite_bulk::Locked<'_>> {
        crate::sqlite_bulk::lock_keeping(&mut self.conn, &mut self.statements).await
    }
}

/// The write connection's page cache, in KiB as `PRAGMA cache_size` takes it (negative): 256 MiB.
const WRITER_CACHE_KIB: &str = "-262144";

/// How much of the database file the writer reads through a memory map: SQLite's largest, 2 GiB.
/// Reading a month's lines into the payment writer's copy through SQLite's own page cache cost
/// three times as long (BENCHMARKS.md). The price: an I/O error while reading the mapped file
/// reaches the process as a signal (SIGBUS) and ends it, where a read through the cache would
/// return an error; what was answered is on disk either way.
const MMAP_BYTES: &str = "2147418112";

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// The WAL's size, in 4 KiB frames (1 GiB), past which the writer starts it again. SQLite
/// writes the WAL from its beginning again only when a write transaction begins with every frame
/// already copied into the database; a writer that never pauses always begins a little ahead of
/// the background checkpoint, so the WAL grew for as long as the load lasted (11 GB over a
/// month's 1,000,000 payments). Past this size the background checkpoints follow each other
/// without a pause, and once what is left to copy is small ([`CATCH_UP_FRAMES`]) the writer copies
/// it itself before its next transaction, which then starts the WAL again. Each start makes the
/// writer wait for a checkpoint's fsync (50–170 ms under load, measured with 1,000,000-line
/// months, before the checkpoints sent the database file's pages to disk as they went; 10–17 ms
/// since), which the requests queued behind it share: at 256 MiB that was every 2–2.5 s under
/// 6,000 single payments a second, at 1 GiB it is a quarter as often (BENCHMARKS.md). The price is
/// a WAL file of about 1 GiB kept while the load lasts.
const RESTART_FRAMES: i64 = 262_144;

/// What the writer copies itself, at most, to start the WAL again (2 MiB). The checkpoints,
/// following each other, get this close to the writer: each copies what the one before left while
/// the writer adds to it. (Measured against 16 MiB, the wait did not shrink: it is the fsync of
/// the database file, 50–170 ms under load whatever was copied; see BENCHMARKS.md.)
const CATCH_UP_FRAMES: i64 = 512;

/// When the load writes faster than the checkpoints copy and they cannot get within
/// [`CATCH_UP_FRAMES`], the writer copies more (16 MiB) once the WAL is half as large again as
/// [`RESTART_FRAMES`].
const CATCH_UP_FRAMES_BEHIND: i64 = 4_096;

/// Past this size (2 GiB) the writer copies whatever is left, however much: the WAL stays
/// bounded even when the disk cannot keep up with the load.
const WAL_HARD_FRAMES: i64 = 524_288;

/// The pause between checkpoints once they are behind (see [`checkpoints`]).
const CHECKPOINT_BEHIND_PAUSE: Duration = Duration::from_millis(5);

/// The size the WAL file is cut back to when it starts again: [`WAL_HARD_FRAMES`], above what it
/// reaches under a steady load ([`RESTART_FRAMES`] and a little). Within it the file is written
/// again in place: cutting it back each time (it was 64 MiB) cost the first commit after each
/// start a `ftruncate` of about 90 ms under load, and the file then grew again, block by block,
/// each allocation made durable by the fsyncs of the commits and of the checkpoints.
fn wal_size_limit() -> String {
    (WAL_HARD_FRAMES * 4096).to_string()
}

/// The checkpoints' request that the writer catch up with the WAL, and how many times it has:
/// bit 0 is the request, the bits above count the writer's catch-ups, each counted when it begins
/// and again when its transaction ends (the commit that starts the WAL again). A checkpoint asks
/// only if no catch-up began or ended while it ran. Without that, a checkpoint that had looked at
/// the WAL before the WAL started again asked again, and the writer copied a WAL that was nowhere
/// near its restart size (31,000 frames), paying a checkpoint's fsync (121–143 ms under load) for
/// nothing: seen in three runs of `bench http`.
#[derive(Debug, Default)]
struct CatchUp(std::sync::atomic::AtomicU64);

impl CatchUp {
    const ASKED: u64 = 1;

    /// The number of catch-ups begun or ended so far, read before a checkpoint runs.
    fn epoch(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst) >> 1
    }

    /// Asks the writer to catch up, unless a catch-up began or ended since `epoch` was read.
    fn ask(&self, epoch: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        let _ = self.0.fetch_update(SeqCst, SeqCst, |v| {
            (v >> 1 == epoch).then_some(v | Self::ASKED)
        });
    }

    /// Takes the request, if there is one: the writer then catches up, and calls [`Self::done`]
    /// once the transaction that follows has ended.
    fn take(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        self.0
            .fetch_update(SeqCst, SeqCst, |v| {
                (v & Self::ASKED != 0).then_some((v & !Self::ASKED) + 2)
            })
            .is_ok()
    }

    /// The transaction after a catch-up has ended: a checkpoint that looked at the WAL before
    /// cannot ask again.
    fn done(&self) {
        self.0.fetch_add(2, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Copies the WAL back into the database file, at once and then every [`CHECKPOINT_EVERY`],
/// while the pool is open. SQLite's automatic checkpoint would run inside the commit that
/// crosses its threshold — with payments landing on pages all over the month's lines, that is
/// nearly every commit, and it made each one wait for the whole copy and its fsync. A passive
/// checkpoint here runs beside the writer and never blocks it; durability does not depend on it
/// (a commit is durable once its WAL frames are synced). Past [`RESTART_FRAMES`] it asks the
/// writer to catch up (`catch_up`) once little is left.
///
/// After each pass that copied pages, the database file's dirty pages are sent to disk
/// ([`start_writeback`]), here and not in the writer's way. SQLite syncs the file in a checkpoint
/// only when the checkpoint has copied the whole WAL, which under load never happens in these
/// passes (the writer adds frames while they copy), and the kernel keeps dirty pages for up to
/// 30 s: every page copied since the WAL last started was left for the writer's catch-up to
/// write and sync, 37–47 ms with the writer held and every request waiting. Sent as they are
/// copied, the catch-up's sync finds little more than its own copy (13–17 ms; BENCHMARKS.md).
///
/// It stops when the last clone of the store is dropped.
async fn checkpoints(
    pool: sqlx::Pool<Db>,
    catch_up: std::sync::Arc<CatchUp>,
    database: std::path::PathBuf,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let file = match std::fs::File::open(&database) {
        Ok(f) => Some(std::sync::Arc::new(f)),
        Err(e) => {
            tracing::warn!(error = %e, "the database file could not be opened to send its pages to disk beside the writer; the writer's catch-ups do it");
            None
        }
    };
    // The frames copied as the last pass ended: a pass that copied more (or, after the WAL
    // started again, anything) has pages to send.
    let mut copied_before = 0;
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut behind = false;
    loop {
        // Behind, the next pass starts almost at once (not in a spin, should it copy nothing).
        let pause = async {
            if behind {
                tokio::time::sleep(CHECKPOINT_BEHIND_PAUSE).await;
            } else {
                tick.tick().await;
            }
        };
        tokio::select! {
            _ = pause => {}
            _ = &mut stop => break,
        }
        if pool.is_closed() {
            break;
        }
        let started = std::time::Instant::now();
        let epoch = catch_up.epoch();
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await
        {
            // (busy, frames in the WAL, frames copied)
            Ok((busy, frames, copied)) => {
                tracing::trace!(elapsed = ?started.elapsed(), busy, frames, copied, "WAL checkpoint");
                if copied != copied_before
                    && copied > 0
                    && let Some(f) = &file
                {
                    let f = f.clone();
                    let started = std::time::Instant::now();
                    match tokio::task::spawn_blocking(move || start_writeback(&f)).await {
                        Ok(Ok(())) => {
                            tracing::trace!(elapsed = ?started.elapsed(), "database file's pages sent to disk")
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "the database file's pages could not be sent to disk; the writer's catch-up syncs them")
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "sending the database file's pages to disk did not end; the writer's catch-up syncs them")
                        }
                    }
                }
                copied_before = copied;
                let left = frames - copied;
                behind = frames >= RESTART_FRAMES && left > 0;
                // `left` is counted at the pass's start: under load the writer has always added
                // more by its end, so even with nothing left the writer catches up.
                if frames >= WAL_HARD_FRAMES
                    || (frames >= RESTART_FRAMES && left <= CATCH_UP_FRAMES)
                    || (frames >= RESTART_FRAMES + RESTART_FRAMES / 2
                        && left <= CATCH_UP_FRAMES_BEHIND)
                {
                    catch_up.ask(epoch);
                }
            }
            // Another checkpoint running at that moment (the writer's, or another process's on
            // the same file) makes this one give up: nothing is wrong, and a command's standard
            // error stays what it says (JSON with `--format json`).
            Err(e) if crate::error::sqlx_busy(&e) => {
                behind = false;
                tracing::debug!(error = %e, "WAL checkpoint: the file was busy; it will be tried again");
            }
            Err(e) => {
                behind = false;
                tracing::warn!(error = %e, "WAL checkpoint failed; it will be tried again");
            }
        }
    }
}

/// Starts writing the file's dirty pages to disk and returns without waiting for them or for the
/// disk's cache: what makes them durable is still the fsync of a checkpoint that copied the whole
/// WAL. (An fsync here, waiting for the disk, was measured too: the same catch-ups, but a p99 of
/// single payments 2–3 ms higher, the WAL's syncs queued behind it; BENCHMARKS.md.)
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn start_writeback(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for as long as `file` is borrowed; offset 0 and length 0
    // name the whole file; the call reads no memory of ours.
    let r = unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere the kernel's own writeback sends the pages, and the catch-up syncs what is left.
#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
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
            .pragma("mmap_size", MMAP_BYTES)
            .pragma("journal_size_limit", wal_size_limit())
            .connect()
            .await?;
        MIGRATOR.run(&mut writer).await?;
        fill_payment_id_keys(&mut writer, 50_000).await?;
        // From here on the writer's commits are synced by the syncer's thread, not inside COMMIT:
        // the writer lets its connection go before the disk answers (see `sqlite_sync`). The
        // migrations above were synced in their commits. The syncer takes the file as SQLite
        // names it, symbolic links resolved: its WAL is beside it.
        let (file,): (String,) =
            sqlx::query_as("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&mut writer)
                .await?;
        let syncer = std::sync::Arc::new(crate::sqlite_sync::Syncer::start(Path::new(&file))?);
        // Frames a process killed between its commit and its sync left in the WAL: synced before
        // anything is read from them (see `sqlite_sync`).
        syncer.wait(syncer.ask()).await?;
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut writer)
            .await?;
        let writer = std::sync::Arc::new(tokio::sync::Mutex::new(Writer {
            statements: crate::sqlite_bulk::Statements::new(),
            conn: writer,
        }));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let (checkpointer, stop) = tokio::sync::oneshot::channel();
        let catch_up = std::sync::Arc::new(CatchUp::default());
        tokio::spawn(checkpoints(
            pool.clone(),
            catch_up.clone(),
            std::path::PathBuf::from(&file),
            stop,
        ));
        Ok(SqliteStore {
            _checkpointer: std::sync::Arc::new(checkpointer),
            syncer,
            pool,
            writer,
            catch_up,
            units: Default::default(),
            registers: Default::default(),
            pay_lines: Default::default(),
            known_ids: Default::default(),
            writer_facts: Default::default(),
            decide_beside: std::sync::Arc::new(crate::payments::DecideBeside::new(
                crate::payments::DecideBeside::SQLITE,
            )),
        })
    }

    /// A write transaction: `BEGIN IMMEDIATE` takes SQLite's write lock at once, so the journal
    /// head read here stays the head until commit.
    ///
    /// It begins once every earlier commit is on disk: what it reads and answers without
    /// committing is then on disk too (see `sqlite_sync`).
    ///
    /// The payment writer's copy of the lines is thrown away: this transaction may change them.
    async fn begin_write(&self) -> Result<(Tx, Head)> {
        let begun = WriteTx::begin(self.writer.clone(), &self.catch_up, &self.syncer, true).await?;
        self.pay_lines().clear();
        crate::known_ids::locked(&self.known_ids).clear();
        self.forget_writer_facts();
        Ok(begun)
    }

    /// [`SqliteStore::begin_write`] for a transaction that changes only users, sessions, the
    /// notices' outbox, schedules or phone numbers, none of what a payment reads of its line:
    /// the payment writer's copy of the lines is kept (agents sign in all through a pay day).
    async fn begin_write_keeping_lines(&self) -> Result<(Tx, Head)> {
        WriteTx::begin(self.writer.clone(), &self.catch_up, &self.syncer, true).await
    }

    /// The payment writer's transaction, which does not wait for earlier commits' sync: it always
    /// commits, and its answers wait for that commit's sync, which covers every earlier one.
    ///
    /// The copy of the lines is kept only when no other connection has committed since it was
    /// last checked (see `line_cache`).
    async fn begin_payment_write(&self) -> Result<(Tx, Head)> {
        let (tx, head) =
            WriteTx::begin(self.writer.clone(), &self.catch_up, &self.syncer, false).await?;
        crate::known_ids::locked(&self.known_ids).check_version(tx.data_version);
        if !self.pay_lines().check_version(tx.data_version) {
            tracing::debug!(
                "another connection has written: the payment writer reads its lines again"
            );
            self.forget_writer_facts();
        }
        Ok((tx, head))
    }

    /// Two readers of their own, each in a read transaction (every statement in it reads the
    /// database as of its first: SQLite's snapshot in WAL mode), both seeing the same state;
    /// the second only when that could be made sure of. Each reads through a memory map and is
    /// taken out of the pool (see `close_reader`): closing it ends its transaction.
    ///
    /// Without `SQLITE_ENABLE_SNAPSHOT` two connections cannot be given one snapshot. Both
    /// begin one after the other, and both read the journal's head: every change of the
    /// register commits a journal entry, so the same head is the same register. Where a commit
    /// landed between them (the writer is busy), they begin again, a few times, and otherwise
    /// the first is given alone. Nothing here waits for the writer.
    async fn snapshot_pair(&self) -> Result<(SqliteConnection, Option<SqliteConnection>)> {
        const TRIES: usize = 5;
        async fn reader(pool: &sqlx::Pool<Db>) -> Result<SqliteConnection> {
            let mut conn = pool.acquire().await?;
            map_reader(&mut conn).await?;
            Ok(conn.detach())
        }
        async fn begun(conn: &mut SqliteConnection) -> Result<i64> {
            sqlx::query("BEGIN").execute(&mut *conn).await?;
            Ok(
                sqlx::query_scalar("SELECT seq FROM journal_head WHERE id = 1")
                    .fetch_one(&mut *conn)
                    .await?,
            )
        }
        let mut first = reader(&self.pool).await?;
        let mut second = reader(&self.pool).await?;
        for _ in 0..TRIES {
            let a = begun(&mut first).await?;
            let b = begun(&mut second).await?;
            if a == b {
                return Ok((first, Some(second)));
            }
            sqlx::query("ROLLBACK").execute(&mut first).await?;
            sqlx::query("ROLLBACK").execute(&mut second).await?;
        }
        let _ = sqlx::Connection::close(second).await;
        begun(&mut first).await?;
        Ok((first, None))
    }

    /// The warm-up's transaction: the payment writer's own (SQLite has one writer), and the
    /// version its copy of the lines was checked at.
    async fn begin_warm_up(&self) -> Result<(Tx, Option<i64>)> {
        let (tx, _) = self.begin_payment_write().await?;
        let at = self.pay_lines().version();
        Ok((tx, at))
    }

    /// The payment writer's copy of the lines, for a transaction that holds the writer.
    fn pay_lines(&self) -> std::sync::MutexGuard<'_, crate::line_cache::LineCache<PayLine>> {
        crate::line_cache::locked(&self.pay_lines)
    }

    /// See `shared_payments`.
    fn pay_line_cache(&self) -> Option<&std::sync::Mutex<crate::line_cache::LineCache<PayLine>>> {
        Some(&self.pay_lines)
    }

    /// See `WriterFacts`.
    fn writer_facts(&self) -> &std::sync::Mutex<WriterFacts> {
        &self.writer_facts
    }

    /// Throws away what the payment writer kept (see `WriterFacts`). Its journal head already
    /// makes it useless after any other write; this keeps it from holding memory meanwhile.
    fn forget_writer_facts(&self) {
        *WriterFacts::locked(&self.writer_facts) = WriterFacts::default();
    }

    /// See `known_ids`.
    fn known_payment_ids(&self) -> &std::sync::Mutex<crate::known_ids::KnownIds> {
        &self.known_ids
    }

    /// Closes the store: the readers' pool closed, then the WAL folded into the database file and
    /// emptied. Without it the WAL stays beside the database after the process ends (after
    /// `chitra demo`, 318–699 MB): nothing is lost, the next open reads it, but a user finds a
    /// second large file. The checkpoint does not wait: when another process is reading or
    /// writing the file at that moment (a server on pay day beside a report), it would hold that
    /// process's writer back for as long as it waited, so the WAL is then left as it is.
    pub async fn close(&self) {
        // The readers first: the background checkpoints run on them, and a checkpoint running
        // beside this one would make it give up.
        self.pool.close().await;
        let mut writer = self.writer.lock().await;
        let folded = async {
            sqlx::query("PRAGMA busy_timeout = 0")
                .execute(&mut writer.conn)
                .await?;
            sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut writer.conn)
                .await
        };
        // Nothing is lost either way (the next open reads the WAL), and a command's output on
        // standard error must stay what it says (JSON with `--format json`): at debug level.
        match folded.await {
            Ok((0, _, _)) => {}
            Ok(_) => tracing::debug!("closing: the file is in use elsewhere, the WAL is left"),
            Err(e) => {
                tracing::debug!(error = %e, "closing: the WAL was not folded into the database")
            }
        }
    }
}

/// A write transaction on the store's writer connection, which it holds until it ends. It ends
/// by [`WriteTx::commit`]; dropped before that (an error, a refused change), it is rolled back
/// before the next write transaction can begin.
pub(crate) struct WriteTx {
    conn: Option<tokio::sync::OwnedMutexGuard<Writer>>,
    /// Set when this transaction follows a catch-up: told when it ends (see [`CatchUp`]).
    caught_up: Option<std::sync::Arc<CatchUp>>,
    /// What makes the commit durable.
    syncer: std::sync::Arc<crate::sqlite_sync::Syncer>,
    /// `PRAGMA data_version` once the write lock was taken: it changes when another connection
    /// has committed (see `line_cache`).
    data_version: i64,
}

/// A write transaction.
type Tx = WriteTx;

impl WriteTx {
    /// `BEGIN IMMEDIATE` takes SQLite's write lock at once; the journal head is read in the same
    /// call on the connection (one round trip to its thread, not two). When a checkpoint has asked
    /// (`catch_up`), what is left of the WAL is first copied into the database, so that this
    /// transaction writes the WAL from its beginning again (see [`RESTART_FRAMES`]); the
    /// transaction tells `catch_up` when it ends.
    async fn begin(
        writer: std::sync::Arc<tokio::sync::Mutex<Writer>>,
        catch_up: &std::sync::Arc<CatchUp>,
        syncer: &std::sync::Arc<crate::sqlite_sync::Syncer>,
        settled: bool,
    ) -> Result<(WriteTx, Head)> {
        use crate::sqlite_bulk::{exec, scan_locked};
        let mut conn = writer.lock_owned().await;
        if let Some(e) = syncer.failed() {
            return Err(e.into());
        }
        if settled {
            // With the writer held no commit can take a ticket meanwhile.
            syncer.settled().await?;
        }
        let mut caught_up = None;
        let (head, data_version) = {
            let mut held = conn.locked().await?;
            if catch_up.take() {
                let started = std::time::Instant::now();
                let mut result = (0, 0, 0);
                let copied = scan_locked(&mut held, "PRAGMA wal_checkpoint(PASSIVE)", &[], |r| {
                    result = (r.int(0), r.int(1), r.int(2));
                    Ok(())
                });
                match copied {
                    Ok(()) => {
                        tracing::debug!(elapsed = ?started.elapsed(), frames = result.1, copied = result.2, "WAL caught up by the writer")
                    }
                    Err(e) if e.is_busy() => {
                        tracing::debug!(error = %e, "the writer's WAL checkpoint: the file was busy; the background one goes on")
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the writer's WAL checkpoint failed; the background one goes on")
                    }
                }
                caught_up = Some(catch_up.clone());
            }
            if let Err(e) = exec(&mut held, "BEGIN IMMEDIATE") {
                // A transaction dropped where no runtime could roll it back is still open: undone
                // now, then begun again.
                if !e.to_string().contains("within a transaction") {
                    return Err(e);
                }
                exec(&mut held, "ROLLBACK")?;
                exec(&mut held, "BEGIN IMMEDIATE")?;
            }
            let mut head = None;
            let read = scan_locked(
                &mut held,
                "SELECT seq, hash FROM journal_head WHERE id = 1",
                &[],
                |r| {
                    head = Some(Head {
                        seq: r.int(0),
                        hash: r.text(1),
                    });
                    Ok(())
                },
            );
            let mut version = 0;
            let read = read.and_then(|()| {
                scan_locked(&mut held, "PRAGMA data_version", &[], |r| {
                    version = r.int(0);
                    Ok(())
                })
            });
            match (read, head) {
                (Ok(()), Some(head)) => (head, version),
                (read, _) => {
                    let _ = exec(&mut held, "ROLLBACK");
                    read?;
                    return Err(StoreError::corrupt("the journal has no head row"));
                }
            }
        };
        Ok((
            WriteTx {
                conn: Some(conn),
                caught_up,
                syncer: syncer.clone(),
                data_version,
            },
            head,
        ))
    }

    /// Commits, lets the writer go, and returns once the commit is on disk.
    pub(crate) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        if let Some(sync) = self.committed().await? {
            sync.await.map_err(sqlx::Error::Io)?;
        }
        Ok(())
    }

    /// COMMIT, then the connection let go: what ends once the commit is on disk.
    async fn committed(
        mut self,
    ) -> std::result::Result<
        Option<impl std::future::Future<Output = std::io::Result<()>> + Send + 'static + use<>>,
        sqlx::Error,
    > {
        let Some(mut conn) = self.conn.take() else {
            return Ok(None);
        };
        if let Err(e) = sqlx::query("COMMIT").execute(&mut conn.conn).await {
            // The transaction is still open (SQLite keeps it when COMMIT fails): undone
            // before the connection is let go.
            let _ = sqlx::query("ROLLBACK").execute(&mut conn.conn).await;
            return Err(e);
        }
        // Asked while the connection is still held: tickets follow the commits' order.
        let sync = self.syncer.wait(self.syncer.ask());
        drop(conn);
        // A catch-up before this transaction is told that it has ended as `self` is dropped,
        // before the caller waits for the disk.
        Ok(Some(sync))
    }
}

impl crate::CommitLater for WriteTx {
    async fn commit_later(self) -> Result<crate::payments::Durable> {
        Ok(match self.committed().await? {
            Some(sync) => crate::payments::Durable::after(async move { Ok(sync.await?) }),
            None => crate::payments::Durable::done(),
        })
    }

    /// Committed all the same (nothing is written to the WAL): its ticket's sync covers every
    /// commit before it.
    async fn end_unchanged(self) -> Result<crate::payments::Durable> {
        self.commit_later().await
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // After `commit` too: its COMMIT has started the WAL again.
        if let Some(catch_up) = self.caught_up.take() {
            catch_up.done();
        }
        if let Some(mut conn) = self.conn.take() {
            // The guard moves into the task: no other transaction begins before the rollback.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Err(e) = sqlx::query("ROLLBACK").execute(&mut conn.conn).await {
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
            Some(c) => &c.conn,
            None => unreachable!("a write transaction is used after it ended"),
        }
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match &mut self.conn {
            Some(c) => &mut c.conn,
            None => unreachable!("a write transaction is used after it ended"),
        }
    }
}

/// One read transaction: a read made of several statements on it still sees one state of the
/// database. SQLite cannot share a snapshot between connections; two readers can be checked to
/// see one state through the journal's head (`SqliteStore::snapshot_pair`), which the match has
/// not been measured with. `n` is how many the caller could use at once.
async fn snapshot_readers(
    pool: &sqlx::Pool<Db>,
    _n: usize,
) -> crate::Result<Vec<sqlx::Transaction<'static, Db>>> {
    Ok(vec![pool.begin().await?])
}

shared_store!(SqliteStore);
shared_cycle!(SqliteStore);
shared_access!(SqliteStore);
shared_outreach!(SqliteStore);
shared_payments!(SqliteStore);

impl crate::sqlite_bulk::Raw for WriteTx {
    async fn lock(&mut self) -> crate::Result<Held<'_>> {
        match &mut self.conn {
            Some(w) => w.locked().await,
            None => unreachable!("a write transaction is used after it ended"),
        }
    }
}

use crate::sqlite_bulk::{Binder, Raw, Reader, run_many};

/// A write transaction's connection held for many statements in a row: a transaction of
/// payments runs its two dozen reads and writes on it without a round trip to sqlx's worker
/// thread for each (on two busy cores each cost 0.1–0.5 ms). Plain sqlx queries on the
/// transaction wait until it is dropped (the borrow checker sees to it).
type Held<'c> = crate::sqlite_bulk::Locked<'c>;

async fn hold(conn: &mut impl Raw) -> crate::Result<Held<'_>> {
    conn.lock().await
}

/// Inserts `rows` into `table`, binding each (values in `columns` order) with `bind`.
///
/// Each row is its own `INSERT OR FAIL`: a row that breaks a constraint fails its statement and
/// the error ends the write, whose transaction is then rolled back whole (`WriteTx` on drop), as
/// with the default `ABORT`. What `ABORT` adds, undoing the one statement and going on, nothing
/// here uses, and SQLite paid for it with a statement journal: a copy of each page a statement
/// with triggers first changes (a payment's, a transfer's), taken before the change, in every
/// statement. (Migration 0016 then took the payments' and transfers' triggers away.)
async fn insert_rows<T>(
    tx: &mut impl Raw,
    table: &str,
    columns: &[&str],
    rows: &[T],
    bind: impl for<'r> FnMut(&'r T, &mut Binder<'r>),
) -> crate::Result<()> {
    insert_rows_with(tx, table, columns, rows, "", bind).await
}

/// [`insert_rows`] with a clause after the values (`ON CONFLICT …`).
async fn insert_rows_with<T>(
    tx: &mut impl Raw,
    table: &str,
    columns: &[&str],
    rows: &[T],
    then: &str,
    mut bind: impl for<'r> FnMut(&'r T, &mut Binder<'r>),
) -> crate::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; columns.len()].join(", ");
    let sql = format!(
        "INSERT OR FAIL INTO {table} ({}) VALUES ({marks}) {then}",
        columns.join(", ")
    );
    run_many(tx, &sql, rows.iter(), |r, b| bind(r, b)).await?;
    Ok(())
}

/// Sets the balances of accounts already stored (see `store_transfers`); returns the rows
/// changed.
async fn set_balances(
    tx: &mut impl Raw,
    rows: &[(&str, chitra_core::ledger::Balance)],
) -> crate::Result<u64> {
    run_many(
        tx,
        "UPDATE accounts SET debits = ?, credits = ? WHERE name = ?",
        rows.iter(),
        |(name, bal), b| {
            b.int(bal.debits).int(bal.credits).text(name);
        },
    )
    .await
}

/// Sets the status of payroll lines.
async fn set_status(tx: &mut impl Raw, ids: &[i64], status: &str) -> crate::Result<()> {
    let sql = format!("UPDATE payroll_line_rows SET status = '{status}' WHERE id = ?");
    run_many(tx, &sql, ids.iter(), |id, b| {
        b.int(**id);
    })
    .await?;
    Ok(())
}

/// The rows of `query` (which ends with the key's column: `… WHERE run_id`) for each key, in key
/// order: a point lookup per key through SQLite's C API.
async fn lookup_ids<T>(
    conn: &mut impl Raw,
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
    conn: &mut impl Raw,
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

/// Payments' ids are found by their 64-bit key, not by their text (migration 0012).
const PAYMENT_ID_KEYED: bool = true;
/// A transfer's `seq` is given by chitra as it inserts it (one more than the table's last), and
/// a payment keeps the `seq` of its pay transfer, through which a line's pay transfer is found
/// (migration 0015).
const TRANSFER_SEQ: bool = true;
/// `payment_lines` and `transfer_line_rows` are tables the store writes itself, a payment's and
/// a transfer's rows with them, in the same transaction (migration 0016: no triggers).
const LINE_ROWS_WRITTEN: bool = true;
/// A month's pay transfers for the three-way match, `$1` the month: line and amount, in the
/// order they were made (from the index `transfers_pay`, migration 0015); the match sorts them.
const PAY_TRANSFER_FACTS: &str = "SELECT line_id, amount FROM transfers WHERE period = $1 AND kind = 'pay' AND line_id IS NOT NULL";
/// A whole register's decisions are read on a reader connection of the pool, beside the
/// beneficiaries and their addresses read on the transaction's own: the writer has a connection
/// of its own, so a reader is never waited for by one who holds the write lock and wants it.
/// Nothing is written before a register is read (see `read_register`), and no other connection
/// writes while the write lock is held: the reader sees what the transaction sees.
const REGISTER_DECISIONS_BESIDE: bool = true;

/// Readies a reader of the pool for one large read: through a memory map, as the writer reads,
/// where the readers' page cache would take 64 MiB of the process for pages read once.
async fn map_reader(conn: &mut sqlx::pool::PoolConnection<Db>) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA mmap_size = {MMAP_BYTES}"
    )))
    .execute(&mut **conn)
    .await?;
    Ok(())
}

/// Closes a reader readied by [`map_reader`] instead of giving it back to the pool. Kept in the
/// pool after reading a whole register's decisions, such a reader made the writer's writing of
/// 5,000,000 lines that followed take 23 s against 13 s, for a reason not found (the writer's
/// profile then shows its pages read with `pread`, not through its memory map); closed, it
/// does not (BENCHMARKS.md).
async fn close_reader(conn: sqlx::pool::PoolConnection<Db>) {
    // Closing can only fail on a connection already broken: it is gone either way.
    let _ = sqlx::Connection::close(conn.detach()).await;
}
/// From a row of `payment_lines pl` to its payment's, `p`: by the payment's rowid.
const PAYMENT_OF_LINE: &str = "JOIN payments p ON p.seq = pl.payment";
/// The ids of the payments of lines, by line (`… WHERE pl.line_id`, for `lookup_ids`).
const PAYMENT_IDS_OF_LINES: &str = "SELECT pl.line_id, p.id FROM payment_lines pl JOIN payments p ON p.seq = pl.payment WHERE pl.line_id";
/// A month's payments by line for the three-way match, `$1` to `$2`: line, amount and id.
/// `payment_lines` carries no id here; the match reads the ids of the lines it names afterwards
/// (reading every payment's row for its id would be a lookup a payment in a table in the order
/// they were paid).
const PAYMENT_FACTS: &str = "SELECT line_id, amount, '' FROM payment_lines WHERE line_id >= $1 AND line_id < $2 ORDER BY line_id";

/// Nothing to do once the payment transaction has written: `PRAGMA data_version` moves only
/// with other connections' commits (see `known_ids`).
async fn payments_written(
    _conn: &mut impl Raw,
    _known: &std::sync::Mutex<crate::known_ids::KnownIds>,
) -> crate::Result<()> {
    Ok(())
}

/// The payments recorded under `ids`, as (id, line), and the keys of `ids` that payments under
/// other ids hold: found by the ids' keys, then the ids compared (an id whose key is taken is
/// refused: migration 0016). With the writer's set of recorded keys (`known`), only the
/// keys it holds are looked up; the set is read whole first when it is not and the ids are many.
async fn payments_by_id(
    conn: &mut impl Raw,
    ids: &[String],
    known: &std::sync::Mutex<crate::known_ids::KnownIds>,
) -> crate::Result<(Vec<(String, i64)>, crate::IntSet<i64>)> {
    use crate::known_ids::{READ_WHOLE_FROM, locked};
    let mut keys: Vec<i64> = ids
        .iter()
        .map(|id| chitra_core::payment::payment_id_key(id))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if !locked(known).is_whole() && keys.len() >= READ_WHOLE_FROM {
        let started = std::time::Instant::now();
        let (mut all, mut lines) = (crate::IntSet::default(), crate::IntSet::default());
        let mut every_row_keyed = true;
        scan(conn, "SELECT id_key, line_id FROM payments", &[], |r| {
            match r.opt_int(0) {
                Some(k) => {
                    all.insert(k);
                }
                None => every_row_keyed = false,
            }
            lines.insert(r.int(1));
            Ok(())
        })
        .await?;
        tracing::debug!(keys = all.len(), every_row_keyed, elapsed = ?started.elapsed(), "payments: the keys of the ids recorded read");
        if every_row_keyed {
            locked(known).fill(all, lines);
        }
    }
    {
        let known = locked(known);
        keys.retain(|k| known.may_hold(*k));
    }
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    let found = lookup_ids(
        conn,
        "SELECT id, line_id, id_key FROM payments WHERE id_key",
        &keys,
        |r| Ok((r.text(0), r.int(1), r.int(2))),
    )
    .await?;
    let mut taken = crate::IntSet::default();
    let mut recorded = Vec::new();
    for (id, line, key) in found {
        if wanted.contains(id.as_str()) {
            recorded.push((id, line));
        } else {
            taken.insert(key);
        }
    }
    Ok((recorded, taken))
}

/// Gives the payments recorded before migration 0012 the keys of their ids (SQLite computes no
/// such hash: it is chitra's, `payment_id_key`). In batches in the order of the rows, each
/// committed on its own: an open stopped midway goes on from there the next time, and another
/// process opening beside finds the rows it would fill already filled. Nothing to do once done.
async fn fill_payment_id_keys(conn: &mut SqliteConnection, batch: i64) -> crate::Result<()> {
    let mut after = 0i64;
    let mut filled = 0usize;
    loop {
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, id FROM payments WHERE seq > $1 AND id_key IS NULL ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?;
        let Some((last, _)) = rows.last() else {
            tx.commit().await?;
            break;
        };
        after = *last;
        crate::sqlite_bulk::run_many(
            &mut *tx,
            "UPDATE payments SET id_key = ? WHERE seq = ? AND id_key IS NULL",
            rows.iter(),
            |(seq, id), b| {
                b.int(chitra_core::payment::payment_id_key(id)).int(*seq);
            },
        )
        .await?;
        tx.commit().await?;
        filled += rows.len();
        tracing::info!(payments = filled, "payments' id keys filled so far");
    }
    Ok(())
}

/// The rows of `sql` with `args`, each handed to `each` as SQLite steps through them.
async fn scan(
    conn: &mut impl Raw,
    sql: &str,
    args: &[crate::Arg<'_>],
    each: impl FnMut(&Reader<'_>) -> crate::Result<()>,
) -> crate::Result<()> {
    crate::sqlite_bulk::scan(conn, sql, args, each).await
}

/// Inserts `rows` into `table`, whose key is the first column (an integer). A row whose key is
/// taken by a row with the same `owner` (a column) takes that row's place: its other columns are
/// written over the old ones in the same cell, with no index but the key's touched (a draft's
/// lines generated again; a line whose values did not change leaves its page as it was). A row
/// whose key is taken by a row of another owner is not written: those, by position.
///
/// The rows go [`ROWS_OVER_A_STATEMENT`] to a statement (see `insert_packed`). A statement that
/// changed fewer rows than it had refused some: each of its rows is then looked up by its key
/// (`key_owner` gives a row's key and owner), and those whose key another owner holds are the
/// ones refused. A row's owner never changes once written, so looking up after all the
/// statements finds what each of them found.
async fn insert_rows_over<T>(
    tx: &mut impl Raw,
    table: &str,
    columns: &[&str],
    owner: &str,
    rows: &[T],
    key_owner: impl Fn(&T) -> (i64, i64),
    mut bind: impl for<'r> FnMut(&'r T, &mut Binder<'r>),
) -> crate::Result<Vec<usize>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let key = columns.first().copied().unwrap_or("id");
    let marks = format!("({})", vec!["?"; columns.len()].join(", "));
    let set: Vec<String> = columns
        .iter()
        .filter(|c| **c != key && **c != owner)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    // `OR FAIL` for the insert, as `insert_rows` says: a row that breaks a check ends the write.
    // The update's branch runs as `ABORT`, which with no trigger on the table takes no statement
    // journal either.
    let head = format!(
        "INSERT OR FAIL INTO {table} ({}) VALUES",
        columns.join(", ")
    );
    let tail = format!(
        " ON CONFLICT ({key}) DO UPDATE SET {} WHERE {owner} = excluded.{owner}",
        set.join(", ")
    );
    let mut short = Vec::new();
    crate::sqlite_bulk::insert_packed(
        &mut *tx,
        (&head, &marks, &tail),
        ROWS_OVER_A_STATEMENT,
        rows,
        |r, b| bind(r, b),
        |at, n| {
            if n < at.len() as u64 {
                short.extend(at);
            }
        },
    )
    .await?;
    if short.is_empty() {
        return Ok(Vec::new());
    }
    let held = crate::sqlite_bulk::lookup_many(
        tx,
        &format!("SELECT {owner} FROM {table} WHERE {key} = ?"),
        short.iter(),
        |i, b| {
            b.int(rows.get(**i).map_or(0, |r| key_owner(r).0));
        },
        |r| Ok(r.int(0)),
    )
    .await?;
    if held.len() != short.len() {
        return Err(crate::StoreError::corrupt(format!(
            "{table}: a row written is not there"
        )));
    }
    Ok(short
        .into_iter()
        .zip(held)
        .filter(|(i, held)| rows.get(*i).is_some_and(|r| key_owner(r).1 != *held))
        .map(|(i, _)| i)
        .collect())
}

/// Rows written a statement by `insert_rows_over`: 64 lines bind 1,216 values.
const ROWS_OVER_A_STATEMENT: usize = 64;

/// Makes way for a draft's lines generated again: the run's rows whose ids are not in `kept`
/// (ascending) are deleted; the others stay, to be written over in place by `insert_rows_over`
/// (for a month of 1,000,000 lines, 1.28–1.31 s instead of 2.12–2.32 s to delete and insert them
/// all when every line changed; BENCHMARKS, 2026-12-05).
///
/// Returns the ids of the rows that stay (ascending): their entries in `payroll_line_runs` stay
/// with them.
async fn clear_draft_lines(
    tx: &mut impl Raw,
    run_id: i64,
    kept: &[i64],
) -> crate::Result<Vec<i64>> {
    let mut gone = Vec::new();
    let mut stay = Vec::new();
    let mut next = kept.iter().peekable();
    scan(
        &mut *tx,
        "SELECT line_id FROM payroll_line_runs WHERE run_id = $1 ORDER BY line_id",
        &[crate::Arg::Int(run_id)],
        |r| {
            let id = r.int(0);
            while next.next_if(|k| **k < id).is_some() {}
            if next.next_if_eq(&&id).is_some() {
                stay.push(id);
            } else {
                gone.push(id);
            }
            Ok(())
        },
    )
    .await?;
    run_many(
        &mut *tx,
        "DELETE FROM payroll_line_rows WHERE id = ?",
        gone.iter(),
        |id, b| {
            b.int(**id);
        },
    )
    .await?;
    run_many(
        tx,
        "DELETE FROM payroll_line_runs WHERE run_id = ? AND line_id = ?",
        gone.iter(),
        |id, b| {
            b.int(run_id).int(**id);
        },
    )
    .await?;
    Ok(stay)
}

/// Entries of `payroll_line_runs` inserted a statement.
const LINE_RUNS_A_STATEMENT: usize = 256;

/// A line's run is kept in `payroll_line_runs`, written by [`write_line_runs`] (migration 0017).
const LINE_RUNS_WRITTEN: bool = true;

/// Writes the entries of lines just written in `payroll_line_runs`: each run with the ids of its
/// lines, ascending. They are written sorted by run and line, so that a new month's entries (its
/// runs have the highest ids) are appended at the end of the tree; an entry already there (a
/// draft's line written over) is left as it is.
async fn write_line_runs(tx: &mut impl Raw, runs: &mut [(i64, Vec<i64>)]) -> crate::Result<()> {
    runs.sort_unstable_by_key(|(run_id, _)| *run_id);
    for (run_id, ids) in runs.iter() {
        crate::sqlite_bulk::insert_packed(
            &mut *tx,
            (
                "INSERT OR FAIL INTO payroll_line_runs (run_id, line_id) VALUES",
                "(?, ?)",
                " ON CONFLICT DO NOTHING",
            ),
            LINE_RUNS_A_STATEMENT,
            ids,
            |id, b| {
                b.int(*run_id).int(*id);
            },
            |_, _| {},
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::CatchUp;

    /// Rows written over by their owner, refused where another owner holds their key, and a key
    /// given twice kept by its first row: the same, by position, whether a row goes in a statement
    /// of many rows or of one.
    #[tokio::test]
    async fn rows_over_are_refused_by_position_in_statements_of_many_rows() {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, v INTEGER NOT NULL)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        // Owner 1 holds the even keys below 100, owner 2 the keys from 1,000.
        for (id, owner) in (0..100)
            .step_by(2)
            .map(|k| (k, 1))
            .chain((1000..1010).map(|k| (k, 2)))
        {
            sqlx::query("INSERT INTO t (id, owner, v) VALUES (?, ?, 0)")
                .bind(id)
                .bind(owner)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        // 151 rows (two statements of 64, then 23 alone): owner 2's keys first, refused; key 3
        // given by owner 2 before owner 1 gives it in the same statement; then key 7 and key 1001
        // again, each refused alone.
        let mut rows: Vec<(i64, i64)> = (1000..1010).map(|k| (k, 1)).collect();
        rows.push((3, 2));
        rows.extend((0..130).map(|k| (k, 1)));
        rows.extend([(7, 3), (1001, 1)]);
        rows.extend((200..208).map(|k| (k, 1)));
        let refused = super::insert_rows_over(
            &mut conn,
            "t",
            &["id", "owner", "v"],
            "owner",
            &rows,
            |r| *r,
            |r, b| {
                b.int(r.0).int(r.1).int(r.0 * 10);
            },
        )
        .await
        .unwrap();
        let expected: Vec<usize> = (0..10).chain([14, 141, 142]).collect();
        assert_eq!(refused, expected);
        let (n, owners, sum): (i64, i64, i64) =
            sqlx::query_as("SELECT COUNT(*), SUM(owner), SUM(v) FROM t")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        // Keys 0..130 and 200..208 are written with v = 10 · key, key 3 by owner 2, the others by
        // owner 1; owner 2's keys from 1,000 are as they were.
        let written: i64 = (0..130).chain(200..208).sum::<i64>() * 10;
        assert_eq!((n, owners, sum), (148, 129 + 8 + 2 + 20, written));
    }

    /// The checkpoint task holds the database file open for reading only, as it is opened there;
    /// the pages another handle wrote are sent to disk through it without an error.
    #[test]
    fn pages_written_elsewhere_are_sent_to_disk_through_a_file_open_for_reading() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pages.db");
        let mut writer = std::fs::File::create(&path).expect("file created");
        let reader = std::fs::File::open(&path).expect("file opened for reading");
        writer.write_all(&[7u8; 64 * 1024]).expect("pages written");
        super::start_writeback(&reader).expect("pages sent to disk");
        writer.sync_all().expect("file synced");
        assert_eq!(std::fs::read(&path).expect("file read").len(), 64 * 1024);
    }

    /// A new database at `path`, migrated only up to `version`: as a release before the next
    /// migration left it.
    async fn database_migrated_to(path: &std::path::Path, version: i64) -> sqlx::SqliteConnection {
        use sqlx::ConnectOptions as _;
        let mut old = super::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .connect()
            .await
            .expect("create");
        super::MIGRATOR
            .run_to(version, &mut old)
            .await
            .unwrap_or_else(|e| panic!("migrated to {version}: {e}"));
        old
    }

    /// A database written before migration 0012 keeps its payments: each gets the key of its id
    /// (here in batches of 2), and is found by it; its line leads to it; no other id takes its
    /// key, and an id whose key another id holds is found to be taken.
    #[tokio::test]
    async fn payments_from_before_their_ids_were_keyed_are_found_by_their_ids() {
        use chitra_core::payment::payment_id_key;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.db");
        let mut old = database_migrated_to(&path, 11).await;
        let kept = [
            ("tam:an", 2_021_061_000_001_i64),
            ("tam:binh", 2_021_061_000_002),
            ("tam:cuc", 2_021_061_000_003),
        ];
        for (id, line) in kept {
            sqlx::query("INSERT INTO payments (id, line_id, run_id, amount, paid_at, agent, method, proof, recorded_at) VALUES ($1, $2, 1, 270000, '2021-06-05T09:00:00+07:00', 'agent.tam', 'point', '{}', '2021-06-05T09:00:00+07:00')")
                .bind(id)
                .bind(line)
                .execute(&mut old)
                .await
                .expect("a payment as 0011 kept it");
        }
        super::MIGRATOR
            .run(&mut old)
            .await
            .expect("migrated to the last");
        let unkeyed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments WHERE id_key IS NULL")
            .fetch_one(&mut old)
            .await
            .expect("count");
        assert_eq!(unkeyed, 3, "the migration cannot compute the keys");
        super::fill_payment_id_keys(&mut old, 2)
            .await
            .expect("filled");
        sqlx::Connection::close(old).await.expect("closed");

        let store = super::SqliteStore::open(&path, crate::OpenMode::Existing)
            .await
            .expect("opened");
        let rows: Vec<(i64, String, Option<i64>)> =
            sqlx::query_as("SELECT seq, id, id_key FROM payments ORDER BY seq")
                .fetch_all(&store.pool)
                .await
                .expect("payments");
        assert_eq!(rows.len(), 3);
        for (_, id, key) in &rows {
            assert_eq!(*key, Some(payment_id_key(id)), "{id}");
        }
        let by_line: Vec<(i64, String)> = sqlx::query_as(
            "SELECT pl.line_id, p.id FROM payment_lines pl JOIN payments p ON p.seq = pl.payment ORDER BY pl.line_id",
        )
        .fetch_all(&store.pool)
        .await
        .expect("lines");
        assert_eq!(
            by_line,
            kept.iter()
                .map(|(id, line)| (*line, (*id).to_owned()))
                .collect::<Vec<_>>()
        );
        let insert = |id: &'static str, key: Option<i64>, line: i64| {
            sqlx::query("INSERT INTO payments (id, id_key, line_id, run_id, amount, paid_at, agent, method, proof, recorded_at) VALUES ($1, $2, $3, 1, 270000, 'x', 'agent.tam', 'point', '{}', 'x')")
                .bind(id)
                .bind(key)
                .bind(line)
                .execute(&store.pool)
        };
        // Another id under An's key (as two ids might hash alike): refused, as is An's id again.
        for (id, line) in [
            ("tam:dung", 2_021_061_000_004),
            ("tam:an", 2_021_061_000_009),
        ] {
            let again = insert(id, Some(payment_id_key("tam:an")), line).await;
            assert!(
                again.is_err_and(|e| e
                    .to_string()
                    .contains("UNIQUE constraint failed: payments.id_key")),
                "{id}"
            );
        }
        // Em's key held by another id: looking Em up finds no payment of Em's, and the key taken.
        insert(
            "tam:khac",
            Some(payment_id_key("tam:em")),
            2_021_061_000_005,
        )
        .await
        .expect("another id under Em's key");
        let lookup = |ids: &[&str]| {
            let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
            let writer = store.writer.clone();
            async move {
                let mut writer = writer.lock().await;
                let mut held = writer.locked().await.expect("held");
                // A set never read whole: every id is looked up.
                let known = std::sync::Mutex::default();
                super::payments_by_id(&mut held, &ids, &known)
                    .await
                    .expect("looked up")
            }
        };
        let (found, taken) = lookup(&["tam:an"]).await;
        assert_eq!(found, [("tam:an".to_owned(), 2_021_061_000_001)]);
        assert!(taken.is_empty());
        let (found, taken) = lookup(&["tam:binh", "tam:em", "tam:giang"]).await;
        assert_eq!(found, [("tam:binh".to_owned(), 2_021_061_000_002)]);
        assert_eq!(
            taken.into_iter().collect::<Vec<_>>(),
            [payment_id_key("tam:em")]
        );
        store.close().await;
        drop(store);
        // Opened again: nothing to fill, nothing changed.
        let store = super::SqliteStore::open(&path, crate::OpenMode::Existing)
            .await
            .expect("opened again");
        let again: Vec<(i64, String, Option<i64>)> =
            sqlx::query_as("SELECT seq, id, id_key FROM payments WHERE seq <= 3 ORDER BY seq")
                .fetch_all(&store.pool)
                .await
                .expect("payments");
        assert_eq!(again, rows);
        store.close().await;
    }

    /// A database from before migration 0015: its payments get the `seq` of their pay transfers,
    /// a line's pay transfer is then found through its payment (the view `transfer_lines`), the
    /// other kinds stay in `transfer_line_rows`, and the match's query reads every pay transfer.
    #[tokio::test]
    async fn pay_transfers_from_before_are_found_through_their_payments() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.db");
        let mut old = database_migrated_to(&path, 14).await;
        let (an, binh, cuc) = (
            2_021_061_000_001_i64,
            2_021_061_000_002_i64,
            2_021_061_000_003_i64,
        );
        let transfer = |id: String, kind: &'static str, line: i64| {
            sqlx::query("INSERT INTO transfers (id, kind, debit, credit, amount, period, on_date, run_id, line_id, recorded_at) VALUES ($1, $2, 'paid', 'cash:P1', 270000, 202106, '2021-06-05', 1, $3, 'x')")
                .bind(id)
                .bind(kind)
                .bind(line)
        };
        for (id, line) in [("tam:an", an), ("tam:binh", binh)] {
            transfer(format!("pay:{line}"), "pay", line)
                .execute(&mut old)
                .await
                .expect("a pay transfer as 0014 kept it");
            sqlx::query("INSERT INTO payments (id, id_key, line_id, run_id, amount, paid_at, agent, method, proof, recorded_at) VALUES ($1, $2, $3, 1, 270000, 'x', 'agent.tam', 'point', '{}', 'x')")
                .bind(id)
                .bind(chitra_core::payment::payment_id_key(id))
                .bind(line)
                .execute(&mut old)
                .await
                .expect("a payment as 0014 kept it");
        }
        transfer(format!("carry:{cuc}"), "carry", cuc)
            .execute(&mut old)
            .await
            .expect("a carry transfer");
        super::MIGRATOR
            .run(&mut old)
            .await
            .expect("migrated to the last");
        let linked: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT pl.line_id, p.transfer, pl.transfer FROM payment_lines pl JOIN payments p ON p.seq = pl.payment ORDER BY pl.line_id",
        )
        .fetch_all(&mut old)
        .await
        .expect("payments");
        assert_eq!(linked, vec![(an, 1, 1), (binh, 2, 2)]);
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT kind, line_id FROM transfer_line_rows")
                .fetch_all(&mut old)
                .await
                .expect("rows");
        assert_eq!(rows, vec![("carry".to_owned(), cuc)]);
        let by_line: Vec<(String, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT t.id, tl.line_id, tl.seq FROM {} WHERE tl.period = 202106 AND tl.kind IN ('pay', 'carry') ORDER BY tl.line_id",
            super::LINE_TRANSFERS
        )))
        .fetch_all(&mut old)
        .await
        .expect("by line");
        assert_eq!(
            by_line,
            vec![
                (format!("pay:{an}"), an, 1),
                (format!("pay:{binh}"), binh, 2),
                (format!("carry:{cuc}"), cuc, 3)
            ]
        );
        let facts: Vec<(i64, i64)> = sqlx::query_as(super::PAY_TRANSFER_FACTS)
            .bind(202_106_i64)
            .fetch_all(&mut old)
            .await
            .expect("facts");
        assert_eq!(facts, vec![(an, 270_000), (binh, 270_000)]);
        // A payment's pay transfer, once set, is kept.
        let moved = sqlx::query("UPDATE payments SET transfer = 3 WHERE line_id = $1")
            .bind(an)
            .execute(&mut old)
            .await;
        assert!(moved.is_err_and(|e| e.to_string().contains("a payment's transfer never changes")));
        sqlx::Connection::close(old).await.expect("closed");
    }

    /// Rows go in by `INSERT OR FAIL` (no statement journal): a row that fails leaves the rows
    /// before it in the transaction, so the write that sees the error must end in a rollback of
    /// everything, and does — for a second payment of the same line (the key of `payment_lines`,
    /// written after the payments' rows) and for a payment id used twice (the unique index of
    /// the ids' keys) alike.
    #[tokio::test]
    async fn a_row_that_fails_ends_its_write_and_leaves_nothing() {
        use chitra_core::payment::payment_id_key;
        let (_dir, store) = created("fail.db").await;
        let columns = [
            "seq",
            "id",
            "id_key",
            "line_id",
            "run_id",
            "amount",
            "paid_at",
            "agent",
            "method",
            "proof",
            "recorded_at",
        ];
        let count = |sql: &'static str| {
            let pool = store.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(&pool)
                    .await
                    .expect("count")
            }
        };
        for (rows, error, left) in [
            (
                [
                    (1, "tam:an", 2_021_061_000_001_i64),
                    (2, "tam:binh", 2_021_061_000_002),
                    (3, "tam:cuc", 2_021_061_000_001),
                ],
                "UNIQUE constraint failed: payment_lines.line_id",
                // The payments' rows all went in; their lines' rows failed after them.
                3,
            ),
            (
                [
                    (1, "tam:an", 2_021_061_000_001),
                    (2, "tam:binh", 2_021_061_000_002),
                    (3, "tam:an", 2_021_061_000_003),
                ],
                "UNIQUE constraint failed: payments.id_key",
                // Nothing of the third.
                2,
            ),
        ] {
            let (mut tx, _) = store.begin_write().await.expect("begun");
            let mut failed = super::insert_rows(
                &mut tx,
                "payments",
                &columns,
                &rows,
                |(seq, id, line), b| {
                    b.int(*seq)
                        .text(id)
                        .int(payment_id_key(id))
                        .int(*line)
                        .int(1)
                        .int(270_000)
                        .text("2021-06-05T09:00:00+07:00")
                        .text("agent.tam")
                        .code("point")
                        .text("{}")
                        .text("2021-06-05T09:00:00+07:00");
                },
            )
            .await;
            if failed.is_ok() {
                failed = super::insert_rows(
                    &mut tx,
                    "payment_lines",
                    &["line_id", "amount", "payment"],
                    &rows,
                    |(seq, _, line), b| {
                        b.int(*line).int(270_000).int(*seq);
                    },
                )
                .await;
            }
            assert!(
                failed
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains(error)),
                "{failed:?}"
            );
            // What the statements before left, and what the one that failed wrote before it
            // failed, are still in the transaction.
            let mut held = super::hold(&mut tx).await.expect("held");
            let mut inside = 0;
            crate::sqlite_bulk::scan_locked(&mut held, "SELECT COUNT(*) FROM payments", &[], |r| {
                inside = r.int(0);
                Ok(())
            })
            .expect("counted");
            assert_eq!(inside, left, "{error}");
            drop(held);
            drop(tx);
            // The next write begins after the rollback.
            let (next, _) = store.begin_write().await.expect("begun again");
            drop(next);
            assert_eq!(count("SELECT COUNT(*) FROM payments").await, 0);
            assert_eq!(count("SELECT COUNT(*) FROM payment_lines").await, 0);
        }
        store.close().await;
    }

    #[tokio::test]
    async fn a_database_opened_through_a_symbolic_link_syncs_its_real_wal() {
        use crate::Store as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("real.db");
        let link = dir.path().join("link.db");
        let store = super::SqliteStore::open(&real, crate::OpenMode::Create)
            .await
            .expect("create");
        store.close().await;
        drop(store);
        std::os::unix::fs::symlink(&real, &link).expect("link");
        let store = super::SqliteStore::open(&link, crate::OpenMode::Existing)
            .await
            .expect("open through the link");
        // SQLite keeps the WAL beside the real file: a sync of `link.db-wal` would fail.
        store
            .set_setting(&crate::Change::now("test", "link"), "k", "v")
            .await
            .expect("written and synced");
        assert_eq!(
            store.setting("k").await.expect("read").as_deref(),
            Some("v")
        );
    }

    /// A new store in a directory of its own (kept alive by the returned guard).
    async fn created(name: &str) -> (tempfile::TempDir, super::SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = super::SqliteStore::open(dir.path().join(name), crate::OpenMode::Create)
            .await
            .expect("open");
        (dir, store)
    }

    #[tokio::test]
    async fn a_write_returns_once_its_commit_is_on_disk() {
        use crate::Store as _;
        let (_dir, store) = created("x.db").await;
        let (before, _) = store.syncer.progress();
        for i in 0..20 {
            store
                .set_setting(&crate::Change::now("test", "sync"), "k", &i.to_string())
                .await
                .expect("written");
            let (asked, synced) = store.syncer.progress();
            assert_eq!(asked, before + i + 1, "one ticket per commit");
            assert!(
                synced >= asked,
                "answered before its sync: {synced} < {asked}"
            );
        }
        // The writer no longer syncs inside COMMIT; the syncer does.
        let mut writer = store.writer.lock().await;
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut writer.conn)
            .await
            .expect("pragma");
        assert_eq!(level, 1, "NORMAL");
    }

    /// The two readers of `snapshot_pair` see one state, and keep seeing it while the writer
    /// commits: what a register read on both at once is made of.
    #[tokio::test]
    async fn a_snapshot_pair_sees_one_state_while_the_writer_commits() {
        use crate::Store as _;
        let (_dir, store) = created("pair.db").await;
        let change = || crate::Change::now("test", "snapshot");
        store
            .set_setting(&change(), "k", "1")
            .await
            .expect("written");
        let (mut first, second) = store.snapshot_pair().await.expect("pair");
        let mut second = second.expect("a quiet writer gives the second reader");
        store
            .set_setting(&change(), "k", "2")
            .await
            .expect("written");
        const READ: &str = "SELECT (SELECT value FROM settings WHERE key = 'k') || ':' || (SELECT seq FROM journal_head WHERE id = 1)";
        let a: String = sqlx::query_scalar(READ)
            .fetch_one(&mut first)
            .await
            .expect("read");
        let b: String = sqlx::query_scalar(READ)
            .fetch_one(&mut second)
            .await
            .expect("read");
        let now: String = sqlx::query_scalar(READ)
            .fetch_one(&store.pool)
            .await
            .expect("read");
        assert_eq!(a, b, "both readers in one state");
        assert!(a.starts_with("1:"), "as of before the commit: {a}");
        assert!(now.starts_with("2:"), "the commit landed: {now}");
    }

    /// The bundled SQLite is compiled as `.cargo/config.toml` says: no count of its memory
    /// behind a lock on every allocation, and each connection with a page cache of its own
    /// rather than one shared by all under a lock (BENCHMARKS.md, "SQLite compiled for one
    /// writer"). Built without those settings, this fails.
    #[tokio::test]
    async fn sqlite_is_compiled_without_shared_page_cache_or_memory_counts() {
        use sqlx::ConnectOptions as _;
        let mut conn = super::SqliteConnectOptions::new()
            .filename(":memory:")
            .connect()
            .await
            .expect("connect");
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
            .fetch_all(&mut conn)
            .await
            .expect("compile options");
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "memory counted: {options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "one page cache shared by every connection: {options:?}"
        );
    }

    #[test]
    fn a_checkpoint_asks_and_the_writer_takes_once() {
        let c = CatchUp::default();
        assert!(!c.take(), "nothing asked yet");
        let epoch = c.epoch();
        c.ask(epoch);
        c.ask(epoch);
        assert!(c.take());
        assert!(!c.take(), "the request is taken once");
        c.done();
    }

    #[test]
    fn a_checkpoint_that_ran_across_a_catch_up_does_not_ask_again() {
        let c = CatchUp::default();
        let first = c.epoch();
        c.ask(first);
        // A second checkpoint looks at the WAL before the writer catches up...
        let before = c.epoch();
        assert!(c.take());
        // ...and another while the writer copies.
        let during = c.epoch();
        c.done();
        c.ask(before);
        c.ask(during);
        assert!(!c.take(), "a stale look at the WAL asked the writer again");
        // A checkpoint that looked after the catch-up still can.
        let after = c.epoch();
        c.ask(after);
        assert!(c.take());
    }
}
