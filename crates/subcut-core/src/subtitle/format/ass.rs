//! Advanced SubStation Alpha (`.ass`, "v4.00+"), the format libass renders (FFmpeg's
//! `subtitles` filter, mpv, VLC) and subtitle editors such as Aegisub read.
//!
//! A document has three sections: `[Script Info]` (the coordinate space `PlayResX` ×
//! `PlayResY` that sizes and margins refer to, smart wrapping, borders and shadows scaled
//! with the video), `[V4+ Styles]` with one `Default` style built from an [`AssStyle`], and
//! `[Events]` with one `Dialogue:` line per cue, times as `H:MM:SS.cc` (centiseconds).
//!
//! Cue text is plain text, never markup: line breaks become `\N`, and `{`/`}` are written
//! as libass's escapes `\{`/`\}`, so text can't open an override block (`{\c&HFF&}` shows
//! as typed). A backslash typed before `N`, `n` or `h` gets an invisible U+2060 WORD
//! JOINER after it so it is not read as a line break or hard space.
//!
//! Word-by-word emphasis ([`AssStyle::karaoke`]): each cue stays one `Dialogue:` event, its
//! words timed with ASS karaoke tags, `{\kNN}` before each word (NN centiseconds, from the
//! word's start to the next word's start; a leading `{\kNN}` with no text waits for the first
//! word). In ASS karaoke a word is drawn in the style's `SecondaryColour` until its time comes
//! and in `PrimaryColour` from then on, so with karaoke on the `Default` style's primary colour
//! is [`AssStyle::highlight_colour`] and its secondary colour is the text colour
//! ([`AssStyle::primary_colour`]): the word being spoken lights up, and the words said stay lit.
//! The words are those of the transcript whose middle falls in the cue, matched in order
//! against the cue's text; a cue whose text they do not spell out is written plain.
//!
//! [`AssStyle::fit_to`] rescales a style to another canvas (the frame the captions are burned
//! into), so its sizes keep their share of the frame's height whatever the input's size.
//!
//! Colours in an [`AssStyle`] are written the way people write them, `#RRGGBB` or
//! `#RRGGBBAA` (alpha `FF` = opaque, as in CSS), and converted to ASS's `&HAABBGGRR`, whose
//! alpha counts the other way (`00` = opaque).
//!
//! ```
//! use subcut_core::subtitle::format::ass::{ass_colour, AssStyle};
//! assert_eq!(ass_colour("#FF8000").unwrap(), "&H000080FF");
//! assert_eq!(ass_colour("#00000080").unwrap(), "&H7F000000");
//! assert!(AssStyle::default().validate().is_ok());
//! ```

use serde::{Deserialize, Serialize};

use crate::subtitle::Cue;
use crate::time::Time;
use crate::transcript::Word;

/// Where the subtitles sit on the frame (horizontally centred).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssPosition {
    /// At the bottom, `margin_v` above the edge (the default).
    #[default]
    Bottom,
    /// Centred vertically (`margin_v` does not apply).
    Middle,
    /// At the top, `margin_v` below the edge.
    Top,
}

impl AssPosition {
    /// The ASS `Alignment` code (numeric-keypad layout: 2 bottom, 5 middle, 8 top centre).
    fn numpad(self) -> u8 {
        match self {
            AssPosition::Bottom => 2,
            AssPosition::Middle => 5,
            AssPosition::Top => 8,
        }
    }
}

/// The look of ASS subtitles: the one `Default` style and the script's resolution.
/// Sizes, outline, shadow and margins are in script pixels (of `play_res_x` ×
/// `play_res_y`), which renderers scale to the video.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssStyle {
    /// Font family. Renderers find it through fontconfig and fall back to a font that has
    /// the glyphs when it is missing. The default, Noto Sans CJK SC (Debian's
    /// `fonts-noto-cjk`), covers Latin and Chinese text alike.
    pub font: String,
    /// Font size (line height) in script pixels.
    pub size: f32,
    /// Bold text.
    pub bold: bool,
    /// Text colour, `#RRGGBB` or `#RRGGBBAA`.
    pub primary_colour: String,
    /// Outline colour.
    pub outline_colour: String,
    /// Shadow colour.
    pub back_colour: String,
    /// Outline width in script pixels.
    pub outline: f32,
    /// Shadow depth in script pixels.
    pub shadow: f32,
    /// Vertical position: `bottom`, `middle` or `top`.
    pub alignment: AssPosition,
    /// Distance from the bottom (or top) edge.
    pub margin_v: u32,
    /// Distance from the left and right edges.
    pub margin_h: u32,
    /// Script width (`PlayResX`): the coordinate space's width.
    pub play_res_x: u32,
    /// Script height (`PlayResY`): the coordinate space's height.
    pub play_res_y: u32,
    /// Word-by-word emphasis: each word takes [`highlight_colour`](Self::highlight_colour)
    /// when it is spoken (ASS karaoke, `\k`; see the module docs).
    pub karaoke: bool,
    /// The colour of the spoken words when `karaoke` is on.
    pub highlight_colour: String,
}

