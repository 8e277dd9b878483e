//! Making the SQLite writer's commits durable without holding the writer while the disk syncs.
//!
//! With `synchronous=FULL`, SQLite syncs the WAL inside `COMMIT`, while the connection — the
//! store's one writer — waits: every transaction queued behind it waits for that sync too, and
//! the next transaction cannot begin until the disk answers. Here the writer commits with
//! `synchronous=NORMAL` (the commit's frames are written to the WAL, not synced), takes a ticket,
//! lets the connection go, and then waits until a sync of the WAL that began after its commit has
//! ended. One thread syncs the WAL for every ticket asked before it began, so one sync serves every
//! commit that landed meanwhile, and the next transaction is already running while the disk syncs
//! the last one — group commit across transactions, as PostgreSQL's does.
//!
//! What is promised stays what `synchronous=FULL` promised: a write is answered only once it is on
//! disk, and so is whatever its answer rests on. A write transaction that commits is synced after
//! every commit before it. One that ends without committing (a request found already done, a
//! refusal) may still have read a commit not yet on disk: the store's write transactions
//! therefore begin once every earlier commit is on disk, holding the writer for up to two syncs
//! (one already under way, and the one after it) — except the payment writer's, which instead
//! always takes a ticket of its own, so that its answers wait on a sync that began after
//! everything they read. Frames an earlier process committed and never synced (it was killed
//! between its commit and its sync) are synced once when the store opens. What differs: a reading
//! connection may see a commit a few milliseconds before it is on disk; a read answers no one's
//! write. What is left: a commit by another process on the same file, read here in the
//! milliseconds before that process syncs it, and that process then killed before it does.
//!
//! SQLite's own syncs stay as they are with `synchronous=NORMAL` in WAL mode: the WAL before each
//! checkpoint, the database file after it, and the WAL's header when it is written again from its
//! beginning.
//!
//! A sync that fails ends it: after a failed `fsync` Linux may have dropped the pages it could not
//! write and a later `fsync` can succeed without them, so no later commit is called durable, and
//! no write transaction begins: each is refused with the error until the process starts again
//! (PostgreSQL stops for the same reason).

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// The syncing thread and what it has made durable. Dropping the last handle stops the thread
/// once every ticket asked has been synced.
pub(crate) struct Syncer {
    inner: Arc<Inner>,
}

struct Inner {
    wal: PathBuf,
    asked: Mutex<Asked>,
    wake: Condvar,
    synced: tokio::sync::watch::Sender<Synced>,
}

#[derive(Default)]
struct Asked {
    /// The last ticket handed out: tickets are numbered from 1 in commit order.
    last: u64,
    stop: bool,
}

#[derive(Clone, Debug, Default)]
struct Synced {
    /// Every ticket up to this one is on disk.
    upto: u64,
    /// Set when a sync failed: no ticket above `upto` will be.
    failed: Option<String>,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer")
            .field("wal", &self.inner.wal)
            .field("synced", &*self.inner.synced.borrow())
            .finish()
    }
}

impl Syncer {
    /// Starts the thread that syncs the WAL of the database file at `database`, as SQLite names
    /// it (symbolic links resolved): `<database>-wal`.
    pub(crate) fn start(database: &Path) -> std::io::Result<Syncer> {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        let (synced, _) = tokio::sync::watch::channel(Synced::default());
        let inner = Arc::new(Inner {
            wal: PathBuf::from(wal),
            asked: Mutex::new(Asked::default()),
            wake: Condvar::new(),
            synced,
        });
        let thread = inner.clone();
        std::thread::Builder::new()
            .name("chitra-wal-sync".into())
            .spawn(move || run(&thread))?;
        Ok(Syncer { inner })
    }

    /// A ticket for a commit that has just returned: its frames are in the WAL file.
    pub(crate) fn ask(&self) -> u64 {
        let mut asked = self
            .inner
            .asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        asked.last += 1;
        self.inner.wake.notify_one();
        asked.last
    }

    /// Ends once every commit that has taken a ticket so far is on disk.
    pub(crate) fn settled(
        &self,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send + 'static + use<> {
        let last = self
            .inner
            .asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last;
        self.wait(last)
    }

    /// The error of the sync that failed, if one has: nothing is to be written after it.
    pub(crate) fn failed(&self) -> Option<std::io::Error> {
        self.inner.synced.borrow().failed.as_ref().map(|f| {
            std::io::Error::other(format!(
                "writing is stopped: a sync of the WAL failed ({f}); restart once the disk is checked"
            ))
        })
    }

