//! The DataFusion side of a report: one `SessionContext` per run with a memory limit and
//! spilling to disk, the report's SQL run statement by statement, and the same SQL planned
//! against declared columns for `pipec check` (unknown tables and columns found with their
//! line and column, before anything runs).

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement};

use crate::RuntimeError;

/// How a run's engine is set up.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Memory the engine may hold at once, bytes; past it, sorts and aggregations spill.
    pub memory_limit: usize,
    /// Where spill files go (the system's temporary directory when `None`).
    pub spill_dir: Option<PathBuf>,
    /// Threads that run a query's partitions.
    pub threads: usize,
    /// A fixed "now" for SQL's `now()` (epoch milliseconds): reruns and tests give the
    /// same rows. `None`: the clock.
    pub now_ms: Option<i64>,
}

impl Default for EngineOptions {
    /// Half of the memory the process may use (see [`default_memory_limit`]), every core.
    fn default() -> Self {
        EngineOptions {
            memory_limit: default_memory_limit(),
            spill_dir: None,
            threads: std::thread::available_parallelism().map_or(2, NonZeroUsize::get),
            now_ms: None,
        }
    }
}

/// Half of the memory this process may use: the machine's (`/proc/meminfo`) or, when less,
/// its cgroup's limit (a container's); 4 GiB when neither can be read; at least 256 MiB.
///
/// Half, not all: the limit is what DataFusion's pool accounts, which charges batches at
/// their buffers' capacity and a sort's input twice, so it runs well ahead of what the
/// process holds (the user-enrolment report at a 12 GiB limit peaks at 6.9 GB resident,
/// and fails at 6 GiB: BENCHMARKS.md).
pub fn default_memory_limit() -> usize {
    let machine = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map(|kb| kb.saturating_mul(1024))
    });
    let cgroup = [
        "/sys/fs/cgroup/memory.max",                   // cgroup v2
        "/sys/fs/cgroup/memory/memory.limit_in_bytes", // cgroup v1
    ]
    .iter()
    .find_map(|p| {
        std::fs::read_to_string(p)
            .ok()?
            .trim()
            .parse::<usize>()
            .ok()
    });
    let total = match (machine, cgroup) {
        (Some(m), Some(c)) => m.min(c),
        (m, c) => m.or(c).unwrap_or(4 << 30),
    };
    (total / 2).max(256 << 20)
}

/// A session for one run.
pub fn context(opts: &EngineOptions) -> Result<SessionContext, RuntimeError> {
    let pool = TrackConsumersPool::new(
        FairSpillPool::new(opts.memory_limit),
        NonZeroUsize::new(5).unwrap_or(NonZeroUsize::MIN),
    );
    let mut rt = RuntimeEnvBuilder::new().with_memory_pool(Arc::new(pool));
    if let Some(dir) = &opts.spill_dir {
        rt = rt.with_temp_file_path(dir);
    }
    let runtime = rt.build_arc().map_err(|e| RuntimeError::Config {
        what: format!("the query engine: {e}"),
    })?;
    let mut config = SessionConfig::new()
        .with_target_partitions(opts.threads.max(1))
        .with_information_schema(false);
    config.options_mut().sql_parser.collect_spans = true;
    // Parquet strings as plain `Utf8`, not views: a view array points into the buffers it was
    // read from, and what joins and sorts cut from it keeps them (and is charged for them).
    // Measured on the user-enrolment report over 10 million Parquet rows (BENCHMARKS.md):
    // 65.5 s and 6.3 GB peak with views, 46.0 s and 5.2 GB without.
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    if let Some(ms) = opts.now_ms {
        ctx.register_udf(fixed_now(ms));
    }
    Ok(ctx)
}

/// `now()` that always gives `ms` (UTC), in place of the built-in one.
fn fixed_now(ms: i64) -> datafusion::logical_expr::ScalarUDF {
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
    let tz: Arc<str> = Arc::from("+00:00");
    let ty = DataType::Timestamp(TimeUnit::Nanosecond, Some(Arc::clone(&tz)));
    create_udf(
        "now",
        vec![],
        ty,
        Volatility::Stable,
        Arc::new(move |_| {
            Ok(ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(
                Some(ms.saturating_mul(1_000_000)),
                Some(Arc::clone(&tz)),
            )))
        }),
    )
}

/// The statements of a SQL file.
pub fn statements(sql: &str) -> Result<Vec<Statement>, datafusion::error::DataFusionError> {
    Ok(DFParser::parse_sql(sql)?.into_iter().collect())
}

/// Runs every statement of `sql` (a `CREATE VIEW` registers its view) and gives the last
/// one's result.
pub async fn run_sql(
    ctx: &SessionContext,
    sql: &str,
    what: &str,
) -> Result<DataFrame, RuntimeError> {
    let query = |e: datafusion::error::DataFusionError| RuntimeError::Query {
        what: what.to_string(),
        reason: e.to_string(),
    };
    let stmts = statements(sql).map_err(query)?;
    let mut last = None;
    for stmt in stmts {
        let plan = ctx.state().statement_to_plan(stmt).await.map_err(query)?;
        last = Some(ctx.execute_logical_plan(plan).await.map_err(query)?);
    }
    last.ok_or_else(|| RuntimeError::Query {
        what: what.to_string(),
        reason: "the SQL file has no statement".into(),
    })
}

