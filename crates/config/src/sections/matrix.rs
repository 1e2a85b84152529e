//! `matrix`: the homeserver this service authenticates for. A required section.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    problem::Problem,
    secret::{self, Presence, Secret, SecretSource},
    sections::check_http_url,
};

/// Which homeserver API to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HomeserverKind {
    /// Synapse, through its dedicated MAS API.
    #[default]
    Synapse,
    /// Synapse, through its dedicated MAS API (explicit name).
    SynapseModern,
    /// Synapse in read-only mode: nothing is written to the homeserver (for trial roll-outs).
    SynapseReadOnly,
    /// Synapse, through its admin API (older Synapse versions).
    SynapseLegacy,
}

/// The homeserver: its server name, where to reach it, and the secret shared with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixConfig {
    /// Which homeserver API to drive.
    #[serde(default)]
    pub kind: HomeserverKind,

    /// The homeserver's `server_name`.
    #[serde(default = "default_homeserver")]
    pub homeserver: String,

    /// Secret shared with the homeserver; it authenticates the calls both ways.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,

    /// File holding the shared secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<PathBuf>,

    /// URL at which the service reaches the homeserver.
    #[serde(default = "default_endpoint")]
    pub endpoint: Url,

    /// The homeserver's application service registration files (Synapse's format, the same
    /// files the homeserver reads): their bridges may sign their users in with
    /// `m.login.application_service`. Portcullis's own key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_service_config_files: Vec<PathBuf>,
}

fn default_homeserver() -> String {
    "localhost:8008".to_owned()
}

fn default_endpoint() -> Url {
    Url::parse("http://localhost:8008/").expect("the default endpoint is a valid URL")
}

impl Default for MatrixConfig {
    fn default() -> Self {
        Self {
            kind: HomeserverKind::default(),
            homeserver: default_homeserver(),
            secret: None,
            secret_file: None,
            endpoint: default_endpoint(),
            app_service_config_files: Vec::new(),
        }
    }
}

impl MatrixConfig {
    /// Where the shared secret comes from.
    #[must_use]
    pub fn secret(&self) -> Option<SecretSource> {
        secret::source(self.secret.as_ref(), self.secret_file.as_ref())
    }

    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        secret::check_pair(
            &mut problems,
            "matrix",
            "secret",
            (self.secret.is_some(), self.secret_file.is_some()),
            Presence::Required,
        );
        if self.homeserver.trim().is_empty() {
            problems.push(Problem::error(
                "matrix.homeserver",
                "the homeserver's server name is empty",
            ));
        }
        check_http_url(&mut problems, "matrix.endpoint", &self.endpoint);
        problems
    }

    pub(crate) fn redact_secrets(&mut self) {
        secret::redact(&mut self.secret);
    }
}
