//! subcut's pure core: everything about timing that can be computed without FFmpeg, whisper.cpp
//! or the file system. The `subcut` crate decodes, transcribes, renders and writes files; this
//! crate holds the plain data and the functions over it, and its tests build in seconds
//! (`cargo test -p subcut-core`), without the media and speech engines.
//!
//! ```text
//! analysis (16 kHz samples → loudness → speech spans)
//! transcript (timed words) ─▶ subtitle (cues, readability rules, SRT/VTT/ASS/JSON/TXT)
//!                          ─▶ edit (what to keep: EditPlan, TimeMap, cuts, exports)
//! placement (words ↔ speech spans: which side of a pause each word is on)
//! time (Time, Span, span-set algebra) under all of them; config (InvalidField) for settings
//! ```
//!
//! The crate has no I/O dependencies on purpose (the rule alass keeps for its core): if a
//! change here needs FFmpeg, whisper or the file system, it belongs in `subcut`, which
//! re-exports these modules under the same names (`subcut::time`, `subcut::edit`, …).

#![warn(missing_docs)]

pub mod analysis;
pub mod config;
pub mod edit;
pub mod glossary;
pub mod placement;
pub mod subtitle;
pub mod time;
pub mod transcript;

/// A seeded random number generator for invariant tests (this crate's and `subcut`'s).
#[doc(hidden)]
pub mod testutil;
