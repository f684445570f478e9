//! API tokens: stored by hash, never deleted (revocation sets `revoked_at`).

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::api_token;
use super::{Store, StoreError};
use crate::auth::{Role, TokenRecord};

fn record(row: api_token::Model) -> Result<TokenRecord, StoreError> {
    let role = row
        .role
        .parse::<Role>()
        .map_err(|e| StoreError::Corrupt(format!("token `{}`: {e}", row.name)))?;
    Ok(TokenRecord { name: row.name, role, created_at: row.created_at, revoked_at: row.revoked_at })
}

impl Store {
    pub async fn insert_token(&self, token: &TokenRecord, token_hash: &str) -> Result<(), StoreError> {
        let row = api_token::ActiveModel {
            name: Set(token.name.clone()),
            role: Set(token.role.as_str().to_string()),
            token_hash: Set(token_hash.to_string()),
            created_at: Set(token.created_at),
            revoked_at: Set(token.revoked_at),
            ..Default::default()
        };
        api_token::Entity::insert(row).exec_without_returning(&self.db).await?;
        Ok(())
    }

    /// Every token, revoked ones included, oldest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = api_token::Entity::find().order_by_asc(api_token::Column::Id).all(&self.db).await?;
        rows.into_iter().map(record).collect()
    }

    pub async fn token_by_name(&self, name: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row = api_token::Entity::find().filter(api_token::Column::Name.eq(name)).one(&self.db).await?;
        row.map(record).transpose()
    }

    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row = api_token::Entity::find().filter(api_token::Column::TokenHash.eq(token_hash)).one(&self.db).await?;
        row.map(record).transpose()
    }

    pub async fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, sea_orm::sea_query::Expr::value(Some(at)))
            .filter(api_token::Column::Name.eq(name))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    pub async fn any_token_exists(&self) -> Result<bool, StoreError> {
        let first: Option<i64> = api_token::Entity::find()
            .select_only()
            .column(api_token::Column::Id)
            .limit(1)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(first.is_some())
    }
}
