//! x264's memory on frames larger than 1080p.
//!
//! x264 holds every frame in flight at full size plus its half-resolution lookahead planes
//! (about 20 MB a frame at 2160p, 35 MB for a reference with its half-pel planes). The frames
//! in flight are the rate-control lookahead (10 at `veryfast`, 40 at `medium`), the
//! sync-lookahead buffer (one per thread), the B-frames and one per frame thread (x264's
//! automatic count is 1.5 × the cores). At 2160p that is 620 MB (`veryfast`, no B-frames, the
//! smart render's edges) to 880 MB (`veryfast`, the full re-encode) on a 2-core machine,
//! before the decoder's own frames.
//!
//! Above 1080p the encoder therefore opens with a lookahead of at most [`MAX_LOOKAHEAD`]
//! frames, no sync-lookahead buffer, and (when the thread count is automatic) one frame thread
//! per core. Measured on a 3 s 2160p30 grainy clip, `veryfast`, 2 cores, x264 alone (ffmpeg
//! from raw frames): the full re-encode's settings (CRF 23, B-frames) 884 → 528 MB, 2.5 %
//! smaller, PSNR 32.57 → 32.50 dB; the smart render's edges (CRF 18, no B-frames) 621 → 363
//! MB, the same size, 44.29 → 44.28 dB; the same wall time within noise. x264 keeps a
//! lookahead of at least its B-frames. At 1080p and below nothing changes.

/// The lookahead ceiling above 1080p (frames).
pub(super) const MAX_LOOKAHEAD: u32 = 3;

/// Frames with more luma samples than this get the lighter settings (1920 × 1088 is x264's
/// 1080p with its macroblock padding).
const LARGE_FRAME: u64 = 1920 * 1088;

/// What x264 gets above 1080p: extra `x264-params` entries and, when the caller's thread
/// count is automatic (0), the frame threads to ask for instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LargeFrame {
    /// `key=value` entries, `:`-joined (append to any other x264-params).
    pub params: String,
    /// The encoder's `thread_count`: the caller's, or the cores when it asked for automatic.
    pub threads: usize,
}

/// The rate-control lookahead of an x264 preset (x264's `param_apply_preset`); `None` for a
/// name x264 does not know (x264 rejects it when the encoder opens).
pub(super) fn preset_lookahead(preset: &str) -> Option<u32> {
    Some(match preset {
        "ultrafast" | "superfast" => 0,
        "veryfast" => 10,
        "faster" => 20,
        "fast" => 30,
        "medium" => 40,
        "slow" => 50,
        "slower" | "veryslow" | "placebo" => 60,
        _ => return None,
    })
}

/// The lighter settings for a `width`×`height` frame, or `None` at 1080p and below.
/// `threads` is the caller's count (0 = automatic), `cores` the machine's.
pub(super) fn large_frame(
    width: u32,
    height: u32,
    preset: &str,
    threads: usize,
    cores: usize,
) -> Option<LargeFrame> {
    if u64::from(width) * u64::from(height) <= LARGE_FRAME {
        return None;
    }
    let mut params = vec!["sync-lookahead=0".to_string()];
    let lookahead = preset_lookahead(preset).unwrap_or(MAX_LOOKAHEAD);
    if lookahead > MAX_LOOKAHEAD {
        params.push(format!("rc-lookahead={MAX_LOOKAHEAD}"));
    }
    Some(LargeFrame {
        params: params.join(":"),
        threads: if threads == 0 { cores.max(1) } else { threads },
    })
}

/// [`large_frame`] for an encoder by name (only libx264 takes these settings) on this machine.
pub(super) fn for_encoder(
    encoder: &str,
    width: u32,
    height: u32,
    preset: &str,
    threads: usize,
) -> Option<LargeFrame> {
    (encoder == "libx264")
        .then(|| large_frame(width, height, preset, threads, cores()))
        .flatten()
}

/// The machine's cores as the standard library sees them (1 when it cannot tell).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_changes_at_1080p_and_below() {
        for (w, h) in [
            (1920, 1080),
            (1920, 1088),
            (1080, 1920),
            (1280, 720),
            (320, 180),
        ] {
            assert_eq!(large_frame(w, h, "veryfast", 0, 8), None, "{w}x{h}");
        }
    }

    #[test]
    fn above_1080p_the_lookahead_is_capped_and_threads_follow_the_cores() {
        let l = large_frame(3840, 2160, "veryfast", 0, 2).unwrap();
        assert_eq!(l.params, "sync-lookahead=0:rc-lookahead=3");
        assert_eq!(l.threads, 2);
        // Portrait 4K and 1440p count too; the caller's own thread count is kept.
        let l = large_frame(2160, 3840, "medium", 6, 16).unwrap();
        assert_eq!(l.params, "sync-lookahead=0:rc-lookahead=3");
        assert_eq!(l.threads, 6);
        assert!(large_frame(2560, 1440, "slow", 0, 4).is_some());
        // Only x264 takes them.
        assert!(for_encoder("libx264", 3840, 2160, "veryfast", 0).is_some());
        assert_eq!(for_encoder("libx265", 3840, 2160, "veryfast", 0), None);
    }

    #[test]
    fn presets_without_a_longer_lookahead_keep_theirs() {
        for p in ["ultrafast", "superfast"] {
            let l = large_frame(3840, 2160, p, 0, 4).unwrap();
            assert_eq!(l.params, "sync-lookahead=0", "{p}");
        }
        assert_eq!(preset_lookahead("medium"), Some(40));
        assert_eq!(preset_lookahead("nonsense"), None);
    }
}
