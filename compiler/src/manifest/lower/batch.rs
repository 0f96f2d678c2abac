//! Lowering the batch half: backups and reports (their SQL read and digested).

use std::collections::BTreeMap;
use std::path::Path;

use super::super::*;
use super::*;
use crate::spec::{self, Spanned};

use super::super::batch::{DEFAULT_ROLL_AGE_MS, DEFAULT_ROLL_SIZE};

impl Cx<'_, '_> {
    pub(super) fn backups(&self) -> BTreeMap<String, Backup> {
        self.ix
            .backups
            .items
            .iter()
            .map(|b| {
                (
                    b.name.value.clone(),
                    Backup {
                        topic: b.def.topic.value.clone(),
                        path: b.def.path.value.clone(),
                        format: b
                            .def
                            .format
                            .as_ref()
                            .map_or(FileFormat::Ndjson, |f| f.value),
                        partition: b
                            .def
                            .partition
                            .as_ref()
                            .map_or(BackupPartition::Daily, |p| p.value),
                        compression: b
                            .def
                            .compression
                            .as_ref()
                            .map_or(Compression::None, |c| c.value),
                        time_field: text(&b.def.time_field),
                        roll_size: b
                            .def
                            .roll
                            .as_ref()
                            .and_then(|r| r.size.as_ref())
                            .and_then(|s| crate::units::parse_size(&s.value).ok())
                            .unwrap_or(DEFAULT_ROLL_SIZE),
                        roll_age_ms: b
                            .def
                            .roll
                            .as_ref()
                            .and_then(|r| r.age.as_ref())
                            .and_then(|a| crate::units::parse_duration(&a.value).ok())
                            .unwrap_or(DEFAULT_ROLL_AGE_MS),
                    },
                )
            })
            .collect()
    }

    pub(super) fn databases(&self) -> Result<BTreeMap<String, Database>, String> {
        let mut out = BTreeMap::new();
        for d in &self.ix.databases.items {
            let ddl = match &d.def.ddl {
                Some(p) => Some(self.sql_file(d.dir, &p.value)?),
                None => None,
            };
            out.insert(
                d.name.value.clone(),
                Database {
                    url: d.def.postgres.value.clone(),
                    schema: text(&d.def.schema).unwrap_or_else(|| "public".into()),
                    ddl,
                    password: d.def.password.as_ref().map(secret),
                },
            );
        }
        Ok(out)
    }

    /// Reads and digests a SQL file of the spec.
    fn sql_file(&self, dir: &Path, p: &str) -> Result<SqlFile, String> {
        let path = rel(dir, p);
        let text = self
            .ix
            .files
            .read_text(&path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        Ok(SqlFile {
            path: self.id(&path),
            sha256: sha256_hex(text.as_bytes()),
            text,
        })
    }

    pub(super) fn report(
        &self,
        name: &Spanned<String>,
        def: &spec::Report,
        dir: &Path,
    ) -> Result<Report, String> {
        let o = self.over.and_then(|o| o.reports.get(&name.value));
        let sql = match &def.sql {
            Some(p) => Some(self.sql_file(dir, &p.value)?),
            None => None,
        };
        Ok(Report {
            description: def.description.as_ref().map(|d| d.value.clone()),
            schedule: o
                .and_then(|o| o.schedule.as_ref())
                .unwrap_or(&def.schedule)
                .value
                .clone(),
            model: text(&def.model),
            sql,
            params: values(&def.params),
            inputs: Ordered(
                def.inputs
                    .iter()
                    .map(|(k, i)| {
                        (
                            k.value.clone(),
                            ReportInput {
                                backup: text(&i.backup),
                                path: text(&i.path),
                                format: i.format.as_ref().map(|f| f.value),
                                date: text(&i.date),
                                table: text(&i.table),
                                columns: exprs(&i.columns),
                                filter: text(&i.filter),
                            },
                        )
                    })
                    .collect(),
            ),
            outputs: Ordered(
                def.outputs
                    .iter()
                    .map(|(k, o)| {
                        (
                            k.value.clone(),
                            ReportOutput {
                                topic: text(&o.topic),
                                path: text(&o.path),
                                format: o.format.as_ref().map(|f| f.value),
                                partition_by: text(&o.partition_by),
                                table: text(&o.table),
                                date_column: text(&o.date_column),
                            },
                        )
                    })
                    .collect(),
            ),
        })
    }
}
