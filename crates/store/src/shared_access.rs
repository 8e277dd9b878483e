//! Users and sessions, one body for both backends (see `shared.rs`). Expanded after
//! `shared_store!` in the same module, whose helpers it uses.

macro_rules! shared_access {
    ($Store:ident) => {
        use chitra_core::access::{Role, Scope};
        use crate::access::{Access, Credentials, NewSession, NewUser, Session, SessionKind, User};

        const USER_COLUMNS: &str = "id, username, display_name, role, scope, active, created_at";

        fn user_from_row(r: &<Db as sqlx::Database>::Row) -> Result<User> {
            Ok(User {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                role: parsed("role", Role::parse(&r.try_get::<String, _>("role")?))?,
                scope: parsed("scope", Scope::parse(&r.try_get::<String, _>("scope")?))?,
                active: r.try_get("active")?,
                created_at: r.try_get("created_at")?,
            })
        }

        async fn user_named(conn: &mut Conn, username: &str) -> Result<User> {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(username.to_owned())
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| StoreError::NotFound { what: "user", key: username.to_owned() })?;
            user_from_row(&row)
        }

        /// A scope names something that exists: a unit of that level (in force at any time), or a point.
        async fn check_scope(conn: &mut Conn, scope: &Scope) -> Result<()> {
            let found: i64 = match scope {
                Scope::Country => 1,
                Scope::Point(id) => sqlx::query_scalar("SELECT COUNT(*) FROM payment_points WHERE id = $1")
                    .bind(*id)
                    .fetch_one(&mut *conn)
                    .await?,
                other => {
                    let (level, code) = other
                        .unit()
                        .ok_or_else(|| StoreError::invalid("scope", "not a unit"))?;
                    sqlx::query_scalar("SELECT COUNT(*) FROM admin_units WHERE level = $1 AND code = $2")
                        .bind(level.code())
                        .bind(code.to_owned())
                        .fetch_one(&mut *conn)
                        .await?
                }
            };
            if found == 0 {
                return Err(StoreError::invalid("scope", format!("{scope} names nothing on the register")));
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl Access for $Store {
            async fn add_user(&self, change: &Change, user: &NewUser) -> Result<User> {
                user.check()?;
                change.check()?;
                let (mut tx, head) = self.begin_write_keeping_lines().await?;
                check_scope(&mut tx, &user.scope).await?;
                let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1")
                    .bind(user.username.clone())
                    .fetch_one(&mut *tx)
                    .await?;
                if taken > 0 {
                    return Err(StoreError::invalid("username", format!("{} is already a user", user.username)));
                }
                let id: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) + 1 AS BIGINT) FROM users")
                    .fetch_one(&mut *tx)
                    .await?;
                let made = User {
                    id,
                    username: user.username.clone(),
                    display_name: text::clean(&user.display_name),
                    role: user.role,
                    scope: user.scope.clone(),
                    active: true,
                    created_at: change.at_text(),
                };
                sqlx::query("INSERT INTO users (id, username, display_name, password_hash, role, scope, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(id)
                    .bind(made.username.clone())
                    .bind(made.display_name.clone())
                    .bind(user.password_hash.clone())
                    .bind(made.role.code())
                    .bind(made.scope.to_string())
                    .bind(true)
                    .bind(made.created_at.clone())
                    .execute(&mut *tx)
                    .await?;
                let n = note("user.add", format!("user:{}", made.username), &made)?;
                commit(tx, head, change, vec![n]).await?;
                Ok(made)
            }

            async fn users(&self) -> Result<Vec<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
                rows.iter().map(user_from_row).collect()
            }

            async fn credentials(&self, username: &str) -> Result<Option<Credentials>> {
                let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(username.to_owned())
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(r) => Ok(Some(Credentials { user: user_from_row(&r)?, password_hash: r.try_get("password_hash")? })),
                    None => Ok(None),
                }
            }

            async fn set_user_active(&self, change: &Change, username: &str, active: bool) -> Result<User> {
                change.check()?;
                let (mut tx, head) = self.begin_write_keeping_lines().await?;
                let mut user = user_named(&mut tx, username).await?;
                sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                    .bind(active)
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
                if !active {
                    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL")
                        .bind(change.at_text())
                        .bind(user.id)
                        .execute(&mut *tx)
                        .await?;
                }
                user.active = active;
                let action = if active { "user.enable" } else { "user.disable" };
                let n = note(action, format!("user:{}", user.username), &serde_json::json!({ "active": active }))?;
                commit(tx, head, change, vec![n]).await?;
                Ok(user)
            }

            async fn set_password(&self, change: &Change, username: &str, password_hash: &str) -> Result<()> {
                change.check()?;
                if !password_hash.starts_with("$argon2id$") {
                    return Err(StoreError::invalid("password", "the password must be hashed with argon2id"));
                }
                let (mut tx, head) = self.begin_write_keeping_lines().await?;
                let user = user_named(&mut tx, username).await?;
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(password_hash.to_owned())
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
                // A new password ends the sessions opened with the old one.
                sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL")
                    .bind(change.at_text())
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
                let n = note("user.password", format!("user:{}", user.username), &serde_json::json!({}))?;
                commit(tx, head, change, vec![n]).await?;
                Ok(())
            }

            async fn start_session(&self, change: &Change, session: &NewSession) -> Result<()> {
                change.check()?;
                let label = text::required("label", &session.label, 100)?;
                let (mut tx, head) = self.begin_write_keeping_lines().await?;
                let user: Option<(String, bool)> = sqlx::query_as("SELECT username, active FROM users WHERE id = $1")
                    .bind(session.user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some((username, true)) = user else {
                    return Err(StoreError::invalid("user", format!("no active user #{}", session.user_id)));
                };
                // At the limit, the oldest live sessions end to make room.
                let live: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY created_at, token_hash")
                    .bind(session.user_id)
                    .bind(change.at_text())
                    .fetch_all(&mut *tx)
                    .await?;
                let over = (live.len() + 1).saturating_sub(chitra_core::access::MAX_LIVE_SESSIONS);
                let mut notes = Vec::with_capacity(over + 1);
                for oldest in &live[..over] {
                    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE token_hash = $2")
                        .bind(change.at_text())
                        .bind(oldest.clone())
                        .execute(&mut *tx)
                        .await?;
                    notes.push(note(
                        "session.end",
                        format!("user:{username}"),
                        &serde_json::json!({ "reason": format!("more than {} sessions at once: the oldest ended", chitra_core::access::MAX_LIVE_SESSIONS) }),
                    )?);
                }
                let expires = session.expires_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
                sqlx::query("INSERT INTO sessions (token_hash, user_id, kind, label, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(session.token_hash.clone())
                    .bind(session.user_id)
                    .bind(session.kind.code())
                    .bind(label.clone())
                    .bind(session.csrf.clone())
                    .bind(change.at_text())
                    .bind(expires.clone())
                    .execute(&mut *tx)
                    .await?;
                let n = note(
                    "session.start",
                    format!("user:{username}"),
                    &serde_json::json!({ "kind": session.kind, "label": label, "expires_at": expires }),
                )?;
                notes.push(n);
                commit(tx, head, change, notes).await?;
                Ok(())
            }

            async fn session(&self, token_hash: &str, now: chrono::DateTime<chrono::Utc>) -> Result<Option<Session>> {
                let row = sqlx::query(
                    "SELECT s.token_hash, s.kind, s.label, s.csrf, s.expires_at, u.id, u.username, u.display_name, u.role, u.scope, u.active, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.ended_at IS NULL AND u.active",
                )
                .bind(token_hash.to_owned())
                .fetch_optional(&self.pool)
                .await?;
                let Some(r) = row else { return Ok(None) };
                let expires: String = r.try_get("expires_at")?;
                let expires_at = chrono::DateTime::parse_from_rfc3339(&expires)
                    .map_err(|e| StoreError::corrupt(format!("session expiry {expires}: {e}")))?
                    .with_timezone(&chrono::Utc);
                if expires_at <= now {
                    return Ok(None);
                }
                let kind = match r.try_get::<String, _>("kind")?.as_str() {
                    "bearer" => SessionKind::Bearer,
                    _ => SessionKind::Browser,
                };
                Ok(Some(Session {
                    token_hash: r.try_get("token_hash")?,
                    user: user_from_row(&r)?,
                    kind,
                    label: r.try_get("label")?,
                    csrf: r.try_get("csrf")?,
                    expires_at,
                }))
            }

            async fn end_session(&self, change: &Change, token_hash: &str) -> Result<()> {
                change.check()?;
                let (mut tx, head) = self.begin_write_keeping_lines().await?;
                let username: Option<String> = sqlx::query_scalar(
                    "SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.ended_at IS NULL",
                )
                .bind(token_hash.to_owned())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(username) = username else { return Ok(()) };
                sqlx::query("UPDATE sessions SET ended_at = $1 WHERE token_hash = $2")
                    .bind(change.at_text())
                    .bind(token_hash.to_owned())
                    .execute(&mut *tx)
                    .await?;
                let n = note("session.end", format!("user:{username}"), &serde_json::json!({}))?;
                commit(tx, head, change, vec![n]).await?;
                Ok(())
            }
        }
    };
}
