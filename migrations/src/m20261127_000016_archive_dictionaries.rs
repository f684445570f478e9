//! Compression dictionaries for the raw-event archive.
//!
//! Events of one deployment repeat the same keys, producer and schema URLs, namespaces and
//! column names; gzip, compressing each event alone, cannot use what the others share. Once
//! a database holds enough events, Weir trains a zstd dictionary on them and compresses later
//! events with it (0.57 KB instead of 1.46 KB for the benchmark's 5.9 KB events). Rows keep
//! their format: a gzip payload stays gzip, and a zstd payload names its dictionary in its
//! frame header, which is this table's key. Dictionaries are never removed: rows of any age
//! may need one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("archive_dictionaries")
                // zstd's dictionary id, as written in each frame compressed with it.
                .col(big_integer("id").primary_key())
                .col(blob("dictionary"))
                // How many archived events it was trained on, and when.
                .col(integer("samples"))
                .col(timestamp_with_time_zone("trained_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Rows compressed with a dictionary could not be read without it.
        let in_use = m.get_connection().query_one_raw(sea_orm::Statement::from_string(
            m.get_database_backend(),
            "SELECT 1 FROM archive_dictionaries LIMIT 1",
        ));
        if in_use.await?.is_some() {
            return Err(DbErr::Migration(
                "archive_dictionaries holds dictionaries that archived events may need; export the archive first".into(),
            ));
        }
        m.drop_table(Table::drop().table("archive_dictionaries").to_owned()).await
    }
}
