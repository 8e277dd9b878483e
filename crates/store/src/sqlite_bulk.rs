//! Bulk statements on SQLite through its C API: one prepared statement, bound and stepped once per
//! row (or, for an insert of many rows, once per few dozen of them: [`insert_packed`]), inside the
//! transaction sqlx already opened on the connection. A month of payroll lines,
//! payments and transfers is hundreds of thousands of rows; through sqlx each value is copied and
//! boxed several times, here it is bound once.
//!
//! This is the only unsafe code of the project. Every pointer comes from SQLite on the connection
//! whose handle we hold locked for the whole call (sqlx's worker cannot touch it meanwhile: see
//! [`Locked`]), the
//! statement is finalised on every path by `Finalize`, and text is bound with
//! `SQLITE_TRANSIENT`, so SQLite copies it before the borrowed `&str` goes away — or, for text
//! borrowed from the rows being written (`Binder::row_text`), with `SQLITE_STATIC`, not copied:
//! the rows outlive the statement's run with them, and the bindings are cleared before they go.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr;

use chrono::NaiveDate;
use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use sqlx::sqlite::LockedSqliteHandle;

use crate::StoreError;

/// A connection locked for our own calls through the C API: sqlx's worker thread waits until it
/// is dropped. Locking costs a round trip to that thread (a message, and a wake-up on each side);
/// a transaction of many statements holds one lock for all of them (see [`Raw`]).
pub(crate) struct Locked<'c> {
    db: *mut ffi::sqlite3,
    _lock: Option<LockedSqliteHandle<'c>>,
    /// The statements kept prepared on this connection, when it keeps them (the writer's).
    kept: Option<&'c mut Statements>,
}

/// Statements prepared once on a connection and run again: preparing one (parsing the SQL,
/// planning it, compiling the triggers it fires) cost a transaction of one payment about two
/// fifths of its work outside the commit, about twenty statements each time. Kept for the
/// writer's connection only; at most [`Statements::MAX`], all finalised past that.
///
/// They must be finalised before their connection closes (sqlx panics on closing a connection
/// with statements left): the owner declares this field before the connection, so that it is
/// dropped first.
pub(crate) struct Statements(std::collections::HashMap<String, ptr::NonNull<ffi::sqlite3_stmt>>);

// SAFETY: the statements are only stepped, reset or finalised through a `Locked` of their
// connection, or when their owner is dropped, when no call on the connection is in flight (the
// owner holds the connection, and every call on it has been awaited).
unsafe impl Send for Statements {}

impl Statements {
    /// More distinct statements than the product runs on its writer: past it, a statement made
    /// of values rather than parameters is being kept, and all are let go.
    const MAX: usize = 512;

    pub(crate) fn new() -> Statements {
        Statements(std::collections::HashMap::new())
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    fn finalize_all(&mut self) {
        for (_, stmt) in self.0.drain() {
            // SAFETY: a statement of the connection, no longer in use (see the `Send` impl), and
            // finalised once: it has left the map.
            unsafe {
                ffi::sqlite3_finalize(stmt.as_ptr());
            }
        }
    }
}

impl Drop for Statements {
    fn drop(&mut self) {
        self.finalize_all();
    }
}

/// Locks `conn` for our calls, running them with the statements `kept` on it.
pub(crate) async fn lock_keeping<'c>(
    conn: &'c mut SqliteConnection,
    kept: &'c mut Statements,
) -> Result<Locked<'c>, StoreError> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    Ok(Locked {
        db,
        _lock: Some(handle),
        kept: Some(kept),
    })
}

// SAFETY: the pointer is the connection that `_lock` (or the `Locked` it was borrowed from) keeps
// locked for us for as long as this value lives: no other thread uses it meanwhile, whichever
// thread this value moves to.
unsafe impl Send for Locked<'_> {}

/// What our C API calls can run on: a connection (locked for each call) or one already locked.
pub(crate) trait Raw: Send {
    fn lock(&mut self) -> impl std::future::Future<Output = Result<Locked<'_>, StoreError>> + Send;
}

impl Raw for SqliteConnection {
    async fn lock(&mut self) -> Result<Locked<'_>, StoreError> {
        let mut handle = self.lock_handle().await?;
        let db = handle.as_raw_handle().as_ptr();
        Ok(Locked {
            db,
            _lock: Some(handle),
            kept: None,
        })
    }
}

impl Raw for sqlx::pool::PoolConnection<sqlx::Sqlite> {
    async fn lock(&mut self) -> Result<Locked<'_>, StoreError> {
        (**self).lock().await
    }
}