impl Default for AssStyle {
    fn default() -> Self {
        AssStyle {
            font: "Noto Sans CJK SC".into(),
            size: 56.0,
            bold: false,
            primary_colour: "#FFFFFF".into(),
            outline_colour: "#000000".into(),
            back_colour: "#00000080".into(),
            outline: 3.0,
            shadow: 1.0,
            alignment: AssPosition::Bottom,
            margin_v: 60,
            margin_h: 80,
            play_res_x: 1920,
            play_res_y: 1080,
            karaoke: false,
            highlight_colour: "#FFD700".into(),
        }
    }
}

/// A bad value in an [`AssStyle`]; the message names the field.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AssStyleError {
    /// `font` is blank or holds a comma or control character (the name given).
    #[error("font must be a font family name, without commas or control characters (got {0:?})")]
    Font(String),
    /// A colour that is not `#RRGGBB` or `#RRGGBBAA`.
    #[error("{field} must be a colour written #RRGGBB or #RRGGBBAA (got {value:?})")]
    Colour {
        /// The field's name (`primary_colour`).
        field: &'static str,
        /// The value as written.
        value: String,
    },
    /// A number outside its range, `min…max` inclusive.
    #[error("{field} must be {min}…{max} (got {value})")]
    OutOfRange {
        /// The field's name (`size`).
        field: &'static str,
        /// The value given.
        value: f64,
        /// The smallest value allowed.
        min: f64,
        /// The largest value allowed (for `size` and the margins, a share of the script size).
        max: f64,
    },
}

/// Largest script resolution accepted (either side).
const MAX_PLAY_RES: u32 = 16_384;

