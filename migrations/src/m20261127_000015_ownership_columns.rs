//! The `ownership` facet of datasets and jobs in a column of its own, beside the merged
//! `facets` it is also part of.
//!
//! An incident's blast radius names the owners of hundreds of downstream nodes. Read from
//! `facets`, each one's whole document (schema, statistics, column lineage: kilobytes) was
//! parsed by the database to extract the one facet: a tenth of the work of an event that opens
//! an incident. Existing rows are filled by one `UPDATE` per table and backend (extracting a
//! member of a JSON column is written differently on each).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["datasets", "jobs"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            m.alter_table(Table::alter().table(table).add_column(ColumnDef::new("ownership").json_binary().null()).to_owned())
                .await?;
            let fill = match m.get_database_backend() {
                DatabaseBackend::Postgres => {
                    format!(r#"UPDATE "{table}" SET "ownership" = "facets" -> 'ownership' WHERE "facets" -> 'ownership' IS NOT NULL"#)
                }
                _ => format!(r#"UPDATE "{table}" SET "ownership" = "facets" -> '$.ownership' WHERE "facets" -> '$.ownership' IS NOT NULL"#),
            };
            m.get_connection().execute_unprepared(&fill).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            m.alter_table(Table::alter().table(table).drop_column("ownership").to_owned()).await?;
        }
        Ok(())
    }
}
