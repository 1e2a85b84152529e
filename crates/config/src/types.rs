//! Small value types shared by several sections, each holding the rule that makes it valid.

use std::{borrow::Cow, fmt, net::IpAddr, num::NonZeroU16, str::FromStr};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// What a port must be; also the exact error message for a bad one.
const PORT_EXPECTATION: &str = "expected a number between 1 and 65535";

/// A TCP port, 1 to 65535.
///
/// Accepts a number or a string of digits, because a port often comes from `${VAR}`
/// interpolation, which always yields text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port(NonZeroU16);

impl Port {
    /// The port `number`, or `None` for 0.
    #[must_use]
    pub fn new(number: u16) -> Option<Self> {
        NonZeroU16::new(number).map(Self)
    }

    /// The port number.
    #[must_use]
    pub fn get(self) -> u16 {
        self.0.get()
    }

    fn from_u64(number: u64) -> Option<Self> {
        u16::try_from(number).ok().and_then(Self::new)
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Port {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.get())
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PortVisitor;

        impl de::Visitor<'_> for PortVisitor {
            type Value = Port;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number between 1 and 65535")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Port, E> {
                Port::from_u64(value).ok_or_else(|| E::custom(PORT_EXPECTATION))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Port, E> {
                u64::try_from(value)
                    .ok()
                    .and_then(Port::from_u64)
                    .ok_or_else(|| E::custom(PORT_EXPECTATION))
            }

            fn visit_f64<E: de::Error>(self, _value: f64) -> Result<Port, E> {
                Err(E::custom(PORT_EXPECTATION))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Port, E> {
                value
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .and_then(Port::from_u64)
                    .ok_or_else(|| E::custom(PORT_EXPECTATION))
            }

            fn visit_bool<E: de::Error>(self, _value: bool) -> Result<Port, E> {
                Err(E::custom(PORT_EXPECTATION))
            }
        }

        deserializer.deserialize_any(PortVisitor)
    }
}

impl JsonSchema for Port {
    fn schema_name() -> Cow<'static, str> {
        "Port".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A TCP port",
            "type": "integer",
            "minimum": 1,
            "maximum": 65535
        })
    }
}

/// An IP network in CIDR notation, such as `10.0.0.0/8`.
///
/// Host bits are allowed and kept (`127.0.0.1/8` is MAS's own default), and a bare address means
/// that single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNetwork(ipnet::IpNet);

impl IpNetwork {
    /// The network as written (host bits kept).
    #[must_use]
    pub fn net(&self) -> ipnet::IpNet {
        self.0
    }

    /// Whether `address` is inside the network.
    #[must_use]
    pub fn contains(&self, address: &IpAddr) -> bool {
        self.0.contains(address)
    }
}

/// The text of an invalid IP network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP network; expected CIDR notation such as 10.0.0.0/8 or fd00::/8")]
pub struct InvalidIpNetwork(String);

impl FromStr for IpNetwork {
    type Err = InvalidIpNetwork;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Ok(net) = text.parse::<ipnet::IpNet>() {
            return Ok(Self(net));
        }
        text.parse::<IpAddr>()
            .map(|address| Self(ipnet::IpNet::from(address)))
            .map_err(|_| InvalidIpNetwork(text.to_owned()))
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for IpNetwork {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpNetwork {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

impl JsonSchema for IpNetwork {
    fn schema_name() -> Cow<'static, str> {
        "IpNetwork".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An IP network in CIDR notation, e.g. 10.0.0.0/8",
            "type": "string",
            "examples": ["192.168.0.0/16", "fd00::/8"]
        })
    }
}

/// File permissions for a UNIX socket, in octal.
///
/// Written as a string (`"0660"`) or as a number whose digits are read as octal (`660`). YAML
/// reads an unquoted `0660` as text, so both common spellings work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileMode(u32);

impl FileMode {
    /// The permission bits, e.g. `0o660`.
    #[must_use]
    pub fn bits(self) -> u32 {
        self.0
    }

    /// The mode from permission bits; `None` above `0o7777`.
    #[must_use]
    pub fn from_bits(bits: u32) -> Option<Self> {
        (bits <= 0o7777).then_some(Self(bits))
    }

    fn from_octal_text(text: &str) -> Option<Self> {
        let digits = text.trim();
        let digits = digits.strip_prefix("0o").unwrap_or(digits);
        if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return None;
        }
        u32::from_str_radix(digits, 8)
            .ok()
            .and_then(Self::from_bits)
    }
}

const MODE_EXPECTATION: &str = "expected octal file permissions such as \"0660\"";

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{:04o}", self.0))
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ModeVisitor;

        impl de::Visitor<'_> for ModeVisitor {
            type Value = FileMode;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("octal file permissions")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<FileMode, E> {
                FileMode::from_octal_text(&value.to_string())
                    .ok_or_else(|| E::custom(MODE_EXPECTATION))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<FileMode, E> {
                u64::try_from(value)
                    .map_err(|_| E::custom(MODE_EXPECTATION))
                    .and_then(|value| self.visit_u64(value))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<FileMode, E> {
                FileMode::from_octal_text(value).ok_or_else(|| E::custom(MODE_EXPECTATION))
            }
        }

        deserializer.deserialize_any(ModeVisitor)
    }
}

impl JsonSchema for FileMode {
    fn schema_name() -> Cow<'static, str> {
        "FileMode".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Octal file permissions, e.g. \"0660\"",
            "type": ["string", "integer"],
            "examples": ["0660"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(value: serde_json::Value) -> Result<Port, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn a_port_of_zero_or_above_65535_is_refused_with_the_range() {
        assert_eq!(port(serde_json::json!(0)), Err(PORT_EXPECTATION.to_owned()));
        assert_eq!(
            port(serde_json::json!(70000)),
            Err(PORT_EXPECTATION.to_owned())
        );
    }

    #[test]
    fn a_port_given_as_interpolated_text_is_accepted() {
        assert_eq!(port(serde_json::json!("8081")).map(Port::get), Ok(8081));
    }

    #[test]
    fn a_network_with_host_bits_is_accepted_and_kept_as_written() {
        let net: IpNetwork = "127.0.0.1/8".parse().expect("host bits are accepted");
        assert_eq!(net.to_string(), "127.0.0.1/8");
        assert!(net.contains(&"127.9.9.9".parse().expect("a valid address")));
    }

    #[test]
    fn a_bare_address_is_a_single_address_network() {
        let net: IpNetwork = "::1".parse().expect("a bare address is accepted");
        assert_eq!(net.to_string(), "::1/128");
    }

    #[test]
    fn a_socket_mode_is_read_as_octal_from_text_or_digits() {
        let from_text: FileMode =
            serde_json::from_value(serde_json::json!("0660")).expect("octal text");
        let from_digits: FileMode =
            serde_json::from_value(serde_json::json!(660)).expect("octal digits");
        assert_eq!(from_text.bits(), 0o660);
        assert_eq!(from_digits.bits(), 0o660);
        assert!(serde_json::from_value::<FileMode>(serde_json::json!("0689")).is_err());
    }
}
