//! Translations of the pages: catalogs embedded in the binary, the choice of a language from
//! `Accept-Language` (RFC 9110 quality values), lookups with `{name}` placeholders, plurals
//! by each language's CLDR rules, and dates written the way each language writes them.

use std::{collections::HashMap, sync::OnceLock};

use chrono::{DateTime, Datelike as _, Utc};
use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};

/// Declares the supported languages: variant, BCP 47 tag, English name, catalog file.
macro_rules! locales {
    ($($variant:ident => $tag:literal, $name:literal, $file:literal;)+) => {
        /// A language the pages are translated into.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum Locale {
            /// English, the default and the fallback.
            #[default]
            En,
            $(#[doc = $name] $variant,)+
        }

        impl Locale {
            /// Every supported language, English first.
            pub const ALL: &[Self] = &[Self::En, $(Self::$variant,)+];

            /// The BCP 47 tag, for `<html lang>`.
            #[must_use]
            pub const fn tag(self) -> &'static str {
                match self {
                    Self::En => "en",
                    $(Self::$variant => $tag,)+
                }
            }

            /// The catalog, compressed by `build.rs`.
            fn compressed(self) -> &'static [u8] {
                match self {
                    Self::En => include_bytes!(concat!(env!("OUT_DIR"), "/en.json.deflate")),
                    $(Self::$variant => include_bytes!(concat!(env!("OUT_DIR"), "/", $file, ".deflate")),)+
                }
            }
        }
    };
}

locales! {
    Cs => "cs", "Czech", "cs.json";
    Da => "da", "Danish", "da.json";
    De => "de", "German", "de.json";
    Et => "et", "Estonian", "et.json";
    Fi => "fi", "Finnish", "fi.json";
    Fr => "fr", "French", "fr.json";
    Hu => "hu", "Hungarian", "hu.json";
    NbNo => "nb-NO", "Norwegian Bokmål", "nb-NO.json";
    Nl => "nl", "Dutch", "nl.json";
    Pl => "pl", "Polish", "pl.json";
    Pt => "pt", "Portuguese (Portugal)", "pt.json";
    PtBr => "pt-BR", "Portuguese (Brazil)", "pt-BR.json";
    Ru => "ru", "Russian", "ru.json";
    Sk => "sk", "Slovak", "sk.json";
    Sv => "sv", "Swedish", "sv.json";
    Uk => "uk", "Ukrainian", "uk.json";
    Uz => "uz", "Uzbek", "uz.json";
    ZhHans => "zh-Hans", "Chinese (Simplified)", "zh-Hans.json";
}

impl Locale {
    /// The language of a tag (`fr-CA` → French), with the fallbacks a reader of each would
    /// choose: any Norwegian → Bokmål, Portuguese other than Brazil's → Portugal's, Chinese in
    /// the simplified script or of the mainland and Singapore → simplified Chinese. Traditional
    /// Chinese has no translation here.
    #[must_use]
    pub fn from_tag(tag: &str) -> Option<Self> {
        let tag = tag.replace('_', "-").to_ascii_lowercase();
        let mut subtags = tag.split('-');
        let primary = subtags.next().unwrap_or_default();
        let rest: Vec<&str> = subtags.collect();
        let has = |subtag: &str| rest.contains(&subtag);
        match primary {
            "nb" | "no" | "nn" => Some(Self::NbNo),
            "pt" if has("br") => Some(Self::PtBr),
            "pt" => Some(Self::Pt),
            "zh" if has("hans") || has("cn") || has("sg") => Some(Self::ZhHans),
            "zh" if has("hant") || has("tw") || has("hk") || has("mo") => None,
            "zh" => Some(Self::ZhHans),
            _ => Self::ALL
                .iter()
                .copied()
                .find(|locale| locale.tag().eq_ignore_ascii_case(primary)),
        }
    }

    fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|locale| *locale == self)
            .unwrap_or_default()
    }

    /// The CLDR plural rules of the language (cardinal numbers).
    fn plural_rules(self) -> Option<&'static PluralRules> {
        static RULES: OnceLock<Vec<Option<PluralRules>>> = OnceLock::new();
        RULES
            .get_or_init(|| {
                Self::ALL
                    .iter()
                    .map(|locale| {
                        // CLDR's names: its `pt` is Brazil's, Portugal's is `pt-PT`.
                        let language = match locale {
                            Self::NbNo => "nb",
                            Self::Pt => "pt-PT",
                            Self::PtBr => "pt",
                            Self::ZhHans => "zh",
                            other => other.tag(),
                        };
                        let id: unic_langid::LanguageIdentifier = language.parse().ok()?;
                        PluralRules::create(id, PluralRuleType::CARDINAL).ok()
                    })
                    .collect()
            })
            .get(self.index())?
            .as_ref()
    }

    /// The CLDR plural category of `count` in this language.
    #[must_use]
    pub fn plural_category(self, count: u64) -> &'static str {
        let category = self
            .plural_rules()
            .and_then(|rules| rules.select(count).ok())
            .unwrap_or(PluralCategory::OTHER);
        match category {
            PluralCategory::ZERO => "zero",
            PluralCategory::ONE => "one",
            PluralCategory::TWO => "two",
            PluralCategory::FEW => "few",
            PluralCategory::MANY => "many",
            PluralCategory::OTHER => "other",
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

/// The catalog of a language, inflated and parsed when first needed.
fn catalog(locale: Locale) -> &'static HashMap<String, String> {
    static CATALOGS: [OnceLock<HashMap<String, String>>; Locale::ALL.len()] =
        [const { OnceLock::new() }; Locale::ALL.len()];
    CATALOGS[locale.index()].get_or_init(|| {
        miniz_oxide::inflate::decompress_to_vec(locale.compressed())
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default()
    })
}

