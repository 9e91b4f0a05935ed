//! `subcut align --script FILE`: the words are given (a script or a subtitle file), only
//! their timing is found.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::caption::caption;
use super::Ui;
use crate::cli::AlignArgs;
use crate::pipeline::Script;
use crate::subtitle::format::srt;

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

/// Reads a script for `align`: subtitles when the file is .srt or its text looks like SRT
/// (holds `-->`), else plain text lines.
fn load_script(path: &Path, retime_only: bool) -> Result<Script> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the script", path.display()))?;
    let text = text.trim_start_matches('\u{feff}');
    let is_srt = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("srt"))
        || text.contains("-->");
    if is_srt {
        let cues = srt::parse(text)
            .map_err(|e| anyhow::anyhow!("{}: not a valid SRT file: {e}", path.display()))?;
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
