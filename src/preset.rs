//! Presets: a whole job described in a TOML file (what to write, how to caption, segment,
//! cut and encode), shipped with the binary or written by the user.
//!
//! A preset file has a few top-level keys and one table per stage, each typed by the
//! settings struct of that stage, so every knob the stages have is settable:
//!
//! ```toml
//! description = "YouTube (16:9): gentle cuts, SRT + VTT captions to upload"
//! base = "default"     # start from another preset (optional)
//! mode = "cut"         # `subcut run`: "cut" (captions + cut media) or "captions"
//! burn_in = false      # burn the cut captions into the cut video
//! export = ["edl"]     # cut lists: json, edl, fcpxml
//! timeline = false     # NAME.timeline.png
//! [caption]            # Caption: model, language, translate, formats, chinese, threads, …
//! [subtitle]           # SegmentRules: max_lines, max_line_chars, max_cps, …
//! [style]              # AssStyle: font, size, colours, position, play_res_x/y
//! [cut]                # CutParams: threshold, min_silence, margins, fillers, …
//! [render]             # RenderOptions: video_codec, crf, preset, audio_codec, …
//! ```
//!
//! Every key is optional: a key left out takes the built-in default ([`Preset::default`]),
//! or the value of the `base` preset. `presets/default.toml` lists every key with its
//! default and what it does. Precedence is built-in defaults < base < preset < command-line
//! flags; the caller applies flags to the public fields of the loaded [`Preset`] and calls
//! [`Preset::validate`] again.
//!
//! Where presets come from ([`Library`]): the shipped ones (`presets/*.toml`, embedded at
//! build time), and user presets in `$SUBCUT_PRESETS_DIR`, else
//! `$XDG_CONFIG_HOME/subcut/presets`, else `~/.config/subcut/presets` (`NAME.toml`). A user
//! file named like a shipped preset replaces it (and may say `base = "NAME"` to start from
//! the shipped one). `--preset` also takes a path to a `.toml` file.
//!
//! Errors are one line that names the file, the line and the key: a typo gets a suggestion
//! from the keys of its table, a bad value the field and its allowed range.
//!
//! ```
//! use subcut::preset::Library;
//!
//! let lib = Library::shipped_only();
//! let p = lib.load("youtube").unwrap();
//! assert_eq!(p.caption.formats.len(), 2);
//!
//! let e = lib.parse("[cut]\ntreshold = \"-30dB\"\n", "mine.toml").unwrap_err();
//! assert_eq!(
//!     e.to_string(),
//!     r#"mine.toml:2: unknown key "treshold" in [cut] (did you mean "threshold"?)"#
//! );
//! ```

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::asr::{TranscribeOptions, WhisperOptions};
use crate::edit::export::Export;
use crate::edit::CutParams;
use crate::media::render::{RenderError, RenderOptions};
use crate::subtitle::format::{AssStyle, Format};
use crate::subtitle::zh::ChineseScript;
use crate::subtitle::SegmentRules;

/// The presets shipped with subcut: name and file text.
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../presets/default.toml")),
    ("lecture", include_str!("../presets/lecture.toml")),
    ("podcast", include_str!("../presets/podcast.toml")),
    ("shorts", include_str!("../presets/shorts.toml")),
    ("youtube", include_str!("../presets/youtube.toml")),
    (
        "zh-talking-head",
        include_str!("../presets/zh-talking-head.toml"),
    ),
];

/// Environment variable naming the user presets directory (overrides the XDG location).
pub const PRESETS_DIR_ENV: &str = "SUBCUT_PRESETS_DIR";

/// Base presets nest at most this deep.
const MAX_BASE_DEPTH: usize = 8;

/// What `subcut run` does with each input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Captions, and a cut copy of the media with captions on the cut timeline.
    #[default]
    Cut,
    /// Captions only.
    Captions,
}

/// A whole job: one field per top-level key of a preset file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Preset {
    /// One line for `subcut presets list`.
    pub description: String,
    /// The preset this one starts from (a name or a path), as written in the file. Its
    /// values are already merged into a loaded preset; this is only a record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// What `subcut run` does.
    pub mode: Mode,
    /// When cutting: transcribe and write captions (true), or cut on loudness alone
    /// (false: no model is loaded, no subtitle files, the filler and repeat cuts are off,
    /// as with auto-editor). `--no-captions` sets it to false.
    pub captions: bool,
    /// Burn the cut captions into the cut video.
    pub burn_in: bool,
    /// Cut lists for editors.
    pub export: Vec<Export>,
    /// Write `NAME.timeline.png`.
    pub timeline: bool,
    /// Recognition and caption files.
    pub caption: Caption,
    /// Cue segmentation and timing.
    pub subtitle: SegmentRules,
    /// Look of ASS and burned-in captions.
    pub style: AssStyle,
    /// What is cut.
    pub cut: CutParams,
    /// How the cut media is encoded.
    pub render: RenderOptions,
}

impl Default for Preset {
    fn default() -> Self {
        Preset {
            description: String::new(),
            base: None,
            mode: Mode::Cut,
            captions: true,
            burn_in: false,
            export: Vec::new(),
            timeline: false,
            caption: Caption::default(),
            subtitle: SegmentRules::default(),
            style: AssStyle::default(),
            cut: CutParams::default(),
            render: RenderOptions::default(),
        }
    }
}

