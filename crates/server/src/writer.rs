//! The one writer of payments (DESIGN.md §6): requests queue here; the writer takes everything
//! waiting (up to a limit), records it in one transaction — one fsync for all — and answers each
//! request only once that transaction is durable. Under load, batches grow by themselves; alone, a
//! payment is committed at once. While a transaction's commit is being synced to disk, the next
//! one already runs: the answers wait for the disk, the writer does not (on SQLite; PostgreSQL
//! syncs inside its commit).

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
/// again (BENCHMARKS.md, 2026-12-04, late night). A transaction of 40,000 takes about 0.7 s, which
/// its requests, and any single payment queued behind them, wait for.
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

async fn run(store: Arc<dyn Store>, mut jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::new();
    while let Some(first) = jobs.recv().await {
        let mut size = first.group.payments.len();
        batch.push(first);
        while size < MAX_PAYMENTS_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => {
                    size += job.group.payments.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let (groups, replies): (Vec<PaymentGroup>, Vec<_>) =
            batch.drain(..).map(|j| (j.group, j.reply)).unzip();
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
