//! Captions burned into the picture: the checks made before anything is written (the file
//! can be read; a font covers its CJK text) and libavfilter's `subtitles` filter (libass),
//! which [`super::video`] puts first in its filter graph.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::ptr;

use ffmpeg_next as ffmpeg;

use ffmpeg::{ffi, filter};

use super::{RenderError, RenderOptions};
use crate::media::io_why;
use crate::transcript::is_cjk_letter;

/// Captions to burn in with libavfilter's `subtitles` filter.
#[derive(Clone, Debug)]
pub(super) struct BurnIn {
    pub file: PathBuf,
    pub force_style: Option<String>,
}

/// The captions to burn into `input`'s picture, if [`RenderOptions::burn_in`] names some:
/// checked up front, and refused when the input has no video.
pub(super) fn prepare(
    opts: &RenderOptions,
    input: &Path,
    has_video: bool,
) -> Result<Option<BurnIn>, RenderError> {
    match (&opts.burn_in, has_video) {
        (Some(p), true) => {
            check_burn_in(p)?;
            Ok(Some(BurnIn {
                file: p.clone(),
                force_style: opts.burn_in_style.clone(),
            }))
        }
        (Some(p), false) => Err(RenderError::BurnIn {
            path: p.clone(),
            detail: format!("{} has no video to burn them into", input.display()),
        }),
        (None, _) => Ok(None),
    }
}

/// The captions file exists and, if it has CJK text, fontconfig knows a font for it.
fn check_burn_in(path: &Path) -> Result<(), RenderError> {
    let err = |detail: String| RenderError::BurnIn {
        path: path.into(),
        detail,
    };
    let bytes = std::fs::read(path).map_err(|e| err(io_why(&e)))?;
    let text = String::from_utf8_lossy(&bytes);
    if let Some(c) = text.chars().find(|&c| is_cjk_letter(c)) {
        if font_covers(c) == Some(false) {
            return Err(err(format!(
                "no installed font has the glyph {c:?} (U+{:04X}); install a CJK font such as \
                 fonts-noto-cjk",
                c as u32
            )));
        }
    }
    Ok(())
}

/// Whether fontconfig has a font with `c` (None when `fc-list` cannot be run).
fn font_covers(c: char) -> Option<bool> {
    let out = std::process::Command::new("fc-list")
        .arg(format!(":charset={:x}", c as u32))
        .arg("family")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| !String::from_utf8_lossy(&out.stdout).trim().is_empty())
}

/// The `subtitles` filter, options set one by one (no filter-string escaping of the path).
pub(super) fn subtitles_filter(
    graph: &mut filter::Graph,
    b: &BurnIn,
) -> Result<filter::Context, String> {
    let f = filter::find("subtitles").ok_or("FFmpeg was built without the subtitles filter")?;
    let name = CString::new("subtitles").unwrap();
    let path = CString::new(b.file.to_string_lossy().as_bytes())
        .map_err(|_| "subtitle path contains a NUL byte".to_string())?;
    // SAFETY: allocating a filter in a live graph; options are set before init; the context
    // belongs to the graph.
    unsafe {
        let ctx = ffi::avfilter_graph_alloc_filter(graph.as_mut_ptr(), f.as_ptr(), name.as_ptr());
        if ctx.is_null() {
            return Err("cannot allocate the subtitles filter".into());
        }
        let set = |k: &str, v: &CString| -> Result<(), String> {
            let k = CString::new(k).unwrap();
            let r = ffi::av_opt_set(
                ctx as *mut _,
                k.as_ptr(),
                v.as_ptr(),
                ffi::AV_OPT_SEARCH_CHILDREN,
            );
            if r < 0 {
                Err(format!(
                    "subtitles filter option: {}",
                    ffmpeg::Error::from(r)
                ))
            } else {
                Ok(())
            }
        };
        set("filename", &path)?;
        if let Some(style) = &b.force_style {
            let style = CString::new(style.as_bytes())
                .map_err(|_| "burn-in style contains a NUL byte".to_string())?;
            set("force_style", &style)?;
        }
        let r = ffi::avfilter_init_str(ctx, ptr::null());
        if r < 0 {
            return Err(format!(
                "cannot load the captions ({})",
                ffmpeg::Error::from(r)
            ));
        }
        Ok(filter::Context::wrap(ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_detection() {
        assert!(is_cjk_letter('中') && is_cjk_letter('か') && is_cjk_letter('한'));
        assert!(!is_cjk_letter('a') && !is_cjk_letter('é') && !is_cjk_letter('，'));
    }
}
