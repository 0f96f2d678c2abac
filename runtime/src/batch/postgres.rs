//! PostgreSQL tables as report inputs and outputs. A table is read through a DataFusion
//! table provider that asks Postgres only for the columns the query uses and pushes the
//! filters it can translate (comparisons of a column with a literal, `IS [NOT] NULL`,
//! `IN` lists, `AND`/`OR`/`NOT` of those) into the `WHERE` clause; rows come in batches
//! through a cursor, as text, and are typed by the table's column types. An output table
//! has the run's rows replaced in one transaction (`DELETE` of the date's rows, or of all,
//! then `COPY`), so a failed run leaves it as it was.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Array, Date32Builder, RecordBatch,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use futures::SinkExt;
use pipec_compiler::manifest;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::RuntimeError;

/// Rows fetched from the cursor at a time.
const FETCH: usize = 8192;

fn unavailable(db: &str, e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Unavailable {
        system: format!("postgres `{db}`"),
        reason: e.to_string(),
    }
}

/// Connects to a database of the manifest; the password, when the spec names a secret,
/// from its environment variable.
pub async fn connect(name: &str, db: &manifest::Database) -> Result<Client, RuntimeError> {
    let mut config: tokio_postgres::Config = db.url.parse().map_err(|e| RuntimeError::Config {
        what: format!(
            "database `{name}`: `{}` is not a PostgreSQL URL: {e}",
            redact(&db.url)
        ),
    })?;
    if let Some(secret) = &db.password {
        let pw = std::env::var(&secret.env).map_err(|_| RuntimeError::Config {
            what: format!(
                "database `{name}`: the password variable `{}` (secret `{}`, key `{}`) is not set",
                secret.env, secret.secret, secret.key
            ),
        })?;
        config.password(pw);
    }
    config.connect_timeout(std::time::Duration::from_secs(10));
    let (client, conn) = config
        .connect(NoTls)
        .await
        .map_err(|e| unavailable(name, format!("{} ({e})", redact(&db.url))))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "postgres connection closed");
        }
    });
    Ok(client)
}

/// The URL with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let auth = &url[s + 3..at];
            match auth.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `"name"` with quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The Arrow type a Postgres column type is read as.
pub fn arrow_type(pg: &str) -> DataType {
    let t = pg.to_ascii_lowercase();
    let t = t.split('(').next().unwrap_or("").trim();
    match t {
        "smallint" | "integer" | "int" | "int2" | "int4" | "serial" => DataType::Int32,
        "bigint" | "int8" | "bigserial" => DataType::Int64,
        "real" | "float" | "float4" | "float8" | "double precision" | "numeric" | "decimal" => {
            DataType::Float64
        }
        "boolean" | "bool" => DataType::Boolean,
        "date" => DataType::Date32,
        t if t.starts_with("timestamp") => DataType::Timestamp(TimeUnit::Microsecond, None),
        _ => DataType::Utf8,
    }
}

/// A table of a database, read by DataFusion. Each scan has a connection of its own (a
/// query reading two tables runs two cursors at once).
#[derive(Debug)]
pub struct PgTable {
    db: String,
    def: manifest::Database,
    /// `"schema"."table"`.
    qualified: String,
    schema: SchemaRef,
    /// Rows its scans have read from the database (after the filters pushed down).
    rows: Arc<std::sync::atomic::AtomicU64>,
}

impl PgTable {
    /// The table `table` of `schema`, its columns read from `information_schema`.
    pub async fn open(
        db: &str,
        def: &manifest::Database,
        table: &str,
    ) -> Result<PgTable, RuntimeError> {
        let client = connect(db, def).await?;
        let schema = def.schema.as_str();
        let rows = client
            .query(
                "SELECT column_name, data_type FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                &[&schema, &table],
            )
            .await
            .map_err(|e| unavailable(db, e))?;
        if rows.is_empty() {
            return Err(RuntimeError::Config {
                what: format!("database `{db}` has no table `{schema}.{table}`"),
            });
        }
        let fields: Vec<Field> = rows
            .iter()
            .map(|r| {
                let name: String = r.get(0);
                let ty: String = r.get(1);
                Field::new(name, arrow_type(&ty), true)
            })
            .collect();
        Ok(PgTable {
            db: db.to_string(),
            def: def.clone(),
            qualified: format!("{}.{}", ident(schema), ident(table)),
            schema: Arc::new(Schema::new(fields)),
            rows: Arc::default(),
        })
    }

