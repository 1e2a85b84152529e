//! `POST /compat-sessions/{id}/finish`: ends the compatibility session and deletes its device on the homeserver
//! (unless `keep_device=true`, our extension).

use aide::transform::TransformOperation;
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use portcullis_http::AppState;
use portcullis_services::sessions;
use portcullis_storage::{Repository, StorageError};
use ulid::Ulid;

use super::CompatSession;
use crate::{
    call_context::CallContext,
    error::{ApiError, ErrorResponse},
    params::{IdInPath, Query},
    response::SingleResponse,
    v1::sessions::{Finish, FinishParams, finish},
};

pub fn doc(operation: TransformOperation<'_>) -> TransformOperation<'_> {
    operation
        .id("finishCompatSession")
        .tag("compat-session")
        .summary("Finish a compatibility session")
        .response::<200, Json<SingleResponse<CompatSession>>>()
        .response_with::<400, Json<ErrorResponse>, _>(|r| r.description("Already finished"))
        .response_with::<404, Json<ErrorResponse>, _>(|r| r.description("No such session"))
}

pub async fn handler(
    caller: CallContext,
    State(state): State<AppState>,
    IdInPath(id): IdInPath,
    Query(params): Query<FinishParams>,
) -> Result<Json<SingleResponse<CompatSession>>, ApiError> {
    finish::<CompatSession>(&caller, &state, id, params.keep_device).await
}

#[async_trait::async_trait]
impl Finish for CompatSession {
    type Session = portcullis_model::CompatSession;
    const TITLE: &'static str = "Compatibility session";

    async fn find(repo: &mut dyn Repository, id: Ulid) -> Result<Self::Session, ApiError> {
        super::find(repo, id).await
    }

    async fn end(
        repo: &mut dyn Repository,
        session: &Self::Session,
        keep_device: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        if keep_device {
            sessions::end_compat_session_keeping_device(repo, session, now).await
        } else {
            sessions::end_compat_session(repo, session, now).await
        }
    }

    fn show(session: Self::Session) -> Self {
        Self::from(session)
    }
}
