//! WebVTT (`.vtt`, W3C "WebVTT: The Web Video Text Tracks Format").
//!
//! The file is the `WEBVTT` line, a blank line, then one block per cue separated by blank
//! lines: a 1-based numeric identifier, `HH:MM:SS.mmm --> HH:MM:SS.mmm`, and one or two
//! lines of cue text. Cue text is escaped (`&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;`),
//! so it never holds markup, a `-->`, or a blank line (which would end the cue early).
//!
//! ```
//! use subcut_core::subtitle::{format::vtt, Cue};
//! use subcut_core::time::Time;
//! let cue = Cue { start: Time::from_millis(1_000), end: Time::from_millis(2_000), text: "a <b> & c".into() };
//! assert_eq!(vtt::render(&[cue]), "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\na &lt;b&gt; &amp; c\n");
//! ```
//!
//! [`parse`] reads a WebVTT file back (for `align --script`): its cues in file order, the
//! text without markup (`<b>`, `<v Name>`, `<00:01.000>` dropped, character references
//! decoded); `NOTE`, `STYLE` and `REGION` blocks are skipped, cue settings ignored.
//!
//! ```
//! use subcut_core::subtitle::format::vtt;
//! let cues = vtt::parse("WEBVTT\n\n00:01.000 --> 00:02.000 align:start\n<v Ann>Hi &amp; bye\n").unwrap();
//! assert_eq!(cues[0].text, "Hi & bye");
//! let e = vtt::parse("WEBVTT\n\n00:01.000 --> 00:0x.000\nHi\n").unwrap_err();
//! assert_eq!(e.to_string(), "line 3: bad end time \"00:0x.000\" (expected [HH:]MM:SS.mmm)");
//! ```

use super::read::{self, ParseError};
use crate::subtitle::Cue;
use crate::time::Time;

/// `HH:MM:SS.mmm` rounded to the nearest millisecond (hours grow past two digits when
/// needed, negative times are clamped to zero).
fn stamp(t: Time) -> String {
    t.clock('.')
}

