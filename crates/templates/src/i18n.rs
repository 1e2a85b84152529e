//! Translations of the pages: catalogs embedded in the binary, the choice of a language from
//! `Accept-Language` (RFC 9110 quality values), and lookups with `{name}` placeholders.

use std::{collections::HashMap, sync::OnceLock};

/// The English catalog, the reference every other catalog follows.
const EN: &str = include_str!("../translations/en.json");
/// The French catalog.
const FR: &str = include_str!("../translations/fr.json");

/// A language the pages are translated into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    /// English, the default and the fallback.
    #[default]
    En,
    /// French.
    Fr,
}

impl Locale {
    /// Every supported language.
    pub const ALL: [Self; 2] = [Self::En, Self::Fr];

    /// The BCP 47 tag, for `<html lang>`.
    #[must_use]
    pub const fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// The language of a tag whose primary subtag is supported (`fr-CA` → French).
    #[must_use]
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        Self::ALL
            .into_iter()
            .find(|locale| primary.eq_ignore_ascii_case(locale.tag()))
    }

    fn source(self) -> &'static str {
        match self {
            Self::En => EN,
            Self::Fr => FR,
        }
    }
}

/// Picks the language of an `Accept-Language` header: the supported language with the highest
/// quality value (the first listed on a tie); `*` stands for English; English when nothing
/// fits or there is no header.
#[must_use]
pub fn negotiate(accept_language: Option<&str>) -> Locale {
    let Some(header) = accept_language else {
        return Locale::default();
    };
    let mut best: Option<(u16, Locale)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let mut quality = 1000;
        for param in parts {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.trim().eq_ignore_ascii_case("q") {
                quality = parse_quality(value.trim()).unwrap_or(0);
            }
        }
        if quality == 0 || tag.is_empty() {
            continue;
        }
        let locale = if tag == "*" {
            Some(Locale::default())
        } else {
            Locale::from_tag(tag)
        };
        if let Some(locale) = locale
            && best.is_none_or(|(q, _)| quality > q)
        {
            best = Some((quality, locale));
        }
    }
    best.map(|(_, locale)| locale).unwrap_or_default()
}

/// A quality value in thousandths (`0.8` → 800), `None` when malformed.
fn parse_quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = match whole {
        "0" => format!("{fraction:0<3}").parse().ok()?,
        "1" if fraction.bytes().all(|b| b == b'0') => 1000,
        _ => return None,
    };
    Some(thousandths)
}

/// The catalog of a language, parsed once.
fn catalog(locale: Locale) -> &'static HashMap<String, String> {
    static CATALOGS: OnceLock<[HashMap<String, String>; 2]> = OnceLock::new();
    let catalogs = CATALOGS.get_or_init(|| {
        Locale::ALL.map(|locale| serde_json::from_str(locale.source()).unwrap_or_default())
    });
    match locale {
        Locale::En => &catalogs[0],
        Locale::Fr => &catalogs[1],
    }
}

/// The text of `key` in `locale`, else in English, else the key itself, with each `{name}`
/// replaced by the value of `name` in `args`.
#[must_use]
pub fn translate(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let text = catalog(locale)
        .get(key)
        .or_else(|| catalog(Locale::En).get(key))
        .map_or(key, String::as_str);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let replaced = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(arg, _)| *arg == name)
                .map(|(_, value)| (close, *value))
        });
        if let Some((close, value)) = replaced {
            out.push_str(value);
            rest = &after[close + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn negotiation_follows_quality_values() {
        assert_eq!(negotiate(Some("fr-CA;q=0.9, en;q=0.8")), Locale::Fr);
        assert_eq!(negotiate(Some("en;q=0.5, fr;q=0.6")), Locale::Fr);
        assert_eq!(negotiate(Some("fr;q=0.5, en")), Locale::En);
        assert_eq!(negotiate(Some("FR")), Locale::Fr);
        assert_eq!(negotiate(Some("de, fr;q=0.1")), Locale::Fr);
        assert_eq!(negotiate(Some("fr;q=0, en;q=0.1")), Locale::En);
        assert_eq!(negotiate(Some("fr, en")), Locale::Fr);
        assert_eq!(negotiate(Some("en, fr")), Locale::En);
    }

    #[test]
    fn unknown_or_missing_languages_give_english() {
        assert_eq!(negotiate(None), Locale::En);
        assert_eq!(negotiate(Some("")), Locale::En);
        assert_eq!(negotiate(Some("de-DE, ja;q=0.9")), Locale::En);
        assert_eq!(negotiate(Some("fr;q=abc")), Locale::En);
        assert_eq!(negotiate(Some("*")), Locale::En);
    }

    #[test]
    fn missing_keys_fall_back_to_english_then_to_the_key() {
        assert_eq!(translate(Locale::Fr, "no.such.key", &[]), "no.such.key");
        assert_eq!(
            translate(Locale::Fr, "login.title", &[]),
            catalog(Locale::Fr)["login.title"]
        );
        assert_ne!(
            translate(Locale::Fr, "login.title", &[]),
            translate(Locale::En, "login.title", &[])
        );
    }

    #[test]
    fn placeholders_are_replaced() {
        assert_eq!(
            translate(Locale::En, "login.heading", &[("service", "Example")]),
            "Sign in to Example"
        );
        assert_eq!(
            translate(Locale::Fr, "login.heading", &[("service", "Example")]),
            "Se connecter à Example"
        );
        assert_eq!(translate(Locale::En, "a {b} {c", &[("b", "x")]), "a x {c");
    }

    #[test]
    fn the_catalogs_have_exactly_the_same_keys() {
        let en: BTreeSet<_> = catalog(Locale::En).keys().collect();
        assert!(!en.is_empty(), "en.json parses");
        for locale in Locale::ALL {
            let keys: BTreeSet<_> = catalog(locale).keys().collect();
            assert_eq!(keys, en, "{} has the keys of en.json", locale.tag());
        }
    }

    #[test]
    fn every_key_used_by_the_embedded_templates_exists() {
        let mut missing = Vec::new();
        for (name, source) in crate::Templates::embedded() {
            let mut rest = source;
            while let Some(at) = rest.find("_(\"") {
                rest = &rest[at + 3..];
                let key = &rest[..rest.find('"').unwrap_or(0)];
                if !catalog(Locale::En).contains_key(key) {
                    missing.push(format!("{name}: {key}"));
                }
            }
        }
        assert!(missing.is_empty(), "keys missing from en.json: {missing:?}");
    }
}
