//! Model tooling: where whisper.cpp models live and how they are found (`registry`),
//! fetched (`download`) and made from CTranslate2 (faster-whisper) weights (`ct2` reads
//! them, `ggml_write` writes the ggml file, with `quantize` and `mel`); and the ggml file
//! itself (`ggml_file`: its layout and the one reader that checks it).
//!
//! ```text
//! registry  models_dir · KNOWN · resolve NAME|PATH · list
//! download  pull: Range resume, size + SHA-256, atomic rename; progress to the caller
//! ct2 ──▶ ggml_write (+ quantize, mel) ──▶ ggml-NAME.bin ──▶ ggml_file::read_header ──▶ engine
//! error     ModelError (registry, download) · ImportError (ct2, ggml_write) · GgmlError
//! ```
//!
//! Nothing here knows the engine: [`crate::asr::whisper`] checks a model with
//! [`read_header`] before whisper.cpp loads it.

pub(crate) mod ct2;
pub(crate) mod download;
pub(crate) mod error;
pub(crate) mod ggml_file;
pub(crate) mod ggml_write;
pub(crate) mod mel;
pub(crate) mod quantize;
pub(crate) mod registry;

pub(crate) use download::{pull, PullOptions, PullProgress};
pub use error::GgmlError;
pub use ggml_file::{read_header, GgmlHeader};
pub(crate) use ggml_write::import_ct2;
pub(crate) use quantize::Quantization;
pub(crate) use registry::{list, models_dir, resolve};
