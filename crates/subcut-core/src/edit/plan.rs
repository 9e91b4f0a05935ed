//! The edit plan: which spans of the source to keep, which to remove and why.
//!
//! [`plan()`] turns measured speech and the transcript's words into kept spans:
//!
//! 1. Filler, repeat and retake words ([`super::cuts`]) are cut out of the speech, each at its own
//!    word bounds, never into a word that stays.
//! 2. Silences shorter than `min_silence` (between speech, and at the start and end) stay.
//! 3. Pieces of speech shorter than `min_clip` are dropped (clicks, breaths), unless a
//!    transcribed word lies in them: no word is lost to `min_clip`.
//! 4. Each piece is widened by `margin_before` / `margin_after` (inside the media), the filler
//!    cuts are taken out again (a margin never brings a filler back), and leftover slivers of
//!    pure margin shorter than `min_clip` are dropped. With `max_pause`, a pause that is cut
//!    keeps `max_pause` of quiet in all instead of the two margins, split around the join in
//!    the margins' proportion (a pause no longer than `max_pause` stays whole; the media's
//!    start and end keep their margins): the rhythm of the speech survives the cut. Cut words
//!    inside the pause still go, so the quiet kept is at most `max_pause` (plus up to a frame
//!    at each edge from step 5). Pauses shorter than `min_silence` are never cut (step 2),
//!    whatever `max_pause` says.
//! 5. With a frame rate, every kept span is widened outwards onto the frame grid, so audio and
//!    video cut at the same instants and no speech is lost to rounding (at most one frame of
//!    a removed span survives next to a cut).
//!
//! An empty plan means nothing was speech: the caller reports it rather than writing an empty
//! video.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::cuts::{
    fillers, find_cuts, repeats, retakes, FillerSet, Marks, ReasonKind, Removed, Retakes,
};
use super::timemap::TimeMap;
use super::Reason;
use super::{de_duration, de_opt_duration, FrameGrid};
use crate::analysis::{SpeechParams, Threshold};
use crate::config::InvalidField;
use crate::time::{intersection, invert, normalize, pad, total, Span, Time};
use crate::transcript::Word;

/// The knobs of `subcut cut` (and of a preset's `[cut]` table). Durations are seconds in
/// TOML/JSON (`0.5`) or text (`"500ms"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CutParams {
    /// Where speech begins (`-35dB` or `auto`); the caller detects speech with it.
    pub threshold: Threshold,
    /// Silences shorter than this are kept.
    #[serde(deserialize_with = "de_duration")]
    pub min_silence: Time,
    /// Kept before each piece of speech.
    #[serde(deserialize_with = "de_duration")]
    pub margin_before: Time,
    /// Kept after each piece of speech.
    #[serde(deserialize_with = "de_duration")]
    pub margin_after: Time,
    /// Kept pieces shorter than this are dropped, unless they hold a word.
    #[serde(deserialize_with = "de_duration")]
    pub min_clip: Time,
    /// Filler words to cut.
    pub fillers: FillerSet,
    /// Cut the first copy of immediately repeated words ("I I think").
    pub remove_repeats: bool,
    /// Cut abandoned takes of a sentence said again, keeping the last ([`Retakes`]).
    pub retakes: Retakes,
    /// Cut pauses keep this much quiet in all instead of their margins; `None`: the margins
    /// (see [`plan()`]).
    #[serde(deserialize_with = "de_opt_duration")]
    pub max_pause: Option<Time>,
    /// Put cuts on the video's frame grid.
    pub snap_to_frames: bool,
}

impl Default for CutParams {
    fn default() -> Self {
        CutParams {
            threshold: Threshold::Auto,
            min_silence: Time::from_millis(500),
            margin_before: Time::from_millis(150),
            margin_after: Time::from_millis(200),
            min_clip: Time::from_millis(300),
            fillers: FillerSet::auto(),
            remove_repeats: false,
            retakes: Retakes::KeepLast,
            max_pause: None,
            snap_to_frames: true,
        }
    }
}

/// A cut found in the transcript's words: its detector (in [`super::cuts`]) and the knob of
/// [`CutParams`] that turns it on.
pub struct WordCut {
    /// Its name in messages.
    pub name: &'static str,
    /// Whether `p` turns it on.
    enabled: fn(&CutParams) -> bool,
    /// Turns it off in `p`.
    disable: fn(&mut CutParams),
    /// Marks the words it removes, for a transcript in `language`. Words an earlier cut
    /// marked stay as they are.
    mark: fn(&mut Marks, &str, &CutParams),
}

