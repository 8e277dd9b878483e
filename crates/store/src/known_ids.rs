//! The SQLite payment writer's set of the keys of every payment id recorded (`payment_id_key`),
//! so that a transaction looks up by id only the payments whose key it holds: an id whose key is
//! not in the set has never been recorded. Reading 10,000 ids by their keys cost about 20 ms of a
//! 250–290 ms transaction over a whole month (BENCHMARKS.md).
//!
//! The set may hold more keys than the database (a transaction that added its payments' keys and
//! then rolled back leaves them: those ids are looked up, as before), never fewer:
//!
//! - it is read whole, inside a payment transaction, from the keys of every payment row (and only
//!   when every row has its key);
//! - it is kept only while `PRAGMA data_version`, read at the start of each payment transaction,
//!   is the one it was read at: another connection may have recorded payments meanwhile;
//! - any other write of this process throws it away (`begin_write`), as it throws away the copy
//!   of the lines;
//! - the payment writer adds the keys of the payments it writes before it commits them.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::IntSet;

/// Below this many ids a transaction looks them all up rather than read the whole set (single
/// payments after another connection has written do not wait for it).
pub(crate) const READ_WHOLE_FROM: usize = 1_000;

/// At most this many keys are kept (about 320 MiB): past it the set is dropped, and ids are
/// looked up one by one, as without it.
const MAX_KEYS: usize = 20_000_000;

#[derive(Debug, Default)]
pub(crate) struct KnownIds {
    /// `PRAGMA data_version` when last checked.
    version: Option<i64>,
    /// Every key recorded at `version`, once read.
    keys: Option<IntSet<i64>>,
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

    /// The whole set, read within the payment transaction that checked the version.
    pub(crate) fn fill(&mut self, keys: IntSet<i64>) {
        self.keys = (keys.len() <= MAX_KEYS).then_some(keys);
    }

    /// Whether `key` may have been recorded: true unless the whole set is held and lacks it.
    pub(crate) fn may_hold(&self, key: i64) -> bool {
        self.keys.as_ref().is_none_or(|k| k.contains(&key))
    }

    /// The keys of payments being written.
    pub(crate) fn add(&mut self, keys: impl IntoIterator<Item = i64>) {
        if let Some(set) = &mut self.keys {
            set.extend(keys);
            if set.len() > MAX_KEYS {
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
        k.add([1, 2]);
        assert!(!k.is_whole() && k.may_hold(99));
    }

    #[test]
    fn a_whole_set_holds_what_it_was_given_and_what_was_added() {
        let mut k = KnownIds::default();
        k.check_version(3);
        k.fill([1, 2].into_iter().collect());
        assert!(k.may_hold(1) && k.may_hold(2) && !k.may_hold(3));
        k.add([3]);
        assert!(k.may_hold(3));
        // The same version: kept.
        k.check_version(3);
        assert!(k.is_whole() && !k.may_hold(4));
    }

    #[test]
    fn another_version_or_another_write_throws_it_away() {
        let mut k = KnownIds::default();
        k.check_version(3);
        k.fill([1].into_iter().collect());
        k.check_version(4);
        assert!(!k.is_whole() && k.may_hold(7));
        k.fill([1].into_iter().collect());
        k.clear();
        assert!(!k.is_whole() && k.may_hold(7));
    }
}