    /// The count of rows its scans read, shared.
    pub fn rows_read(&self) -> Arc<std::sync::atomic::AtomicU64> {
        Arc::clone(&self.rows)
    }
}

#[async_trait]
impl TableProvider for PgTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if to_sql(f).is_some() {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let fields: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let projected = Arc::new(self.schema.project(&fields)?);
        let cols: Vec<String> = projected.fields().iter().map(|f| ident(f.name())).collect();
        let mut sql = format!(
            "SELECT {} FROM {}",
            if cols.is_empty() {
                "1".to_string()
            } else {
                cols.join(", ")
            },
            self.qualified
        );
        let wheres: Vec<String> = filters.iter().filter_map(to_sql).collect();
        if !wheres.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&wheres.join(" AND "));
        }
        if let Some(n) = limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        let part = Arc::new(PgScan {
            db: self.db.clone(),
            def: self.def.clone(),
            sql,
            schema: Arc::clone(&projected),
            rows: Arc::clone(&self.rows),
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            projected,
            vec![part],
            None,
            Vec::new(),
            false,
            None,
        )?))
    }
}

/// One scan: a query read through a cursor.
#[derive(Debug)]
struct PgScan {
    db: String,
    def: manifest::Database,
    sql: String,
    schema: SchemaRef,
    rows: Arc<std::sync::atomic::AtomicU64>,
}

impl PartitionStream for PgScan {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> datafusion::execution::SendableRecordBatchStream {
        let def = self.def.clone();
        let schema = Arc::clone(&self.schema);
        let sql = self.sql.clone();
        let db = self.db.clone();
        let rows = Arc::clone(&self.rows);
        let (tx, rx) = futures::channel::mpsc::channel::<DfResult<RecordBatch>>(2);
        tokio::spawn(async move {
            let mut tx = tx;
            let client = match connect(&db, &def).await {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(DataFusionError::External(Box::new(e)))).await;
                    return;
                }
            };
            if let Err(e) = cursor(&client, &sql, &schema, &rows, &mut tx).await {
                let _ = tx
                    .send(Err(DataFusionError::External(Box::new(unavailable(
                        &db, e,
                    )))))
                    .await;
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), rx))
    }
}

/// Runs `sql` through a cursor in a read-only transaction, sending a batch per fetch.
async fn cursor(
    client: &Client,
    sql: &str,
    schema: &SchemaRef,
    read: &std::sync::atomic::AtomicU64,
    tx: &mut futures::channel::mpsc::Sender<DfResult<RecordBatch>>,
) -> Result<(), String> {
    let name = format!("pipec_{}", std::process::id());
    let err = |e: tokio_postgres::Error| e.to_string();
    client
        .batch_execute(&format!(
            "BEGIN READ ONLY; DECLARE {name} NO SCROLL CURSOR FOR {sql}"
        ))
        .await
        .map_err(err)?;
    loop {
        let msgs = client
            .simple_query(&format!("FETCH {FETCH} FROM {name}"))
            .await
            .map_err(err)?;
        let rows: Vec<&tokio_postgres::SimpleQueryRow> = msgs
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            })
            .collect();
        if rows.is_empty() {
            break;
        }
        let batch = to_batch(schema, &rows)?;
        read.fetch_add(rows.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if tx.send(Ok(batch)).await.is_err() {
            break;
        }
        if rows.len() < FETCH {
            break;
        }
    }
    client.batch_execute("COMMIT").await.map_err(err)?;
    Ok(())
}