/// The `[caption]` table: recognition, and which caption files to write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Caption {
    /// Model name (`subcut model list`) or path to a ggml file.
    pub model: String,
    /// `auto` or a language code (`en`, `zh`) or whisper's English name (`chinese`).
    pub language: String,
    /// Translate into English captions.
    pub translate: bool,
    /// Caption files to write; a list (`["srt", "vtt"]`) or a comma-separated string.
    #[serde(with = "format_list")]
    pub formats: Vec<Format>,
    /// Traditional → Simplified conversion of Chinese.
    pub chinese: ChineseScript,
    /// Text that primes the recogniser (names, spellings, punctuation style).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_prompt: Option<String>,
    /// Whisper threads per file; `None`: derived from the cores and `jobs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// Files in flight; `None`: derived from the cores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
    /// Condition each window on the text before it.
    pub condition_on_previous_text: bool,
    /// No-speech probability above which (with a low log-probability) a segment is dropped.
    pub no_speech_threshold: f32,
    /// Mean token log-probability below which a window is retried / a segment dropped.
    pub logprob_threshold: f32,
    /// Token entropy above which a window is retried at a higher temperature.
    pub entropy_threshold: f32,
    /// Temperature step of the retries (0: greedy only).
    pub temperature_increment: f32,
}

impl Default for Caption {
    fn default() -> Self {
        let t = TranscribeOptions::default();
        Caption {
            model: "base-q8_0".into(),
            language: "auto".into(),
            translate: false,
            formats: vec![Format::Srt],
            chinese: ChineseScript::Simplified,
            initial_prompt: None,
            threads: None,
            jobs: None,
            condition_on_previous_text: t.condition_on_previous_text,
            no_speech_threshold: t.no_speech_threshold,
            logprob_threshold: t.whisper.logprob_threshold,
            entropy_threshold: t.whisper.entropy_threshold,
            temperature_increment: t.whisper.temperature_increment,
        }
    }
}

impl Caption {
    /// Checks ranges; the message starts with the field's name.
    pub fn validate(&self) -> Result<(), String> {
        if self.model.trim().is_empty() || self.model.chars().any(char::is_control) {
            return Err(format!(
                "model must be a model name or a file path (got {:?})",
                self.model
            ));
        }
        let lang = self.language.trim().to_lowercase();
        if lang != "auto"
            && (lang.is_empty() || lang.contains('\0') || whisper_rs::get_lang_id(&lang).is_none())
        {
            return Err(format!(
                "language must be auto or a language whisper knows, such as en, zh, de, ja (got {:?})",
                self.language
            ));
        }
        if self.formats.is_empty() {
            return Err("formats must name at least one of srt, vtt, ass, json, txt".into());
        }
        if self
            .initial_prompt
            .as_deref()
            .is_some_and(|p| p.contains('\0'))
        {
            return Err("initial_prompt must not contain a NUL character".into());
        }
        if let Some(t) = self.threads {
            if !(1..=256).contains(&t) {
                return Err(format!("threads must be 1…256 (got {t})"));
            }
        }
        if let Some(j) = self.jobs {
            if !(1..=1024).contains(&j) {
                return Err(format!("jobs must be 1…1024 (got {j})"));
            }
        }
        let range = |name: &str, v: f32, lo: f32, hi: f32| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be {lo}…{hi} (got {v})"))
            }
        };
        range("no_speech_threshold", self.no_speech_threshold, 0.0, 1.0)?;
        range("logprob_threshold", self.logprob_threshold, -100.0, 0.0)?;
        if !(self.entropy_threshold.is_finite() && self.entropy_threshold > 0.0) {
            return Err(format!(
                "entropy_threshold must be more than 0 (got {})",
                self.entropy_threshold
            ));
        }
        range(
            "temperature_increment",
            self.temperature_increment,
            0.0,
            1.0,
        )?;
        Ok(())
    }

    /// Recognition options for whisper with `threads` threads per call (the caller decides
    /// the split when [`Caption::threads`] is unset).
    pub fn transcribe_options(&self, threads: usize) -> TranscribeOptions {
        let lang = self.language.trim();
        TranscribeOptions {
            language: (!lang.is_empty() && !lang.eq_ignore_ascii_case("auto"))
                .then(|| lang.to_string()),
            translate: self.translate,
            threads: self.threads.unwrap_or(threads).max(1),
            initial_prompt: self.initial_prompt.clone(),
            condition_on_previous_text: self.condition_on_previous_text,
            no_speech_threshold: self.no_speech_threshold,
            whisper: WhisperOptions {
                logprob_threshold: self.logprob_threshold,
                entropy_threshold: self.entropy_threshold,
                temperature_increment: self.temperature_increment,
                ..WhisperOptions::default()
            },
            ..TranscribeOptions::default()
        }
    }
}

/// Serde for `Vec<Format>`: a list of names, or one comma-separated string.
mod format_list {
    use super::*;

