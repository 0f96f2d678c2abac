//! The tables of a database as its DDL file declares them (`CREATE TABLE` statements, in
//! PostgreSQL's dialect): what `pipec check` plans a report's SQL against without
//! connecting to the database.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::ast::{AlterTableOperation, ObjectName, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::postgres::arrow_type;

/// Table name (without its schema, lower-cased as Postgres folds unquoted names) → its
/// columns, of every `CREATE TABLE` in `ddl` with the columns later `ALTER TABLE`s add or
/// drop. Other statements are skipped.
pub fn tables(ddl: &str) -> Result<BTreeMap<String, SchemaRef>, String> {
    // psql meta-commands (`\c warehouse`) are not SQL.
    let sql: String = ddl
        .lines()
        .filter(|l| !l.trim_start().starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n");
    let stmts = Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(|e| e.to_string())?;
    let mut out: BTreeMap<String, Vec<Field>> = BTreeMap::new();
    for s in stmts {
        match s {
            Statement::CreateTable(t) => {
                let fields = t.columns.iter().map(|c| field(&c.name.value, &c.data_type));
                out.insert(table_name(&t.name), fields.collect());
            }
            Statement::AlterTable(a) => {
                let name = table_name(&a.name);
                let Some(fields) = out.get_mut(&name) else {
                    if a.if_exists {
                        continue;
                    }
                    return Err(format!(
                        "ALTER TABLE {name}: no CREATE TABLE {name} before it"
                    ));
                };
                for op in &a.operations {
                    match op {
                        AlterTableOperation::AddColumn { column_def: c, .. } => {
                            fields.retain(|f| f.name() != &c.name.value);
                            fields.push(field(&c.name.value, &c.data_type));
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            fields.retain(|f| !column_names.iter().any(|n| &n.value == f.name()));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let out = out
        .into_iter()
        .map(|(n, f)| (n, Arc::new(Schema::new(f)) as SchemaRef))
        .collect();
    Ok(out)
}

/// The last part of a table name, unquoted, lower-cased.
fn table_name(name: &ObjectName) -> String {
    name.0
        .last()
        .map(|p| p.to_string().trim_matches('"').to_string())
        .unwrap_or_default()
        .to_lowercase()
}

fn field(name: &str, ty: &impl std::fmt::Display) -> Field {
    Field::new(name, arrow_type(&ty.to_string()), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn create_tables_are_read() {
        let ddl = "CREATE DATABASE w;\n\\c w;\nCREATE TABLE user_detail(\n user_id VARCHAR(255),\n mdo_created_on DATE,\n n INTEGER, r FLOAT\n);\nCREATE TABLE org(mdo_id VARCHAR(255) PRIMARY KEY NOT NULL);";
        let t = tables(ddl).expect("parses");
        assert_eq!(t.len(), 2);
        let u = &t["user_detail"];
        let types: Vec<(&str, &DataType)> = u
            .fields()
            .iter()
            .map(|f| (f.name().as_str(), f.data_type()))
            .collect();
        assert_eq!(
            types,
            vec![
                ("user_id", &DataType::Utf8),
                ("mdo_created_on", &DataType::Date32),
                ("n", &DataType::Int32),
                ("r", &DataType::Float64)
            ]
        );
        assert!(tables("CREATE TABLE x(a").is_err());
        let altered = tables(
            "CREATE TABLE t(a INTEGER, b DATE);\nALTER TABLE t ADD COLUMN c boolean;\nALTER TABLE t DROP COLUMN a;",
        )
        .expect("parses");
        let names: Vec<&str> = altered["t"]
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, vec!["b", "c"]);
        assert_eq!(altered["t"].field(1).data_type(), &DataType::Boolean);
        assert!(tables("ALTER TABLE nowhere ADD COLUMN c boolean;").is_err());
    }
}