impl Raw for Locked<'_> {
    async fn lock(&mut self) -> Result<Locked<'_>, StoreError> {
        Ok(Locked {
            db: self.db,
            _lock: None,
            kept: self.kept.as_deref_mut(),
        })
    }
}

/// Binds a statement's values, in the order of its parameters: one row's, or the rows' of an
/// insert of many ([`insert_packed`]). Text borrowed for `'r` (the rows' own, see
/// [`Binder::row_text`]) may be bound without a copy.
pub(crate) struct Binder<'r> {
    stmt: *mut ffi::sqlite3_stmt,
    index: c_int,
    error: c_int,
    /// Whether text was bound without a copy: the bindings are then cleared once the row has run.
    borrowed: bool,
    row: std::marker::PhantomData<&'r str>,
}

impl<'r> Binder<'r> {
    fn on(stmt: *mut ffi::sqlite3_stmt) -> Binder<'r> {
        Binder {
            stmt,
            index: 0,
            error: ffi::SQLITE_OK,
            borrowed: false,
            row: std::marker::PhantomData,
        }
    }

    fn check(&mut self, rc: c_int) -> &mut Self {
        if rc != ffi::SQLITE_OK && self.error == ffi::SQLITE_OK {
            self.error = rc;
        }
        self
    }

    fn next(&mut self) -> c_int {
        self.index += 1;
        self.index
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        let i = self.next();
        // SAFETY: `stmt` is a live statement of the locked connection; `i` is within its parameters
        // (SQLite answers SQLITE_RANGE otherwise, which we report).
        let rc = unsafe { ffi::sqlite3_bind_int64(self.stmt, i, v) };
        self.check(rc)
    }

    /// Binds `v` as the next parameter, copied by SQLite (`copy`) or not.
    ///
    /// # Safety
    ///
    /// Without a copy, SQLite keeps the pointer until the parameter is bound again or the
    /// bindings are cleared: the bytes must live until then.
    unsafe fn bind_text(&mut self, v: &str, copy: bool) -> &mut Self {
        let i = self.next();
        let Ok(len) = c_int::try_from(v.len()) else {
            return self.check(ffi::SQLITE_TOOBIG);
        };
        let destructor = if copy {
            ffi::SQLITE_TRANSIENT()
        } else {
            ffi::SQLITE_STATIC()
        };
        // SAFETY: `stmt` is a live statement of the locked connection; `i` is within its
        // parameters (SQLite answers SQLITE_RANGE otherwise, which we report); SQLITE_TRANSIENT
        // makes SQLite copy the bytes before this call returns, and for SQLITE_STATIC the caller
        // keeps them alive.
        let rc = unsafe {
            ffi::sqlite3_bind_text(self.stmt, i, v.as_ptr() as *const c_char, len, destructor)
        };
        self.check(rc)
    }

    pub fn text(&mut self, v: &str) -> &mut Self {
        // SAFETY: copied.
        unsafe { self.bind_text(v, true) }
    }

    /// Text of the row being written, bound without a copy (a payment's id and proof, a transfer's
    /// accounts: a copy and a free of each, for each row, were 3–4 % of the payment writer's time).
    /// `'r` is the row's borrow in [`step_each`], which runs the statement with the row, then
    /// clears the bindings, before the row goes.
    pub fn row_text(&mut self, v: &'r str) -> &mut Self {
        self.borrowed = true;
        // SAFETY: `step_each` clears the bindings after the row's step, within `'r`, so SQLite
        // never holds the pointer past the bytes' life.
        unsafe { self.bind_text(v, false) }
    }

    /// A code from the program's text (a status, a kind): bound without a copy.
    pub fn code(&mut self, v: &'static str) -> &mut Self {
        // SAFETY: the bytes are static, so SQLite may keep the pointer as long as it likes.
        unsafe { self.bind_text(v, false) }
    }

    pub fn null(&mut self) -> &mut Self {
        let i = self.next();
        // SAFETY: as above.
        let rc = unsafe { ffi::sqlite3_bind_null(self.stmt, i) };
        self.check(rc)
    }

    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    pub fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// A date, as sqlx stores it in SQLite: `YYYY-MM-DD`.
    pub fn date(&mut self, d: NaiveDate) -> &mut Self {
        // As `format("%Y-%m-%d")` writes it, without parsing a format string per value.
        use chrono::Datelike;
        if (0..=9999).contains(&d.year()) {
            // On the stack: no string allocated for each row's date.
            let (y, m, day) = (d.year() as u32, d.month(), d.day());
            let digit = |v: u32| b'0' + (v % 10) as u8;
            let text = [
                digit(y / 1000),
                digit(y / 100),
                digit(y / 10),
                digit(y),
                b'-',
                digit(m / 10),
                digit(m),
                b'-',
                digit(day / 10),
                digit(day),
            ];
            return match std::str::from_utf8(&text) {
                Ok(t) => self.text(t),
                Err(_) => self.check(ffi::SQLITE_MISUSE),
            };
        }
        self.text(&d.format("%Y-%m-%d").to_string())
    }

    pub fn opt_date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        match d {
            Some(d) => self.date(d),
            None => self.null(),
        }
    }
}

