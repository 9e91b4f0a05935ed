//! The preset file's shape: [`Preset`] (the top-level keys and one table per stage), the
//! `[caption]` table ([`Caption`]), [`Mode`], the checks across them
//! ([`Preset::validate`]), and the key names serde reads ([`SECTIONS`], [`fields_of`]).

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::asr::{TranscribeOptions, WhisperOptions};
use crate::config::InvalidField;
use crate::edit::export::Export;
use crate::edit::CutParams;
use crate::media::render::{RenderError, RenderOptions};
use crate::subtitle::format::{AssStyle, AssStyleError, Format};
use crate::subtitle::zh::ChineseScript;
use crate::subtitle::SegmentRules;

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
    /// `auto`, a language code (`en`, `zh`) or whisper's English name (`chinese`), or a
    /// comma-separated list of them (`zh,en`): each window is detected among those.
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
    /// Beams of whisper's beam search; 1: greedy decoding.
    pub beam_size: usize,
    /// A file of terms, one per line: the initial prompt, and near-miss spellings corrected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glossary: Option<std::path::PathBuf>,
}

/// What a `language` setting asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Languages {
    /// Every window decoded in this one (as given: a code or a name).
    Forced(String),
    /// Each window detected among these codes (any when empty).
    Detect(Vec<String>),
}

/// Parses a `language` setting: `auto`, one language, or a comma-separated list of them
/// (whisper's codes or English names, any case). The error names the bad item.
pub(crate) fn parse_languages(s: &str) -> Result<Languages, String> {
    let items: Vec<&str> = s.split(',').map(str::trim).collect();
    if items.len() == 1 && (items[0].is_empty() || items[0].eq_ignore_ascii_case("auto")) {
        return Ok(Languages::Detect(Vec::new()));
    }
    let mut codes: Vec<String> = Vec::new();
    for item in &items {
        let lower = item.to_lowercase();
        let code = (!lower.is_empty() && !lower.contains('\0'))
            .then(|| whisper_rs::get_lang_id(&lower))
            .flatten()
            .and_then(whisper_rs::get_lang_str)
            .ok_or_else(|| {
                let within = if items.len() > 1 {
                    format!(" (in {s:?})")
                } else {
                    String::new()
                };
                format!(
                    "{item:?}{within} is not a language whisper knows: use auto, a code such as en, zh, de, ja, or a list such as zh,en"
                )
            })?;
        if !codes.iter().any(|c| c == code) {
            codes.push(code.to_string());
        }
    }
    Ok(if items.len() == 1 {
        Languages::Forced(items[0].to_string())
    } else {
        Languages::Detect(codes)
    })
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
            beam_size: t.whisper.beam_size,
            glossary: None,
        }
    }
}

