//! API tokens for bearer authentication.
//!
//! Only a SHA-256 of each token is stored, so a copy of the database does not hand out
//! working credentials. Revoked tokens keep their row (with `revoked_at`): the name stays
//! attached to what it authored, and a revoked name is never given to a new token.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("api_tokens")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string("role"))
                .col(string("token_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ux_api_tokens_name").table("api_tokens").col("name").unique().to_owned())
            .await?;
        m.create_index(
            Index::create().name("ux_api_tokens_token_hash").table("api_tokens").col("token_hash").unique().to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("api_tokens").to_owned()).await
    }
}
