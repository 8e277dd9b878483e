//! The payment writer's copy of the payroll lines it pays.
//!
//! A transaction of 10,000 payments spent most of its reading on the lines it pays, joined to
//! their beneficiaries: 10,000 lookups at random pages of two trees, every transaction. What a
//! payment reads of its line (its run, beneficiary, channel, amount, status, and the
//! beneficiary's citizen ID, home and death on record) does not change while the month is paid;
//! a payment writes nothing of it. So the writer keeps what it has read, by blocks of
//! consecutive line ids, read as ranges of consecutive blocks: the lines of a month are numbered
//! in their beneficiaries' order, so a range is one range of each tree, read in order.
//!
//! The copy is only ever used, filled and emptied with the writer held, and is thrown away
//! whenever what it holds may have changed. On SQLite:
//!
//! - at the start of every other write transaction of this process, except those that change
//!   only users, sessions, the notices' outbox, schedules or phone numbers
//!   ([`LineCache::clear`]);
//! - when another connection has committed since the copy was last checked: SQLite's
//!   `PRAGMA data_version`, read on the writer at the start of each payment transaction
//!   ([`LineCache::check_version`]), changes exactly then (another process writing the same
//!   file, or another connection of this one).
//!
//! On PostgreSQL, whose writers may be many connections and processes, when the counter
//! `line_copy_version` has moved since the copy was last checked: statement triggers move it in
//! every transaction that changes a line, what the copy holds of a beneficiary (migration 0011)
//! or a decision (migration 0013), whoever writes; it is read at the start of each payment
//! transaction ([`LineCache::check_version`] again).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Lines are loaded by blocks of 2^12 = 4,096 consecutive ids.
const BLOCK_BITS: u32 = 12;

/// At most this many lines are kept (about 580 MiB; a province's month is under 200,000 lines):
/// once full, the lines not in the copy are read one by one, as without it.
const MAX_LINES: usize = 2_000_000;

/// At most this many blocks are read (ids asked for that no line has leave empty blocks).
const MAX_BLOCKS: usize = 8_192;

/// The lines of one block: found by their offset in it (`id & 4095`) through a small index, one
/// look in the map and two in memory, where a search among a block's lines (each about 128 bytes)
/// went through a dozen places. The lines themselves are packed: a block with few lines (a
/// month's lines are numbered by their beneficiaries, whose ids two programs share) costs its
/// index (8 KiB) and its lines, not a place for each of the 4,096 ids.
struct Block<T> {
    /// For each offset, 1 + the place of its line in `lines`, or 0; empty for a block without
    /// lines.
    at: Box<[u16]>,
    lines: Vec<T>,
}

/// The blocks of ids read whole.
pub(crate) struct LineCache<T> {
    /// `PRAGMA data_version` on the writer (SQLite), or `line_copy_version` (PostgreSQL), when the
    /// copy was last checked.
    data_version: Option<i64>,
    blocks: HashMap<i64, Block<T>>,
    /// How many lines the blocks hold.
    lines: usize,
    /// [`MAX_LINES`] and [`MAX_BLOCKS`], but in tests.
    limit: usize,
    block_limit: usize,
}

impl<T> std::fmt::Debug for LineCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineCache")
            .field("data_version", &self.data_version)
            .field("blocks", &self.blocks.len())
            .field("lines", &self.lines)
            .finish()
    }
}

impl<T> Default for LineCache<T> {
    fn default() -> Self {
        LineCache {
            data_version: None,
            blocks: HashMap::new(),
            lines: 0,
            limit: MAX_LINES,
            block_limit: MAX_BLOCKS,
        }
    }
}

impl<T> LineCache<T> {
    /// Forgets every line read.
    pub(crate) fn clear(&mut self) {
        self.blocks = HashMap::new();
        self.lines = 0;
    }

