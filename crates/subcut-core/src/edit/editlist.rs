//! The edit list: a cut as a Markdown checklist a person edits in any text editor, and back.
//!
//! `subcut review` plans the cut and writes `NAME.edit.md`, one line per sentence; `subcut cut
//! --edit NAME.edit.md` renders what the file then says. The timed words it refers to are
//! stored beside it (`NAME.edit.json`: a [`Stored`]), so a re-cut never transcribes again.
//!
//! ```text
//! <!-- subcut edit list 1
//! input: talk.mp4
//! size: 52817231
//! duration: 62.345000
//! fingerprint: sha256:9f3c…
//! transcript: talk.edit.json
//! -->
//! …how to use it, in prose…
//!
//! - [ ] So today I want to talk about ~~um~~ recording. <!-- 00:00.85–00:04.20 · filler "um" -->
//! - [x] (pause 1.80 s) <!-- 00:04.20–00:06.00 · pause -->
//! - [x] The first step is to record <!-- 00:06.00–00:07.90 · retake "…" -->
//! ```
//!
//! **Lines** ([`layout`]): a sentence ends at `.` `?` `!` `…` (and `。？！`), at a pause of at
//! least the cut's `min_silence`, and in a sentence of more than 40 words at its longest
//! gap. Such a pause (also before the first and after the last word) is a line of its own. A
//! run of three or more proposed cut words inside a sentence is split off as its own line.
//! Each line ends with the times it covers (`mm:ss.cc`, `h:mm:ss.cc` past an hour) in a
//! comment: that anchor ties the line to the recording, whatever else changes.
//!
//! **What a line means** ([`decide`]):
//! - ticked (`[x]`): all its words are cut (a pause line: the pause is cut as usual);
//! - not ticked (`[ ]`): its words stay, except those deleted from its text or still struck
//!   through (`~~um~~`; remove the tildes to keep the word); an unticked pause is kept whole;
//! - deleted (the whole line, anchor included): cut, as if ticked;
//! - words added or changed (misspelt, a CJK word partly deleted) are ignored: the word stays,
//!   and one warning names the line.
//!
//! **What the parser accepts**: list markers `-`, `*` or `+`; any whitespace before the
//! marker, between the marker and the box, inside the box and between words; `[ ]` or `[]`
//! (kept) and a box holding one mark, `[x]`, `[X]`, `[ x ]`, `[✓]` (cut); CRLF line ends. A
//! list item without a box or without its anchor is reported, and its line keeps what the
//! list proposed. Lines that are not list items (the header, prose, headings) are ignored.
//! Words are compared by their letters and digits, lowercased (`Um,` = `um`), CJK by
//! character.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::cuts::{cuts_of_words, Reason, Removed};
use super::plan::{plan_with_cuts, CutParams, EditPlan};
use super::FrameGrid;
use crate::time::{normalize, union, Span, Time};
use crate::transcript::{is_cjk, is_cjk_letter, Transcript, Word};

/// The first line of an edit list and the `format` of its stored transcript.
pub const FORMAT: &str = "subcut edit list 1";
/// A run of at least this many proposed cut words becomes a line of its own.
const SPLIT_RUN: usize = 3;
/// A sentence longer than this is split at its longest gap.
const MAX_LINE_WORDS: usize = 40;

/// What identifies the input an edit list was made for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputId {
    /// The input's file name (informational: a renamed file with the same content matches).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The length of its decoded audio.
    pub duration: Time,
    /// A hash of its content (computed by the caller, e.g. `sha256:…`).
    pub fingerprint: String,
}

impl InputId {
    /// Whether `o` is the same content (size and fingerprint; the name may differ).
    pub fn same_content(&self, o: &InputId) -> bool {
        self.size == o.size && self.fingerprint == o.fingerprint
    }
}

/// What a line of the list stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LineKind {
    /// The words `first..end` of [`Stored::words`].
    Words {
        /// The first word's index.
        #[serde(rename = "first_word")]
        first: usize,
        /// One past the last word's index.
        #[serde(rename = "end_word")]
        end: usize,
    },
    /// A pause between words (or before the first, after the last).
    Pause,
}

/// One line of the list: the time it covers and what it stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The time the line covers (its anchor).
    #[serde(flatten)]
    pub span: Span,
    /// Words or a pause.
    #[serde(flatten)]
    pub kind: LineKind,
    /// A pause line that holds sound (speech found, no words heard): shown as such.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sound: bool,
}