/// Every word-based cut, in the order they mark words (a filler is never also a repeat, and
/// a retake's fillers and stutters keep their own reasons).
pub const WORD_CUTS: &[WordCut] = &[
    WordCut {
        name: "fillers",
        enabled: |p| !p.fillers.is_none(),
        disable: |p| p.fillers = FillerSet::none(),
        mark: |m, language, p| fillers::mark_fillers(m, &p.fillers.lexicon(language)),
    },
    WordCut {
        name: "repeats",
        enabled: |p| p.remove_repeats,
        disable: |p| p.remove_repeats = false,
        mark: |m, _, _| repeats::mark_repeats(m),
    },
    WordCut {
        name: "retakes",
        enabled: |p| p.retakes == Retakes::KeepLast,
        disable: |p| p.retakes = Retakes::None,
        mark: |m, _, _| retakes::mark_retakes(m),
    },
];

impl CutParams {
    /// These parameters with every word-based cut of [`WORD_CUTS`] off: the cut of a run
    /// without a transcript (`--no-captions`).
    pub fn without_word_cuts(&self) -> CutParams {
        let mut p = self.clone();
        for c in WORD_CUTS {
            (c.disable)(&mut p);
        }
        p
    }

    /// The words to cut in `words` (a transcript in `language`): every cut of [`WORD_CUTS`]
    /// these parameters turn on, in order. Sorted; see [`super::cuts`].
    pub fn word_cuts(&self, words: &[Word], language: &str) -> Vec<Removed> {
        find_cuts(words, |m| {
            for c in WORD_CUTS.iter().filter(|c| (c.enabled)(self)) {
                (c.mark)(m, language, self);
            }
        })
    }

    /// Why each of `words` (sorted by `(start, end)`) would be cut by [`Self::word_cuts`]:
    /// one entry per word, `None` for a word that stays (the edit list's proposal).
    pub fn word_reasons(&self, words: &[Word], language: &str) -> Vec<Option<Reason>> {
        super::cuts::word_reasons(words, |m| {
            for c in WORD_CUTS.iter().filter(|c| (c.enabled)(self)) {
                (c.mark)(m, language, self);
            }
        })
    }

    /// Why these parameters cannot be used, naming the field.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let check = |name: &'static str, v: Time, max_s: i64| {
            if v < Time::ZERO || v > Time::from_millis(max_s * 1000) {
                Err(InvalidField::new(
                    name,
                    format!("{name} must be between 0 and {max_s} s (got {v})"),
                ))
            } else {
                Ok(())
            }
        };
        check("min_silence", self.min_silence, 3600)?;
        check("margin_before", self.margin_before, 60)?;
        check("margin_after", self.margin_after, 60)?;
        check("min_clip", self.min_clip, 3600)?;
        if let Some(m) = self.max_pause {
            check("max_pause", m, 60)?;
        }
        if let Threshold::Db(d) = self.threshold {
            if !(-100.0..=0.0).contains(&d) {
                return Err(InvalidField::new(
                    "threshold",
                    format!("threshold {d} dB is outside −100…0 dB"),
                ));
            }
        }
        self.fillers.validate()
    }

    /// How the caller should detect speech for this cut: this threshold, and gaps bridged
    /// inside detection no longer than `min_silence` (the plan bridges the rest).
    pub fn speech_params(&self) -> SpeechParams {
        let d = SpeechParams::default();
        SpeechParams {
            threshold: self.threshold,
            min_silence: d.min_silence.min(self.min_silence),
            min_speech: d.min_speech,
        }
    }
}

/// What to keep of a source: sorted, disjoint, non-touching kept spans within
/// `[0, duration)`, and the rest as removed spans with their reasons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditPlan {
    /// Length of the source: the plan covers `[0, duration)`.
    pub duration: Time,
    /// The frame grid the cuts are on, if they were snapped.
    pub grid: Option<FrameGrid>,
    /// The kept spans, in source time.
    pub keep: Vec<Span>,
    /// The complement of `keep` in `[0, duration)`, split by reason.
    pub removed: Vec<Removed>,
}

impl EditPlan {
    /// A plan that keeps all of `[0, duration)`.
    pub fn keep_all(duration: Time) -> EditPlan {
        EditPlan::from_keep(duration, &[Span::new(Time::ZERO, duration)], &[], None)
    }

    /// A plan from kept spans (normalized, clipped to the media) and the word cuts that
    /// name the removed parts; the rest of the removed time is silence.
    pub(crate) fn from_keep(
        duration: Time,
        keep: &[Span],
        cuts: &[Removed],
        grid: Option<FrameGrid>,
    ) -> EditPlan {
        let within = Span::new(Time::ZERO, duration.max(Time::ZERO));
        let keep = intersection(keep, &[within]);
        let mut removed: Vec<Removed> = Vec::new();
        let mut push = |span: Span, reason: Reason| {
            if span.is_empty() {
                return;
            }
            match removed.last_mut() {
                Some(last) if last.span.end == span.start && last.reason == reason => {
                    last.span.end = span.end
                }
                _ => removed.push(Removed { span, reason }),
            }
        };
        for gap in invert(&keep, within) {
            let mut cursor = gap.start;
            for c in cuts {
                let Some(s) = c.span.intersect(&gap) else {
                    continue;
                };
                if s.end <= cursor {
                    continue;
                }
                let s = Span::new(s.start.max(cursor), s.end);
                push(Span::new(cursor, s.start), Reason::Silence);
                push(s, c.reason.clone());
                cursor = s.end;
            }
            push(Span::new(cursor, gap.end), Reason::Silence);
        }
        EditPlan {
            duration: within.end,
            grid,
            keep,
            removed,
        }
    }

