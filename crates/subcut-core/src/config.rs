//! What the stages' settings structs ([`CutParams`](crate::edit::CutParams),
//! [`SegmentRules`](crate::subtitle::SegmentRules), [`FillerSet`](crate::edit::FillerSet),
//! the preset's `Caption`) say when a value cannot be used.
//!
//! It lives in the core crate, not with the presets, so that the stages need not know about
//! presets: a preset names the bad key `section.field` (`cut.min_silence`) from the stage's
//! `field` and the table it read the stage from.

/// A settings value that cannot be used: which field, and why.
///
/// Display is the message alone. By convention it reads as a sentence about the field and
/// starts with its name (`max_lines must be 1…4 (got 0)`), so it stands on its own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidField {
    /// The field's name as written in a preset table (`min_silence`).
    pub field: &'static str,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl InvalidField {
    /// A field's error: `field` as written in a preset table, `message` the sentence.
    pub fn new(field: &'static str, message: impl Into<String>) -> InvalidField {
        InvalidField {
            field,
            message: message.into(),
        }
    }
}