impl Line {
    /// The anchor as written: `00:12.34–00:15.67`.
    pub fn anchor(&self) -> String {
        format!("{}–{}", clock(self.span.start), clock(self.span.end))
    }
    fn key(&self) -> (i64, i64) {
        (centis(self.span.start), centis(self.span.end))
    }
}

/// What `review` stores beside the list (`NAME.edit.json`): the timed words, what the
/// detectors proposed, and the lines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    /// [`FORMAT`].
    pub format: String,
    /// The input it was made for.
    pub input: InputId,
    /// The pause that makes a line of its own (the cut's `min_silence`).
    pub pause: Time,
    /// The transcript, as the cut's captions use it.
    pub transcript: Transcript,
    /// Why each word of [`Stored::words`] is proposed for cutting (`None`: it stays).
    pub proposed: Vec<Option<Reason>>,
    /// The lines, in time order.
    pub lines: Vec<Line>,
}

/// The words of `t` in the order the edit list uses: by `(start, end)`, stable.
pub fn sorted_words(t: &Transcript) -> Vec<Word> {
    let mut w: Vec<Word> = t.words().cloned().collect();
    w.sort_by_key(|w| (w.start, w.end));
    w
}

impl Stored {
    /// The list for `transcript` of `input`, with the cuts `p`'s detectors propose.
    pub fn new(input: InputId, transcript: Transcript, p: &CutParams) -> Stored {
        let words = sorted_words(&transcript);
        let proposed = p.word_reasons(&words, &transcript.language);
        Stored::from_parts(input, transcript, proposed, p.min_silence)
    }

    /// The list with the proposals given (one per word of [`sorted_words`]).
    pub fn from_parts(
        input: InputId,
        transcript: Transcript,
        proposed: Vec<Option<Reason>>,
        pause: Time,
    ) -> Stored {
        let words = sorted_words(&transcript);
        let lines = layout(&words, &proposed, input.duration, pause);
        Stored {
            format: FORMAT.to_string(),
            input,
            pause,
            transcript,
            proposed,
            lines,
        }
    }

    /// Marks the pause lines that hold at least `min` of `speech` (sound no word was heard
    /// in: a cough, music, speech the recogniser missed), so the list does not call them
    /// pauses. Ticked, such a line is cut as silence is: its sound stays.
    pub fn mark_sound(&mut self, speech: &[Span], min: Time) {
        let speech = normalize(speech);
        for l in &mut self.lines {
            if l.kind == LineKind::Pause {
                l.sound = crate::time::total(&crate::time::intersection(&speech, &[l.span])) >= min;
            }
        }
    }

    /// The words the lines index, in [`sorted_words`] order.
    pub fn words(&self) -> Vec<Word> {
        sorted_words(&self.transcript)
    }

    /// What the detectors proposed, as a decision.
    pub fn proposal(&self) -> State {
        State {
            cut: self.proposed.clone(),
            kept_pauses: Vec::new(),
        }
    }

    /// Why this stored list cannot be used (another format, indices out of range).
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("made by another version ({:?})", self.format));
        }
        let n = self.words().len();
        if self.proposed.len() != n {
            return Err(format!("{} proposals for {n} words", self.proposed.len()));
        }
        for l in &self.lines {
            if let LineKind::Words { first, end } = l.kind {
                if first >= end || end > n {
                    return Err(format!(
                        "line {} names words outside the transcript",
                        l.anchor()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What is cut: a reason for each word of [`Stored::words`] (`None`: it stays), and the
/// pauses kept whole.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// Why each word goes.
    pub cut: Vec<Option<Reason>>,
    /// Pause lines that were unticked: kept whole.
    pub kept_pauses: Vec<Span>,
}

/// A line of the edited file that was not taken as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The line number in the file (1-based).
    pub line: usize,
    /// What was ignored.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The decisions an edited list makes, and what in it was ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct Decisions {
    /// What is cut.
    pub state: State,
    /// One per line that had something ignored.
    pub warnings: Vec<Warning>,
}

/// Why a file is not an edit list subcut can read.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    /// No header.
    #[error("not a subcut edit list (it should begin with `<!-- {FORMAT}`)")]
    NotAnEditList,
    /// Another version's header.
    #[error("an edit list of another version ({0:?}; this subcut reads {FORMAT:?})")]
    Version(String),
    /// A header field is missing or wrong.
    #[error("the header's {0} is missing or not valid")]
    Header(&'static str),
}

/// The header of an edit list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The input it was made for.
    pub input: InputId,
    /// The stored transcript's file name, relative to the list.
    pub transcript: String,
}

/// A list item of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Its line number (1-based).
    pub line_no: usize,
    /// The box: `Some(true)` ticked, `Some(false)` not, `None` no box.
    pub ticked: Option<bool>,
    /// The text after the box, before the anchor comment.
    pub text: String,
    /// The anchor in centiseconds, if it could be read.
    pub anchor: Option<(i64, i64)>,
}

/// An edit list as read: its header and its list items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The header.
    pub header: Header,
    /// The list items, in file order.
    pub items: Vec<Item>,
}