    /// Keeps the copy only when the database's version (see the module), read on the writer, is
    /// the one seen last: otherwise what the copy holds may have changed meanwhile. False when
    /// lines were thrown away.
    pub(crate) fn check_version(&mut self, version: i64) -> bool {
        if self.data_version == Some(version) {
            return true;
        }
        let had = !self.blocks.is_empty();
        self.clear();
        self.data_version = Some(version);
        !had
    }

    /// PostgreSQL's counter, which only ever goes up, read just now: the copy is brought up to
    /// it, never back (a server's warm-up, reading beside the writer, may have brought it
    /// further). The version lines read from now on are taken at: a payment transaction's later
    /// statements see what that version says, or later.
    pub(crate) fn advance(&mut self, version: i64) -> i64 {
        match self.data_version {
            Some(seen) if seen >= version => seen,
            _ => {
                self.check_version(version);
                version
            }
        }
    }

    /// The version (see the module) the copy was last checked at.
    pub(crate) fn version(&self) -> Option<i64> {
        self.data_version
    }

    /// Whether lines read at `version` may still be taken: the copy has not been checked at
    /// another one since (PostgreSQL's warm-up reads without the writer, beside payment
    /// transactions that may have seen the counter move).
    pub(crate) fn takes(&self, version: Option<i64>) -> bool {
        version.is_some() && self.data_version == version && !self.full()
    }

    /// The blocks of `ids` not read yet, in order, each once.
    pub(crate) fn missing_blocks(&self, ids: &[i64]) -> Vec<i64> {
        self.unread(ids.iter().map(|id| id >> BLOCK_BITS))
    }

    /// Of `blocks`, those not read yet, in order, each once.
    pub(crate) fn unread(&self, blocks: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let mut blocks: Vec<i64> = blocks
            .into_iter()
            .filter(|b| !self.blocks.contains_key(b))
            .collect();
        blocks.sort_unstable();
        blocks.dedup();
        blocks
    }

    /// The first and last id of `block`.
    pub(crate) fn block_range(block: i64) -> (i64, i64) {
        let first = block << BLOCK_BITS;
        (first, first | ((1 << BLOCK_BITS) - 1))
    }

    /// Whether the copy holds as many lines, or blocks, as it may.
    pub(crate) fn full(&self) -> bool {
        self.lines >= self.limit || self.blocks.len() >= self.block_limit
    }

    /// Takes the lines read for `block`: every line of it there is, in any order (a line given
    /// twice, the last).
    pub(crate) fn fill(&mut self, block: i64, rows: Vec<(i64, T)>) {
        let mut b = Block {
            at: Box::default(),
            lines: Vec::new(),
        };
        for (id, line) in rows {
            if id >> BLOCK_BITS != block {
                continue;
            }
            if b.at.is_empty() {
                b.at = vec![0u16; 1 << BLOCK_BITS].into_boxed_slice();
            }
            let slot = &mut b.at[offset(id)];
            match usize::from(*slot).checked_sub(1) {
                Some(place) => b.lines[place] = line,
                None => {
                    b.lines.push(line);
                    // At most 4,096 lines a block: the place fits.
                    *slot = b.lines.len() as u16;
                }
            }
        }
        b.lines.shrink_to_fit();
        self.lines += b.lines.len();
        if let Some(old) = self.blocks.insert(block, b) {
            self.lines -= old.lines.len();
        }
    }

    /// The block of line `id`.
    pub(crate) fn block_of(id: i64) -> i64 {
        id >> BLOCK_BITS
    }

