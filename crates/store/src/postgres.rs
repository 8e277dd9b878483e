//! PostgreSQL: the path to a national deployment and to replication.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

type Db = sqlx::Postgres;
/// A write transaction.
type Tx = sqlx::Transaction<'static, Db>;
const BACKEND: &str = "postgres";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A store in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: sqlx::Pool<Db>,
    units: crate::UnitCache,
    registers: crate::RegisterCaches,
}

impl PgStore {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &str) -> Result<PgStore> {
        PgStore::connect_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with options (the conformance suite gives each test its own schema this way).
    pub async fn connect_with(options: PgConnectOptions) -> Result<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore {
            pool,
            units: Default::default(),
            registers: Default::default(),
        })
    }

    /// A write transaction holding the journal head's row lock: writers queue here, so entries
    /// are chained one at a time and the chain never forks.
    async fn begin_write(&self) -> Result<(Tx, Head)> {
        let mut tx = self.pool.begin().await?;
        let row: (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE")
                .fetch_one(&mut *tx)
                .await?;
        Ok((
            tx,
            Head {
                seq: row.0,
                hash: row.1,
            },
        ))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction's connection for many statements in a row (on SQLite this saves a round
/// trip to its worker thread per statement; here it is the connection).
type Held<'c> = &'c mut sqlx::PgConnection;

async fn hold(conn: &mut sqlx::PgConnection) -> crate::Result<Held<'_>> {
    Ok(conn)
}

shared_store!(PgStore);
shared_cycle!(PgStore);
shared_access!(PgStore);
shared_outreach!(PgStore);
shared_payments!(PgStore);

/// One row's values, collected to be bound into a multi-row statement.
pub(crate) struct Binder {
    values: Vec<Value>,
}

enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Date(Option<chrono::NaiveDate>),
}

impl Binder {
    pub fn int(&mut self, v: i64) -> &mut Self {
        self.values.push(Value::Int(Some(v)));
        self
    }
    pub fn text(&mut self, v: &str) -> &mut Self {
        self.values.push(Value::Text(Some(v.to_owned())));
        self
    }
    pub fn code(&mut self, v: &'static str) -> &mut Self {
        self.text(v)
    }
    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        self.values.push(Value::Int(v));
        self
    }
    pub fn opt_text(&mut self, v: Option<&str>) -> &mut Self {
        self.values.push(Value::Text(v.map(str::to_owned)));
        self
    }
    pub fn date(&mut self, d: chrono::NaiveDate) -> &mut Self {
        self.values.push(Value::Date(Some(d)));
        self
    }
    pub fn opt_date(&mut self, d: Option<chrono::NaiveDate>) -> &mut Self {
        self.values.push(Value::Date(d));
        self
    }
}

/// One column of the rows to insert, as the array it is bound as.
enum ColumnValues {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Date(Vec<Option<chrono::NaiveDate>>),
}

/// Inserts `rows` into `table`, binding each (values in `columns` order) with `bind`: each column
/// bound as one array and the rows unnested from them (`INSERT … SELECT * FROM UNNEST($1, …)`),
/// so that a statement carries up to 100,000 rows with one parameter per column, and PostgreSQL
/// plans it once whatever the number of rows.
async fn insert_rows<T>(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: &[&str],
    rows: &[T],
    bind: impl FnMut(&T, &mut Binder),
) -> crate::Result<()> {
    insert_rows_with(conn, table, columns, rows, "", bind).await
}