/// `t` in centiseconds, rounded.
fn centis(t: Time) -> i64 {
    (t.as_micros().max(0) + 5_000) / 10_000
}

/// `mm:ss.cc`, or `h:mm:ss.cc` from an hour on.
pub fn clock(t: Time) -> String {
    let cs = centis(t);
    let (h, m, s, c) = (cs / 360_000, cs / 6_000 % 60, cs / 100 % 60, cs % 100);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{c:02}")
    } else {
        format!("{m:02}:{s:02}.{c:02}")
    }
}

/// Reads `[h:]mm:ss[.cc]` into centiseconds.
fn parse_clock(s: &str) -> Option<i64> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if frac.len() > 3 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut total: i64 = 0;
    let parts: Vec<&str> = whole.split(':').collect();
    if parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    for p in &parts {
        total = total.checked_mul(60)?.checked_add(p.parse::<i64>().ok()?)?;
    }
    let frac_cs = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        2 => frac.parse::<i64>().ok()?,
        _ => (frac.parse::<i64>().ok()? + 5) / 10,
    };
    total.checked_mul(100)?.checked_add(frac_cs)
}

/// The anchor at the start of a line's comment: `00:12.34–00:15.67`.
fn parse_anchor(comment: &str) -> Option<(i64, i64)> {
    let first = comment.split_whitespace().next()?;
    let mut it = first.split(['–', '—', '-']);
    let a = parse_clock(it.next()?)?;
    let b = parse_clock(it.next()?)?;
    it.next().is_none().then_some((a, b))
}

fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| "\"'”’)]」』".contains(c));
    t.ends_with(['.', '?', '!', '…', '。', '？', '！'])
}

/// The lines of the list for `words` (sorted) of a source of `duration`, with the cuts
/// `proposed` (one per word) and pauses of at least `pause` on lines of their own.
pub fn layout(
    words: &[Word],
    proposed: &[Option<Reason>],
    duration: Time,
    pause: Time,
) -> Vec<Line> {
    let pause = pause.max(Time(1));
    let mut lines = Vec::new();
    let pause_line = |lines: &mut Vec<Line>, a: Time, b: Time| {
        if b - a >= pause {
            lines.push(Line {
                span: Span::new(a, b),
                kind: LineKind::Pause,
                sound: false,
            });
        }
    };
    let Some(first) = words.first() else {
        pause_line(&mut lines, Time::ZERO, duration);
        return lines;
    };
    pause_line(&mut lines, Time::ZERO, first.start);
    let mut start = 0;
    let mut reach = first.end;
    for i in 0..words.len() {
        reach = reach.max(words[i].end);
        let next = words.get(i + 1);
        let gap = next.map(|n| n.start - reach);
        let ends =
            next.is_none() || ends_sentence(&words[i].text) || gap.is_some_and(|g| g >= pause);
        if ends {
            sentence_lines(&mut lines, words, proposed, start, i + 1);
            match next {
                Some(n) => pause_line(&mut lines, reach, n.start),
                None => pause_line(&mut lines, reach, duration),
            }
            start = i + 1;
        }
    }
    lines
}

