//! Resolves parsed flags into jobs and runs them: the glue between [`crate::cli`] and the
//! library. Returns the process exit code; per-input failures are printed and counted,
//! configuration errors are returned as `Err` (exit code 2).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::asr::{model, Replay, Transcriber};
use crate::cli::{CaptionArgs, Cli, Command, ModelCommand};
use crate::inputs;
use crate::output::output_path;
use crate::pipeline::{self, CaptionJob, Event, Outcome, Script};

/// Exit codes: all done / some inputs failed / usage or configuration error.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_CONFIG: i32 = 2;

/// The bundled sample that `subcut run` captions when given no input.
pub fn sample_input() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/talk.mp4");
    if built.exists() {
        built
    } else {
        PathBuf::from("fixtures/talk.mp4")
    }
}

pub fn run(cli: Cli) -> Result<i32> {
    let ui = Ui {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    match cli.command {
        Command::Run(mut args) => {
            let c = &mut args.caption;
            if c.inputs.is_empty() {
                c.inputs.push(sample_input());
                if c.out_dir.is_none() {
                    c.out_dir = Some(PathBuf::from("subcut-sample"));
                }
            }
            // The whole job the preset describes: a cut, or captions only.
            let preset = effective_preset(&args.caption, Some(&args))?;
            if preset.mode == crate::preset::Mode::Cut {
                cut(args, &ui)
            } else {
                caption(args.caption, None, &ui)
            }
        }
        Command::Presets(p) => presets_command(p),
        Command::Caption(args) => {
            if args.inputs.is_empty() {
                bail!("no input given: name media files, directories or glob patterns (or run `subcut run` for the sample)");
            }
            caption(args, None, &ui)
        }
        Command::Cut(a) => {
            if a.caption.inputs.is_empty() {
                bail!("no input given: name media files, directories or glob patterns");
            }
            cut(a, &ui)
        }
        Command::Align(a) => {
            if a.caption.inputs.len() != 1 {
                bail!(
                    "align takes exactly one media file (got {})",
                    a.caption.inputs.len()
                );
            }
            let script = load_script(&a.script, a.retime_only)?;
            caption(a.caption, Some(script), &ui)
        }
        Command::Model(m) => model_command(m, &ui),
        Command::Watch(a) => crate::watch::command(&a, ui.quiet),
    }
}

struct Ui {
    quiet: bool,
    verbose: bool,
}

impl Ui {
    fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
}

/// Reads a script for `align`: subtitles when the file is .srt/.vtt or parses as SRT,
/// else plain text lines.
fn load_script(path: &Path, retime_only: bool) -> Result<Script> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the script", path.display()))?;
    let text = text.trim_start_matches('\u{feff}');
    let is_srt = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("srt"))
        || text.contains("-->");
    if is_srt {
        let subs = srtlib::Subtitles::parse_from_str(text.replace("\r\n", "\n"))
            .map_err(|e| anyhow::anyhow!("{}: not a valid SRT file: {e}", path.display()))?;
        let cues: Vec<crate::subtitle::Cue> = subs
            .to_vec()
            .into_iter()
            .map(|s| crate::subtitle::Cue {
                start: srt_time(&s.start_time),
                end: srt_time(&s.end_time),
                text: s.text,
            })
            .collect();
        if cues.is_empty() {
            bail!("{}: the subtitle file has no cues", path.display());
        }
        return Ok(Script::Cues { cues, retime_only });
    }
    if retime_only {
        bail!("{}: --retime-only needs an .srt script", path.display());
    }
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if lines.is_empty() {
        bail!("{}: the script is empty", path.display());
    }
    Ok(Script::Text(lines))
}

fn srt_time(t: &srtlib::Timestamp) -> crate::time::Time {
    let (h, m, s, ms) = t.get();
    crate::time::Time::from_millis(srtlib::Timestamp::convert_to_milliseconds(h, m, s, ms) as i64)
}

/// What a caption-like command needs before it touches any input: the job and the engine
/// (model loaded and checked). Errors here are configuration errors (exit code 2).
pub struct Prepared {
    pub job: CaptionJob,
    pub engine: Box<dyn Transcriber>,
    /// Whisper threads per file.
    pub threads: usize,
    /// The model loaded and where its weights went, for `--verbose`.
    pub model_note: Option<String>,
}