/// A statement for one call: finalised when the call ends however it ends, or, when the
/// connection keeps it, reset and cleared for the next call.
struct Stmt {
    ptr: *mut ffi::sqlite3_stmt,
    kept: bool,
}

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on a connection still locked by the caller; one that
        // is not kept is finalised once, one that is kept stays with its connection.
        unsafe {
            if self.kept {
                ffi::sqlite3_reset(self.ptr);
                ffi::sqlite3_clear_bindings(self.ptr);
            } else {
                ffi::sqlite3_finalize(self.ptr);
            }
        }
    }
}

/// `sql` prepared on the locked connection: the one it keeps, if it keeps statements.
fn prepare(locked: &mut Locked<'_>, sql: &str) -> Result<Stmt, StoreError> {
    let db = locked.db;
    if let Some(kept) = locked.kept.as_deref_mut() {
        if let Some(stmt) = kept.0.get(sql) {
            return Ok(Stmt {
                ptr: stmt.as_ptr(),
                kept: true,
            });
        }
        if kept.0.len() >= Statements::MAX {
            kept.finalize_all();
        }
        let ptr = prepare_raw(db, sql, ffi::SQLITE_PREPARE_PERSISTENT)?;
        match ptr::NonNull::new(ptr) {
            Some(stmt) => {
                kept.0.insert(sql.to_owned(), stmt);
                return Ok(Stmt { ptr, kept: true });
            }
            // SQL of no statement (a comment): nothing to keep.
            None => return Ok(Stmt { ptr, kept: false }),
        }
    }
    Ok(Stmt {
        ptr: prepare_raw(db, sql, 0)?,
        kept: false,
    })
}

fn prepare_raw(
    db: *mut ffi::sqlite3,
    sql: &str,
    flags: u32,
) -> Result<*mut ffi::sqlite3_stmt, StoreError> {
    let sql = CString::new(sql).map_err(|_| StoreError::corrupt("a statement with a NUL byte"))?;
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    // SAFETY: `db` is the open connection, locked; `sql` is NUL-terminated; `stmt` receives the
    // statement or stays null on error.
    let rc =
        unsafe { ffi::sqlite3_prepare_v3(db, sql.as_ptr(), -1, flags, &mut stmt, ptr::null_mut()) };
    if rc != ffi::SQLITE_OK {
        return Err(message(db, rc));
    }
    Ok(stmt)
}

/// A value SQLite could not take (`rc` from binding it, or the store's own check of its size):
/// the code's own text, since the connection's last message may be another call's.
fn bind_failed(rc: c_int) -> StoreError {
    // SAFETY: sqlite3_errstr returns a static NUL-terminated English text for any code.
    let text = unsafe { CStr::from_ptr(ffi::sqlite3_errstr(rc)) };
    StoreError::Sqlite {
        code: rc,
        message: format!("a value could not be bound: {}", text.to_string_lossy()),
    }
}

/// SQLite's error `rc` on the connection, with its message: a database error, never taken for
/// inconsistent data (a full disk or a lock held elsewhere is the operator's to see as such).
fn message(db: *mut ffi::sqlite3, rc: c_int) -> StoreError {
    // SAFETY: `db` is the locked connection; sqlite3_errmsg returns a NUL-terminated string owned
    // by SQLite, copied here at once.
    let text = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) };
    StoreError::Sqlite {
        code: rc,
        message: text.to_string_lossy().into_owned(),
    }
}

