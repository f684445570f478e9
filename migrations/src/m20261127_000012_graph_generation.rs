//! A generation number for the current lineage graph, so that a replica can keep the graph in
//! memory and catch up on what other writers changed by reading only the edges that changed.
//!
//! * `graph_state` holds one row: the generation of the last committed change to the current
//!   graph. A transaction that adds or retires edges bumps it as the last thing before it
//!   commits, so it holds that row's lock only while committing.
//! * `lineage_edges.generation` is the generation of the row's last change (its insert or its
//!   retirement): -1 while the transaction that changed it is still open, 0 for edges from
//!   before this migration. Changes since generation *g* are the rows with `generation > g`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_lineage_edges_generation";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("graph_state")
                .col(ColumnDef::new("id").big_integer().not_null().primary_key())
                .col(ColumnDef::new("generation").big_integer().not_null())
                .to_owned(),
        )
        .await?;
        let mut first = Query::insert();
        first.into_table("graph_state").columns(["id", "generation"]);
        first.values([1.into(), 0.into()]).map_err(|e| DbErr::Custom(e.to_string()))?;
        m.exec_stmt(first).await?;
        m.alter_table(
            Table::alter()
                .table("lineage_edges")
                .add_column(ColumnDef::new("generation").big_integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name(INDEX).table("lineage_edges").col("generation").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table("lineage_edges").to_owned()).await?;
        m.alter_table(Table::alter().table("lineage_edges").drop_column("generation").to_owned()).await?;
        m.drop_table(Table::drop().table("graph_state").to_owned()).await
    }
}
