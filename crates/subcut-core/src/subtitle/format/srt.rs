//! SubRip (`.srt`): 1-based counters, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, blank-line separated.
//! `render` writes it (via srtlib, for [`super::render`]); [`parse`] reads it back
//! (`align --script`).

use srtlib::{Subtitle, Subtitles, Timestamp};

use super::read::{self, ParseError};
use crate::subtitle::Cue;
use crate::time::Time;

fn stamp(t: Time) -> Timestamp {
    let max = Timestamp::MAX_TIMESTAMP_MILLIS as i64;
    Timestamp::from_milliseconds(t.as_millis().clamp(0, max) as u32)
}

/// Renders cues (already sorted and non-overlapping) as an SRT document ending in a newline.
/// Cues that would round to zero length at millisecond precision are left out.
pub(crate) fn render(cues: &[Cue]) -> String {
    let subs: Vec<Subtitle> = cues
        .iter()
        .filter(|c| stamp(c.end) > stamp(c.start) && !c.text.trim().is_empty())
        .enumerate()
        .map(|(i, c)| {
            Subtitle::new(
                i + 1,
                stamp(c.start),
                stamp(c.end),
                c.text.trim().to_string(),
            )
        })
        .collect();
    if subs.is_empty() {
        return String::new();
    }
    format!("{}\n", Subtitles::new_from_vec(subs))
}

/// Reads an SRT document into cues, in file order, text as written (lines joined by `\n`).
/// A byte-order mark and Windows line ends are accepted; so are a missing cue number, `.`
/// before the milliseconds and coordinates after the end time. An error names the line.
pub fn parse(text: &str) -> Result<Vec<Cue>, ParseError> {
    const FORM: &str = "HH:MM:SS,mmm";
    let stamp = |s: &str| read::clock(s, &[',', '.'], false);
    let lines = read::lines(text);
    let mut cues = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (n, line) = lines[i];
        let line = line.trim();
        if line.is_empty() {
            i += 1;
            continue;
        }
        // A block: its number (optional), the timing line, the text up to a blank line.
        let (n, timing) = if !line.contains("-->") && line.bytes().all(|b| b.is_ascii_digit()) {
            match lines.get(i + 1) {
                Some(&(m, t)) if t.contains("-->") => {
                    i += 1;
                    (m, t.trim())
                }
                Some(&(m, t)) => {
                    return Err(read::error(
                        m,
                        format!(
                            "cue {line}: expected its timing line `{FORM} --> {FORM}`, found {t:?}"
                        ),
                    ))
                }
                None => return Err(read::error(n, format!("cue {line} has no timing line"))),
            }
        } else {
            (n, line)
        };
        let (start, end) = read::timing(timing, stamp, FORM).map_err(|e| read::error(n, e))?;
        i += 1;
        let mut text = Vec::new();
        while let Some(&(_, t)) = lines.get(i).filter(|(_, t)| !t.trim().is_empty()) {
            text.push(t.trim_end());
            i += 1;
        }
        cues.push(Cue {
            start,
            end,
            text: text.join("\n"),
        });
    }
    Ok(cues)
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
    fn renders_numbered_cues_with_millisecond_stamps() {
        let s = render(&[
            cue(800_000, 2_900_499, "Hello world."),
            cue(3_723_456_000, 3_725_000_000, "Two\nlines"),
        ]);
        assert_eq!(
            s,
            "1\n00:00:00,800 --> 00:00:02,900\nHello world.\n\n\
             2\n01:02:03,456 --> 01:02:05,000\nTwo\nlines\n"
        );
        // Round-trips through an SRT parser.
        let parsed = Subtitles::parse_from_str(s).unwrap().to_vec();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].text.trim_end(), "Two\nlines");
    }

    #[test]
    fn skips_cues_that_vanish_at_millisecond_precision() {
        let s = render(&[
            cue(1_000_000, 1_000_400, "blink"),
            cue(2_000_000, 3_000_000, "kept"),
        ]);
        assert!(
            s.starts_with("1\n00:00:02,000 --> 00:00:03,000\nkept"),
            "{s}"
        );
        assert_eq!(render(&[]), "");
    }

    #[test]
    fn parses_what_it_renders_and_windows_files() {
        let cues = [
            cue(800_000, 2_900_000, "Hello world."),
            cue(3_723_456_000, 3_725_000_000, "Two\nlines"),
        ];
        let parsed = parse(&render(&cues)).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            (parsed[0].start, parsed[0].end),
            (cues[0].start, cues[0].end)
        );
        assert_eq!(
            (parsed[1].start, parsed[1].end),
            (cues[1].start, cues[1].end)
        );
        assert_eq!(parsed[1].text.trim_end(), "Two\nlines");
        let crlf = "\u{feff}1\r\n00:00:01,000 --> 00:00:02,500\r\nHi\r\n";
        let parsed = parse(crlf).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].start, Time::from_millis(1_000));
        assert_eq!(parsed[0].end, Time::from_millis(2_500));
        assert_eq!(parsed[0].text.trim_end(), "Hi");
        assert!(parse("1\n00:00:01 --> nonsense\nHi\n").is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let doc =
            "1\n00:00:00,500 --> 00:00:02,000\nhello\n\n2\n00:00:03,000 --> 00:00:0x,000\nbad\n";
        let e = parse(doc).unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("bad end time \"00:00:0x,000\""), "{e}");
        let e = parse("1\nhello\n").unwrap_err();
        assert_eq!(
            (
                e.line,
                e.message.contains("cue 1: expected its timing line")
            ),
            (2, true),
            "{e}"
        );
        let e = parse("\n\nhello there\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = parse("1\n00:00:02,000 --> 00:00:01,000\nx\n").unwrap_err();
        assert!(e.message.contains("before it starts"), "{e}");
        assert_eq!(parse("7").unwrap_err().line, 1);
    }

    #[test]
    fn reads_what_srtlib_would_not() {
        // No numbers, '.' milliseconds, coordinates, extra blank lines, CR line ends.
        let doc = "\n\n00:00:01.000 --> 00:00:02,500 X1:1 X2:2\rone\rtwo\r\r\r\r3\r00:00:03,000 --> 00:00:04,000\rthree";
        let cues = parse(doc).unwrap();
        assert_eq!(cues.len(), 2);
        assert_eq!(cues[0].text, "one\ntwo");
        assert_eq!(cues[0].end, Time::from_millis(2_500));
        assert_eq!(cues[1].text, "three");
        assert!(parse("").unwrap().is_empty());
        assert!(parse("\u{feff}\r\n\n").unwrap().is_empty());
    }
}