    /// Nothing kept: no speech was found.
    pub fn is_empty(&self) -> bool {
        self.keep.is_empty()
    }
    /// The duration of the cut result.
    pub fn kept(&self) -> Time {
        total(&self.keep)
    }
    /// How much shorter the result is than the source.
    pub(crate) fn saved(&self) -> Time {
        self.duration - self.kept()
    }
    /// Source time → output time.
    pub fn time_map(&self) -> TimeMap {
        TimeMap::new(&self.keep)
    }
    /// Removed time by kind of reason (kinds with nothing removed are absent).
    pub fn removed_by_reason(&self) -> BTreeMap<ReasonKind, Time> {
        let mut t = BTreeMap::new();
        for r in &self.removed {
            *t.entry(r.reason.kind()).or_insert(Time::ZERO) += r.span.duration();
        }
        t
    }
}

/// The cut list as a person reads it (for `--dry-run`): one line per span, then the totals.
impl fmt::Display for EditPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines: Vec<(Span, String)> = self
            .keep
            .iter()
            .map(|s| (*s, "keep".to_string()))
            .chain(
                self.removed
                    .iter()
                    .map(|r| (r.span, format!("cut   {}", r.reason))),
            )
            .collect();
        lines.sort_by_key(|l| l.0);
        for (s, what) in lines {
            writeln!(
                f,
                "{} → {}  {:>9}  {what}",
                s.start.clock('.'),
                s.end.clock('.'),
                s.duration().to_string()
            )?;
        }
        let pct = if self.duration > Time::ZERO {
            100.0 * self.saved().as_secs_f64() / self.duration.as_secs_f64()
        } else {
            0.0
        };
        write!(
            f,
            "kept {} of {}, saved {} ({pct:.1}%)",
            self.kept(),
            self.duration,
            self.saved()
        )
    }
}

/// Whether `s` overlaps a span of the normalized set `set`.
fn overlaps_any(set: &[Span], s: Span) -> bool {
    let i = set.partition_point(|x| x.end <= s.start);
    set.get(i).is_some_and(|x| x.overlaps(&s))
}

/// The parts of `a` not in `b`.
fn subtract(a: &[Span], b: &[Span], within: Span) -> Vec<Span> {
    intersection(a, &invert(b, within))
}

/// Widens `pieces` (sorted, disjoint) as [`plan()`] does with `max_pause`: each pause
/// between two pieces keeps at most `max` of quiet in all, split before and after the join
/// as the margins are (`margin_after : margin_before`; half and half when both are 0); a
/// pause no longer than `max` is kept whole. The first and last piece keep their margins
/// towards the start and end of the media.
fn pad_pauses(pieces: &[Span], p: &CutParams, max: Time, within: Span) -> Vec<Span> {
    let (mb, ma) = (p.margin_before.0 as i128, p.margin_after.0 as i128);
    // The quiet kept after the earlier piece of a pause of `max` or more.
    let after = if mb + ma == 0 {
        Time(max.0 / 2)
    } else {
        Time((max.0 as i128 * ma / (ma + mb)) as i64)
    };
    let before = max - after;
    let n = pieces.len();
    let widened: Vec<Span> = pieces
        .iter()
        .enumerate()
        .filter_map(|(k, s)| {
            let lead = match k {
                0 => p.margin_before,
                _ if s.start - pieces[k - 1].end <= max => s.start - pieces[k - 1].end,
                _ => before,
            };
            let tail = match k + 1 {
                k1 if k1 == n => p.margin_after,
                k1 if pieces[k1].start - s.end <= max => pieces[k1].start - s.end,
                _ => after,
            };
            Span::new(s.start - lead, s.end + tail).intersect(&within)
        })
        .collect();
    normalize(&widened)
}

