//! The one writer of payments (DESIGN.md §6): requests queue here; the writer takes everything
//! waiting (up to a limit), records it in one transaction — one fsync for all — and answers each
//! request only once that transaction is durable. Under load, batches grow by themselves; alone, a
//! payment is committed at once; small requests do not queue behind tablets' large batches. While
//! a transaction's commit is being synced to disk, the next one already runs: the answers wait for
//! the disk, the writer does not (on SQLite; PostgreSQL syncs inside its commit).

use std::collections::VecDeque;
use std::sync::Arc;

use chitra_store::cycle::{NewPayment, PaymentResult};
use chitra_store::payments::PaymentGroup;
use chitra_store::{Change, Store};
use tokio::sync::{mpsc, oneshot};

pub use chitra_store::payments::Within;

use crate::error::ApiError;

/// The most payments committed in one transaction: four full batches of the endpoint. Tablets
/// syncing at once share a transaction, and each page of the trees a payment writes is written
/// once for more payments. Over 900,000 of a month's 1,000,000 payments through the batch
/// endpoint from 8 clients: 50,520–61,433 payments/s against 44,502–49,931/s with a limit of
/// 20,000; from 4 clients no difference, as each client waits for its answer before it sends
/// again (BENCHMARKS.md, 2026-12-04, late night). A transaction of 40,000 takes about 0.4–0.7 s,
/// which its requests wait for. A single payment arriving meanwhile goes in the transaction after
/// it, ahead of the batches queued; while single payments come, a transaction takes fewer of the
/// batches' payments (see [`take_next`]).
const MAX_PAYMENTS_PER_COMMIT: usize = 40_000;

struct Job {
    group: PaymentGroup,
    reply: oneshot::Sender<Result<Vec<PaymentResult>, Failed>>,
}

/// A handle to the writer task.
#[derive(Clone)]
pub struct PaymentWriter {
    queue: mpsc::Sender<Job>,
}

impl PaymentWriter {
    /// Starts the writer on the current tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> PaymentWriter {
        let (queue, jobs) = mpsc::channel(65_536);
        tokio::spawn(run(store, jobs));
        PaymentWriter { queue }
    }

    /// Records `payments` for `change`'s user, limited to `within`; answers once durable.
    pub async fn record(
        &self,
        change: Change,
        within: Within,
        payments: Vec<NewPayment>,
    ) -> Result<Vec<PaymentResult>, ApiError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            group: PaymentGroup {
                change,
                within,
                payments,
            },
            reply,
        };
        self.queue
            .send(job)
            .await
            .map_err(|_| ApiError::Unavailable("the payment writer has stopped".into()))?;
        match answer.await {
            Ok(Ok(results)) => Ok(results),
            Ok(Err(Failed {
                message,
                busy: true,
            })) => Err(ApiError::Unavailable(message)),
            Ok(Err(Failed { message, .. })) => Err(ApiError::Internal(message)),
            Err(_) => Err(ApiError::Unavailable(
                "the payment writer stopped before answering".into(),
            )),
        }
    }
}

/// Why a transaction of payments did not land, as each request in it is told: the store's
/// message, and whether the database was busy (another process held the file): a 503 to try
/// again, not a 500.
#[derive(Clone)]
struct Failed {
    message: String,
    busy: bool,
}

impl From<&chitra_store::StoreError> for Failed {
    fn from(e: &chitra_store::StoreError) -> Self {
        Failed {
            message: e.to_string(),
            busy: e.is_busy(),
        }
    }
}

/// A request of at most this many payments is an agent waiting at a counter: one payment, or the
/// few a tablet kept through a short cut in the network. It does not wait behind tablets' large
/// batches (see [`take_next`]).
const SMALL_REQUEST: usize = 100;

/// The most requests the writer holds taken from its queue and not yet recorded; past it, requests
/// wait in the queue, whose senders then wait too.
const MAX_WAITING: usize = 65_536;

/// While small requests come, a transaction takes at most this many payments of large ones (one
/// full batch of the endpoint), so that the small ones arriving meanwhile wait for less.
const MAX_LARGE_BESIDE_SMALL: usize = 10_000;

