//! Command-line definitions (clap derive), nothing else. Flags stay as close to the command
//! line as possible here; [`crate::commands`] resolves them over a preset into jobs
//! (`commands/resolve.rs`) and runs them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::asr::model::Quantization;
use crate::edit::export::Export;
use crate::media::render::RenderMode;
use crate::subtitle::format::Format;
use crate::subtitle::punctuation::Punctuation;
use crate::subtitle::zh::ChineseScript;

/// `subcut --version`: the version, then the transcription engine's build features (so a
/// slow machine can be told from a build without the fast kernels).
fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{}\nwhisper.cpp: {}",
            env!("CARGO_PKG_VERSION"),
            crate::asr::whisper::engine_features()
        )
    })
}

#[derive(Parser, Debug)]
#[command(
    name = "subcut",
    version,
    long_version = long_version(),
    about = "Offline captions and tight cuts for talking-head video (whisper.cpp + FFmpeg)",
    after_help = "Run `subcut run` to caption the bundled sample. Models: `subcut model list`."
)]
pub struct Cli {
    /// Print nothing but errors (and the paths written, on stdout).
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Print the model loaded (and where its weights went) and stage timings for each input.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run the whole job; with no input, caption the bundled sample (fixtures/talk.mp4).
    Run(CutArgs),
    /// Transcribe media files and write subtitles (SRT, VTT, ASS, JSON, TXT).
    Caption(CaptionArgs),
    /// Cut pauses and filler words: writes NAME.cut.mp4 with captions on both timelines.
    Cut(CutArgs),
    /// Propose a cut to review and change before rendering it: writes NAME.edit.md (a
    /// checklist to edit; then `subcut cut INPUT --edit NAME.edit.md`), NAME.edit.json (the
    /// timed words it refers to) and NAME.review.html (the video, transcript and cuts).
    Review(CutArgs),
    /// Time words you already have: a script (.txt) or a subtitle file (.srt) aligned to the speech.
    Align(AlignArgs),
    /// List the presets, or show one's effective values.
    #[command(subcommand)]
    Presets(PresetsCommand),
    /// Manage whisper models: list, path, pull, import.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Watch a folder: caption each media file dropped into it (or cut it, with a --preset whose
    /// mode is cut), then move it to done/ or failed/.
    #[command(after_help = WATCH_HELP)]
    Watch(WatchArgs),
}

/// Extra help for `subcut watch`.
pub(crate) const WATCH_HELP: &str = "\
Layout (defaults): IN_DIR/out/ holds the outputs, IN_DIR/done/ the inputs that went through,
IN_DIR/failed/ the ones that did not (with NAME.error.txt giving the cause). A file is taken
once its size and modification time have not changed for --settle seconds; hidden files and
partial downloads (.part, .crdownload, ~) are ignored. A journal (IN_DIR/.subcut-watch.journal)
lets a restarted watcher resume after a crash without processing anything twice. SIGINT or
SIGTERM: finish the current file, then exit 0.";

