//! The monthly cycle on the command line: contracts, payroll runs from draft to closed, payments,
//! settlement, reconciliation, the ledger and its hledger export.

use std::io::Write;

use chitra_core::anomaly::FlagKind;
use chitra_core::contract::{FeeRule, NewContract};
use chitra_core::hledger;
use chitra_core::payment::{Identity, Location};
use chitra_core::payroll::{Channel, LineStatus};
use chitra_core::register::parse_date;
use chitra_core::schedule::vietnam;
use chitra_core::{FieldError, Period, Program};
use chitra_store::cycle::{LineFilter, NewPayment, PaymentResult, Run};

use crate::commands::{change, open_initialised};
use crate::output::{Failure, Outcome, Table, emit, fields, vnd};
use crate::{AddContract, Detail, Format, Global, PayLine};

fn period(field: &str, s: &str) -> Result<Period, Failure> {
    Ok(Period::parse(s).map_err(|e| e.renamed(field))?)
}

fn channel_text(c: Channel, home: bool) -> String {
    match c {
        Channel::Point(p) if home => format!("điểm {p} (tại nhà)"),
        Channel::Point(p) => format!("điểm {p}"),
        Channel::Bank => "ngân hàng".to_owned(),
        Channel::Facility(f) => format!("cơ sở {f}"),
    }
}

pub async fn contract_add(g: &Global, a: AddContract) -> Outcome {
    let terms = NewContract {
        code: a.code,
        name: a.name,
        office_id: a.office,
        post_office: a.post_office,
        area_code: a.area,
        program: Program::parse(&a.program)?,
        fee: FeeRule::parse(&a.fee)?,
        advance_by_day: a.advance_by_day,
        pay_from_day: a.pay_from_day,
        pay_to_day: a.pay_to_day,
        report_by_day: a.report_by_day,
        valid_from: period("valid_from", &a.valid_from)?,
        valid_to: a
            .valid_to
            .as_deref()
            .map(|s| period("valid_to", s))
            .transpose()?,
    };
    terms.check()?;
    let store = open_initialised(g).await?;
    let made = store
        .add_contract(&change(g, "ký hợp đồng chi trả")?, &terms)
        .await?;
    emit(g.format, &made, || {
        format!(
            "Hợp đồng {} (contract) recorded: id {}\n",
            made.terms.code, made.id
        )
    })
}

fn fee_text(f: FeeRule) -> String {
    match f {
        FeeRule::Percent { basis_points } => {
            format!("{}.{:02}%", basis_points / 100, basis_points % 100)
        }
        FeeRule::PerBeneficiary { amount } => format!("{} đ/người", vnd(amount.get())),
    }
}

pub async fn contract_list(g: &Global) -> Outcome {
    let store = open_initialised(g).await?;
    let list = store.contracts().await?;
    emit(g.format, &list, || {
        let mut t = Table::new(&[
            "Id",
            "Mã (code)",
            "Bưu điện (post office)",
            "Địa bàn",
            "Phí (fee)",
            "Chuyển tiền trước ngày",
            "Chi trả (window)",
            "Báo cáo trước ngày",
            "Hiệu lực (valid)",
        ]);
        for c in &list {
            let k = &c.terms;
            t.row(vec![
                c.id.to_string(),
                k.code.clone(),
                k.post_office.clone(),
                k.area_code.clone(),
                fee_text(k.fee),
                k.advance_by_day.to_string(),
                format!("{}–{}", k.pay_from_day, k.pay_to_day),
                k.report_by_day.to_string(),
                match k.valid_to {
                    Some(to) => format!("{} – {to}", k.valid_from),
                    None => format!("{} –", k.valid_from),
                },
            ]);
        }
        t.render()
    })
}

