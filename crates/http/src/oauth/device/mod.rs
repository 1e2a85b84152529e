//! The device authorization grant (RFC 8628), used by Matrix QR login and by devices without a
//! browser: the device shows a code, the user types it at `/link` in a signed-in browser and
//! approves it at `/device/{id}`; the device polls the token endpoint meanwhile.

pub mod consent;
pub mod link;