/// Plans the cut of a source of `duration` from its `speech` spans (from
/// [`crate::analysis::detect`] with [`CutParams::speech_params`]) and its transcript's
/// `words` in `language` (for fillers and repeats; may be empty). With a video frame `grid`
/// (a [`FrameGrid`]: the renderer's rate and first-frame time, or just a
/// [`FrameRate`](super::FrameRate) for a video starting at 0) and `p.snap_to_frames`, cuts
/// lie on it; pass `None::<FrameGrid>` for audio.
///
/// The steps: word cuts out of the speech (never into a word that stays); silences shorter
/// than `min_silence` stay; pieces shorter than `min_clip` go unless they hold a word;
/// margins around each piece (a margin never brings a cut word back); outwards onto the
/// frame grid.
pub fn plan<G: Into<FrameGrid>>(
    duration: Time,
    speech: &[Span],
    words: &[Word],
    language: &str,
    p: &CutParams,
    grid: Option<G>,
) -> EditPlan {
    plan_with_cuts(
        duration,
        speech,
        words,
        p.word_cuts(words, language),
        p,
        grid,
    )
}

/// [`plan()`] with the word cuts given instead of found by `p`'s detectors: an edit
/// list's decisions ([`super::editlist`]), each with its reason. Everything else (silences,
/// margins, `min_clip`, the frame grid) is as in [`plan()`].
pub fn plan_with_cuts<G: Into<FrameGrid>>(
    duration: Time,
    speech: &[Span],
    words: &[Word],
    mut cuts: Vec<Removed>,
    p: &CutParams,
    grid: Option<G>,
) -> EditPlan {
    let within = Span::new(Time::ZERO, duration.max(Time::ZERO));
    let fps: Option<FrameGrid> = grid.map(Into::into).filter(|_| p.snap_to_frames);
    if within.is_empty() {
        return EditPlan::from_keep(within.end, &[], &[], fps);
    }
    let speech = intersection(speech, &[within]);

    // 1. Word cuts, out of the speech.
    cuts.sort_by_key(|c| c.span);
    cuts.retain_mut(|c| match c.span.intersect(&within) {
        Some(s) => {
            c.span = s;
            true
        }
        None => false,
    });
    let cut_spans = normalize(&cuts.iter().map(|c| c.span).collect::<Vec<_>>());
    let soft = subtract(&speech, &cut_spans, within);

    // 2. Short silences stay (also at the edges), measured as they will be cut: between
    //    frame boundaries when snapping (so a second plan of this plan changes nothing).
    let up = |t: Time| fps.map_or(t, |r| r.snap_up(t));
    let down = |t: Time| fps.map_or(t, |r| r.snap_down(t));
    let mut bridged: Vec<Span> = Vec::with_capacity(soft.len());
    for s in &soft {
        match bridged.last_mut() {
            Some(last) if down(s.start) - up(last.end) < p.min_silence => last.end = s.end,
            _ => bridged.push(*s),
        }
    }
    if let Some(first) = bridged.first_mut() {
        if down(first.start) - within.start < p.min_silence {
            first.start = within.start;
        }
    }
    if let Some(last) = bridged.last_mut() {
        if within.end - up(last.end).min(within.end) < p.min_silence {
            last.end = within.end;
        }
    }

    // 3. Short pieces go, unless a kept word lies in them.
    let kept_words: Vec<Span> = words
        .iter()
        .map(|w| Span::new(w.start, w.end))
        .filter(|w| !w.is_empty())
        .collect();
    let kept_words = subtract(&kept_words, &cut_spans, within);
    bridged.retain(|s| s.duration() >= p.min_clip || overlaps_any(&kept_words, *s));
    // The speech that survives: never cut below.
    let speech_kept = intersection(&soft, &bridged);

    // 4. Margins (or pauses shortened to max_pause), word cuts out again, slivers of margin
    //    dropped.
    let padded = match p.max_pause {
        None => pad(&bridged, p.margin_before, p.margin_after, within),
        Some(max) => pad_pauses(&bridged, p, max, within),
    };
    let mut keep = subtract(&padded, &cut_spans, within);
    keep.retain(|s| s.duration() >= p.min_clip || overlaps_any(&speech_kept, *s));

    // 5. Outwards onto the frame grid.
    if let Some(r) = fps {
        let snapped: Vec<Span> = keep
            .iter()
            .map(|s| Span::new(r.snap_down(s.start), r.snap_up(s.end)))
            .collect();
        keep = intersection(&normalize(&snapped), &[within]);
    }
    EditPlan::from_keep(within.end, &keep, &cuts, fps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_word_cuts_turns_every_word_cut_off_and_keeps_the_rest() {
        let on = CutParams {
            fillers: "both,like".parse().unwrap(),
            remove_repeats: true,
            ..CutParams::default()
        };
        assert!(
            WORD_CUTS.iter().all(|c| (c.enabled)(&on)),
            "the test turns every cut on"
        );
        let off = on.without_word_cuts();
        for c in WORD_CUTS {
            assert!(!(c.enabled)(&off), "{} is still on", c.name);
        }
        assert_eq!(off.min_silence, on.min_silence);
        assert_eq!(off.margin_before, on.margin_before);
        assert_eq!(off.retakes, Retakes::None);
        assert_eq!(
            CutParams::default().retakes,
            Retakes::KeepLast,
            "on by default"
        );
    }
    use crate::edit::FrameRate;
    use crate::time::merge_gaps;

    fn ms(a: i64, b: i64) -> Span {
        Span::new(Time::from_millis(a), Time::from_millis(b))
    }
    fn word(t: &str, a: i64, b: i64) -> Word {
        Word {
            text: t.into(),
            start: Time::from_millis(a),
            end: Time::from_millis(b),
            probability: 0.9,
        }
    }
    fn bare() -> CutParams {
        CutParams {
            min_silence: Time::ZERO,
            margin_before: Time::ZERO,
            margin_after: Time::ZERO,
            min_clip: Time::ZERO,
            fillers: FillerSet::none(),
            remove_repeats: false,
            snap_to_frames: false,
            ..CutParams::default()
        }
    }

    #[test]
    fn margins_silences_and_edges() {
        let d = Time::from_millis(10_000);
        let speech = [
            ms(1000, 2000),
            ms(2300, 3000),
            ms(6000, 7000),
            ms(9700, 9900),
        ];
        let p = plan(
            d,
            &speech,
            &[],
            "en",
            &CutParams::default(),
            None::<FrameGrid>,
        );
        // 0.3 s gap and the 0.1 s tail stay; margins 0.15 s before, 0.2 s after.
        assert_eq!(
            p.keep,
            vec![ms(850, 3200), ms(5850, 7200), ms(9550, 10_000)]
        );
        assert_eq!(p.kept(), Time::from_millis(2350 + 1350 + 450));
        assert_eq!(p.saved(), d - p.kept());
        assert!(p.removed.iter().all(|r| r.reason == Reason::Silence));
        assert_eq!(p.removed[0].span, ms(0, 850));
        // A short start is kept whole.
        let p = plan(
            d,
            &[ms(300, 2000)],
            &[],
            "en",
            &CutParams::default(),
            None::<FrameGrid>,
        );
        assert_eq!(p.keep, vec![ms(0, 2200)]);
    }

    #[test]
    fn short_blips_go_unless_they_hold_a_word() {
        let d = Time::from_millis(10_000);
        let speech = [ms(1000, 2000), ms(4000, 4100), ms(7000, 7200)];
        let words = [word("Hello", 1000, 2000), word("Yes.", 7000, 7200)];
        let p = plan(
            d,
            &speech,
            &words,
            "en",
            &CutParams::default(),
            None::<FrameGrid>,
        );
        assert_eq!(p.keep, vec![ms(850, 2200), ms(6850, 7400)]);
    }

    #[test]
    fn fillers_are_cut_with_the_silence_around_them() {
        let d = Time::from_millis(6000);
        let p = CutParams::default();
        // "word um word", all one speech span: the filler goes, joins word to word.
        let words = [
            word("So", 1000, 1500),
            word("um", 1500, 1900),
            word("yes", 1900, 2500),
        ];
        let plan1 = plan(d, &[ms(1000, 2500)], &words, "en", &p, None::<FrameGrid>);
        assert_eq!(plan1.keep, vec![ms(850, 1500), ms(1900, 2700)]);
        assert_eq!(
            plan1.removed[1],
            Removed {
                span: ms(1500, 1900),
                reason: Reason::Filler { word: "um".into() }
            }
        );
        // Pauses around the filler: margins on the word side only.
        let words = [
            word("So", 1000, 1500),
            word("um", 2000, 2400),
            word("yes", 3000, 3500),
        ];
        let speech = [ms(1000, 1500), ms(2000, 2400), ms(3000, 3500)];
        let plan2 = plan(d, &speech, &words, "en", &p, None::<FrameGrid>);
        assert_eq!(plan2.keep, vec![ms(850, 1700), ms(2850, 3700)]);
        let by = plan2.removed_by_reason();
        assert_eq!(
            by,
            BTreeMap::from([
                (
                    ReasonKind::Silence,
                    d - plan2.kept() - Time::from_millis(400)
                ),
                (ReasonKind::Filler, Time::from_millis(400)),
            ])
        );
    }

    #[test]
    fn max_pause_shortens_pauses_instead_of_cutting_them_to_the_margins() {
        let d = Time::from_millis(9000);
        let speech = [
            ms(1000, 2000),
            ms(4000, 5000),
            ms(5300, 6000),
            ms(8000, 8500),
        ];
        let with = |max: Option<i64>| CutParams {
            min_silence: Time::from_millis(250),
            max_pause: max.map(Time::from_millis),
            ..CutParams::default()
        };
        // The quiet kept in each pause between speech.
        let quiet = |keep: &[Span]| -> Vec<i64> {
            speech
                .windows(2)
                .map(|w| total(&intersection(keep, &[Span::new(w[0].end, w[1].start)])).as_micros())
                .collect()
        };
        // The margins: 0.15 s before, 0.2 s after; the 0.3 s pause is cut to its margins
        // (0.35 s > 0.3 s: kept whole).
        let margins = plan(d, &speech, &[], "en", &with(None), None::<FrameGrid>);
        assert_eq!(
            margins.keep,
            vec![ms(850, 2200), ms(3850, 6200), ms(7850, 8700)]
        );
        // 0.4 s per pause, split 200 : 150 like the margins; the 0.3 s pause is untouched;
        // the start and the end keep their margins.
        let p = plan(d, &speech, &[], "en", &with(Some(400)), None::<FrameGrid>);
        let (a, b) = (Time::from_micros(228_571), Time::from_micros(171_429));
        let t = |ms: i64| Time::from_millis(ms);
        assert_eq!(
            p.keep,
            vec![
                Span::new(t(850), t(2000) + a),
                Span::new(t(4000) - b, t(6000) + a),
                Span::new(t(8000) - b, t(8700)),
            ]
        );
        assert_eq!(quiet(&p.keep), [400_000, 300_000, 400_000]);
        // Longer than both margins together, or shorter: max_pause is the total.
        let p = plan(d, &speech, &[], "en", &with(Some(100)), None::<FrameGrid>);
        assert_eq!(quiet(&p.keep), [100_000, 100_000, 100_000]);
        let p = plan(d, &speech, &[], "en", &with(Some(0)), None::<FrameGrid>);
        assert_eq!(
            p.keep,
            vec![
                ms(850, 2000),
                ms(4000, 5000),
                ms(5300, 6000),
                ms(8000, 8700)
            ]
        );
        // Half and half without margins; a cut filler inside a pause still goes.
        let mut bare_max = bare();
        bare_max.max_pause = Some(Time::from_millis(600));
        bare_max.min_silence = Time::from_millis(250);
        bare_max.fillers = FillerSet::auto();
        let words = [
            word("So", 1000, 2000),
            word("um", 2100, 2500),
            word("yes", 4000, 5000),
        ];
        let sp = [ms(1000, 2000), ms(2100, 2500), ms(4000, 5000)];
        let p = plan(d, &sp, &words, "en", &bare_max, None::<FrameGrid>);
        assert_eq!(p.keep, vec![ms(1000, 2100), ms(3700, 5000)]);
        // On the frame grid, a frame at most at each edge of the join.
        let r = FrameGrid::from(FrameRate::new(25, 1).unwrap());
        let p = plan(d, &speech, &[], "en", &with(Some(400)), Some(r));
        for q in quiet(&p.keep) {
            assert!(q <= 400_000 + 2 * 40_000, "{q}");
        }
    }

    #[test]
    fn frames_snap_outwards() {
        let d = Time::from_millis(5000);
        let r = FrameGrid::from(FrameRate::new(25, 1).unwrap());
        let mut p = bare();
        p.snap_to_frames = true;
        let plan1 = plan(d, &[ms(1010, 2030)], &[], "en", &p, Some(r));
        assert_eq!(plan1.keep, vec![ms(1000, 2040)]);
        assert_eq!(plan1.grid, Some(r));
        // A video whose first frame is at 10 ms.
        let late = FrameGrid::new(r.rate, Time::from_millis(10));
        let plan2 = plan(d, &[ms(1030, 2030)], &[], "en", &p, Some(late));
        assert_eq!(plan2.keep, vec![ms(1010, 2050)]);
        p.snap_to_frames = false;
        assert_eq!(
            plan(d, &[ms(1010, 2030)], &[], "en", &p, Some(r)).keep,
            vec![ms(1010, 2030)]
        );
    }

    #[test]
    fn nothing_spoken_is_an_empty_plan() {
        let d = Time::from_millis(5000);
        let p = plan(d, &[], &[], "en", &CutParams::default(), None::<FrameGrid>);
        assert!(p.is_empty());
        assert_eq!(
            p.removed,
            vec![Removed {
                span: ms(0, 5000),
                reason: Reason::Silence
            }]
        );
        assert!(plan(
            Time::ZERO,
            &[ms(0, 10)],
            &[],
            "en",
            &CutParams::default(),
            None::<FrameGrid>
        )
        .is_empty());
        assert_eq!(EditPlan::keep_all(d).keep, vec![ms(0, 5000)]);
    }

    #[test]
    fn params_validate_and_deserialize() {
        assert!(CutParams::default().validate().is_ok());
        let bad = CutParams {
            margin_before: Time::from_millis(-1),
            ..CutParams::default()
        };
        let e = bad.validate().unwrap_err();
        assert_eq!(e.field, "margin_before");
        assert_eq!(
            e.to_string(),
            "margin_before must be between 0 and 60 s (got -0.001s)"
        );
        let p: CutParams = serde_json::from_str(
            r#"{"min_silence": "300ms", "margin_after": 0.25, "fillers": ["zh", "那个"], "threshold": "-35dB"}"#,
        )
        .unwrap();
        assert_eq!(p.min_silence, Time::from_millis(300));
        assert_eq!(p.margin_after, Time::from_millis(250));
        assert_eq!(p.margin_before, Time::from_millis(150));
        assert_eq!(p.fillers.to_string(), "zh,那个");
        assert_eq!(p.threshold, Threshold::Db(-35.0));
        let err = serde_json::from_str::<CutParams>(r#"{"min_silense": 1}"#).unwrap_err();
        assert!(err.to_string().contains("min_silense"), "{err}");
        assert!(serde_json::from_str::<CutParams>(r#"{"min_clip": -1}"#).is_err());
        let back: CutParams = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
        assert_eq!(p.speech_params().min_silence, Time::from_millis(200));
    }

    #[test]
    fn plans_round_trip_through_json() {
        let words = [
            word("So", 1000, 1500),
            word("um", 1500, 1900),
            word("yes", 1900, 2500),
        ];
        let fps = FrameRate::new(30000, 1001).map(FrameGrid::from);
        let p = plan(
            Time::from_millis(6000),
            &[ms(1000, 2500)],
            &words,
            "en",
            &CutParams::default(),
            fps,
        );
        let json = serde_json::to_string(&p).unwrap();
        assert!(
            json.contains(r#""grid":{"rate":"30000/1001","origin":0.0}"#),
            "{json}"
        );
        assert!(json.contains(r#""reason":"filler","word":"um""#), "{json}");
        let back: EditPlan = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn the_cut_list_reads_well() {
        let p = plan(
            Time::from_millis(4000),
            &[ms(1000, 2000)],
            &[],
            "en",
            &CutParams::default(),
            None::<FrameGrid>,
        );
        let text = p.to_string();
        assert!(
            text.contains("00:00:00.850 → 00:00:02.200     1.350s  keep"),
            "{text}"
        );
        assert!(text.contains("cut   silence"), "{text}");
        assert!(
            text.ends_with("kept 1.350s of 4.000s, saved 2.650s (66.2%)"),
            "{text}"
        );
    }

    // ---- properties over random inputs ----

    use crate::testutil::Rng;

    /// Random speech, words inside it (some fillers, some repeats) and parameters.
    fn random_case(rng: &mut Rng) -> (Time, Vec<Span>, Vec<Word>, CutParams, Option<FrameGrid>) {
        let dur = 1000 + rng.below(20_000);
        let mut speech = Vec::new();
        let mut words = Vec::new();
        let mut t = rng.below(1500);
        while t < dur {
            let len = 20 + rng.below(2500);
            let s = ms(t, (t + len).min(dur));
            speech.push(s);
            // Words tile parts of the span, sometimes overlapping their neighbours.
            let mut w = s.start.as_millis();
            while w + 80 < s.end.as_millis() && rng.below(5) > 0 {
                let wl = 80 + rng.below(400);
                let text =
                    ["um", "I", "think", "uh", "so", "嗯", "我", "well"][rng.below(8) as usize];
                let skew = rng.below(60) - 30;
                words.push(word(text, w + skew.min(0), (w + wl).min(s.end.as_millis())));
                w += wl + rng.below(3) * 40;
            }
            t += len + rng.below(2500);
        }
        let pick = |rng: &mut Rng, max: i64| Time::from_millis(rng.below(max));
        let p = CutParams {
            min_silence: pick(rng, 900),
            margin_before: pick(rng, 400),
            margin_after: pick(rng, 400),
            min_clip: pick(rng, 600),
            fillers: ["none", "auto", "en", "zh", "both"][rng.below(5) as usize]
                .parse()
                .unwrap(),
            remove_repeats: rng.below(2) == 0,
            retakes: [Retakes::KeepLast, Retakes::None][rng.below(2) as usize],
            max_pause: (rng.below(3) == 0).then(|| pick(rng, 900)),
            snap_to_frames: rng.below(3) > 0,
            ..CutParams::default()
        };
        let rate: FrameRate = ["25", "30000/1001", "24", "60"][rng.below(4) as usize]
            .parse()
            .unwrap();
        let origin = Time::from_millis([0, 0, 17, 67][rng.below(4) as usize]);
        let fps = Some(FrameGrid::new(rate, origin));
        (
            Time::from_millis(dur),
            speech,
            words,
            p,
            fps.filter(|_| rng.below(4) > 0),
        )
    }

    fn covers(set: &[Span], s: Span) -> bool {
        s.is_empty() || intersection(set, &[s]) == vec![s]
    }

    #[test]
    fn plan_invariants_on_random_input() {
        let mut rng = Rng::new(0x5eed_cafe_f00d_0001);
        for case in 0..400 {
            let (d, speech, words, p, fps) = random_case(&mut rng);
            let pl = plan(d, &speech, &words, "", &p, fps);
            let within = Span::new(Time::ZERO, d);
            // Sorted, disjoint, not touching, inside the media.
            for w in pl.keep.windows(2) {
                assert!(w[0].end < w[1].start, "case {case}: {:?}", pl.keep);
            }
            assert!(pl
                .keep
                .iter()
                .all(|s| !s.is_empty() && covers(&[within], *s)));
            // Keep and removed tile the media.
            let removed: Vec<Span> = pl.removed.iter().map(|r| r.span).collect();
            assert!(intersection(&pl.keep, &removed).is_empty(), "case {case}");
            assert_eq!(total(&pl.keep) + total(&removed), d, "case {case}");
            for w in pl.removed.windows(2) {
                assert!(w[0].span.end <= w[1].span.start);
            }
            assert_eq!(pl.saved() + pl.kept(), d);

            let cuts = p.word_cuts(&words, "");
            let cut_spans = normalize(&cuts.iter().map(|c| c.span).collect::<Vec<_>>());
            let frame = pl.grid.map_or(Time::ZERO, |g| g.rate.time_of(1));
            // On the frame grid (or at the media's start and end).
            if let Some(g) = pl.grid {
                for s in &pl.keep {
                    assert!(
                        s.start == Time::ZERO || g.snap_down(s.start) == s.start,
                        "case {case}"
                    );
                    assert!(s.end == d || g.snap_down(s.end) == s.end, "case {case}");
                }
            }
            // No filler survives, but for a frame of rounding next to a cut.
            for c in &cut_spans {
                let inner = Span::new(c.start + frame, c.end - frame);
                assert!(
                    intersection(&pl.keep, &[inner]).is_empty(),
                    "case {case}: cut {c} kept in {:?}",
                    pl.keep
                );
            }
            // Every word that is not cut is kept whole if it lies in speech.
            for w in &words {
                let ws = Span::new(w.start, w.end);
                let ws = subtract(&[ws], &cut_spans, within);
                let in_speech = intersection(&ws, &speech) == ws;
                if in_speech {
                    for s in ws {
                        assert!(
                            covers(&pl.keep, s),
                            "case {case}: word {s} lost: {:?}",
                            pl.keep
                        );
                    }
                }
            }
            let soft = subtract(&speech, &cut_spans, within);
            if let Some(max) = p.max_pause {
                // A pause that is cut keeps at most max_pause of quiet (or min_silence, for a
                // pause that was too short to cut but has a cut word in it), but for a frame
                // at each edge of a kept span.
                let spoken = intersection(&soft, &pl.keep);
                for pair in spoken.windows(2) {
                    let pause = Span::new(pair[0].end, pair[1].start);
                    let kept = intersection(&pl.keep, &[pause]);
                    if kept == vec![pause] {
                        continue; // nothing removed: not a join
                    }
                    let slack = Time(2 * frame.0 * (kept.len() as i64 + 1));
                    assert!(
                        total(&kept) <= max.max(p.min_silence) + slack,
                        "case {case}: pause {pause} keeps {} > {max}: {:?}",
                        total(&kept),
                        pl.keep
                    );
                }
                continue;
            }
            // Speech long enough to count is kept, with its margins, cuts aside.

            let long = merge_gaps(&soft, p.min_silence.max(Time(1)) - Time(1));
            for s in long.iter().filter(|s| s.duration() >= p.min_clip) {
                let want = pad(&[*s], p.margin_before, p.margin_after, within);
                for piece in subtract(&want, &cut_spans, within) {
                    // Slivers beyond the speech (margin, maybe a blip) shorter than
                    // min_clip may go.
                    if piece.duration() < p.min_clip && !piece.overlaps(s) {
                        continue;
                    }
                    assert!(
                        covers(&pl.keep, piece),
                        "case {case}: {piece} of {s} not kept: {:?}",
                        pl.keep
                    );
                }
            }
        }
    }

    #[test]
    fn planning_a_plan_changes_nothing() {
        let mut rng = Rng::new(0x1d3e_a5b7_0000_0042);
        for case in 0..300 {
            let (d, speech, words, mut p, fps) = random_case(&mut rng);
            p.margin_before = Time::ZERO;
            p.margin_after = Time::ZERO;
            // A kept pause looks like speech to a second plan, which may then keep more.
            p.max_pause = None;
            let once = plan(d, &speech, &words, "", &p, fps);
            // The kept spans as speech, the same words: nothing more to cut.
            let twice = plan(d, &once.keep, &words, "", &p, fps);
            assert_eq!(twice.keep, once.keep, "case {case}");
            let bare_twice = plan(d, &once.keep, &[], "", &bare(), None::<FrameGrid>);
            assert_eq!(bare_twice.keep, once.keep, "case {case}: bare");
        }
    }
}