/// A table the SQL of a report may read, with its columns.
#[derive(Debug, Clone)]
pub struct SqlTable {
    /// The name the SQL uses (the input's name).
    pub name: String,
    /// Its columns.
    pub schema: SchemaRef,
}

/// A problem `pipec check` reports in a report's SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlProblem {
    /// `PC0805` (unknown table or column) or `PC0806` (any other error).
    pub code: &'static str,
    /// Where, 1-based line and column of the SQL text, start and end (inclusive of the
    /// start, exclusive of the end); `None` when the engine gives no place.
    pub span: Option<((u64, u64), (u64, u64))>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: Option<String>,
}

/// Plans every statement of `sql` against `tables` (no data is read) and gives every
/// problem found.
pub async fn check_sql(sql: &str, tables: &[SqlTable]) -> Vec<SqlProblem> {
    let ctx = match context(&EngineOptions {
        memory_limit: 64 << 20,
        spill_dir: None,
        threads: 1,
        now_ms: None,
    }) {
        Ok(c) => c,
        Err(e) => return vec![problem("PC0806", None, e.to_string(), None)],
    };
    for t in tables {
        if let Ok(mem) = MemTable::try_new(Arc::clone(&t.schema), vec![vec![]]) {
            let _ = ctx.register_table(t.name.as_str(), Arc::new(mem));
        }
    }
    let stmts = match statements(sql) {
        Ok(s) => s,
        Err(e) => return vec![parse_problem(sql, &e)],
    };
    let known: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut out = Vec::new();
    for stmt in stmts {
        match ctx.state().statement_to_plan(stmt).await {
            Ok(plan) => {
                // Views register themselves for the statements after them.
                if let Err(e) = ctx.execute_logical_plan(plan).await {
                    out.extend(problems(&e, &known, sql));
                }
            }
            Err(e) => out.extend(problems(&e, &known, sql)),
        }
    }
    out
}

fn problem(
    code: &'static str,
    span: Option<((u64, u64), (u64, u64))>,
    message: String,
    help: Option<String>,
) -> SqlProblem {
    SqlProblem {
        code,
        span,
        message,
        help,
    }
}