/// Runs `sql` once per row (binding each row with `bind`) on the connection, inside whatever
/// transaction it has open, and hands `changed` each row's position and the rows it changed.
fn step_each<T>(
    locked: &mut Locked<'_>,
    sql: &str,
    rows: impl IntoIterator<Item = T>,
    mut bind: impl for<'r> FnMut(&'r T, &mut Binder<'r>),
    mut changed: impl FnMut(usize, u64),
) -> Result<(), StoreError> {
    let db = locked.db;
    let prepared = prepare(locked, sql)?;
    let stmt = prepared.ptr;
    for (i, row) in rows.into_iter().enumerate() {
        // Every parameter is bound for each row: none is left from the row before.
        let mut b = Binder::on(stmt);
        bind(&row, &mut b);
        let borrowed = b.borrowed;
        // Clears what `row` lent before `row` goes, on every path out of this iteration.
        let _cleared = Cleared(borrowed.then_some(stmt));
        if b.error != ffi::SQLITE_OK {
            return Err(bind_failed(b.error));
        }
        // SAFETY: a prepared, fully bound statement of the locked connection.
        let rc = unsafe { ffi::sqlite3_step(stmt) };
        if rc != ffi::SQLITE_DONE {
            let m = message(db, rc);
            // SAFETY: as above.
            unsafe { ffi::sqlite3_reset(stmt) };
            return Err(m);
        }
        // SAFETY: as above; the connection is ours for the whole loop.
        changed(i, unsafe { ffi::sqlite3_changes(db) } as u64);
        // SAFETY: as above.
        unsafe { ffi::sqlite3_reset(stmt) };
    }
    Ok(())
}

/// Clears a statement's bindings when dropped (`None`: nothing to clear). Declared after the row
/// whose text was bound without a copy, it is dropped before it.
struct Cleared(Option<*mut ffi::sqlite3_stmt>);

impl Drop for Cleared {
    fn drop(&mut self) {
        if let Some(stmt) = self.0 {
            // SAFETY: a statement of the connection still locked by `step_each`'s caller, not
            // being stepped; clearing sets each parameter to NULL, letting go of borrowed text.
            unsafe { ffi::sqlite3_clear_bindings(stmt) };
        }
    }
}

/// Runs statements without parameters or results (`BEGIN IMMEDIATE`, `ROLLBACK`).
pub(crate) fn exec(locked: &mut Locked<'_>, sql: &str) -> Result<(), StoreError> {
    step_each(locked, sql, [()], |_, _| {}, |_, _| {})
}

/// Runs `sql` once per row (see [`step_each`]). Returns the rows changed.
pub(crate) async fn run_many<T>(
    conn: &mut impl Raw,
    sql: &str,
    rows: impl IntoIterator<Item = T>,
    bind: impl for<'r> FnMut(&'r T, &mut Binder<'r>),
) -> Result<u64, StoreError> {
    let mut locked = conn.lock().await?;
    let mut total = 0u64;
    step_each(&mut locked, sql, rows, bind, |_, n| total += n)?;
    Ok(total)
}

/// The current row of a statement, read column by column.
pub(crate) struct Reader<'s> {
    stmt: *mut ffi::sqlite3_stmt,
    /// Text read from the row is borrowed from the statement, for as long as the reader.
    row: std::marker::PhantomData<&'s ()>,
}