/// [`insert_rows`] with a clause after the rows (`ON CONFLICT …`; a key may then come once in
/// `rows`).
async fn insert_rows_with<T>(
    conn: &mut sqlx::PgConnection,
    table: &str,
    columns: &[&str],
    rows: &[T],
    then: &str,
    mut bind: impl FnMut(&T, &mut Binder),
) -> crate::Result<()> {
    for chunk in rows.chunks(100_000) {
        let mut values: Vec<ColumnValues> = Vec::with_capacity(columns.len());
        for r in chunk {
            let mut b = Binder {
                values: Vec::with_capacity(columns.len()),
            };
            bind(r, &mut b);
            if b.values.len() != columns.len() {
                return Err(StoreError::corrupt(format!(
                    "{} values for the {} columns of {table}",
                    b.values.len(),
                    columns.len()
                )));
            }
            for (i, v) in b.values.into_iter().enumerate() {
                if values.len() <= i {
                    values.push(match v {
                        Value::Int(_) => ColumnValues::Int(Vec::with_capacity(chunk.len())),
                        Value::Text(_) => ColumnValues::Text(Vec::with_capacity(chunk.len())),
                        Value::Date(_) => ColumnValues::Date(Vec::with_capacity(chunk.len())),
                    });
                }
                match (&mut values[i], v) {
                    (ColumnValues::Int(c), Value::Int(x)) => c.push(x),
                    (ColumnValues::Text(c), Value::Text(x)) => c.push(x),
                    (ColumnValues::Date(c), Value::Date(x)) => c.push(x),
                    _ => {
                        return Err(StoreError::corrupt(format!(
                            "column {} of {table} bound with values of two types",
                            columns[i]
                        )));
                    }
                }
            }
        }
        let arrays: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let kind = match v {
                    ColumnValues::Int(_) => "bigint",
                    ColumnValues::Text(_) => "text",
                    ColumnValues::Date(_) => "date",
                };
                format!("${}::{kind}[]", i + 1)
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT * FROM UNNEST({}) {then}",
            columns.join(", "),
            arrays.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in values {
            q = match v {
                ColumnValues::Int(c) => q.bind(c),
                ColumnValues::Text(c) => q.bind(c),
                ColumnValues::Date(c) => q.bind(c),
            };
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sets the status of payroll lines.
async fn set_status(conn: &mut sqlx::PgConnection, ids: &[i64], status: &str) -> crate::Result<()> {
    sqlx::query("UPDATE payroll_lines SET status = $1 WHERE id = ANY($2)")
        .bind(status.to_owned())
        .bind(ids.to_vec())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A row, read column by column as the SQLite reader is.
pub(crate) struct Reader<'r> {
    row: &'r sqlx::postgres::PgRow,
}

impl Reader<'_> {
    pub fn int(&self, col: i32) -> i64 {
        self.opt_int(col).unwrap_or(0)
    }
    pub fn opt_int(&self, col: i32) -> Option<i64> {
        use sqlx::Row;
        self.row
            .try_get::<Option<i64>, _>(col as usize)
            .ok()
            .flatten()
    }
    pub fn opt_real(&self, col: i32) -> Option<f64> {
        use sqlx::Row;
        self.row
            .try_get::<Option<f64>, _>(col as usize)
            .ok()
            .flatten()
    }
    pub fn text(&self, col: i32) -> String {
        self.opt_text(col).unwrap_or_default()
    }
    pub fn opt_text(&self, col: i32) -> Option<String> {
        self.str(col).map(str::to_owned)
    }
    pub fn str(&self, col: i32) -> Option<&str> {
        use sqlx::Row;
        self.row
            .try_get::<Option<&str>, _>(col as usize)
            .ok()
            .flatten()
    }
    pub fn date(&self, col: i32) -> Option<chrono::NaiveDate> {
        use sqlx::Row;
        self.row
            .try_get::<Option<chrono::NaiveDate>, _>(col as usize)
            .ok()
            .flatten()
    }
}

/// The rows of `sql` with `args`, each handed to `each` as they arrive.
async fn scan(
    conn: &mut <Db as sqlx::Database>::Connection,
    sql: &str,
    args: &[crate::Arg<'_>],
    mut each: impl FnMut(&Reader<'_>) -> crate::Result<()>,
) -> crate::Result<()> {
    use futures_util::TryStreamExt;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for a in args {
        q = match a {
            crate::Arg::Int(v) => q.bind(*v),
            crate::Arg::Text(v) => q.bind(v.to_string()),
        };
    }
    let mut rows = q.fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        each(&Reader { row: &row })?;
    }
    Ok(())
}

/// Inserts `rows` into `table` (whose key is the first column, an integer) unless a row with the
/// same key is there: the rows not inserted, by position.
async fn insert_rows_ignoring<T>(
    tx: &mut sqlx::PgConnection,
    table: &str,
    columns: &[&str],
    rows: &[T],
    mut bind: impl FnMut(&T, &mut Binder),
) -> crate::Result<Vec<usize>> {
    let key = columns.first().copied().unwrap_or("id");
    let mut skipped = Vec::new();
    let per = 30_000 / columns.len().max(1);
    for (c, chunk) in rows.chunks(per).enumerate() {
        let mut q =
            sqlx::QueryBuilder::<Db>::new(format!("INSERT INTO {table} ({}) ", columns.join(", ")));
        let mut keys = Vec::with_capacity(chunk.len());
        let bound: Vec<Vec<Value>> = chunk
            .iter()
            .map(|r| {
                let mut b = Binder {
                    values: Vec::with_capacity(columns.len()),
                };
                bind(r, &mut b);
                keys.push(match b.values.first() {
                    Some(Value::Int(Some(k))) => *k,
                    _ => i64::MIN,
                });
                b.values
            })
            .collect();
        q.push_values(bound, |mut s, values| {
            for v in values {
                match v {
                    Value::Int(i) => s.push_bind(i),
                    Value::Text(t) => s.push_bind(t),
                    Value::Date(d) => s.push_bind(d),
                };
            }
        });
        q.push(format!(" ON CONFLICT ({key}) DO NOTHING RETURNING {key}"));
        let inserted: std::collections::HashSet<i64> = q
            .build_query_scalar::<i64>()
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        // A key given twice in the chunk is inserted once, by its first row.
        let mut inserted = inserted;
        skipped.extend(
            keys.iter()
                .enumerate()
                .filter(|(_, k)| !inserted.remove(k))
                .map(|(i, _)| c * per + i),
        );
    }
    Ok(skipped)
}

/// The rows of `query` (which ends with the key's column: `… WHERE run_id`) for the keys, all at
/// once (`= ANY($1)`).
async fn lookup_ids<T>(
    conn: &mut <Db as sqlx::Database>::Connection,
    query: &str,
    keys: &[i64],
    mut read: impl FnMut(&Reader<'_>) -> crate::Result<T>,
) -> crate::Result<Vec<T>> {
    let sql = format!("{query} = ANY($1)");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(keys.to_vec())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|row| read(&Reader { row })).collect()
}

/// [`lookup_ids`] for text keys.
async fn lookup_texts<T>(
    conn: &mut <Db as sqlx::Database>::Connection,
    query: &str,
    keys: &[String],
    mut read: impl FnMut(&Reader<'_>) -> crate::Result<T>,
) -> crate::Result<Vec<T>> {
    let sql = format!("{query} = ANY($1)");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(keys.to_vec())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|row| read(&Reader { row })).collect()
}
