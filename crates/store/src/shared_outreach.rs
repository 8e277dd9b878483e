//! Notices and the public lookup, one body for both backends (see `shared.rs`). Expanded after
//! `shared_store!` and `shared_cycle!` in the same module, whose helpers it uses.

macro_rules! shared_outreach {
    ($Store:ident) => {
        use chitra_core::notice::{NoticeFacts, PhoneNumber, notice as notice_text, public_name};
        use crate::outreach::{
            Notice, NoticeFilter, NoticeOutcome, NoticeStatus, NoticesQueued, Outreach, PublicCheck, PublicMonth,
            PublicStatus,
        };
        use crate::payments::Within as Reach;

        const NOTICE_COLUMNS: &str = "n.id, n.period, n.line_id, b.code, n.point_id, n.phone, n.text_vi, n.text_ascii, n.status, n.attempts, n.sent_at, n.detail";

        fn notice_from_row(r: &<Db as sqlx::Database>::Row) -> Result<Notice> {
            let phone: Option<String> = r.try_get("phone")?;
            Ok(Notice {
                id: r.try_get("id")?,
                period: period_of(r.try_get("period")?)?,
                line_id: r.try_get("line_id")?,
                beneficiary_code: r.try_get("code")?,
                point_id: r.try_get("point_id")?,
                phone_masked: phone.as_deref().and_then(|p| PhoneNumber::parse(p).ok()).map(|p| p.masked()),
                phone,
                text_vi: r.try_get("text_vi")?,
                text_ascii: r.try_get("text_ascii")?,
                status: NoticeStatus::parse(&r.try_get::<String, _>("status")?).ok_or_else(|| StoreError::corrupt("notice status"))?,
                attempts: r.try_get("attempts")?,
                sent_at: r.try_get("sent_at")?,
                detail: r.try_get("detail")?,
            })
        }

        #[async_trait::async_trait]
        impl Outreach for $Store {
            async fn set_phone(&self, change: &Change, code: &str, phone: Option<&str>) -> Result<()> {
                change.check()?;
                let phone = phone.map(PhoneNumber::parse).transpose()?;
                // Contacts are not what a payment reads: the lines' copy stays.
                let (mut tx, head) = self.begin_write_keeping_lines().await?;
                let id: Option<i64> = sqlx::query_scalar("SELECT id FROM beneficiaries WHERE code = $1")
                    .bind(code.to_owned())
                    .fetch_optional(&mut *tx)
                    .await?;
                let id = id.ok_or_else(|| StoreError::NotFound { what: "beneficiary", key: code.to_owned() })?;
                sqlx::query("DELETE FROM beneficiary_contacts WHERE beneficiary_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if let Some(p) = &phone {
                    sqlx::query("INSERT INTO beneficiary_contacts (beneficiary_id, phone, updated_at) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(p.as_str().to_owned())
                        .bind(change.at_text())
                        .execute(&mut *tx)
                        .await?;
                }
                let n = note(
                    "beneficiary.phone",
                    format!("beneficiary:{code}"),
                    &serde_json::json!({ "phone": phone.as_ref().map(PhoneNumber::masked) }),
                )?;
                commit(tx, head, change, vec![n]).await?;
                Ok(())
            }

            async fn queue_notices(&self, change: &Change, period: Period, within: &Reach) -> Result<NoticesQueued> {
                change.check()?;
                // The schedules first (they read through the pool), then the write.
                let schedules: HashMap<i64, crate::payments::Schedule> =
                    self.schedules(period, None).await?.into_iter().map(|s| (s.point_id, s)).collect();
                let addresses: HashMap<i64, String> =
                    self.payment_points().await?.into_iter().map(|p| (p.id, p.address)).collect();
                let (mut tx, head) = self.begin_write_keeping_lines().await?;
                let mut existing: HashMap<i64, String> = HashMap::new();
                for r in sqlx::query("SELECT line_id, status FROM notices WHERE period = $1")
                    .bind(period.yyyymm())
                    .fetch_all(&mut *tx)
                    .await?
                {
                    existing.insert(r.try_get("line_id")?, r.try_get("status")?);
                }
                let rows = sqlx::query(
                    "SELECT l.id, l.beneficiary_id, l.point_id, l.commune_code, l.total, l.home_delivery, b.code, b.full_name, b.sex, c.phone \
                     FROM run_lines l JOIN beneficiaries b ON b.id = l.beneficiary_id \
                     LEFT JOIN beneficiary_contacts c ON c.beneficiary_id = l.beneficiary_id \
                     WHERE l.run_id IN (SELECT id FROM payroll_runs WHERE period = $1 AND (state = 'approved' OR state = 'funded' OR state = 'paying')) AND l.channel = 'point' \
                     ORDER BY l.id",
                )
                .bind(period.yyyymm())
                .fetch_all(&mut *tx)
                .await?;
                let mut next: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM notices")
                    .fetch_one(&mut *tx)
                    .await?;
                let (mut queued, mut without_phone, mut already) = (0i64, 0i64, 0i64);
                let mut retry: Vec<i64> = Vec::new();
                let mut fresh: Vec<(i64, i64, i64, Option<i64>, String, Option<String>, String, String, &'static str)> = Vec::new();
                for r in &rows {
                    let line_id: i64 = r.try_get("id")?;
                    let point: Option<i64> = r.try_get("point_id")?;
                    let commune: String = r.try_get("commune_code")?;
                    if !within.allows(point, &commune) {
                        continue;
                    }
                    if let Some(status) = existing.get(&line_id) {
                        if status == "failed" {
                            retry.push(line_id);
                            queued += 1;
                        } else {
                            already += 1;
                        }
                        continue;
                    }
                    let Some(schedule) = point.and_then(|p| schedules.get(&p)) else { continue };
                    let days: Vec<u8> = schedule.days.iter().filter_map(|d| u8::try_from(d).ok()).collect();
                    let opens = schedule.opens.format("%H:%M").to_string();
                    let closes = schedule.closes.format("%H:%M").to_string();
                    let full_name: String = r.try_get("full_name")?;
                    let code: String = r.try_get("code")?;
                    let address = point.and_then(|p| addresses.get(&p)).cloned().unwrap_or_default();
                    let home: i64 = r.try_get::<i64, _>("home_delivery")?;
                    let text = notice_text(&NoticeFacts {
                        period,
                        code: &code,
                        full_name: &full_name,
                        sex: parsed("sex", Sex::parse(&r.try_get::<String, _>("sex")?))?,
                        amount: Dong(r.try_get("total")?),
                        home_delivery: home != 0,
                        point_name: &schedule.point_name,
                        point_address: &address,
                        days: &days,
                        opens: &opens,
                        closes: &closes,
                    });
                    let phone: Option<String> = r.try_get("phone")?;
                    let status = if phone.is_some() { "pending" } else { "no_phone" };
                    if phone.is_some() {
                        queued += 1;
                    } else {
                        without_phone += 1;
                    }
                    fresh.push((next, line_id, r.try_get("beneficiary_id")?, point, commune, phone, text.vi, text.ascii, status));
                    next += 1;
                }
                let at = change.at_text();
                for chunk in fresh.chunks(MAX_PARAMS / 13) {
                    let mut q = QueryBuilder::<Db>::new(
                        "INSERT INTO notices (id, period, line_id, beneficiary_id, point_id, commune_code, phone, text_vi, text_ascii, status, attempts, created_at, sent_at) ",
                    );
                    q.push_values(chunk, |mut b, n| {
                        b.push_bind(n.0)
                            .push_bind(period.yyyymm())
                            .push_bind(n.1)
                            .push_bind(n.2)
                            .push_bind(n.3)
                            .push_bind(n.4.clone())
                            .push_bind(n.5.clone())
                            .push_bind(n.6.clone())
                            .push_bind(n.7.clone())
                            .push_bind(n.8)
                            .push_bind(0i64)
                            .push_bind(at.clone())
                            .push_bind(None::<String>);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                for chunk in retry.chunks(MAX_PARAMS) {
                    let mut q = QueryBuilder::<Db>::new("UPDATE notices SET status = 'pending' WHERE line_id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    q.push(")");
                    q.build().execute(&mut *tx).await?;
                }
                let done = NoticesQueued { period, queued, without_phone, already };
                if queued + without_phone > 0 {
                    let n = note("notices.queue", format!("period:{period}"), &done)?;
                    commit(tx, head, change, vec![n]).await?;
                }
                Ok(done)
            }

            async fn notices(&self, filter: &NoticeFilter) -> Result<Page<Notice>> {
                fn conditions(q: &mut QueryBuilder<Db>, f: &NoticeFilter) {
                    q.push(" WHERE 1 = 1");
                    if let Some(p) = f.period {
                        q.push(" AND n.period = ").push_bind(p.yyyymm());
                    }
                    if let Some(p) = f.point_id {
                        q.push(" AND n.point_id = ").push_bind(p);
                    }
                    if let Some(s) = f.status {
                        q.push(" AND n.status = ").push_bind(s.code());
                    }
                    match &f.within {
                        Reach::Anywhere => {}
                        Reach::Point(p) => {
                            q.push(" AND n.point_id = ").push_bind(*p);
                        }
                        Reach::Communes(cs) => {
                            if cs.is_empty() {
                                q.push(" AND 1 = 0");
                            } else {
                                let mut sorted: Vec<&String> = cs.iter().collect();
                                sorted.sort();
                                q.push(" AND n.commune_code IN (");
                                let mut list = q.separated(", ");
                                for c in sorted {
                                    list.push_bind(c.clone());
                                }
                                q.push(")");
                            }
                        }
                    }
                }
                const FROM: &str = " FROM notices n JOIN beneficiaries b ON b.id = n.beneficiary_id";
                let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*)");
                count.push(FROM);
                conditions(&mut count, filter);
                let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
                let mut q = QueryBuilder::<Db>::new(format!("SELECT {NOTICE_COLUMNS}"));
                q.push(FROM);
                conditions(&mut q, filter);
                let limit = if filter.limit <= 0 { 100 } else { filter.limit.min(10_000) };
                q.push(" ORDER BY n.id LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(filter.offset.max(0));
                let rows = q.build().fetch_all(&self.pool).await?;
                let items = rows.iter().map(notice_from_row).collect::<Result<Vec<_>>>()?;
                Ok(Page { total, offset: filter.offset.max(0), items })
            }

            async fn pending_notices(&self, limit: i64) -> Result<Vec<Notice>> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {NOTICE_COLUMNS} FROM notices n JOIN beneficiaries b ON b.id = n.beneficiary_id WHERE n.status = 'pending' ORDER BY n.id LIMIT $1"
                )))
                .bind(limit.clamp(1, 10_000))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(notice_from_row).collect()
            }

            async fn mark_notices(&self, change: &Change, outcomes: &[NoticeOutcome]) -> Result<()> {
                change.check()?;
                if outcomes.is_empty() {
                    return Ok(());
                }
                let (mut tx, head) = self.begin_write_keeping_lines().await?;
                let at = change.at_text();
                let (mut sent, mut failed) = (0usize, 0usize);
                for o in outcomes {
                    let detail: String = o.detail.chars().take(500).collect();
                    let done = sqlx::query(
                        "UPDATE notices SET status = $1, attempts = attempts + 1, sent_at = $2, detail = $3 WHERE id = $4 AND status = 'pending'",
                    )
                    .bind(if o.sent { "sent" } else { "failed" })
                    .bind(if o.sent { Some(at.clone()) } else { None })
                    .bind(detail)
                    .bind(o.id)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() > 0 {
                        if o.sent {
                            sent += 1;
                        } else {
                            failed += 1;
                        }
                    }
                }
                let n = note("notices.send", format!("notices:{}", sent + failed), &serde_json::json!({ "sent": sent, "failed": failed }))?;
                commit(tx, head, change, vec![n]).await?;
                Ok(())
            }

            async fn public_status(&self, code: &str, check: &PublicCheck, today: chrono::NaiveDate) -> Result<Option<PublicStatus>> {
                let row = sqlx::query("SELECT id, code, program, full_name, birth_date, citizen_id FROM beneficiaries WHERE code = $1")
                    .bind(code.trim().to_owned())
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(r) = row else { return Ok(None) };
                let birth: chrono::NaiveDate = r.try_get("birth_date")?;
                let citizen: String = r.try_get("citizen_id")?;
                let matches = match check {
                    PublicCheck::BirthYear(y) => chrono::Datelike::year(&birth) == *y,
                    PublicCheck::CitizenLast4(last4) => citizen.len() == 12 && &citizen[8..] == last4.as_str(),
                };
                if !matches {
                    return Ok(None);
                }
                let id: i64 = r.try_get("id")?;
                let program = parsed("program", Program::parse(&r.try_get::<String, _>("program")?))?;
                let full_name: String = r.try_get("full_name")?;
                // A line's id is made of its month, program and beneficiary: the last two years'
                // lines are looked up by key.
                let now = Period::of(today);
                let mut months = Vec::new();
                let mut p = now.next();
                for _ in 0..25 {
                    if months.len() >= 6 {
                        break;
                    }
                    let Some(line_id) = pay::line_id(p, program, id) else { break };
                    let line = sqlx::query(
                        "SELECT l.total, l.status, l.point_id, l.home_delivery, r.state FROM payroll_lines l JOIN payroll_runs r ON r.id = l.run_id WHERE l.id = $1",
                    )
                    .bind(line_id)
                    .fetch_optional(&self.pool)
                    .await?;
                    if let Some(l) = line {
                        let state: String = l.try_get("state")?;
                        if state != "draft" {
                            let point: Option<i64> = l.try_get("point_id")?;
                            let schedule = match point {
                                Some(pt) => self.schedules(p, Some(pt)).await?.into_iter().next(),
                                None => None,
                            };
                            let address = match point {
                                Some(pt) => sqlx::query_scalar::<_, String>("SELECT address FROM payment_points WHERE id = $1")
                                    .bind(pt)
                                    .fetch_optional(&self.pool)
                                    .await?,
                                None => None,
                            };
                            let paid_on: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT p.paid_at FROM payment_lines pl {PAYMENT_OF_LINE} WHERE pl.line_id = $1")))
                                .bind(line_id)
                                .fetch_optional(&self.pool)
                                .await?;
                            months.push(PublicMonth {
                                period: p,
                                amount: l.try_get("total")?,
                                status: status_of(&l.try_get::<String, _>("status")?)?,
                                paid_on: paid_on.map(|d| d.chars().take(10).collect()),
                                home_delivery: l.try_get::<i64, _>("home_delivery")? != 0,
                                point_name: schedule.as_ref().map(|s| s.point_name.clone()),
                                point_address: address,
                                days: schedule.as_ref().map(|s| s.days.code()),
                                hours: schedule.as_ref().map(|s| format!("{}-{}", s.opens.format("%H:%M"), s.closes.format("%H:%M"))),
                            });
                        }
                    }
                    p = p.prev();
                }
                Ok(Some(PublicStatus { code: r.try_get("code")?, name: public_name(&full_name), months }))
            }
        }
    };
}