/// The preset the command runs with: `--preset` (else `default`), then the flags given.
/// Errors (unknown preset, bad value) are configuration errors.
pub fn effective_preset(
    args: &CaptionArgs,
    cut: Option<&crate::cli::CutArgs>,
) -> Result<crate::preset::Preset> {
    let name = args.preset.as_deref().unwrap_or("default");
    let mut p = crate::preset::load(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    args.apply(&mut p);
    if let Some(c) = cut {
        if c.no_captions && c.fillers.as_ref().is_some_and(|f| !f.is_none()) {
            bail!("--fillers needs the transcript; it cannot go with --no-captions");
        }
        c.apply(&mut p);
    }
    p.validate()
        .map_err(|e| anyhow::anyhow!("invalid setting: {e}"))?;
    Ok(p)
}

/// Builds the job for `args` (with the preset `p`) for `n_inputs` inputs and loads the
/// engine. Also returns the number of files in flight.
pub fn prepare(
    args: &CaptionArgs,
    p: &crate::preset::Preset,
    script: Option<Script>,
    n_inputs: usize,
) -> Result<(Prepared, usize)> {
    let c = &p.caption;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (jobs, threads) = pipeline::split_cores(cores, c.jobs, c.threads, n_inputs);
    let asr = c
        .transcribe_options(threads)
        .with_knobs(&|k| std::env::var_os(k));
    // A cut without captions hears no words: no model is loaded.
    let captions = p.captions;
    let mut model_note = None;
    let engine: Box<dyn Transcriber> = match &args.fake_transcript {
        _ if !captions => Box::new(Replay::nothing()),
        Some(path) => Box::new(Replay::load(path)?),
        None => {
            let loaded = crate::asr::load_engine(&c.model, &asr)?;
            model_note = Some(loaded.note);
            loaded.transcriber
        }
    };
    let job = CaptionJob {
        formats: if captions {
            c.formats.clone()
        } else {
            Vec::new()
        },
        out_dir: args.out_dir.clone(),
        asr,
        speech: crate::analysis::SpeechParams::default(),
        segment: p.subtitle.clone(),
        chinese: c.chinese,
        model_label: c.model.clone(),
        script,
        style: p.style.clone(),
    };
    Ok((
        Prepared {
            job,
            engine,
            threads,
            model_note,
        },
        jobs,
    ))
}

/// With `--verbose`, says which model was loaded and where its weights went.
fn say_model(p: &Prepared, ui: &Ui) {
    if let Some(note) = p.model_note.as_ref().filter(|_| ui.verbose) {
        ui.info(note);
    }
}

fn presets_command(cmd: crate::cli::PresetsCommand) -> Result<i32> {
    match cmd {
        crate::cli::PresetsCommand::List => {
            let list = crate::preset::list();
            let w = list
                .iter()
                .map(|p| p.name.chars().count())
                .max()
                .unwrap_or(0);
            for p in list {
                let from = match &p.source {
                    crate::preset::Source::Shipped => String::new(),
                    crate::preset::Source::User(path) => format!("  [{}]", path.display()),
                };
                let problem = p
                    .problem
                    .map(|e| format!("  (error: {e})"))
                    .unwrap_or_default();
                println!("{:<w$}  {}{from}{problem}", p.name, p.description);
            }
        }
        crate::cli::PresetsCommand::Show { name } => {
            print!(
                "{}",
                crate::preset::show(&name).map_err(|e| anyhow::anyhow!("{e}"))?
            );
        }
    }
    Ok(EXIT_OK)
}

/// The inputs of a batch command after expansion and sharding, and the arguments that
/// matched nothing (already failed: `(input, error line)`).
struct Batch {
    inputs: Vec<PathBuf>,
    failed: Vec<(String, String)>,
}

fn batch_inputs(args: &CaptionArgs) -> Result<Batch> {
    let (inputs, bad) = inputs::expand(&args.inputs);
    let shard = inputs::Shard::resolve(args.shard, args.shards, &|k| std::env::var(k).ok())
        .map_err(anyhow::Error::msg)?;
    let inputs = match shard {
        Some(s) => s.select(&inputs),
        None => inputs,
    };
    let failed = bad
        .iter()
        .map(|b| {
            (
                b.arg.display().to_string(),
                format!("{}: {}", b.arg.display(), b.cause),
            )
        })
        .collect();
    Ok(Batch { inputs, failed })
}

/// One input's work: `(index, input, progress)`.
type OneInput<'a> = dyn Fn(usize, &Path, &mut dyn FnMut(Event)) -> Result<Outcome> + Sync + 'a;

/// Runs `one` over the inputs (skipping up-to-date ones with --skip-existing), shows
/// progress, prints the summary, writes the report; exit code 1 when any input failed.
fn run_inputs(
    args: &CaptionArgs,
    batch: Batch,
    jobs: usize,
    writes: bool,
    expected: &dyn Fn(&Path) -> Vec<PathBuf>,
    one: &OneInput,
    ui: &Ui,
) -> Result<i32> {
    let Batch { inputs, mut failed } = batch;
    let (inputs, skipped): (Vec<PathBuf>, Vec<PathBuf>) = inputs
        .into_iter()
        .partition(|p| !(args.skip_existing && inputs::up_to_date(p, &expected(p))));
    if let Some(dir) = args.out_dir.as_ref().filter(|_| writes) {
        if let Err(e) = crate::output::ensure_dir(dir) {
            for p in &inputs {
                failed.push((p.display().to_string(), format!("{}: {e:#}", p.display())));
            }
            return finish(&[], &skipped, failed, args, ui);
        }
    }
    let progress = Progress::new(&inputs, ui.quiet);
    let results = pipeline::run_all(&inputs, jobs, &|i, p| {
        one(i, p, &mut |e| progress.event(i, e))
    });
    progress.clear();
    let mut done = Vec::new();
    for (input, r) in inputs.iter().zip(results) {
        match r {
            Ok(o) => done.push(o),
            Err(e) => failed.push((input.display().to_string(), one_line(&e))),
        }
    }
    finish(&done, &skipped, failed, args, ui)
}

fn caption(args: CaptionArgs, script: Option<Script>, ui: &Ui) -> Result<i32> {
    // Configuration problems stop the run before any work: exit code 2.
    let mut preset = effective_preset(&args, None)?;
    preset.captions = true; // whatever a cutting preset says: captioning is the job here
    let batch = batch_inputs(&args)?;
    let (prepared, jobs) = prepare(&args, &preset, script, batch.inputs.len())?;
    say_model(&prepared, ui);
    let Prepared { job, engine, .. } = prepared;
    let expected = |p: &Path| {
        job.formats
            .iter()
            .map(|f| output_path(p, job.out_dir.as_deref(), f.ext()))
            .collect()
    };
    run_inputs(
        &args,
        batch,
        jobs,
        true,
        &expected,
        &|_, p, on| pipeline::caption(p, &job, engine.as_ref(), on),
        ui,
    )
}

fn cut(args: crate::cli::CutArgs, ui: &Ui) -> Result<i32> {
    let preset = effective_preset(&args.caption, Some(&args))?;
    let batch = batch_inputs(&args.caption)?;
    let timeline = match &args.timeline {
        None if preset.timeline => Some(pipeline::TimelineOut::Beside),
        None => None,
        Some(None) => Some(pipeline::TimelineOut::Beside),
        Some(Some(p)) if batch.inputs.len() + batch.failed.len() > 1 => {
            bail!("--timeline {} names one file but there are several inputs; use --timeline alone for NAME.timeline.png", p.display())
        }
        Some(Some(p)) => Some(pipeline::TimelineOut::File(p.clone())),
    };
    let cut_job = pipeline::CutJob::from_preset(&preset, timeline, args.dry_run);
    let (prepared, jobs) = prepare(&args.caption, &preset, None, batch.inputs.len())?;
    say_model(&prepared, ui);
    let Prepared { job, engine, .. } = prepared;
    let expected = |p: &Path| pipeline::cut_outputs(p, &job, &cut_job);
    let dry = args.dry_run && !args.caption.json;
    run_inputs(
        &args.caption,
        batch,
        jobs,
        !args.dry_run,
        &expected,
        &|_, p, on| {
            let o = pipeline::cut(p, &job, &cut_job, engine.as_ref(), on)?;
            if let Some(list) = o.cut_list.as_ref().filter(|_| dry) {
                println!("{}:\n{list}", o.input.display());
            }
            Ok(o)
        },
        ui,
    )
}

/// An error chain on one line: `file: cause: detail`, skipping repeats (a cause whose text
/// is already contained in the line so far).
pub fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for c in e.chain() {
        let s = c.to_string();
        if line.contains(&s) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&s);
    }
    line
}

