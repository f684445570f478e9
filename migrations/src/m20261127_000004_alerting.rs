//! Incidents with their timeline, alert channels, and the alert outbox.
//!
//! The outbox is written in the same transaction as the change that causes an alert and is
//! drained by a background worker; `claimed_until` is a lease, so a worker that dies
//! mid-delivery only delays the alert, and two workers never send the same row at once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("incidents")
                .col(big_pk_auto("id"))
                .col(big_integer("dataset_id"))
                .col(string("rule_id"))
                .col(string("status"))
                // 'active' while open or acknowledged, NULL once resolved: with the unique index
                // below, at most one active incident per (dataset, rule).
                .col(string_null("active_key"))
                .col(big_integer("opening_check_id"))
                .col(json_binary("blast_radius"))
                .col(timestamp_with_time_zone("opened_at"))
                .col(timestamp_with_time_zone_null("acknowledged_at"))
                .col(string_null("acknowledged_by"))
                .col(timestamp_with_time_zone_null("resolved_at"))
                .col(string_null("resolved_by"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_incidents_dataset_rule_active")
                .table("incidents")
                .col("dataset_id")
                .col("rule_id")
                .col("active_key")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_incidents_status").table("incidents").col("status").to_owned()).await?;

        m.create_table(
            Table::create()
                .table("incident_events")
                .col(big_pk_auto("id"))
                .col(big_integer("incident_id"))
                .col(string("kind"))
                .col(string_null("actor"))
                .col(text_null("note"))
                .col(json_binary_null("details"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_incident_events_incident_id").table("incident_events").col("incident_id").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("alert_channels")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string("kind"))
                .col(text("url"))
                .col(string_null("secret"))
                .col(json_binary("filter"))
                .col(boolean("enabled"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ux_alert_channels_name").table("alert_channels").col("name").unique().to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("alert_outbox")
                .col(big_pk_auto("id"))
                .col(big_integer("channel_id"))
                .col(string("delivery_id"))
                .col(string("event"))
                .col(json_binary("payload"))
                // pending, delivered, failed
                .col(string("status"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("claimed_until"))
                .col(text_null("last_error"))
                .col(integer_null("last_status"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_alert_outbox_status_next_attempt_at")
                .table("alert_outbox")
                .col("status")
                .col("next_attempt_at")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["alert_outbox", "alert_channels", "incident_events", "incidents"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
