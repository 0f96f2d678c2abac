//! The tables of a database as its DDL file declares them (`CREATE TABLE` statements, in
//! PostgreSQL's dialect): what `pipec check` plans a report's SQL against without
//! connecting to the database.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::postgres::arrow_type;

/// Table name (without its schema, lower-cased as Postgres folds unquoted names) → its
/// columns, of every `CREATE TABLE` in `ddl`. Other statements are skipped.
pub fn tables(ddl: &str) -> Result<BTreeMap<String, SchemaRef>, String> {
    // psql meta-commands (`\c warehouse`) are not SQL.
    let sql: String = ddl
        .lines()
        .filter(|l| !l.trim_start().starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n");
    let stmts = Parser::parse_sql(&PostgreSqlDialect {}, &sql).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for s in stmts {
        if let Statement::CreateTable(t) = s {
            let name = t
                .name
                .0
                .last()
                .map(|p| p.to_string().trim_matches('"').to_string())
                .unwrap_or_default();
            let fields: Vec<Field> = t
                .columns
                .iter()
                .map(|c| {
                    Field::new(
                        c.name.value.clone(),
                        arrow_type(&c.data_type.to_string()),
                        true,
                    )
                })
                .collect();
            out.insert(
                name.to_lowercase(),
                Arc::new(Schema::new(fields)) as SchemaRef,
            );
        }
    }
    Ok(out)
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
    }
}
