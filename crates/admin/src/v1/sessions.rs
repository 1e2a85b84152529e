//! What the three kinds of sessions (browser, OAuth 2.0, compatibility) are filtered by.

use chrono::{DateTime, Utc};
use portcullis_storage::{Repository, SessionFilter};
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use crate::{error::ApiError, schema::UlidSchema};

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Active,
    Finished,
}

/// The filters every kind of session has.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SessionFilterParams {
    /// Only the sessions of this user.
    #[serde(rename = "filter[user]")]
    #[schemars(with = "Option<UlidSchema>")]
    user: Option<Ulid>,
    #[serde(rename = "filter[status]")]
    status: Option<SessionStatus>,
    #[serde(rename = "filter[created-before]")]
    created_before: Option<DateTime<Utc>>,
    #[serde(rename = "filter[created-after]")]
    created_after: Option<DateTime<Utc>>,
    #[serde(rename = "filter[last-active-before]")]
    last_active_before: Option<DateTime<Utc>>,
    #[serde(rename = "filter[last-active-after]")]
    last_active_after: Option<DateTime<Utc>>,
}

impl SessionFilterParams {
    /// The storage filter, once the user it names is known to exist (404 otherwise).
    pub async fn filter(&self, repo: &mut dyn Repository) -> Result<SessionFilter, ApiError> {
        super::known::users(repo, [self.user]).await?;
        Ok(SessionFilter {
            user: self.user,
            active: self
                .status
                .map(|status| matches!(status, SessionStatus::Active)),
            created_before: self.created_before,
            created_after: self.created_after,
            last_active_before: self.last_active_before,
            last_active_after: self.last_active_after,
        })
    }
}