/// `subcut watch IN_DIR`: the caption flags apply to every file; `INPUT`s and the batch-only
/// flags are hidden (and refused by `commands/watch.rs` when given).
#[derive(Args, Debug, Clone)]
#[command(
    mut_arg("inputs", |a| a.hide(true)),
    mut_arg("out_dir", |a| a.help("Write outputs into DIR (created if missing) [default: IN_DIR/out]")),
    mut_arg("json", |a| a.hide(true)),
    mut_arg("report", |a| a.hide(true)),
    mut_arg("skip_existing", |a| a.hide(true)),
    mut_arg("shard", |a| a.hide(true)),
    mut_arg("shards", |a| a.hide(true)),
    mut_arg("jobs", |a| a.hide(true)),
)]
pub(crate) struct WatchArgs {
    /// The folder to watch (its top level).
    #[arg(value_name = "IN_DIR")]
    pub(crate) in_dir: PathBuf,
    /// Where inputs that went through are moved [default: IN_DIR/done].
    #[arg(long, value_name = "DIR")]
    pub(crate) done: Option<PathBuf>,
    /// Where inputs that failed are moved, with NAME.error.txt [default: IN_DIR/failed].
    #[arg(long, value_name = "DIR")]
    pub(crate) failed: Option<PathBuf>,
    /// Seconds a file's size and modification time must stay unchanged before it is taken.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::watch::DEFAULT_SETTLE.as_secs_f64())]
    pub(crate) settle: f64,
    /// Rescan every SECONDS instead of relying on file notifications (network filesystems).
    #[arg(long, value_name = "SECONDS")]
    pub(crate) poll: Option<f64>,
    /// Process what is in the folder now, then exit (exit code 1 if any file failed).
    #[arg(long)]
    pub(crate) once: bool,
    #[command(flatten)]
    pub(crate) caption: CaptionArgs,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct CaptionArgs {
    /// Media files, directories (searched recursively for media) or glob patterns.
    #[arg(value_name = "INPUT")]
    pub(crate) inputs: Vec<PathBuf>,
    /// Write outputs into DIR (created if missing) instead of next to each input.
    #[arg(
        short = 'o',
        long = "out-dir",
        visible_alias = "out",
        value_name = "DIR"
    )]
    pub(crate) out_dir: Option<PathBuf>,
    /// Preset to start from (`subcut presets list`): a name or a .toml file. Flags override it.
    #[arg(short, long, value_name = "NAME|FILE")]
    pub(crate) preset: Option<String>,
    /// Model name (see `subcut model list`) or path to a ggml model file [preset default: base-q8_0].
    #[arg(short, long, value_name = "NAME|PATH")]
    pub(crate) model: Option<String>,
    /// Spoken language: `auto` detects it window by window; a code such as en, zh, de forces
    /// one; a list such as zh,en detects among those [default: auto].
    #[arg(short, long, value_name = "auto|en|zh,en|…")]
    pub(crate) language: Option<String>,
    /// Beam search with N beams (1 = greedy, the default; see README for when more pays).
    #[arg(long, value_name = "N")]
    pub(crate) beam_size: Option<usize>,
    /// Terms (names, brands, jargon), one per line: prime the recogniser and fix near-miss
    /// spellings of whole words.
    #[arg(long, value_name = "FILE")]
    pub(crate) glossary: Option<PathBuf>,
    /// Translate the speech into English captions.
    #[arg(long)]
    pub(crate) translate: bool,
    /// Output formats, comma-separated: srt, vtt, ass, json, txt [default: srt].
    #[arg(short, long, value_name = "LIST", value_delimiter = ',')]
    pub(crate) format: Vec<Format>,
    /// Whisper threads per file (default: derived from the cores and --jobs).
    #[arg(short, long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Files processed at the same time (default: derived from the cores).
    #[arg(short, long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// Print a machine-readable JSON summary on stdout instead of the paths written.
    #[arg(long)]
    pub(crate) json: bool,
    /// Write a per-input report (status, outputs, stage times, error) as JSON to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Batch")]
    pub(crate) report: Option<PathBuf>,
    /// Skip inputs whose outputs all exist and are newer than the input.
    #[arg(long, help_heading = "Batch")]
    pub(crate) skip_existing: bool,
    /// Process only shard I of N of the sorted inputs (0-based), e.g. 2/8. Defaults from
    /// JOB_COMPLETION_INDEX (with --shards) or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "I/N", help_heading = "Batch")]
    pub(crate) shard: Option<crate::inputs::Shard>,
    /// Number of shards when the index comes from the environment (a Kubernetes Indexed Job's completions).
    #[arg(long, value_name = "N", help_heading = "Batch")]
    pub(crate) shards: Option<usize>,
    /// Characters per subtitle line (default 42, or 16 for Chinese/Japanese/Korean).
    #[arg(long, value_name = "N", help_heading = "Subtitle rules")]
    pub(crate) max_line_chars: Option<f32>,
    /// Lines per cue [default: 2].
    #[arg(long, value_name = "N", help_heading = "Subtitle rules")]
    pub(crate) max_lines: Option<usize>,
    /// Reading speed limit, characters per second (default 17, or 9 for CJK).
    #[arg(long, value_name = "CPS", help_heading = "Subtitle rules")]
    pub(crate) max_cps: Option<f32>,
    /// Longest time a cue stays on screen, seconds [default: 7].
    #[arg(long, value_name = "SECONDS", help_heading = "Subtitle rules")]
    pub(crate) max_duration: Option<f64>,
    /// Frame rate the frame-based timing rules (gaps, lead, linger) refer to [default: 24]; for
    /// an audio-only cut also the rate its cuts and editor exports are on [default: 30].
    #[arg(long, value_name = "FPS", help_heading = "Subtitle rules")]
    pub(crate) fps: Option<f64>,
    /// Chinese characters: convert to Simplified, or keep what the recogniser wrote [default: simplified].
    #[arg(
        long,
        value_name = "SCRIPT",
        value_parser = choice(ChineseScript::ALL, |c| (c.name(), c.help())),
        help_heading = "Subtitle rules"
    )]
    pub(crate) chinese: Option<ChineseScript>,
    /// Caption punctuation: full-width ，。？！：； in Chinese sentences, as the recogniser wrote
    /// it, or the creator style (no ，/。 at a line's end) [default: full-width].
    #[arg(
        long,
        value_name = "STYLE",
        value_parser = choice(Punctuation::ALL, |p| (p.name(), p.help())),
        help_heading = "Subtitle rules"
    )]
    pub(crate) punctuation: Option<Punctuation>,
    /// Replay a saved transcript JSON instead of running whisper (for tests).
    #[arg(long, hide = true, value_name = "FILE")]
    pub(crate) fake_transcript: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct CutArgs {
    /// Loudness where speech begins: a level such as -35dB, or `auto` (from the noise floor).
    #[arg(
        long,
        allow_hyphen_values = true,
        value_name = "DB|auto",
        help_heading = "Cutting"
    )]
    pub(crate) threshold: Option<crate::analysis::Threshold>,
    /// Silences shorter than this are kept (e.g. 0.5s, 500ms).
    #[arg(long, allow_hyphen_values = true, value_name = "DURATION", value_parser = crate::edit::parse_duration, help_heading = "Cutting")]
    pub(crate) min_silence: Option<crate::time::Time>,
    /// Time kept around speech: one value for both sides, or BEFORE,AFTER (e.g. 0.15s,0.2s).
    #[arg(long, allow_hyphen_values = true, value_name = "BEFORE[,AFTER]", value_parser = crate::edit::parse_margin, help_heading = "Cutting")]
    pub(crate) margin: Option<(crate::time::Time, crate::time::Time)>,
    /// Kept pieces shorter than this are dropped, unless they hold a word.
    #[arg(long, allow_hyphen_values = true, value_name = "DURATION", value_parser = crate::edit::parse_duration, help_heading = "Cutting")]
    pub(crate) min_clip: Option<crate::time::Time>,
    /// Filler words to cut: auto (the spoken language's list), en, zh, both, none, or words
    /// separated by commas.
    #[arg(long, value_name = "LIST", help_heading = "Cutting")]
    pub(crate) fillers: Option<crate::edit::FillerSet>,
    /// Also cut the first copy of immediately repeated words ("I I think").
    #[arg(long, help_heading = "Cutting")]
    pub(crate) remove_repeats: bool,
    /// Retakes, a sentence started and said again: cut the abandoned takes and keep the last
    /// complete one, or keep every take [default: keep-last].
    #[arg(
        long,
        value_name = "MODE",
        value_parser = choice(crate::edit::Retakes::ALL, |r| (r.name(), r.help())),
        help_heading = "Cutting"
    )]
    pub(crate) retakes: Option<crate::edit::Retakes>,
    /// Shorten each cut pause to this much quiet in all (e.g. 0.4s) instead of cutting it down
    /// to the margins: the speech keeps its rhythm.
    #[arg(long, allow_hyphen_values = true, value_name = "DURATION", value_parser = crate::edit::parse_duration, help_heading = "Cutting")]
    pub(crate) max_pause: Option<crate::time::Time>,
    /// Cut on loudness alone: no transcription, no subtitle files, no filler or repeat cuts
    /// (the same job as auto-editor, and much faster than a captioned cut).
    #[arg(long, help_heading = "Cutting", conflicts_with_all = ["burn_in", "remove_repeats"])]
    pub(crate) no_captions: bool,
    /// Write the cut list for editors: json (NAME.cutlist.json), edl (CMX3600: Resolve,
    /// Premiere, Avid), fcpxml (Final Cut Pro, Resolve), premiere (NAME.xml, Final Cut Pro 7
    /// XML: Premiere Pro, Resolve), otio (OpenTimelineIO).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = choice(Export::ALL, |e| (e.name(), e.help())),
        help_heading = "Cutting"
    )]
    pub(crate) export: Vec<Export>,
    /// Burn the captions into the cut video.
    #[arg(long, help_heading = "Cutting")]
    pub(crate) burn_in: bool,
    /// Draw waveform, speech, cuts and captions into a PNG: NAME.timeline.png, or FILE.
    #[arg(long, value_name = "FILE", num_args = 0..=1, help_heading = "Cutting")]
    pub(crate) timeline: Option<Option<PathBuf>>,
    /// Print the cut list and the time saved; write nothing.
    #[arg(long, help_heading = "Cutting")]
    pub(crate) dry_run: bool,
    /// Reframe the cut video to this aspect ratio: 9:16 (Shorts, Reels, TikTok), 1:1, 4:5
    /// or 16:9. The output is at most the platform size (1080×1920 for 9:16) and never
    /// scales the source up unless --upscale.
    #[arg(long, value_name = "W:H", help_heading = "Reframing")]
    pub(crate) aspect: Option<crate::media::render::Aspect>,
    /// How the picture fills the new aspect ratio [default: crop].
    #[arg(
        long,
        value_name = "MODE",
        value_parser = choice(crate::media::render::Reframe::ALL, |r| (r.name(), r.help())),
        help_heading = "Reframing"
    )]
    pub(crate) reframe: Option<crate::media::render::Reframe>,
    /// Where the crop window sits across the source: 0 left edge, 0.5 centre, 1 right edge
    /// [default: 0.5].
    #[arg(long, value_name = "0..1", help_heading = "Reframing")]
    pub(crate) reframe_x: Option<f64>,
    /// The colour of fit-pad's bars, #RRGGBB [default: #000000].
    #[arg(long, value_name = "#RRGGBB", help_heading = "Reframing")]
    pub(crate) pad_colour: Option<String>,
    /// Reframe to the full platform size even when that scales the source's pixels up.
    #[arg(long, help_heading = "Reframing")]
    pub(crate) upscale: bool,
    /// Cut what an edit list says (NAME.edit.md from `subcut review`): ticked lines and
    /// deleted words go. Uses the words review stored: nothing is transcribed.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Cutting",
        conflicts_with_all = ["no_captions", "skip_existing"]
    )]
    pub(crate) edit: Option<PathBuf>,
    /// Video encoder quality (x264 CRF: lower is better, 18–28 is usual).
    #[arg(long, value_name = "N", help_heading = "Encoding")]
    pub(crate) crf: Option<u8>,
    /// Video encoder speed preset (ultrafast … veryslow).
    #[arg(long, value_name = "NAME", help_heading = "Encoding")]
    pub(crate) encoder_preset: Option<String>,
    /// Video encoder (default libx264).
    #[arg(long, value_name = "CODEC", help_heading = "Encoding")]
    pub(crate) video_codec: Option<String>,
    /// Audio encoder (default: aac for mp4, the input's format for audio files).
    #[arg(long, value_name = "CODEC", help_heading = "Encoding")]
    pub(crate) audio_codec: Option<String>,
    /// How the cut video is written: copy what the cut does not change and re-encode only
    /// the cut edges (smart), or re-encode every frame [default: auto].
    #[arg(
        long,
        value_name = "MODE",
        value_parser = choice(RenderMode::ALL, |m| (m.name(), m.help())),
        help_heading = "Encoding"
    )]
    pub(crate) render: Option<RenderMode>,
    #[command(flatten)]
    pub(crate) caption: CaptionArgs,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct AlignArgs {
    /// The text to align: plain text (.txt, one or more lines) or subtitles (.srt, .vtt).
    #[arg(long, value_name = "FILE")]
    pub(crate) script: PathBuf,
    /// With an .srt or .vtt script: keep its cues as they are (text and count) and only correct their
    /// offset and drift against the speech.
    #[arg(long)]
    pub(crate) retime_only: bool,
    #[command(flatten)]
    pub(crate) caption: CaptionArgs,
}