    /// `blocks` (in order, each once) as spans of consecutive blocks of at most `most` blocks,
    /// each `(first, last)`: what one range of ids reads.
    pub(crate) fn spans(blocks: &[i64], most: i64) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = Vec::new();
        for &b in blocks {
            match out.last_mut() {
                Some((first, last)) if last.checked_add(1) == Some(b) && b - *first < most => {
                    *last = b
                }
                _ => out.push((b, b)),
            }
        }
        out
    }

    /// Whether the block of line `id` has been read.
    pub(crate) fn has_block_of(&self, id: i64) -> bool {
        self.blocks.contains_key(&(id >> BLOCK_BITS))
    }

    /// The blocks from the one of `first` to the one of `last`.
    pub(crate) fn blocks_between(first: i64, last: i64) -> std::ops::RangeInclusive<i64> {
        (first >> BLOCK_BITS)..=(last >> BLOCK_BITS)
    }

    /// Line `id`, when its block has been read and it is there.
    pub(crate) fn get(&self, id: i64) -> Option<&T> {
        let block = self.blocks.get(&(id >> BLOCK_BITS))?;
        let place = usize::from(*block.at.get(offset(id))?).checked_sub(1)?;
        block.lines.get(place)
    }

    /// How many lines are kept.
    pub(crate) fn len(&self) -> usize {
        self.lines
    }
}

/// The place of line `id` in its block.
fn offset(id: i64) -> usize {
    (id & ((1 << BLOCK_BITS) - 1)) as usize
}

