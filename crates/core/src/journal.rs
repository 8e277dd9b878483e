//! The journal's hash chain. Every change is one entry; each entry's hash covers its own fields and
//! the previous entry's hash, so changing, removing or reordering any stored entry breaks the chain
//! at that entry, and [`Verifier`] names it.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a change says about itself before it is chained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// When, RFC 3339 UTC with microseconds, as stored.
    pub at: String,
    /// Who: the user (or system process) that made the change.
    pub actor: String,
    /// What kind of change: `beneficiary.add`, `decision.add`, …
    pub action: String,
    /// What it changed: `beneficiary:83-0000123`, `period:2020-01`, …
    pub subject: String,
    /// Why, in the user's words.
    pub reason: String,
    /// The change itself, as JSON text (kept as text so that its hash never depends on a database's
    /// JSON normalisation).
    pub payload: String,
}

/// A chained entry, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub seq: i64,
    #[serde(flatten)]
    pub draft: Draft,
    pub prev_hash: String,
    pub hash: String,
}

/// SHA-256 over the previous hash and every field, each prefixed by its length so that no two
/// different entries can encode to the same bytes.
pub fn entry_hash(prev_hash: &str, seq: i64, d: &Draft) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    for field in [
        prev_hash,
        seq.as_str(),
        d.at.as_str(),
        d.actor.as_str(),
        d.action.as_str(),
        d.subject.as_str(),
        d.reason.as_str(),
        d.payload.as_str(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// The end of the chain, to which the next entry is appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    pub fn genesis() -> Head {
        Head {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }

    /// Chains `draft` after this head and moves the head to it.
    pub fn append(&mut self, draft: Draft) -> Entry {
        let seq = self.seq + 1;
        let hash = entry_hash(&self.hash, seq, &draft);
        let entry = Entry {
            seq,
            draft,
            prev_hash: std::mem::replace(&mut self.hash, hash.clone()),
            hash,
        };
        self.seq = seq;
        entry
    }
}

/// The first entry that does not match, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub seq: i64,
    pub reason: String,
}

/// Checks entries one by one, in order, without holding them all.
#[derive(Debug)]
pub struct Verifier {
    expected: Head,
    checked: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            expected: Head::genesis(),
            checked: 0,
        }
    }
}

impl Verifier {
    pub fn check(&mut self, e: &Entry) -> Result<(), Mismatch> {
        let want_seq = self.expected.seq + 1;
        if e.seq != want_seq {
            return Err(Mismatch {
                seq: e.seq,
                reason: format!(
                    "expected entry {want_seq} here, found entry {}: an entry is missing or out of order",
                    e.seq
                ),
            });
        }
        if e.prev_hash != self.expected.hash {
            return Err(Mismatch {
                seq: e.seq,
                reason: "its previous-hash does not match the hash of the entry before it".into(),
            });
        }
        let recomputed = entry_hash(&e.prev_hash, e.seq, &e.draft);
        if recomputed != e.hash {
            return Err(Mismatch {
                seq: e.seq,
                reason: "its stored hash does not match its contents: the entry was changed after it was written".into(),
            });
        }
        self.expected = Head {
            seq: e.seq,
            hash: e.hash.clone(),
        };
        self.checked += 1;
        Ok(())
    }

    /// How many entries matched.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The head the entries so far lead to.
    pub fn head(&self) -> &Head {
        &self.expected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(n: u32) -> Draft {
        Draft {
            at: format!("2026-11-26T10:00:{n:02}.000000Z"),
            actor: "admin".into(),
            action: "beneficiary.add".into(),
            subject: format!("beneficiary:{n}"),
            reason: "tiếp nhận hồ sơ".into(),
            payload: format!("{{\"n\":{n}}}"),
        }
    }

    fn chain(n: u32) -> Vec<Entry> {
        let mut head = Head::genesis();
        (1..=n).map(|i| head.append(draft(i))).collect()
    }

    fn verify(entries: &[Entry]) -> Result<u64, Mismatch> {
        let mut v = Verifier::default();
        for e in entries {
            v.check(e)?;
        }
        Ok(v.checked())
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(chain(1)[0].prev_hash, GENESIS);
    }

    #[test]
    fn any_changed_field_is_named_by_its_entry() {
        for field in 0..7 {
            let mut entries = chain(5);
            let e = &mut entries[2];
            match field {
                0 => e.draft.at.push('x'),
                1 => e.draft.actor.push('x'),
                2 => e.draft.action.push('x'),
                3 => e.draft.subject.push('x'),
                4 => e.draft.reason.push('x'),
                5 => e.draft.payload.push(' '),
                _ => e.hash.replace_range(0..1, "f"),
            }
            assert_eq!(verify(&entries).unwrap_err().seq, 3, "field {field}");
        }
    }

    #[test]
    fn a_removed_or_reordered_entry_is_found() {
        let mut entries = chain(5);
        entries.remove(1);
        assert_eq!(verify(&entries).unwrap_err().seq, 3);
        let mut entries = chain(5);
        entries.swap(3, 4);
        assert_eq!(verify(&entries).unwrap_err().seq, 5);
    }

    #[test]
    fn a_rehashed_entry_breaks_the_next_link() {
        let mut entries = chain(5);
        entries[1].draft.payload = "{\"n\":99}".into();
        entries[1].hash = entry_hash(&entries[1].prev_hash, 2, &entries[1].draft);
        assert_eq!(verify(&entries).unwrap_err().seq, 3);
    }

    #[test]
    fn length_prefixes_keep_fields_apart() {
        let mut a = draft(1);
        let mut b = draft(1);
        a.actor = "ab".into();
        a.action = "c".into();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(entry_hash(GENESIS, 1, &a), entry_hash(GENESIS, 1, &b));
    }
}
