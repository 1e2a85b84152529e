//! What the state machines share: the error of a transition that their current state forbids,
//! and the error of a stored state name that is not one of theirs.

/// A transition that the current state does not allow, such as exchanging an authorization
/// grant twice or consuming a revoked refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} {what} that is {state}")]
pub struct InvalidTransition {
    /// The kind of object, e.g. `an authorization grant`.
    pub what: &'static str,
    /// The transition attempted, e.g. `exchange`.
    pub action: &'static str,
    /// The state the object is in, e.g. `pending`.
    pub state: &'static str,
}

/// A name that is not one of an enumeration's, e.g. a response mode `sideways`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownName {
    /// What the name was meant to be, e.g. `response mode`.
    pub what: &'static str,
    /// The name given.
    pub value: String,
}

/// Declares a field-less enum stored by name: `as_str`, `Display` and `FromStr` (failing with
/// [`UnknownName`]) from one table of variants and names.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name, as stored and as written in the protocol.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::state::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|variant| variant.as_str() == s)
                    .ok_or_else(|| $crate::state::UnknownName {
                        what: $what,
                        value: s.to_owned(),
                    })
            }
        }
    };
}
pub(crate) use named_enum;