impl AssStyle {
    /// Checks every value; the first bad one (in field order) is the error.
    pub fn validate(&self) -> Result<(), AssStyleError> {
        match self.errors().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// One error per bad value, in field order (empty when the style is valid).
    fn errors(&self) -> Vec<AssStyleError> {
        let mut out = Vec::new();
        let range = |out: &mut Vec<AssStyleError>, field, value: f64, min: f64, max: f64| {
            if !(value.is_finite() && (min..=max).contains(&value)) {
                out.push(AssStyleError::OutOfRange {
                    field,
                    value,
                    min,
                    max,
                });
            }
        };
        // Limits that depend on the resolution use the largest one when it is itself bad,
        // so one bad value gives one error.
        let res = |v: u32| {
            if (16..=MAX_PLAY_RES).contains(&v) {
                v as f64
            } else {
                MAX_PLAY_RES as f64
            }
        };
        let (w, h) = (res(self.play_res_x), res(self.play_res_y));
        if self.font.trim().is_empty() || self.font.chars().any(|c| c == ',' || c.is_control()) {
            out.push(AssStyleError::Font(self.font.clone()));
        }
        range(&mut out, "size", self.size as f64, 1.0, h);
        for (field, value) in [
            ("primary_colour", &self.primary_colour),
            ("outline_colour", &self.outline_colour),
            ("back_colour", &self.back_colour),
            ("highlight_colour", &self.highlight_colour),
        ] {
            if ass_colour(value).is_none() {
                out.push(AssStyleError::Colour {
                    field,
                    value: value.clone(),
                });
            }
        }
        range(&mut out, "outline", self.outline as f64, 0.0, 100.0);
        range(&mut out, "shadow", self.shadow as f64, 0.0, 100.0);
        range(
            &mut out,
            "margin_v",
            self.margin_v as f64,
            0.0,
            (h / 2.0).floor(),
        );
        range(
            &mut out,
            "margin_h",
            self.margin_h as f64,
            0.0,
            (w / 4.0).floor(),
        );
        let max = MAX_PLAY_RES as f64;
        range(&mut out, "play_res_x", self.play_res_x as f64, 16.0, max);
        range(&mut out, "play_res_y", self.play_res_y as f64, 16.0, max);
        out
    }
}

impl AssStyle {
    /// This style on a `width` × `height` canvas (the frame it is drawn on): the script
    /// resolution becomes that size; the font size, outline, shadow and vertical margin
    /// keep their share of the height and the side margins their share of the width. So a
    /// style written for 1080 × 1920 gives the same picture on a 406 × 720 frame, and text is
    /// never stretched (the script's aspect ratio is the frame's).
    pub fn fit_to(&self, width: u32, height: u32) -> AssStyle {
        let (width, height) = (
            width.clamp(16, MAX_PLAY_RES),
            height.clamp(16, MAX_PLAY_RES),
        );
        let d = AssStyle::default();
        let res = |v: u32, fallback: u32| {
            if (16..=MAX_PLAY_RES).contains(&v) {
                v
            } else {
                fallback
            }
        };
        let sy = height as f64 / res(self.play_res_y, d.play_res_y) as f64;
        let sx = width as f64 / res(self.play_res_x, d.play_res_x) as f64;
        // Two decimals are plenty for script pixels and keep the Style line short.
        let scale = |v: f32, s: f64| ((v as f64 * s * 100.0).round() / 100.0) as f32;
        AssStyle {
            size: scale(self.size, sy).clamp(1.0, height as f32),
            outline: scale(self.outline, sy),
            shadow: scale(self.shadow, sy),
            margin_v: ((self.margin_v as f64 * sy).round() as u32).min(height / 2),
            margin_h: ((self.margin_h as f64 * sx).round() as u32).min(width / 4),
            play_res_x: width,
            play_res_y: height,
            ..self.clone()
        }
    }
}

impl AssStyle {
    /// About how many characters fit on one line between the side margins, counted as the
    /// subtitle rules count them (for CJK text a CJK character is 1, a half-width one ½):
    /// the room divided by an average advance of 0.42 × the font size for Latin text and
    /// 0.72 × for CJK characters (Noto Sans CJK, bold, measured with libass: 0.38 and 0.69).
    /// Renderers wrap a longer line rather than clip it; this keeps it to the lines asked for.
    pub fn line_chars_that_fit(&self, cjk: bool) -> f32 {
        let room = self.play_res_x.saturating_sub(2 * self.margin_h) as f32;
        let advance = self.size.max(1.0) * if cjk { 0.72 } else { 0.42 };
        (room / advance).floor().clamp(4.0, 200.0)
    }
}

/// A font name as it can stand in a `Style:` line: no commas (the field separator), no
/// control characters, trimmed.
fn clean_font(name: &str) -> String {
    name.chars()
        .filter(|c| *c != ',' && !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

/// `#RRGGBB` or `#RRGGBBAA` (alpha `FF` = opaque) as ASS `&HAABBGGRR` (alpha `00` =
/// opaque); `None` for anything else.
pub fn ass_colour(s: &str) -> Option<String> {
    let hex = s.strip_prefix('#')?;
    if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    let (r, g, b) = (byte(0)?, byte(2)?, byte(4)?);
    let a = if hex.len() == 8 { byte(6)? } else { 0xFF };
    Some(format!("&H{:02X}{b:02X}{g:02X}{r:02X}", 0xFF - a))
}

/// `H:MM:SS.cc`, rounded to the nearest centisecond (negative times clamped to zero).
fn stamp(t: Time) -> String {
    let cs = centis(t);
    let (h, rem) = (cs / 360_000, cs % 360_000);
    let (m, rem) = (rem / 6_000, rem % 6_000);
    let (s, cs) = (rem / 100, rem % 100);
    format!("{h}:{m:02}:{s:02}.{cs:02}")
}

fn centis(t: Time) -> i64 {
    (t.as_micros().max(0) + 5_000) / 10_000
}

/// Cue text as ASS event text: lines trimmed and joined by `\N`, blank lines and control
/// characters dropped, tabs made spaces, braces escaped, backslash sequences defused.
fn escape_text(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split(['\n', '\r']) {
        let chars: Vec<char> = line.trim().chars().collect();
        let mut out = String::with_capacity(line.len());
        for (i, &c) in chars.iter().enumerate() {
            match c {
                '{' => out.push_str("\\{"),
                '}' => out.push_str("\\}"),
                '\\' => {
                    out.push('\\');
                    if matches!(chars.get(i + 1), Some('N' | 'n' | 'h')) {
                        out.push('\u{2060}');
                    }
                }
                '\t' => out.push(' '),
                c if c.is_control() => {}
                c => out.push(c),
            }
        }
        let out = out.trim();
        if !out.is_empty() {
            lines.push(out.to_string());
        }
    }
    lines.join("\\N")
}

/// The `Style: Default,…` line. Values that don't validate fall back to the defaults.
fn style_line(st: &AssStyle) -> String {
    let d = AssStyle::default();
    let colour = |v: &str, fallback: &str| {
        ass_colour(v).unwrap_or_else(|| ass_colour(fallback).expect("default colours are valid"))
    };
    let font = match clean_font(&st.font) {
        f if f.is_empty() => d.font.clone(),
        f => f,
    };
    let text = colour(&st.primary_colour, &d.primary_colour);
    // ASS karaoke: SecondaryColour before a word's time, PrimaryColour from then on.
    let (primary, secondary) = if st.karaoke {
        (colour(&st.highlight_colour, &d.highlight_colour), text)
    } else {
        (text, "&H000000FF".to_string())
    };
    let num = |v: f32, fallback: f32| {
        if v.is_finite() && v >= 0.0 {
            v
        } else {
            fallback
        }
    };
    format!(
        "Style: Default,{font},{},{primary},{secondary},{},{},{},0,0,0,100,100,0,0,1,{},{},{},{},{},{},1",
        if st.size.is_finite() && st.size >= 1.0 {
            st.size
        } else {
            d.size
        },
        colour(&st.outline_colour, &d.outline_colour),
        colour(&st.back_colour, &d.back_colour),
        if st.bold { -1 } else { 0 },
        num(st.outline, d.outline),
        num(st.shadow, d.shadow),
        st.alignment.numpad(),
        st.margin_h,
        st.margin_h,
        st.margin_v,
    )
}

/// Renders cues (already sorted and non-overlapping) as an ASS script in `style`, titled
/// after `source`. Cues that would round to zero length at centisecond precision, or that
/// have no text, are left out. Without word times there is no karaoke: see [`render_words`].
pub fn render(cues: &[Cue], style: &AssStyle, source: &str) -> String {
    render_words(cues, &[], style, source)
}

/// [`render`], with the timed words the cues were made from (sorted by start), which
/// [`AssStyle::karaoke`] times each word's emphasis by.
pub fn render_words(cues: &[Cue], words: &[Word], style: &AssStyle, source: &str) -> String {
    let title: String = source
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let play = |v: u32, fallback: u32| {
        if (16..=MAX_PLAY_RES).contains(&v) {
            v
        } else {
            fallback
        }
    };
    let mut out = String::from("[Script Info]\n; Written by subcut\n");
    if !title.trim().is_empty() {
        out.push_str(&format!("Title: {}\n", title.trim()));
    }
    out.push_str(&format!(
        "ScriptType: v4.00+\nWrapStyle: 0\nScaledBorderAndShadow: yes\nYCbCr Matrix: None\n\
         PlayResX: {}\nPlayResY: {}\n\n",
        play(style.play_res_x, 1920),
        play(style.play_res_y, 1080)
    ));
    out.push_str(
        "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, \
         OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, \
         Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, \
         Encoding\n",
    );
    out.push_str(&style_line(style));
    out.push_str(
        "\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, \
         Effect, Text\n",
    );
    for c in cues {
        let plain = escape_text(&c.text);
        if plain.is_empty() || centis(c.end) <= centis(c.start) {
            continue;
        }
        let text = match style.karaoke {
            true => karaoke_text(c, words).unwrap_or(plain),
            false => plain,
        };
        out.push_str(&format!(
            "Dialogue: 0,{},{},Default,,0,0,0,,{text}\n",
            stamp(c.start),
            stamp(c.end)
        ));
    }
    out
}

/// The words of `words` (sorted by start) whose middle lies in the cue's span.
fn words_of<'a>(cue: &Cue, words: &'a [Word]) -> impl Iterator<Item = &'a Word> {
    let mid = |w: &Word| Time((w.start.0 + w.end.0) / 2);
    let (start, end) = (cue.start, cue.end);
    let first = words.partition_point(|w| w.end <= start);
    words[first..]
        .iter()
        .take_while(move |w| w.start < end)
        .filter(move |w| (start..end).contains(&mid(w)))
}

/// The cue's text with a `{\kNN}` tag before each word (see the module docs), or `None` when
/// the cue's words do not spell out its text (a cue made without word times).
fn karaoke_text(cue: &Cue, words: &[Word]) -> Option<String> {
    let cue_cs = centis(cue.end) - centis(cue.start);
    let mut rest = cue.text.as_str();
    // (separator before the word, the word, its start in centiseconds into the cue)
    let mut pieces: Vec<(&str, &str, i64)> = Vec::new();
    for w in words_of(cue, words) {
        let t = w.text.trim();
        let after_space = rest.trim_start();
        if t.is_empty() || !after_space.starts_with(t) {
            continue; // not in the cue's text (a word the segmenter dropped)
        }
        let sep = &rest[..rest.len() - after_space.len()];
        let at = (centis(w.start) - centis(cue.start)).clamp(0, cue_cs);
        let at = pieces.last().map_or(at, |p| at.max(p.2));
        pieces.push((sep, t, at));
        rest = &after_space[t.len()..];
    }
    if pieces.is_empty() || !rest.trim().is_empty() {
        return None;
    }
    let mut out = String::new();
    if pieces[0].2 > 0 {
        out.push_str(&format!("{{\\k{}}}", pieces[0].2));
    }
    for (i, &(sep, word, at)) in pieces.iter().enumerate() {
        let until = pieces.get(i + 1).map_or(cue_cs, |p| p.2);
        if i > 0 {
            out.push_str(if sep.contains(['\n', '\r']) {
                "\\N"
            } else if sep.is_empty() {
                ""
            } else {
                " "
            });
        }
        out.push_str(&format!("{{\\k{}}}{}", until - at, escape_text(word)));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(a: i64, b: i64, text: &str) -> Cue {
        Cue {
            start: Time::from_micros(a),
            end: Time::from_micros(b),
            text: text.into(),
        }
    }

    #[test]
    fn stamps_round_to_the_nearest_centisecond() {
        let t = |us: i64| stamp(Time::from_micros(us));
        assert_eq!(t(0), "0:00:00.00");
        assert_eq!(t(1_234_999), "0:00:01.23");
        assert_eq!(t(1_235_000), "0:00:01.24");
        assert_eq!(t(59_995_000), "0:01:00.00");
        assert_eq!(t(3_723_456_000), "1:02:03.46");
        assert_eq!(t(36_000_000_000), "10:00:00.00");
        assert_eq!(t(-20_000), "0:00:00.00");
    }

    #[test]
    fn colours_convert_to_ass_bgr_with_inverted_alpha() {
        assert_eq!(ass_colour("#FFFFFF").unwrap(), "&H00FFFFFF");
        assert_eq!(ass_colour("#ff8000").unwrap(), "&H000080FF");
        assert_eq!(ass_colour("#123456").unwrap(), "&H00563412");
        assert_eq!(ass_colour("#00000080").unwrap(), "&H7F000000");
        assert_eq!(ass_colour("#102030FF").unwrap(), "&H00302010");
        assert_eq!(ass_colour("#10203000").unwrap(), "&HFF302010");
        for bad in [
            "FFFFFF",
            "#FFF",
            "#GG0000",
            "#1234567",
            "#123456789",
            "",
            "#",
            "&H00FFFFFF",
            "#ＦＦＦＦＦＦ",
        ] {
            assert_eq!(ass_colour(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn text_cannot_inject_tags_or_break_the_line() {
        assert_eq!(escape_text("Hello\nworld"), r"Hello\Nworld");
        assert_eq!(escape_text(" a \n\n \r\n b\t c "), r"a\Nb  c");
        assert_eq!(
            escape_text(r"{\alpha&HFF&}hidden {\c&H0000FF&}"),
            r"\{\alpha&HFF&\}hidden \{\c&H0000FF&\}"
        );
        assert_eq!(
            escape_text(r"C:\New\hat\note \x \{"),
            "C:\\\u{2060}New\\\u{2060}hat\\\u{2060}note \\x \\\\{"
        );
        assert_eq!(escape_text("bell\u{7}"), "bell");
        assert_eq!(escape_text(" \n "), "");
    }

    #[test]
    fn cjk_text_passes_through() {
        let s = render(
            &[cue(0, 1_500_000, "今天天气很好，\n我们去公园。")],
            &AssStyle::default(),
            "中文.mp4",
        );
        assert!(s.contains("Title: 中文.mp4\n"), "{s}");
        assert!(
            s.ends_with(
                "Dialogue: 0,0:00:00.00,0:00:01.50,Default,,0,0,0,,今天天气很好，\\N我们去公园。\n"
            ),
            "{s}"
        );
    }

    #[test]
    fn renders_the_three_sections_with_the_default_style() {
        let s = render(
            &[
                cue(800_000, 2_904_999, "Hello world."),
                cue(1_000_000, 1_004_000, "blink"),
                cue(3_000_000, 4_000_000, "  "),
                cue(3_723_456_000, 3_725_000_000, "Two\nlines"),
            ],
            &AssStyle::default(),
            "talk\n.mp4",
        );
        let expected = "[Script Info]\n; Written by subcut\nTitle: talk .mp4\nScriptType: v4.00+\n\
            WrapStyle: 0\nScaledBorderAndShadow: yes\nYCbCr Matrix: None\nPlayResX: 1920\nPlayResY: 1080\n\n\
            [V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, \
            BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, \
            Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
            Style: Default,Noto Sans CJK SC,56,&H00FFFFFF,&H000000FF,&H00000000,&H7F000000,0,0,0,0,100,100,0,0,1,3,1,2,80,80,60,1\n\n\
            [Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n\
            Dialogue: 0,0:00:00.80,0:00:02.90,Default,,0,0,0,,Hello world.\n\
            Dialogue: 0,1:02:03.46,1:02:05.00,Default,,0,0,0,,Two\\Nlines\n";
        assert_eq!(s, expected);
        // The Format lines name as many fields as the lines under them hold.
        let fields = |prefix: &str| -> usize {
            s.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap()
                .split(',')
                .count()
        };
        assert_eq!(fields("Format: Name"), fields("Style: "));
        assert_eq!(fields("Format: Layer"), fields("Dialogue: "));
    }

    #[test]
    fn the_style_line_follows_the_style() {
        let st = AssStyle {
            font: "DejaVu Sans".into(),
            size: 40.5,
            bold: true,
            primary_colour: "#FFFF00".into(),
            outline_colour: "#202020C0".into(),
            back_colour: "#000000".into(),
            outline: 0.0,
            shadow: 2.5,
            alignment: AssPosition::Top,
            margin_v: 20,
            margin_h: 10,
            play_res_x: 1280,
            play_res_y: 720,
            ..AssStyle::default()
        };
        assert_eq!(st.validate(), Ok(()));
        let s = render(&[], &st, "");
        assert!(!s.contains("Title:"), "{s}");
        assert!(s.contains("PlayResX: 1280\nPlayResY: 720\n"), "{s}");
        assert!(
            s.contains("Style: Default,DejaVu Sans,40.5,&H0000FFFF,&H000000FF,&H3F202020,&H00000000,-1,0,0,0,100,100,0,0,1,0,2.5,8,10,10,20,1\n"),
            "{s}"
        );
        assert_eq!(AssPosition::Middle.numpad(), 5);
        // Invalid values never make an invalid script: they fall back to the defaults.
        let bad = AssStyle {
            font: ",".into(),
            primary_colour: "white".into(),
            size: f32::NAN,
            play_res_x: 0,
            ..AssStyle::default()
        };
        let s = render(&[], &bad, "x");
        assert!(s.contains("PlayResX: 1920\n"), "{s}");
        assert!(
            s.contains("Style: Default,Noto Sans CJK SC,56,&H00FFFFFF,"),
            "{s}"
        );
    }

    fn word(a: i64, b: i64, text: &str) -> Word {
        Word {
            text: text.into(),
            start: Time::from_millis(a),
            end: Time::from_millis(b),
            probability: 1.0,
        }
    }

    fn dialogues(s: &str) -> Vec<&str> {
        s.lines()
            .filter_map(|l| l.strip_prefix("Dialogue: "))
            .map(|l| l.splitn(10, ',').nth(9).unwrap())
            .collect()
    }

    #[test]
    fn karaoke_times_each_word_in_one_event_per_cue() {
        let style = AssStyle {
            karaoke: true,
            primary_colour: "#FFFFFF".into(),
            highlight_colour: "#FFD700".into(),
            ..AssStyle::default()
        };
        let words = [
            word(900, 1_200, "Hello"),
            word(1_200, 1_250, ","),
            word(1_400, 1_900, "big"),
            word(2_000, 2_600, "world."),
            // The next cue's words, and one of this cue's time the segmenter dropped.
            word(2_300, 2_350, "uh"),
            word(3_000, 3_500, "Next"),
            word(3_500, 3_900, "{one}"),
        ];
        let cues = [
            cue(800_000, 2_900_000, "Hello, big\nworld."),
            cue(3_000_000, 4_000_000, "Next {one}"),
        ];
        let s = render_words(&cues, &words, &style, "a.mp4");
        assert_eq!(
            dialogues(&s),
            [
                // 10 cs before the first word, then start-to-start durations; the last
                // word lasts to the cue's end.
                r"{\k10}{\k30}Hello{\k20}, {\k60}big\N{\k90}world.",
                r"{\k50}Next {\k50}\{one\}",
            ]
        );
        assert_eq!(s.matches("Dialogue:").count(), 2);
        // Karaoke semantics: SecondaryColour before a word is spoken, PrimaryColour after.
        assert!(
            s.contains("Style: Default,Noto Sans CJK SC,56,&H0000D7FF,&H00FFFFFF,"),
            "{s}"
        );
        // The durations add up to the cue's length.
        let total: i64 = dialogues(&s)[0]
            .split("{\\k")
            .skip(1)
            .map(|p| p.split('}').next().unwrap().parse::<i64>().unwrap())
            .sum();
        assert_eq!(total, 210);
    }

    #[test]
    fn karaoke_falls_back_to_plain_text_without_matching_words() {
        let style = AssStyle {
            karaoke: true,
            ..AssStyle::default()
        };
        let cues = [cue(0, 1_000_000, "Hello world")];
        // No words, words that spell something else, words that leave text over.
        for words in [
            vec![],
            vec![word(0, 500, "Goodbye"), word(500, 900, "world")],
            vec![word(0, 500, "Hello")],
        ] {
            let s = render_words(&cues, &words, &style, "");
            assert_eq!(dialogues(&s), ["Hello world"], "{words:?}");
        }
        // CJK text has no spaces between words.
        let cjk = [cue(0, 1_000_000, "你好世界")];
        let s = render_words(
            &cjk,
            &[word(0, 300, "你好"), word(300, 800, "世界")],
            &style,
            "",
        );
        assert_eq!(dialogues(&s), [r"{\k30}你好{\k70}世界"]);
        // Karaoke off: plain text and the usual colours even with words.
        let s = render_words(
            &cjk,
            &[word(0, 300, "你好"), word(300, 800, "世界")],
            &AssStyle::default(),
            "",
        );
        assert_eq!(dialogues(&s), ["你好世界"]);
        assert!(s.contains(",&H00FFFFFF,&H000000FF,"), "{s}");
    }

    #[test]
    fn fit_to_keeps_each_size_a_share_of_the_frame() {
        let shorts = AssStyle {
            size: 100.0,
            outline: 5.0,
            shadow: 0.0,
            margin_v: 520,
            margin_h: 162,
            play_res_x: 1080,
            play_res_y: 1920,
            ..AssStyle::default()
        };
        let f = shorts.fit_to(406, 720);
        assert_eq!((f.play_res_x, f.play_res_y), (406, 720));
        assert_eq!((f.size, f.outline, f.shadow), (37.5, 1.88, 0.0));
        assert_eq!((f.margin_v, f.margin_h), (195, 61));
        assert_eq!(f.validate(), Ok(()));
        assert_eq!(shorts.fit_to(1080, 1920), shorts);
        // The default style on a 720p frame: what libass drew for it before, unstretched.
        let d = AssStyle::default().fit_to(1280, 720);
        assert_eq!((d.size, d.margin_v, d.margin_h), (37.33, 40, 53));
        let s = render(&[], &d, "");
        assert!(s.contains("PlayResX: 1280\nPlayResY: 720\n"), "{s}");
        // Tiny or huge canvases stay in the valid range.
        assert_eq!(shorts.fit_to(2, 2).validate(), Ok(()));
        assert_eq!(shorts.fit_to(100_000, 100_000).play_res_y, MAX_PLAY_RES);
    }

    #[test]
    fn line_length_follows_the_frame_width() {
        let shorts = AssStyle {
            size: 100.0,
            margin_h: 162,
            play_res_x: 1080,
            play_res_y: 1920,
            ..AssStyle::default()
        };
        // The shorts layout keeps its 18 characters on any 9:16 frame…
        assert_eq!(shorts.line_chars_that_fit(false), 18.0);
        assert_eq!(shorts.fit_to(406, 720).line_chars_that_fit(false), 18.0);
        assert_eq!(shorts.line_chars_that_fit(true), 10.0);
        // …while a landscape layout (42 characters on 1920 × 1080) laid on a 9:16 frame has
        // room for about 23.
        let d = AssStyle::default();
        assert!(d.line_chars_that_fit(false) >= 42.0);
        assert_eq!(d.fit_to(406, 720).line_chars_that_fit(false), 23.0);
        // Never below the rules' minimum, whatever the margins.
        let tight = AssStyle {
            play_res_x: 100,
            margin_h: 25,
            ..AssStyle::default()
        };
        assert_eq!(tight.line_chars_that_fit(false), 4.0);
    }

    #[test]
    fn validation_names_each_bad_value() {
        assert_eq!(AssStyle::default().errors(), []);
        let bad = AssStyle {
            font: "Noto, Sans".into(),
            size: 0.0,
            primary_colour: "#FFF".into(),
            outline_colour: "#000000".into(),
            back_colour: "black".into(),
            outline: -1.0,
            shadow: f32::INFINITY,
            margin_v: 600,
            margin_h: 500,
            play_res_x: 1920,
            play_res_y: 1080,
            ..AssStyle::default()
        };
        let msgs: Vec<String> = bad.errors().iter().map(|e| e.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "font must be a font family name, without commas or control characters (got \"Noto, Sans\")",
                "size must be 1…1080 (got 0)",
                "primary_colour must be a colour written #RRGGBB or #RRGGBBAA (got \"#FFF\")",
                "back_colour must be a colour written #RRGGBB or #RRGGBBAA (got \"black\")",
                "outline must be 0…100 (got -1)",
                "shadow must be 0…100 (got inf)",
                "margin_v must be 0…540 (got 600)",
                "margin_h must be 0…480 (got 500)",
            ]
        );
        assert_eq!(bad.validate().unwrap_err().to_string(), msgs[0]);
        // A bad resolution is one error, not also one for each value measured against it.
        let res = AssStyle {
            play_res_y: 0,
            ..AssStyle::default()
        };
        assert_eq!(
            res.errors(),
            [AssStyleError::OutOfRange {
                field: "play_res_y",
                value: 0.0,
                min: 16.0,
                max: 16_384.0
            }]
        );
        assert!(AssStyle {
            font: " ".into(),
            ..AssStyle::default()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn style_is_serde_friendly_with_defaults_and_no_unknown_fields() {
        let st: AssStyle = serde_json::from_str(
            r##"{"font":"DejaVu Sans","size":48,"alignment":"top","primary_colour":"#FFFF00"}"##,
        )
        .unwrap();
        assert_eq!(
            st,
            AssStyle {
                font: "DejaVu Sans".into(),
                size: 48.0,
                alignment: AssPosition::Top,
                primary_colour: "#FFFF00".into(),
                ..AssStyle::default()
            }
        );
        let e = serde_json::from_str::<AssStyle>(r##"{"colour":"#FFFFFF"}"##).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        let e = serde_json::from_str::<AssStyle>(r#"{"alignment":"left"}"#).unwrap_err();
        assert!(e.to_string().contains("bottom"), "{e}");
        let back: AssStyle =
            serde_json::from_str(&serde_json::to_string(&AssStyle::default()).unwrap()).unwrap();
        assert_eq!(back, AssStyle::default());
        assert_eq!(
            serde_json::from_str::<AssStyle>("{}").unwrap(),
            AssStyle::default()
        );
    }
}