fn finish(
    done: &[Outcome],
    skipped: &[PathBuf],
    failed: Vec<(String, String)>,
    args: &CaptionArgs,
    ui: &Ui,
) -> Result<i32> {
    for o in done {
        if ui.verbose {
            ui.info(format!(
                "{}: {:.1} s of media, {} cues ({}), decode {:.2} s, transcribe {:.2} s, write {:.3} s",
                o.input.display(),
                o.media_seconds,
                o.cues,
                o.language,
                o.decode_seconds,
                o.transcribe_seconds,
                o.write_seconds
            ));
        }
    }
    for (_, msg) in &failed {
        eprintln!("error: {msg}");
    }
    let report = report_json(done, skipped, &failed);
    if let Some(path) = &args.report {
        let mut staged = crate::output::Staged::default();
        let body = serde_json::to_string_pretty(&report)? + "\n";
        staged
            .add(Path::new(""), path.clone(), body.as_bytes())
            .and_then(|_| staged.commit())
            .with_context(|| format!("{}: cannot write the report", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for o in done {
            for p in &o.outputs {
                println!("{}", p.display());
            }
        }
    }
    if !ui.quiet && done.len() + skipped.len() + failed.len() > 1 {
        eprint!("{}", summary_table(done, skipped, &failed));
    }
    if !done.is_empty() || !failed.is_empty() || !skipped.is_empty() {
        let skip = if skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped (up to date)", skipped.len())
        };
        ui.info(format!(
            "{} done, {} failed{skip}",
            done.len(),
            failed.len()
        ));
    }
    Ok(if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// The machine-readable summary: `--json` on stdout and `--report FILE`.
fn report_json(
    done: &[Outcome],
    skipped: &[PathBuf],
    failed: &[(String, String)],
) -> serde_json::Value {
    let mut inputs: Vec<serde_json::Value> = Vec::new();
    for o in done {
        let mut v = serde_json::to_value(o).expect("plain data");
        v["status"] = "done".into();
        inputs.push(v);
    }
    for p in skipped {
        inputs.push(serde_json::json!({"input": p, "status": "skipped"}));
    }
    for (input, error) in failed {
        inputs.push(serde_json::json!({"input": input, "status": "failed", "error": error}));
    }
    serde_json::json!({
        "done": done.len(),
        "failed": failed.len(),
        "skipped": skipped.len(),
        "inputs": inputs,
    })
}

/// A plain-text table of every input's fate, for the end of a batch run.
fn summary_table(done: &[Outcome], skipped: &[PathBuf], failed: &[(String, String)]) -> String {
    let mut rows: Vec<[String; 4]> = vec![[
        "status".into(),
        "media".into(),
        "took".into(),
        "input".into(),
    ]];
    for o in done {
        let took = o.decode_seconds
            + o.analysis_seconds
            + o.transcribe_seconds
            + o.write_seconds
            + o.render_seconds.unwrap_or(0.0);
        rows.push([
            "done".into(),
            format!("{:.1}s", o.media_seconds),
            format!("{took:.1}s"),
            o.input.display().to_string(),
        ]);
    }
    for p in skipped {
        rows.push([
            "skipped".into(),
            "-".into(),
            "-".into(),
            p.display().to_string(),
        ]);
    }
    for (input, error) in failed {
        let cause = error
            .strip_prefix(input.as_str())
            .map(|s| s.trim_start_matches(": "))
            .unwrap_or(error);
        rows.push([
            "FAILED".into(),
            "-".into(),
            "-".into(),
            format!("{input} ({cause})"),
        ]);
    }
    let w: Vec<usize> = (0..3)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2]
        ));
    }
    out
}

