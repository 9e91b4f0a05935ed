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
//! export = ["edl"]     # cut lists: json, edl, fcpxml, premiere, otio
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
//! from the keys of its table, a bad value the field and its allowed range. Each stage's
//! `validate` names its bad field ([`InvalidField`](crate::config::InvalidField)); the preset
//! adds the table (`cut.min_silence`) and finds the line that sets it.
//!
//! The files: `schema` (the file's shape: [`Preset`], [`Caption`], [`Mode`], and the checks
//! across tables), `library` (shipped and user presets, lookup, the `base` chain),
//! `diagnostics` (the messages and where in the file they point), `show` (what
//! `subcut presets show` prints).
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

mod diagnostics;
mod library;
mod schema;
mod show;

pub use diagnostics::{KeyHint, Location, PresetError};
pub use library::Library;
pub(crate) use library::{list, load, show, Origin};
pub use schema::InvalidValue;
pub use schema::{Caption, Mode, Preset};
