//! Transcription of the speech only, in windows cut at silences.
//!
//! whisper.cpp handles a long input by computing a mel spectrogram, a padded copy and a
//! per-sample energy track of the *whole* input before it starts, which for a 10-minute
//! file is ~140 MB on top of the audio itself, and it then seeks through the input in 30 s
//! windows whose boundaries fall wherever its last timestamp did, often inside a word.
//! Here whisper only hears the speech:
//!
//! ```text
//! speech spans (analysis)   ▁▁███▁██████▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁████▁▁██▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁███▁▁▁
//! speech_pieces: pieces     [ a ][  b   ]               [ c  ][d ]                [e ]
//!              (speech + 0.4 s before, 0.3 s after; split at clear pauses; silence between
//!               pieces is never transcribed)
//! pack: windows ≤ 15 s      [ a  b  c  d ] [ e … ]   consecutive pieces, concatenated
//! whisper per window        times on the packed audio ──map back──▶ input timeline
//! ```
//!
//! `speech_pieces` keeps each span of speech with `LEAD_IN` of silence before and `TAIL`
//! after, merged where they touch, and splits the result at its clear pauses (just before the
//! next onset), so no piece boundary falls inside a word. `transcribe` packs consecutive
//! pieces into windows of at most `PACK_MAX` (the default of
//! [`TranscribeOptions::pack_max`]; [`pack`]: as few windows as filling them in
//! order needs, evened out so none is left with a short tail), hands each window's samples
//! to the engine and maps the times back piece by piece: a word belongs to the piece that
//! holds its middle and is kept inside it. The engine shrinks its encoder to each window's
//! length (see [`WhisperOptions::audio_ctx`](crate::asr::WhisperOptions::audio_ctx)), so
//! encoder work follows the audio heard. Long pauses cost nothing, transcription time follows
//! the amount of speech rather than the length of the media, and whisper has no stretch of
//! silence to hallucinate captions into. Memory no longer grows with the input beyond the
//! samples themselves. `tile` is the earlier scheme (contiguous windows that tile the whole
//! input), still used when no speech was found and for comparisons
//! ([`TranscribeOptions::speech_only`] off, see [`pieces_for`]).

use std::ops::Range;

use anyhow::Result;

use crate::analysis::loudness::Loudness;
use crate::asr::TranscribeOptions;
use crate::time::SAMPLE_RATE;
use crate::time::{self, Span, Time};
use crate::transcript::{Segment, Transcript, MIN_UNHEARD};

/// whisper's own window: one encoder pass covers 30 s.
pub(crate) const MAX_WINDOW: Time = Time::from_millis(30_000);
/// Gaps at least this long are clear pauses, preferred as window boundaries.
const MIN_GAP: Time = Time::from_millis(300);
/// Silence kept before a window's (or piece's) first speech.
pub(crate) const LEAD_IN: Time = Time::from_millis(400);
/// Silence kept after the last speech of a piece: the end of the last word, and a pause
/// for whisper to close the segment on.
pub(crate) const TAIL: Time = Time::from_millis(300);

/// How far back from the limit `tile` looks for the quietest moment when continuous
/// sound leaves no gap to cut in.
pub(crate) const QUIET_SEARCH: Time = Time::from_millis(3_000);

/// The pieces `pipeline::listen` transcribes with `opts`: `speech_pieces`,
/// or the whole input tiled by `tile` when [`TranscribeOptions::speech_only`] is off (for
/// benchmarks and comparisons). `loud` is the input's loudness (see `tile`).
pub fn pieces_for(
    opts: &TranscribeOptions,
    speech: &[Span],
    total: Time,
    loud: Option<&Loudness>,
) -> Vec<Span> {
    if opts.speech_only {
        speech_pieces(speech, total, PACK_MAX, loud)
    } else {
        tile(speech, total, MAX_WINDOW, loud)
    }
}

/// The audio worth transcribing, as sorted, disjoint pieces of at most `max`: every speech
/// span widened by [`LEAD_IN`] before and [`TAIL`] after (clamped to `[0, total)`, merged
/// where they touch), split at each clear pause ([`MIN_GAP`] or longer) just before the
/// next onset, and pieces longer than `max` (continuous speech) cut as [`tile`] cuts.
/// Without any speech the whole input is tiled with [`tile`], so nothing is skipped on
/// the analysis's word alone.
pub(crate) fn speech_pieces(
    speech: &[Span],
    total: Time,
    max: Time,
    loud: Option<&Loudness>,
) -> Vec<Span> {
    let kept = time::pad(speech, LEAD_IN, TAIL, Span::new(Time::ZERO, total));
    if kept.is_empty() {
        return tile(speech, total, max, loud);
    }
    let speech = time::normalize(speech);
    let mut out = Vec::new();
    for piece in kept {
        let inner: Vec<Span> = speech.iter().filter_map(|s| s.intersect(&piece)).collect();
        let mut start = piece.start;
        for p in inner.windows(2) {
            let (gap_start, gap_end) = (p[0].end, p[1].start);
            let cut = (gap_end - LEAD_IN).max(gap_start);
            if gap_end - gap_start >= MIN_GAP && cut > start && cut < piece.end {
                push_within(&mut out, Span::new(start, cut), &inner, max, loud);
                start = cut;
            }
        }
        push_within(&mut out, Span::new(start, piece.end), &inner, max, loud);
    }
    out
}

/// Pushes `piece`, cut by [`tile`] into parts of at most `max` where it is longer.
fn push_within(
    out: &mut Vec<Span>,
    piece: Span,
    speech: &[Span],
    max: Time,
    loud: Option<&Loudness>,
) {
    if piece.duration() <= max {
        out.push(piece);
        return;
    }
    let shift = |s: Span, by: Time, fwd: bool| {
        if fwd {
            Span::new(s.start + by, s.end + by)
        } else {
            Span::new(s.start - by, s.end - by)
        }
    };
    let local: Vec<Span> = speech
        .iter()
        .filter_map(|s| s.intersect(&piece))
        .map(|s| shift(s, piece.start, false))
        .collect();
    out.extend(
        tile_cutting(&local, piece.duration(), max, &|from, to| {
            quietest(loud, from + piece.start, to + piece.start) - piece.start
        })
        .into_iter()
        .map(|w| shift(w, piece.start, true)),
    );
}

/// The most audio [`transcribe`] packs into one whisper call. Below whisper's 30 s: when
/// speech runs up to the end of its window, whisper stops before the last sentence (it
/// expects the next window to carry it) and whisper.cpp encodes the rest again, a second
/// encoder pass that also tends to lose the sentence's first words. 15 s is the encoder
/// context the engine shrinks a call to at least (`whisper::MIN_AUDIO_CTX`, 750 positions),
/// so a full window wastes no encoder positions, and shorter windows keep the encoder's
/// attention (quadratic in the positions) and the decoder's cross-attention small: against
/// 24 s, 9–13 % less transcription time on long speech at about the same WER (docs/BENCH.md).
pub(crate) const PACK_MAX: Time = Time::from_millis(15_000);