fn run_text(r: &Run) -> String {
    let mut s = fields(&[
        ("Bảng lương (run)", r.id.to_string()),
        ("Kỳ (period)", r.period.to_string()),
        ("Đơn vị (office)", r.office_id.to_string()),
        ("Chương trình (program)", r.program.to_string()),
        ("Trạng thái (state)", r.state.to_string()),
        ("Số dòng (lines)", vnd(r.lines)),
        ("Tổng (total, đ)", vnd(r.total.get())),
        ("Cần chuyển (to advance, đ)", vnd(r.to_advance.get())),
        (
            "Phí (fee, đ)",
            r.fee.map(|f| vnd(f.get())).unwrap_or_else(|| "—".into()),
        ),
        ("Người lập (made by)", r.generated_by.clone()),
        (
            "Người duyệt (approved by)",
            r.approved_by.clone().unwrap_or_else(|| "—".into()),
        ),
    ]);
    if !r.by_status.is_empty() {
        let mut t = Table::new(&["Tình trạng (status)", "Dòng", "Số tiền (đ)"]).numeric(&[1, 2]);
        for c in &r.by_status {
            t.row(vec![
                c.status.to_string(),
                vnd(c.lines),
                vnd(c.amount.get()),
            ]);
        }
        s.push('\n');
        s.push_str(&t.render());
    }
    s
}

pub async fn generate(g: &Global, offices: &[i64], at: &str, program: &str) -> Outcome {
    let at = period("period", at)?;
    let program = Program::parse(program)?;
    let store = open_initialised(g).await?;
    let change = change(g, "lập danh sách chi trả")?;
    if let [office] = offices {
        let run = store
            .generate_payroll(&change, *office, program, at)
            .await?;
        return emit(g.format, &run, || run_text(&run));
    }
    let runs = store
        .generate_payrolls(&change, offices, program, at)
        .await?;
    emit(g.format, &runs, || runs_table(&runs))
}

pub enum Step {
    Approve,
    Fund,
    Open,
}

pub async fn step(g: &Global, run_id: i64, step: Step) -> Outcome {
    let store = open_initialised(g).await?;
    let run = match step {
        Step::Approve => {
            store
                .approve_payroll(&change(g, "duyệt danh sách chi trả")?, run_id)
                .await?
        }
        Step::Fund => {
            store
                .fund_payroll(&change(g, "chuyển kinh phí cho bưu điện")?, run_id)
                .await?
        }
        Step::Open => {
            store
                .open_payroll(&change(g, "bắt đầu chi trả")?, run_id)
                .await?
        }
    };
    emit(g.format, &run, || run_text(&run))
}

pub async fn close(g: &Global, run_id: i64) -> Outcome {
    let store = open_initialised(g).await?;
    let closed = store
        .close_payroll(&change(g, "kết thúc kỳ chi trả")?, run_id)
        .await?;
    emit(g.format, &closed, || {
        let mut s = run_text(&closed.run);
        s.push_str(&fields(&[
            ("Chuyển kỳ sau (carried)", vnd(closed.carried)),
            ("Hoàn trả (returned)", vnd(closed.returned)),
            ("Phí dịch vụ (fee, đ)", vnd(closed.fee.get())),
            ("Tạm dừng (suspended)", closed.suspended.len().to_string()),
        ]));
        if !closed.suspended.is_empty() {
            s.push_str(&format!(
                "Tạm dừng do không nhận 3 tháng liên tiếp, chờ xem xét: {}\n",
                closed.suspended.join(", ")
            ));
        }
        s
    })
}

/// Who received the money and how it was checked: the beneficiary's citizen ID seen, or a proxy
/// with their authorisation; a bank transfer or a facility need neither.
fn identity(p: &PayLine) -> Result<Identity, Failure> {
    let proxy = p.proxy_name.is_some()
        || p.proxy_citizen_id.is_some()
        || p.proxy_authorisation.is_some()
        || p.proxy_issuer.is_some()
        || p.proxy_expires.is_some();
    if proxy {
        let need = |v: &Option<String>, flag: &str, what: &str| -> Result<String, Failure> {
            match v.as_deref().map(str::trim) {
                Some(s) if !s.is_empty() => Ok(s.to_owned()),
                _ => Err(FieldError::new(flag, format!("a proxy is recorded with {what}")).into()),
            }
        };
        let name = need(
            &p.proxy_name,
            "proxy_name",
            "their full name (--proxy-name)",
        )?;
        let id = need(
            &p.proxy_citizen_id,
            "proxy_citizen_id",
            "their citizen ID (--proxy-citizen-id)",
        )?;
        let auth = need(
            &p.proxy_authorisation,
            "proxy_authorisation",
            "the authorisation's number (--proxy-authorisation)",
        )?;
        let issuer = need(
            &p.proxy_issuer,
            "proxy_issuer",
            "who certified the authorisation (--proxy-issuer)",
        )?;
        let expires = parse_date(
            "proxy_expires",
            &need(
                &p.proxy_expires,
                "proxy_expires",
                "the authorisation's expiry date (--proxy-expires)",
            )?,
        )?;
        return Ok(Identity::proxy(&name, &id, &auth, &issuer, expires)?);
    }
    if let Some(id) = &p.citizen_id {
        return Ok(Identity::citizen_id(id)?);
    }
    match p.method.trim() {
        "bank" => Ok(Identity::bank_account(None, None, None)?),
        "facility" => Ok(Identity::Facility),
        _ => Err(FieldError::new(
            "citizen_id",
            "say how identity was checked: --citizen-id, or a proxy's --proxy-name, --proxy-citizen-id, --proxy-authorisation, --proxy-issuer and --proxy-expires",
        )
        .into()),
    }
}

