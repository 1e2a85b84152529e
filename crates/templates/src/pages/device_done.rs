//! `device_done.html`: tells the user what became of a device's request after they answered it.

use serde::Serialize;

use super::Page;

/// The end of the device flow in the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceDonePage {
    /// Whether the user allowed the device.
    pub approved: bool,
    /// The application's name, or its client id.
    pub client_name: String,
    /// The signed-in user's name.
    pub username: String,
}

impl Page for DeviceDonePage {
    const TEMPLATE: &'static str = "device_done.html";
}
