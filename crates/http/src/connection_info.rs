//! `GET /connection-info`: what the service knows about the connection a request came on.
//!
//! A debugging aid for operators setting up proxies (MAS has the same resource): it shows
//! whether the PROXY protocol header and `X-Forwarded-For` are understood as intended. Serve
//! it on an internal listener only; it reveals addresses.

use axum::{Json, Router, extract::Extension, routing::get};
use portcullis_listener::ConnectionInfo;
use serde_json::{Value, json};

use crate::{AppState, client_ip::ClientIp};

pub fn router() -> Router<AppState> {
    Router::new().route("/connection-info", get(get_connection_info))
}

async fn get_connection_info(
    connection: Option<Extension<ConnectionInfo>>,
    ClientIp(client_ip): ClientIp,
) -> Json<Value> {
    let connection = connection.map(|Extension(info)| {
        json!({
            "listener": &*info.listener,
            "local": info.local.to_string(),
            "transport_peer": info.transport_peer.map(|a| a.to_string()),
            "proxied_source": info.proxied.map(|p| p.source.to_string()),
            "proxied_destination": info.proxied.map(|p| p.destination.to_string()),
            "tls": info.tls.as_ref().map(|tls| json!({
                "server_name": tls.server_name,
                "alpn_protocol": tls.alpn_protocol.as_ref().map(|a| String::from_utf8_lossy(a).into_owned()),
            })),
        })
    });
    Json(json!({
        "connection": connection,
        "client_ip": client_ip.map(|ip| ip.to_string()),
    }))
}
