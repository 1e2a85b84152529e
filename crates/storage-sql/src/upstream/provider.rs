//! The upstream providers, in table `upstream_oauth_providers`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::UpstreamProvider;
use portcullis_storage::{StorageError, UpstreamProviderRepository};
use sqlx::types::Json;

use crate::{
    repository::{SqlRepository, on_backend},
    types::DbTime,
};

/// The columns every query returns, in [`UpstreamProviderRow`]'s order.
macro_rules! columns {
    () => {
        "upstream_oauth_provider_id, issuer, human_name, brand_name, encrypted_client_secret, \
         config, created_at, disabled_at"
    };
}

#[derive(sqlx::FromRow)]
struct UpstreamProviderRow {
    upstream_oauth_provider_id: String,
    issuer: Option<String>,
    human_name: Option<String>,
    brand_name: Option<String>,
    encrypted_client_secret: Option<String>,
    config: Json<serde_json::Value>,
    created_at: DbTime,
    disabled_at: Option<DbTime>,
}

impl From<UpstreamProviderRow> for UpstreamProvider {
    fn from(row: UpstreamProviderRow) -> Self {
        Self {
            id: row.upstream_oauth_provider_id,
            issuer: row.issuer,
            human_name: row.human_name,
            brand_name: row.brand_name,
            encrypted_client_secret: row.encrypted_client_secret,
            config: row.config.0,
            created_at: row.created_at.0,
            disabled_at: row.disabled_at.map(|time| time.0),
        }
    }
}

#[async_trait]
impl UpstreamProviderRepository for SqlRepository {
    async fn upsert(
        &mut self,
        provider: &UpstreamProvider,
    ) -> Result<UpstreamProvider, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO upstream_oauth_providers (upstream_oauth_provider_id, issuer, ",
            "human_name, brand_name, encrypted_client_secret, config, created_at, disabled_at) ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ",
            "ON CONFLICT (upstream_oauth_provider_id) DO UPDATE SET ",
            "issuer = excluded.issuer, ",
            "human_name = excluded.human_name, ",
            "brand_name = excluded.brand_name, ",
            "encrypted_client_secret = excluded.encrypted_client_secret, ",
            "config = excluded.config, ",
            "disabled_at = excluded.disabled_at ",
            "RETURNING ",
            columns!()
        );
        let row: UpstreamProviderRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(&provider.id)
            .bind(&provider.issuer)
            .bind(&provider.human_name)
            .bind(&provider.brand_name)
            .bind(&provider.encrypted_client_secret)
            .bind(Json(&provider.config))
            .bind(DbTime(provider.created_at))
            .bind(provider.disabled_at.map(DbTime))
            .fetch_one(conn)
            .await)?;
        Ok(row.into())
    }

    async fn find(&mut self, id: &str) -> Result<Option<UpstreamProvider>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM upstream_oauth_providers WHERE upstream_oauth_provider_id = $1"
        );
        let row: Option<UpstreamProviderRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(id)
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UpstreamProvider::from))
    }

    async fn list(&mut self) -> Result<Vec<UpstreamProvider>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM upstream_oauth_providers ORDER BY upstream_oauth_provider_id"
        );
        let rows: Vec<UpstreamProviderRow> =
            on_backend!(self, |conn| sqlx::query_as(SQL).fetch_all(conn).await)?;
        Ok(rows.into_iter().map(UpstreamProvider::from).collect())
    }

    async fn disable(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UpstreamProvider>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE upstream_oauth_providers SET disabled_at = COALESCE(disabled_at, $2) ",
            "WHERE upstream_oauth_provider_id = $1 RETURNING ",
            columns!()
        );
        let row: Option<UpstreamProviderRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(id)
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(UpstreamProvider::from))
    }

    async fn delete(&mut self, id: &str) -> Result<bool, StorageError> {
        const SQL: &str =
            "DELETE FROM upstream_oauth_providers WHERE upstream_oauth_provider_id = $1";
        let deleted = on_backend!(self, |conn| sqlx::query(SQL)
            .bind(id)
            .execute(conn)
            .await
            .map(|result| result.rows_affected()))?;
        Ok(deleted > 0)
    }
}
