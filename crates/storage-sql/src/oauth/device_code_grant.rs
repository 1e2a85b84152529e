//! The device code grants, in table `oauth2_device_code_grants`.
//!
//! Both codes are stored only as their SHA-256 (`device_code_hash`, unique; `user_code_hash`,
//! unique among pending grants). The stage is told by the columns (`fulfilled_at`,
//! `rejected_at`, `exchanged_at`), which the table's checks keep consistent; every change of
//! stage is one `UPDATE` whose condition is the stage it leaves and the grant's expiry.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portcullis_model::{
    BrowserSession, DeviceCodeGrant, DeviceCodeGrantStage, OAuthSession, token::hash_token,
};
use portcullis_storage::{DeviceCodeGrantRepository, NewDeviceCodeGrant, StorageError};
use ulid::Ulid;

use crate::{
    repository::{SqlRepository, on_backend},
    types::{DbId, DbTime, instant, ip_address, parsed},
};

/// The columns every query returns, in [`DeviceCodeGrantRow`]'s order.
macro_rules! columns {
    () => {
        "oauth2_device_code_grant_id, oauth2_client_id, scope, device_code_hash, \
         user_code_hash, created_at, expires_at, last_polled_at, ip, user_agent, \
         user_session_id, user_id, fulfilled_at, rejected_at, oauth2_session_id, exchanged_at"
    };
}

#[derive(sqlx::FromRow)]
struct DeviceCodeGrantRow {
    oauth2_device_code_grant_id: DbId,
    oauth2_client_id: DbId,
    scope: String,
    device_code_hash: String,
    user_code_hash: String,
    created_at: DbTime,
    expires_at: DbTime,
    last_polled_at: Option<DbTime>,
    ip: Option<String>,
    user_agent: Option<String>,
    user_session_id: Option<DbId>,
    user_id: Option<DbId>,
    fulfilled_at: Option<DbTime>,
    rejected_at: Option<DbTime>,
    oauth2_session_id: Option<DbId>,
    exchanged_at: Option<DbTime>,
}

impl DeviceCodeGrantRow {
    fn stage(&self) -> Result<DeviceCodeGrantStage, StorageError> {
        let inconsistent = || {
            StorageError::InvalidData(format!(
                "device code grant {} has the columns of no single stage",
                self.oauth2_device_code_grant_id.0
            ))
        };
        let fulfilled = match (self.user_session_id, self.user_id, self.fulfilled_at) {
            (Some(browser_session_id), Some(user_id), Some(fulfilled_at)) => {
                Some((browser_session_id.0, user_id.0, fulfilled_at.0))
            }
            (None, None, None) => None,
            _ => return Err(inconsistent()),
        };
        let exchanged = match (self.oauth2_session_id, self.exchanged_at) {
            (Some(session_id), Some(exchanged_at)) => Some((session_id.0, exchanged_at.0)),
            (None, None) => None,
            _ => return Err(inconsistent()),
        };
        Ok(match (fulfilled, self.rejected_at, exchanged) {
            (None, None, None) => DeviceCodeGrantStage::Pending,
            (None, Some(rejected_at), None) => DeviceCodeGrantStage::Rejected {
                rejected_at: rejected_at.0,
            },
            (Some((browser_session_id, user_id, fulfilled_at)), None, None) => {
                DeviceCodeGrantStage::Fulfilled {
                    browser_session_id,
                    user_id,
                    fulfilled_at,
                }
            }
            (
                Some((browser_session_id, user_id, fulfilled_at)),
                None,
                Some((session_id, exchanged_at)),
            ) => DeviceCodeGrantStage::Exchanged {
                browser_session_id,
                user_id,
                fulfilled_at,
                session_id,
                exchanged_at,
            },
            _ => return Err(inconsistent()),
        })
    }
}

impl TryFrom<DeviceCodeGrantRow> for DeviceCodeGrant {
    type Error = StorageError;

    fn try_from(row: DeviceCodeGrantRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.oauth2_device_code_grant_id.0,
            stage: row.stage()?,
            client_id: row.oauth2_client_id.0,
            scope: parsed("oauth2_device_code_grants.scope", &row.scope)?,
            device_code_hash: row.device_code_hash,
            user_code_hash: row.user_code_hash,
            created_at: row.created_at.0,
            expires_at: row.expires_at.0,
            last_polled_at: instant(row.last_polled_at),
            ip: ip_address("oauth2_device_code_grants.ip", row.ip)?,
            user_agent: row.user_agent,
        })
    }
}

