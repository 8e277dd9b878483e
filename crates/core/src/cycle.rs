//! The monthly cycle in money: which transfers each step of a payroll run makes, what the
//! settlement of a month is, and the three-way match of lines, payments and transfers.
//!
//! Every transfer id is derived from what it is for (`adv:<run>`, `pay:<line>`, …), so repeating a
//! step — a tablet resending, an operator running a close twice — moves nothing twice.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::ledger::{Account, AccountKind, Transfer, TransferKind};
use crate::money::{Dong, Overflow};
use crate::payroll::{Channel, Line, LineStatus};
use crate::period::Period;
use crate::program::Program;

/// What moving a line's money needs: the line, how it is paid, how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owed {
    pub line_id: i64,
    pub channel: Channel,
    pub total: Dong,
}

impl Line {
    pub fn owed(&self) -> Owed {
        Owed {
            line_id: self.id,
            channel: self.channel,
            total: self.total,
        }
    }
}

/// The run a step is for, and the names its accounts need.
#[derive(Clone, Debug)]
pub struct RunRef<'a> {
    pub run_id: i64,
    pub office_id: i64,
    pub program: Program,
    pub period: Period,
    pub contract: &'a str,
}

impl RunRef<'_> {
    // Private: one place that fills a transfer of this run; every argument is a field of it.
    #[allow(clippy::too_many_arguments)]
    fn transfer(
        &self,
        id: String,
        kind: TransferKind,
        debit: Account,
        credit: Account,
        amount: Dong,
        on: NaiveDate,
        line: Option<i64>,
    ) -> Transfer {
        Transfer {
            id,
            kind,
            debit,
            credit,
            amount,
            period: self.period,
            on,
            run_id: self.run_id,
            line_id: line,
        }
    }

    /// Where a line's money waits to be paid: the point's cash, the bank transit account, or (for a
    /// facility) the office's fund.
    pub fn holder(&self, channel: Channel, point_code: &dyn Fn(i64) -> String) -> Account {
        match channel {
            Channel::Point(p) => Account::cash(&point_code(p)),
            Channel::Bank => Account::bank(self.contract),
            Channel::Facility(_) => Account::fund(self.office_id),
        }
    }

    /// Funding: the budget allocates to the office's fund what the run needs beyond what the post
    /// office already holds, and the fund advances to the post office the share it pays out.
    pub fn funding(&self, sums: &RunSums, on: NaiveDate) -> Vec<Transfer> {
        let mut out = Vec::new();
        if sums.to_advance.get() > 0 {
            out.push(self.transfer(
                format!("alloc:{}", self.run_id),
                TransferKind::Allocate,
                Account::fund(self.office_id),
                Account::budget(self.program),
                sums.to_advance,
                on,
                None,
            ));
        }
        if sums.advance_to_post.get() > 0 {
            out.push(self.transfer(
                format!("adv:{}", self.run_id),
                TransferKind::Advance,
                Account::post(self.contract),
                Account::fund(self.office_id),
                sums.advance_to_post,
                on,
                None,
            ));
        }
        out
    }

    /// The start of payment: the post office hands each point the total of its lines (with what
    /// was carried), and the bank transit account the bank lines'.
    pub fn distribution(
        &self,
        sums: &RunSums,
        on: NaiveDate,
        point_code: &dyn Fn(i64) -> String,
    ) -> Vec<Transfer> {
        sums.per_holder
            .iter()
            .filter(|(_, amount)| amount.get() > 0)
            .map(|(channel, amount)| {
                let (id, holder) = match channel {
                    Channel::Point(p) => (
                        format!("dist:{}:{p}", self.run_id),
                        self.holder(*channel, point_code),
                    ),
                    _ => (
                        format!("dist:{}:bank", self.run_id),
                        Account::bank(self.contract),
                    ),
                };
                self.transfer(
                    id,
                    TransferKind::Distribute,
                    holder,
                    Account::post(self.contract),
                    *amount,
                    on,
                    None,
                )
            })
            .collect()
    }

    /// Paying a line: from where its money waits to `paid`.
    pub fn payment(
        &self,
        line: Owed,
        on: NaiveDate,
        point_code: &dyn Fn(i64) -> String,
    ) -> Transfer {
        self.transfer(
            format!("pay:{}", line.line_id),
            TransferKind::Pay,
            Account::paid(self.program),
            self.holder(line.channel, point_code),
            line.total,
            on,
            Some(line.line_id),
        )
    }

    /// The close of a line not collected: its money back to the post office (carried) or to the
    /// office (returned). Facility lines not transferred stay in the fund: nothing moves.
    pub fn unpaid(
        &self,
        line: Owed,
        status: LineStatus,
        on: NaiveDate,
        point_code: &dyn Fn(i64) -> String,
    ) -> Option<Transfer> {
        if line.total.is_zero() || matches!(line.channel, Channel::Facility(_)) {
            return None;
        }
        let holder = self.holder(line.channel, point_code);
        let (id, kind, to) = match status {
            LineStatus::Carried => (
                format!("carry:{}", line.line_id),
                TransferKind::Carry,
                Account::post(self.contract),
            ),
            LineStatus::Returned => (
                format!("ret:{}", line.line_id),
                TransferKind::Return,
                Account::returned(self.office_id),
            ),
            _ => return None,
        };
        Some(self.transfer(id, kind, to, holder, line.total, on, Some(line.line_id)))
    }

    /// The service fee: allocated from the budget and paid from the office's fund.
    pub fn fee(&self, fee: Dong, on: NaiveDate) -> Vec<Transfer> {
        if fee.get() <= 0 {
            return Vec::new();
        }
        vec![
            self.transfer(
                format!("alloc-fee:{}", self.run_id),
                TransferKind::Allocate,
                Account::fund(self.office_id),
                Account::budget(self.program),
                fee,
                on,
                None,
            ),
            self.transfer(
                format!("fee:{}", self.run_id),
                TransferKind::Fee,
                Account::fees(self.contract),
                Account::fund(self.office_id),
                fee,
                on,
                None,
            ),
        ]
    }
}

