//! The device authorization grant (RFC 8628), used by Matrix QR login and by devices without a
//! browser: the device asks at `POST /oauth2/device` and shows the user code, the user types it
//! at `/link` in a signed-in browser and approves it at `/device/{id}`; the device polls the
//! token endpoint meanwhile (`oauth::token::device_code`).

pub mod authorize;
pub mod consent;
pub mod link;
