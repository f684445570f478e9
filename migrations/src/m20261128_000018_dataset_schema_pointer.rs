//! A dataset points at the version that carries its current schema (`schema_version_id`)
//! instead of holding a copy of the schema's fields (`schema_fields`).
//!
//! The copy repeated, for every dataset, the `fields` its newest version with a schema already
//! holds: a quarter of a dataset row (about 1 KB for 10-50 columns). Existing rows point at
//! the newest version whose fields equal the copy, so every schema reads the same afterwards.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("datasets").add_column(ColumnDef::new("schema_version_id").big_integer().null()).to_owned())
            .await?;
        // The newest version whose fields equal the copy (jsonb equality on PostgreSQL; on
        // SQLite both were written by the same serializer from the same value, so their text is
        // equal), else the newest one with a schema. Two subqueries: SQLite does not let a
        // subquery's ORDER BY name the updated row.
        m.get_connection()
            .execute_unprepared(
                r#"UPDATE "datasets" SET "schema_version_id" = COALESCE(
                     (SELECT v."id" FROM "dataset_versions" v
                      WHERE v."dataset_id" = "datasets"."id" AND v."schema_fields" = "datasets"."schema_fields"
                      ORDER BY v."created_at" DESC, v."id" DESC LIMIT 1),
                     (SELECT v."id" FROM "dataset_versions" v
                      WHERE v."dataset_id" = "datasets"."id" AND v."schema_fields" IS NOT NULL
                      ORDER BY v."created_at" DESC, v."id" DESC LIMIT 1))
                   WHERE "schema_fields" IS NOT NULL"#,
            )
            .await?;
        m.alter_table(Table::alter().table("datasets").drop_column("schema_fields").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("datasets").add_column(ColumnDef::new("schema_fields").json_binary().null()).to_owned())
            .await?;
        m.get_connection()
            .execute_unprepared(
                r#"UPDATE "datasets" SET "schema_fields" =
                     (SELECT v."schema_fields" FROM "dataset_versions" v WHERE v."id" = "datasets"."schema_version_id")
                   WHERE "schema_version_id" IS NOT NULL"#,
            )
            .await?;
        m.alter_table(Table::alter().table("datasets").drop_column("schema_version_id").to_owned()).await
    }
}