/// What funding and distribution need of a run's lines: sums, not lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSums {
    /// Σ (total − carried) of every line: what the budget must release.
    pub to_advance: Dong,
    /// The same for the lines the post office pays (points and bank).
    pub advance_to_post: Dong,
    /// Σ total per payment point, and for the bank (`Channel::Bank`).
    pub per_holder: BTreeMap<Channel, Dong>,
}

impl RunSums {
    /// Adds a line (or a group of lines of one channel: total and carried summed).
    pub fn add(&mut self, channel: Channel, total: Dong, carried: Dong) -> Result<(), Overflow> {
        let advance = total.checked_sub(carried)?;
        self.to_advance = self.to_advance.checked_add(advance)?;
        if let Channel::Facility(_) = channel {
            return Ok(());
        }
        self.advance_to_post = self.advance_to_post.checked_add(advance)?;
        let key = match channel {
            Channel::Point(p) => Channel::Point(p),
            _ => Channel::Bank,
        };
        let e = self.per_holder.entry(key).or_insert(Dong::ZERO);
        *e = e.checked_add(total)?;
        Ok(())
    }

    pub fn of(lines: &[Line]) -> Result<RunSums, Overflow> {
        let mut s = RunSums::default();
        for l in lines {
            s.add(l.channel, l.total, l.carried)?;
        }
        Ok(s)
    }
}

/// The sums of one month's transfers of one kind between two accounts (what the store adds up).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flow {
    pub kind: TransferKind,
    pub debit: Account,
    pub credit: Account,
    pub amount: Dong,
    pub count: i64,
}

/// A post office's month under a contract.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContractMonth {
    /// Carried from last month, held by the post office when the month began.
    pub held_before: Dong,
    pub advanced: Dong,
    pub paid: Dong,
    pub returned: Dong,
    /// Carried to next month, held by the post office after the close.
    pub held_after: Dong,
    /// Still to pay on the month's payrolls that are funded or paying (not yet closed): the
    /// lines due, at the post office or its points.
    pub held_open: Dong,
    /// Carried from last month for offices whose month is not funded yet (no payroll, or a draft):
    /// held by the post office until they pay.
    pub held_waiting: Dong,
    pub fee: Dong,
    pub paid_lines: i64,
    /// `held_before + advanced = paid + returned + held_after + held_open + held_waiting`.
    pub balances: bool,
}