/// The text of `key` in `locale`: the entry itself, or, for a count (`args` has a whole
/// `count`), the entry `key.<plural category>` and then `key.other`.
fn lookup(locale: Locale, key: &str, args: &[(&str, &str)]) -> Option<&'static str> {
    let catalog = catalog(locale);
    if let Some(text) = catalog.get(key) {
        return Some(text);
    }
    let count: u64 = args
        .iter()
        .find(|(name, _)| *name == "count")
        .and_then(|(_, value)| value.parse().ok())?;
    catalog
        .get(&format!("{key}.{}", locale.plural_category(count)))
        .or_else(|| catalog.get(&format!("{key}.other")))
        .map(String::as_str)
}

/// `at` as the language writes a date and a time (in UTC, and saying so): "November 23,
/// 2026, 12:00 UTC", "23 novembre 2026 à 12:00 UTC".
#[must_use]
pub fn format_date(locale: Locale, at: DateTime<Utc>) -> String {
    let month = translate(locale, &format!("date.month.{}", at.month()), &[]);
    translate(
        locale,
        "date.format",
        &[
            ("day", &at.day().to_string()),
            ("month", &month),
            ("year", &at.year().to_string()),
            ("time", &at.format("%H:%M").to_string()),
        ],
    )
}

/// The text of `key` in `locale`, else in English, else the key itself, with each `{name}`
/// replaced by the value of `name` in `args`. A key that counts (`wait.seconds`) is written
/// in the catalogs once per plural category (`wait.seconds.one`, `wait.seconds.other`…) and
/// chosen by the `count` argument.
#[must_use]
pub fn translate(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let text = lookup(locale, key, args)
        .or_else(|| lookup(Locale::En, key, args))
        .unwrap_or(key);
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
        assert_eq!(negotiate(Some("ja, fr;q=0.1")), Locale::Fr);
        assert_eq!(negotiate(Some("de-DE, fr;q=0.1")), Locale::De);
        assert_eq!(negotiate(Some("fr;q=0, en;q=0.1")), Locale::En);
        assert_eq!(negotiate(Some("fr, en")), Locale::Fr);
        assert_eq!(negotiate(Some("en, fr")), Locale::En);
    }

    #[test]
    fn unknown_or_missing_languages_give_english() {
        assert_eq!(negotiate(None), Locale::En);
        assert_eq!(negotiate(Some("")), Locale::En);
        assert_eq!(negotiate(Some("ja-JP, ko;q=0.9")), Locale::En);
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

    /// The keys of English that count (`wait.seconds` of `wait.seconds.one` and
    /// `wait.seconds.other`).
    fn counted_keys() -> BTreeSet<&'static str> {
        let english = catalog(Locale::En);
        english
            .keys()
            .filter_map(|key| key.strip_suffix(".other"))
            .filter(|base| english.contains_key(&format!("{base}.one")))
            .collect()
    }

    /// The plural forms of a language: every category its rules give a whole number or a
    /// fraction (the pages count in whole numbers, but a translation has every form), and
    /// `other`.
    fn categories(locale: Locale) -> BTreeSet<&'static str> {
        let fractions = ["0.5", "1.5", "2.5", "5.5", "21.5"].map(|number| {
            match locale
                .plural_rules()
                .and_then(|rules| rules.select(number).ok())
            {
                Some(PluralCategory::ONE) => "one",
                Some(PluralCategory::FEW) => "few",
                Some(PluralCategory::MANY) => "many",
                _ => "other",
            }
        });
        (0..=1000)
            .chain([1_000_000])
            .map(|count| locale.plural_category(count))
            .chain(fractions)
            .chain(["other"])
            .collect()
    }

    /// The keys a catalog must have: English's, with the plural forms of its language.
    fn expected_keys(locale: Locale) -> BTreeSet<String> {
        let counted = counted_keys();
        let mut expected: BTreeSet<String> = catalog(Locale::En)
            .keys()
            .filter(|key| {
                !key.rsplit_once('.')
                    .is_some_and(|(base, _)| counted.contains(base))
            })
            .cloned()
            .collect();
        for base in counted {
            for category in categories(locale) {
                expected.insert(format!("{base}.{category}"));
            }
        }
        expected
    }

    #[test]
    fn every_catalog_has_every_key_of_english_in_the_plural_forms_of_its_language() {
        assert!(catalog(Locale::En).len() > 400, "en.json parses");
        for &locale in Locale::ALL {
            let keys: BTreeSet<String> = catalog(locale).keys().cloned().collect();
            let expected = expected_keys(locale);
            let missing: Vec<_> = expected.difference(&keys).collect();
            let unknown: Vec<_> = keys.difference(&expected).collect();
            assert!(
                missing.is_empty() && unknown.is_empty(),
                "{}: missing {missing:?}, unknown {unknown:?}",
                locale.tag()
            );
        }
    }

    /// `{name}` placeholders of a text.
    fn placeholders(text: &str) -> BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_translation_keeps_the_placeholders_of_english() {
        let english = catalog(Locale::En);
        for &locale in Locale::ALL {
            for (key, text) in catalog(locale) {
                let source = english.get(key).or_else(|| {
                    let (base, _) = key.rsplit_once('.')?;
                    english.get(&format!("{base}.other"))
                });
                let Some(source) = source else { continue };
                assert_eq!(
                    placeholders(text),
                    placeholders(source),
                    "{} {key}: {text}",
                    locale.tag()
                );
            }
        }
    }

    #[test]
    fn counts_take_the_plural_form_of_the_language() {
        let seconds = |locale, count: u64| {
            translate(locale, "wait.seconds", &[("count", &count.to_string())])
        };
        assert_eq!(seconds(Locale::En, 1), "1 second");
        assert_eq!(seconds(Locale::En, 2), "2 seconds");
        assert_eq!(seconds(Locale::Fr, 0), "0 seconde");
        assert_eq!(seconds(Locale::Fr, 2), "2 secondes");
        // Russian: one for 1 and 21, few for 2 to 4, many for 5 to 20.
        assert_eq!(Locale::Ru.plural_category(21), "one");
        assert_eq!(Locale::Ru.plural_category(3), "few");
        assert_eq!(Locale::Ru.plural_category(11), "many");
        assert_eq!(Locale::Pl.plural_category(22), "few");
        assert_eq!(Locale::ZhHans.plural_category(1), "other");
        // Brazil counts 0 as one ("0 segundo"), Portugal as other.
        assert_eq!(Locale::PtBr.plural_category(0), "one");
        assert_eq!(Locale::Pt.plural_category(0), "other");
        assert_ne!(seconds(Locale::Ru, 1), seconds(Locale::Ru, 3));
        assert_ne!(seconds(Locale::Ru, 3), seconds(Locale::Ru, 5));
    }

    #[test]
    fn dates_are_written_as_each_language_writes_them() {
        let at = DateTime::parse_from_rfc3339("2026-11-03T09:05:00Z")
            .map(|at| at.with_timezone(&Utc))
            .expect("a date");
        assert_eq!(format_date(Locale::En, at), "November 3, 2026, 09:05 UTC");
        assert_eq!(format_date(Locale::Fr, at), "3 novembre 2026 à 09:05 UTC");
        for &locale in Locale::ALL {
            let text = format_date(locale, at);
            assert!(
                text.contains("2026") && text.contains("09:05") && !text.contains('{'),
                "{}: {text}",
                locale.tag()
            );
        }
    }

    #[test]
    fn tags_fall_back_to_the_nearest_language() {
        assert_eq!(Locale::from_tag("pt-PT"), Some(Locale::Pt));
        assert_eq!(Locale::from_tag("pt"), Some(Locale::Pt));
        assert_eq!(Locale::from_tag("pt-BR"), Some(Locale::PtBr));
        assert_eq!(Locale::from_tag("pt_br"), Some(Locale::PtBr));
        assert_eq!(Locale::from_tag("zh-CN"), Some(Locale::ZhHans));
        assert_eq!(Locale::from_tag("zh-Hans-CN"), Some(Locale::ZhHans));
        assert_eq!(Locale::from_tag("zh"), Some(Locale::ZhHans));
        assert_eq!(Locale::from_tag("zh-TW"), None);
        assert_eq!(Locale::from_tag("no"), Some(Locale::NbNo));
        assert_eq!(Locale::from_tag("nn-NO"), Some(Locale::NbNo));
        assert_eq!(Locale::from_tag("de-AT"), Some(Locale::De));
        assert_eq!(Locale::from_tag("uz-Latn-UZ"), Some(Locale::Uz));
        assert_eq!(Locale::from_tag("ja"), None);
        assert_eq!(negotiate(Some("ja, pt-PT;q=0.8, en;q=0.5")), Locale::Pt);
        assert_eq!(negotiate(Some("zh-CN,zh;q=0.9")), Locale::ZhHans);
    }

    #[test]
    fn every_key_used_by_the_embedded_templates_exists() {
        let mut missing = Vec::new();
        for (name, source) in crate::Templates::embedded() {
            let mut rest = source;
            while let Some(at) = rest.find("_(\"") {
                rest = &rest[at + 3..];
                let key = &rest[..rest.find('"').unwrap_or(0)];
                let english = catalog(Locale::En);
                if !english.contains_key(key) && !english.contains_key(&format!("{key}.other")) {
                    missing.push(format!("{name}: {key}"));
                }
            }
        }
        assert!(missing.is_empty(), "keys missing from en.json: {missing:?}");
    }
}
