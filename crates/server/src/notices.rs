//! Sending schedule notices: a worker takes what waits in the outbox and hands each notice to a
//! sender — an SMS gateway in a deployment; by default a file (one JSON line per message) or the
//! log — then records what happened.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chitra_store::Store;
use chitra_store::outreach::{Notice, NoticeOutcome};

/// Something that delivers a notice to a phone.
pub trait NoticeSender: Send + Sync {
    /// Delivers one notice; the gateway's answer, or why it could not.
    fn send(&self, notice: &Notice, phone: &str) -> Result<String, String>;
    /// What it is, for the log.
    fn describe(&self) -> String;
}

/// Writes each message as a JSON line to a file: what a gateway would be given.
pub struct FileSender {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl FileSender {
    pub fn new(path: PathBuf) -> FileSender {
        FileSender {
            path,
            file: Mutex::new(None),
        }
    }
}

impl NoticeSender for FileSender {
    fn send(&self, notice: &Notice, phone: &str) -> Result<String, String> {
        let mut guard = self.file.lock().map_err(|_| "the outbox file".to_owned())?;
        if guard.is_none() {
            *guard = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
                    .map_err(|e| format!("cannot open {}: {e}", self.path.display()))?,
            );
        }
        let file = guard.as_mut().ok_or("the outbox file")?;
        let line = serde_json::json!({
            "to": phone,
            "notice": notice.id,
            "period": notice.period,
            "text": notice.text_vi,
            "text_ascii": notice.text_ascii,
        });
        writeln!(file, "{line}")
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        file.flush()
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        Ok(format!("written to {}", self.path.display()))
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

/// Writes each message to the log (the phone number masked).
pub struct LogSender;

impl NoticeSender for LogSender {
    fn send(&self, notice: &Notice, _phone: &str) -> Result<String, String> {
        tracing::info!(
            notice = notice.id,
            to = notice.phone_masked.as_deref().unwrap_or("-"),
            text = %notice.text_ascii,
            "notice"
        );
        Ok("logged".into())
    }

    fn describe(&self) -> String {
        "the log".into()
    }
}

/// Sends what waits in the outbox, `batch` at a time; returns how many were handled.
pub async fn send_pending(
    store: &dyn Store,
    sender: &dyn NoticeSender,
    batch: i64,
) -> Result<usize, chitra_store::StoreError> {
    let pending = store.pending_notices(batch).await?;
    let mut outcomes = Vec::with_capacity(pending.len());
    for n in &pending {
        let outcome = match n.phone.as_deref() {
            Some(phone) => sender.send(n, phone),
            None => Err("no phone number".into()),
        };
        outcomes.push(match outcome {
            Ok(detail) => NoticeOutcome {
                id: n.id,
                sent: true,
                detail,
            },
            Err(detail) => NoticeOutcome {
                id: n.id,
                sent: false,
                detail,
            },
        });
    }
    store
        .mark_notices(
            &chitra_store::Change::now("notices", "gửi thông báo lịch chi trả"),
            &outcomes,
        )
        .await?;
    Ok(outcomes.len())
}

/// Works through the outbox every `every`, until the process ends.
pub fn start(store: Arc<dyn Store>, sender: Arc<dyn NoticeSender>, every: Duration) {
    tracing::info!(sender = %sender.describe(), "notices are sent");
    tokio::spawn(async move {
        loop {
            match send_pending(&*store, &*sender, 500).await {
                Ok(n) if n > 0 => {
                    tracing::info!(sent = n, "notices handled");
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "notices could not be sent"),
            }
            tokio::time::sleep(every).await;
        }
    });
}