/// The lines of the sentence `words[a..b]`: split when too long, runs of cut words apart.
fn sentence_lines(
    lines: &mut Vec<Line>,
    words: &[Word],
    proposed: &[Option<Reason>],
    a: usize,
    b: usize,
) {
    if b - a > MAX_LINE_WORDS {
        // At the longest gap (the first of equals).
        let mut best = a + 1;
        let mut best_gap = Time(i64::MIN);
        for i in a + 1..b {
            let g = words[i].start - words[i - 1].end;
            if g > best_gap {
                best_gap = g;
                best = i;
            }
        }
        sentence_lines(lines, words, proposed, a, best);
        sentence_lines(lines, words, proposed, best, b);
        return;
    }
    let cut = |i: usize| proposed.get(i).is_some_and(Option::is_some);
    let all_cut = (a..b).all(cut);
    let mut piece = a;
    let mut i = a;
    while i < b {
        if !cut(i) || all_cut {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < b && cut(i) {
            i += 1;
        }
        if i - run_start >= SPLIT_RUN {
            push_words(lines, words, piece, run_start);
            push_words(lines, words, run_start, i);
            piece = i;
        }
    }
    push_words(lines, words, piece, b);
}

fn push_words(lines: &mut Vec<Line>, words: &[Word], a: usize, b: usize) {
    if a >= b {
        return;
    }
    let end = words[a..b]
        .iter()
        .map(|w| w.end)
        .max()
        .unwrap_or(words[a].end);
    lines.push(Line {
        span: Span::new(words[a].start, end.max(words[a].start)),
        kind: LineKind::Words { first: a, end: b },
        sound: false,
    });
}

/// A word's text as the list writes it: nothing that reads as markup of the list.
fn shown(text: &str) -> String {
    text.trim()
        .replace("~~", "~")
        .replace("<!--", "<!-")
        .replace("-->", "->")
        .replace(['\n', '\r'], " ")
}

/// Whether a space goes between two pieces of text (not between CJK characters).
fn spaced(left: &str, right: &str) -> bool {
    !(left.chars().last().is_some_and(is_cjk) && right.chars().next().is_some_and(is_cjk))
}

fn comment_safe(s: &str) -> String {
    s.replace("-->", "->").replace(['\n', '\r'], " ")
}

/// The edit list for `s` in the state `state` (e.g. [`Stored::proposal`]), naming its stored
/// transcript `transcript_file` (relative to the list).
pub fn render(s: &Stored, transcript_file: &str, state: &State) -> String {
    let words = s.words();
    let id = &s.input;
    let name = comment_safe(&id.name);
    let mut out = format!(
        "<!-- {FORMAT}\ninput: {name}\nsize: {}\nduration: {:.6}\nfingerprint: {}\ntranscript: {}\n-->\n",
        id.size,
        id.duration.as_secs_f64(),
        comment_safe(&id.fingerprint),
        comment_safe(transcript_file),
    );
    out.push_str(&format!("# Edit list: {name}\n\n"));
    out.push_str(
        "One line per sentence; the proposed cuts are ticked. Tick a line ([x]) to cut it, untick it\n\
         ([ ]) to keep it. Delete words from a line to cut just those words; ~~struck~~ words are\n\
         cut (remove the ~~ to keep one). A deleted line is cut. Words you add or change are\n\
         ignored. Leave the times at the end of each line: they tie it to the recording.\n",
    );
    out.push_str(&format!(
        "Then render it: subcut cut {name} --edit {}\n\n",
        comment_safe(&format!(
            "{}.edit.md",
            transcript_file
                .strip_suffix(".edit.json")
                .unwrap_or(transcript_file)
        ))
    ));
    for l in &s.lines {
        match l.kind {
            LineKind::Pause => {
                let ticked = !state.kept_pauses.contains(&l.span);
                let (what, why) = match l.sound {
                    false => ("pause", "pause"),
                    true => (
                        "no words heard",
                        "pause with sound: ticked, only its silence is cut",
                    ),
                };
                out.push_str(&format!(
                    "- [{}] ({what} {:.2} s) <!-- {} · {why} -->\n",
                    if ticked { 'x' } else { ' ' },
                    l.span.duration().as_secs_f64(),
                    l.anchor()
                ));
            }
            LineKind::Words { first, end } => {
                let cut = |i: usize| state.cut.get(i).is_some_and(Option::is_some);
                let ticked = (first..end).all(cut);
                let mut text = String::new();
                let mut prev = String::new();
                let mut reasons: Vec<String> = Vec::new();
                for (i, word) in words.iter().enumerate().take(end).skip(first) {
                    let w = shown(&word.text);
                    if let Some(r) = state.cut.get(i).and_then(Option::as_ref) {
                        let r = comment_safe(&r.to_string());
                        if !reasons.contains(&r) {
                            reasons.push(r);
                        }
                    }
                    if w.is_empty() {
                        continue;
                    }
                    let struck = !ticked && cut(i);
                    let open = struck && (i == first || !cut(i - 1));
                    let close = struck && (i + 1 == end || !cut(i + 1));
                    if !text.is_empty() && spaced(&prev, &w) {
                        text.push(' ');
                    }
                    if open {
                        text.push_str("~~");
                    }
                    text.push_str(&w);
                    if close {
                        text.push_str("~~");
                    }
                    prev = w;
                }
                let why = if reasons.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", reasons.join(", "))
                };
                out.push_str(&format!(
                    "- [{}] {text} <!-- {}{why} -->\n",
                    if ticked { 'x' } else { ' ' },
                    l.anchor()
                ));
            }
        }
    }
    out
}

