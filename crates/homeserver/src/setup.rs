//! Choosing and building the connection from the `matrix` configuration section.

use portcullis_config::sections::matrix::{HomeserverKind, MatrixConfig};

use crate::{HomeserverConnection, ReadOnlyConnection, SynapseConnection};

/// The connection to the homeserver cannot be set up from this configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// `matrix.kind` names an API this service does not drive.
    #[error(
        "matrix.kind `synapse_legacy` is not supported yet: use `synapse` with Synapse 1.136 or later"
    )]
    LegacyUnsupported,

    /// The shared secret is empty.
    #[error(
        "the homeserver's shared secret is empty: set `matrix.secret` (or `matrix.secret_file`) \
         to the value of Synapse's `matrix_authentication_service.secret`"
    )]
    EmptySecret,

    /// `matrix.endpoint` cannot be the base of the API's URLs.
    #[error("matrix.endpoint `{endpoint}` is not an http(s) URL")]
    InvalidEndpoint {
        /// The configured endpoint.
        endpoint: String,
    },

    /// The HTTP client could not be built (its TLS set-up failed).
    #[error("could not build the HTTP client for the homeserver: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// The connection `matrix.kind` asks for, to `matrix.endpoint`, authenticated with
/// `secret` (the value of `matrix.secret`, or of the file `matrix.secret_file` names).
///
/// # Errors
/// For `synapse_legacy`, which is not implemented, and for an empty secret or an unusable
/// endpoint.
pub fn connection_from_config(
    config: &MatrixConfig,
    secret: String,
) -> Result<Box<dyn HomeserverConnection>, SetupError> {
    let synapse = || SynapseConnection::new(config.homeserver.clone(), &config.endpoint, secret);
    match config.kind {
        HomeserverKind::Synapse | HomeserverKind::SynapseModern => Ok(Box::new(synapse()?)),
        HomeserverKind::SynapseReadOnly => Ok(Box::new(ReadOnlyConnection::new(synapse()?))),
        HomeserverKind::SynapseLegacy => Err(SetupError::LegacyUnsupported),
    }
}