/// What the writer records in its next transaction, taken from `waiting` (requests in the order
/// they came; `size` is a request's number of payments).
///
/// - Small requests (see [`SMALL_REQUEST`]) are always taken, whatever large ones came before
///   them, up to [`MAX_PAYMENTS_PER_COMMIT`].
/// - When small and large requests both wait, the small ones go first, in a transaction of their
///   own: a single payment then waits for the transaction being written, not also for the tablets'
///   batches queued before it.
/// - Otherwise large requests are taken in the order they came (the first one whatever its size)
///   up to the limit: [`MAX_LARGE_BESIDE_SMALL`] while small ones come (some wait, or the last
///   transaction was theirs), [`MAX_PAYMENTS_PER_COMMIT`] when none do. A transaction after one of
///   small requests alone (`small_went_last`) takes large ones again, so that they are never left
///   waiting for ever behind a stream of small ones.
///
/// Returns the requests taken, in the order they came, and whether they are small ones taken
/// ahead of large ones.
fn take_next<T>(
    waiting: &mut VecDeque<T>,
    size: impl Fn(&T) -> usize,
    small_went_last: bool,
) -> (Vec<T>, bool) {
    let small = |t: &T| size(t) <= SMALL_REQUEST;
    let smalls = waiting.iter().any(&small);
    let ahead = smalls && !small_went_last && waiting.iter().any(|t| !small(t));
    let large_limit = if ahead {
        0
    } else if smalls || small_went_last {
        MAX_LARGE_BESIDE_SMALL
    } else {
        MAX_PAYMENTS_PER_COMMIT
    };
    let mut taken = Vec::new();
    let mut left = VecDeque::with_capacity(waiting.len());
    let (mut total, mut large) = (0usize, 0usize);
    // Once a large request is left, the later ones are too: they keep their order.
    let mut large_left = false;
    for t in waiting.drain(..) {
        let n = size(&t);
        let take = if small(&t) {
            total < MAX_PAYMENTS_PER_COMMIT
        } else {
            let take = !large_left && total < MAX_PAYMENTS_PER_COMMIT && large < large_limit;
            large_left |= !take;
            if take {
                large += n;
            }
            take
        };
        if take {
            total += n;
            taken.push(t);
        } else {
            left.push_back(t);
        }
    }
    *waiting = left;
    (taken, ahead)
}