/// Reads an edit list: its header and its list items (see the module doc for what is
/// accepted).
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let first = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .ok_or(ParseError::NotAnEditList)?;
    let head = lines[first].trim();
    let Some(format) = head.strip_prefix("<!--").map(str::trim) else {
        return Err(ParseError::NotAnEditList);
    };
    if !format.starts_with("subcut edit list") {
        return Err(ParseError::NotAnEditList);
    }
    if format != FORMAT {
        return Err(ParseError::Version(format.to_string()));
    }
    let mut fields = std::collections::BTreeMap::new();
    let mut body = lines.len();
    for (i, l) in lines.iter().enumerate().skip(first + 1) {
        if l.trim() == "-->" {
            body = i + 1;
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            fields.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    let field = |k: &'static str| fields.get(k).cloned().ok_or(ParseError::Header(k));
    let header = Header {
        input: InputId {
            name: field("input")?,
            size: field("size")?
                .parse()
                .map_err(|_| ParseError::Header("size"))?,
            duration: field("duration")?
                .parse::<f64>()
                .ok()
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map(Time::from_secs_f64)
                .ok_or(ParseError::Header("duration"))?,
            fingerprint: field("fingerprint")?,
        },
        transcript: field("transcript")?,
    };
    let items = lines
        .iter()
        .enumerate()
        .skip(body)
        .filter_map(|(i, l)| parse_item(i + 1, l))
        .collect();
    Ok(Parsed { header, items })
}

/// A list item (`- [x] text <!-- anchor -->`), or `None` for a line that is not one.
fn parse_item(line_no: usize, line: &str) -> Option<Item> {
    let t = line.trim_start();
    let mut chars = t.chars();
    let marker = chars.next()?;
    if !matches!(marker, '-' | '*' | '+') {
        return None;
    }
    let rest = chars.as_str();
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let (ticked, rest) = match checkbox(rest) {
        Some((t, r)) => (Some(t), r),
        None => (None, rest),
    };
    let (text, anchor) = match rest.rfind("<!--") {
        Some(i) => {
            let comment = &rest[i + 4..];
            let comment = comment.split("-->").next().unwrap_or(comment);
            (&rest[..i], parse_anchor(comment))
        }
        None => (rest, None),
    };
    Some(Item {
        line_no,
        ticked,
        text: text.trim().to_string(),
        anchor,
    })
}

/// `[ ]`, `[]` → false; `[x]`, `[ X ]`, `[✓]` (one mark) → true; with the rest of the line.
fn checkbox(s: &str) -> Option<(bool, &str)> {
    let inner = s.strip_prefix('[')?;
    let close = inner.find(']')?;
    let mark: Vec<char> = inner[..close]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if mark.len() > 1 || inner[..close].chars().count() > 5 {
        return None;
    }
    Some((!mark.is_empty(), &inner[close + 1..]))
}

/// The tokens of an edited line, each with whether it is `~~struck~~` (an unmatched `~~`
/// is dropped, its text kept).
fn edited_tokens(text: &str) -> Vec<(String, bool)> {
    let parts: Vec<&str> = text.split("~~").collect();
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        // Between the (i)th and (i+1)th "~~", when both exist and pair up.
        let struck = i % 2 == 1 && i + 1 < parts.len();
        out.extend(tokens(p).into_iter().map(|t| (t, struck)));
    }
    out
}