    pub fn serialize<S: serde::Serializer>(v: &[Format], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|f| f.ext()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Format>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        let items = match Raw::deserialize(d)? {
            Raw::One(s) => vec![s],
            Raw::Many(v) => v,
        };
        let mut out = Vec::new();
        for f in Format::parse_list(&items.join(",")).map_err(de::Error::custom)? {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        Ok(out)
    }
}

/// A bad value, named by its key path (`render.crf`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", join_field(.field, .message))]
pub struct InvalidValue {
    /// `section.key`, or the top-level key.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// `render.crf` + `crf 99 is out of range` → `render.crf 99 is out of range`; otherwise
/// `field: message`.
fn join_field(field: &str, message: &str) -> String {
    let key = field.rsplit('.').next().unwrap_or(field);
    match message.strip_prefix(key) {
        Some(rest) if rest.starts_with(' ') => format!("{field}{rest}"),
        _ if message.starts_with("is ") || message.starts_with("must ") => {
            format!("{field} {message}")
        }
        _ => format!("{field}: {message}"),
    }
}

impl Preset {
    /// Checks every section; the first bad value is the error, named by its key path.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let section = |name: &str, r: Result<(), String>| {
            r.map_err(|m| InvalidValue {
                field: format!("{name}.{}", field_in_message(name, &m)),
                message: m,
            })
        };
        if !self.captions {
            let refuse = |field: &str, message: &str| {
                Err(InvalidValue {
                    field: field.into(),
                    message: message.into(),
                })
            };
            if self.mode == Mode::Captions {
                return refuse(
                    "captions",
                    "captions = false only makes sense with mode = \"cut\" (a captions job without captions does nothing)",
                );
            }
            if self.burn_in {
                return refuse(
                    "burn_in",
                    "burn_in = true needs captions; it cannot go with captions = false",
                );
            }
        }
        section("caption", self.caption.validate())?;
        section("subtitle", self.subtitle.validate())?;
        if let Err(e) = self.style.validate() {
            let field = match &e {
                crate::subtitle::format::AssStyleError::Font(_) => "font",
                crate::subtitle::format::AssStyleError::Colour { field, .. } => field,
                crate::subtitle::format::AssStyleError::OutOfRange { field, .. } => field,
            };
            return Err(InvalidValue {
                field: format!("style.{field}"),
                message: e.to_string(),
            });
        }
        section("cut", self.cut.validate())?;
        if self.render.burn_in.is_some() {
            return Err(InvalidValue {
                field: "render.burn_in".into(),
                message:
                    "is chosen by subcut for each input; set the top-level `burn_in = true` instead"
                        .into(),
            });
        }
        section(
            "render",
            self.render.validate().map_err(|e| match e {
                RenderError::Options(m) => m,
                other => other.to_string(),
            }),
        )?;
        Ok(())
    }

    /// The preset as TOML: every key with its value (keys without a value, such as an unset
    /// `max_cps`, as a comment), in the order of `presets/default.toml`. Parsing the text
    /// gives this preset back.
    pub fn to_toml(&self) -> String {
        let table = toml::Table::try_from(self).expect("a preset serializes to a TOML table");
        let mut out = String::new();
        for &key in fields_of::<Preset>() {
            if SECTIONS.iter().any(|(s, _)| *s == key) {
                continue;
            }
            match table.get(key) {
                Some(v) => out.push_str(&format!("{key} = {}\n", show_value(key, v))),
                None if key == "base" => {}
                None => out.push_str(&format!("# {key} = (not set)\n")),
            }
        }
        for (section, fields) in SECTIONS {
            out.push_str(&format!("\n[{section}]\n"));
            let t = table.get(*section).and_then(toml::Value::as_table);
            for &key in fields() {
                if section == &"render" && key == "burn_in" {
                    continue; // chosen per input, never part of a preset
                }
                match t.and_then(|t| t.get(key)) {
                    Some(v) => out.push_str(&format!(
                        "{key} = {}\n",
                        show_value(&format!("{section}.{key}"), v)
                    )),
                    None => out.push_str(&format!(
                        "# {key} = (not set: {})\n",
                        unset_meaning(&format!("{section}.{key}"))
                    )),
                }
            }
        }
        out
    }
}

/// What an optional key means when it is not set (for `show`).
fn unset_meaning(path: &str) -> &'static str {
    match path {
        "caption.initial_prompt" => "no prompt",
        "caption.threads" => "split the cores automatically",
        "caption.jobs" => "split the cores automatically",
        "subtitle.max_line_chars" => "42, or 16 for Chinese/Japanese/Korean",
        "subtitle.max_cps" => "17, or 9 for Chinese/Japanese/Korean",
        "render.audio_codec" => "chosen by the output format",
        "render.audio_bitrate" => "the encoder's default",
        "render.burn_in_style" => "[style] only",
        _ => "the built-in behaviour",
    }
}

/// Keys whose values are `f32` in Rust: shown with `f32` precision (`0.1`, not
/// `0.10000000149011612`); both read back to the same value.
const F32_KEYS: &[&str] = &[
    "subtitle.max_line_chars",
    "subtitle.max_cps",
    "style.size",
    "style.outline",
    "style.shadow",
    "caption.no_speech_threshold",
    "caption.logprob_threshold",
    "caption.entropy_threshold",
    "caption.temperature_increment",
];

fn show_value(path: &str, v: &toml::Value) -> String {
    match v {
        toml::Value::Float(f) if F32_KEYS.contains(&path) => {
            let s = format!("{}", *f as f32);
            if s.contains(['.', 'e', 'i', 'N']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        other => other.to_string(),
    }
}

/// The stage tables and their keys.
type Fields = fn() -> &'static [&'static str];
const SECTIONS: &[(&str, Fields)] = &[
    ("caption", fields_of::<Caption>),
    ("subtitle", fields_of::<SegmentRules>),
    ("style", fields_of::<AssStyle>),
    ("cut", fields_of::<CutParams>),
    ("render", fields_of::<RenderOptions>),
];

fn section_fields(name: &str) -> Option<&'static [&'static str]> {
    SECTIONS.iter().find(|(s, _)| *s == name).map(|(_, f)| f())
}

