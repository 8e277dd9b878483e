//! Schedule notices (*thông báo lịch chi trả*) for a payment point: a page to post at the point and
//! in the hamlets, saying when and where the month is paid, what to bring, and who is on the list.
//! Amounts and ID numbers are left out: the notice is public.
//!
//! The days are the point's own pay days, kept within the contract's payment window for the month
//! when the contract is known. There are no per-hour schedules in the store: none are invented.

use chitra_core::{Period, Program};
use chitra_store::Store;
use serde::Serialize;

use crate::error::Result;
use crate::payroll::{Heading, PointHeading, find_point, payroll_list, runs_of};

/// A point's notice for a month.
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    pub heading: Heading,
    pub point: PointHeading,
    /// First and last pay day, dd/mm/yyyy.
    pub from: String,
    pub to: String,
    pub rows: Vec<NoticeRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NoticeRow {
    pub number: u64,
    pub code: String,
    pub full_name: String,
    pub address: String,
    pub note: String,
}

/// Reads a point's notice for a month from the store.
pub async fn notice(
    store: &dyn Store,
    period: Period,
    point: &str,
    program: Program,
    made_on: chrono::NaiveDate,
) -> Result<Notice> {
    let p = find_point(store, point).await?;
    let list = payroll_list(store, period, point, program, made_on).await?;
    let runs = runs_of(store, period, program).await?;
    let contracts = store.contracts().await?;
    let day = |d: u8| {
        chrono::NaiveDate::from_ymd_opt(period.year(), period.month(), u32::from(d))
            .unwrap_or(period.last_day())
    };
    let (mut from, mut to) = (day(p.pay_days.0), day(p.pay_days.1));
    if let Some(c) = runs
        .iter()
        .find_map(|r| contracts.iter().find(|c| c.id == r.contract_id))
    {
        let (start, end) = c.terms.pay_window(period);
        if from < start || from > end {
            from = start;
        }
        if to > end || to < from {
            to = end;
        }
    }
    let rows = list
        .rows
        .iter()
        .map(|r| NoticeRow {
            number: r.number,
            code: r.code.clone(),
            full_name: r.full_name.clone(),
            address: r.address.clone(),
            note: if r.home_delivery {
                "Chi trả tại nhà".into()
            } else {
                String::new()
            },
        })
        .collect();
    Ok(Notice {
        heading: list.heading,
        point: list.point,
        from: from.format("%d/%m/%Y").to_string(),
        to: to.format("%d/%m/%Y").to_string(),
        rows,
    })
}

/// The notice as a printable PDF (A4 portrait).
pub fn pdf(notice: &Notice, made_on: chrono::NaiveDate) -> Result<Vec<u8>> {
    crate::pdf::render(
        "notice",
        include_str!("../templates/notice.typ"),
        notice,
        made_on,
        true,
    )
}
