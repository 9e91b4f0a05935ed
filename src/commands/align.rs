//! `subcut align --script FILE`: the words are given (a script or a subtitle file), only
//! their timing is found.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::caption::caption;
use super::Ui;
use crate::cli::AlignArgs;
use crate::pipeline::Script;
use crate::subtitle::format::{srt, vtt};

pub(super) fn align(a: AlignArgs, ui: &Ui) -> Result<i32> {
    if a.caption.inputs.len() != 1 {
        bail!(
            "align takes exactly one media file (got {})",
            a.caption.inputs.len()
        );
    }
    let script = load_script(&a.script, a.retime_only)?;
    caption(a.caption, Some((script, &a.script)), ui)
}

/// Reads a script for `align`: WebVTT when the file is .vtt or starts with `WEBVTT`, SRT
/// when it is .srt or its text holds `-->`, else plain text lines. A subtitle file that does
/// not parse is an error naming its line (`talk.srt:12: …`).
fn load_script(path: &Path, retime_only: bool) -> Result<Script> {
    // Not opened unless it is a file: a FIFO would wait for a writer.
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => bail!("{}: the script is a directory", path.display()),
        Ok(m) if !m.is_file() => bail!(
            "{}: the script is not a regular file ({})",
            path.display(),
            crate::media::special_kind(&m.file_type())
        ),
        _ => {}
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the script", path.display()))?;
    let text = text.trim_start_matches('\u{feff}');
    let ext = |e: &str| path.extension().is_some_and(|x| x.eq_ignore_ascii_case(e));
    let parsed = if ext("vtt") || (!ext("srt") && text.starts_with("WEBVTT")) {
        Some(("WebVTT", vtt::parse(text)))
    } else if ext("srt") || text.contains("-->") {
        Some(("SRT", srt::parse(text)))
    } else {
        None
    };
    if let Some((kind, cues)) = parsed {
        let cues = cues.map_err(|e| {
            anyhow::anyhow!(
                "{}:{}: not a valid {kind} file: {}",
                path.display(),
                e.line,
                e.message
            )
        })?;
        if cues.is_empty() {
            bail!("{}: the subtitle file has no cues", path.display());
        }
        return Ok(Script::Cues { cues, retime_only });
    }
    if retime_only {
        bail!(
            "{}: --retime-only needs an .srt or .vtt script",
            path.display()
        );
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
