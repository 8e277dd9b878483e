//! What chitra tells beneficiaries: each month's schedule notices (an outbox that a sender works
//! through) and the public lookup of one's own schedule and payment status. The texts are the
//! core's (`notice`).

use chitra_core::Period;
use chitra_core::payroll::LineStatus;
use serde::Serialize;

use crate::payments::Within;
use crate::{Change, Page, Result};

/// What queueing a month's notices did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoticesQueued {
    pub period: Period,
    /// New notices with a phone number, waiting for the sender.
    pub queued: i64,
    /// New notices without a phone number: printed at the point instead.
    pub without_phone: i64,
    /// Lines whose notice was queued before (queueing again adds nothing).
    pub already: i64,
}

/// Where a notice stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    Pending,
    Sent,
    Failed,
    NoPhone,
}

impl NoticeStatus {
    pub fn code(self) -> &'static str {
        match self {
            NoticeStatus::Pending => "pending",
            NoticeStatus::Sent => "sent",
            NoticeStatus::Failed => "failed",
            NoticeStatus::NoPhone => "no_phone",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeStatus> {
        [
            NoticeStatus::Pending,
            NoticeStatus::Sent,
            NoticeStatus::Failed,
            NoticeStatus::NoPhone,
        ]
        .into_iter()
        .find(|n| n.code() == s.trim())
    }
}

/// A notice in the outbox.
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    pub id: i64,
    pub period: Period,
    pub line_id: i64,
    pub beneficiary_code: String,
    pub point_id: Option<i64>,
    /// The whole number, for the sender; lists show [`Notice::phone_masked`].
    #[serde(skip)]
    pub phone: Option<String>,
    pub phone_masked: Option<String>,
    pub text_vi: String,
    pub text_ascii: String,
    pub status: NoticeStatus,
    pub attempts: i64,
    pub sent_at: Option<String>,
    pub detail: Option<String>,
}

/// What lists of notices may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct NoticeFilter {
    pub period: Option<Period>,
    pub point_id: Option<i64>,
    pub status: Option<NoticeStatus>,
    pub within: Within,
    pub limit: i64,
    pub offset: i64,
}

/// What the sender did with a notice.
#[derive(Clone, Debug)]
pub struct NoticeOutcome {
    pub id: i64,
    pub sent: bool,
    /// The gateway's answer, or why it failed.
    pub detail: String,
}

/// How a beneficiary shows who they are on the public page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicCheck {
    BirthYear(i32),
    /// The last four digits of their citizen ID.
    CitizenLast4(String),
}

/// One month as the beneficiary sees it.
#[derive(Clone, Debug, Serialize)]
pub struct PublicMonth {
    pub period: Period,
    pub amount: i64,
    pub status: LineStatus,
    /// The day it was paid, when it was.
    pub paid_on: Option<String>,
    pub home_delivery: bool,
    pub point_name: Option<String>,
    pub point_address: Option<String>,
    /// Days of the month, `2-10`.
    pub days: Option<String>,
    /// `07:30-16:30`.
    pub hours: Option<String>,
}

/// What the public lookup shows: the schedule and the payment status, and nothing else.
#[derive(Clone, Debug, Serialize)]
pub struct PublicStatus {
    pub code: String,
    /// Middle names as initials.
    pub name: String,
    /// The latest months first.
    pub months: Vec<PublicMonth>,
}

/// Notices and the public lookup.
#[async_trait::async_trait]
pub trait Outreach: Send + Sync {
    /// Sets (or, with `None`, removes) a beneficiary's mobile number.
    async fn set_phone(&self, change: &Change, code: &str, phone: Option<&str>) -> Result<()>;
    /// Writes the notice of every line of the month's payrolls handed to the post (approved,
    /// funded or paying) within `within`: one per line, never twice; notices that failed are
    /// queued again.
    async fn queue_notices(
        &self,
        change: &Change,
        period: Period,
        within: &Within,
    ) -> Result<NoticesQueued>;
    async fn notices(&self, filter: &NoticeFilter) -> Result<Page<Notice>>;
    /// The oldest notices waiting for the sender.
    async fn pending_notices(&self, limit: i64) -> Result<Vec<Notice>>;
    /// Records what the sender did (a failure stays failed until the month is queued again).
    async fn mark_notices(&self, change: &Change, outcomes: &[NoticeOutcome]) -> Result<()>;
    /// A beneficiary's own schedule and payments of the months up to `today`'s (and the next),
    /// if `check` matches them.
    async fn public_status(
        &self,
        code: &str,
        check: &PublicCheck,
        today: chrono::NaiveDate,
    ) -> Result<Option<PublicStatus>>;
}
