//! Synapse's dedicated API for the auth service, `/_synapse/mas/*` (Synapse 1.136 and later).
//!
//! Every call carries `Authorization: Bearer <matrix.secret>`; Synapse answers 403 to any
//! other credential. The request bodies and status codes are those of Synapse 1.163
//! (`synapse/rest/synapse/mas/{users,devices}.py`).

use std::{collections::BTreeSet, fmt, time::Duration};

use async_trait::async_trait;
use reqwest::{RequestBuilder, StatusCode, redirect};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;
use url::Url;
use zeroize::Zeroizing;

use crate::{
    FieldAction, HomeserverConnection, HomeserverError, HomeserverUser, LocalpartAvailability,
    ProvisionRequest, SetupError, UpsertOutcome,
};

/// How long one call may take, connection included, unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of an unexpected body goes into an error message.
const BODY_EXCERPT_CHARS: usize = 200;

/// The homeserver is Synapse, driven through `/_synapse/mas/*`.
#[derive(Clone)]
pub struct SynapseConnection {
    server_name: String,
    /// `matrix.endpoint` joined with `_synapse/mas/`.
    api_base: Url,
    secret: Zeroizing<String>,
    http: reqwest::Client,
    timeout: Duration,
}

impl fmt::Debug for SynapseConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SynapseConnection")
            .field("server_name", &self.server_name)
            .field("api_base", &self.api_base.as_str())
            .field("secret", &"[redacted]")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SynapseConnection {
    /// A connection to the Synapse serving `server_name` at `endpoint` (its client-API base
    /// URL, `matrix.endpoint`), authenticated with the shared `secret`.
    ///
    /// # Errors
    /// When the secret is empty, the endpoint is not an `http(s)` URL, or the HTTP client
    /// cannot be built.
    pub fn new(
        server_name: impl Into<String>,
        endpoint: &Url,
        secret: impl Into<String>,
    ) -> Result<Self, SetupError> {
        let secret = Zeroizing::new(secret.into());
        if secret.is_empty() {
            return Err(SetupError::EmptySecret);
        }
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.cannot_be_a_base() {
            return Err(SetupError::InvalidEndpoint {
                endpoint: endpoint.to_string(),
            });
        }
        // `join` replaces the last path segment unless the path ends with a slash: keep a
        // prefix such as `https://example.com/matrix` whole.
        let mut base = endpoint.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        let api_base = base
            .join("_synapse/mas/")
            .map_err(|_| SetupError::InvalidEndpoint {
                endpoint: endpoint.to_string(),
            })?;

        let http = reqwest::Client::builder()
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(DEFAULT_TIMEOUT)
            // A redirect from this API is a misconfiguration; following it would send the
            // secret (same host) or lose it (other host) without saying why.
            .redirect(redirect::Policy::none())
            .build()
            .map_err(SetupError::HttpClient)?;

        Ok(Self {
            server_name: server_name.into(),
            api_base,
            secret,
            http,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Limit each call, connection included, to `timeout` instead of [`DEFAULT_TIMEOUT`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The base URL of the API, `<matrix.endpoint>/_synapse/mas/`.
    #[must_use]
    pub fn api_base(&self) -> &Url {
        &self.api_base
    }

    fn url(&self, operation: &'static str) -> Url {
        self.api_base
            .join(operation)
            .expect("an endpoint name joined to an http(s) base URL is a valid URL")
    }

    async fn get(
        &self,
        operation: &'static str,
        localpart: &str,
    ) -> Result<Answer, HomeserverError> {
        let mut url = self.url(operation);
        url.query_pairs_mut().append_pair("localpart", localpart);
        self.send(operation, self.http.get(url.clone()), &url).await
    }

    async fn post(
        &self,
        operation: &'static str,
        body: &impl Serialize,
    ) -> Result<Answer, HomeserverError> {
        let url = self.url(operation);
        self.send(operation, self.http.post(url.clone()).json(body), &url)
            .await
    }

    async fn send(
        &self,
        operation: &'static str,
        request: RequestBuilder,
        url: &Url,
    ) -> Result<Answer, HomeserverError> {
        let transport_error = |error: reqwest::Error| {
            if error.is_timeout() {
                HomeserverError::TimedOut {
                    operation,
                    url: url.to_string(),
                    timeout: self.timeout,
                }
            } else {
                HomeserverError::Unreachable {
                    operation,
                    url: url.to_string(),
                    detail: innermost_cause(&error),
                }
            }
        };
        let span = tracing::info_span!(
            "homeserver.request",
            otel.name = format!("homeserver {operation}"),
            otel.kind = "client",
            homeserver.operation = operation,
            http.response.status_code = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let answered = async {
            let response = request
                .headers(crate::metrics::trace_context())
                .bearer_auth(self.secret.as_str())
                .timeout(self.timeout)
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
        .instrument(span.clone())
        .await;
        crate::metrics::answered(
            operation,
            answered.as_ref().ok().map(|(status, _)| *status),
            started.elapsed(),
        );
        let (status, body) = answered.map_err(transport_error)?;
        span.record("http.response.status_code", status.as_u16());
        tracing::debug!(operation, status = status.as_u16(), "homeserver answered");
        Ok(Answer {
            operation,
            url: url.to_string(),
            status,
            body: body.to_vec(),
        })
    }

    /// A call that answers `{}` on success.
    async fn post_expecting_success(
        &self,
        operation: &'static str,
        subject: Subject<'_>,
        body: &impl Serialize,
    ) -> Result<(), HomeserverError> {
        let answer = self.post(operation, body).await?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(answer.into_error(subject))
        }
    }

    /// A call that answers 201 when it created something and 200 when it updated it.
    async fn post_upsert(
        &self,
        operation: &'static str,
        subject: Subject<'_>,
        body: &impl Serialize,
    ) -> Result<UpsertOutcome, HomeserverError> {
        let answer = self.post(operation, body).await?;
        match answer.status {
            StatusCode::CREATED => Ok(UpsertOutcome::Created),
            status if status.is_success() => Ok(UpsertOutcome::Updated),
            _ => Err(answer.into_error(subject)),
        }
    }
}

/// What a call is about, for "not found" messages.
#[derive(Clone, Copy)]
struct Subject<'a> {
    localpart: &'a str,
    device_id: Option<&'a str>,
}

impl<'a> Subject<'a> {
    fn user(localpart: &'a str) -> Self {
        Self {
            localpart,
            device_id: None,
        }
    }

    fn device(localpart: &'a str, device_id: &'a str) -> Self {
        Self {
            localpart,
            device_id: Some(device_id),
        }
    }

    fn describe(self) -> String {
        match self.device_id {
            None => format!("user `{}`", self.localpart),
            Some(device_id) => format!(
                "user `{}`, or no device `{device_id}` of it",
                self.localpart
            ),
        }
    }
}

/// A complete HTTP answer, read before it is judged.
struct Answer {
    operation: &'static str,
    url: String,
    status: StatusCode,
    body: Vec<u8>,
}

/// The error body of the Matrix client-server API.
#[derive(Deserialize)]
struct MatrixErrorBody {
    errcode: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    retry_after_ms: Option<u64>,
}

impl Answer {
    fn matrix_error(&self) -> Option<MatrixErrorBody> {
        serde_json::from_slice(&self.body).ok()
    }

    fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text = text.trim();
        if text.is_empty() {
            return "(empty body)".to_owned();
        }
        let mut excerpt: String = text.chars().take(BODY_EXCERPT_CHARS).collect();
        if text.chars().count() > BODY_EXCERPT_CHARS {
            excerpt.push('…');
        }
        excerpt
    }

    fn json<T: for<'de> Deserialize<'de>>(&self) -> Result<T, HomeserverError> {
        serde_json::from_slice(&self.body).map_err(|error| HomeserverError::UnexpectedResponse {
            operation: self.operation,
            status: self.status.as_u16(),
            detail: format!("unreadable body ({error}): {}", self.excerpt()),
        })
    }

    /// The error for an answer that is not the expected success.
    fn into_error(self, subject: Subject<'_>) -> HomeserverError {
        let operation = self.operation;
        let status = self.status.as_u16();
        let matrix = self.matrix_error();
        match (self.status, matrix) {
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) => {
                HomeserverError::SecretRefused { operation, status }
            }
            (StatusCode::NOT_FOUND, Some(matrix)) => HomeserverError::NotFound {
                operation,
                what: subject.describe(),
                message: matrix.error,
            },
            // A 404 that is not a Matrix error comes from the web server itself: the route
            // does not exist there (old Synapse, delegation disabled, wrong endpoint).
            (StatusCode::NOT_FOUND, None) => HomeserverError::ApiMissing {
                operation,
                url: self.url,
            },
            (StatusCode::TOO_MANY_REQUESTS, matrix) => HomeserverError::RateLimited {
                operation,
                retry_after_ms: matrix.and_then(|matrix| matrix.retry_after_ms),
            },
            (status_code, Some(matrix)) if status_code.is_client_error() => {
                HomeserverError::Refused {
                    operation,
                    status,
                    errcode: matrix.errcode,
                    message: matrix.error,
                }
            }
            (status_code, matrix) if status_code.is_server_error() => {
                HomeserverError::ServerError {
                    operation,
                    status,
                    detail: match matrix {
                        Some(matrix) => format!("{}: {}", matrix.errcode, matrix.error),
                        None => self.excerpt(),
                    },
                }
            }
            (status_code, _) if status_code.is_redirection() => {
                HomeserverError::UnexpectedResponse {
                    operation,
                    status,
                    detail: "a redirect, which is not followed: `matrix.endpoint` should be the \
                             homeserver's own URL"
                        .to_owned(),
                }
            }
            (_, _) => HomeserverError::UnexpectedResponse {
                operation,
                status,
                detail: self.excerpt(),
            },
        }
    }
}

/// The most specific message in an error's chain ("Connection refused (os error 111)").
fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[derive(Serialize)]
struct LocalpartBody<'a> {
    localpart: &'a str,
}

#[derive(Serialize)]
struct ProvisionBody<'a> {
    localpart: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    set_displayname: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unset_displayname: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    set_avatar_url: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unset_avatar_url: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    set_emails: Option<&'a [String]>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unset_emails: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    locked: Option<bool>,
}