pub async fn pay(g: &Global, p: PayLine) -> Outcome {
    // Where the money was handed over, from `--method` (and `--lat`/`--lon` at home).
    let location = Location::of_method(&p.method, p.lat, p.lon)?;
    let identity = identity(&p)?;
    let change = change(g, "chi trả")?;
    let paid_at = match &p.paid_at {
        Some(s) => chrono::DateTime::parse_from_rfc3339(s.trim()).map_err(|_| {
            FieldError::new(
                "paid_at",
                format!("'{s}' is not a time such as 2018-01-05T08:30:00+07:00"),
            )
        })?,
        // Now, as the journal records it (`CHITRA_TODAY` in tests), in Vietnam time.
        None => change.at.with_timezone(&vietnam()),
    };
    let payment = NewPayment {
        id: p.id.clone().unwrap_or_else(|| format!("cli:{}", p.line)),
        line_id: p.line,
        amount: chitra_core::Dong(p.amount),
        paid_at,
        agent: g.actor.clone(),
        identity,
        location,
    };
    let store = open_initialised(g).await?;
    let results = store
        .record_payments(&change, std::slice::from_ref(&payment))
        .await?;
    let result = results
        .into_iter()
        .next()
        .ok_or_else(|| Failure::Other("the store gave no answer for the payment".into()))?;
    let flagged = |flags: &[FlagKind]| -> String {
        if flags.is_empty() {
            String::new()
        } else {
            format!(
                "Cảnh báo cho thanh tra (flags): {}\n",
                flags
                    .iter()
                    .map(|f| format!("{} ({f})", f.name_vi()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    match &result {
        PaymentResult::Refused { field, reason, .. } => {
            Err(FieldError::new(field.clone(), reason.clone()).into())
        }
        PaymentResult::Forbidden { reason, .. } => {
            Err(FieldError::new("line_id", reason.clone()).into())
        }
        PaymentResult::Conflict { paid_by, .. } => {
            emit(g.format, &result, String::new)?;
            Err(Failure::Conflict(format!(
                "line {} is already paid, by payment {paid_by}",
                payment.line_id
            )))
        }
        PaymentResult::Accepted { id, line_id, flags } => emit(g.format, &result, || {
            format!(
                "Đã chi (paid): line {line_id}, payment {id}\n{}",
                flagged(flags)
            )
        }),
        PaymentResult::AlreadyRecorded { id, line_id, flags } => emit(g.format, &result, || {
            format!(
                "Đã ghi trước đó (already recorded): line {line_id}, payment {id}\n{}",
                flagged(flags)
            )
        }),
    }
}

fn runs_table(runs: &[Run]) -> String {
    let mut t = Table::new(&[
        "Id",
        "Kỳ",
        "Đơn vị",
        "Chương trình",
        "Trạng thái",
        "Dòng",
        "Tổng (đ)",
        "Người lập",
        "Người duyệt",
    ])
    .numeric(&[5, 6]);
    for r in runs {
        t.row(vec![
            r.id.to_string(),
            r.period.to_string(),
            r.office_id.to_string(),
            r.program.to_string(),
            r.state.to_string(),
            vnd(r.lines),
            vnd(r.total.get()),
            r.generated_by.clone(),
            r.approved_by.clone().unwrap_or_default(),
        ]);
    }
    t.render()
}

pub async fn list(g: &Global, at: Option<&str>) -> Outcome {
    let at = at.map(|s| period("period", s)).transpose()?;
    let store = open_initialised(g).await?;
    let runs = store.runs(at).await?;
    emit(g.format, &runs, || runs_table(&runs))
}

pub async fn show(g: &Global, run_id: i64) -> Outcome {
    let store = open_initialised(g).await?;
    let run = store.run(run_id).await?;
    emit(g.format, &run, || run_text(&run))
}

pub async fn lines(
    g: &Global,
    run_id: i64,
    status: Option<&str>,
    point: Option<i64>,
    limit: i64,
    offset: i64,
) -> Outcome {
    let status = match status {
        Some(s) => Some(LineStatus::parse(s.trim()).ok_or_else(|| {
            FieldError::new(
                "status",
                format!("'{s}' is not a line status: due, paid, carried or returned"),
            )
        })?),
        None => None,
    };
    if !(1..=10_000).contains(&limit) {
        return Err(FieldError::new("limit", "between 1 and 10000").into());
    }
    let store = open_initialised(g).await?;
    let page = store
        .run_lines(
            run_id,
            &LineFilter {
                status,
                point_id: point,
                communes: None,
                limit,
                offset,
            },
        )
        .await?;
    emit(g.format, &page, || {
        let mut t = Table::new(&[
            "Dòng (line)",
            "Mã",
            "Họ và tên",
            "Diện",
            "Nơi nhận",
            "Hàng tháng",
            "Truy lĩnh",
            "Mai táng",
            "Chuyển kỳ",
            "Tổng (đ)",
            "Tình trạng",
        ])
        .numeric(&[5, 6, 7, 8, 9]);
        for l in &page.items {
            t.row(vec![
                l.id.to_string(),
                l.beneficiary_code.clone(),
                l.full_name.clone(),
                l.category.clone().unwrap_or_default(),
                channel_text(l.channel, l.home_delivery),
                vnd(l.monthly.get()),
                vnd(l.arrears.get()),
                vnd(l.funeral.get()),
                vnd(l.carried.get() + l.reissued.get()),
                vnd(l.total.get()),
                l.status.to_string(),
            ]);
        }
        format!(
            "{}{} of {} lines from {}\n",
            t.render(),
            page.items.len(),
            page.total,
            page.offset
        )
    })
}

pub async fn line(g: &Global, line_id: i64) -> Outcome {
    let store = open_initialised(g).await?;
    let trail = store.line_trail(line_id).await?;
    emit(g.format, &trail, || {
        let l = &trail.line;
        let mut s = fields(&[
            ("Dòng (line)", l.id.to_string()),
            ("Kỳ (period)", trail.period.to_string()),
            (
                "Bảng lương (run)",
                format!("{} ({})", l.run_id, trail.run_state),
            ),
            (
                "Đối tượng",
                format!("{} {}", l.beneficiary_code, l.full_name),
            ),
            ("Nơi nhận", channel_text(l.channel, l.home_delivery)),
            ("Hàng tháng (monthly, đ)", vnd(l.monthly.get())),
            ("Truy lĩnh (arrears, đ)", vnd(l.arrears.get())),
            ("Mai táng phí (funeral, đ)", vnd(l.funeral.get())),
            ("Chuyển từ kỳ trước (carried, đ)", vnd(l.carried.get())),
            ("Chi lại tiền đã hoàn (reissued, đ)", vnd(l.reissued.get())),
            ("Tổng (total, đ)", vnd(l.total.get())),
            ("Tình trạng (status)", l.status.to_string()),
        ]);
        if let Some(e) = &trail.explanation {
            s.push_str("\nCăn cứ (why)\n");
            for c in &e.month.components {
                s.push_str(&format!(
                    "  {}: {} × {} = {} đ  [{}; {}]\n",
                    c.category,
                    c.base.map(|b| vnd(b.get())).unwrap_or_else(|| "—".into()),
                    c.rate
                        .map(|r| format!("{r:?}"))
                        .unwrap_or_else(|| "—".into()),
                    vnd(c.amount.get()),
                    c.base_source.clone().unwrap_or_default(),
                    c.rate_source.clone().unwrap_or_default(),
                ));
            }
            for a in &e.arrears {
                s.push_str(&format!(
                    "  truy lĩnh {}: {} − {} = {} đ\n",
                    a.month,
                    vnd(a.now.get()),
                    vnd(a.was.get()),
                    vnd(a.amount.get())
                ));
            }
            for r in &e.arrears_reasons {
                s.push_str(&format!("  vì (because): {r}\n"));
            }
            if let Some(f) = &e.funeral {
                s.push_str(&format!(
                    "  mai táng phí: mất ngày {}, {} × {} = {} đ [{}]\n",
                    f.died_on,
                    f.multiple,
                    vnd(f.base.get()),
                    vnd(f.amount.get()),
                    f.source
                ));
            }
        }
        match &trail.payment {
            Some(p) => {
                s.push_str(&format!(
                    "\nĐã chi (paid): {} đ, {} by {} ({}), payment {}, proof {}\n",
                    vnd(p.amount.get()),
                    p.paid_at,
                    p.agent,
                    p.method,
                    p.id,
                    p.proof
                ));
                for f in &p.flags {
                    s.push_str(&format!(
                        "Cảnh báo (flag): {} ({}): {}\n",
                        f.kind.name_vi(),
                        f.kind,
                        f.evidence
                    ));
                }
            }
            None => s.push_str("\nChưa chi (not paid)\n"),
        }
        let mut t =
            Table::new(&["Bút toán (transfer)", "Nợ (debit)", "Có (credit)", "đ"]).numeric(&[3]);
        for x in &trail.transfers {
            t.row(vec![
                x.id.clone(),
                x.debit.to_string(),
                x.credit.to_string(),
                vnd(x.amount.get()),
            ]);
        }
        s.push('\n');
        s.push_str(&t.render());
        s
    })
}

pub async fn diff(g: &Global, run_id: i64) -> Outcome {
    let store = open_initialised(g).await?;
    let rows = store.run_differences(run_id).await?;
    emit(g.format, &rows, || {
        let mut t = Table::new(&[
            "Mã",
            "Họ và tên",
            "Thay đổi (change)",
            "Trước (đ)",
            "Nay (đ)",
            "Lý do (why)",
        ])
        .numeric(&[3, 4]);
        for r in &rows {
            t.row(vec![
                r.beneficiary_code.clone(),
                r.full_name.clone(),
                match r.kind {
                    chitra_core::payroll::Difference::New => "mới (new)".into(),
                    chitra_core::payroll::Difference::Stopped => "thôi (stopped)".into(),
                    chitra_core::payroll::Difference::Changed => "đổi mức (changed)".into(),
                },
                vnd(r.before.get()),
                vnd(r.now.get()),
                r.why.clone(),
            ]);
        }
        format!("{}{} differences\n", t.render(), rows.len())
    })
}

pub async fn reviews(g: &Global) -> Outcome {
    let store = open_initialised(g).await?;
    let rows = store.reviews().await?;
    emit(g.format, &rows, || {
        let mut t = Table::new(&["#", "Mã", "Họ và tên", "Kỳ", "Lý do (why)"]);
        for r in &rows {
            t.row(vec![
                r.id.to_string(),
                r.beneficiary_code.clone(),
                r.full_name.clone(),
                r.period.to_string(),
                r.reason.clone(),
            ]);
        }
        t.render()
    })
}

pub async fn settlement(g: &Global, at: &str) -> Outcome {
    let at = period("period", at)?;
    let store = open_initialised(g).await?;
    let report = store.settlement(at).await?;
    emit(g.format, &report, || {
        let mut s = format!(
            "Quyết toán kỳ {at} (settlement) — {}\n\n",
            if report.balances {
                "khớp (balances)"
            } else {
                "KHÔNG KHỚP (does not balance)"
            }
        );
        let mut t = Table::new(&[
            "Hợp đồng (contract)",
            "Tồn đầu kỳ",
            "Tạm ứng (advanced)",
            "Đã chi (paid)",
            "Hoàn trả (returned)",
            "Còn giữ (held)",
            "Đang chi (open)",
            "Chờ chi (waiting)",
            "Phí (fee)",
            "Người nhận",
            "Khớp",
        ])
        .numeric(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        for (name, c) in &report.settlement.contracts {
            t.row(vec![
                name.clone(),
                vnd(c.held_before.get()),
                vnd(c.advanced.get()),
                vnd(c.paid.get()),
                vnd(c.returned.get()),
                vnd(c.held_after.get()),
                vnd(c.held_open.get()),
                vnd(c.held_waiting.get()),
                vnd(c.fee.get()),
                vnd(c.paid_lines),
                if c.balances { "✓" } else { "✗" }.into(),
            ]);
        }
        s.push_str(&t.render());
        let mut t = Table::new(&[
            "Điểm chi trả (point)",
            "Nhận (distributed)",
            "Đã chi (paid)",
            "Người nhận",
            "Chuyển kỳ sau (carried)",
            "Hoàn trả (returned)",
            "Khớp",
        ])
        .numeric(&[1, 2, 3, 4, 5]);
        for (name, p) in &report.settlement.points {
            t.row(vec![
                name.clone(),
                vnd(p.distributed.get()),
                vnd(p.paid.get()),
                vnd(p.paid_lines),
                vnd(p.carried.get()),
                vnd(p.returned.get()),
                if p.balances { "✓" } else { "✗" }.into(),
            ]);
        }
        s.push('\n');
        s.push_str(&t.render());
        s
    })
}

pub async fn reconcile(g: &Global, at: &str) -> Outcome {
    let at = period("period", at)?;
    let store = open_initialised(g).await?;
    let r = store.reconcile(at).await?;
    emit(g.format, &r, || {
        let mut s = fields(&[
            ("Kỳ (period)", at.to_string()),
            ("Dòng (payroll lines)", vnd(r.lines)),
            ("Chứng từ chi (payments)", vnd(r.payments)),
            ("Bút toán chi (pay transfers)", vnd(r.pay_transfers)),
            ("Sai lệch (mismatches)", vnd(r.mismatches.len() as i64)),
        ]);
        if !r.mismatches.is_empty() {
            let mut t = Table::new(&["Dòng (line)", "Sai lệch (problem)", "Chi tiết"]);
            for m in &r.mismatches {
                t.row(vec![
                    m.line_id.to_string(),
                    m.problem.to_owned(),
                    m.detail.clone(),
                ]);
            }
            s.push('\n');
            s.push_str(&t.render());
        }
        s
    })?;
    if r.mismatches.is_empty() {
        Ok(())
    } else {
        Err(Failure::Tampered(format!(
            "{} mismatches between lines, payments and transfers of {at}",
            r.mismatches.len()
        )))
    }
}

pub async fn balances(g: &Global) -> Outcome {
    let store = open_initialised(g).await?;
    let list = store.ledger_balances().await?;
    emit(g.format, &list, || {
        let mut t = Table::new(&[
            "Tài khoản (account)",
            "Nợ (debits)",
            "Có (credits)",
            "Số dư (balance)",
        ])
        .numeric(&[1, 2, 3]);
        let mut sum = 0i128;
        for a in &list {
            sum += i128::from(a.balance);
            t.row(vec![
                a.account.clone(),
                vnd(a.debits),
                vnd(a.credits),
                vnd(a.balance),
            ]);
        }
        format!("{}Tổng số dư (sum of balances): {sum}\n", t.render())
    })
}

pub async fn export_ledger(
    g: &Global,
    detail: Detail,
    output: Option<&std::path::Path>,
) -> Outcome {
    if g.format != Format::Hledger {
        return Err(FieldError::new(
            "format",
            "the ledger is exported as an hledger journal: add --format hledger",
        )
        .into());
    }
    let store = open_initialised(g).await?;
    let io = |e: std::io::Error| Failure::Other(format!("cannot write the journal: {e}"));
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(io)?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    out.write_all(
        hledger::header(&format!(
            "chitra fund ledger, {} ({})\ndebits positive, credits negative: hledger's balance is chitra's balance",
            g.db,
            match detail {
                Detail::Day => "one transaction per day, month, kind and accounts",
                Detail::Transfer => "one transaction per transfer",
            }
        ))
        .as_bytes(),
    )
    .map_err(io)?;
    match detail {
        Detail::Day => {
            for d in store.ledger_days().await? {
                let f = &d.flow;
                out.write_all(
                    hledger::day_total(
                        d.on, d.period, f.kind, &f.debit, &f.credit, f.amount, f.count,
                    )
                    .as_bytes(),
                )
                .map_err(io)?;
            }
        }
        Detail::Transfer => {
            let mut after = None;
            loop {
                let page = store.ledger_transfers(after.clone(), 50_000).await?;
                let Some(last) = page.last() else { break };
                after = Some((last.period, last.id.clone()));
                for t in &page {
                    out.write_all(hledger::transfer(t).as_bytes()).map_err(io)?;
                }
            }
        }
    }
    out.flush().map_err(io)
}
