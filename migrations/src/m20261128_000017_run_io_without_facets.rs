//! `run_io` no longer keeps the input/output facets a run reported for each dataset.
//!
//! Nothing read them back: what Weir uses from them (assertions, output statistics) is stored
//! as observations when the event arrives, and the raw-event archive keeps every event as it
//! was sent. They were a tenth of the database (about 0.9 KB per event at the benchmark's
//! default size), and the merge of the COMPLETE's facets into the START's was writer work.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("run_io").drop_column("facets").to_owned()).await
    }

    /// The column comes back empty (`{}`): the dropped facets are only in the raw archive.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("run_io").add_column(ColumnDef::new("facets").json_binary().not_null().default("{}")).to_owned())
            .await
    }
}
