//! Payment points on the command line: their schedules for a month, the beneficiaries each
//! serves, and the flags payments raised for inspectors.

use chitra_core::anomaly::FlagKind;
use chitra_core::schedule::{MonthDays, parse_hours};
use chitra_core::{FieldError, Period};
use chitra_store::payments::{Assignment, FlagFilter, NewSchedule, Schedule};

use crate::commands::{change, open_initialised};
use crate::output::{Outcome, Table, emit, fields};
use crate::{FlagsArgs, Global, PointCommand};

fn period(s: &str) -> Result<Period, FieldError> {
    Period::parse(s)
}

fn schedules_table(rows: &[Schedule]) -> String {
    let mut t = Table::new(&[
        "Điểm (point)",
        "Mã (code)",
        "Tên (name)",
        "Ngày (days)",
        "Giờ (hours)",
        "",
    ])
    .numeric(&[0]);
    for s in rows {
        t.row(vec![
            s.point_id.to_string(),
            s.point_code.clone(),
            s.point_name.clone(),
            s.days.code(),
            format!("{}-{}", s.opens.format("%H:%M"), s.closes.format("%H:%M")),
            if s.default {
                "mặc định (default)".to_owned()
            } else {
                String::new()
            },
        ]);
    }
    t.render()
}

pub async fn run(g: &Global, c: PointCommand) -> Outcome {
    match c {
        PointCommand::Schedule {
            point,
            period: p,
            days,
            hours,
        } => {
            let period = period(&p)?;
            let days = MonthDays::parse(&days)?;
            let (opens, closes) = parse_hours(&hours)?;
            let store = open_initialised(g).await?;
            let s = store
                .set_schedule(
                    &change(g, "lịch chi trả")?,
                    &NewSchedule {
                        point_id: point,
                        period,
                        days,
                        opens,
                        closes,
                    },
                )
                .await?;
            emit(g.format, &s, || schedules_table(std::slice::from_ref(&s)))
        }
        PointCommand::Schedules { period: p, point } => {
            let period = period(&p)?;
            let store = open_initialised(g).await?;
            let rows = store.schedules(period, point).await?;
            emit(g.format, &rows, || schedules_table(&rows))
        }
        PointCommand::Assign {
            point,
            beneficiary,
            home,
            lat,
            lon,
        } => {
            let home_at = match (lat, lon) {
                (Some(a), Some(b)) => Some((a, b)),
                (None, None) => None,
                _ => {
                    return Err(FieldError::new(
                        "home",
                        "the home's coordinates are given both: --lat and --lon",
                    )
                    .into());
                }
            };
            let store = open_initialised(g).await?;
            let n = store
                .assign_beneficiaries(
                    &change(g, "phân công điểm chi trả")?,
                    point,
                    &[Assignment {
                        beneficiary_code: beneficiary.clone(),
                        home_delivery: home.clone(),
                        home: home_at,
                    }],
                )
                .await?;
            let report = serde_json::json!({
                "assigned": n,
                "point_id": point,
                "beneficiary": beneficiary,
                "home_delivery": home,
            });
            emit(g.format, &report, || {
                fields(&[
                    ("Đối tượng (beneficiary)", beneficiary.clone()),
                    ("Điểm chi trả (point)", point.to_string()),
                    (
                        "Chi tại nhà (home delivery)",
                        home.clone().unwrap_or_else(|| "không (no)".into()),
                    ),
                ])
            })
        }
    }
}

pub async fn flags(g: &Global, a: FlagsArgs) -> Outcome {
    let filter = FlagFilter {
        period: Some(period(&a.period)?),
        kind: a.kind.as_deref().map(FlagKind::parse).transpose()?,
        point_id: a.point,
        limit: a.limit,
        offset: a.offset,
        ..Default::default()
    };
    let store = open_initialised(g).await?;
    let page = store.flags(&filter).await?;
    emit(g.format, &page, || {
        let mut t = Table::new(&[
            "Cảnh báo (flag)",
            "Thanh toán (payment)",
            "Dòng (line)",
            "Đối tượng",
            "Họ tên",
            "Điểm",
            "Bằng chứng (evidence)",
        ]);
        for f in &page.items {
            t.row(vec![
                f.kind.to_string(),
                f.payment_id.clone(),
                f.line_id.to_string(),
                f.beneficiary_code.clone(),
                f.full_name.clone(),
                f.point_code.clone().unwrap_or_default(),
                f.evidence.to_string(),
            ]);
        }
        format!(
            "{}{} / {} cảnh báo (flags)\n",
            t.render(),
            page.items.len(),
            page.total
        )
    })
}
