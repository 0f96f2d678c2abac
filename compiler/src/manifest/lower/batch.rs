//! Lowering the batch half: backups and reports (their SQL read and digested).

use std::collections::BTreeMap;
use std::path::Path;

use super::super::*;
use super::*;
use crate::spec::{self, Spanned};

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
                    },
                )
            })
            .collect()
    }

    pub(super) fn report(
        &self,
        name: &Spanned<String>,
        def: &spec::Report,
        dir: &Path,
    ) -> Result<Report, String> {
        let o = self.over.and_then(|o| o.reports.get(&name.value));
        let sql = match &def.sql {
            Some(p) => {
                let path = rel(dir, &p.value);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                Some(SqlFile {
                    path: self.id(&path),
                    sha256: sha256_hex(text.as_bytes()),
                    text,
                })
            }
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
                            },
                        )
                    })
                    .collect(),
            ),
        })
    }
}
