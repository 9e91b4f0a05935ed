//! `subcut model list | path | pull | import`: the models directory.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Ui, EXIT_OK};
use crate::asr::model;
use crate::cli::ModelCommand;
use crate::output::print_stdout;

pub(super) fn command(cmd: ModelCommand, ui: &Ui) -> Result<i32> {
    match cmd {
        ModelCommand::List => {
            let entries = model::list();
            let mut table = format!("{:<18} {:>10}  {:<9} PATH\n", "NAME", "SIZE", "STATUS");
            for e in entries {
                let size = e.bytes.map_or_else(|| "-".to_string(), human_bytes);
                let status = if e.installed {
                    "installed"
                } else {
                    "available"
                };
                let path = e.path.map_or_else(String::new, |p| p.display().to_string());
                table.push_str(&format!(
                    "{:<18} {:>10}  {:<9} {}\n",
                    e.name, size, status, path
                ));
            }
            print_stdout(table)?;
            ui.info(format!(
                "models directory: {}",
                model::models_dir().display()
            ));
            Ok(EXIT_OK)
        }
        ModelCommand::Path { name } => {
            print_stdout(format_args!("{}\n", model::resolve(&name)?.display()))?;
            Ok(EXIT_OK)
        }
        ModelCommand::Pull { name, url } => {
            let mut opts = model::PullOptions::from_env();
            if let Some(u) = url {
                opts.base_url = u;
            }
            let mut bar = DownloadBar::new(!ui.quiet && std::io::stderr().is_terminal());
            let path = model::pull(&name, &opts, &mut |p| bar.show(p))?;
            print_stdout(format_args!("{}\n", path.display()))?;
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
            refuse_over_source(&ct2_dir, &out)?;
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
            print_stdout(format_args!("{}\n", out.display()))?;
            Ok(EXIT_OK)
        }
    }
}

/// `model import`: the output is never the CTranslate2 source directory nor one of its files
/// (an input of the run is never a destination).
fn refuse_over_source(ct2_dir: &std::path::Path, out: &std::path::Path) -> Result<()> {
    let (Ok(src), Some(dest)) = (ct2_dir.canonicalize(), super::guard::normalize(out)) else {
        return Ok(()); // a missing source or output directory fails with its own message
    };
    if dest == src || (dest.starts_with(&src) && dest.exists()) {
        anyhow::bail!(
            "{}: refusing to write the model over its CTranslate2 source {} (an input of this run is never a destination)",
            out.display(),
            ct2_dir.display()
        );
    }
    Ok(())
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