/// Column `i` of `rows` parsed as numbers of type `T` (NULL stays NULL).
fn parsed<T>(
    rows: &[&tokio_postgres::SimpleQueryRow],
    i: usize,
    bad: &dyn Fn(&str) -> String,
) -> Result<ArrayRef, String>
where
    T: datafusion::arrow::datatypes::ArrowPrimitiveType,
    T::Native: std::str::FromStr,
{
    let mut b = datafusion::arrow::array::PrimitiveBuilder::<T>::with_capacity(rows.len());
    for r in rows {
        let v: Option<&str> = r.get(i);
        b.append_option(v.map(|v| v.parse().map_err(|_| bad(v))).transpose()?);
    }
    Ok(Arc::new(b.finish()))
}

/// Rows of text values as a batch of `schema`'s types.
fn to_batch(
    schema: &SchemaRef,
    rows: &[&tokio_postgres::SimpleQueryRow],
) -> Result<RecordBatch, String> {
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        fn text(r: &tokio_postgres::SimpleQueryRow, i: usize) -> Option<&str> {
            r.get(i)
        }
        let bad = |v: &str| {
            format!(
                "column `{}`: cannot read `{v}` as {}",
                f.name(),
                f.data_type()
            )
        };
        let col: ArrayRef = match f.data_type() {
            DataType::Int32 => parsed::<datafusion::arrow::datatypes::Int32Type>(rows, i, &bad)?,
            DataType::Int64 => parsed::<datafusion::arrow::datatypes::Int64Type>(rows, i, &bad)?,
            DataType::Float64 => {
                parsed::<datafusion::arrow::datatypes::Float64Type>(rows, i, &bad)?
            }
            DataType::Boolean => {
                let mut b = BooleanBuilder::with_capacity(rows.len());
                for r in rows {
                    b.append_option(text(r, i).map(|v| v == "t" || v == "true"));
                }
                Arc::new(b.finish())
            }
            DataType::Date32 => {
                let mut b = Date32Builder::with_capacity(rows.len());
                for r in rows {
                    b.append_option(
                        text(r, i)
                            .map(|v| {
                                pipec_compiler::civil::Date::parse(v)
                                    .and_then(|d| i32::try_from(d.days()).ok())
                                    .ok_or_else(|| bad(v))
                            })
                            .transpose()?,
                    );
                }
                Arc::new(b.finish())
            }
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                let mut b = TimestampMicrosecondBuilder::with_capacity(rows.len());
                for r in rows {
                    b.append_option(
                        text(r, i)
                            .map(|v| timestamp_us(v).ok_or_else(|| bad(v)))
                            .transpose()?,
                    );
                }
                Arc::new(b.finish())
            }
            _ => {
                let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
                for r in rows {
                    b.append_option(text(r, i));
                }
                Arc::new(b.finish())
            }
        };
        cols.push(col);
    }
    RecordBatch::try_new(Arc::clone(schema), cols).map_err(|e| e.to_string())
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` (Postgres' text form of `timestamp`) as microseconds.
fn timestamp_us(v: &str) -> Option<i64> {
    let date = pipec_compiler::civil::Date::parse(v.get(..10)?)?;
    let rest = v.get(11..).unwrap_or("00:00:00");
    let (hms, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    let frac: String = frac
        .chars()
        .take_while(char::is_ascii_digit)
        .take(6)
        .collect();
    let us = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().ok()? * 10i64.pow(6 - frac.len() as u32)
    };
    Some(date.start_ms() * 1000 + ((h * 60 + m) * 60 + s) * 1_000_000 + us)
}

/// A filter as a Postgres `WHERE` condition, when it translates.
fn to_sql(e: &Expr) -> Option<String> {
    match e {
        Expr::Column(c) => Some(ident(&c.name)),
        Expr::Literal(v, _) => literal(v),
        Expr::BinaryExpr(b) => {
            let op = match b.op {
                Operator::Eq => "=",
                Operator::NotEq => "<>",
                Operator::Lt => "<",
                Operator::LtEq => "<=",
                Operator::Gt => ">",
                Operator::GtEq => ">=",
                Operator::And => "AND",
                Operator::Or => "OR",
                _ => return None,
            };
            Some(format!("({} {op} {})", to_sql(&b.left)?, to_sql(&b.right)?))
        }
        Expr::Not(x) => Some(format!("(NOT {})", to_sql(x)?)),
        Expr::IsNull(x) => Some(format!("({} IS NULL)", to_sql(x)?)),
        Expr::IsNotNull(x) => Some(format!("({} IS NOT NULL)", to_sql(x)?)),
        Expr::InList(l) => {
            let items: Option<Vec<String>> = l.list.iter().map(to_sql).collect();
            Some(format!(
                "({} {}IN ({}))",
                to_sql(&l.expr)?,
                if l.negated { "NOT " } else { "" },
                items?.join(", ")
            ))
        }
        _ => None,
    }
}

/// A literal as Postgres writes it.
fn literal(v: &ScalarValue) -> Option<String> {
    Some(match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        ScalarValue::Int8(Some(n)) => n.to_string(),
        ScalarValue::Int16(Some(n)) => n.to_string(),
        ScalarValue::Int32(Some(n)) => n.to_string(),
        ScalarValue::Int64(Some(n)) => n.to_string(),
        ScalarValue::UInt8(Some(n)) => n.to_string(),
        ScalarValue::UInt16(Some(n)) => n.to_string(),
        ScalarValue::UInt32(Some(n)) => n.to_string(),
        ScalarValue::UInt64(Some(n)) => n.to_string(),
        ScalarValue::Float64(Some(f)) if f.is_finite() => format!("{f:?}"),
        ScalarValue::Boolean(Some(b)) => b.to_string(),
        ScalarValue::Date32(Some(d)) => {
            format!(
                "DATE '{}'",
                pipec_compiler::civil::Date::from_days(i64::from(*d))
            )
        }
        _ => return None,
    })
}

/// Replaces the rows of `table` (`"schema"."table"` of the database) — those whose
/// `date_column` is `date`, or all — with `batches`, in one transaction.
pub async fn replace_rows(
    db: &str,
    client: &mut Client,
    schema: &str,
    table: &str,
    date_column: Option<(&str, pipec_compiler::civil::Date)>,
    batches: &[RecordBatch],
) -> Result<u64, RuntimeError> {
    let qualified = format!("{}.{}", ident(schema), ident(table));
    // The date's rows carry the date: the column is added when the SQL leaves it out, and
    // a row of another date is refused (a rerun would not replace it).
    let dated;
    let batches = match date_column {
        Some((col, date)) => {
            dated = with_date(batches, col, date, table)?;
            &dated[..]
        }
        None => batches,
    };
    let tx = client.transaction().await.map_err(|e| unavailable(db, e))?;
    match date_column {
        Some((col, date)) => tx
            .execute(
                &format!(
                    "DELETE FROM {qualified} WHERE {}::date = $1::text::date",
                    ident(col)
                ),
                &[&date.to_string()],
            )
            .await
            .map_err(|e| unavailable(db, format!("clearing {table} for {date}: {e}")))?,
        None => tx
            .execute(&format!("DELETE FROM {qualified}"), &[])
            .await
            .map_err(|e| unavailable(db, format!("clearing {table}: {e}")))?,
    };
    let mut rows = 0u64;
    if let Some(first) = batches.first() {
        let cols: Vec<String> = first
            .schema()
            .fields()
            .iter()
            .map(|f| ident(f.name()))
            .collect();
        let sink = tx
            .copy_in(&format!(
                "COPY {qualified} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                cols.join(", ")
            ))
            .await
            .map_err(|e| unavailable(db, format!("writing {table}: {e}")))?;
        let mut sink = Box::pin(sink);
        for b in batches {
            let mut buf = Vec::new();
            {
                let mut w = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(false)
                    .with_null("\\N".to_string())
                    .build(&mut buf);
                w.write(b)
                    .map_err(|e| RuntimeError::Internal(format!("CSV of rows: {e}")))?;
            }
            rows += b.num_rows() as u64;
            sink.send(bytes::Bytes::from(buf))
                .await
                .map_err(|e| unavailable(db, format!("writing {table}: {e}")))?;
        }
        sink.as_mut()
            .finish()
            .await
            .map_err(|e| unavailable(db, format!("writing {table}: {e}")))?;
    }
    tx.commit()
        .await
        .map_err(|e| unavailable(db, format!("committing {table}: {e}")))?;
    Ok(rows)
}

/// `batches` with date column `col` holding `date` on every row: added when missing,
/// checked when present.
fn with_date(
    batches: &[RecordBatch],
    col: &str,
    date: pipec_compiler::civil::Date,
    table: &str,
) -> Result<Vec<RecordBatch>, RuntimeError> {
    let day = date.to_string();
    let days = i32::try_from(date.start_ms() / pipec_compiler::civil::DAY_MS)
        .map_err(|_| RuntimeError::Internal(format!("date {day} out of range")))?;
    let mut out = Vec::with_capacity(batches.len());
    for b in batches {
        match b.schema().index_of(col) {
            Ok(i) => {
                let as_text = datafusion::arrow::compute::cast(b.column(i), &DataType::Utf8)
                    .map_err(|e| RuntimeError::Internal(format!("date column: {e}")))?;
                let as_text = as_text.as_string::<i32>();
                if let Some(bad) = (0..as_text.len())
                    .find(|r| as_text.is_null(*r) || !as_text.value(*r).starts_with(&day))
                {
                    return Err(RuntimeError::Query {
                        what: format!("table output `{table}`"),
                        reason: format!(
                            "row {} has `{col}` = {}, not the run's date {day}: a rerun could not \
                             replace it (leave `{col}` out of the SQL and pipec fills it in)",
                            bad + 1,
                            if as_text.is_null(bad) {
                                "NULL"
                            } else {
                                as_text.value(bad)
                            }
                        ),
                    });
                }
                out.push(b.clone());
            }
            Err(_) => {
                let mut fields: Vec<Field> = b
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                fields.push(Field::new(col, DataType::Date32, false));
                let mut cols = b.columns().to_vec();
                cols.push(Arc::new(Date32Array::from(vec![days; b.num_rows()])));
                out.push(
                    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
                        .map_err(|e| RuntimeError::Internal(format!("date column: {e}")))?,
                );
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_and_types_mapped() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/d"),
            "postgres://u:***@h:5432/d"
        );
        assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(arrow_type("character varying"), DataType::Utf8);
        assert_eq!(arrow_type("integer"), DataType::Int32);
        assert_eq!(arrow_type("double precision"), DataType::Float64);
        assert_eq!(
            arrow_type("timestamp without time zone"),
            DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        assert_eq!(timestamp_us("1970-01-02 00:00:01.5"), Some(86_401_500_000));
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn a_dated_table_gets_its_date_and_refuses_another() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
        let b = RecordBatch::try_new(
            schema,
            vec![Arc::new(datafusion::arrow::array::Int64Array::from(vec![
                1, 2,
            ]))],
        )
        .expect("batch");
        let date = pipec_compiler::civil::Date::parse("2024-11-28").expect("date");
        let dated = with_date(&[b], "day", date, "t").expect("dated");
        let day =
            datafusion::arrow::compute::cast(dated[0].column(1), &DataType::Utf8).expect("cast");
        assert_eq!(day.as_string::<i32>().value(1), "2024-11-28");
        let other = pipec_compiler::civil::Date::parse("2024-11-27").expect("date");
        let err = with_date(&dated, "day", other, "t").expect_err("another date");
        assert!(
            err.to_string().contains("not the run's date 2024-11-27"),
            "{err}"
        );
    }

    #[test]
    fn filters_translate_to_where() {
        use datafusion::prelude::{col, lit};
        let e = col("mdo_id").eq(lit("o'1")).and(col("n").gt(lit(3i64)));
        assert_eq!(
            to_sql(&e).as_deref(),
            Some("((\"mdo_id\" = 'o''1') AND (\"n\" > 3))")
        );
        assert_eq!(to_sql(&col("x").like(lit("a%"))), None);
    }
}