/// Progress bars on stderr: one per file in flight, hidden when stderr is not a terminal.
struct Progress {
    multi: MultiProgress,
    bars: Vec<Mutex<Option<ProgressBar>>>,
    names: Vec<String>,
}

impl Progress {
    fn new(inputs: &[PathBuf], quiet: bool) -> Progress {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Progress {
            multi: MultiProgress::with_draw_target(target),
            bars: inputs.iter().map(|_| Mutex::new(None)).collect(),
            names: inputs
                .iter()
                .map(|p| {
                    p.file_name().map_or_else(
                        || p.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
        }
    }

    fn event(&self, i: usize, e: Event) {
        let mut slot = self.bars[i].lock().unwrap_or_else(|p| p.into_inner());
        let bar = slot.get_or_insert_with(|| {
            let b = self.multi.add(ProgressBar::new(1000));
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix:.bold} {msg:>10} [{bar:30}] {percent:>3}% {elapsed}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            b.set_prefix(self.names[i].clone());
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        match e {
            Event::Stage(s) => {
                bar.set_message(s);
                bar.set_position(0);
            }
            Event::Progress(f) => bar.set_position((f.clamp(0.0, 1.0) * 1000.0) as u64),
        }
    }

    fn clear(&self) {
        for b in self
            .bars
            .iter()
            .filter_map(|m| m.lock().ok().and_then(|b| b.clone()))
        {
            b.finish_and_clear();
        }
    }
}

fn model_command(cmd: ModelCommand, ui: &Ui) -> Result<i32> {
    match cmd {
        ModelCommand::List => {
            let entries = model::list();
            println!("{:<18} {:>10}  {:<9} PATH", "NAME", "SIZE", "STATUS");
            for e in entries {
                let size = e.bytes.map_or_else(|| "-".to_string(), human_bytes);
                let status = if e.installed {
                    "installed"
                } else {
                    "available"
                };
                let path = e.path.map_or_else(String::new, |p| p.display().to_string());
                println!("{:<18} {:>10}  {:<9} {}", e.name, size, status, path);
            }
            ui.info(format!(
                "models directory: {}",
                model::models_dir().display()
            ));
            Ok(EXIT_OK)
        }
        ModelCommand::Path { name } => {
            println!("{}", model::resolve(&name)?.display());
            Ok(EXIT_OK)
        }
        ModelCommand::Pull { name, url } => {
            let mut opts = model::PullOptions::from_env();
            if let Some(u) = url {
                opts.base_url = u;
            }
            let mut bar = DownloadBar::new(!ui.quiet && std::io::stderr().is_terminal());
            let path = model::pull(&name, &opts, &mut |p| bar.show(p))?;
            println!("{}", path.display());
            Ok(EXIT_OK)
        }
        ModelCommand::Import {
            ct2_dir,
            output,
            name,
            quantize,
        } => {
            let name = match name {
                Some(n) => n,
                None => ct2_dir
                    .canonicalize()
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .map(|n| match quantize {
                        Some(q) => format!("{n}-{q}"),
                        None => n,
                    })
                    .with_context(|| {
                        format!("{}: cannot name the model; pass --name", ct2_dir.display())
                    })?,
            };
            let out = match output {
                Some(o) => o,
                None => {
                    let dir = model::models_dir();
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                    dir.join(format!("ggml-{name}.bin"))
                }
            };
            let s = model::import_ct2(&ct2_dir, &out, quantize)?;
            ui.info(format!(
                "imported {} ({} layers, d={}, {} tokens, {}, {}) as {}",
                ct2_dir.display(),
                s.n_audio_layer,
                s.d_model,
                s.n_vocab,
                if s.multilingual {
                    "multilingual"
                } else {
                    "English-only"
                },
                s.quantization.map_or("f16", |q| q.name()),
                human_bytes(s.bytes)
            ));
            println!("{}", out.display());
            Ok(EXIT_OK)
        }
    }
}

/// `model pull`'s bar on stderr (bytes, rate, ETA), one per download attempt; nothing when
/// not `shown`.
struct DownloadBar {
    shown: bool,
    bar: Option<ProgressBar>,
}

impl DownloadBar {
    fn new(shown: bool) -> DownloadBar {
        DownloadBar { shown, bar: None }
    }

    fn show(&mut self, p: model::PullProgress) {
        if !self.shown {
            return;
        }
        match p {
            model::PullProgress::Start { file, total, at } => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(file.to_string());
                bar.set_position(at);
                bar.reset_eta();
                self.bar = Some(bar);
            }
            model::PullProgress::At(at) => {
                if let Some(b) = &self.bar {
                    b.set_position(at);
                }
            }
            // What arrived stays on screen above the error or the next attempt's bar.
            model::PullProgress::Stopped => {
                if let Some(b) = self.bar.take() {
                    b.abandon();
                }
            }
            model::PullProgress::Done => {
                if let Some(b) = self.bar.take() {
                    b.finish_and_clear();
                }
            }
        }
    }
}

fn human_bytes(b: u64) -> String {
    let mb = b as f64 / 1_048_576.0;
    if mb >= 1024.0 {
        format!("{:.1} GiB", mb / 1024.0)
    } else {
        format!("{mb:.0} MiB")
    }
}
