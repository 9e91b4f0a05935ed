//! subcut's integration tests: one test binary (one link of whisper.cpp and FFmpeg), one
//! module per area, the shared helpers in [`util`].
//!
//! | module | what it checks |
//! |---|---|
//! | [`adversarial`] | issue 18's corpus: inputs never destinations, colliding outputs, own outputs, symlink loops and broken links, FIFOs, disk full, read-only and unwritable folders, script errors, NaN samples |
//! | [`cli`] | the binary end to end with the real tiny.en model: captions, errors, batch, align, presets |
//! | [`crashes`] | issue 18's adversarial corpus: closed pipes, full devices, negative values, lying ggml headers, signals |
//! | [`cut`] | `subcut cut`: sync, kept speech, exports, timeline, dry runs, audio-only inputs |
//! | [`exports`] | every editor export read back by OpenTimelineIO's readers (FCPXML: exact rationals), with and without timecode |
//! | [`formats`] | every subtitle format read back by another tool (subtp, libass) |
//! | [`golden`] | every subtitle and export format byte for byte against `fixtures/golden/` |
//! | [`languages`] | issue 15: a mixed English/German clip keeps both languages, unheard speech is reported, bad `--language`/`--glossary` |
//! | [`quantize`] | `model import --quantize` against whisper.cpp's own quantizer |
//! | [`render`] | the cut renderer as a library, on media made on the fly; `render::smart`: copied GOPs, exact frames, Chromium playback, fallbacks, peak memory |
//! | [`reframe`] | issue 19: 9:16 and other aspects (crop, fit-blur, fit-pad), captions measured on the output frame, karaoke read by libass |
//! | [`review`] | `subcut review` → edit the list → `cut --edit` → heard again; the review page in headless Chromium; refused lists |
//! | [`retakes`] | an abandoned take cut (espeak-ng clip, tiny.en), `--retakes none`, `--max-pause` |
//! | [`watch`] | `subcut watch` on a temporary folder |
//!
//! Run one area with `cargo test --release --test it cut::`. A regression test is named after
//! what broke. Tests never skip: a missing model or tool fails with a message saying how to
//! install it (`scripts/setup.sh`).

mod adversarial;
mod cli;
mod crashes;
mod cut;
mod exports;
mod formats;
mod golden;
mod languages;
mod quantize;
mod reframe;
mod render;
mod retakes;
mod review;
mod util;
mod watch;
