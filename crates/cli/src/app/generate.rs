//! `config generate` and the quick start: a new configuration with fresh secrets.

use portcullis_config::{
    Config,
    sections::http::{BindConfig, ListenerConfig, Resource, ResourceName},
};
use portcullis_keys::{EncryptionKey, PrivateKey};
use rand::{CryptoRng, Rng, RngCore, distributions::Alphanumeric};

/// What differs between `config generate` and the quick start.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The database URI (`sqlite:` URIs are relative to the configuration file).
    pub database_uri: String,
    /// `Some(address)`: one listener on that address with every available resource, and
    /// `public_base` pointing at it. `None`: the usual listeners.
    pub listen: Option<&'static str>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            database_uri: "sqlite:mas.db".to_owned(),
            listen: None,
        }
    }
}

impl GenerateOptions {
    /// The quick start: everything on `127.0.0.1:8080`, data beside the file.
    pub fn quick_start() -> Self {
        Self {
            database_uri: "sqlite:mas.db".to_owned(),
            listen: Some("127.0.0.1:8080"),
        }
    }
}

/// The resources MAS puts on its public `web` listener, in its order.
const WEB_RESOURCES: &[ResourceName] = &[
    ResourceName::Discovery,
    ResourceName::Human,
    ResourceName::OAuth,
    ResourceName::Compat,
    ResourceName::GraphQl,
    ResourceName::Assets,
];

/// A new configuration as YAML: a random 32-byte encryption key, an RSA 2048 and an EC P-256
/// signing key, a random homeserver secret, and every other option at its default.
pub fn generate(
    rng: &mut (impl CryptoRng + RngCore),
    options: &GenerateOptions,
) -> anyhow::Result<String> {
    let encryption = EncryptionKey::generate(rng);
    let rsa = PrivateKey::generate_rsa(rng, 2048)?;
    let ec = PrivateKey::generate_ec_p256(rng);
    let keys = vec![
        (random_kid(rng), rsa.to_pem()?.to_string()),
        (random_kid(rng), ec.to_pem()?.to_string()),
    ];

    let matrix_secret = random_string(rng, 32);
    let mut config = Config::generated(
        encryption.to_hex().to_string(),
        keys,
        options.database_uri.clone(),
        matrix_secret,
    );
    config.http.listeners = listeners(options.listen);
    if let Some(address) = options.listen {
        let base: url::Url = format!("http://{address}/").parse()?;
        config.http.public_base = base.clone();
        config.http.issuer = Some(base);
    }
    Ok(config.to_yaml_compact(true))
}

/// The listeners of a new configuration. They carry only the resources this version serves,
/// so that the file starts as it is; as features arrive, the `web` listener grows towards
/// MAS's default set.
fn listeners(listen: Option<&str>) -> Vec<ListenerConfig> {
    let available = portcullis_http::AVAILABLE_RESOURCES;
    let mut web: Vec<Resource> = WEB_RESOURCES
        .iter()
        .filter(|name| available.contains(name))
        .map(|name| Resource::new(*name))
        .collect();

    match listen {
        Some(address) => {
            // One listener for everything, health included: a single port to remember.
            web.push(Resource::new(ResourceName::Health));
            vec![listener("web", web, BindConfig::address(address))]
        }
        None => {
            let mut listeners = Vec::new();
            if !web.is_empty() {
                listeners.push(listener("web", web, BindConfig::address("[::]:8080")));
            }
            listeners.push(listener(
                "internal",
                vec![Resource::new(ResourceName::Health)],
                BindConfig::host_port(
                    Some("localhost"),
                    portcullis_config::Port::new(8081).expect("8081 is a valid port"),
                ),
            ));
            listeners
        }
    }
}

fn listener(name: &str, resources: Vec<Resource>, bind: BindConfig) -> ListenerConfig {
    ListenerConfig {
        name: Some(name.to_owned()),
        resources,
        prefix: None,
        binds: vec![bind],
        proxy_protocol: false,
        tls: None,
    }
}

fn random_kid(rng: &mut impl RngCore) -> String {
    random_string(rng, 10)
}

fn random_string(rng: &mut impl RngCore, length: usize) -> String {
    rng.sample_iter(&Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}