async fn run(store: Arc<dyn Store>, mut jobs: mpsc::Receiver<Job>) {
    let mut waiting: VecDeque<Job> = VecDeque::new();
    let mut small_went_last = false;
    loop {
        if waiting.is_empty() {
            match jobs.recv().await {
                Some(job) => waiting.push_back(job),
                None => break,
            }
        }
        while waiting.len() < MAX_WAITING {
            match jobs.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => break,
            }
        }
        let (batch, small) = take_next(&mut waiting, |j| j.group.payments.len(), small_went_last);
        small_went_last = small;
        let (groups, replies): (Vec<PaymentGroup>, Vec<_>) =
            batch.into_iter().map(|j| (j.group, j.reply)).unzip();
        let group_count = groups.len();
        match store.record_payment_groups_committed(groups).await {
            Ok((answers, durable)) => {
                tokio::spawn(async move {
                    match durable.wait().await {
                        Ok(()) => {
                            for (reply, answer) in replies.into_iter().zip(answers) {
                                let _ = reply.send(Ok(answer));
                            }
                        }
                        Err(e) => {
                            // Committed, but not known to be on disk: no one is told it is. The
                            // store refuses every write from now on (see the store's
                            // `sqlite_sync`): payments wait until it is started again.
                            tracing::error!(error = %e, groups = answers.len(), "payment batch not durable");
                            let failed = Failed::from(&e);
                            for reply in replies {
                                let _ = reply.send(Err(failed.clone()));
                            }
                        }
                    }
                });
            }
            Err(e) => {
                // Nothing of this transaction landed: every request in it is told so.
                tracing::error!(error = %e, groups = group_count, "payment batch failed");
                let failed = Failed::from(&e);
                for reply in replies {
                    let _ = reply.send(Err(failed.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_LARGE_BESIDE_SMALL, MAX_PAYMENTS_PER_COMMIT, SMALL_REQUEST, take_next};
    use std::collections::VecDeque;

    /// Requests as (name, payments).
    fn queue(items: &[(&'static str, usize)]) -> VecDeque<(&'static str, usize)> {
        items.iter().copied().collect()
    }

    fn names(taken: &[(&'static str, usize)]) -> Vec<&'static str> {
        taken.iter().map(|t| t.0).collect()
    }

    #[test]
    fn small_requests_go_ahead_of_large_ones_then_large_ones_in_order() {
        let big = MAX_LARGE_BESIDE_SMALL;
        let mut waiting = queue(&[
            ("tablet 1", big),
            ("agent 1", 1),
            ("tablet 2", big),
            ("agent 2", SMALL_REQUEST),
        ]);
        let (taken, ahead) = take_next(&mut waiting, |t| t.1, false);
        assert_eq!(names(&taken), ["agent 1", "agent 2"]);
        assert!(ahead);
        assert_eq!(
            names(waiting.make_contiguous()),
            ["tablet 1", "tablet 2"],
            "the large ones keep their order"
        );
        // A new agent arrives; the transaction after small ones takes large ones again, and the
        // small ones waiting.
        waiting.push_back(("agent 3", 1));
        let (taken, ahead) = take_next(&mut waiting, |t| t.1, true);
        assert_eq!(
            names(&taken),
            ["tablet 1", "agent 3"],
            "one batch's worth while agents pay"
        );
        assert!(!ahead);
        assert_eq!(names(waiting.make_contiguous()), ["tablet 2"]);
    }

    #[test]
    fn large_requests_are_not_left_behind_a_stream_of_small_ones() {
        let mut waiting = queue(&[("tablet", 2 * MAX_LARGE_BESIDE_SMALL), ("agent 1", 1)]);
        let (taken, ahead) = take_next(&mut waiting, |t| t.1, false);
        assert_eq!(names(&taken), ["agent 1"]);
        // Another agent is always waiting by the next turn: the tablet goes now all the same,
        // whatever its size.
        waiting.push_back(("agent 2", 1));
        let (taken, ahead) = take_next(&mut waiting, |t| t.1, ahead);
        assert_eq!(names(&taken), ["tablet", "agent 2"]);
        assert!(!ahead);
    }

    #[test]
    fn large_ones_alone_go_in_order_up_to_the_limit() {
        let big = MAX_PAYMENTS_PER_COMMIT / 2;
        let mut waiting = queue(&[("a", big), ("b", big), ("c", big)]);
        let (taken, ahead) = take_next(&mut waiting, |t| t.1, false);
        assert_eq!(names(&taken), ["a", "b"], "up to the limit");
        assert!(!ahead);
        let mut waiting = queue(&[
            ("huge", MAX_PAYMENTS_PER_COMMIT * 2),
            ("next", SMALL_REQUEST + 1),
        ]);
        let (taken, _) = take_next(&mut waiting, |t| t.1, false);
        assert_eq!(names(&taken), ["huge"], "the first whatever its size");
        // Right after small ones, large ones are taken one batch's worth at a time.
        let mut waiting = queue(&[("a", big / 4), ("b", big / 4), ("c", big)]);
        let (taken, _) = take_next(&mut waiting, |t| t.1, true);
        assert_eq!(names(&taken), ["a", "b"]);
    }

    #[test]
    fn small_ones_alone_go_in_order_up_to_the_limit() {
        let mut waiting = queue(&[("agent 1", 1), ("agent 2", 3)]);
        let (taken, ahead) = take_next(&mut waiting, |t| t.1, false);
        assert_eq!(names(&taken), ["agent 1", "agent 2"]);
        assert!(!ahead, "nothing was passed");
        let mut items = vec![("tablet", 10_000)];
        let agents = MAX_PAYMENTS_PER_COMMIT / SMALL_REQUEST + 5;
        items.extend(std::iter::repeat_n(("agent", SMALL_REQUEST), agents));
        let mut waiting = queue(&items);
        let (taken, ahead) = take_next(&mut waiting, |t| t.1, false);
        assert!(ahead);
        assert_eq!(taken.len(), MAX_PAYMENTS_PER_COMMIT / SMALL_REQUEST);
        assert_eq!(waiting.len(), 1 + 5);
        assert_eq!(waiting.front().map(|t| t.0), Some("tablet"));
    }
}
