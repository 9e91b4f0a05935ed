//! What the subtitle readers ([`super::srt::parse`], [`super::vtt::parse`]) share: the error
//! that names a line, the lines of a document, and clock time stamps.

use std::fmt;

use crate::time::Time;

/// Why a subtitle file cannot be read, at which line (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line the reader stopped at, counted from 1.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

pub(crate) fn error(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// The document's lines with their 1-based numbers: a byte-order mark dropped, lines ended
/// by LF, CRLF or a lone CR.
pub(crate) fn lines(text: &str) -> Vec<(usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, next) = match rest.find(['\n', '\r']) {
            Some(i) => {
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                (&rest[..i], &rest[i + skip..])
            }
            None => (rest, ""),
        };
        out.push((out.len() + 1, line));
        rest = next;
    }
    out
}

/// Most hours a time stamp may hold (about 11 years): more is a typo, not a subtitle.
const MAX_HOURS: u64 = 99_999;

/// A clock time stamp, `H…:MM:SS<sep>mmm`, or `MM:SS<sep>mmm` when `hours_optional`; `seps`
/// lists the characters accepted before the milliseconds. Minutes and seconds have two
/// digits below 60, milliseconds one to three digits. `None` when it is not one.
pub(crate) fn clock(s: &str, seps: &[char], hours_optional: bool) -> Option<Time> {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let (hms, ms) = s.split_once(|c| seps.contains(&c))?;
    if !digits(ms) || ms.len() > 3 {
        return None;
    }
    let parts: Vec<&str> = hms.split(':').collect();
    let (h, m, sec) = match parts[..] {
        [h, m, s] => (h, m, s),
        [m, s] if hours_optional => ("0", m, s),
        _ => return None,
    };
    if !digits(h) || h.len() > 5 || !digits(m) || m.len() != 2 || !digits(sec) || sec.len() != 2 {
        return None;
    }
    let (h, m, sec): (u64, u64, u64) = (h.parse().ok()?, m.parse().ok()?, sec.parse().ok()?);
    if h > MAX_HOURS || m >= 60 || sec >= 60 {
        return None;
    }
    // "5" is 500 ms, "05" 50 ms: the digits are a decimal fraction.
    let ms: u64 = ms.parse::<u64>().ok()? * 10u64.pow(3 - ms.len() as u32);
    let total = ((h * 60 + m) * 60 + sec) * 1000 + ms;
    Some(Time::from_millis(i64::try_from(total).ok()?))
}

/// `start --> end` (anything after `end` and a space, such as SRT coordinates or WebVTT cue
/// settings, is ignored): the two times, or what is wrong with the line.
pub(crate) fn timing(
    line: &str,
    parse: impl Fn(&str) -> Option<Time>,
    form: &str,
) -> Result<(Time, Time), String> {
    let (a, b) = line
        .split_once("-->")
        .ok_or_else(|| format!("expected a timing line `{form} --> {form}`, found {line:?}"))?;
    let a = a.trim();
    let b = b.trim_start();
    let b = b.split([' ', '\t']).next().unwrap_or("");
    let start = parse(a).ok_or_else(|| format!("bad start time {a:?} (expected {form})"))?;
    let end = parse(b).ok_or_else(|| format!("bad end time {b:?} (expected {form})"))?;
    if end < start {
        return Err(format!("the cue ends ({b}) before it starts ({a})"));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_whatever_ends_them() {
        assert_eq!(
            lines("\u{feff}a\r\nb\rc\n\nd"),
            [(1, "a"), (2, "b"), (3, "c"), (4, ""), (5, "d")]
        );
        assert!(lines("").is_empty());
    }

    #[test]
    fn clock_stamps() {
        let ms = |s: &str| clock(s, &[',', '.'], false).map(Time::as_millis);
        assert_eq!(ms("01:02:03,456"), Some(3_723_456));
        assert_eq!(ms("00:00:01.5"), Some(1_500));
        assert_eq!(ms("100:00:00,000"), Some(360_000_000));
        for bad in [
            "",
            "1:2:3,4",
            "00:60:00,000",
            "00:00:60,000",
            "00:00:00,0000",
            "00:00:00",
            "-1:00:00,000",
            "00:00,000",
            "999999:00:00,000",
            "00:00:00,+1",
            "٠٠:00:00,000",
        ] {
            assert_eq!(ms(bad), None, "{bad:?}");
        }
        assert_eq!(
            clock("02:03.456", &['.'], true).map(Time::as_millis),
            Some(123_456)
        );
    }

    #[test]
    fn timing_lines() {
        let p = |s: &str| clock(s, &[','], false);
        let t = timing("00:00:01,000 --> 00:00:02,000 X1:10", p, "HH:MM:SS,mmm").unwrap();
        assert_eq!((t.0.as_millis(), t.1.as_millis()), (1_000, 2_000));
        let e = timing("00:00:02,000 --> 00:00:01,000", p, "HH:MM:SS,mmm").unwrap_err();
        assert!(e.contains("ends"), "{e}");
        let e = timing("00:00:0x,000 --> 00:00:01,000", p, "HH:MM:SS,mmm").unwrap_err();
        assert!(e.contains("bad start time \"00:00:0x,000\""), "{e}");
        assert!(timing("hello", p, "HH:MM:SS,mmm").is_err());
    }
}