/// What a post office holds in a month besides the transfers' flows, from the payroll lines
/// (a second source, so that the settlement is a check and not a sum of itself).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holding {
    pub open: Dong,
    pub waiting: Dong,
}

/// A payment point's month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PointMonth {
    pub distributed: Dong,
    pub paid: Dong,
    pub paid_lines: i64,
    pub carried: Dong,
    pub returned: Dong,
    /// Still at the point for lines due on payrolls being paid (the month not closed), from the
    /// lines: a second source, as the contract's `held_open`.
    pub held: Dong,
    /// `distributed = paid + carried + returned + held`: at the close, the point's cash is back
    /// to nothing.
    pub balances: bool,
}

/// The settlement (*quyết toán*) of a month from its transfers: per contract (post office
/// account) and per payment point (and the bank transit account).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Settlement {
    pub contracts: BTreeMap<String, ContractMonth>,
    pub points: BTreeMap<String, PointMonth>,
}

impl Settlement {
    pub fn balances(&self) -> bool {
        self.contracts.values().all(|c| c.balances) && self.points.values().all(|p| p.balances)
    }
}

fn add(d: &mut Dong, v: Dong) -> Result<(), Overflow> {
    *d = d.checked_add(v)?;
    Ok(())
}

/// Settles a month from the flows of its transfers, what each post office held before it, what
/// it still holds for lines not yet paid or offices not yet paying (by post-office account), and
/// what each point still holds for lines due (by cash or bank account).
pub fn settle(
    flows: &[Flow],
    held_before: &BTreeMap<String, Dong>,
    holding: &BTreeMap<String, Holding>,
    at_points: &BTreeMap<String, Dong>,
) -> Result<Settlement, Overflow> {
    let mut s = Settlement::default();
    for (point, held) in at_points {
        s.points.entry(point.clone()).or_default().held = *held;
    }
    for (post, held) in held_before {
        s.contracts.entry(post.clone()).or_default().held_before = *held;
    }
    for (post, h) in holding {
        let c = s.contracts.entry(post.clone()).or_default();
        c.held_open = h.open;
        c.held_waiting = h.waiting;
    }
    // The post office each point's cash came from.
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for f in flows.iter().filter(|f| f.kind == TransferKind::Distribute) {
        owner.insert(f.debit.as_str().to_owned(), f.credit.as_str().to_owned());
    }
    for f in flows {
        match f.kind {
            TransferKind::Advance => add(
                &mut s.contracts.entry(f.debit.to_string()).or_default().advanced,
                f.amount,
            )?,
            TransferKind::Distribute => add(
                &mut s.points.entry(f.debit.to_string()).or_default().distributed,
                f.amount,
            )?,
            TransferKind::Pay
                if matches!(f.credit.kind(), Some(AccountKind::Cash | AccountKind::Bank)) =>
            {
                let p = s.points.entry(f.credit.to_string()).or_default();
                add(&mut p.paid, f.amount)?;
                p.paid_lines += f.count;
                if let Some(post) = owner.get(f.credit.as_str()) {
                    let c = s.contracts.entry(post.clone()).or_default();
                    add(&mut c.paid, f.amount)?;
                    c.paid_lines += f.count;
                }
            }
            TransferKind::Carry => {
                add(
                    &mut s.points.entry(f.credit.to_string()).or_default().carried,
                    f.amount,
                )?;
                add(
                    &mut s
                        .contracts
                        .entry(f.debit.to_string())
                        .or_default()
                        .held_after,
                    f.amount,
                )?;
            }
            TransferKind::Return => {
                add(
                    &mut s.points.entry(f.credit.to_string()).or_default().returned,
                    f.amount,
                )?;
                if let Some(post) = owner.get(f.credit.as_str()) {
                    add(
                        &mut s.contracts.entry(post.clone()).or_default().returned,
                        f.amount,
                    )?;
                }
            }
            TransferKind::Fee => {
                // The fee account is named after the contract, as the post account is.
                let post = format!("post:{}", f.debit.as_str().trim_start_matches("fees:"));
                add(&mut s.contracts.entry(post).or_default().fee, f.amount)?;
            }
            _ => {}
        }
    }
    for c in s.contracts.values_mut() {
        c.balances = Dong::try_sum([c.held_before, c.advanced])?
            == Dong::try_sum([
                c.paid,
                c.returned,
                c.held_after,
                c.held_open,
                c.held_waiting,
            ])?;
    }
    for p in s.points.values_mut() {
        p.balances = p.distributed == Dong::try_sum([p.paid, p.carried, p.returned, p.held])?;
    }
    Ok(s)
}

