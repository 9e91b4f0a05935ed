//! Subtitle cues: from a transcript's timed words to timed lines of text, and their file formats.
//!
//! A [`Cue`] is what a viewer sees at once: up to two lines of text shown during a
//! half-open span. [`segment::segment`] turns a transcript's timed words into cues under
//! the readability rules ([`segment::SegmentRules`], line breaking in `layout`, Chinese
//! punctuation in [`punctuation`]); [`zh`] converts Chinese to Simplified characters.
//! Every cue list is valid in every format: non-empty cues, sorted, never overlapping.

pub mod align;
pub mod format;
mod layout;
pub mod punctuation;
pub mod segment;
pub mod zh;

use serde::{Deserialize, Serialize};

use crate::time::{Span, Time};

pub use segment::{segment, SegmentRules};

/// One caption on screen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    /// When the cue appears.
    pub start: Time,
    /// When it disappears (exclusive).
    pub end: Time,
    /// One or two lines, joined by `\n`.
    pub text: String,
}

impl Cue {
    /// `[start, end)`: when the cue is on screen.
    pub fn span(&self) -> Span {
        Span::new(self.start, self.end)
    }
}
