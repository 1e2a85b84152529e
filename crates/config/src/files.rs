//! The files a configuration names (secrets, keys, certificates), so that `config check`,
//! `doctor` and start-up can make sure each can be read before anything depends on it.

use std::path::Path;

use crate::Config;

impl Config {
    /// Every `*_file` the configuration sets and the directory of keys, each with its option's
    /// path in the file's own spelling (`secrets.keys[0].key_file`). Relative paths are
    /// relative to the working directory, as in MAS.
    #[must_use]
    pub fn named_files(&self) -> Vec<(String, &Path)> {
        let mut files: Vec<(String, Option<&Path>)> = Vec::new();
        for (index, listener) in self.http.listeners.iter().enumerate() {
            if let Some(tls) = &listener.tls {
                let at = format!("http.listeners[{index}].tls");
                files.push((
                    format!("{at}.certificate_file"),
                    tls.certificate_file.as_deref(),
                ));
                files.push((format!("{at}.key_file"), tls.key_file.as_deref()));
                files.push((format!("{at}.password_file"), tls.password_file.as_deref()));
            }
        }
        if let Some(database) = &self.database {
            files.push((
                "database.password_file".into(),
                database.password_file.as_deref(),
            ));
            files.push((
                "database.ssl_ca_file".into(),
                database.ssl_ca_file.as_deref(),
            ));
            files.push((
                "database.ssl_certificate_file".into(),
                database.ssl_certificate_file.as_deref(),
            ));
            files.push((
                "database.ssl_key_file".into(),
                database.ssl_key_file.as_deref(),
            ));
        }
        files.push((
            "email.password_file".into(),
            self.email.password_file.as_deref(),
        ));
        files.push((
            "secrets.encryption_file".into(),
            self.secrets.encryption_file.as_deref(),
        ));
        for (index, key) in self.secrets.keys.iter().enumerate() {
            files.push((
                format!("secrets.keys[{index}].key_file"),
                key.key_file.as_deref(),
            ));
            files.push((
                format!("secrets.keys[{index}].password_file"),
                key.password_file.as_deref(),
            ));
        }
        files.push(("secrets.keys_dir".into(), self.secrets.keys_dir.as_deref()));
        for (index, scheme) in self.passwords.schemes.iter().enumerate() {
            files.push((
                format!("passwords.schemes[{index}].secret_file"),
                scheme.secret_file.as_deref(),
            ));
        }
        files.push((
            "matrix.secret_file".into(),
            self.matrix.secret_file.as_deref(),
        ));
        for (index, client) in self.clients.iter().enumerate() {
            files.push((
                format!("clients[{index}].client_secret_file"),
                client.client_secret_file.as_deref(),
            ));
        }
        for (index, provider) in self.upstream_oauth2.providers.iter().enumerate() {
            let at = format!("upstream_oauth2.providers[{index}]");
            files.push((
                format!("{at}.client_secret_file"),
                provider.client_secret_file.as_deref(),
            ));
            if let Some(apple) = &provider.sign_in_with_apple {
                files.push((
                    format!("{at}.sign_in_with_apple.private_key_file"),
                    apple.private_key_file.as_deref(),
                ));
            }
        }
        files
            .into_iter()
            .filter_map(|(option, path)| Some((option, path?)))
            .collect()
    }
}