impl<'a> ProvisionBody<'a> {
    fn new(request: &'a ProvisionRequest) -> Self {
        fn split<T: ?Sized>(action: Option<&FieldAction<impl AsRef<T>>>) -> (Option<&T>, bool) {
            match action {
                None => (None, false),
                Some(FieldAction::Set(value)) => (Some(value.as_ref()), false),
                Some(FieldAction::Unset) => (None, true),
            }
        }
        let (set_displayname, unset_displayname) = split::<str>(request.displayname.as_ref());
        let (set_avatar_url, unset_avatar_url) = split::<str>(request.avatar_url.as_ref());
        let (set_emails, unset_emails) = split::<[String]>(request.emails.as_ref());
        Self {
            localpart: &request.localpart,
            set_displayname,
            unset_displayname,
            set_avatar_url,
            unset_avatar_url,
            set_emails,
            unset_emails,
            locked: request.locked,
        }
    }
}

#[derive(Serialize)]
struct DeleteUserBody<'a> {
    localpart: &'a str,
    erase: bool,
}

#[derive(Serialize)]
struct SetDisplaynameBody<'a> {
    localpart: &'a str,
    displayname: &'a str,
}

#[derive(Serialize)]
struct UpsertDeviceBody<'a> {
    localpart: &'a str,
    device_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
}