/// The problems of a planning error (several when the planner collected them).
fn problems(e: &datafusion::error::DataFusionError, known: &[&str], sql: &str) -> Vec<SqlProblem> {
    e.iter()
        .map(|one| {
            let text = one.strip_backtrace();
            let d = one.diagnostic();
            let mut span = d
                .and_then(|d| d.span)
                .map(|s| ((s.start.line, s.start.column), (s.end.line, s.end.column)));
            let lower = text.to_ascii_lowercase();
            // Some planning errors (a qualified column of a join) come without a place: the
            // first use of the name in the SQL is where it is.
            if span.is_none()
                && let Some(i) = text.find("No field named ")
            {
                let name: String = text[i + "No field named ".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '"'))
                    .collect();
                span = locate(sql, name.trim_end_matches('.'));
            }
            let unknown_table = lower.contains("table") && lower.contains("not found");
            let unknown_column = lower.contains("no field named")
                || lower.contains("not found")
                    && (lower.contains("column") || lower.contains("field"));
            let code = if unknown_table || unknown_column {
                "PC0805"
            } else {
                "PC0806"
            };
            let mut help = d
                .map(|d| {
                    d.helps
                        .iter()
                        .map(|h| h.message.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            if unknown_table && let Some(name) = quoted(&text) {
                match pipec_compiler::suggest::suggest(&name, known.iter().copied()) {
                    Some(s) => help.push(format!("did you mean `{s}`?")),
                    None => help.push(format!(
                        "the report's inputs are: {}",
                        if known.is_empty() {
                            "(none)".to_string()
                        } else {
                            known.join(", ")
                        }
                    )),
                }
            }
            let message = d.map_or_else(
                || {
                    let end = ["Did you mean", "Valid fields are"]
                        .iter()
                        .filter_map(|m| text.find(m))
                        .min()
                        .unwrap_or(text.len());
                    text[..end].trim_end().to_string()
                },
                |d| d.message.clone(),
            );
            // The engine's own "did you mean" is in the error text, not the diagnostic.
            if let Some(i) = text.find("Did you mean") {
                help.push(text[i..].trim_end_matches('?').to_string() + "?");
            } else if let Some(i) = text.find("Valid fields are") {
                help.push(text[i..].to_string());
            }
            problem(
                code,
                span,
                message,
                (!help.is_empty()).then(|| help.join("; ")),
            )
        })
        .collect()
}

/// Line and column (from 1, in characters) of the first whole-word use of `name` in `sql`
/// outside `--` comments, case-insensitively.
fn locate(sql: &str, name: &str) -> Option<((u64, u64), (u64, u64))> {
    if name.is_empty() {
        return None;
    }
    let want = name.to_lowercase();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
    for (n, line) in sql.lines().enumerate() {
        let code = line.split("--").next().unwrap_or("").to_lowercase();
        let mut from = 0;
        while let Some(i) = code[from..].find(&want).map(|i| i + from) {
            let end = i + want.len();
            if !word(code[..i].chars().next_back()) && !word(code[end..].chars().next()) {
                let col = code[..i].chars().count() as u64 + 1;
                let len = want.chars().count() as u64;
                return Some(((n as u64 + 1, col), (n as u64 + 1, col + len)));
            }
            from = end;
        }
    }
    None
}

/// A SQL syntax error, placed at the line and column the parser gives.
fn parse_problem(sql: &str, e: &datafusion::error::DataFusionError) -> SqlProblem {
    let text = e.strip_backtrace();
    let span = text.rfind(" at Line: ").and_then(|i| {
        let rest = &text[i + " at Line: ".len()..];
        let (line, rest) = rest.split_once(", Column: ")?;
        let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let (line, col) = (line.parse::<u64>().ok()?, col.parse::<u64>().ok()?);
        Some(((line, col), (line, col + 1)))
    });
    let _ = sql;
    problem("PC0806", span, text, None)
}

/// The first `'quoted'` name of an error text.
fn quoted(text: &str) -> Option<String> {
    let start = text.find('\'')? + 1;
    let len = text[start..].find('\'')?;
    let name = &text[start..start + len];
    Some(name.rsplit('.').next().unwrap_or(name).to_string())
}

/// The Arrow type of a column type of the spec (`string`, `int`, `float`, `bool`, `date`,
/// `timestamp`).
pub fn spec_type(t: &str) -> Option<DataType> {
    Some(match t {
        "string" => DataType::Utf8,
        "int" => DataType::Int64,
        "float" => DataType::Float64,
        "bool" => DataType::Boolean,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, None),
        _ => return None,
    })
}

/// The schema of declared `columns` (name → spec type), all nullable.
pub fn declared_schema(columns: &[(String, String)]) -> Result<SchemaRef, RuntimeError> {
    let fields = columns
        .iter()
        .map(|(n, t)| {
            spec_type(t)
                .map(|ty| Field::new(n, ty, true))
                .ok_or_else(|| RuntimeError::Config {
                    what: format!("column `{n}`: unknown type `{t}`"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> SqlTable {
        SqlTable {
            name: "user_detail".into(),
            schema: declared_schema(&[
                ("user_id".into(), "string".into()),
                ("mdo_id".into(), "string".into()),
                ("full_name".into(), "string".into()),
            ])
            .expect("schema"),
        }
    }

    #[tokio::test]
    async fn a_misspelt_column_is_found_at_its_line_and_column() {
        let sql = "SELECT user_id,\n       full_nmae\nFROM user_detail";
        let found = check_sql(sql, &[users()]).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, "PC0805");
        assert_eq!(found[0].span, Some(((2, 8), (2, 17))), "{found:?}");
        let help = found[0].help.clone().unwrap_or_default();
        assert!(help.contains("full_name"), "{help}");
    }

    #[tokio::test]
    async fn a_misspelt_qualified_column_of_a_join_is_placed_too() {
        // DataFusion gives this one no span: it is found in the text, past the comment that
        // mentions it.
        let sql = "-- u.mdo_idd is wrong\nSELECT u.user_id\nFROM user_detail u JOIN user_detail o\n  ON o.user_id = u.user_id\nWHERE u.mdo_idd = 'x'";
        let found = check_sql(sql, &[users()]).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, "PC0805");
        assert_eq!(found[0].span, Some(((5, 7), (5, 16))), "{found:?}");
        assert!(
            !found[0].message.contains("Valid fields"),
            "{}",
            found[0].message
        );
        assert_eq!(locate("SELECT ab, a FROM t", "a"), Some(((1, 12), (1, 13))));
        assert_eq!(locate("SELECT b", "a"), None);
    }

    #[tokio::test]
    async fn an_unknown_table_suggests_an_input() {
        let found = check_sql("SELECT 1 FROM user_details", &[users()]).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, "PC0805");
        assert!(
            found[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("user_detail"),
            "{found:?}"
        );
    }

    #[tokio::test]
    async fn views_are_seen_by_later_statements_and_good_sql_passes() {
        let sql = "CREATE VIEW v AS SELECT mdo_id, count(*) AS n FROM user_detail GROUP BY mdo_id;\nSELECT mdo_id, n FROM v ORDER BY n DESC";
        assert_eq!(check_sql(sql, &[users()]).await, vec![]);
        let bad = check_sql("SELEC 1", &[users()]).await;
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].code, "PC0806");
    }
}