/// The tokens words are compared by: runs of letters and digits, lowercased; each CJK
/// character its own token.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in text.split_whitespace() {
        let mut run = String::new();
        for c in piece.chars() {
            if is_cjk_letter(c) {
                if !run.is_empty() {
                    out.push(std::mem::take(&mut run));
                }
                out.push(c.to_string());
            } else if c.is_alphanumeric() {
                run.extend(c.to_lowercase());
            }
        }
        if !run.is_empty() {
            out.push(run);
        }
    }
    out
}

/// Whether `b` reads as a misspelling of `a` (Latin words only: within a third of the
/// length by edit distance).
fn similar(a: &str, b: &str) -> bool {
    if a.chars().chain(b.chars()).any(is_cjk_letter) {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let limit = (a.len().max(b.len()) / 3).max(1);
    if a.len().abs_diff(b.len()) > limit {
        return false;
    }
    // Edit distance with transpositions ("frist" is one step from "first").
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let mut v = (d[(i - 1) * w + j - 1] + usize::from(a[i - 1] != b[j - 1]))
                    .min(d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(d[(i - 2) * w + j - 2] + 1);
                }
                v
            };
        }
    }
    d[a.len() * w + b.len()] <= limit
}

/// Aligns the line's word texts with the edited text: which words stay (any of their tokens
/// found, not struck), and the edited tokens that were ignored (added, or changed from a
/// word). Where a deletion and a match cost the same (a word said twice, one copy deleted),
/// the earlier copy is the one deleted.
fn align_line(texts: &[String], edited: &str) -> (Vec<bool>, Vec<String>) {
    let mut a: Vec<(String, usize)> = Vec::new();
    for (k, t) in texts.iter().enumerate() {
        a.extend(tokens(t).into_iter().map(|s| (s, k)));
    }
    let b = edited_tokens(edited);
    let (n, m) = (a.len(), b.len());
    // d[i][j]: the cost of aligning a[i..] with b[j..].
    let w = m + 1;
    let mut d = vec![0u32; (n + 1) * w];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            d[i * w + j] = if i == n {
                (m - j) as u32
            } else if j == m {
                (n - i) as u32
            } else {
                let mut best = d[(i + 1) * w + j].min(d[i * w + j + 1]) + 1;
                if a[i].0 == b[j].0 {
                    best = best.min(d[(i + 1) * w + j + 1]);
                } else if similar(&a[i].0, &b[j].0) {
                    best = best.min(d[(i + 1) * w + j + 1] + 1);
                }
                best
            };
        }
    }
    // Per token of the line: found in the edited text, not struck.
    let mut found = vec![false; n];
    let mut ignored = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        let here = d[i * w + j];
        if i < n && here == d[(i + 1) * w + j] + 1 {
            i += 1; // deleted
            continue;
        }
        if i < n && j < m {
            let eq = a[i].0 == b[j].0;
            let sub = !eq && similar(&a[i].0, &b[j].0);
            if (eq && here == d[(i + 1) * w + j + 1]) || (sub && here == d[(i + 1) * w + j + 1] + 1)
            {
                found[i] = !b[j].1;
                if sub {
                    ignored.push(b[j].0.clone());
                }
                i += 1;
                j += 1;
                continue;
            }
        }
        ignored.push(b[j].0.clone()); // added
        j += 1;
    }
    let mut kept = vec![None; texts.len()];
    let mut partly: Vec<usize> = Vec::new();
    for (t, (_, k)) in a.iter().enumerate() {
        let was = kept[*k];
        kept[*k] = Some(was.unwrap_or(false) || found[t]);
        if was.is_some() && was != Some(found[t]) && !partly.contains(k) {
            partly.push(*k);
        }
    }
    // A word without letters follows the word before it (the first, the word after it).
    let mut out = vec![true; texts.len()];
    for k in 0..texts.len() {
        out[k] = match kept[k] {
            Some(v) => v,
            None if k > 0 => out[k - 1],
            None => kept.iter().flatten().next().copied().unwrap_or(true),
        };
    }
    for k in partly {
        if out[k] {
            ignored.push(texts[k].clone());
        }
    }
    (out, ignored)
}

fn mark_gap(as_proposed: &mut [bool], from: usize, to: usize, matched: &[Option<usize>]) {
    for j in from..to {
        if matched[j].is_none() {
            as_proposed[j] = true;
        }
    }
}

