//! The model registry: where whisper.cpp ggml models live and which official files exist.
//!
//! A model is a single whisper.cpp ggml file named `ggml-NAME.bin` in the models directory
//! ([`models_dir`]: `$SUBCUT_MODELS`, else `$XDG_CACHE_HOME/subcut/models`, else
//! `~/.cache/subcut/models`). Everywhere a model is asked for, the user may give a NAME
//! (`base`, `tiny.en`, or the name of an imported model) or the PATH of a ggml file;
//! [`resolve`] turns either into a file, or into a one-line error that says how to get it.
//!
//! [`KNOWN`] lists the official files of the Hugging Face repository `ggerganov/whisper.cpp`
//! with their exact sizes and SHA-256 digests; [`super::download::pull`] fetches one of them.
//!
//! Everything that reads the environment is a thin wrapper ([`models_dir`], [`resolve`],
//! [`list`]) over a function that takes the directory explicitly, so the logic is tested
//! without touching process-wide state.

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use super::error::ModelError;

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
pub(super) fn suggest(name: &str, candidates: impl IntoIterator<Item = String>) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