impl Reader<'_> {
    pub fn int(&self, col: c_int) -> i64 {
        // SAFETY: a statement of the locked connection positioned on a row (SQLITE_ROW); a column
        // out of range reads as NULL, i.e. 0.
        unsafe { ffi::sqlite3_column_int64(self.stmt, col) }
    }

    pub fn opt_int(&self, col: c_int) -> Option<i64> {
        // SAFETY: as above.
        let kind = unsafe { ffi::sqlite3_column_type(self.stmt, col) };
        (kind != ffi::SQLITE_NULL).then(|| self.int(col))
    }

    pub fn opt_real(&self, col: c_int) -> Option<f64> {
        // SAFETY: as in `int`.
        unsafe {
            if ffi::sqlite3_column_type(self.stmt, col) == ffi::SQLITE_NULL {
                return None;
            }
            Some(ffi::sqlite3_column_double(self.stmt, col))
        }
    }

    pub fn text(&self, col: c_int) -> String {
        self.opt_text(col).unwrap_or_default()
    }

    /// The column's text, borrowed until the statement steps again (NULL and non-UTF-8 read as
    /// `None`).
    pub fn str(&self, col: c_int) -> Option<&str> {
        // SAFETY: as in `opt_text`; the bytes stay valid while `self` is borrowed, because the
        // statement is only stepped once the reader given to the caller's closure is gone.
        unsafe {
            let p = ffi::sqlite3_column_text(self.stmt, col);
            if p.is_null() {
                return None;
            }
            let n = ffi::sqlite3_column_bytes(self.stmt, col);
            let bytes = std::slice::from_raw_parts(p, usize::try_from(n).unwrap_or(0));
            std::str::from_utf8(bytes).ok()
        }
    }

    /// A date stored as sqlx stores it in SQLite (`YYYY-MM-DD`).
    pub fn date(&self, col: c_int) -> Option<NaiveDate> {
        let s = self.str(col)?.as_bytes();
        if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            s[r].iter().try_fold(0u32, |n, c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)
    }

    pub fn opt_text(&self, col: c_int) -> Option<String> {
        // SAFETY: as above; the pointer and length are valid until the next step, and are copied
        // into an owned String here.
        unsafe {
            let p = ffi::sqlite3_column_text(self.stmt, col);
            if p.is_null() {
                return None;
            }
            let n = ffi::sqlite3_column_bytes(self.stmt, col);
            let bytes = std::slice::from_raw_parts(p, usize::try_from(n).unwrap_or(0));
            Some(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

/// Runs the query `sql` with `args` and hands each row to `each`, as SQLite steps through them:
/// nothing is held but the current row.
pub(crate) async fn scan(
    conn: &mut impl Raw,
    sql: &str,
    args: &[crate::Arg<'_>],
    each: impl FnMut(&Reader) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut locked = conn.lock().await?;
    scan_locked(&mut locked, sql, args, each)
}

/// [`scan`] on a connection already locked.
pub(crate) fn scan_locked(
    locked: &mut Locked<'_>,
    sql: &str,
    args: &[crate::Arg<'_>],
    mut each: impl FnMut(&Reader) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let db = locked.db;
    let prepared = prepare(locked, sql)?;
    let stmt = prepared.ptr;
    let mut b = Binder::on(stmt);
    for a in args {
        match a {
            crate::Arg::Int(v) => b.int(*v),
            crate::Arg::Text(v) => b.text(v),
        };
    }
    if b.error != ffi::SQLITE_OK {
        return Err(bind_failed(b.error));
    }
    loop {
        // SAFETY: as in `step_each`.
        let rc = unsafe { ffi::sqlite3_step(stmt) };
        if rc == ffi::SQLITE_ROW {
            each(&Reader {
                stmt,
                row: std::marker::PhantomData,
            })?;
        } else if rc == ffi::SQLITE_DONE {
            return Ok(());
        } else {
            return Err(message(db, rc));
        }
    }
}

/// Inserts `rows`, `per` to a statement: `head` then one row's parameters `marks` (such as
/// `(?, ?)`) as many times as the statement has rows, then `tail`; each row bound by `bind`. The
/// rows short of a whole statement at the end go one to a statement. Stepping and resetting a
/// statement costs about what inserting a narrow row does: rows that need no answer each are
/// spared it. `changed` is handed each statement's rows (their positions) and the rows it changed.
pub(crate) async fn insert_packed<T>(
    conn: &mut impl Raw,
    (head, marks, tail): (&str, &str, &str),
    per: usize,
    rows: &[T],
    mut bind: impl for<'r> FnMut(&'r T, &mut Binder<'r>),
    mut changed: impl FnMut(std::ops::Range<usize>, u64),
) -> Result<(), StoreError> {
    let per = per.max(1);
    let mut locked = conn.lock().await?;
    let whole = rows.len() - rows.len() % per;
    let (packed, rest) = rows.split_at(whole);
    let sql = format!("{head} {}{tail}", vec![marks; per].join(", "));
    step_each(
        &mut locked,
        &sql,
        packed.chunks(per),
        |chunk, b| {
            for row in chunk.iter() {
                bind(row, b);
            }
        },
        |i, n| changed(i * per..(i + 1) * per, n),
    )?;
    let sql = format!("{head} {marks}{tail}");
    step_each(
        &mut locked,
        &sql,
        rest,
        |row, b| bind(row, b),
        |i, n| changed(whole + i..whole + i + 1, n),
    )?;
    Ok(())
}

/// Runs the query `sql` once per key (bound as its only parameter) and reads every row it
/// returns. A point lookup per key, without the per-row cost of sqlx's worker channel.
pub(crate) async fn lookup_many<K, T>(
    conn: &mut impl Raw,
    sql: &str,
    keys: impl IntoIterator<Item = K>,
    mut bind: impl FnMut(&K, &mut Binder),
    mut read: impl FnMut(&Reader) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut locked = conn.lock().await?;
    let db = locked.db;
    let prepared = prepare(&mut locked, sql)?;
    let stmt = prepared.ptr;
    let mut out = Vec::new();
    for key in keys {
        let mut b = Binder::on(stmt);
        bind(&key, &mut b);
        if b.error != ffi::SQLITE_OK {
            return Err(bind_failed(b.error));
        }
        loop {
            // SAFETY: as in `step_each`.
            let rc = unsafe { ffi::sqlite3_step(stmt) };
            if rc == ffi::SQLITE_ROW {
                out.push(read(&Reader {
                    stmt,
                    row: std::marker::PhantomData,
                })?);
            } else if rc == ffi::SQLITE_DONE {
                break;
            } else {
                let m = message(db, rc);
                // SAFETY: as above.
                unsafe { ffi::sqlite3_reset(stmt) };
                return Err(m);
            }
        }
        // SAFETY: as above.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use sqlx::Connection as _;

    use super::*;

    #[tokio::test]
    async fn kept_statements_run_again_and_are_let_go() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let mut kept = Statements::new();
        {
            let mut locked = lock_keeping(&mut conn, &mut kept).await.unwrap();
            exec(&mut locked, "CREATE TABLE t (n INTEGER)").unwrap();
            for n in 0..3i64 {
                run_many(&mut locked, "INSERT INTO t (n) VALUES (?)", [n], |n, b| {
                    b.int(*n);
                })
                .await
                .unwrap();
            }
            let mut sum = 0;
            scan_locked(&mut locked, "SELECT SUM(n) FROM t", &[], |r| {
                sum = r.int(0);
                Ok(())
            })
            .unwrap();
            assert_eq!(sum, 3, "each run bound its own row");
            // A statement that fails leaves the kept one ready for the next call.
            assert!(scan_locked(&mut locked, "SELECT n FROM nowhere", &[], |_| Ok(())).is_err());
        }
        assert_eq!(
            kept.len(),
            3,
            "the create, the insert (run three times) and the select"
        );
        {
            let mut locked = lock_keeping(&mut conn, &mut kept).await.unwrap();
            for i in 0..=Statements::MAX {
                scan_locked(&mut locked, &format!("SELECT {i}"), &[], |_| Ok(())).unwrap();
            }
        }
        assert!(kept.len() <= Statements::MAX, "{} kept", kept.len());
        // Finalised first, the connection then closes cleanly.
        drop(kept);
        conn.close().await.unwrap();
    }
    #[tokio::test]
    async fn a_rows_own_text_and_dates_are_written_as_they_are() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let mut kept = Statements::new();
        let mut locked = lock_keeping(&mut conn, &mut kept).await.unwrap();
        exec(
            &mut locked,
            "CREATE TABLE t (id TEXT, proof TEXT, on_date TEXT)",
        )
        .unwrap();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let dates = [day(2025, 8, 5), day(987, 12, 31), day(2021, 7, 1)];
        // Each row made, bound without a copy, run, and dropped before the next is made.
        let rows = dates
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("pay-{i}"), "x".repeat(100 + i), *d));
        run_many(
            &mut locked,
            "INSERT INTO t (id, proof, on_date) VALUES (?, ?, ?)",
            rows,
            |(id, proof, on), b| {
                b.row_text(id).row_text(proof).date(*on);
            },
        )
        .await
        .unwrap();
        let mut read = Vec::new();
        scan_locked(
            &mut locked,
            "SELECT id, length(proof), on_date FROM t ORDER BY rowid",
            &[],
            |r| {
                read.push((r.text(0), r.int(1), r.text(2)));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            read,
            [
                ("pay-0".to_owned(), 100, "2025-08-05".to_owned()),
                ("pay-1".to_owned(), 101, "0987-12-31".to_owned()),
                ("pay-2".to_owned(), 102, "2021-07-01".to_owned()),
            ]
        );
        // The statement kept for the next call holds none of those rows' values: what it does
        // not bind is NULL.
        run_many(
            &mut locked,
            "INSERT INTO t (id, proof, on_date) VALUES (?, ?, ?)",
            [()],
            |_, b| {
                b.text("pay-3");
            },
        )
        .await
        .unwrap();
        let mut last = String::new();
        scan_locked(&mut locked, "SELECT id || ' ' || COALESCE(proof, '-') || ' ' || COALESCE(on_date, '-') FROM t WHERE rowid = 4", &[], |r| {
            last = r.text(0);
            Ok(())
        })
        .unwrap();
        assert_eq!(last, "pay-3 - -");
    }
}