/// The copy behind its lock. It is only locked between two awaits of a transaction that holds
/// the writer, so a panic cannot leave it half changed: a poisoned lock is taken as it is.
pub(crate) fn locked<T>(copy: &Mutex<LineCache<T>>) -> MutexGuard<'_, LineCache<T>> {
    copy.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_read_whole_answers_for_its_lines_present_and_absent() {
        let mut c = LineCache::<&str>::default();
        let ids = [4096 * 3 + 5, 4096 * 3 + 9, 4096 * 7];
        assert_eq!(c.missing_blocks(&ids), vec![3, 7]);
        let (lo, hi) = LineCache::<&str>::block_range(3);
        assert_eq!((lo, hi), (4096 * 3, 4096 * 4 - 1));
        c.fill(3, vec![(4096 * 3 + 5, "a")]);
        assert_eq!(c.missing_blocks(&ids), vec![7]);
        assert_eq!(c.get(4096 * 3 + 5), Some(&"a"));
        // Read with its block and not there: no such line.
        assert_eq!(c.get(4096 * 3 + 9), None);
    }

    #[test]
    fn a_blocks_lines_in_any_order_are_found_and_others_left() {
        let mut c = LineCache::<&str>::default();
        let rows = vec![
            (4096 * 5 + 1, "c"),
            (4096 * 2 + 7, "b"),
            (4096 * 2 + 3, "a"),
            (4096 * 9, "stray"),
        ];
        c.fill(2, rows.clone());
        c.fill(5, rows);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(4096 * 2 + 3), Some(&"a"));
        assert_eq!(c.get(4096 * 2 + 7), Some(&"b"));
        assert_eq!(c.get(4096 * 5 + 1), Some(&"c"));
        // A line of a block not asked for is not taken.
        assert_eq!(c.get(4096 * 9), None);
        assert_eq!(c.missing_blocks(&[4096 * 9]), vec![9]);
        // A block read again replaces what it held; a line given twice counts once.
        c.fill(2, vec![(4096 * 2 + 3, "a2"), (4096 * 2 + 3, "a3")]);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(4096 * 2 + 3), Some(&"a3"));
        assert_eq!(c.get(4096 * 2 + 7), None);
    }

    #[test]
    fn another_connections_commit_empties_the_copy() {
        let mut c = LineCache::<&str>::default();
        assert!(c.check_version(1));
        c.fill(0, vec![(1, "a")]);
        assert!(c.check_version(1));
        assert_eq!(c.len(), 1);
        // Changed since: everything is read again.
        assert!(!c.check_version(2));
        assert_eq!(c.len(), 0);
        assert_eq!(c.missing_blocks(&[1]), vec![0]);
    }

    #[test]
    fn lines_read_at_another_version_are_not_taken() {
        let mut c = LineCache::<&str>::default();
        // Never checked: nothing read can be vouched for.
        assert!(!c.takes(None));
        assert!(!c.takes(Some(4)));
        c.check_version(4);
        assert!(c.takes(Some(4)));
        assert_eq!(c.version(), Some(4));
        // A payment transaction has seen the counter move: what a reader began at 4 is left.
        c.check_version(5);
        assert!(!c.takes(Some(4)));
        assert!(c.takes(Some(5)));
    }

    #[test]
    fn the_copy_goes_up_to_the_counter_and_never_back() {
        let mut c = LineCache::<&str>::default();
        assert_eq!(c.advance(3), 3);
        c.fill(0, vec![(1, "a")]);
        assert_eq!(c.advance(3), 3);
        assert_eq!(c.len(), 1);
        // An older reading (a transaction that read the counter before the warm-up did): the copy
        // stays where it is, and so do its lines.
        assert_eq!(c.advance(2), 3);
        assert_eq!(c.len(), 1);
        assert!(!c.takes(Some(2)));
        // A newer one: everything is read again.
        assert_eq!(c.advance(4), 4);
        assert_eq!(c.len(), 0);
        assert!(c.takes(Some(4)));
    }

    #[test]
    fn a_sparse_block_holds_only_its_lines() {
        let mut c = LineCache::<u64>::default();
        c.fill(1, vec![(4096 + 4095, 9), (4096, 1)]);
        assert_eq!(c.len(), 2);
        assert_eq!(c.blocks[&1].lines.capacity(), 2);
        assert_eq!(c.get(4096), Some(&1));
        assert_eq!(c.get(4096 + 4095), Some(&9));
        assert_eq!(c.get(4096 + 1), None);
        // A block without lines keeps no index.
        c.fill(2, vec![]);
        assert!(c.blocks[&2].at.is_empty());
        assert_eq!(c.get(8192), None);
        // Negative ids have their block and offset too.
        c.fill(-1, vec![(-1, 7)]);
        assert_eq!(c.get(-1), Some(&7));
        assert_eq!(c.get(-2), None);
    }

    #[test]
    fn full_it_says_so_and_emptied_it_takes_lines_again() {
        let mut c = LineCache::<&str> {
            limit: 2,
            ..Default::default()
        };
        c.fill(0, vec![(1, "a")]);
        assert!(!c.full());
        c.fill(1, vec![(4096, "b")]);
        assert!(c.full());
        assert!(!c.check_version(9));
        assert!(!c.full());
    }

    #[test]
    fn the_first_and_last_blocks_of_the_ids_have_their_ranges() {
        for id in [i64::MAX, i64::MIN, -1, 0, 4095, 4096] {
            let block = id >> BLOCK_BITS;
            let (first, last) = LineCache::<()>::block_range(block);
            assert!(first <= id && id <= last, "{id}: {first}..={last}");
            assert_eq!(last - first, 4095);
        }
    }

    #[test]
    fn empty_blocks_count_towards_full() {
        let mut c = LineCache::<&str> {
            block_limit: 2,
            ..Default::default()
        };
        c.fill(7, vec![]);
        assert!(!c.full());
        c.fill(8, vec![]);
        assert!(c.full());
    }

    #[test]
    fn consecutive_blocks_are_read_as_one_span() {
        assert_eq!(LineCache::<()>::spans(&[], 64), vec![]);
        assert_eq!(
            LineCache::<()>::spans(&[3, 4, 5, 9, 11, 12], 64),
            vec![(3, 5), (9, 9), (11, 12)]
        );
        assert_eq!(
            LineCache::<()>::spans(&[i64::MAX - 1, i64::MAX], 64),
            vec![(i64::MAX - 1, i64::MAX)]
        );
        // A span is cut after `most` blocks.
        assert_eq!(
            LineCache::<()>::spans(&[1, 2, 3, 4, 5], 2),
            vec![(1, 2), (3, 4), (5, 5)]
        );
        assert_eq!(LineCache::<()>::block_of(4095), 0);
        assert_eq!(LineCache::<()>::block_of(4096), 1);
    }

    #[test]
    fn cleared_it_reads_again() {
        let mut c = LineCache::<&str>::default();
        c.fill(0, vec![(1, "a")]);
        c.clear();
        assert_eq!(c.get(1), None);
        assert_eq!(c.missing_blocks(&[1]), vec![0]);
    }
}