/// What the edited list `parsed` decides for the stored list `s` (whose words are `words`,
/// from [`Stored::words`]). Deterministic.
pub fn decide(s: &Stored, words: &[Word], parsed: &Parsed) -> Decisions {
    let mut warnings: Vec<Warning> = Vec::new();
    let warn =
        |w: &mut Vec<Warning>, line: usize, message: String| w.push(Warning { line, message });
    let keys: Vec<(i64, i64)> = s.lines.iter().map(Line::key).collect();
    let mut matched: Vec<Option<usize>> = vec![None; s.lines.len()];
    // Lines whose item was damaged (no box, no anchor): they keep the proposal.
    let mut as_proposed = vec![false; s.lines.len()];
    let mut pending_damage = false;
    let mut last: Option<usize> = None;
    let mut cursor = 0;
    for (idx, item) in parsed.items.iter().enumerate() {
        let (Some(_), Some(anchor)) = (item.ticked, item.anchor) else {
            warn(
                &mut warnings,
                item.line_no,
                "not a `- [ ] text <!-- times -->` line; that part of the list stays as proposed"
                    .into(),
            );
            pending_damage = true;
            continue;
        };
        let found = (cursor..keys.len())
            .chain(0..cursor)
            .find(|&j| keys[j] == anchor && matched[j].is_none());
        let Some(j) = found else {
            let what = if keys.contains(&anchor) {
                "repeats the times of an earlier line; ignored"
            } else {
                "its times match no line of this list; ignored"
            };
            warn(&mut warnings, item.line_no, what.into());
            continue;
        };
        if pending_damage {
            let from = last.map_or(0, |l| l + 1);
            if j >= from {
                mark_gap(&mut as_proposed, from, j, &matched);
            }
            pending_damage = false;
        }
        matched[j] = Some(idx);
        last = Some(j);
        cursor = j + 1;
    }
    if pending_damage {
        let from = last.map_or(0, |l| l + 1);
        mark_gap(&mut as_proposed, from, s.lines.len(), &matched);
    }

    let mut state = State {
        cut: vec![None; words.len()],
        kept_pauses: Vec::new(),
    };
    let reason = |i: usize| s.proposed.get(i).cloned().flatten().unwrap_or(Reason::Edit);
    for (j, l) in s.lines.iter().enumerate() {
        let item = matched[j].map(|i| &parsed.items[i]);
        match l.kind {
            LineKind::Pause => {
                if item.is_some_and(|it| it.ticked == Some(false)) {
                    state.kept_pauses.push(l.span);
                }
            }
            LineKind::Words { first, end } => {
                let end = end.min(words.len());
                match item {
                    None if as_proposed[j] => {
                        for i in first..end {
                            state.cut[i] = s.proposed.get(i).cloned().flatten();
                        }
                    }
                    // Deleted, or ticked: every word goes.
                    None => (first..end).for_each(|i| state.cut[i] = Some(reason(i))),
                    Some(it) if it.ticked == Some(true) => {
                        (first..end).for_each(|i| state.cut[i] = Some(reason(i)))
                    }
                    Some(it) => {
                        let texts: Vec<String> =
                            words[first..end].iter().map(|w| shown(&w.text)).collect();
                        let (kept, ignored) = align_line(&texts, &it.text);
                        for (k, keep) in kept.into_iter().enumerate() {
                            if !keep {
                                state.cut[first + k] = Some(reason(first + k));
                            }
                        }
                        if !ignored.is_empty() {
                            let list: Vec<String> =
                                ignored.iter().map(|t| format!("{t:?}")).collect();
                            warn(
                                &mut warnings,
                                it.line_no,
                                format!(
                                    "words added or changed are ignored ({}); a word is cut only when deleted whole",
                                    list.join(", ")
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
    warnings.sort_by_key(|w| w.line);
    Decisions { state, warnings }
}

/// The cut `state` makes of `s`: its word cuts (with their reasons) and its kept pauses
/// (as speech) planned over `speech` with `p`'s silences, margins and frame grid
/// ([`plan_with_cuts`]).
pub fn plan_edit<G: Into<FrameGrid>>(
    duration: Time,
    speech: &[Span],
    words: &[Word],
    state: &State,
    p: &CutParams,
    grid: Option<G>,
) -> EditPlan {
    let cuts: Vec<Removed> = cuts_of_words(words, &state.cut);
    let speech = union(&normalize(speech), &normalize(&state.kept_pauses));
    plan_with_cuts(duration, &speech, words, cuts, p, grid)
}

#[cfg(test)]
mod tests;
