//! The payment writer's set of the keys of every payment id recorded (`payment_id_key`) and of
//! every line paid, so that a transaction looks up by id only the payments whose key it holds,
//! and looks for the payment of a line only on the lines it holds: an id whose key is not in the
//! set has never been recorded, a line not in it has never been paid (a payment is never
//! deleted). Reading 10,000 ids by their keys cost SQLite about 20 ms of a 250–290 ms
//! transaction over a whole month; on PostgreSQL, the ids and the paid lines of a transaction of
//! 40,000 cost 85–200 ms of 700–890 ms (BENCHMARKS.md).
//!
//! The set may hold more than the database (a transaction that added its payments and then
//! rolled back leaves them: those ids and lines are looked up, as before), never less:
//!
//! - it is read whole, inside a payment transaction, from every payment row (on SQLite only when
//!   every row has its key);
//! - it is kept only while the version read at the start of each payment transaction is the one
//!   it was read at, or the one the writer's own last transaction left: on SQLite
//!   `PRAGMA data_version` (another connection may have recorded payments meanwhile), on
//!   PostgreSQL the counter `payments_version`, which every statement changing `payments` moves
//!   in its own transaction, whoever writes (migration 0012; the payment transaction reads it
//!   with the journal head held, so no other writer's payments can land between the read and
//!   its commit);
//! - on SQLite any other write of this process throws it away (`begin_write`), as it throws
//!   away the copy of the lines (on PostgreSQL such a write moves the counter if, and only if,
//!   it records payments);
//! - the payment writer adds the keys and lines of the payments it writes before it commits them.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::IntSet;

/// Below this many ids a transaction looks them all up rather than read the whole set (single
/// payments after another connection has written do not wait for it).
pub(crate) const READ_WHOLE_FROM: usize = 1_000;

/// At most this many payments are kept (their keys and lines, about 640 MiB): past it the set
/// is dropped, and ids and lines are looked up, as without it.
const MAX_KEYS: usize = 20_000_000;

#[derive(Debug, Default)]
pub(crate) struct KnownIds {
    /// The version when last checked (see the module's documentation).
    version: Option<i64>,
    /// Every key recorded at `version`, and every line paid, once read.
    keys: Option<(IntSet<i64>, IntSet<i64>)>,
}

impl KnownIds {
    /// Keeps the set only when the database's version is the one seen last.
    pub(crate) fn check_version(&mut self, version: i64) {
        if self.version != Some(version) {
            self.keys = None;
            self.version = Some(version);
        }
    }

    /// Throws the set away (another write of this process may have changed what it holds).
    pub(crate) fn clear(&mut self) {
        self.keys = None;
    }

    pub(crate) fn is_whole(&self) -> bool {
        self.keys.is_some()
    }

    /// The writer's own transaction moves the version to `version` (PostgreSQL's counter after
    /// its payments were written): the set, with what the transaction added, is kept there. Should the
    /// transaction not land, the database stays at the version before, and the next check
    /// throws the set away.
    pub(crate) fn moved_to(&mut self, version: i64) {
        self.version = Some(version);
    }

    /// The whole set — every payment's key and line — read within the payment transaction that
    /// checked the version.
    pub(crate) fn fill(&mut self, keys: IntSet<i64>, lines: IntSet<i64>) {
        self.keys = (keys.len() <= MAX_KEYS).then_some((keys, lines));
    }

    /// Whether `key` may have been recorded: true unless the whole set is held and lacks it.
    pub(crate) fn may_hold(&self, key: i64) -> bool {
        self.keys.as_ref().is_none_or(|(k, _)| k.contains(&key))
    }

    /// Whether `line` may have been paid: true unless the whole set is held and lacks it.
    pub(crate) fn may_be_paid(&self, line: i64) -> bool {
        self.keys.as_ref().is_none_or(|(_, l)| l.contains(&line))
    }

    /// The keys and lines of payments being written.
    pub(crate) fn add(&mut self, payments: impl IntoIterator<Item = (i64, i64)>) {
        if let Some((keys, lines)) = &mut self.keys {
            for (key, line) in payments {
                keys.insert(key);
                lines.insert(line);
            }
            if keys.len() > MAX_KEYS {
                self.keys = None;
            }
        }
    }
}

pub(crate) fn locked(known: &Mutex<KnownIds>) -> MutexGuard<'_, KnownIds> {
    known.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_not_read_whole_holds_every_key() {
        let mut k = KnownIds::default();
        k.check_version(3);
        assert!(!k.is_whole());
        assert!(k.may_hold(42));
        // Keys added to a set not read whole leave it not whole.
        k.add([(1, 10), (2, 20)]);
        assert!(!k.is_whole() && k.may_hold(99) && k.may_be_paid(99));
    }

    #[test]
    fn a_whole_set_holds_what_it_was_given_and_what_was_added() {
        let mut k = KnownIds::default();
        k.check_version(3);
        k.fill([1, 2].into_iter().collect(), [10, 20].into_iter().collect());
        assert!(k.may_hold(1) && k.may_hold(2) && !k.may_hold(3));
        assert!(k.may_be_paid(10) && k.may_be_paid(20) && !k.may_be_paid(30));
        k.add([(3, 30)]);
        assert!(k.may_hold(3) && k.may_be_paid(30));
        // The same version: kept.
        k.check_version(3);
        assert!(k.is_whole() && !k.may_hold(4) && !k.may_be_paid(40));
        // The writer's own transaction moved it: kept at the new version, and only there.
        k.moved_to(5);
        k.check_version(5);
        assert!(k.is_whole() && !k.may_hold(4));
        k.check_version(3);
        assert!(!k.is_whole() && k.may_hold(4) && k.may_be_paid(40));
    }

    #[test]
    fn another_version_or_another_write_throws_it_away() {
        let mut k = KnownIds::default();
        k.check_version(3);
        k.fill([1].into_iter().collect(), [10].into_iter().collect());
        k.check_version(4);
        assert!(!k.is_whole() && k.may_hold(7) && k.may_be_paid(70));
        k.fill([1].into_iter().collect(), [10].into_iter().collect());
        k.clear();
        assert!(!k.is_whole() && k.may_hold(7) && k.may_be_paid(70));
    }
}
