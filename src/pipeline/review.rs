//! `subcut review` for one input, and the edit list's files for `subcut cut --edit`:
//!
//! ```text
//! listen (decode, speech, words) ─▶ plan_cut (the proposal, as cut --edit of the untouched
//!   list would cut it) ─▶ NAME.edit.md + NAME.edit.json + NAME.review.png + NAME.review.html
//! ```
//!
//! The list itself (its lines, how it is read back) is pure logic in
//! [`crate::edit::editlist`]; the page is [`crate::review_page`]. Here: the input's
//! fingerprint, the files, and loading an edited list for a cut ([`load_edit`]).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use super::cut::{plan_cut, CutJob};
use super::{file_name, listen, CaptionJob, Event, Outcome};
use crate::asr::Transcriber;
use crate::edit::editlist::{self, InputId, State, Stored, Warning};
use crate::media::{self, probe};
use crate::output::{output_path, Staged};
use crate::review_page;
use crate::timeline;
use crate::transcript::Word;

/// How much of each end of a file its fingerprint reads.
const FINGERPRINT_CHUNK: u64 = 1 << 20;

/// What identifies `path`'s content: its size and a SHA-256 of its size, first MiB and
/// last MiB (`sha256:…`), read in milliseconds whatever the file's length. `duration`: its
/// decoded audio's length.
pub(crate) fn input_id(path: &Path, duration: crate::time::Time) -> Result<InputId> {
    let (size, fingerprint) = fingerprint(path)?;
    Ok(InputId {
        name: file_name(path),
        size,
        duration,
        fingerprint,
    })
}

fn fingerprint(path: &Path) -> Result<(u64, String)> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let size = f
        .metadata()
        .with_context(|| format!("{}: cannot read", path.display()))?
        .len();
    let mut h = Sha256::new();
    h.update(size.to_le_bytes());
    let mut buf = Vec::new();
    (&mut f)
        .take(FINGERPRINT_CHUNK)
        .read_to_end(&mut buf)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    h.update(&buf);
    if size > FINGERPRINT_CHUNK {
        buf.clear();
        f.seek(SeekFrom::Start(
            size.saturating_sub(FINGERPRINT_CHUNK)
                .max(FINGERPRINT_CHUNK),
        ))
        .and_then(|_| f.take(FINGERPRINT_CHUNK).read_to_end(&mut buf))
        .with_context(|| format!("{}: cannot read", path.display()))?;
        h.update(&buf);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, format!("sha256:{hex}")))
}

/// The files [`review`] writes for `input`.
pub fn review_outputs(input: &Path, job: &CaptionJob) -> Vec<PathBuf> {
    let dir = job.out_dir.as_deref();
    ["edit.md", "edit.json", "review.png", "review.html"]
        .iter()
        .map(|e| output_path(input, dir, e))
        .collect()
}

/// An edited list, checked against its input, ready for the cut.
#[derive(Debug)]
pub struct EditSession {
    /// The list file (for messages).
    pub(crate) list: PathBuf,
    /// What review stored.
    pub(crate) stored: Stored,
    /// Its words, in the list's order.
    pub(crate) words: Vec<Word>,
    /// What the edited list decides.
    pub(crate) state: State,
}

/// Reads the edit list `list` and the transcript stored beside it, checks that both were
/// made for `input` (its size and content now), and decides the cut. Errors name the list;
/// warnings (words added or changed, lines not understood) come back to be shown.
pub(crate) fn load_edit(list: &Path, input: &Path) -> Result<(Arc<EditSession>, Vec<Warning>)> {
    let name = list.display();
    let text = std::fs::read_to_string(list)
        .map_err(|e| anyhow::anyhow!("{name}: cannot read the edit list: {e}"))?;
    let parsed = editlist::parse(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let json_path = list
        .parent()
        .unwrap_or(Path::new("."))
        .join(&parsed.header.transcript);
    let json = std::fs::read_to_string(&json_path).map_err(|e| {
        anyhow::anyhow!(
            "{name}: cannot read the words it refers to, {}: {e}",
            json_path.display()
        )
    })?;
    let stored: Stored = serde_json::from_str(&json).map_err(|e| {
        anyhow::anyhow!(
            "{name}: its words file {} is not one subcut wrote: {e}",
            json_path.display()
        )
    })?;
    stored
        .check()
        .map_err(|e| anyhow::anyhow!("{name}: its words file {}: {e}", json_path.display()))?;
    if !stored.input.same_content(&parsed.header.input) {
        bail!(
            "{name}: its words file {} was made for another input; run `subcut review` again",
            json_path.display()
        );
    }
    let (size, fp) = fingerprint(input)?;
    let id = &parsed.header.input;
    if size != id.size || fp != id.fingerprint {
        if id.name == file_name(input) {
            bail!(
                "{name}: {} has changed since this list was made ({} bytes then, {size} now, or other content); run `subcut review` on it again",
                input.display(),
                id.size
            );
        }
        bail!(
            "{name}: this list is for {} ({} bytes), not for {}; review that file, or run `subcut review {}`",
            id.name,
            id.size,
            input.display(),
            input.display()
        );
    }
    let words = stored.words();
    let d = editlist::decide(&stored, &words, &parsed);
    Ok((
        Arc::new(EditSession {
            list: list.to_path_buf(),
            stored,
            words,
            state: d.state,
        }),
        d.warnings,
    ))
}

/// The path of `target` relative to the directory `base` (both made absolute), as a URL
/// path (segments percent-encoded).
fn relative_url(base: &Path, target: &Path) -> String {
    let abs = |p: &Path| {
        p.canonicalize().unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (b, t) = (abs(base), abs(target));
    let bc: Vec<Component> = b.components().collect();
    let tc: Vec<Component> = t.components().collect();
    let common = bc.iter().zip(&tc).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); bc.len() - common];
    parts.extend(
        tc[common..]
            .iter()
            .map(|c| encode_segment(&c.as_os_str().to_string_lossy())),
    );
    parts.join("/")
}

fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reviews one input: transcribes it, plans the cut, and writes the edit list, its words,
/// the timeline picture and the review page, committed together.
pub fn review(
    input: &Path,
    job: &CaptionJob,
    cut: &CutJob,
    engine: &dyn Transcriber,
    on: &mut dyn FnMut(Event),
) -> Result<Outcome> {
    let info = probe::probe(input).map_err(anyhow::Error::from)?;
    let heard = listen(input, job, engine, on)?;
    let t2 = Instant::now();
    on(Event::Stage("plan"));
    let duration = heard.audio.duration();
    let id = input_id(input, duration)?;
    let mut stored = Stored::new(id, heard.transcript.clone(), &cut.params);
    stored.mark_sound(
        &heard.speech,
        cut.params.min_clip.max(crate::time::Time::from_millis(300)),
    );
    let words = stored.words();
    // The page shows the cut the untouched list makes.
    let session = EditSession {
        list: PathBuf::new(),
        state: stored.proposal(),
        words,
        stored,
    };
    let mut cut = cut.clone();
    cut.edit = Some(Arc::new(session));
    let planned = plan_cut(input, &info, &heard, job, &cut)?;
    let session = cut.edit.as_ref().expect("set above");
    let stored = &session.stored;

    on(Event::Stage("write"));
    let dir = job.out_dir.as_deref();
    let md = output_path(input, dir, "edit.md");
    let json = output_path(input, dir, "edit.json");
    let png = output_path(input, dir, "review.png");
    let html = output_path(input, dir, "review.html");
    let json_name = file_name(&json);
    let list = editlist::render(stored, &json_name, &session.state);
    let stored_json = serde_json::to_string_pretty(stored).context("edit list JSON")?;
    let img = timeline::draw(
        &heard.audio.samples,
        media::SAMPLE_RATE,
        duration,
        &planned.cut_speech,
        &planned.plan.removed,
        &planned.cues,
        1600,
    );
    let page_dir = html.parent().unwrap_or(Path::new("."));
    let page = review_page::render(&review_page::Page {
        title: &file_name(input),
        video: &relative_url(page_dir, input),
        timeline: &encode_segment(&file_name(&png)),
        list: &file_name(&md),
        stored,
        words: &session.words,
        state: &session.state,
        plan: &planned.plan,
    });
    let mut staged = Staged::default();
    let failed = || format!("{}: output failed", input.display());
    staged
        .add(input, md, list.as_bytes())
        .with_context(failed)?;
    staged
        .add(input, json, stored_json.as_bytes())
        .with_context(failed)?;
    staged
        .add(input, png, &timeline::png(&img))
        .with_context(failed)?;
    staged
        .add(input, html, page.as_bytes())
        .with_context(failed)?;
    let outputs = staged.commit().with_context(failed)?;
    Ok(Outcome {
        input: input.to_path_buf(),
        outputs,
        language: stored.transcript.language.clone(),
        cues: planned.cues.len(),
        media_seconds: duration.as_secs_f64(),
        kept_seconds: Some(planned.plan.kept().as_secs_f64()),
        decode_seconds: heard.decode_seconds,
        analysis_seconds: heard.analysis_seconds,
        transcribe_seconds: heard.transcribe_seconds,
        write_seconds: t2.elapsed().as_secs_f64(),
        ..Outcome::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_relative_to_the_page() {
        let d = tempfile::tempdir().unwrap();
        let media = d.path().join("my talk #1.mp4");
        std::fs::write(&media, b"x").unwrap();
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        assert_eq!(relative_url(&out, &media), "../my%20talk%20%231.mp4");
        assert_eq!(relative_url(d.path(), &media), "my%20talk%20%231.mp4");
    }

    #[test]
    fn fingerprints_read_both_ends() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.bin");
        let mut bytes = vec![0u8; 3 << 20];
        std::fs::write(&a, &bytes).unwrap();
        let one = fingerprint(&a).unwrap();
        assert_eq!(one.0, 3 << 20);
        assert!(one.1.starts_with("sha256:") && one.1.len() == 7 + 64);
        *bytes.last_mut().unwrap() = 1;
        std::fs::write(&a, &bytes).unwrap();
        assert_ne!(fingerprint(&a).unwrap(), one, "the last MiB counts");
        bytes[0] = 1;
        std::fs::write(&a, &bytes[..10]).unwrap();
        assert_ne!(fingerprint(&a).unwrap().1, one.1);
    }
}