#[derive(Serialize)]
struct DeviceDisplayNameBody<'a> {
    localpart: &'a str,
    device_id: &'a str,
    display_name: &'a str,
}

#[derive(Serialize)]
struct DeviceBody<'a> {
    localpart: &'a str,
    device_id: &'a str,
}

#[derive(Serialize)]
struct SyncDevicesBody<'a> {
    localpart: &'a str,
    devices: &'a BTreeSet<String>,
}

#[async_trait]
impl HomeserverConnection for SynapseConnection {
    fn server_name(&self) -> &str {
        &self.server_name
    }

    async fn query_user(&self, localpart: &str) -> Result<Option<HomeserverUser>, HomeserverError> {
        let answer = self.get("query_user", localpart).await?;
        if answer.status == StatusCode::OK {
            return answer.json().map(Some);
        }
        match answer.into_error(Subject::user(localpart)) {
            HomeserverError::NotFound { .. } => Ok(None),
            error => Err(error),
        }
    }

    async fn is_localpart_available(
        &self,
        localpart: &str,
    ) -> Result<LocalpartAvailability, HomeserverError> {
        let answer = self.get("is_localpart_available", localpart).await?;
        if answer.status == StatusCode::OK {
            return Ok(LocalpartAvailability::Available);
        }
        if answer.status == StatusCode::BAD_REQUEST
            && let Some(matrix) = answer.matrix_error()
        {
            match matrix.errcode.as_str() {
                "M_USER_IN_USE" => return Ok(LocalpartAvailability::InUse),
                "M_INVALID_USERNAME" => {
                    return Ok(LocalpartAvailability::Invalid {
                        reason: matrix.error,
                    });
                }
                "M_EXCLUSIVE" => {
                    return Ok(LocalpartAvailability::Exclusive {
                        reason: matrix.error,
                    });
                }
                _ => {}
            }
        }
        Err(answer.into_error(Subject::user(localpart)))
    }