impl Caption {
    /// Checks ranges; the message starts with the field's name.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.model.trim().is_empty() || self.model.chars().any(char::is_control) {
            return Err(InvalidField::new(
                "model",
                format!(
                    "model must be a model name or a file path (got {:?})",
                    self.model
                ),
            ));
        }
        if let Err(e) = parse_languages(&self.language) {
            return Err(InvalidField::new("language", format!("language {e}")));
        }
        if !(1..=crate::asr::whisper::MAX_BEAM_SIZE).contains(&self.beam_size) {
            return Err(InvalidField::new(
                "beam_size",
                format!(
                    "beam_size must be 1…{} (got {})",
                    crate::asr::whisper::MAX_BEAM_SIZE,
                    self.beam_size
                ),
            ));
        }
        if self.formats.is_empty() {
            return Err(InvalidField::new(
                "formats",
                "formats must name at least one of srt, vtt, ass, json, txt",
            ));
        }
        if self
            .initial_prompt
            .as_deref()
            .is_some_and(|p| p.contains('\0'))
        {
            return Err(InvalidField::new(
                "initial_prompt",
                "initial_prompt must not contain a NUL character",
            ));
        }
        if let Some(t) = self.threads {
            if !(1..=256).contains(&t) {
                return Err(InvalidField::new(
                    "threads",
                    format!("threads must be 1…256 (got {t})"),
                ));
            }
        }
        if let Some(j) = self.jobs {
            if !(1..=1024).contains(&j) {
                return Err(InvalidField::new(
                    "jobs",
                    format!("jobs must be 1…1024 (got {j})"),
                ));
            }
        }
        let range = |name: &'static str, v: f32, lo: f32, hi: f32| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(InvalidField::new(
                    name,
                    format!("{name} must be {lo}…{hi} (got {v})"),
                ))
            }
        };
        range("no_speech_threshold", self.no_speech_threshold, 0.0, 1.0)?;
        range("logprob_threshold", self.logprob_threshold, -100.0, 0.0)?;
        if !(self.entropy_threshold.is_finite() && self.entropy_threshold > 0.0) {
            return Err(InvalidField::new(
                "entropy_threshold",
                format!(
                    "entropy_threshold must be more than 0 (got {})",
                    self.entropy_threshold
                ),
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
    pub(crate) fn transcribe_options(&self, threads: usize) -> TranscribeOptions {
        let (language, candidates) = match parse_languages(&self.language) {
            Ok(Languages::Forced(l)) => (Some(l), Vec::new()),
            Ok(Languages::Detect(c)) => (None, c),
            Err(_) => (None, Vec::new()), // refused by `validate`
        };
        TranscribeOptions {
            language,
            candidates,
            translate: self.translate,
            threads: self.threads.unwrap_or(threads).max(1),
            initial_prompt: self.initial_prompt.clone(),
            condition_on_previous_text: self.condition_on_previous_text,
            no_speech_threshold: self.no_speech_threshold,
            whisper: WhisperOptions {
                logprob_threshold: self.logprob_threshold,
                entropy_threshold: self.entropy_threshold,
                temperature_increment: self.temperature_increment,
                beam_size: self.beam_size,
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

impl Preset {
    /// Checks every section; the first bad value is the error, named by its key path.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        let section = |name: &str, r: Result<(), InvalidField>| {
            r.map_err(|e| InvalidValue {
                field: format!("{name}.{}", e.field),
                message: e.message,
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
        let style = self.style.validate().map_err(|e| {
            let field = match &e {
                AssStyleError::Font(_) => "font",
                AssStyleError::Colour { field, .. } | AssStyleError::OutOfRange { field, .. } => {
                    *field
                }
            };
            InvalidField::new(field, e.to_string())
        });
        section("style", style)?;
        section("cut", self.cut.validate())?;
        if self.render.burn_in.is_some() {
            return Err(InvalidValue {
                field: "render.burn_in".into(),
                message:
                    "is chosen by subcut for each input; set the top-level `burn_in = true` instead"
                        .into(),
            });
        }
        self.render.validate().map_err(|e| match e {
            RenderError::Options(f) => InvalidValue {
                field: format!("render.{}", f.field),
                message: f.message,
            },
            other => InvalidValue {
                field: "render".into(),
                message: other.to_string(),
            },
        })
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
pub(super) fn join_field(field: &str, message: &str) -> String {
    let key = field.rsplit('.').next().unwrap_or(field);
    match message.strip_prefix(key) {
        Some(rest) if rest.starts_with(' ') => format!("{field}{rest}"),
        _ if message.starts_with("is ") || message.starts_with("must ") => {
            format!("{field} {message}")
        }
        _ => format!("{field}: {message}"),
    }
}

/// The stage tables and their keys.
type Fields = fn() -> &'static [&'static str];
pub(super) const SECTIONS: &[(&str, Fields)] = &[
    ("caption", fields_of::<Caption>),
    ("subtitle", fields_of::<SegmentRules>),
    ("style", fields_of::<AssStyle>),
    ("cut", fields_of::<CutParams>),
    ("render", fields_of::<RenderOptions>),
];

/// The field names a `#[derive(Deserialize)]` struct accepts, in declaration order (what
/// serde passes to `deserialize_struct`).
pub(super) fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Threshold;
    use crate::preset::library::SHIPPED;
    use crate::preset::Library;
    use crate::time::Time;

    fn lib() -> Library {
        Library::shipped_only()
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

    /// Each stage names the bad field itself; the name must be a key of its table, so the
    /// error points at the line that sets it.
    #[test]
    fn every_stage_error_names_a_key_of_its_table() {
        fn check<'de, T: Deserialize<'de>>(bad: &[(&str, Result<(), InvalidField>)]) {
            for (want, r) in bad {
                let e = r.clone().expect_err(want);
                assert_eq!(e.field, *want, "{e}");
                assert!(fields_of::<T>().contains(&e.field), "{e}");
            }
        }
        fn with<T: Default>(set: impl FnOnce(&mut T)) -> T {
            let mut t = T::default();
            set(&mut t);
            t
        }
        let caption = |set: fn(&mut Caption)| with(set).validate();
        check::<Caption>(&[
            ("model", caption(|c| c.model = " ".into())),
            ("language", caption(|c| c.language = "xx".into())),
            ("language", caption(|c| c.language = "zh,xx".into())),
            ("beam_size", caption(|c| c.beam_size = 0)),
            ("beam_size", caption(|c| c.beam_size = 9)),
            ("formats", caption(|c| c.formats.clear())),
            (
                "initial_prompt",
                caption(|c| c.initial_prompt = Some("\0".into())),
            ),
            ("threads", caption(|c| c.threads = Some(0))),
            ("jobs", caption(|c| c.jobs = Some(0))),
            (
                "no_speech_threshold",
                caption(|c| c.no_speech_threshold = 2.0),
            ),
            ("logprob_threshold", caption(|c| c.logprob_threshold = 1.0)),
            ("entropy_threshold", caption(|c| c.entropy_threshold = 0.0)),
            (
                "temperature_increment",
                caption(|c| c.temperature_increment = -1.0),
            ),
        ]);
        const NEG: Time = Time::from_micros(-1);
        let rules = |set: fn(&mut SegmentRules)| with(set).validate();
        check::<SegmentRules>(&[
            ("max_lines", rules(|r| r.max_lines = 0)),
            ("max_line_chars", rules(|r| r.max_line_chars = Some(1.0))),
            ("max_cps", rules(|r| r.max_cps = Some(0.0))),
            ("frame_rate", rules(|r| r.frame_rate = 0.0)),
            ("max_duration", rules(|r| r.max_duration = NEG)),
            ("min_duration", rules(|r| r.min_duration = NEG)),
            (
                "min_duration",
                rules(|r| r.min_duration = r.max_duration + r.max_duration),
            ),
            ("min_gap_frames", rules(|r| r.min_gap_frames = -1.0)),
            ("lead_frames", rules(|r| r.lead_frames = -1.0)),
            ("linger_frames", rules(|r| r.linger_frames = -1.0)),
            ("pause_break", rules(|r| r.pause_break = NEG)),
            ("max_pause_in_cue", rules(|r| r.max_pause_in_cue = NEG)),
        ]);
        let cut = |set: fn(&mut CutParams)| with(set).validate();
        check::<CutParams>(&[
            ("min_silence", cut(|p| p.min_silence = NEG)),
            ("margin_before", cut(|p| p.margin_before = NEG)),
            ("margin_after", cut(|p| p.margin_after = NEG)),
            ("min_clip", cut(|p| p.min_clip = NEG)),
            (
                "max_pause",
                cut(|p| p.max_pause = Some(Time::from_millis(61_000))),
            ),
            ("threshold", cut(|p| p.threshold = Threshold::Db(1.0))),
            ("fillers", cut(|p| p.fillers.words = vec!["...".into()])),
        ]);
        let render = |set: fn(&mut RenderOptions)| match with(set).validate() {
            Err(RenderError::Options(f)) => Err(f),
            other => other.map_err(|e| InvalidField::new("?", e.to_string())),
        };
        check::<RenderOptions>(&[
            // A codec's name that is also a key (crf) still names the codec's key.
            ("video_codec", render(|r| r.video_codec = "crf".into())),
            ("video_codec", render(|r| r.video_codec = "aac".into())),
            ("crf", render(|r| r.crf = 99)),
            ("preset", render(|r| r.preset = "fastest".into())),
            (
                "audio_codec",
                render(|r| r.audio_codec = Some("libx264".into())),
            ),
            (
                "audio_codec",
                render(|r| r.audio_codec = Some("nope".into())),
            ),
            ("audio_bitrate", render(|r| r.audio_bitrate = Some(1))),
            ("fade", render(|r| r.fade = NEG)),
            ("threads", render(|r| r.threads = 65)),
        ]);
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
        assert!(c.transcribe_options(4).candidates.is_empty());
        c.language = "Chinese, en,zh".into();
        let t = c.transcribe_options(4);
        assert_eq!(
            (t.language, t.candidates),
            (None, vec!["zh".to_string(), "en".into()])
        );
        c.beam_size = 5;
        assert_eq!(c.transcribe_options(4).whisper.beam_size, 5);
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

    #[test]
    fn language_settings_are_auto_one_or_a_list() {
        assert_eq!(parse_languages("auto"), Ok(Languages::Detect(vec![])));
        assert_eq!(parse_languages(" AUTO "), Ok(Languages::Detect(vec![])));
        assert_eq!(parse_languages("zh"), Ok(Languages::Forced("zh".into())));
        assert_eq!(
            parse_languages("zh, english,ZH"),
            Ok(Languages::Detect(vec!["zh".into(), "en".into()]))
        );
        assert_eq!(
            parse_languages("xx").unwrap_err(),
            "\"xx\" is not a language whisper knows: use auto, a code such as en, zh, de, ja, or a list such as zh,en"
        );
        assert!(parse_languages("zh,xx")
            .unwrap_err()
            .starts_with("\"xx\" (in \"zh,xx\") is not a language"));
        assert!(parse_languages("zh,").is_err());
        assert!(parse_languages("auto,zh").is_err());
    }
}