#[async_trait]
impl DeviceCodeGrantRepository for SqlRepository {
    async fn add(
        &mut self,
        grant: &NewDeviceCodeGrant,
        device_code: &str,
        user_code: &str,
        now: DateTime<Utc>,
    ) -> Result<DeviceCodeGrant, StorageError> {
        const SQL: &str = concat!(
            "INSERT INTO oauth2_device_code_grants (oauth2_device_code_grant_id, ",
            "oauth2_client_id, scope, device_code_hash, user_code_hash, created_at, expires_at, ",
            "ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
            columns!()
        );
        let id = self.new_id(now);
        let row: DeviceCodeGrantRow = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbId(grant.client_id))
            .bind(grant.scope.to_string())
            .bind(hash_token(device_code))
            .bind(hash_token(user_code))
            .bind(DbTime(now))
            .bind(DbTime(grant.expires_at))
            .bind(grant.ip.map(|ip| ip.to_string()))
            .bind(&grant.user_agent)
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    async fn find(&mut self, id: Ulid) -> Result<Option<DeviceCodeGrant>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_device_code_grants WHERE oauth2_device_code_grant_id = $1"
        );
        let row: Option<DeviceCodeGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .fetch_optional(conn)
            .await)?;
        row.map(DeviceCodeGrant::try_from).transpose()
    }

    async fn find_by_device_code(
        &mut self,
        device_code: &str,
    ) -> Result<Option<DeviceCodeGrant>, StorageError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_device_code_grants WHERE device_code_hash = $1"
        );
        let row: Option<DeviceCodeGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(device_code))
            .fetch_optional(conn)
            .await)?;
        row.map(DeviceCodeGrant::try_from).transpose()
    }

    async fn find_by_user_code(
        &mut self,
        user_code: &str,
    ) -> Result<Option<DeviceCodeGrant>, StorageError> {
        // Short user codes come up again once their grant is decided: the pending grant, if
        // any, is the one the user means.
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM oauth2_device_code_grants WHERE user_code_hash = $1 ",
            "ORDER BY (fulfilled_at IS NULL AND rejected_at IS NULL) DESC, created_at DESC, ",
            "oauth2_device_code_grant_id DESC LIMIT 1"
        );
        let row: Option<DeviceCodeGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(user_code))
            .fetch_optional(conn)
            .await)?;
        row.map(DeviceCodeGrant::try_from).transpose()
    }

    async fn fulfill(
        &mut self,
        id: Ulid,
        browser_session: &BrowserSession,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceCodeGrant>, StorageError> {
        // RFC 8628 §5.4: a code is bound to the first approval. Several approvals racing (the
        // same code typed in two browsers) are serialised by the row lock (PostgreSQL) or the
        // write lock (SQLite), and all but the first find the grant no longer pending.
        const SQL: &str = concat!(
            "UPDATE oauth2_device_code_grants ",
            "SET fulfilled_at = $2, user_session_id = $3, user_id = $4 ",
            "WHERE oauth2_device_code_grant_id = $1 ",
            "AND fulfilled_at IS NULL AND rejected_at IS NULL AND expires_at > $2 ",
            "RETURNING ",
            columns!()
        );
        let row: Option<DeviceCodeGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .bind(DbId(browser_session.id))
            .bind(DbId(browser_session.user_id))
            .fetch_optional(conn)
            .await)?;
        row.map(DeviceCodeGrant::try_from).transpose()
    }

    async fn reject(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceCodeGrant>, StorageError> {
        const SQL: &str = concat!(
            "UPDATE oauth2_device_code_grants SET rejected_at = $2 ",
            "WHERE oauth2_device_code_grant_id = $1 ",
            "AND fulfilled_at IS NULL AND rejected_at IS NULL AND expires_at > $2 ",
            "RETURNING ",
            columns!()
        );
        let row: Option<DeviceCodeGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        row.map(DeviceCodeGrant::try_from).transpose()
    }

    async fn record_poll(
        &mut self,
        id: Ulid,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        // `RETURNING` gives the row as updated, so the previous instant is moved to a column
        // of its own by the same statement. Both backends compute `SET` from the row the
        // statement updates: on PostgreSQL, a poll that waited for another's row lock sees
        // that other poll's instant.
        const SQL: &str = concat!(
            "UPDATE oauth2_device_code_grants ",
            "SET previous_polled_at = last_polled_at, last_polled_at = $2 ",
            "WHERE oauth2_device_code_grant_id = $1 RETURNING previous_polled_at"
        );
        let row: Option<(Option<DbTime>,)> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(DbId(id))
            .bind(DbTime(now))
            .fetch_optional(conn)
            .await)?;
        match row {
            Some((previous,)) => Ok(instant(previous)),
            None => Err(StorageError::NotFound {
                entity: "device code grant",
                id: id.to_string(),
            }),
        }
    }

    async fn exchange(
        &mut self,
        device_code: &str,
        session: &OAuthSession,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceCodeGrant>, StorageError> {
        // Several polls racing after the approval: one statement checks and marks, so exactly
        // one gets the tokens.
        const SQL: &str = concat!(
            "UPDATE oauth2_device_code_grants SET exchanged_at = $2, oauth2_session_id = $3 ",
            "WHERE device_code_hash = $1 AND fulfilled_at IS NOT NULL AND exchanged_at IS NULL ",
            "AND expires_at > $2 ",
            "RETURNING ",
            columns!()
        );
        let row: Option<DeviceCodeGrantRow> = on_backend!(self, |conn| sqlx::query_as(SQL)
            .bind(hash_token(device_code))
            .bind(DbTime(now))
            .bind(DbId(session.id))
            .fetch_optional(conn)
            .await)?;
        row.map(DeviceCodeGrant::try_from).transpose()
    }
}