/// The field names a `#[derive(Deserialize)]` struct accepts, in declaration order (what
/// serde passes to `deserialize_struct`).
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probed"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// The key a validation message is about: the first of the section's keys it mentions
/// (as a word), or a key its wording implies.
fn field_in_message(section: &str, message: &str) -> String {
    let fields = section_fields(section).unwrap_or(&[]);
    let mentioned = fields
        .iter()
        .filter_map(|f| word_at(message, f).map(|i| (i, *f)))
        .min();
    if let Some((_, f)) = mentioned {
        return f.to_string();
    }
    let implied: &[(&str, &str)] = match section {
        "render" => &[
            ("video encoder", "video_codec"),
            ("audio encoder", "audio_codec"),
            ("audio bit rate", "audio_bitrate"),
        ],
        "cut" => &[("filler", "fillers")],
        _ => &[],
    };
    implied
        .iter()
        .find(|(words, _)| message.contains(words))
        .map_or_else(|| "?".to_string(), |(_, f)| f.to_string())
}

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
        name: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },
    /// The file cannot be read.
    #[error("{}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML.
    #[error("{at}: {message}")]
    Syntax { at: Location, message: String },
    /// A key no table of that name has.
    #[error("{at}: unknown key \"{key}\"{}{hint}", table_suffix(.table))]
    UnknownKey {
        at: Location,
        key: String,
        /// The table it is in (`None`: the top level).
        table: Option<&'static str>,
        hint: KeyHint,
    },
    /// A value of the wrong type or out of range.
    #[error("{at}: {}", join_field(.field, .message))]
    Invalid {
        at: Location,
        field: String,
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
fn did_you_mean<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
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

/// Where a preset was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Embedded in the binary (`presets/NAME.toml`).
    Shipped,
    /// A user preset file, or a file given by path.
    User(PathBuf),
}

/// One entry of `subcut presets list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresetInfo {
    pub name: String,
    pub description: String,
    pub source: Source,
    /// A user preset that replaces the shipped one of the same name.
    pub overrides_shipped: bool,
    /// Why the preset cannot be loaded, if it cannot (it is still listed).
    pub problem: Option<String>,
}

/// A preset file's text and where it came from.
struct Found {
    /// The name it is known by (`None` for a file given by path).
    name: Option<String>,
    source: Source,
    /// The file as named in messages.
    label: String,
    text: String,
}

/// The presets available: shipped ones and those in a user directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Library {
    user_dir: Option<PathBuf>,
}

impl Library {
    /// Shipped presets and the user directory from the environment ([`user_dir_from_env`]).
    pub fn from_env() -> Library {
        Library {
            user_dir: user_dir_from_env(),
        }
    }

    /// Shipped presets and user presets in `dir` (tests, or a directory chosen by flag).
    pub fn with_user_dir(dir: impl Into<PathBuf>) -> Library {
        Library {
            user_dir: Some(dir.into()),
        }
    }

    /// Shipped presets only.
    pub fn shipped_only() -> Library {
        Library { user_dir: None }
    }

    /// The user presets directory (it need not exist).
    pub fn user_dir(&self) -> Option<&Path> {
        self.user_dir.as_deref()
    }

    /// A preset by name (user presets first, then shipped ones) or by path to a `.toml`
    /// file, with its base merged in, defaults filled in, and validated.
    pub fn load(&self, name_or_path: &str) -> Result<Preset, PresetError> {
        let found = self.find(name_or_path)?;
        self.load_found(found, &mut Vec::new())
    }

    /// A preset from TOML text; `file` names it in messages. A `base` is looked up in this
    /// library.
    pub fn parse(&self, text: &str, file: &str) -> Result<Preset, PresetError> {
        self.parse_with_base(text, file, None, &mut Vec::new())
    }