#[derive(Subcommand, Debug)]
pub(crate) enum PresetsCommand {
    /// Shipped and user presets, with what each is for.
    List,
    /// Every value a preset sets, defaults filled in (TOML).
    Show {
        /// A preset name or a .toml file.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum ModelCommand {
    /// List installed models and the models `pull` knows, with sizes.
    List,
    /// Print the file a model name resolves to.
    Path {
        /// A model name such as base or tiny.en, or a path.
        name: String,
    },
    /// Download a whisper.cpp model (resumable, checksum-verified).
    Pull {
        /// A known model name (see `subcut model list`).
        name: String,
        /// Base URL to download from (default: $SUBCUT_MODEL_URL, else the whisper.cpp Hugging Face repository).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// Convert a CTranslate2 (faster-whisper) model directory into a whisper.cpp ggml file.
    Import {
        /// Directory holding model.bin, config.json and vocabulary.txt.
        ct2_dir: PathBuf,
        /// Output file (default: the models directory, ggml-NAME.bin).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Name to install the model under (default: the directory's name, plus `-q8_0` etc.
        /// when quantized).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Quantize the 2-D weights as whisper.cpp's quantize tool does (smaller and usually
        /// faster on CPU; q8_0 keeps the accuracy of f16).
        #[arg(long, value_name = "TYPE", value_parser = choice(&Quantization::ALL, |q| (q.name(), q.help())))]
        quantize: Option<Quantization>,
    },
}

/// A flag's value parser for a domain enum that has no clap derives: its `(name, help)`
/// pairs become the possible values (listed in `--help` as `value_enum` would list them),
/// and the name chosen is parsed with the type's `FromStr`.
fn choice<T>(
    all: &'static [T],
    describe: fn(&T) -> (&'static str, &'static str),
) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
{
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new(all.iter().map(|v| {
        let (name, help) = describe(v);
        PossibleValue::new(name).help(help)
    }))
    .map(|s| {
        s.parse::<T>()
            .unwrap_or_else(|_| unreachable!("{s} is one of the possible values"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn caption_flags_parse() {
        let cli = Cli::try_parse_from([
            "subcut",
            "caption",
            "a.mp4",
            "dir",
            "-o",
            "out",
            "--format",
            "srt,json",
            "--language",
            "zh",
            "--threads",
            "3",
        ])
        .unwrap();
        let Command::Caption(a) = cli.command else {
            panic!("not caption")
        };
        assert_eq!(a.inputs, [PathBuf::from("a.mp4"), PathBuf::from("dir")]);
        assert_eq!(a.format, [Format::Srt, Format::Json]);
        assert_eq!(
            (a.language.as_deref(), a.threads, a.model.as_deref()),
            (Some("zh"), Some(3), None)
        );
        // How the flags go over a preset: commands/resolve.rs.
        assert!(Cli::try_parse_from(["subcut", "caption", "a.mp4", "--format", "doc"]).is_err());
    }

    #[test]
    fn retake_and_pause_flags_parse() {
        let cut = |args: &[&str]| {
            let mut v = vec!["subcut", "cut", "a.mp4"];
            v.extend(args);
            Cli::try_parse_from(v).map(|cli| match cli.command {
                Command::Cut(c) => (c.retakes, c.max_pause),
                _ => panic!("not cut"),
            })
        };
        assert_eq!(cut(&[]).unwrap(), (None, None));
        assert_eq!(
            cut(&["--retakes", "none", "--max-pause", "0.4s"]).unwrap(),
            (
                Some(crate::edit::Retakes::None),
                Some(crate::time::Time::from_millis(400))
            )
        );
        assert_eq!(
            cut(&["--retakes=keep-last", "--max-pause", "350ms"]).unwrap(),
            (
                Some(crate::edit::Retakes::KeepLast),
                Some(crate::time::Time::from_millis(350))
            )
        );
        for bad in [
            &["--retakes", "all"][..],
            &["--max-pause", "-1s"],
            &["--max-pause", "x"],
        ] {
            assert!(cut(bad).is_err(), "{bad:?}");
        }
    }
}