/// Cue text as WebVTT cue text: each line (ended by LF or CR) trimmed and escaped, blank
/// lines and control characters dropped, tabs made spaces. Empty when nothing visible is left.
fn escape_text(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split(['\n', '\r']) {
        let mut out = String::with_capacity(line.len());
        for c in line.trim().chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
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
    lines.join("\n")
}

/// Renders cues (already sorted and non-overlapping) as a WebVTT document ending in a
/// newline. Cues that would round to zero length at millisecond precision, or that have no
/// text, are left out; identifiers count the cues written.
pub fn render(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    let mut n = 0;
    for c in cues {
        let text = escape_text(&c.text);
        let (start, end) = (c.start.as_millis().max(0), c.end.as_millis().max(0));
        if text.is_empty() || end <= start {
            continue;
        }
        n += 1;
        if n > 1 {
            out.push('\n');
        }
        out.push_str(&format!(
            "{n}\n{} --> {}\n{text}\n",
            stamp(c.start),
            stamp(c.end)
        ));
    }
    out
}

/// Reads a WebVTT document (see the module docs). An error names the line.
pub fn parse(text: &str) -> Result<Vec<Cue>, ParseError> {
    const FORM: &str = "[HH:]MM:SS.mmm";
    let stamp = |s: &str| read::clock(s, &['.'], true);
    let lines = read::lines(text);
    let first = lines.first().map_or("", |l| l.1);
    let signature = first
        .strip_prefix("WEBVTT")
        .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']));
    if !signature {
        return Err(read::error(
            1,
            format!("not a WebVTT file: it must start with a WEBVTT line, not {first:?}"),
        ));
    }
    // The header runs up to the first blank line.
    let mut i = lines
        .iter()
        .position(|l| l.1.trim().is_empty())
        .unwrap_or(lines.len());
    let mut cues = Vec::new();
    while i < lines.len() {
        if lines[i].1.trim().is_empty() {
            i += 1;
            continue;
        }
        let end = lines[i..]
            .iter()
            .position(|l| l.1.trim().is_empty())
            .map_or(lines.len(), |k| i + k);
        let block = &lines[i..end];
        i = end;
        let head = block[0].1;
        let keyword = |k: &str| {
            head.strip_prefix(k)
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
        };
        if keyword("NOTE") || keyword("STYLE") || keyword("REGION") {
            continue;
        }
        // An identifier line (optional), the timing line, the payload.
        let at = match block.iter().position(|l| l.1.contains("-->")) {
            Some(k) if k <= 1 => k,
            _ => {
                let (n, l) = block[usize::from(!head.contains("-->") && block.len() > 1)];
                return Err(read::error(
                    n,
                    format!("expected a timing line `{FORM} --> {FORM}`, found {l:?}"),
                ));
            }
        };
        let (n, timing) = block[at];
        let (start, end) =
            read::timing(timing.trim(), stamp, FORM).map_err(|e| read::error(n, e))?;
        let text: Vec<String> = block[at + 1..]
            .iter()
            .map(|l| cue_text(l.1))
            .filter(|t| !t.is_empty())
            .collect();
        cues.push(Cue {
            start,
            end,
            text: text.join("\n"),
        });
    }
    Ok(cues)
}

/// One line of cue text as plain text: tags dropped, character references decoded, trimmed.
fn cue_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => match rest.find('>') {
                Some(k) => rest = &rest[k + 1..],
                None => rest = "",
            },
            '&' => {
                let named = [
                    ("&amp;", "&"),
                    ("&lt;", "<"),
                    ("&gt;", ">"),
                    ("&nbsp;", " "),
                    ("&lrm;", "\u{200e}"),
                    ("&rlm;", "\u{200f}"),
                    ("&quot;", "\""),
                    ("&apos;", "'"),
                ];
                match named.iter().find(|(k, _)| rest.starts_with(k)) {
                    Some((k, v)) => {
                        out.push_str(v);
                        rest = &rest[k.len()..];
                    }
                    None => {
                        out.push('&');
                        rest = &rest[1..];
                    }
                }
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use subtp::vtt::{VttBlock, WebVtt};

    fn cue(a: i64, b: i64, text: &str) -> Cue {
        Cue {
            start: Time::from_micros(a),
            end: Time::from_micros(b),
            text: text.into(),
        }
    }

    /// (start ms, end ms, lines) of every cue, parsed by an independent WebVTT parser.
    fn parse(s: &str) -> Vec<(u64, u64, Vec<String>)> {
        let ms = |t: &subtp::vtt::VttTimestamp| {
            t.hours as u64 * 3_600_000
                + t.minutes as u64 * 60_000
                + t.seconds as u64 * 1_000
                + t.milliseconds as u64
        };
        WebVtt::parse(s)
            .unwrap_or_else(|e| panic!("not WebVTT ({e:?}):\n{s}"))
            .blocks
            .into_iter()
            .map(|b| match b {
                VttBlock::Que(c) => (ms(&c.timings.start), ms(&c.timings.end), c.payload),
                other => panic!("unexpected block {other:?}"),
            })
            .collect()
    }

    #[test]
    fn renders_numbered_cues_with_millisecond_stamps() {
        let s = render(&[
            cue(800_000, 2_900_499, "Hello world."),
            cue(3_723_456_000, 3_725_000_000, "Two\nlines"),
        ]);
        assert_eq!(
            s,
            "WEBVTT\n\n1\n00:00:00.800 --> 00:00:02.900\nHello world.\n\n\
             2\n01:02:03.456 --> 01:02:05.000\nTwo\nlines\n"
        );
        assert_eq!(
            parse(&s),
            [
                (800, 2_900, vec!["Hello world.".to_string()]),
                (3_723_456, 3_725_000, vec!["Two".into(), "lines".into()]),
            ]
        );
    }

    #[test]
    fn stamps_round_to_the_nearest_millisecond() {
        assert_eq!(stamp(Time::from_micros(1_499)), "00:00:00.001");
        assert_eq!(stamp(Time::from_micros(1_500)), "00:00:00.002");
        assert_eq!(stamp(Time::from_micros(59_999_600)), "00:01:00.000");
        assert_eq!(stamp(Time::from_micros(-3)), "00:00:00.000");
        assert_eq!(stamp(Time::from_millis(100 * 3_600_000)), "100:00:00.000");
    }

    #[test]
    fn text_is_escaped_and_cannot_break_the_cue() {
        let nasty = "a <b>bold</b> & c --> d\n\n   \nline\twith\u{7} tab  \r";
        assert_eq!(
            escape_text(nasty),
            "a &lt;b&gt;bold&lt;/b&gt; &amp; c --&gt; d\nline with tab"
        );
        let s = render(&[cue(0, 1_000_000, nasty), cue(1_000_000, 2_000_000, "next")]);
        assert_eq!(s.matches("-->").count(), 2, "only the timing lines: {s}");
        let parsed = parse(&s);
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            parsed[0].2,
            [
                "a &lt;b&gt;bold&lt;/b&gt; &amp; c --&gt; d",
                "line with tab"
            ]
        );
        assert_eq!(parsed[1].2, ["next"]);
    }

    #[test]
    fn cjk_text_passes_through() {
        let s = render(&[cue(0, 1_500_000, "今天天气很好，\n我们去公园。")]);
        assert_eq!(
            parse(&s),
            [(
                0,
                1_500,
                vec!["今天天气很好，".into(), "我们去公园。".into()]
            )]
        );
    }

    #[test]
    fn skips_empty_and_vanishing_cues_and_counts_the_rest() {
        let s = render(&[
            cue(1_000_000, 1_000_400, "blink"),
            cue(1_500_000, 1_800_000, " \n "),
            cue(2_000_000, 3_000_000, "kept"),
            cue(3_000_000, 4_000_000, "also"),
        ]);
        assert_eq!(
            s,
            "WEBVTT\n\n1\n00:00:02.000 --> 00:00:03.000\nkept\n\n\
             2\n00:00:03.000 --> 00:00:04.000\nalso\n"
        );
        assert_eq!(render(&[]), "WEBVTT\n\n");
        assert!(parse(&render(&[])).is_empty());
    }

    #[test]
    fn parses_what_it_renders() {
        let cues = [
            cue(800_000, 2_900_000, "Hello <world> & co."),
            cue(3_723_456_000, 3_725_000_000, "Two\nlines"),
        ];
        let back = super::parse(&render(&cues)).unwrap();
        assert_eq!(back.len(), 2);
        for (a, b) in cues.iter().zip(&back) {
            assert_eq!((a.start, a.end, &a.text), (b.start, b.end, &b.text));
        }
    }

    #[test]
    fn reads_players_files_and_skips_notes_styles_and_regions() {
        let doc = "\u{feff}WEBVTT - a title\r\nKind: captions\r\n\r\nNOTE made by hand\r\n-- not a cue\r\n\r\n\
                   STYLE\r\n::cue { color: red }\r\n\r\nREGION\r\nid:fred\r\n\r\n\
                   intro\r\n00:00.500 --> 00:01.250 line:0 position:20%\r\n<c.yellow>Hi</c> <i>there</i>\r\n\
                   <v Bob>&lt;3 &amp;&nbsp;more\r\n\r\n01:00:00.000 --> 01:00:01.000\r\nlate &unknown;\r\n";
        let cues = super::parse(doc).unwrap();
        assert_eq!(cues.len(), 2, "{cues:?}");
        assert_eq!(cues[0].start, Time::from_millis(500));
        assert_eq!(cues[0].end, Time::from_millis(1_250));
        assert_eq!(cues[0].text, "Hi there\n<3 & more");
        assert_eq!(cues[1].start, Time::from_millis(3_600_000));
        assert_eq!(cues[1].text, "late &unknown;");
        assert!(super::parse("WEBVTT\n").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_line() {
        let e = super::parse("1\n00:00:01,000 --> 00:00:02,000\nHi\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("WEBVTT"), "{e}");
        assert!(super::parse("WEBVTTX\n").is_err());
        let e = super::parse("WEBVTT\n\nid\nHi there\n").unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        let e = super::parse("WEBVTT\n\n00:01.000 --> 00:00.500\nHi\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("before it starts"), "{e}");
        // SRT's comma is not WebVTT.
        let e = super::parse("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nHi\n").unwrap_err();
        assert!(e.message.contains("bad start time"), "{e}");
    }
}
