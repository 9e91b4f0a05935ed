//! The pure half of the smart render: the video's groups of pictures, from the packets' timing
//! and key flags, and what to do with each one for a set of keep spans: copy it untouched (it
//! lies wholly inside one span), decode it (a span edge cuts it: only its kept frames are
//! re-encoded), or skip it (nothing of it is kept). No FFmpeg here.

use crate::time::{Span, Time};

/// One video packet as the demuxer gave it (times in the stream's time base).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PacketInfo {
    pub pts: i64,
    pub dts: i64,
    pub duration: i64,
    pub key: bool,
}

/// A group of pictures: packets `first..first + len` in decode order, presenting `[start, end)`
/// (stream time base), starting with a key frame whose decode time is `delay` before its
/// presentation time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gop {
    pub first: usize,
    pub len: usize,
    pub start: i64,
    pub end: i64,
    pub delay: i64,
}

/// What the smart render does with a group of pictures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing of it is kept: not even decoded.
    Skip,
    /// Wholly inside keep span `span`: its packets are copied.
    Copy { span: usize },
    /// A span edge cuts it: decoded, its kept frames re-encoded. Only its first `decode`
    /// packets (decode order) go to the decoder: the ones after the last kept frame's are
    /// shown after every kept frame, so no kept frame refers to them.
    Decode { decode: usize },
    /// Its first frames are kept in span `span` and its first `packets` packets (decode
    /// order) show exactly those, from the key frame up to presentation time `until`: they
    /// are copied. Where later frames of the group are kept too (the span ends after
    /// `until`, or the next one starts in the group), its first `decode` packets are also
    /// decoded and those frames re-encoded, in an encoder session that starts after the
    /// copied head; else `decode` is 0.
    Head {
        span: usize,
        packets: usize,
        until: i64,
        decode: usize,
    },
}

/// Splits the packets into closed groups of pictures. Errors say why the stream cannot be
/// copied group by group (the render then re-encodes everything).
pub(crate) fn gops(packets: &[PacketInfo]) -> Result<Vec<Gop>, String> {
    let Some(first) = packets.first() else {
        return Err("the video has no packets".into());
    };
    if !first.key {
        return Err("the video does not start with a key frame".into());
    }
    let mut out: Vec<Gop> = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if p.duration <= 0 {
            return Err(format!("video packet {i} has no duration"));
        }
        if p.key {
            out.push(Gop {
                first: i,
                len: 0,
                start: p.pts,
                end: p.pts + p.duration,
                delay: p.pts - p.dts,
            });
        }
        let g = out.last_mut().expect("the first packet is a key frame");
        if p.pts < g.start {
            // A picture shown before its group's key frame: an open GOP (it refers to the
            // previous group), which cannot be copied on its own.
            return Err(format!(
                "open GOP: video packet {i} is shown before its key frame"
            ));
        }
        g.len += 1;
        g.end = g.end.max(p.pts + p.duration);
    }
    if let Some(w) = out.windows(2).find(|w| w[1].start < w[0].end) {
        return Err(format!(
            "groups of pictures overlap in time (at pts {})",
            w[1].start
        ));
    }
    Ok(out)
}

/// What to do with each group for the keep `spans` (sorted, disjoint, on the same timeline as
/// the groups after `to_time`). `packets` are the ones the groups were made from. `tol`
/// absorbs timestamp rounding (under half a frame): a frame at `t` is kept in a span when
/// `t + tol` lies in it, as the render decides for decoded frames.
pub(crate) fn actions(
    gops: &[Gop],
    packets: &[PacketInfo],
    to_time: impl Fn(i64) -> Time,
    spans: &[Span],
    tol: Time,
) -> Vec<Action> {
    let kept = |pts: i64| {
        let t = to_time(pts) + tol;
        spans.iter().position(|s| t >= s.start && t < s.end)
    };
    gops.iter()
        .map(|g| {
            let (a, b) = (to_time(g.start), to_time(g.end));
            let mut overlaps = spans
                .iter()
                .enumerate()
                .filter(|(_, s)| s.start < b - tol && a + tol < s.end);
            match (overlaps.next(), overlaps.next()) {
                (None, _) => Action::Skip,
                (Some((i, s)), None) if s.start <= a + tol && b <= s.end + tol => {
                    Action::Copy { span: i }
                }
                _ => {
                    let ps = &packets[g.first..g.first + g.len];
                    head(g, ps, &kept).unwrap_or(Action::Decode {
                        decode: to_decode(ps, 0, &kept),
                    })
                }
            }
        })
        .collect()
}