/// A line as the three-way match sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineFact {
    pub id: i64,
    pub total: Dong,
    pub status: LineStatus,
}

/// A recorded payment as the match sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentFact {
    pub id: String,
    pub line_id: i64,
    pub amount: Dong,
}

/// A pay transfer as the match sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferFact {
    pub line_id: i64,
    pub amount: Dong,
}

/// What does not match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub line_id: i64,
    pub problem: &'static str,
    pub detail: String,
}

/// Matches payroll lines, recorded payments and pay transfers (each sorted by line id) and lists
/// every disagreement: a paid line without its payment or transfer, a payment for no line or of
/// another amount, two payments for a line, a transfer without a payment.
pub fn three_way(
    lines: &[LineFact],
    payments: &[PaymentFact],
    transfers: &[TransferFact],
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let (mut p, mut t) = (0usize, 0usize);
    let mut push = |line_id: i64, problem: &'static str, detail: String| {
        out.push(Mismatch {
            line_id,
            problem,
            detail,
        })
    };
    for l in lines {
        while p < payments.len() && payments[p].line_id < l.id {
            push(
                payments[p].line_id,
                "payment_without_line",
                format!("payment {} names no line", payments[p].id),
            );
            p += 1;
        }
        while t < transfers.len() && transfers[t].line_id < l.id {
            push(
                transfers[t].line_id,
                "transfer_without_line",
                format!("transfer of {} names no line", transfers[t].amount.get()),
            );
            t += 1;
        }
        let mut paid = Vec::new();
        while p < payments.len() && payments[p].line_id == l.id {
            paid.push(&payments[p]);
            p += 1;
        }
        let mut moved = Vec::new();
        while t < transfers.len() && transfers[t].line_id == l.id {
            moved.push(transfers[t]);
            t += 1;
        }
        match (l.status, paid.as_slice()) {
            (LineStatus::Paid, []) if l.total.get() > 0 => push(
                l.id,
                "paid_without_payment",
                "the line is paid but no payment is recorded".into(),
            ),
            (LineStatus::Paid, [_]) | (_, []) => {}
            (LineStatus::Paid, many) => push(
                l.id,
                "paid_twice",
                format!("{} payments recorded", many.len()),
            ),
            (status, _) => push(
                l.id,
                "payment_on_unpaid_line",
                format!("a payment is recorded but the line is {status}"),
            ),
        }
        for pay in &paid {
            if pay.amount != l.total {
                push(
                    l.id,
                    "amount_differs",
                    format!(
                        "payment {} of {} for a line of {}",
                        pay.id,
                        pay.amount.get(),
                        l.total.get()
                    ),
                );
            }
        }
        match (paid.len(), moved.as_slice()) {
            (0, []) => {}
            (0, [_, ..]) => push(
                l.id,
                "transfer_without_payment",
                "money moved to paid without a payment".into(),
            ),
            (_, []) => push(
                l.id,
                "payment_without_transfer",
                "a payment moved no money".into(),
            ),
            (_, [one]) if one.amount != l.total => push(
                l.id,
                "transfer_differs",
                format!(
                    "transfer of {} for a line of {}",
                    one.amount.get(),
                    l.total.get()
                ),
            ),
            (_, [_]) => {}
            (_, many) => push(
                l.id,
                "transferred_twice",
                format!("{} pay transfers", many.len()),
            ),
        }
    }
    for pay in &payments[p..] {
        push(
            pay.line_id,
            "payment_without_line",
            format!("payment {} names no line", pay.id),
        );
    }
    for tr in &transfers[t..] {
        push(
            tr.line_id,
            "transfer_without_line",
            format!("transfer of {} names no line", tr.amount.get()),
        );
    }
    out
}

#[cfg(test)]
mod tests;
