//! Error messages that name the file, the line and the key: [`PresetError`], the unknown-key
//! check with its "did you mean" ([`check_keys`], [`did_you_mean`]), where a bad value is
//! written ([`key_path_at`], [`key_line`]) and serde's wording made plain.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::schema::{fields_of, join_field, Preset, SECTIONS};

/// Where `word` occurs in `s` not as part of a longer identifier.
fn word_at(s: &str, word: &str) -> Option<usize> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    s.match_indices(word)
        .find(|(i, _)| {
            !s[..*i].chars().next_back().is_some_and(ident)
                && !s[i + word.len()..].chars().next().is_some_and(ident)
        })
        .map(|(i, _)| i)
}

/// A place in a preset file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file as shown to the user (`presets/youtube.toml` for shipped presets).
    pub file: String,
    /// 1-based line, when the problem is at one.
    pub line: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// Why a preset cannot be used. Display is one line naming the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// No shipped or user preset has this name.
    #[error("unknown preset \"{name}\"{}", not_found_hint(.suggestion, .available))]
    NotFound {
        /// The name or path as given.
        name: String,
        /// The preset name closest to it, if one is close enough.
        suggestion: Option<String>,
        /// The names of every shipped and user preset.
        available: Vec<String>,
    },
    /// The file cannot be read.
    #[error("{}: {source}", .path.display())]
    Read {
        /// The preset file.
        path: PathBuf,
        /// The failed read.
        source: std::io::Error,
    },
    /// Not TOML.
    #[error("{at}: {message}")]
    Syntax {
        /// Where the parser found the error.
        at: Location,
        /// The TOML parser's message.
        message: String,
    },
    /// A key no table of that name has.
    #[error("{at}: unknown key \"{key}\"{}{hint}", table_suffix(.table))]
    UnknownKey {
        /// Where the key is written.
        at: Location,
        /// The key as written.
        key: String,
        /// The table it is in (`None`: the top level).
        table: Option<&'static str>,
        /// What the key was probably meant to be.
        hint: KeyHint,
    },
    /// A value of the wrong type or out of range.
    #[error("{at}: {}", join_field(.field, .message))]
    Invalid {
        /// Where the value is written.
        at: Location,
        /// The key path (`render.crf`, or a top-level key; `?` when it cannot be told).
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

fn not_found_hint(suggestion: &Option<String>, available: &[String]) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean \"{s}\"? `subcut presets list` shows them all)"),
        None => format!(" (presets: {})", available.join(", ")),
    }
}

fn table_suffix(table: &Option<&'static str>) -> String {
    table.map_or_else(String::new, |t| format!(" in [{t}]"))
}

/// What an unknown key was probably meant to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyHint {
    /// A key of the same table with a similar name.
    DidYouMean(&'static str),
    /// Another table has exactly this key.
    BelongsIn(&'static str),
    /// Nothing similar: the keys the table has.
    Expected(&'static [&'static str]),
}

impl fmt::Display for KeyHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyHint::DidYouMean(k) => write!(f, " (did you mean \"{k}\"?)"),
            KeyHint::BelongsIn(t) => write!(f, " (it belongs in [{t}])"),
            KeyHint::Expected(keys) => write!(f, " (expected one of: {})", keys.join(", ")),
        }
    }
}

