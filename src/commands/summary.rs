//! The end of a batch run and the bars on the way: progress per file in flight, the paths
//! written (or the `--json` summary) on stdout, the `--report` file, the summary table and
//! the `N done, M failed` line on stderr.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Ui, EXIT_FAILED, EXIT_OK};
use crate::cli::CaptionArgs;
use crate::pipeline::{Event, Outcome};

/// Prints and writes what became of every input; exit code 1 when any input failed.
pub(super) fn finish(
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
                o.languages_text(),
                o.decode_seconds,
                o.transcribe_seconds,
                o.write_seconds
            ));
        } else if o.languages.len() > 1 {
            ui.info(format!("{}: {}", o.input.display(), o.languages_text()));
        }
        if let Some(w) = crate::transcript::unheard_warning(&o.unheard).filter(|_| !ui.quiet) {
            eprintln!("warning: {}: {w}", o.input.display());
        }
        if let Some(r) = &o.render {
            let name = o.input.display();
            let audio = match &r.audio_reencoded_because {
                _ if r.audio_frames == 0 => String::new(),
                Some(why) => format!("; audio encoded in full: {why}"),
                None => format!(
                    "; audio: {} of {} frames copied, {} encoded at the joins",
                    r.audio_copied_frames,
                    r.audio_frames,
                    r.audio_frames.saturating_sub(r.audio_copied_frames)
                ),
            };
            match &r.reencoded_because {
                Some(why) if r.warn && !ui.quiet => eprintln!("warning: {name}: {why}"),
                Some(why) if ui.verbose => ui.info(format!(
                    "{name}: render {:.2} s, {} frames re-encoded: {why}{audio}",
                    o.render_seconds.unwrap_or(0.0),
                    r.frames
                )),
                None if ui.verbose => ui.info(format!(
                    "{name}: render {:.2} s, smart: {} of {} frames copied ({:.0} %), {} re-encoded at the cuts{audio}",
                    o.render_seconds.unwrap_or(0.0),
                    r.copied_frames,
                    r.frames,
                    100.0 * r.copied_frames as f64 / r.frames.max(1) as f64,
                    r.frames - r.copied_frames
                )),
                _ => {}
            }
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
        crate::output::print_stdout(format_args!("{}\n", serde_json::to_string_pretty(&report)?))?;
    } else {
        for o in done {
            for p in &o.outputs {
                crate::output::print_stdout(format_args!("{}\n", p.display()))?;
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
    if ui.verbose {
        if let Some(bytes) = peak_memory() {
            ui.info(format!("peak memory {} MB", bytes >> 20));
        }
    }
    Ok(if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// The process's peak resident memory so far (Linux: `VmHWM` of /proc/self/status), for `-v`.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
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
pub(super) struct Progress {
    multi: MultiProgress,
    bars: Vec<Mutex<Option<ProgressBar>>>,
    names: Vec<String>,
    quiet: bool,
}

impl Progress {
    pub(super) fn new(inputs: &[PathBuf], quiet: bool) -> Progress {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Progress {
            quiet,
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

    pub(super) fn event(&self, i: usize, e: Event) {
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
            Event::Warning(w) if !self.quiet => self.multi.suspend(|| eprintln!("warning: {w}")),
            Event::Warning(_) => {}
        }
    }

    pub(super) fn clear(&self) {
        for b in self
            .bars
            .iter()
            .filter_map(|m| m.lock().ok().and_then(|b| b.clone()))
        {
            b.finish_and_clear();
        }
    }
}