    /// Every preset, by name: user presets (replacing shipped ones of the same name) and
    /// shipped ones. A user file that cannot be loaded is listed with its problem.
    pub fn list(&self) -> Vec<PresetInfo> {
        let mut out: Vec<PresetInfo> = Vec::new();
        for (name, path) in self.user_files() {
            let loaded = std::fs::read_to_string(&path)
                .map_err(|source| PresetError::Read {
                    path: path.clone(),
                    source,
                })
                .and_then(|text| {
                    self.load_found(
                        Found {
                            name: Some(name.clone()),
                            source: Source::User(path.clone()),
                            label: path.display().to_string(),
                            text,
                        },
                        &mut Vec::new(),
                    )
                });
            let (description, problem) = match loaded {
                Ok(p) => (p.description, None),
                Err(e) => (String::new(), Some(e.to_string())),
            };
            out.push(PresetInfo {
                overrides_shipped: SHIPPED.iter().any(|(n, _)| *n == name),
                name,
                description,
                source: Source::User(path),
                problem,
            });
        }
        for (name, _) in SHIPPED {
            if out.iter().any(|i| i.name == *name) {
                continue;
            }
            let (description, problem) = match self.load_found(shipped(name), &mut Vec::new()) {
                Ok(p) => (p.description, None),
                Err(e) => (String::new(), Some(e.to_string())),
            };
            out.push(PresetInfo {
                name: name.to_string(),
                description,
                source: Source::Shipped,
                overrides_shipped: false,
                problem,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The effective values of a preset as TOML (every key; defaults and base filled in),
    /// headed by comments saying where it came from.
    pub fn show(&self, name_or_path: &str) -> Result<String, PresetError> {
        let found = self.find(name_or_path)?;
        let origin = match (&found.source, &found.name) {
            (Source::Shipped, Some(n)) => format!("preset \"{n}\" (shipped: presets/{n}.toml)"),
            (Source::User(p), Some(n)) => format!("preset \"{n}\" ({})", p.display()),
            (Source::User(p), None) => format!("preset file {}", p.display()),
            (Source::Shipped, None) => "preset".to_string(),
        };
        let preset = self.load_found(found, &mut Vec::new())?;
        let mut out = format!(
            "# {origin}\n# Effective values: the preset's own{}, built-in defaults for the rest.\n",
            if preset.base.is_some() {
                ", its base's"
            } else {
                ""
            }
        );
        out.push_str(&preset.to_toml());
        Ok(out)
    }

    /// User preset files: `(name, path)` of every `NAME.toml` in the user directory.
    fn user_files(&self) -> Vec<(String, PathBuf)> {
        let Some(dir) = &self.user_dir else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
            .filter_map(|p| {
                let name = p.file_stem()?.to_str()?.to_string();
                is_preset_name(&name).then_some((name, p))
            })
            .collect();
        out.sort();
        out
    }

    /// Finds a preset's text by name or path.
    fn find(&self, name_or_path: &str) -> Result<Found, PresetError> {
        if looks_like_path(name_or_path) {
            let path = PathBuf::from(name_or_path);
            let text = std::fs::read_to_string(&path).map_err(|source| PresetError::Read {
                path: path.clone(),
                source,
            })?;
            return Ok(Found {
                name: None,
                label: path.display().to_string(),
                source: Source::User(path),
                text,
            });
        }
        if let Some(dir) = &self.user_dir {
            let path = dir.join(format!("{name_or_path}.toml"));
            if path.is_file() {
                let text = std::fs::read_to_string(&path).map_err(|source| PresetError::Read {
                    path: path.clone(),
                    source,
                })?;
                return Ok(Found {
                    name: Some(name_or_path.to_string()),
                    label: path.display().to_string(),
                    source: Source::User(path),
                    text,
                });
            }
        }
        if SHIPPED.iter().any(|(n, _)| *n == name_or_path) {
            return Ok(shipped(name_or_path));
        }
        let available: Vec<String> = self.list_names();
        Err(PresetError::NotFound {
            name: name_or_path.to_string(),
            suggestion: did_you_mean(name_or_path, available.iter().map(String::as_str))
                .map(str::to_string),
            available,
        })
    }

    fn list_names(&self) -> Vec<String> {
        let mut names: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
        names.extend(self.user_files().into_iter().map(|(n, _)| n));
        names.sort();
        names.dedup();
        names
    }

    fn load_found(&self, found: Found, stack: &mut Vec<String>) -> Result<Preset, PresetError> {
        let me = (found.name.clone(), found.source.clone());
        self.parse_with_base(&found.text, &found.label, Some(me), stack)
    }

    /// Parses one file: syntax, keys, types; then merges its base and validates.
    fn parse_with_base(
        &self,
        text: &str,
        label: &str,
        me: Option<(Option<String>, Source)>,
        stack: &mut Vec<String>,
    ) -> Result<Preset, PresetError> {
        let at = |span: Option<Range<usize>>| Location {
            file: label.to_string(),
            line: span.map(|s| line_of(text, s.start)),
        };
        let doc = DeTable::parse(text).map_err(|e| PresetError::Syntax {
            at: at(e.span()),
            message: e.message().to_string(),
        })?;
        check_keys(doc.get_ref(), &at)?;
        let own: Preset = toml::from_str(text).map_err(|e| {
            let path = e
                .span()
                .and_then(|s| key_path_at(doc.get_ref(), s.start))
                .unwrap_or_default();
            PresetError::Invalid {
                at: at(e.span()),
                field: if path.is_empty() {
                    "?".into()
                } else {
                    path.join(".")
                },
                message: plain_serde_message(e.message()),
            }
        })?;
        let preset = match &own.base {
            None => own,
            Some(base) => {
                let base_span = doc
                    .get_ref()
                    .iter()
                    .find(|(k, _)| k.get_ref() == "base")
                    .map(|(_, v)| v.span());
                let invalid_base = |message: String| PresetError::Invalid {
                    at: at(base_span.clone()),
                    field: "base".into(),
                    message,
                };
                if stack.len() >= MAX_BASE_DEPTH {
                    return Err(invalid_base(format!(
                        "presets nest more than {MAX_BASE_DEPTH} deep: {} → {base}",
                        stack.join(" → ")
                    )));
                }
                let found = self.find_base(base, me.as_ref()).map_err(|e| match e {
                    PresetError::NotFound { .. } => invalid_base(e.to_string()),
                    other => other,
                })?;
                if stack.contains(&found.label) || found.label == label {
                    return Err(invalid_base(format!(
                        "\"{base}\" is based on this preset again ({} → {label} → {})",
                        stack.join(" → "),
                        found.label
                    )));
                }
                stack.push(label.to_string());
                let parent = self.load_found(found, stack)?;
                stack.pop();
                let mut merged =
                    toml::Table::try_from(&parent).expect("a preset serializes to a TOML table");
                let explicit: toml::Table = toml::from_str(text).expect("parsed above");
                merge(&mut merged, explicit);
                let mut p: Preset =
                    toml::Value::Table(merged)
                        .try_into()
                        .map_err(|e: toml::de::Error| PresetError::Invalid {
                            at: at(None),
                            field: "?".into(),
                            message: plain_serde_message(e.message()),
                        })?;
                p.base = Some(base.clone());
                p
            }
        };
        preset.validate().map_err(|e| {
            let line = key_line(doc.get_ref(), text, &e.field, &e.message);
            PresetError::Invalid {
                at: Location {
                    file: label.to_string(),
                    line,
                },
                field: e.field,
                message: e.message,
            }
        })?;
        Ok(preset)
    }

    /// The preset a `base = "..."` names. A user preset based on its own name means the
    /// shipped preset of that name; a relative path is relative to the file that names it.
    fn find_base(
        &self,
        base: &str,
        me: Option<&(Option<String>, Source)>,
    ) -> Result<Found, PresetError> {
        match me {
            Some((Some(name), Source::User(_)))
                if name == base && SHIPPED.iter().any(|(n, _)| *n == base) =>
            {
                return Ok(shipped(base));
            }
            Some((_, Source::User(file))) if looks_like_path(base) => {
                let path = Path::new(base);
                if path.is_relative() {
                    if let Some(dir) = file.parent() {
                        return self.find(&dir.join(path).to_string_lossy());
                    }
                }
            }
            _ => {}
        }
        self.find(base)
    }
}

fn shipped(name: &str) -> Found {
    let text = SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .expect("a shipped preset");
    Found {
        name: Some(name.to_string()),
        source: Source::Shipped,
        label: format!("presets/{name}.toml"),
        text: text.to_string(),
    }
}

/// A name as `--preset` takes it: letters, digits, `-`, `_`, `.` (not a path).
fn is_preset_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `--preset` values that are paths: with a directory part or a `.toml` extension.
fn looks_like_path(s: &str) -> bool {
    s.ends_with(".toml")
        || s.contains('/')
        || s.contains(std::path::MAIN_SEPARATOR)
        || !is_preset_name(s)
}

/// The user presets directory: `$SUBCUT_PRESETS_DIR`, else
/// `$XDG_CONFIG_HOME/subcut/presets` (when absolute), else `$HOME/.config/subcut/presets`.
pub fn user_dir_from_env() -> Option<PathBuf> {
    user_dir_with(|k| std::env::var_os(k))
}

/// [`user_dir_from_env`] over any environment lookup.
pub fn user_dir_with(get: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let non_empty = |k: &str| get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(d) = non_empty(PRESETS_DIR_ENV) {
        return Some(d);
    }
    if let Some(d) = non_empty("XDG_CONFIG_HOME").filter(|d| d.is_absolute()) {
        return Some(d.join("subcut").join("presets"));
    }
    non_empty("HOME").map(|h| h.join(".config").join("subcut").join("presets"))
}

/// [`Library::load`] over the environment's user directory.
pub fn load(name_or_path: &str) -> Result<Preset, PresetError> {
    Library::from_env().load(name_or_path)
}

/// [`Library::list`] over the environment's user directory.
pub fn list() -> Vec<PresetInfo> {
    Library::from_env().list()
}

/// [`Library::show`] over the environment's user directory.
pub fn show(name_or_path: &str) -> Result<String, PresetError> {
    Library::from_env().show(name_or_path)
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The first unknown key (in file order) at the top level or in a stage table.
fn check_keys(
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
fn key_path_at(t: &DeTable<'_>, pos: usize) -> Option<Vec<String>> {
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
fn key_line(doc: &DeTable<'_>, text: &str, field: &str, message: &str) -> Option<usize> {
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
fn plain_serde_message(m: &str) -> String {
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

/// Overlays `over` on `base`: tables merge key by key, everything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Threshold;
    use crate::subtitle::format::AssPosition;
    use crate::time::Time;

    fn lib() -> Library {
        Library::shipped_only()
    }

    fn err(text: &str) -> String {
        let e = lib().parse(text, "presets/x.toml").unwrap_err().to_string();
        assert!(!e.contains('\n'), "one line: {e}");
        e
    }

    #[test]
    fn every_shipped_preset_loads_and_validates() {
        for (name, _) in SHIPPED {
            let p = lib().load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            p.validate().unwrap();
            assert!(!p.description.is_empty(), "{name} has a description");
        }
        let names: Vec<_> = SHIPPED.iter().map(|(n, _)| *n).collect();
        for required in [
            "default",
            "youtube",
            "shorts",
            "podcast",
            "lecture",
            "zh-talking-head",
        ] {
            assert!(names.contains(&required), "{required} is shipped");
        }
    }

    #[test]
    fn the_default_preset_file_spells_out_the_built_in_defaults() {
        let p = lib().load("default").unwrap();
        assert_eq!(
            p,
            Preset {
                description: p.description.clone(),
                ..Preset::default()
            }
        );
        // …and names every key there is (set, or commented out when it has no value).
        let text = SHIPPED[0].1;
        for (section, fields) in SECTIONS {
            assert!(text.contains(&format!("\n[{section}]\n")), "[{section}]");
            for f in fields() {
                if *section == "render" && *f == "burn_in" {
                    continue;
                }
                assert!(
                    text.contains(&format!("\n{f} = ")) || text.contains(&format!("\n# {f} = ")),
                    "default.toml documents {section}.{f}"
                );
            }
        }
    }

    #[test]
    fn shipped_presets_say_what_they_promise() {
        let yt = lib().load("youtube").unwrap();
        assert_eq!(yt.caption.formats, vec![Format::Srt, Format::Vtt]);
        assert_eq!(yt.mode, Mode::Cut);
        assert!(!yt.burn_in);
        assert_eq!((yt.style.play_res_x, yt.style.play_res_y), (1920, 1080));

        let shorts = lib().load("shorts").unwrap();
        assert!(shorts.burn_in);
        assert_eq!(
            (shorts.style.play_res_x, shorts.style.play_res_y),
            (1080, 1920)
        );
        assert_eq!(shorts.subtitle.max_lines, 1);
        assert!(shorts.style.size > AssStyle::default().size);
        assert!(shorts.cut.min_silence < yt.cut.min_silence);
        assert!(shorts.cut.remove_repeats);

        let podcast = lib().load("podcast").unwrap();
        assert_eq!(podcast.mode, Mode::Cut);
        assert!(!podcast.burn_in);

        let lecture = lib().load("lecture").unwrap();
        assert_eq!(lecture.cut.min_silence, Time::from_millis(1500));
        assert!(lecture.cut.fillers.is_none());

        let zh = lib().load("zh-talking-head").unwrap();
        assert_eq!(zh.caption.language, "zh");
        assert_eq!(zh.caption.chinese, ChineseScript::Simplified);
        let lex = zh.cut.fillers.lexicon("zh");
        for w in ["嗯", "啊", "呃"] {
            assert!(lex.entries.iter().any(|e| e.text == w), "cuts {w}");
        }
        assert!(zh.subtitle.limits(true).max_line_chars <= 16.0);
    }

    #[test]
    fn show_round_trips_for_every_preset() {
        for (name, _) in SHIPPED {
            let p = lib().load(name).unwrap();
            let shown = lib().show(name).unwrap();
            assert!(
                shown.starts_with(&format!("# preset \"{name}\"")),
                "{shown}"
            );
            let back = lib()
                .parse(&shown, "shown.toml")
                .unwrap_or_else(|e| panic!("{name}: {e}\n{shown}"));
            assert_eq!(back, p, "{name}:\n{shown}");
        }
        // Unusual values survive too.
        let mut p = Preset::default();
        p.subtitle.max_cps = Some(12.3);
        p.subtitle.min_duration = Time::from_micros(1);
        p.style.size = 0.1 + 40.0;
        p.cut.threshold = Threshold::Db(-42.5);
        p.cut.fillers = "en,you know,那个".parse().unwrap();
        p.caption.initial_prompt = Some("Quote \" and \\ and\nnewline".into());
        p.caption.threads = Some(3);
        p.render.audio_bitrate = Some(96_000);
        p.render.burn_in_style = Some("FontSize=22".into());
        p.export = vec![Export::Edl, Export::Fcpxml];
        let text = p.to_toml();
        assert!(text.contains("size = 40.1\n"), "{text}");
        assert_eq!(lib().parse(&text, "t.toml").unwrap(), p, "{text}");
    }

    #[test]
    fn show_prints_every_key_and_marks_unset_ones() {
        let shown = lib().show("default").unwrap();
        for (section, fields) in SECTIONS {
            for f in fields() {
                if *section == "render" && *f == "burn_in" {
                    continue;
                }
                assert!(
                    shown.contains(&format!("\n{f} = ")) || shown.contains(&format!("\n# {f} = ")),
                    "show lists {section}.{f}:\n{shown}"
                );
            }
        }
        assert!(shown.contains("\n# max_cps = (not set"), "{shown}");
        assert!(shown.contains("\nmin_silence = 0.5\n"), "{shown}");
        assert!(shown.contains("\nthreshold = \"auto\"\n"), "{shown}");
        assert!(shown.contains("\nformats = [\"srt\"]\n"), "{shown}");
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
            "presets/x.toml:2: caption.language must be auto or a language whisper knows, such as en, zh, de, ja (got \"klingon\")"
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
            "presets/x.toml:1: export: unknown variant `xml`, expected one of `json`, `edl`, `fcpxml`"
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

    #[test]
    fn a_three_line_preset_gets_defaults_for_the_rest() {
        let p = lib()
            .parse(
                "description = \"Mine\"\ncaption.language = \"de\"\ncut.min_silence = 0.3\n",
                "mine.toml",
            )
            .unwrap();
        assert_eq!(p.description, "Mine");
        assert_eq!(p.caption.language, "de");
        assert_eq!(p.cut.min_silence, Time::from_millis(300));
        let d = Preset::default();
        assert_eq!(p.caption.model, d.caption.model);
        assert_eq!(p.cut.margin_before, d.cut.margin_before);
        assert_eq!(p.subtitle, d.subtitle);
        assert_eq!(p.style, d.style);
        assert_eq!(p.render, d.render);
        // An empty file is the defaults.
        assert_eq!(lib().parse("", "empty.toml").unwrap(), Preset::default());
    }

    #[test]
    fn precedence_defaults_then_preset_then_flags() {
        let d = Preset::default();
        let yt = lib().load("youtube").unwrap();
        // The preset wins over the defaults where it sets a key …
        assert_eq!(yt.render.crf, 20);
        assert_ne!(d.render.crf, 20);
        assert_eq!(yt.cut.min_silence, Time::from_millis(800));
        // … and keeps the defaults where it does not.
        assert_eq!(yt.render.video_codec, d.render.video_codec);
        assert_eq!(yt.subtitle.max_line_chars, d.subtitle.max_line_chars);
        assert_eq!(yt.cut.snap_to_frames, d.cut.snap_to_frames);
        // Flags are applied to the loaded preset, then checked again.
        let mut p = yt.clone();
        p.subtitle.max_cps = Some(12.0);
        p.render.crf = 18;
        p.validate().unwrap();
        assert_eq!((p.subtitle.max_cps, p.render.crf), (Some(12.0), 18));
        p.render.crf = 99;
        assert_eq!(
            p.validate().unwrap_err().to_string(),
            "render.crf 99 is out of range 0..=51"
        );
    }

    #[test]
    fn a_user_preset_overrides_a_shipped_one_and_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("youtube.toml"),
            "description = \"My YouTube\"\n[render]\ncrf = 18\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("mine.toml"), "description = \"Mine\"\n").unwrap();
        std::fs::write(dir.path().join("broken.toml"), "[cut]\nfoo = 1\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a preset").unwrap();
        let lib = Library::with_user_dir(dir.path());
        let p = lib.load("youtube").unwrap();
        assert_eq!(p.description, "My YouTube");
        assert_eq!(p.render.crf, 18);
        // Not based on the shipped file: its other values are the defaults.
        assert_eq!(p.caption.formats, vec![Format::Srt]);

        let list = lib.list();
        let names: Vec<_> = list.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "broken",
                "default",
                "lecture",
                "mine",
                "podcast",
                "shorts",
                "youtube",
                "zh-talking-head"
            ]
        );
        let yt = list.iter().find(|i| i.name == "youtube").unwrap();
        assert_eq!(yt.source, Source::User(dir.path().join("youtube.toml")));
        assert!(yt.overrides_shipped);
        assert_eq!(yt.description, "My YouTube");
        let broken = list.iter().find(|i| i.name == "broken").unwrap();
        assert!(broken
            .problem
            .as_deref()
            .unwrap()
            .contains("broken.toml:2: unknown key \"foo\""));
        let shorts = list.iter().find(|i| i.name == "shorts").unwrap();
        assert_eq!(shorts.source, Source::Shipped);
        assert!(shorts.problem.is_none());

        // Errors in a user file name its path.
        let e = lib.load("broken").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}:2: ", dir.path().join("broken.toml").display())),
            "{e}"
        );
        // `show` says where the preset came from.
        let shown = lib.show("youtube").unwrap();
        assert!(shown.contains("youtube.toml)"), "{shown}");
        assert!(shown.contains("\ncrf = 18\n"), "{shown}");
    }

    #[test]
    fn a_base_preset_is_merged_under_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // A user file may replace a shipped preset and still start from it.
        std::fs::write(
            dir.path().join("youtube.toml"),
            "base = \"youtube\"\n[render]\ncrf = 18\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "base = \"youtube\"\ndescription = \"Mine\"\n[cut]\nmin_silence = 0.3\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("loop-a.toml"), "base = \"loop-b\"\n").unwrap();
        std::fs::write(dir.path().join("loop-b.toml"), "base = \"loop-a\"\n").unwrap();
        let lib = Library::with_user_dir(dir.path());
        let shipped_yt = Library::shipped_only().load("youtube").unwrap();

        let yt = lib.load("youtube").unwrap();
        assert_eq!(yt.render.crf, 18);
        assert_eq!(yt.caption.formats, shipped_yt.caption.formats);
        assert_eq!(yt.description, shipped_yt.description);

        let mine = lib.load("mine").unwrap();
        assert_eq!(mine.description, "Mine");
        assert_eq!(mine.cut.min_silence, Time::from_millis(300));
        assert_eq!(mine.cut.margin_after, shipped_yt.cut.margin_after);
        // The base chain: mine → (user) youtube → (shipped) youtube.
        assert_eq!(mine.render.crf, 18);
        assert_eq!(mine.base.as_deref(), Some("youtube"));
        // show round-trips through the base too.
        let shown = lib.show("mine").unwrap();
        assert_eq!(lib.parse(&shown, "shown.toml").unwrap(), mine);

        // A relative path is relative to the file that names it.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(
            sub.join("child.toml"),
            "base = \"../mine.toml\"\n[render]\ncrf = 30\n",
        )
        .unwrap();
        let child = lib.load(sub.join("child.toml").to_str().unwrap()).unwrap();
        assert_eq!(
            (child.render.crf, child.cut.min_silence),
            (30, Time::from_millis(300))
        );

        let e = lib.load("loop-a").unwrap_err().to_string();
        assert!(
            e.contains(":1: base: ") && e.contains("based on this preset again"),
            "{e}"
        );
        let e = lib
            .parse("base = \"nope\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x.toml:1: base: unknown preset \"nope\""),
            "{e}"
        );
        // A bad value in the base is reported in the base's file.
        std::fs::write(dir.path().join("bad.toml"), "[render]\ncrf = 99\n").unwrap();
        let e = lib
            .parse("base = \"bad\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.toml:2: render.crf 99"), "{e}");
    }

    #[test]
    fn a_path_loads_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("talks.toml");
        std::fs::write(
            &path,
            "[subtitle]\nmax_lines = 1\n[style]\nalignment = \"top\"\n",
        )
        .unwrap();
        let lib = Library::shipped_only();
        let p = lib.load(path.to_str().unwrap()).unwrap();
        assert_eq!(p.subtitle.max_lines, 1);
        assert_eq!(p.style.alignment, AssPosition::Top);
        let missing = dir.path().join("nope.toml");
        let e = lib.load(missing.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.starts_with(&missing.display().to_string()), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn unknown_names_get_a_suggestion() {
        let e = lib().load("yuotube").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown preset \"yuotube\" (did you mean \"youtube\"? `subcut presets list` shows them all)"
        );
        let e = lib().load("xyz").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown preset \"xyz\" (presets: default, lecture, podcast, shorts, youtube, zh-talking-head)"
        );
    }

    #[test]
    fn user_dir_follows_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        assert_eq!(
            user_dir_with(env(&[("SUBCUT_PRESETS_DIR", "/p"), ("HOME", "/h")])),
            Some(PathBuf::from("/p"))
        );
        assert_eq!(
            user_dir_with(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/subcut/presets"))
        );
        // A relative XDG_CONFIG_HOME is ignored, as the spec says.
        assert_eq!(
            user_dir_with(env(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/subcut/presets"))
        );
        assert_eq!(user_dir_with(env(&[])), None);
    }

    #[test]
    fn fields_are_read_from_the_structs() {
        assert_eq!(fields_of::<CutParams>()[0], "threshold");
        assert!(fields_of::<SegmentRules>().contains(&"max_cps"));
        assert!(fields_of::<RenderOptions>().contains(&"crf"));
        assert_eq!(
            fields_of::<Preset>(),
            [
                "description",
                "base",
                "mode",
                "captions",
                "burn_in",
                "export",
                "timeline",
                "caption",
                "subtitle",
                "style",
                "cut",
                "render"
            ]
        );
    }

    #[test]
    fn caption_settings_become_transcribe_options() {
        let mut c = Caption::default();
        assert_eq!(c.transcribe_options(4).language, None);
        c.language = "zh".into();
        c.threads = Some(2);
        c.no_speech_threshold = 0.5;
        let t = c.transcribe_options(4);
        assert_eq!(t.language.as_deref(), Some("zh"));
        assert_eq!(t.threads, 2);
        assert_eq!(t.no_speech_threshold, 0.5);
        assert!(t.word_timestamps);
        // The defaults mirror whisper's.
        let d = TranscribeOptions::default();
        let t = Caption::default().transcribe_options(d.threads);
        assert_eq!(t, d);
        // Formats may be one string.
        let p = lib()
            .parse("[caption]\nformats = \"srt, vtt,srt\"\n", "f.toml")
            .unwrap();
        assert_eq!(p.caption.formats, vec![Format::Srt, Format::Vtt]);
    }
}