/// The most similar candidate, if it is similar enough to be what was meant.
pub(super) fn did_you_mean<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let typed_norm = typed.to_lowercase().replace('-', "_");
    candidates
        .into_iter()
        .map(|c| {
            let score = if c == typed_norm {
                2.0
            } else {
                strsim::jaro_winkler(&typed_norm, c)
            };
            (score, c)
        })
        .filter(|(s, _)| *s >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The first unknown key (in file order) at the top level or in a stage table.
pub(super) fn check_keys(
    doc: &DeTable<'_>,
    at: &dyn Fn(Option<Range<usize>>) -> Location,
) -> Result<(), PresetError> {
    let top = fields_of::<Preset>();
    let mut unknown: Vec<(usize, PresetError)> = Vec::new();
    let mut report = |key: &Spanned<std::borrow::Cow<'_, str>>,
                      table: Option<&'static str>,
                      fields: &'static [&'static str]| {
        let k = key.get_ref().as_ref();
        let hint = match did_you_mean(k, fields.iter().copied()) {
            Some(s) => KeyHint::DidYouMean(s),
            None => SECTIONS
                .iter()
                .find(|(s, f)| Some(*s) != table && f().contains(&k))
                .map_or(KeyHint::Expected(fields), |(s, _)| KeyHint::BelongsIn(s)),
        };
        unknown.push((
            key.span().start,
            PresetError::UnknownKey {
                at: at(Some(key.span())),
                key: k.to_string(),
                table,
                hint,
            },
        ));
    };
    for (k, v) in doc {
        let key = k.get_ref().as_ref();
        if !top.contains(&key) {
            report(k, None, top);
            continue;
        }
        let section = SECTIONS.iter().find(|(s, _)| *s == key);
        if let (Some((name, fields)), DeValue::Table(t)) = (section, v.get_ref()) {
            let fields = fields();
            for (k2, _) in t {
                if !fields.contains(&k2.get_ref().as_ref()) {
                    report(k2, Some(name), fields);
                }
            }
        }
    }
    match unknown.into_iter().min_by_key(|(pos, _)| *pos) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// The key path (`["cut", "threshold"]`) whose key or value holds byte `pos`.
pub(super) fn key_path_at(t: &DeTable<'_>, pos: usize) -> Option<Vec<String>> {
    for (k, v) in t {
        if let DeValue::Table(inner) = v.get_ref() {
            if let Some(mut p) = key_path_at(inner, pos) {
                p.insert(0, k.get_ref().to_string());
                return Some(p);
            }
        }
        let within = |s: Range<usize>| s.contains(&pos) || (s.is_empty() && s.start == pos);
        if within(k.span()) || within(v.span()) {
            return Some(vec![k.get_ref().to_string()]);
        }
    }
    None
}

/// The line of the key a validation error is about: `field` (`render.crf`), or another key
/// of the same table that the message mentions (`min_duration is longer than max_duration`).
pub(super) fn key_line(doc: &DeTable<'_>, text: &str, field: &str, message: &str) -> Option<usize> {
    let (section, key) = match field.split_once('.') {
        Some((s, k)) => (Some(s), k),
        None => (None, field),
    };
    let table = match section {
        Some(s) => match doc.iter().find(|(k, _)| k.get_ref() == s)?.1.get_ref() {
            DeValue::Table(t) => t,
            _ => return None,
        },
        None => doc,
    };
    let span_of = |name: &str| {
        table
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map(|(k, _)| k.span().start)
    };
    span_of(key)
        .or_else(|| {
            table
                .iter()
                .filter(|(k, _)| word_at(message, k.get_ref()).is_some())
                .map(|(k, _)| k.span().start)
                .min()
        })
        .map(|pos| line_of(text, pos))
}

/// serde's messages in words a preset's author uses (`expected u8` → a whole number 0…255).
pub(super) fn plain_serde_message(m: &str) -> String {
    let words: &[(&str, &str)] = &[
        ("expected u8", "expected a whole number 0…255"),
        ("expected u16", "expected a whole number 0…65535"),
        ("expected u32", "expected a whole number 0…4294967295"),
        ("expected u64", "expected a whole number ≥ 0"),
        ("expected usize", "expected a whole number ≥ 0"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected a borrowed string", "expected a string"),
    ];
    let mut out = m.trim().replace('\n', " ");
    for (from, to) in words {
        if out.ends_with(from) {
            out = format!("{}{to}", &out[..out.len() - from.len()]);
        }
    }
    if let Some(i) = out.find("expected struct ") {
        out = format!("{}expected a table", &out[..i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::preset::Library;

    fn err(text: &str) -> String {
        let e = Library::shipped_only()
            .parse(text, "presets/x.toml")
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n'), "one line: {e}");
        e
    }

    #[test]
    fn unknown_top_level_key_names_line_and_suggestion() {
        let e = err("description = \"x\"\n\ntimelin = true\n");
        assert_eq!(
            e,
            r#"presets/x.toml:3: unknown key "timelin" (did you mean "timeline"?)"#
        );
        let e = err("[subtitles]\nmax_lines = 1\n");
        assert_eq!(
            e,
            r#"presets/x.toml:1: unknown key "subtitles" (did you mean "subtitle"?)"#
        );
        // A stage key written at the top level says where it belongs.
        let e = err("mode = \"cut\"\nmax_cps = 12\n");
        assert_eq!(
            e,
            r#"presets/x.toml:2: unknown key "max_cps" (it belongs in [subtitle])"#
        );
    }

    #[test]
    fn unknown_key_in_a_table_names_line_table_and_suggestion() {
        let text = "# comment\n\n[caption]\nmodel = \"base\"\n\n[cut]\nmin_silence = 0.4\ntreshold = \"-30dB\"\n";
        assert_eq!(
            err(text),
            r#"presets/x.toml:8: unknown key "treshold" in [cut] (did you mean "threshold"?)"#
        );
        // Flag spelling (dashes) is recognised.
        let e = err("[subtitle]\nmax-cps = 12\n");
        assert_eq!(
            e,
            r#"presets/x.toml:2: unknown key "max-cps" in [subtitle] (did you mean "max_cps"?)"#
        );
        // A key of another table.
        let e = err("[render]\nmax_lines = 1\n");
        assert_eq!(
            e,
            r#"presets/x.toml:2: unknown key "max_lines" in [render] (it belongs in [subtitle])"#
        );
        // Nothing close: the table's keys are listed.
        let e = err("[style]\nzzz = 1\n");
        assert!(
            e.starts_with(r#"presets/x.toml:2: unknown key "zzz" in [style] (expected one of: font, size, bold,"#),
            "{e}"
        );
        // The first unknown key in file order is reported.
        let e = err("[render]\ncfr = 20\n\n[cut]\nmargn_before = 0.1\n");
        assert!(
            e.starts_with("presets/x.toml:2: unknown key \"cfr\""),
            "{e}"
        );
        // Dotted keys and inline tables are checked too.
        let e = err("cut.min_silense = 0.3\n");
        assert!(e.starts_with("presets/x.toml:1: unknown key \"min_silense\" in [cut] (did you mean \"min_silence\"?)"), "{e}");
        let e = err("style = { sise = 40 }\n");
        assert!(
            e.contains(":1: unknown key \"sise\" in [style] (did you mean \"size\"?)"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_name_file_line_field_and_range() {
        assert_eq!(
            err("[render]\ncrf = 99\n"),
            "presets/x.toml:2: render.crf 99 is out of range 0..=51"
        );
        assert_eq!(
            err("\n[subtitle]\nmax_lines = 0\n"),
            "presets/x.toml:3: subtitle.max_lines must be 1…4 (got 0)"
        );
        assert_eq!(
            err("[cut]\nthreshold = \"+5dB\"\n"),
            "presets/x.toml:2: cut.threshold 5 dB is outside −100…0 dB"
        );
        assert_eq!(
            err("[caption]\nlanguage = 5\n"),
            "presets/x.toml:2: caption.language: invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            err("[caption]\nlanguage = \"klingon\"\n"),
            "presets/x.toml:2: caption.language \"klingon\" is not a language whisper knows: use auto, a code such as en, zh, de, ja, or a list such as zh,en"
        );
        assert_eq!(
            err("[render]\ncrf = 300\n"),
            "presets/x.toml:2: render.crf: invalid value: integer `300`, expected a whole number 0…255"
        );
        assert_eq!(
            err("[render]\ncrf = -1\n"),
            "presets/x.toml:2: render.crf: invalid value: integer `-1`, expected a whole number 0…255"
        );
        assert_eq!(
            err("[style]\nprimary_colour = \"white\"\n"),
            "presets/x.toml:2: style.primary_colour must be a colour written #RRGGBB or #RRGGBBAA (got \"white\")"
        );
        assert_eq!(
            err("[style]\nplay_res_y = 1920\nmargin_v = 2000\n"),
            "presets/x.toml:3: style.margin_v must be 0…960 (got 2000)"
        );
        assert_eq!(
            err("[caption]\nformats = [\"srt\", \"docx\"]\n"),
            "presets/x.toml:2: caption.formats: unknown format \"docx\" (expected one of: srt, vtt, ass, json, txt)"
        );
        assert_eq!(
            err("export = [\"xml\"]\n"),
            "presets/x.toml:1: export: unknown variant `xml`, expected one of `json`, `edl`, `fcpxml`, `premiere`, `otio`"
        );
        assert_eq!(
            err("mode = \"all\"\n"),
            "presets/x.toml:1: mode: unknown variant `all`, expected `cut` or `captions`"
        );
        assert_eq!(
            err("[cut]\nmin_silence = \"half a second\"\n"),
            "presets/x.toml:2: cut.min_silence: invalid duration \"half a second\" (expected e.g. 0.5s, 500ms or 0.5)"
        );
        assert_eq!(
            err("subtitle = 3\n"),
            "presets/x.toml:1: subtitle: invalid type: integer `3`, expected a table"
        );
        assert_eq!(
            err("[render]\npreset = \"turbo\"\n"),
            "presets/x.toml:2: render.preset: unknown preset \"turbo\" (one of ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo)"
        );
        assert_eq!(
            err("[render]\naudio_bitrate = 10\n"),
            "presets/x.toml:2: render.audio_bitrate: audio bit rate 10 b/s is out of range 6000..=1536000"
        );
        assert_eq!(
            err("[render]\nburn_in = \"subs.ass\"\n"),
            "presets/x.toml:2: render.burn_in is chosen by subcut for each input; set the top-level `burn_in = true` instead"
        );
        assert_eq!(
            err("mode = \"captions\"\ncaptions = false\n"),
            "presets/x.toml:2: captions = false only makes sense with mode = \"cut\" (a captions job without captions does nothing)"
        );
        assert_eq!(
            err("captions = false\nburn_in = true\n"),
            "presets/x.toml:2: burn_in = true needs captions; it cannot go with captions = false"
        );
        // A rule between two keys points at the one in the file.
        assert_eq!(
            err("[subtitle]\nmax_duration = 0.5\n"),
            "presets/x.toml:2: subtitle.min_duration is longer than max_duration"
        );
        // Syntax errors keep their line.
        assert_eq!(
            err("[cut\n"),
            "presets/x.toml:1: unclosed table, expected `]`"
        );
        assert_eq!(
            err("[cut]\nmin_clip = 1\nmin_clip = 2\n"),
            "presets/x.toml:3: duplicate key"
        );
    }
}
