//! What the three kinds of sessions (browser, OAuth 2.0, compatibility) share: the filters of
//! their lists and their `finish` operation.

use axum::Json;
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_storage::{Repository, SessionFilter, StorageError};
use schemars::JsonSchema;
use serde::Deserialize;
use ulid::Ulid;

use crate::{
    call_context::CallContext,
    error::ApiError,
    response::{Resource, SingleResponse},
    schema::UlidSchema,
};

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
            inactive_since: None,
        })
    }
}

/// The query of the finish operations of sessions bound to a Matrix device.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct FinishParams {
    /// Portcullis extension, not part of MAS: keep the session's Matrix device, and its
    /// end-to-end encryption keys, on the homeserver (default `false`: the device is deleted).
    /// A bot that signs in again with the same device ID then continues with its keys.
    #[serde(default)]
    pub keep_device: bool,
}

/// A kind of session the API finishes through `POST /{kind}/{id}/finish`.
#[async_trait::async_trait]
pub trait Finish: Resource + Sized {
    type Session: Send + Sync;
    /// The kind as error titles name it ("User session").
    const TITLE: &'static str;

    /// The session, or a 404.
    async fn find(repo: &mut dyn Repository, id: Ulid) -> Result<Self::Session, ApiError>;

    /// Ends the session with what goes with it (the service's rule), its Matrix device
    /// included unless `keep_device`; `false` if it had already ended.
    async fn end(
        repo: &mut dyn Repository,
        session: &Self::Session,
        keep_device: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    fn show(session: Self::Session) -> Self;
}

/// Finishes the session `id` of kind `T`: 404 if there is none, 400 if it had already ended
/// (also when another request ended it first).
pub async fn finish<T: Finish>(
    caller: &CallContext,
    state: &AppState,
    id: Ulid,
    keep_device: bool,
) -> Result<Json<SingleResponse<T>>, ApiError> {
    let mut repo = state.database().transaction().await?;
    let session = T::find(&mut *repo, id).await?;
    if !T::end(&mut *repo, &session, keep_device, state.now()).await? {
        return Err(ApiError::bad_request(format!(
            "{} ID {id} is already finished",
            T::TITLE
        )));
    }
    let session = T::find(&mut *repo, id).await?;
    repo.commit().await?;
    let kept = if keep_device { ", device kept" } else { "" };
    caller.record("finish", &format_args!("{} {id}{kept}", T::TITLE));
    Ok(Json(SingleResponse::new(T::show(session))))
}
