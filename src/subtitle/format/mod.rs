//! Subtitle file formats. Each writer renders to a `String`; writing files is the caller's job.

pub mod json;
pub mod srt;

use std::fmt;
use std::str::FromStr;

/// An output format selectable with `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Srt,
    Json,
}

impl Format {
    pub const ALL: &'static [Format] = &[Format::Srt, Format::Json];

    /// The file extension, also the name used on the command line.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Srt => "srt",
            Format::Json => "json",
        }
    }

    /// Parses a comma-separated list such as `srt,json` (duplicates removed, order kept).
    pub fn parse_list(s: &str) -> Result<Vec<Format>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let f: Format = part.parse()?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        if out.is_empty() {
            return Err("no output format given".into());
        }
        Ok(out)
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.ext().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.ext()).collect();
                format!(
                    "unknown format \"{s}\" (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ext())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_format_lists() {
        assert_eq!(
            Format::parse_list("srt, JSON,srt").unwrap(),
            vec![Format::Srt, Format::Json]
        );
        assert!(Format::parse_list("srt,docx").unwrap_err().contains("docx"));
        assert!(Format::parse_list(",").is_err());
    }
}