/// Groups consecutive `pieces` into as few windows of at most `max` of audio (summed
/// lengths) as filling them in order gives, and then evens them out: the smallest cap that
/// still needs no more windows, so no window is left with a short tail of speech. A piece
/// longer than the cap is a window of its own. Returns index ranges into `pieces`.
pub fn pack(pieces: &[Span], max: Time) -> Vec<Range<usize>> {
    let fill = |cap: Time| {
        let mut out: Vec<Range<usize>> = Vec::new();
        let mut len = Time::ZERO;
        for (i, p) in pieces.iter().enumerate() {
            match out.last_mut() {
                Some(w) if len + p.duration() <= cap => {
                    w.end = i + 1;
                    len += p.duration();
                }
                _ => {
                    out.push(i..i + 1);
                    len = p.duration();
                }
            }
        }
        out
    };
    let greedy = fill(max);
    let n = greedy.len();
    if n <= 1 {
        return greedy;
    }
    let total = pieces.iter().fold(Time::ZERO, |a, p| a + p.duration());
    let (mut lo, mut hi) = (Time(total.0 / n as i64), max);
    while hi.0 - lo.0 > 1_000 {
        let mid = Time((lo.0 + hi.0) / 2);
        if fill(mid).len() <= n {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    fill(hi)
}

/// Cuts `[0, total)` into contiguous windows of at most `max`, each boundary inside a gap
/// between `speech` spans (at the later of the gap's start and [`LEAD_IN`] before the next
/// onset). Takes the latest pause of at least [`MIN_GAP`] in reach, so windows stay
/// nearly full. When no gap is in reach (continuous sound: speech over music, a fast talker
/// with no 0.2 s pause for a whole window) the cut goes to the quietest moment of the last
/// [`QUIET_SEARCH`] before `max` in `loud` (the input's loudness), most likely between two
/// syllables; at `max` itself without it.
pub(crate) fn tile(speech: &[Span], total: Time, max: Time, loud: Option<&Loudness>) -> Vec<Span> {
    tile_cutting(speech, total, max, &|from, to| quietest(loud, from, to))
}

/// The quietest frame of `loud` that starts in `(from, to]` (the latest of equals, so
/// windows stay full), or `to` when there is none.
fn quietest(loud: Option<&Loudness>, from: Time, to: Time) -> Time {
    let Some(l) = loud.filter(|l| !l.db.is_empty()) else {
        return to;
    };
    let first = l.frame_at(from) + 1;
    let last = l.frame_at(to).min(l.db.len() - 1);
    (first..=last)
        .filter(|&i| Loudness::frame_time(i) > from && Loudness::frame_time(i) <= to)
        .min_by(|&a, &b| l.db[a].total_cmp(&l.db[b]).then(b.cmp(&a)))
        .map_or(to, Loudness::frame_time)
}

/// [`tile`] with `cut_in(from, to)` choosing where continuous sound is cut in `(from, to]`.
fn tile_cutting(
    speech: &[Span],
    total: Time,
    max: Time,
    cut_in: &dyn Fn(Time, Time) -> Time,
) -> Vec<Span> {
    // Candidate cuts with the length of their gap.
    let cuts: Vec<(Time, Time)> = speech
        .windows(2)
        .map(|p| {
            let (gap_start, gap_end) = (p[0].end, p[1].start);
            ((gap_end - LEAD_IN).max(gap_start), gap_end - gap_start)
        })
        .filter(|&(c, _)| c > Time::ZERO && c < total)
        .collect();
    let mut out = Vec::new();
    let mut start = Time::ZERO;
    while total - start > max {
        let reach = start + max;
        let in_reach = cuts.iter().filter(|&&(c, _)| c > start && c <= reach);
        // The latest clear pause keeps windows full (fewer encoder passes); any gap beats
        // cutting through sound.
        let best = in_reach
            .clone()
            .filter(|&&(_, g)| g >= MIN_GAP)
            .map(|&(c, _)| c)
            .max()
            .or_else(|| in_reach.map(|&(c, _)| c).max())
            .unwrap_or_else(|| {
                let from =
                    (reach - QUIET_SEARCH).max(start + Time::from_micros(max.as_micros() / 2));
                cut_in(from, reach).clamp(from, reach)
            });
        out.push(Span::new(start, best));
        start = best;
    }
    if total > start {
        out.push(Span::new(start, total));
    }
    out
}

/// A language (whisper's code) and the engine's probability for it, most likely first.
pub(crate) type LangProbs = Vec<(String, f32)>;

/// One engine call's audio: the pieces of a window, end to end, and where they lie on the
/// input (an engine that replays a transcript needs them; whisper only hears the audio).
pub(crate) struct Window<'a> {
    pub audio: &'a [f32],
    pub pieces: &'a [Span],
}

/// What one decoding of a window gave.
pub(crate) struct Decoded {
    /// Times on the window's audio (0 = its first sample).
    pub transcript: Transcript,
    /// The window's language probabilities, when asked for and the engine can tell (whisper:
    /// from this decoding's encoder output, one decoder step); else empty.
    pub languages: LangProbs,
}

/// An engine as [`transcribe`] drives it: detect a window's language, decode it in one.
pub(crate) trait WindowEngine {
    /// The window's language probabilities before any decoding (whisper: one encoder pass and
    /// one decoder step); empty when the engine cannot tell.
    fn detect(&mut self, w: &Window, opts: &TranscribeOptions) -> Result<LangProbs>;
    /// Decodes the window in `opts.language` (`None`: the engine's own choice), with the
    /// window's language probabilities when `languages` is set.
    fn decode(
        &mut self,
        w: &Window,
        opts: &TranscribeOptions,
        languages: bool,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Decoded>;
}

/// Transcribes one window's samples.
pub(crate) type TranscribeFn<'a> =
    dyn FnMut(&[f32], &TranscribeOptions, &mut dyn FnMut(f32)) -> Result<Transcript> + 'a;

/// Any transcribing function as a [`WindowEngine`] that cannot detect: each window is
/// decoded in the forced language or in the one the function finds itself.
pub(crate) struct Plain<'a, 'f>(pub &'a mut TranscribeFn<'f>);

impl WindowEngine for Plain<'_, '_> {
    fn detect(&mut self, _: &Window, _: &TranscribeOptions) -> Result<LangProbs> {
        Ok(Vec::new())
    }
    fn decode(
        &mut self,
        w: &Window,
        opts: &TranscribeOptions,
        _: bool,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Decoded> {
        Ok(Decoded {
            transcript: (self.0)(w.audio, opts, progress)?,
            languages: Vec::new(),
        })
    }
}

/// The second most likely candidate at least this probable: the window may hold two
/// languages, and is split at its inner pauses to find out. whisper's detection leans on the
/// start of the audio: autocut-test001 (5 s of Chinese, then 5 s of English) detects as
/// zh 0.82, en 0.17; one clear language leaves the runner-up under 0.05.
const MIXED: f32 = 0.1;
/// The most decodings a piece without words gets in other languages before it is reported.
const RETRIES: usize = 3;

/// The most likely of `candidates` (any language when empty) in `probs`; `None` when the
/// engine could not tell. A candidate the engine gave no probability for loses to one it did.
pub(crate) fn pick(probs: &[(String, f32)], candidates: &[String]) -> Option<String> {
    probs
        .iter()
        .filter(|(l, _)| candidates.is_empty() || candidates.contains(l))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(l, _)| l.clone())
}

/// The probability of the runner-up among `candidates`.
fn runner_up(probs: &[(String, f32)], candidates: &[String]) -> f32 {
    let mut p: Vec<f32> = probs
        .iter()
        .filter(|(l, _)| candidates.is_empty() || candidates.contains(l))
        .map(|&(_, p)| p)
        .collect();
    p.sort_by(|a, b| b.total_cmp(a));
    p.get(1).copied().unwrap_or(0.0)
}

/// Where the pieces of one packed window lie: on the packed audio and on the input.
struct Layout {
    /// (start on the packed audio, the piece on the input timeline), in order.
    pieces: Vec<(Time, Span)>,
}

impl Layout {
    fn new(pieces: &[Span]) -> Layout {
        let mut at = Time::ZERO;
        let pieces = pieces
            .iter()
            .map(|p| {
                let start = at;
                at += p.duration();
                (start, *p)
            })
            .collect();
        Layout { pieces }
    }

    /// The piece that holds packed time `t` (the last one for times past the end; on a
    /// boundary, the later piece).
    fn piece_at(&self, t: Time) -> usize {
        self.pieces.iter().rposition(|&(s, _)| s <= t).unwrap_or(0)
    }

    /// Packed time `t` on the input timeline, kept inside piece `i`.
    fn map_in(&self, i: usize, t: Time) -> Time {
        let (s, p) = self.pieces[i];
        p.start + (t - s).max(Time::ZERO).min(p.duration())
    }

    /// Moves a window's segments and words from the packed audio onto the input timeline.
    /// A word goes to the piece that holds its middle and stays inside it; a segment
    /// spans its words (or, without words, maps its ends into the pieces that hold them).
    fn map(&self, t: &mut Transcript) {
        for seg in &mut t.segments {
            let (s0, s1) = (seg.start, seg.end);
            let (mut first, mut last) = (None, None);
            for w in &mut seg.words {
                let i = self.piece_at(Time((w.start.0 + w.end.0) / 2));
                w.start = self.map_in(i, w.start);
                w.end = self.map_in(i, w.end);
                first.get_or_insert(i);
                last = Some(i);
            }
            let a = first.unwrap_or_else(|| self.piece_at(s0));
            let b = last.unwrap_or_else(|| self.piece_at(s1 - Time(1)).max(a));
            seg.start = self.map_in(a, s0);
            seg.end = self.map_in(b, s1).max(seg.start);
            if let (Some(w0), Some(w1)) = (seg.words.first(), seg.words.last()) {
                seg.start = seg.start.min(w0.start);
                seg.end = seg.end.max(w1.end);
            }
        }
    }
}

/// Transcribes the `pieces` of `samples` (see [`speech_pieces`]; any sorted, disjoint spans,
/// e.g. [`tile`]'s tiling) with `engine`, consecutive pieces packed into windows of at most
/// [`TranscribeOptions::pack_max`] ([`pack`]), and joins the results on the input's timeline
/// (see the module documentation). Audio outside the pieces is never heard. `speech` is the
/// measured speech: a piece holding at least [`MIN_UNHEARD`] of it is expected to get words.
///
/// Languages: a forced language ([`TranscribeOptions::language`]) is used for every window.
/// Otherwise each window is decoded in its own language among the candidates
/// ([`TranscribeOptions::candidates`], any when empty):
///
/// ```text
/// guess      the previous window's language (the first window: detected before decoding;
///            already two languages likely: split straight away, see below)
/// decode     in the guess; the same encoder output gives the window's language probabilities
/// re-decode  when another candidate is more likely (kept if it hears at least as much speech)
/// split      a window of several pieces whose runner-up language is ≥ 10 % likely, or with a
///            piece left without words, is halved at an inner pause and each half heard on its
///            own; kept when that hears more speech or the halves are in different languages
/// retry      a piece with ≥ 0.5 s of speech still without words is decoded alone, without
///            conditioning, in its detected language and the other candidates (3 tries)
/// ```
///
/// Each segment carries the language it was decoded in; the transcript's language is the one
/// with the most speech.
pub(crate) fn transcribe(
    samples: &[f32],
    pieces: &[Span],
    speech: &[Span],
    opts: &TranscribeOptions,
    progress: &mut dyn FnMut(f32),
    engine: &mut dyn WindowEngine,
) -> Result<Transcript> {
    let range = |p: &Span| {
        (
            p.start.to_samples(SAMPLE_RATE).min(samples.len()),
            p.end.to_samples(SAMPLE_RATE).min(samples.len()),
        )
    };
    // Pieces on whole samples, empty ones dropped.
    let pieces: Vec<Span> = pieces
        .iter()
        .map(range)
        .filter(|(a, b)| b > a)
        .map(|(a, b)| {
            Span::new(
                Time::from_samples(a, SAMPLE_RATE),
                Time::from_samples(b, SAMPLE_RATE),
            )
        })
        .collect();
    let total: usize = pieces.iter().map(|p| range(p).1 - range(p).0).sum();
    let mut hearing = Hearing {
        samples,
        speech: time::normalize(speech),
        opts,
        engine,
        forced: opts.language.clone().filter(|l| !l.trim().is_empty()),
        prev: None,
        progress,
        done: 0,
        total: total.max(1) as f64,
        last: 0.0,
        first_language: None,
        detects: false,
    };
    let mut segments = Vec::new();
    for w in pack(&pieces, opts.pack_max) {
        let group = &pieces[w];
        let len: usize = group.iter().map(|p| range(p).1 - range(p).0).sum();
        let mut heard = hearing.hear(group, false)?;
        hearing.retry(group, &mut heard)?;
        heard.segments.sort_by_key(|s| s.start);
        segments.extend(heard.segments);
        hearing.done += len;
        hearing.report(0.0, 0.0);
    }
    (hearing.progress)(1.0);
    let mut out = Transcript {
        language: String::new(),
        segments,
    };
    out.language = if opts.translate {
        "en".into()
    } else {
        out.language_shares()
            .first()
            .map(|(l, _)| l.clone())
            .or(hearing.first_language)
            .unwrap_or_default()
    };
    Ok(out)
}

/// What a window (or part of one) was heard as, on the input's timeline.
struct Heard {
    segments: Vec<Segment>,
    /// The language it was decoded in (empty: unknown).
    language: String,
    /// Speech in its pieces that got words ([`Hearing::coverage`]).
    covered: Time,
}

/// The state of one [`transcribe`] call.
struct Hearing<'a, 'e> {
    samples: &'a [f32],
    speech: Vec<Span>,
    opts: &'a TranscribeOptions,
    engine: &'e mut dyn WindowEngine,
    forced: Option<String>,
    /// The last window's language: the guess for the next.
    prev: Option<String>,
    progress: &'a mut dyn FnMut(f32),
    /// Samples of the windows done.
    done: usize,
    total: f64,
    last: f32,
    /// The language of the first decoding, for a transcript without segments.
    first_language: Option<String>,
    /// Whether the engine's last decoding gave language probabilities.
    detects: bool,
}

impl Hearing<'_, '_> {
    /// Reports progress `f` through a window whose share of all the audio is `share`, never
    /// going back.
    fn report(&mut self, share: f64, f: f32) {
        let p = ((self.done as f64 + share * f as f64) / self.total) as f32;
        if p > self.last {
            self.last = p;
            (self.progress)(p.min(1.0));
        }
    }

    fn audio(&self, group: &[Span]) -> Vec<f32> {
        let mut v = Vec::new();
        for p in group {
            let a = p.start.to_samples(SAMPLE_RATE).min(self.samples.len());
            let b = p.end.to_samples(SAMPLE_RATE).min(self.samples.len());
            v.extend_from_slice(&self.samples[a..b]);
        }
        v
    }

    /// Measured speech inside `p`.
    fn speech_in(&self, p: &Span) -> Time {
        self.speech
            .iter()
            .filter_map(|s| s.intersect(p))
            .fold(Time::ZERO, |a, s| a + s.duration())
    }

    /// Whether a word (or a segment without words) of `segs` overlaps `p`.
    fn has_words(segs: &[Segment], p: &Span) -> bool {
        segs.iter().any(|s| {
            if s.words.is_empty() {
                !s.text.trim().is_empty() && s.start < p.end && p.start < s.end
            } else {
                s.words.iter().any(|w| w.start < p.end && p.start < w.end)
            }
        })
    }

    /// Speech in the pieces of `group` that got words.
    fn coverage(&self, group: &[Span], segs: &[Segment]) -> Time {
        group
            .iter()
            .filter(|p| Self::has_words(segs, p))
            .fold(Time::ZERO, |a, p| a + self.speech_in(p))
    }

    /// Pieces of `group` with enough speech and no words.
    fn missed<'g>(&self, group: &'g [Span], segs: &[Segment]) -> Vec<&'g Span> {
        group
            .iter()
            .filter(|p| self.speech_in(p) >= MIN_UNHEARD && !Self::has_words(segs, p))
            .collect()
    }

    /// Decodes `group` in `language` (`None`: the engine's choice), on the input's timeline.
    fn decode(
        &mut self,
        group: &[Span],
        language: Option<&str>,
        languages: bool,
        opts: &TranscribeOptions,
    ) -> Result<(Heard, LangProbs)> {
        let audio = self.audio(group);
        let share = audio.len() as f64 / self.total;
        let opts = TranscribeOptions {
            language: language.map(str::to_string),
            ..opts.clone()
        };
        let window = Window {
            audio: &audio,
            pieces: group,
        };
        let engine = &mut *self.engine;
        let (done, total, last) = (self.done, self.total, &mut self.last);
        let progress = &mut *self.progress;
        let d = engine.decode(&window, &opts, languages, &mut |f| {
            let p = ((done as f64 + share * total * f as f64) / total) as f32;
            if p > *last {
                *last = p;
                progress(p.min(1.0));
            }
        })?;
        let mut t = d.transcript;
        Layout::new(group).map(&mut t);
        // The language decoded in; the segments get the engine's code for it (with
        // --translate: the written language).
        let lang = language
            .map(str::to_string)
            .unwrap_or_else(|| t.language.clone());
        let written = if t.language.is_empty() || (opts.translate && !lang.is_empty()) {
            lang.clone()
        } else {
            t.language.clone()
        };
        self.first_language.get_or_insert_with(|| written.clone());
        for seg in &mut t.segments {
            if seg.language.is_empty() {
                seg.language = written.clone();
            }
        }
        let covered = self.coverage(group, &t.segments);
        Ok((
            Heard {
                segments: t.segments,
                language: lang,
                covered,
            },
            d.languages,
        ))
    }

    /// The language probabilities of `group` before decoding it.
    fn detect(&mut self, group: &[Span]) -> Result<LangProbs> {
        let audio = self.audio(group);
        self.engine.detect(
            &Window {
                audio: &audio,
                pieces: group,
            },
            self.opts,
        )
    }

    /// One window (or half of one, `half`) in its own language: see [`transcribe`]. A half
    /// is detected before it is decoded: its window already held more than one language.
    fn hear(&mut self, group: &[Span], half: bool) -> Result<Heard> {
        let opts = self.opts;
        if let Some(forced) = self.forced.clone() {
            return Ok(self.decode(group, Some(&forced), false, opts)?.0);
        }
        let cands = &opts.candidates;
        // An engine that cannot tell languages apart picks its own for every window.
        let guess = match self.prev.clone().filter(|_| !half && self.detects) {
            Some(p) => Some(p),
            None => {
                let probs = self.detect(group)?;
                if group.len() >= 2 && runner_up(&probs, cands) >= MIXED {
                    // Two languages before any decoding: straight to the halves.
                    let (left, right) = self.split(group)?;
                    return Ok(join(left, right));
                }
                pick(&probs, cands).or_else(|| cands.first().cloned())
            }
        };
        let (mut heard, probs) = self.decode(group, guess.as_deref(), true, opts)?;
        self.detects = !probs.is_empty();
        if let Some(best) = pick(&probs, cands).filter(|b| *b != heard.language) {
            let (other, _) = self.decode(group, Some(&best), false, opts)?;
            if other.covered >= heard.covered {
                heard = other;
            }
        }
        self.prev = Some(heard.language.clone()).filter(|l| !l.is_empty());
        let mixed =
            runner_up(&probs, cands) >= MIXED || !self.missed(group, &heard.segments).is_empty();
        if group.len() >= 2 && mixed {
            let before = self.prev.clone();
            let (left, right) = self.split(group)?;
            let covered = left.covered + right.covered;
            if covered > heard.covered
                || (left.language != right.language && covered >= heard.covered)
            {
                return Ok(join(left, right));
            }
            self.prev = before;
        }
        Ok(heard)
    }

    /// The two halves of `group` (split at [`split_point`]), each heard on its own.
    fn split(&mut self, group: &[Span]) -> Result<(Heard, Heard)> {
        let at = split_point(group);
        let left = self.hear(&group[..at], true)?;
        let right = self.hear(&group[at..], true)?;
        Ok((left, right))
    }

    /// Decodes alone, without conditioning, each piece of `group` that has enough speech and
    /// no words, in up to [`RETRIES`] languages; the first that gives words is kept.
    fn retry(&mut self, group: &[Span], heard: &mut Heard) -> Result<()> {
        let missed: Vec<Span> = self
            .missed(group, &heard.segments)
            .into_iter()
            .copied()
            .collect();
        let opts = TranscribeOptions {
            condition_on_previous_text: false,
            initial_prompt: None,
            ..self.opts.clone()
        };
        for piece in missed {
            let one = [piece];
            let tries: Vec<Option<String>> = match &self.forced {
                Some(f) => vec![Some(f.clone())],
                None => {
                    let mut probs = self.detect(&one)?;
                    probs.sort_by(|a, b| b.1.total_cmp(&a.1));
                    let cands = &self.opts.candidates;
                    let mut order: Vec<String> = probs
                        .iter()
                        .map(|(l, _)| l.clone())
                        .filter(|l| cands.is_empty() || cands.contains(l))
                        .take(RETRIES)
                        .collect();
                    for c in cands.iter().chain([&heard.language]) {
                        if !order.contains(c) && !c.is_empty() {
                            order.push(c.clone());
                        }
                    }
                    let mut v: Vec<Option<String>> = order.into_iter().map(Some).collect();
                    if v.is_empty() {
                        v.push(None);
                    }
                    v.truncate(RETRIES);
                    v
                }
            };
            for lang in tries {
                let (got, _) = self.decode(&one, lang.as_deref(), false, &opts)?;
                if Self::has_words(&got.segments, &piece) {
                    heard.segments.extend(got.segments);
                    heard.covered += self.speech_in(&piece);
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Two halves heard apart, as one: the language of the later half goes on.
fn join(left: Heard, right: Heard) -> Heard {
    let mut segments = left.segments;
    segments.extend(right.segments);
    Heard {
        segments,
        language: right.language,
        covered: left.covered + right.covered,
    }
}

/// Where to halve a group of pieces: the piece boundary closest to the middle of its audio.
fn split_point(group: &[Span]) -> usize {
    let total = group.iter().fold(Time::ZERO, |a, p| a + p.duration());
    let mut at = Time::ZERO;
    let mut best = (1, Time(i64::MAX));
    for (i, p) in group.iter().enumerate().take(group.len() - 1) {
        at += p.duration();
        let off = Time((at.0 * 2 - total.0).abs());
        if off < best.1 {
            best = (i + 1, off);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asr::Transcriber;
    use crate::transcript::{Segment, Word};

    fn s(a: f64, b: f64) -> Span {
        Span::secs(a, b)
    }

    #[test]
    fn short_input_is_one_window() {
        assert_eq!(
            tile(&[s(1.0, 5.0)], Time::from_secs_f64(14.9), MAX_WINDOW, None),
            vec![s(0.0, 14.9)]
        );
        assert_eq!(
            tile(&[], Time::from_secs_f64(30.0), MAX_WINDOW, None),
            vec![s(0.0, 30.0)]
        );
        assert!(tile(&[], Time::ZERO, MAX_WINDOW, None).is_empty());
    }

    #[test]
    fn cuts_in_the_latest_clear_pause_before_an_onset() {
        // Pauses of 0.4 s, 2 s, 0.4 s, 0.2 s and 0.4 s.
        let speech = [
            s(0.5, 5.0),
            s(5.4, 20.0),
            s(22.0, 28.0),
            s(28.4, 29.8),
            s(30.0, 33.0),
            s(33.4, 60.0),
        ];
        let w = tile(&speech, Time::from_secs_f64(60.0), MAX_WINDOW, None);
        assert_eq!(
            w[0],
            s(0.0, 28.0),
            "the latest clear pause in reach, not the 0.2 s one at 29.8 s"
        );
        assert_eq!(
            w[1],
            s(28.0, 33.0),
            "0.4 s before the onset at 33.4 s; nothing later is in reach"
        );
        assert_eq!(w.last().unwrap(), &s(33.0, 60.0));
        for win in &w {
            assert!(win.duration() <= MAX_WINDOW, "{win}");
            for sp in &speech {
                assert!(
                    !(sp.start < win.end && win.end < sp.end),
                    "window end {win} inside speech {sp}"
                );
            }
        }
    }

    #[test]
    fn continuous_sound_is_cut_at_the_limit() {
        let w = tile(&[s(0.0, 70.0)], Time::from_secs_f64(70.0), MAX_WINDOW, None);
        assert_eq!(w, vec![s(0.0, 30.0), s(30.0, 60.0), s(60.0, 70.0)]);
    }

    #[test]
    fn continuous_sound_is_cut_at_its_quietest_moment_before_the_limit() {
        // 40 s of sound without a gap, 10 ms loudness frames at -20 dB with three dips.
        let dips = |offset: usize, n: usize| {
            let mut db = vec![-20.0f32; n];
            db[offset + 1320] = -35.0; // 13.2 s: in the last 3 s before the 15 s limit
            db[offset + 500] = -50.0; // 5 s: quieter, but too early (a short window)
            db[offset + 2700] = -30.0; // 27 s: in reach of the second window (13.2 + 15)
            Loudness { db }
        };
        let loud = dips(0, 4000);
        let total = Time::from_secs_f64(40.0);
        assert_eq!(
            tile(&[s(0.0, 40.0)], total, PACK_MAX, Some(&loud)),
            [s(0.0, 13.2), s(13.2, 27.0), s(27.0, 40.0)]
        );
        // Without the loudness, or where it is flat, at the limit.
        let at_limit = [s(0.0, 15.0), s(15.0, 30.0), s(30.0, 40.0)];
        assert_eq!(tile(&[s(0.0, 40.0)], total, PACK_MAX, None), at_limit);
        let flat = Loudness {
            db: vec![-20.0; 4000],
        };
        assert_eq!(
            tile(&[s(0.0, 40.0)], total, PACK_MAX, Some(&flat)),
            at_limit
        );
        // A gap in reach still wins over a dip.
        assert_eq!(
            tile(&[s(0.0, 10.0), s(10.1, 40.0)], total, PACK_MAX, Some(&loud))[0],
            s(0.0, 10.0)
        );
        // Speech pieces are cut the same way, on the input's timeline: a piece from 100 s.
        let loud = dips(10_000, 14_100);
        assert_eq!(
            speech_pieces(
                &[s(100.4, 140.0)],
                Time::from_secs_f64(141.0),
                PACK_MAX,
                Some(&loud)
            ),
            [s(100.0, 113.2), s(113.2, 127.0), s(127.0, 140.3)]
        );
    }

    #[test]
    fn windows_tile_the_input_on_random_speech() {
        let mut rng = crate::testutil::Rng::new(0x9e37_79b9_7f4a_7c15u64);
        let mut rnd = move || rng.unit();
        for _ in 0..200 {
            let mut speech = Vec::new();
            let mut x = rnd() * 3.0;
            while x < 300.0 {
                let d = 0.3 + rnd() * 40.0 * rnd();
                speech.push(s(x, x + d));
                x += d + 0.1 + rnd() * 3.0;
            }
            let total = Time::from_secs_f64(x + rnd());
            // Random loudness too (cuts in continuous sound go to its quietest frame); it may
            // end before the input does.
            let loud = Loudness {
                db: (0..(x * 90.0) as usize)
                    .map(|_| -60.0 * rnd() as f32)
                    .collect(),
            };
            for loud in [None, Some(&loud)] {
                let w = tile(&speech, total, MAX_WINDOW, loud);
                assert_eq!(w[0].start, Time::ZERO);
                assert_eq!(w.last().unwrap().end, total);
                for p in w.windows(2) {
                    assert_eq!(p[0].end, p[1].start);
                }
                assert!(w
                    .iter()
                    .all(|x| !x.is_empty() && x.duration() <= MAX_WINDOW));
            }
        }
    }

    /// Random speech: spans of 0.3–40 s (mostly short) with pauses of 0.1–8 s.
    fn random_speech(rnd: &mut impl FnMut() -> f64) -> (Vec<Span>, Time) {
        let mut speech = Vec::new();
        let mut x = rnd() * 3.0;
        while x < 300.0 {
            let d = 0.3 + rnd() * 40.0 * rnd() * rnd();
            speech.push(s(x, x + d));
            x += d + 0.1 + 8.0 * rnd() * rnd();
        }
        (speech, Time::from_secs_f64(x + rnd() * 5.0))
    }

    fn rng() -> impl FnMut() -> f64 {
        let mut rng = crate::testutil::Rng::new(0x9e37_79b9_7f4a_7c15);
        move || rng.unit()
    }

    #[test]
    fn speech_pieces_skip_long_pauses_and_split_at_clear_ones() {
        // 0.5 s, 3 s and 20 s pauses.
        let speech = [s(1.0, 5.0), s(5.5, 9.0), s(12.0, 14.0), s(34.0, 36.0)];
        let p = speech_pieces(&speech, Time::from_secs_f64(40.0), MAX_WINDOW, None);
        assert_eq!(
            p,
            [s(0.6, 5.1), s(5.1, 9.3), s(11.6, 14.3), s(33.6, 36.3)],
            "0.4 s before and 0.3 s after speech; the 0.5 s pause is a cut 0.4 s before its onset"
        );
        assert_eq!(
            pack(&p, MAX_WINDOW),
            vec![(0..4)],
            "14.1 s of audio: one window"
        );
        // Speech at the very start and end is clamped to the input.
        let p = speech_pieces(
            &[s(0.1, 2.0), s(9.0, 9.9)],
            Time::from_secs_f64(10.0),
            MAX_WINDOW,
            None,
        );
        assert_eq!(p, [s(0.0, 2.3), s(8.6, 10.0)]);
        // No speech found: the whole input, as before.
        assert_eq!(
            speech_pieces(&[], Time::from_secs_f64(50.0), MAX_WINDOW, None),
            [s(0.0, 30.0), s(30.0, 50.0)]
        );
        // Continuous speech longer than a window is cut like `tile` cuts it.
        let p = speech_pieces(&[s(2.0, 70.0)], Time::from_secs_f64(75.0), MAX_WINDOW, None);
        assert_eq!(p, [s(1.6, 31.6), s(31.6, 61.6), s(61.6, 70.3)]);
    }

    #[test]
    fn packing_needs_few_windows_and_evens_them_out() {
        let p = [
            s(0.0, 10.0),
            s(20.0, 35.0),
            s(50.0, 56.0),
            s(56.0, 90.0),
            s(95.0, 96.0),
        ];
        // Filling in order needs 4 windows (25, 6, 34, 1 s); evened out: 10, 21, 34, 1 s.
        assert_eq!(pack(&p, MAX_WINDOW), [0..1, 1..3, 3..4, 4..5]);
        let p = [s(0.0, 10.0), s(20.0, 30.0), s(40.0, 50.0), s(60.0, 60.5)];
        assert_eq!(
            pack(&p, MAX_WINDOW),
            [0..2, 2..4],
            "20 + 10.5 s, not 30 + 0.5 s"
        );
        assert!(pack(&[], MAX_WINDOW).is_empty());
    }

    #[test]
    fn speech_pieces_cover_the_speech_on_random_inputs() {
        let mut rnd = rng();
        for _ in 0..300 {
            let (speech, total) = random_speech(&mut rnd);
            let pieces = speech_pieces(&speech, total, PACK_MAX, None);
            for p in pieces.windows(2) {
                assert!(
                    p[0].end <= p[1].start,
                    "sorted, disjoint: {} {}",
                    p[0],
                    p[1]
                );
            }
            for p in &pieces {
                assert!(!p.is_empty() && p.duration() <= PACK_MAX, "{p}");
                assert!(p.start >= Time::ZERO && p.end <= total);
            }
            // Every instant of speech is in a piece (with its lead-in where there is room).
            let covered = time::total(&time::intersection(&speech, &pieces));
            assert_eq!(covered, time::total(&speech));
            // Boundaries fall in pauses, except inside speech longer than a window.
            for p in &pieces {
                for b in [p.start, p.end] {
                    if let Some(sp) = speech.iter().find(|sp| sp.start < b && b < sp.end) {
                        // A hard cut: no pause within a window's reach.
                        assert!(
                            sp.duration() > PACK_MAX - LEAD_IN,
                            "boundary {b} inside {sp}"
                        );
                    }
                }
            }
            // Long pauses are skipped: at most LEAD_IN + TAIL of each is heard.
            let heard = time::total(&pieces);
            let gaps = time::invert(&speech, Span::new(Time::ZERO, total));
            let bound = time::total(&speech)
                + gaps
                    .iter()
                    .map(|g| g.duration().min(LEAD_IN + TAIL))
                    .fold(Time::ZERO, |a, b| a + b);
            assert!(heard <= bound, "{heard} > {bound}");
            let windows = pack(&pieces, PACK_MAX);
            let len = |r: &Range<usize>| {
                pieces[r.clone()]
                    .iter()
                    .fold(Time::ZERO, |a, p| a + p.duration())
            };
            assert_eq!(windows.first().map(|r| r.start), Some(0));
            assert_eq!(windows.last().map(|r| r.end), Some(pieces.len()));
            for w in windows.windows(2) {
                assert_eq!(w[0].end, w[1].start);
            }
            assert!(windows.iter().all(|w| len(w) <= PACK_MAX));
            // As few windows as filling each to the last piece that fits.
            let mut greedy = 0;
            let mut fill = PACK_MAX;
            for p in &pieces {
                if fill + p.duration() > PACK_MAX {
                    greedy += 1;
                    fill = Time::ZERO;
                }
                fill += p.duration();
            }
            assert_eq!(windows.len(), greedy);
        }
    }

    /// A fake engine that hears the input's own sample numbers (sample `i` of the input has
    /// the value `i`): every second of its window it "hears" a word made of the input time
    /// at that point, 0.2 s long.
    fn marker_engine(
        calls: &mut Vec<usize>,
    ) -> impl FnMut(&[f32], &TranscribeOptions, &mut dyn FnMut(f32)) -> Result<Transcript> + '_
    {
        move |samples, _, _| {
            calls.push(samples.len());
            let mut words = Vec::new();
            let mut t = 0;
            while t + 3_200 <= samples.len() {
                words.push(Word {
                    text: format!("{}", samples[t + 1_600] as usize - 1_600),
                    start: Time::from_samples(t, SAMPLE_RATE),
                    end: Time::from_samples(t + 3_200, SAMPLE_RATE),
                    probability: 1.0,
                });
                t += 16_000;
            }
            Ok(Transcript {
                language: "en".into(),
                segments: vec![Segment {
                    start: Time::ZERO,
                    end: Time::from_samples(samples.len(), SAMPLE_RATE),
                    text: String::new(),
                    words,
                    no_speech_probability: 0.0,
                    language: String::new(),
                }],
            })
        }
    }

    #[test]
    fn packed_windows_map_times_back_to_the_input() {
        let samples: Vec<f32> = (0..16_000 * 100).map(|i| i as f32).collect();
        let pieces = [s(2.0, 8.5), s(40.0, 49.0), s(49.0, 52.0), s(80.0, 89.0)];
        assert_eq!(PACK_MAX, Time::from_secs_f64(15.0));
        let mut calls = Vec::new();
        let t = transcribe(
            &samples,
            &pieces,
            &[],
            &TranscribeOptions::default(),
            &mut |_| {},
            &mut Plain(&mut marker_engine(&mut calls)),
        )
        .unwrap();
        assert_eq!(
            calls,
            [16_000 * 13 / 2, 16_000 * 12, 16_000 * 9],
            "6.5 s, then 9 + 3 s, then 9 s: three windows of at most 15 s, evened out"
        );
        for w in t.words() {
            // Each word lands where its audio came from, inside one piece.
            let from = w.text.parse::<usize>().unwrap();
            assert_eq!(w.start, Time::from_samples(from, SAMPLE_RATE), "{w:?}");
            assert_eq!(w.end - w.start, Time::from_millis(200));
            assert!(pieces.iter().any(|p| p.start <= w.start && w.end <= p.end));
        }
        assert_eq!(t.words().count(), 7 + 9 + 3 + 9);
        // Segments span their words and stay in order.
        let segs: Vec<Span> = t
            .segments
            .iter()
            .map(|g| Span::new(g.start, g.end))
            .collect();
        assert_eq!(segs, [s(2.0, 8.5), s(40.0, 52.0), s(80.0, 89.0)]);
    }

    #[test]
    fn the_options_choose_speech_pieces_or_tiles_and_the_packing_cap() {
        let speech = [s(1.0, 5.0), s(34.0, 36.0)];
        let total = Time::from_secs_f64(40.0);
        let on = TranscribeOptions::default();
        assert_eq!(
            pieces_for(&on, &speech, total, None),
            speech_pieces(&speech, total, PACK_MAX, None)
        );
        let off = TranscribeOptions {
            speech_only: false,
            ..on.clone()
        };
        assert_eq!(
            pieces_for(&off, &speech, total, None),
            [s(0.0, 30.0), s(30.0, 40.0)]
        );
        // 27.5 s of pieces: three calls of at most 15 s by default, one of 27.5 s with a cap of 30.
        let samples: Vec<f32> = (0..16_000 * 100).map(|i| i as f32).collect();
        let pieces = [s(2.0, 8.5), s(40.0, 49.0), s(49.0, 52.0), s(80.0, 89.0)];
        let mut calls = Vec::new();
        let wide = TranscribeOptions {
            pack_max: Time::from_secs_f64(30.0),
            ..on
        };
        transcribe(
            &samples,
            &pieces,
            &[],
            &wide,
            &mut |_| {},
            &mut Plain(&mut marker_engine(&mut calls)),
        )
        .unwrap();
        assert_eq!(calls, [16_000 * 55 / 2]);
    }

    #[test]
    fn a_word_across_a_join_stays_in_the_piece_of_its_middle() {
        let layout = Layout::new(&[s(10.0, 12.0), s(50.0, 53.0)]);
        let w = |a: f64, b: f64| Word {
            text: "x".into(),
            start: Time::from_secs_f64(a),
            end: Time::from_secs_f64(b),
            probability: 1.0,
        };
        let mut t = Transcript {
            language: "en".into(),
            segments: vec![Segment {
                start: Time::from_secs_f64(1.5),
                end: Time::from_secs_f64(2.9),
                text: "x y".into(),
                words: vec![w(1.5, 2.3), w(2.3, 2.9)],
                no_speech_probability: 0.0,
                language: String::new(),
            }],
        };
        layout.map(&mut t);
        let words: Vec<(Time, Time)> = t.words().map(|w| (w.start, w.end)).collect();
        assert_eq!(
            words,
            [
                (Time::from_secs_f64(11.5), Time::from_secs_f64(12.0)),
                (Time::from_secs_f64(50.3), Time::from_secs_f64(50.9))
            ]
        );
        let seg = &t.segments[0];
        assert_eq!(
            (seg.start, seg.end),
            (Time::from_secs_f64(11.5), Time::from_secs_f64(50.9))
        );
    }

    /// A fake engine that "hears" one word per call, at 1 s into its window; it detects
    /// French in short windows and German in long ones, and records the language it was given.
    struct Echo(std::sync::Mutex<Vec<Option<String>>>);
    impl Transcriber for Echo {
        fn transcribe(
            &self,
            samples: &[f32],
            opts: &TranscribeOptions,
            progress: &mut dyn FnMut(f32),
        ) -> Result<Transcript> {
            self.0.lock().unwrap().push(opts.language.clone());
            progress(0.5);
            let word = Word {
                text: format!("n{}", samples.len()),
                start: Time::from_millis(1000),
                end: Time::from_millis(1500),
                probability: 1.0,
            };
            let detected = if samples.len() < 400_000 { "fr" } else { "de" };
            Ok(Transcript {
                language: opts.language.clone().unwrap_or_else(|| detected.into()),
                segments: vec![Segment {
                    start: word.start,
                    end: word.end,
                    text: word.text.clone(),
                    words: vec![word],
                    no_speech_probability: 0.0,
                    language: String::new(),
                }],
            })
        }
    }

    #[test]
    fn windows_are_shifted_back_and_each_gets_its_language() {
        let samples = vec![0.0f32; 16_000 * 50];
        let windows = [s(0.0, 20.0), s(20.0, 50.0)];
        let mut seen = Vec::new();
        let echo = Echo(Default::default());
        let t = echo
            .transcribe_windows(
                &samples,
                &windows,
                &[],
                &TranscribeOptions::default(),
                &mut |f| seen.push(f),
            )
            .unwrap();
        assert_eq!(
            *echo.0.lock().unwrap(),
            [None, None],
            "an engine that cannot detect picks each window's language itself"
        );
        let langs: Vec<&str> = t.segments.iter().map(|s| s.language.as_str()).collect();
        assert_eq!(langs, ["fr", "de"]);
        let starts: Vec<Time> = t.words().map(|w| w.start).collect();
        assert_eq!(starts, [Time::from_millis(1000), Time::from_millis(21_000)]);
        assert_eq!(t.segments[1].text, "n480000");
        assert!(
            seen.windows(2).all(|p| p[0] <= p[1]),
            "progress never goes back: {seen:?}"
        );
        assert_eq!(seen.last(), Some(&1.0));
        assert!(
            (seen[0] - 0.2).abs() < 1e-6,
            "half of the first 40 %: {seen:?}"
        );
    }

    /// Records what [`transcribe`] asks of a replayed engine.
    struct Spy<'a> {
        replay: &'a crate::asr::Replay,
        /// (language asked for, first piece, conditioned on previous text) per decoding.
        decodes: Vec<(Option<String>, Span, bool)>,
        detects: usize,
    }

    impl WindowEngine for Spy<'_> {
        fn detect(&mut self, w: &Window, o: &TranscribeOptions) -> Result<LangProbs> {
            self.detects += 1;
            (&mut &*self.replay).detect(w, o)
        }
        fn decode(
            &mut self,
            w: &Window,
            o: &TranscribeOptions,
            l: bool,
            p: &mut dyn FnMut(f32),
        ) -> Result<Decoded> {
            self.decodes.push((
                o.language.clone(),
                w.pieces[0],
                o.condition_on_previous_text,
            ));
            (&mut &*self.replay).decode(w, o, l, p)
        }
    }

    /// A replayed segment in `lang` over `[a, b)` with one word per second.
    fn said(a: f64, b: f64, lang: &str, word: &str) -> serde_json::Value {
        let mut words = Vec::new();
        let mut t = a;
        while t + 0.5 <= b {
            words.push(
                serde_json::json!({"text": word, "start": t, "end": t + 0.5, "probability": 0.9}),
            );
            t += 1.0;
        }
        serde_json::json!({"start": a, "end": b, "text": word, "words": words,
            "no_speech_probability": 0.0, "language": lang})
    }

    /// Runs [`transcribe`] over `pieces` with a replay of `segments` (and `detect`).
    fn replayed(
        segments: Vec<serde_json::Value>,
        detect: serde_json::Value,
        pieces: &[Span],
        speech: &[Span],
        opts: &TranscribeOptions,
    ) -> (Transcript, Vec<(Option<String>, Span, bool)>) {
        let json = serde_json::json!({"language": "", "segments": segments, "detect": detect});
        let replay = crate::asr::Replay::from_json(&json.to_string()).unwrap();
        let mut spy = Spy {
            replay: &replay,
            decodes: Vec::new(),
            detects: 0,
        };
        let samples = vec![0.0f32; 16_000 * 60];
        let t = transcribe(&samples, pieces, speech, opts, &mut |_| {}, &mut spy).unwrap();
        (t, spy.decodes)
    }

    fn heard(t: &Transcript) -> Vec<(String, String)> {
        t.segments
            .iter()
            .map(|s| (s.language.clone(), s.words[0].text.clone()))
            .collect()
    }

    fn asked(d: &[(Option<String>, Span, bool)]) -> Vec<&str> {
        d.iter()
            .map(|(l, _, _)| l.as_deref().unwrap_or("-"))
            .collect()
    }

    #[test]
    fn a_chinese_window_then_an_english_one_both_keep_their_words() {
        let pieces = [s(0.0, 10.0), s(20.0, 30.0)];
        let speech = [s(0.4, 9.7), s(20.4, 29.7)];
        let (t, d) = replayed(
            vec![
                said(1.0, 9.0, "zh", "你好"),
                said(22.0, 28.0, "en", "hello"),
            ],
            serde_json::json!([]),
            &pieces,
            &speech,
            &TranscribeOptions::default(),
        );
        assert_eq!(
            heard(&t),
            [("zh".into(), "你好".into()), ("en".into(), "hello".into())]
        );
        assert_eq!(
            asked(&d),
            ["zh", "zh", "en"],
            "the second window is guessed from the first, and decoded again in its own language"
        );
        assert_eq!(t.language, "zh", "the language with the most speech");
        let shares = t.language_shares();
        assert_eq!(shares[0].0, "zh");
        assert!((shares[0].1 - 8.0 / 14.0).abs() < 1e-6);
        // The old behaviour, forced: the English window is lost, then reported.
        let forced = TranscribeOptions {
            language: Some("zh".into()),
            ..TranscribeOptions::default()
        };
        let (t, d) = replayed(
            vec![
                said(1.0, 9.0, "zh", "你好"),
                said(22.0, 28.0, "en", "hello"),
            ],
            serde_json::json!([]),
            &pieces,
            &speech,
            &forced,
        );
        assert_eq!(heard(&t), [("zh".into(), "你好".into())]);
        assert_eq!(
            asked(&d),
            ["zh", "zh", "zh"],
            "the retry keeps the forced language"
        );
        assert!(!d[2].2, "the retry is not conditioned on previous text");
        let words: Vec<Span> = t.words().map(|w| Span::new(w.start, w.end)).collect();
        let u = crate::transcript::unheard(&pieces, &speech, &words, MIN_UNHEARD);
        assert_eq!(u.len(), 1);
        assert_eq!(
            (u[0].start, u[0].end),
            (Time::from_secs_f64(20.4), Time::from_secs_f64(29.7))
        );
    }

    #[test]
    fn a_window_holding_two_languages_is_split_at_its_inner_pause() {
        // 4.5 + 4.5 s: one window, Chinese then English.
        let pieces = [s(0.0, 4.5), s(5.0, 9.5)];
        let speech = [s(0.4, 4.2), s(5.4, 9.2)];
        let mixed = || vec![said(0.5, 4.2, "zh", "你好"), said(5.5, 9.0, "en", "hello")];
        let (t, d) = replayed(
            mixed(),
            serde_json::json!([]),
            &pieces,
            &speech,
            &TranscribeOptions::default(),
        );
        let both: [(String, String); 2] =
            [("zh".into(), "你好".into()), ("en".into(), "hello".into())];
        assert_eq!(heard(&t), both);
        assert_eq!(
            asked(&d),
            ["zh", "en"],
            "detected as mixed before decoding: each half on its own"
        );
        assert_eq!((d[0].1, d[1].1), (pieces[0], pieces[1]));
        // The same after a Chinese window (windows of ≤ 10 s): decoded whole in the previous
        // window's language, found mixed, split.
        let mut segs = vec![said(21.0, 28.0, "zh", "早")];
        segs.extend(mixed().into_iter().map(|mut v| {
            for k in ["start", "end"] {
                v[k] = (v[k].as_f64().unwrap() + 30.0).into();
            }
            for w in v["words"].as_array_mut().unwrap() {
                for k in ["start", "end"] {
                    w[k] = (w[k].as_f64().unwrap() + 30.0).into();
                }
            }
            v
        }));
        let later = [s(20.0, 29.0), s(30.0, 34.5), s(35.0, 39.5)];
        let later_speech = [s(20.4, 28.7), s(30.4, 34.2), s(35.4, 39.2)];
        let opts = TranscribeOptions {
            pack_max: Time::from_secs_f64(10.0),
            ..TranscribeOptions::default()
        };
        let (t, d) = replayed(segs, serde_json::json!([]), &later, &later_speech, &opts);
        assert_eq!(t.segments.len(), 3);
        assert_eq!(heard(&t)[1..], both);
        assert_eq!(
            asked(&d),
            ["zh", "zh", "zh", "en"],
            "the first window; the second whole, then each half"
        );
        // One language throughout: no split.
        let (t, d) = replayed(
            vec![said(0.5, 4.0, "en", "one"), said(5.5, 9.0, "en", "two")],
            serde_json::json!([]),
            &pieces,
            &speech,
            &TranscribeOptions::default(),
        );
        assert_eq!(t.segments.len(), 2);
        assert_eq!(asked(&d), ["en"]);
    }

    #[test]
    fn detection_is_restricted_to_the_candidates() {
        let pieces = [s(0.0, 10.0)];
        let speech = [s(0.4, 9.7)];
        let detect = serde_json::json!([{"start": 0.0, "end": 10.0,
            "languages": {"de": 0.6, "en": 0.3, "zh": 0.1}}]);
        let opts = TranscribeOptions {
            candidates: vec!["zh".into(), "en".into()],
            ..TranscribeOptions::default()
        };
        let (t, d) = replayed(
            vec![said(1.0, 9.0, "en", "hello")],
            detect,
            &pieces,
            &speech,
            &opts,
        );
        assert_eq!(heard(&t), [("en".into(), "hello".into())]);
        assert_eq!(
            asked(&d),
            ["en"],
            "German is more likely but not a candidate"
        );
    }

    #[test]
    fn a_piece_without_words_is_retried_in_the_other_languages() {
        let pieces = [s(0.0, 10.0), s(12.0, 12.8)];
        let speech = [s(0.4, 9.7), s(12.3, 12.6)];
        // Detection is wrong (German) for English speech.
        let detect = serde_json::json!([{"start": 0.0, "end": 10.0,
            "languages": {"de": 0.9, "en": 0.08, "fr": 0.02}}]);
        let (t, d) = replayed(
            vec![said(1.0, 9.0, "en", "hello")],
            detect,
            &pieces,
            &speech,
            &TranscribeOptions::default(),
        );
        assert_eq!(heard(&t), [("en".into(), "hello".into())]);
        let retries: Vec<&(Option<String>, Span, bool)> =
            d.iter().filter(|(_, p, _)| *p == pieces[0]).collect();
        assert_eq!(
            retries
                .iter()
                .map(|(l, _, _)| l.as_deref().unwrap())
                .collect::<Vec<_>>(),
            ["de", "de", "de", "en"],
            "decoded in German (the window, then its first half on its own), then retried \
             alone in German and English"
        );
        assert!(retries[0].2 && retries[1].2 && !retries[2].2 && !retries[3].2);
        assert_eq!(
            d.iter().filter(|(_, p, _)| *p == pieces[1]).count(),
            1,
            "0.3 s of speech: heard as the window's second half, not retried"
        );
        // Nothing to hear in any language: reported.
        let (t, _) = replayed(
            vec![],
            serde_json::json!([]),
            &pieces,
            &speech,
            &TranscribeOptions::default(),
        );
        let u = crate::transcript::unheard(&pieces, &speech, &[], MIN_UNHEARD);
        assert!(t.segments.is_empty());
        assert_eq!(u.len(), 1, "the 9.3 s piece; not the 0.3 s one");
    }
}