/// How many of a group's packets (from the first, decode order) the decoder needs for the
/// kept frames at or after presentation time `from`: up to the last one's (the frames it
/// refers to are decoded before it).
fn to_decode(ps: &[PacketInfo], from: i64, kept: &impl Fn(i64) -> Option<usize>) -> usize {
    ps.iter()
        .rposition(|p| p.pts >= from && kept(p.pts).is_some())
        .map_or(0, |i| i + 1)
}

/// The longest run of a cut group's packets, from its key frame in decode order, that shows
/// its first frames in presentation order, all kept in the span its key frame is kept in:
/// those packets decode on their own, so they can be copied (the usual case where a span ends
/// inside a group: with no B-frames, every kept frame of it). Where later frames are kept
/// too, the re-encoded session after the head must decode after it: the head's last decode
/// time lies before the first re-encoded frame's presentation minus the reorder delay.
fn head(g: &Gop, ps: &[PacketInfo], kept: &impl Fn(i64) -> Option<usize>) -> Option<Action> {
    let span = kept(ps.first()?.pts)?;
    let mut shown: Vec<i64> = ps.iter().map(|p| p.pts).collect();
    shown.sort_unstable();
    if shown.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    let mut best = None;
    let mut latest = i64::MIN;
    for k in 1..=ps.len() {
        if kept(shown[k - 1]) != Some(span) {
            break;
        }
        latest = latest.max(ps[k - 1].pts);
        if latest != shown[k - 1] {
            // The first k packets show a frame past the first k frames: not a run.
            continue;
        }
        if k < ps.len() && ps[k - 1].dts >= shown[k] - g.delay {
            continue;
        }
        best = Some(k);
    }
    let k = best?;
    let until = shown.get(k).copied().unwrap_or(g.end);
    Some(Action::Head {
        span,
        packets: k,
        until,
        decode: to_decode(ps, until, kept),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed-GOP stream with B-frames: `n` frames of 512 ticks, a key frame every `gop`
    /// frames, in decode order I P B B P B B … (pts shown in order I B B P), delay 2 frames.
    fn stream(n: i64, gop: i64) -> Vec<PacketInfo> {
        let d = 512;
        let mut out = Vec::new();
        for g in (0..n).step_by(gop as usize) {
            let len = gop.min(n - g);
            // Decode order of presentation indexes: 0, then per triple (3,1,2), (6,4,5)…
            let mut order = vec![0];
            let mut k = 1;
            while k < len {
                let p = (k + 2).min(len - 1);
                order.push(p);
                for b in k..p {
                    order.push(b);
                }
                k = p + 1;
            }
            for p in order {
                out.push(PacketInfo {
                    pts: (g + p) * d,
                    dts: 0,
                    duration: d,
                    key: p == 0,
                });
            }
        }
        for (i, p) in out.iter_mut().enumerate() {
            p.dts = (i as i64 - 2) * d;
        }
        out
    }

    #[test]
    fn closed_gops_are_found() {
        let g = gops(&stream(70, 30)).unwrap();
        assert_eq!(g.len(), 3);
        assert_eq!(
            (g[0].first, g[0].len, g[0].start, g[0].end),
            (0, 30, 0, 30 * 512)
        );
        assert_eq!((g[1].first, g[1].start, g[1].end), (30, 30 * 512, 60 * 512));
        assert_eq!((g[2].len, g[2].end), (10, 70 * 512));
        assert!(g.iter().all(|g| g.delay == 2 * 512), "{g:?}");
    }

    #[test]
    fn open_gops_and_bad_streams_are_refused() {
        let mut s = stream(60, 30);
        // A B-frame of the second group shown before its key frame.
        s[31].pts = 29 * 512 - 100;
        assert!(gops(&s).unwrap_err().contains("open GOP"));
        let mut s = stream(60, 30);
        s[0].key = false;
        assert!(gops(&s).is_err());
        let mut s = stream(60, 30);
        s[5].duration = 0;
        assert!(gops(&s).is_err());
        assert!(gops(&[]).is_err());
    }

    #[test]
    fn groups_inside_a_span_are_copied_and_edges_decoded() {
        let st = stream(150, 30);
        let g = gops(&st).unwrap();
        // 512 ticks = 1/30 s at time base 1/15360; groups of 1 s.
        let to_time = |ts: i64| Time(ts * 1_000_000 / 15_360);
        let tol = Time(16_000);
        let s = |a: f64, b: f64| Span::secs(a, b);
        // Keep 0.5–2.0 s and 2.5–5.0 s: group 0 is cut at 0.5, group 1 is inside the first
        // span, group 2 holds the gap, groups 3 and 4 lie inside the second span.
        let a = actions(&g, &st, to_time, &[s(0.5, 2.0), s(2.5, 5.0)], tol);
        assert_eq!(
            a,
            vec![
                Action::Decode { decode: 30 },
                Action::Copy { span: 0 },
                Action::Decode { decode: 30 },
                Action::Copy { span: 1 },
                Action::Copy { span: 1 },
            ]
        );
        // A group that no span touches is skipped; spans touching only a group's edge do
        // not pull it in.
        let a = actions(&g, &st, to_time, &[s(0.0, 1.0), s(4.0, 5.0)], tol);
        assert_eq!(
            a,
            vec![
                Action::Copy { span: 0 },
                Action::Skip,
                Action::Skip,
                Action::Skip,
                Action::Copy { span: 1 },
            ]
        );
        // Rounding within the tolerance still counts as inside.
        let a = actions(&g, &st, to_time, &[s(0.99, 2.01)], tol);
        assert_eq!(a[1], Action::Copy { span: 0 });
    }

    #[test]
    fn the_head_of_a_group_a_span_ends_in_is_copied() {
        let to_time = |ts: i64| Time(ts * 1_000_000 / 15_360);
        let tol = Time(16_000);
        let s = |a: f64, b: f64| Span::secs(a, b);
        // Without B-frames every kept frame of the group a span ends in is copied, and
        // nothing of it is decoded.
        let ippp: Vec<PacketInfo> = (0..150)
            .map(|i| PacketInfo {
                pts: i * 512,
                dts: i * 512,
                duration: 512,
                key: i % 30 == 0,
            })
            .collect();
        let g = gops(&ippp).unwrap();
        let a = actions(&g, &ippp, to_time, &[s(0.0, 1.5), s(3.2, 5.0)], tol);
        assert_eq!(a[0], Action::Copy { span: 0 });
        assert_eq!(
            a[1],
            Action::Head {
                span: 0,
                packets: 15,
                until: 45 * 512,
                decode: 0
            }
        );
        assert_eq!(a[2], Action::Skip);
        // The next span starts inside the group: cut at its start, decoded.
        assert_eq!(a[3], Action::Decode { decode: 30 });
        // A span that ends inside a group its start is decoded in: its packets after the
        // last kept frame's are not decoded.
        let a = actions(&g, &ippp, to_time, &[s(3.2, 3.5)], tol);
        assert_eq!(a[3], Action::Decode { decode: 15 });
        // A span that also starts in the group: the head, then the rest re-encoded.
        let a = actions(&g, &ippp, to_time, &[s(0.0, 1.2), s(1.5, 5.0)], tol);
        assert_eq!(
            a[1],
            Action::Head {
                span: 0,
                packets: 6,
                until: 36 * 512,
                decode: 30
            }
        );

        // With B-frames (I P B B P B B …, shown I B B P …), the longest run of packets that
        // shows the first frames: frames 30..42 of the 30..44 kept; 43 and 44 are re-encoded
        // (packets 14 and 15, so 16 are decoded).
        let st = stream(150, 30);
        let g = gops(&st).unwrap();
        let a = actions(&g, &st, to_time, &[s(0.0, 1.5)], tol);
        assert_eq!(
            a[1],
            Action::Head {
                span: 0,
                packets: 13,
                until: 43 * 512,
                decode: 16
            }
        );
        // Only the key frame's own run: one packet; frame 31 is the third packet.
        let a = actions(&g, &st, to_time, &[s(0.0, 1.06)], tol);
        assert_eq!(
            a[1],
            Action::Head {
                span: 0,
                packets: 1,
                until: 31 * 512,
                decode: 3
            }
        );
        // Decode times that would not stay before the re-encoded frames': only the key
        // frame's head is early enough.
        let mut late = st.clone();
        for p in &mut late[31..60] {
            p.dts += 1024;
        }
        let a = actions(&gops(&late).unwrap(), &late, to_time, &[s(0.0, 1.5)], tol);
        assert_eq!(
            a[1],
            Action::Head {
                span: 0,
                packets: 1,
                until: 31 * 512,
                decode: 16
            }
        );
    }
}
