//! A report's inputs, registered as tables of its session under their names: files
//! (CSV, NDJSON, Parquet; local or object store; globs) read by DataFusion's listing
//! tables, a backup of a date (its files; gzip ones decompressed to the spill directory
//! first), and PostgreSQL tables. In a test, an input's data comes from the test instead.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::prelude::SessionContext;
use pipec_compiler::civil::Date;
use pipec_compiler::manifest::{self, FileFormat as Format, Manifest};

use super::engine::declared_schema;
use super::paths::{fill, glob_match, input_date, list_prefix};
use super::storage::{Listed, Root};
use crate::RuntimeError;

/// What an input read from: shown in the run's summary.
#[derive(Debug, Clone)]
pub struct Source {
    /// The input's name.
    pub name: String,
    /// What it reads (`backups/x/2024-01-01/ (3 files)`, `warehouse.user_detail`).
    pub from: String,
    /// The file URLs it reads, to find its rows among the plan's scans.
    pub urls: Vec<String>,
    /// Rows read, counted by the input itself (database tables).
    pub counted: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// The files of a backup or a `path` input for a date, and their format.
pub async fn files_of(
    manifest: &Manifest,
    data: &Root,
    name: &str,
    input: &manifest::ReportInput,
    run: Date,
) -> Result<(Vec<Listed>, Format, String), RuntimeError> {
    let day = input_date(run, input.date.as_deref())?;
    let (pattern, format) = if let Some(b) = &input.backup {
        let def = manifest
            .backups
            .get(b)
            .ok_or_else(|| RuntimeError::Config {
                what: format!("input `{name}`: no backup `{b}` in the manifest"),
            })?;
        let mut p = fill(&def.path, day, None);
        if !p.ends_with('/') {
            p.push('/');
        }
        (p, def.format)
    } else if let Some(p) = &input.path {
        (fill(p, day, None), input.format.unwrap_or(Format::Ndjson))
    } else {
        return Err(RuntimeError::Internal(format!(
            "input `{name}` has no files"
        )));
    };
    let listed: Vec<Listed> = data
        .list(list_prefix(&pattern))
        .await?
        .into_iter()
        .filter(|l| glob_match(&pattern, &l.key))
        .collect();
    if listed.is_empty() {
        return Err(RuntimeError::Config {
            what: format!(
                "input `{name}`: no files match `{pattern}` (data for {day}) under {}",
                data.url("")?
            ),
        });
    }
    Ok((listed, format, pattern))
}

/// Registers `input` in `ctx` as table `name`.
pub async fn register(
    ctx: &SessionContext,
    manifest: &Manifest,
    data: &Root,
    spill: &std::path::Path,
    name: &str,
    input: &manifest::ReportInput,
    run: Date,
) -> Result<Source, RuntimeError> {
    if let Some(t) = &input.table {
        let (db, table) = t.split_once('.').ok_or_else(|| RuntimeError::Config {
            what: format!("input `{name}`: `{t}` is not `database.table`"),
        })?;
        let def = manifest
            .databases
            .get(db)
            .ok_or_else(|| RuntimeError::Config {
                what: format!("input `{name}`: no database `{db}` in the manifest"),
            })?;
        let pg = super::postgres::PgTable::open(db, def, table).await?;
        let counted = pg.rows_read();
        ctx.register_table(name, Arc::new(pg))
            .map_err(|e| query(name, &e))?;
        return Ok(Source {
            name: name.into(),
            from: t.clone(),
            urls: Vec::new(),
            counted: Some(counted),
        });
    }
    let (files, format, pattern) = files_of(manifest, data, name, input, run).await?;
    let mut urls = Vec::with_capacity(files.len());
    for f in &files {
        if f.key.ends_with(".gz") {
            // Decompressed beside the run's spill files: DataFusion is built without codecs.
            let bytes = data.read(&f.key).await?;
            let plain = super::events::gunzip(&bytes, &f.key)?;
            let local = spill.join(format!("{name}-{}.ndjson", urls.len()));
            super::storage::write_synced(&local, &plain)?;
            urls.push(format!("file://{}", local.display()));
        } else {
            urls.push(data.url(&f.key)?);
        }
    }
    let declared: Vec<(String, String)> = input.columns.0.clone();
    let schema = if declared.is_empty() {
        None
    } else {
        Some(declared_schema(&declared)?)
    };
    let table = listing(ctx, name, &urls, format, schema).await?;
    ctx.register_table(name, table)
        .map_err(|e| query(name, &e))?;
    Ok(Source {
        name: name.into(),
        from: format!(
            "{pattern} ({} file{})",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ),
        urls,
        counted: None,
    })
}

/// A listing table over files, of a declared schema or one inferred from the files.
pub async fn listing(
    ctx: &SessionContext,
    name: &str,
    urls: &[String],
    format: Format,
    schema: Option<SchemaRef>,
) -> Result<Arc<dyn TableProvider>, RuntimeError> {
    let paths = urls
        .iter()
        .map(ListingTableUrl::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| query(name, &e))?;
    let file_format: Arc<dyn FileFormat> = match format {
        Format::Csv => Arc::new(CsvFormat::default().with_has_header(true)),
        Format::Ndjson => Arc::new(JsonFormat::default()),
        Format::Parquet => Arc::new(ParquetFormat::default()),
    };
    let options = ListingOptions::new(file_format).with_file_extension("");
    let config = ListingTableConfig::new_with_multi_paths(paths).with_listing_options(options);
    let config = match schema {
        Some(s) => config.with_schema(s),
        None => config
            .infer_schema(&ctx.state())
            .await
            .map_err(|e| query(name, &e))?,
    };
    let table = ListingTable::try_new(config).map_err(|e| query(name, &e))?;
    Ok(Arc::new(table))
}

/// Registers test data as table `name`: rows given inline (JSON objects) and files of
/// the input's format.
pub async fn register_test(
    ctx: &SessionContext,
    name: &str,
    input: &manifest::ReportInput,
    manifest: &Manifest,
    data: &pipec_compiler::manifest::spec_tests::TestData,
) -> Result<Source, RuntimeError> {
    let format = match (&input.backup, input.format) {
        (Some(b), _) => manifest.backups.get(b).map_or(Format::Ndjson, |d| d.format),
        (None, Some(f)) => f,
        (None, None) if input.table.is_some() => Format::Csv,
        (None, None) => Format::Ndjson,
    };
    let declared: Vec<(String, String)> = input.columns.0.clone();
    let schema = if let Some(t) = &input.table {
        // A table's rows given as files read with the table's columns, as its database's
        // DDL declares them (the CSV's header names them in the same order).
        Some(ddl_table(manifest, t)?)
    } else if declared.is_empty() {
        None
    } else {
        Some(declared_schema(&declared)?)
    };
    let mut urls = Vec::new();
    for f in &data.files {
        let abs = std::fs::canonicalize(f).map_err(|e| RuntimeError::Io {
            what: format!("test input `{}`", f.display()),
            reason: e.to_string(),
        })?;
        urls.push(format!("file://{}", abs.display()));
    }
    let table: Arc<dyn TableProvider> = if !data.rows.is_empty() {
        let batch = super::rows::json_to_batch(&data.rows, schema.clone())?;
        Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(|e| query(name, &e))?)
    } else {
        listing(ctx, name, &urls, format, schema).await?
    };
    ctx.register_table(name, table)
        .map_err(|e| query(name, &e))?;
    Ok(Source {
        name: name.into(),
        from: "the test's data".into(),
        urls,
        counted: None,
    })
}

/// The columns of `database.table` as the database's DDL file declares them.
fn ddl_table(manifest: &Manifest, qualified: &str) -> Result<SchemaRef, RuntimeError> {
    let config = |what: String| RuntimeError::Config { what };
    let (db, table) = qualified
        .split_once('.')
        .ok_or_else(|| config(format!("table `{qualified}` is not `database.table`")))?;
    let def = manifest
        .databases
        .get(db)
        .ok_or_else(|| config(format!("no database `{db}` for table `{qualified}`")))?;
    let ddl = def.ddl.as_ref().ok_or_else(|| {
        config(format!(
            "a test gives files for `{qualified}`, but database `{db}` has no `ddl` to read its columns from"
        ))
    })?;
    let tables = super::ddl::tables(&ddl.text)
        .map_err(|e| config(format!("the DDL `{}` does not parse: {e}", ddl.path)))?;
    tables
        .get(&table.to_lowercase())
        .cloned()
        .ok_or_else(|| config(format!("the DDL `{}` has no table `{table}`", ddl.path)))
}

fn query(name: &str, e: &datafusion::error::DataFusionError) -> RuntimeError {
    RuntimeError::Query {
        what: format!("input `{name}`"),
        reason: e.to_string(),
    }
}
