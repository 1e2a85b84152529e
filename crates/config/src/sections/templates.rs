//! `templates`: overrides for the templates, translations and assets built into the binary.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where to load templates and their companions from instead of the embedded ones.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct TemplatesConfig {
    /// Directory of templates overriding the embedded ones (relative to the working directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,

    /// Frontend assets manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets_manifest: Option<PathBuf>,

    /// Directory of translations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translations_path: Option<PathBuf>,
}