    async fn provision_user(
        &self,
        request: &ProvisionRequest,
    ) -> Result<UpsertOutcome, HomeserverError> {
        let body = ProvisionBody::new(request);
        let subject = Subject::user(&request.localpart);
        match self.post_upsert("provision_user", subject, &body).await {
            // Two provisionings of a new user raced (a sign-in and the queued job): Synapse
            // created the user for the other one and tells this one the ID is taken. The user
            // exists now, so the same request is an update that also applies our attributes.
            Err(HomeserverError::Refused { errcode, .. }) if errcode == "M_USER_IN_USE" => {
                self.post_upsert("provision_user", subject, &body).await
            }
            other => other,
        }
    }

    async fn delete_user(&self, localpart: &str, erase: bool) -> Result<(), HomeserverError> {
        self.post_expecting_success(
            "delete_user",
            Subject::user(localpart),
            &DeleteUserBody { localpart, erase },
        )
        .await
    }

    async fn reactivate_user(&self, localpart: &str) -> Result<(), HomeserverError> {
        self.post_expecting_success(
            "reactivate_user",
            Subject::user(localpart),
            &LocalpartBody { localpart },
        )
        .await
    }

    async fn set_displayname(
        &self,
        localpart: &str,
        displayname: &str,
    ) -> Result<(), HomeserverError> {
        self.post_expecting_success(
            "set_displayname",
            Subject::user(localpart),
            &SetDisplaynameBody {
                localpart,
                displayname,
            },
        )
        .await
    }

    async fn unset_displayname(&self, localpart: &str) -> Result<(), HomeserverError> {
        self.post_expecting_success(
            "unset_displayname",
            Subject::user(localpart),
            &LocalpartBody { localpart },
        )
        .await
    }

    async fn upsert_device(
        &self,
        localpart: &str,
        device_id: &str,
        display_name: Option<&str>,
    ) -> Result<UpsertOutcome, HomeserverError> {
        self.post_upsert(
            "upsert_device",
            Subject::device(localpart, device_id),
            &UpsertDeviceBody {
                localpart,
                device_id,
                display_name,
            },
        )
        .await
    }

    async fn update_device_display_name(
        &self,
        localpart: &str,
        device_id: &str,
        display_name: &str,
    ) -> Result<(), HomeserverError> {
        self.post_expecting_success(
            "update_device_display_name",
            Subject::device(localpart, device_id),
            &DeviceDisplayNameBody {
                localpart,
                device_id,
                display_name,
            },
        )
        .await
    }

    async fn delete_device(&self, localpart: &str, device_id: &str) -> Result<(), HomeserverError> {
        self.post_expecting_success(
            "delete_device",
            Subject::device(localpart, device_id),
            &DeviceBody {
                localpart,
                device_id,
            },
        )
        .await
    }

    async fn sync_devices(
        &self,
        localpart: &str,
        devices: &BTreeSet<String>,
    ) -> Result<(), HomeserverError> {
        self.post_expecting_success(
            "sync_devices",
            Subject::user(localpart),
            &SyncDevicesBody { localpart, devices },
        )
        .await
    }

    async fn allow_cross_signing_reset(&self, localpart: &str) -> Result<(), HomeserverError> {
        self.post_expecting_success(
            "allow_cross_signing_reset",
            Subject::user(localpart),
            &LocalpartBody { localpart },
        )
        .await
    }
}