    /// Ends once `ticket`'s commit is on disk, or with the error of the sync that failed.
    pub(crate) fn wait(
        &self,
        ticket: u64,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send + 'static + use<> {
        let mut synced = self.inner.synced.subscribe();
        async move {
            let seen = synced
                .wait_for(|s| s.upto >= ticket || s.failed.is_some())
                .await
                .map_err(|_| std::io::Error::other("the WAL's syncing thread has stopped"))?;
            if seen.upto >= ticket {
                return Ok(());
            }
            Err(std::io::Error::other(format!(
                "the commit was written but could not be made durable: {}",
                seen.failed.as_deref().unwrap_or("the WAL's sync failed")
            )))
        }
    }
}

#[cfg(test)]
impl Syncer {
    /// The last ticket asked, and the last synced.
    pub(crate) fn progress(&self) -> (u64, u64) {
        let asked = self
            .inner
            .asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last;
        (asked, self.inner.synced.borrow().upto)
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        let mut asked = self
            .inner
            .asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        asked.stop = true;
        self.inner.wake.notify_one();
    }
}

/// The thread: waits for tickets, syncs the WAL for all those asked before the sync began.
fn run(inner: &Inner) {
    let mut file: Option<File> = None;
    let mut done = 0;
    loop {
        let target = {
            let mut asked = inner.asked.lock().unwrap_or_else(PoisonError::into_inner);
            while asked.last == done && !asked.stop {
                asked = inner
                    .wake
                    .wait(asked)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if asked.last == done {
                return;
            }
            asked.last
        };
        let started = std::time::Instant::now();
        match sync_file(&inner.wal, &mut file) {
            Ok(()) => {
                tracing::trace!(elapsed = ?started.elapsed(), commits = target - done, "WAL synced");
                done = target;
                inner.synced.send_modify(|s| s.upto = target);
            }
            Err(e) => {
                tracing::error!(error = %e, wal = %inner.wal.display(), "syncing the WAL failed: no write is answered as durable from now on");
                inner
                    .synced
                    .send_modify(|s| s.failed = Some(format!("{}: {e}", inner.wal.display())));
                return;
            }
        }
    }
}

/// `fsync` of the file at `path`, through `file` while it is still that file (SQLite may remove
/// the WAL when its last connection closes and make a new one at the next open).
fn sync_file(path: &Path, file: &mut Option<File>) -> std::io::Result<()> {
    let on_disk = match std::fs::metadata(path) {
        Ok(m) => m,
        // SQLite removes the WAL only once the last connection has closed, after a checkpoint
        // that copied every frame into the database file and synced it: the commits asked before
        // are on disk. The file held, if any, is synced all the same.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match file.as_ref() {
                Some(f) => f.sync_all(),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    if let Some(f) = file.as_ref() {
        let held = f.metadata()?;
        if held.ino() != on_disk.ino() || held.dev() != on_disk.dev() {
            *file = None;
        }
    }
    let f = match file {
        Some(f) => f,
        None => file.insert(File::open(path)?),
    };
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("x.db");
        (dir, db)
    }

    #[tokio::test]
    async fn tickets_are_answered_once_synced_in_order() {
        let (_dir, db) = database();
        std::fs::write(format!("{}-wal", db.display()), b"frames").expect("wal");
        let syncer = Syncer::start(&db).expect("start");
        let tickets: Vec<u64> = (0..50).map(|_| syncer.ask()).collect();
        assert_eq!(
            tickets,
            (1..=50).collect::<Vec<_>>(),
            "numbered in commit order"
        );
        // Waited out of order: each is answered, whichever sync covered it.
        for t in tickets.iter().rev() {
            syncer.wait(*t).await.expect("synced");
        }
        assert!(syncer.inner.synced.borrow().upto >= 50);
    }

    #[tokio::test]
    async fn a_wal_made_again_is_synced_through_its_new_file() {
        let (_dir, db) = database();
        let wal = PathBuf::from(format!("{}-wal", db.display()));
        std::fs::write(&wal, b"first").expect("wal");
        let syncer = Syncer::start(&db).expect("start");
        let first = syncer.ask();
        syncer.wait(first).await.expect("synced");
        std::fs::remove_file(&wal).expect("removed");
        std::fs::write(&wal, b"second").expect("wal again");
        let second = syncer.ask();
        syncer.wait(second).await.expect("the new file is synced");
    }

    #[tokio::test]
    async fn a_failed_sync_fails_that_ticket_and_every_later_one() {
        let (_dir, db) = database();
        // No WAL file: the sync cannot be made.
        let syncer = Syncer::start(&db).expect("start");
        let first = syncer.ask();
        let e = syncer.wait(first).await.expect_err("nothing to sync");
        assert!(e.to_string().contains("could not be made durable"), "{e}");
        // The file appears: still no later ticket is called durable.
        std::fs::write(format!("{}-wal", db.display()), b"frames").expect("wal");
        let later = syncer.ask();
        assert!(syncer.wait(later).await.is_err());
    }
}
