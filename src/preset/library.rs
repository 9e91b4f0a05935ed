//! Where presets come from and how one is loaded: the shipped files ([`SHIPPED`]), the user
//! directory ([`user_dir_from_env`]), lookup by name or path ([`Library::find`]), and the
//! `base` chain merged under a file ([`Library::load`]).

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use super::diagnostics::{
    check_keys, did_you_mean, key_line, key_path_at, line_of, plain_serde_message, Location,
    PresetError,
};
use super::schema::Preset;

/// The presets shipped with subcut: name and file text.
pub(super) const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../presets/default.toml")),
    ("lecture", include_str!("../../presets/lecture.toml")),
    ("podcast", include_str!("../../presets/podcast.toml")),
    ("shorts", include_str!("../../presets/shorts.toml")),
    ("youtube", include_str!("../../presets/youtube.toml")),
    (
        "zh-talking-head",
        include_str!("../../presets/zh-talking-head.toml"),
    ),
];

/// Environment variable naming the user presets directory (overrides the XDG location).
const PRESETS_DIR_ENV: &str = "SUBCUT_PRESETS_DIR";

/// Base presets nest at most this deep.
const MAX_BASE_DEPTH: usize = 8;

/// Where a preset was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Embedded in the binary (`presets/NAME.toml`).
    Shipped,
    /// A user preset file, or a file given by path.
    User(PathBuf),
}

/// One entry of `subcut presets list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PresetInfo {
    pub name: String,
    pub description: String,
    pub origin: Origin,
    /// A user preset that replaces the shipped one of the same name.
    pub overrides_shipped: bool,
    /// Why the preset cannot be loaded, if it cannot (it is still listed).
    pub problem: Option<String>,
}

/// A preset file's text and where it came from.
pub(super) struct Found {
    /// The name it is known by (`None` for a file given by path).
    pub(super) name: Option<String>,
    pub(super) origin: Origin,
    /// The file as named in messages.
    label: String,
    text: String,
}

/// The presets available: shipped ones and those in a user directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Library {
    user_dir: Option<PathBuf>,
}

impl Library {
    /// Shipped presets and the user directory from the environment ([`user_dir_from_env`]).
    fn from_env() -> Library {
        Library {
            user_dir: user_dir_from_env(),
        }
    }

    /// Shipped presets and user presets in `dir`.
    #[cfg(test)]
    fn with_user_dir(dir: impl Into<PathBuf>) -> Library {
        Library {
            user_dir: Some(dir.into()),
        }
    }

    /// Shipped presets only.
    pub fn shipped_only() -> Library {
        Library { user_dir: None }
    }

    /// A preset by name (user presets first, then shipped ones) or by path to a `.toml`
    /// file, with its base merged in, defaults filled in, and validated.
    pub fn load(&self, name_or_path: &str) -> Result<Preset, PresetError> {
        let found = self.find(name_or_path)?;
        self.load_found(found, &mut Vec::new())
    }

    /// A preset from TOML text; `file` names it in messages. A `base` is looked up in this
    /// library.
    pub fn parse(&self, text: &str, file: &str) -> Result<Preset, PresetError> {
        self.parse_with_base(text, file, None, &mut Vec::new())
    }

    /// Every preset, by name: user presets (replacing shipped ones of the same name) and
    /// shipped ones. A user file that cannot be loaded is listed with its problem.
    fn list(&self) -> Vec<PresetInfo> {
        let mut out: Vec<PresetInfo> = Vec::new();
        for (name, path) in self.user_files() {
            let loaded = std::fs::read_to_string(&path)
                .map_err(|source| PresetError::Read {
                    path: path.clone(),
                    source,
                })
                .and_then(|text| {
                    self.load_found(
                        Found {
                            name: Some(name.clone()),
                            origin: Origin::User(path.clone()),
                            label: path.display().to_string(),
                            text,
                        },
                        &mut Vec::new(),
                    )
                });
            let (description, problem) = match loaded {
                Ok(p) => (p.description, None),
                Err(e) => (String::new(), Some(e.to_string())),
            };
            out.push(PresetInfo {
                overrides_shipped: SHIPPED.iter().any(|(n, _)| *n == name),
                name,
                description,
                origin: Origin::User(path),
                problem,
            });
        }
        for (name, _) in SHIPPED {
            if out.iter().any(|i| i.name == *name) {
                continue;
            }
            let (description, problem) = match self.load_found(shipped(name), &mut Vec::new()) {
                Ok(p) => (p.description, None),
                Err(e) => (String::new(), Some(e.to_string())),
            };
            out.push(PresetInfo {
                name: name.to_string(),
                description,
                origin: Origin::Shipped,
                overrides_shipped: false,
                problem,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// User preset files: `(name, path)` of every `NAME.toml` in the user directory.
    fn user_files(&self) -> Vec<(String, PathBuf)> {
        let Some(dir) = &self.user_dir else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<(String, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
            .filter_map(|p| {
                let name = p.file_stem()?.to_str()?.to_string();
                is_preset_name(&name).then_some((name, p))
            })
            .collect();
        out.sort();
        out
    }

    /// Finds a preset's text by name or path.
    pub(super) fn find(&self, name_or_path: &str) -> Result<Found, PresetError> {
        if looks_like_path(name_or_path) {
            let path = PathBuf::from(name_or_path);
            let text = std::fs::read_to_string(&path).map_err(|source| PresetError::Read {
                path: path.clone(),
                source,
            })?;
            return Ok(Found {
                name: None,
                label: path.display().to_string(),
                origin: Origin::User(path),
                text,
            });
        }
        if let Some(dir) = &self.user_dir {
            let path = dir.join(format!("{name_or_path}.toml"));
            if path.is_file() {
                let text = std::fs::read_to_string(&path).map_err(|source| PresetError::Read {
                    path: path.clone(),
                    source,
                })?;
                return Ok(Found {
                    name: Some(name_or_path.to_string()),
                    label: path.display().to_string(),
                    origin: Origin::User(path),
                    text,
                });
            }
        }
        if SHIPPED.iter().any(|(n, _)| *n == name_or_path) {
            return Ok(shipped(name_or_path));
        }
        let available: Vec<String> = self.list_names();
        Err(PresetError::NotFound {
            name: name_or_path.to_string(),
            suggestion: did_you_mean(name_or_path, available.iter().map(String::as_str))
                .map(str::to_string),
            available,
        })
    }

    fn list_names(&self) -> Vec<String> {
        let mut names: Vec<String> = SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
        names.extend(self.user_files().into_iter().map(|(n, _)| n));
        names.sort();
        names.dedup();
        names
    }

    pub(super) fn load_found(
        &self,
        found: Found,
        stack: &mut Vec<String>,
    ) -> Result<Preset, PresetError> {
        let me = (found.name.clone(), found.origin.clone());
        self.parse_with_base(&found.text, &found.label, Some(me), stack)
    }

    /// Parses one file: syntax, keys, types; then merges its base and validates.
    fn parse_with_base(
        &self,
        text: &str,
        label: &str,
        me: Option<(Option<String>, Origin)>,
        stack: &mut Vec<String>,
    ) -> Result<Preset, PresetError> {
        let at = |span: Option<Range<usize>>| Location {
            file: label.to_string(),
            line: span.map(|s| line_of(text, s.start)),
        };
        let doc = DeTable::parse(text).map_err(|e| PresetError::Syntax {
            at: at(e.span()),
            message: e.message().to_string(),
        })?;
        check_keys(doc.get_ref(), &at)?;
        let own: Preset = toml::from_str(text).map_err(|e| {
            let path = e
                .span()
                .and_then(|s| key_path_at(doc.get_ref(), s.start))
                .unwrap_or_default();
            PresetError::Invalid {
                at: at(e.span()),
                field: if path.is_empty() {
                    "?".into()
                } else {
                    path.join(".")
                },
                message: plain_serde_message(e.message()),
            }
        })?;
        let preset = match &own.base {
            None => own,
            Some(base) => {
                let base_span = doc
                    .get_ref()
                    .iter()
                    .find(|(k, _)| k.get_ref() == "base")
                    .map(|(_, v)| v.span());
                let invalid_base = |message: String| PresetError::Invalid {
                    at: at(base_span.clone()),
                    field: "base".into(),
                    message,
                };
                if stack.len() >= MAX_BASE_DEPTH {
                    return Err(invalid_base(format!(
                        "presets nest more than {MAX_BASE_DEPTH} deep: {} → {base}",
                        stack.join(" → ")
                    )));
                }
                let found = self.find_base(base, me.as_ref()).map_err(|e| match e {
                    PresetError::NotFound { .. } => invalid_base(e.to_string()),
                    other => other,
                })?;
                if stack.contains(&found.label) || found.label == label {
                    return Err(invalid_base(format!(
                        "\"{base}\" is based on this preset again ({} → {label} → {})",
                        stack.join(" → "),
                        found.label
                    )));
                }
                stack.push(label.to_string());
                let parent = self.load_found(found, stack)?;
                stack.pop();
                let mut merged =
                    toml::Table::try_from(&parent).expect("a preset serializes to a TOML table");
                let explicit: toml::Table = toml::from_str(text).expect("parsed above");
                merge(&mut merged, explicit);
                let mut p: Preset =
                    toml::Value::Table(merged)
                        .try_into()
                        .map_err(|e: toml::de::Error| PresetError::Invalid {
                            at: at(None),
                            field: "?".into(),
                            message: plain_serde_message(e.message()),
                        })?;
                p.base = Some(base.clone());
                p
            }
        };
        preset.validate().map_err(|e| {
            let line = key_line(doc.get_ref(), text, &e.field, &e.message);
            PresetError::Invalid {
                at: Location {
                    file: label.to_string(),
                    line,
                },
                field: e.field,
                message: e.message,
            }
        })?;
        Ok(preset)
    }

    /// The preset a `base = "..."` names. A user preset based on its own name means the
    /// shipped preset of that name; a relative path is relative to the file that names it.
    fn find_base(
        &self,
        base: &str,
        me: Option<&(Option<String>, Origin)>,
    ) -> Result<Found, PresetError> {
        match me {
            Some((Some(name), Origin::User(_)))
                if name == base && SHIPPED.iter().any(|(n, _)| *n == base) =>
            {
                return Ok(shipped(base));
            }
            Some((_, Origin::User(file))) if looks_like_path(base) => {
                let path = Path::new(base);
                if path.is_relative() {
                    if let Some(dir) = file.parent() {
                        return self.find(&dir.join(path).to_string_lossy());
                    }
                }
            }
            _ => {}
        }
        self.find(base)
    }
}

fn shipped(name: &str) -> Found {
    let text = SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .expect("a shipped preset");
    Found {
        name: Some(name.to_string()),
        origin: Origin::Shipped,
        label: format!("presets/{name}.toml"),
        text: text.to_string(),
    }
}

/// A name as `--preset` takes it: letters, digits, `-`, `_`, `.` (not a path).
fn is_preset_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `--preset` values that are paths: with a directory part or a `.toml` extension.
fn looks_like_path(s: &str) -> bool {
    s.ends_with(".toml")
        || s.contains('/')
        || s.contains(std::path::MAIN_SEPARATOR)
        || !is_preset_name(s)
}

/// The user presets directory: `$SUBCUT_PRESETS_DIR`, else
/// `$XDG_CONFIG_HOME/subcut/presets` (when absolute), else `$HOME/.config/subcut/presets`.
fn user_dir_from_env() -> Option<PathBuf> {
    user_dir_with(|k| std::env::var_os(k))
}

/// [`user_dir_from_env`] over any environment lookup.
fn user_dir_with(get: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let non_empty = |k: &str| get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(d) = non_empty(PRESETS_DIR_ENV) {
        return Some(d);
    }
    if let Some(d) = non_empty("XDG_CONFIG_HOME").filter(|d| d.is_absolute()) {
        return Some(d.join("subcut").join("presets"));
    }
    non_empty("HOME").map(|h| h.join(".config").join("subcut").join("presets"))
}

/// [`Library::load`] over the environment's user directory.
pub(crate) fn load(name_or_path: &str) -> Result<Preset, PresetError> {
    Library::from_env().load(name_or_path)
}

/// [`Library::list`] over the environment's user directory.
pub(crate) fn list() -> Vec<PresetInfo> {
    Library::from_env().list()
}

/// [`Library::show`] over the environment's user directory.
pub(crate) fn show(name_or_path: &str) -> Result<String, PresetError> {
    Library::from_env().show(name_or_path)
}

/// Overlays `over` on `base`: tables merge key by key, everything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::Mode;
    use crate::subtitle::format::{AssPosition, AssStyle, Format};
    use crate::subtitle::zh::ChineseScript;
    use crate::time::Time;

    fn lib() -> Library {
        Library::shipped_only()
    }

    #[test]
    fn every_shipped_preset_loads_and_validates() {
        for (name, _) in SHIPPED {
            let p = lib().load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            p.validate().unwrap();
            assert!(!p.description.is_empty(), "{name} has a description");
        }
        let names: Vec<_> = SHIPPED.iter().map(|(n, _)| *n).collect();
        for required in [
            "default",
            "youtube",
            "shorts",
            "podcast",
            "lecture",
            "zh-talking-head",
        ] {
            assert!(names.contains(&required), "{required} is shipped");
        }
    }

    #[test]
    fn shipped_presets_say_what_they_promise() {
        let yt = lib().load("youtube").unwrap();
        assert_eq!(yt.caption.formats, vec![Format::Srt, Format::Vtt]);
        assert_eq!(yt.mode, Mode::Cut);
        assert!(!yt.burn_in);
        assert_eq!((yt.style.play_res_x, yt.style.play_res_y), (1920, 1080));

        let shorts = lib().load("shorts").unwrap();
        assert!(shorts.burn_in);
        assert_eq!(
            (shorts.style.play_res_x, shorts.style.play_res_y),
            (1080, 1920)
        );
        assert_eq!(shorts.subtitle.max_lines, 1);
        assert!(shorts.style.size > AssStyle::default().size);
        // "(9:16)": the video is reframed, and the spoken word is highlighted.
        assert_eq!(
            shorts.render.aspect.map(|a| a.to_string()).as_deref(),
            Some("9:16")
        );
        assert_eq!(shorts.render.reframe, crate::media::render::Reframe::Crop);
        assert!(shorts.style.karaoke);
        assert!(shorts.render.changes_pixels() || shorts.burn_in);
        assert!(shorts.cut.min_silence < yt.cut.min_silence);
        assert!(shorts.cut.remove_repeats);

        let podcast = lib().load("podcast").unwrap();
        assert_eq!(podcast.mode, Mode::Cut);
        assert!(!podcast.burn_in);

        let lecture = lib().load("lecture").unwrap();
        assert_eq!(lecture.cut.min_silence, Time::from_millis(1500));
        assert!(lecture.cut.fillers.is_none());

        let zh = lib().load("zh-talking-head").unwrap();
        assert_eq!(zh.caption.language, "zh");
        assert_eq!(zh.caption.chinese, ChineseScript::Simplified);
        let lex = zh.cut.fillers.lexicon("zh");
        for w in ["嗯", "啊", "呃"] {
            assert!(lex.entries.iter().any(|e| e.text == w), "cuts {w}");
        }
        assert!(zh.subtitle.limits(true).max_line_chars <= 16.0);
    }

    #[test]
    fn a_user_preset_overrides_a_shipped_one_and_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("youtube.toml"),
            "description = \"My YouTube\"\n[render]\ncrf = 18\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("mine.toml"), "description = \"Mine\"\n").unwrap();
        std::fs::write(dir.path().join("broken.toml"), "[cut]\nfoo = 1\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a preset").unwrap();
        let lib = Library::with_user_dir(dir.path());
        let p = lib.load("youtube").unwrap();
        assert_eq!(p.description, "My YouTube");
        assert_eq!(p.render.crf, 18);
        // Not based on the shipped file: its other values are the defaults.
        assert_eq!(p.caption.formats, vec![Format::Srt]);

        let list = lib.list();
        let names: Vec<_> = list.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "broken",
                "default",
                "lecture",
                "mine",
                "podcast",
                "shorts",
                "youtube",
                "zh-talking-head"
            ]
        );
        let yt = list.iter().find(|i| i.name == "youtube").unwrap();
        assert_eq!(yt.origin, Origin::User(dir.path().join("youtube.toml")));
        assert!(yt.overrides_shipped);
        assert_eq!(yt.description, "My YouTube");
        let broken = list.iter().find(|i| i.name == "broken").unwrap();
        assert!(broken
            .problem
            .as_deref()
            .unwrap()
            .contains("broken.toml:2: unknown key \"foo\""));
        let shorts = list.iter().find(|i| i.name == "shorts").unwrap();
        assert_eq!(shorts.origin, Origin::Shipped);
        assert!(shorts.problem.is_none());

        // Errors in a user file name its path.
        let e = lib.load("broken").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}:2: ", dir.path().join("broken.toml").display())),
            "{e}"
        );
        // `show` says where the preset came from.
        let shown = lib.show("youtube").unwrap();
        assert!(shown.contains("youtube.toml)"), "{shown}");
        assert!(shown.contains("\ncrf = 18\n"), "{shown}");
    }

    #[test]
    fn a_base_preset_is_merged_under_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // A user file may replace a shipped preset and still start from it.
        std::fs::write(
            dir.path().join("youtube.toml"),
            "base = \"youtube\"\n[render]\ncrf = 18\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "base = \"youtube\"\ndescription = \"Mine\"\n[cut]\nmin_silence = 0.3\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("loop-a.toml"), "base = \"loop-b\"\n").unwrap();
        std::fs::write(dir.path().join("loop-b.toml"), "base = \"loop-a\"\n").unwrap();
        let lib = Library::with_user_dir(dir.path());
        let shipped_yt = Library::shipped_only().load("youtube").unwrap();

        let yt = lib.load("youtube").unwrap();
        assert_eq!(yt.render.crf, 18);
        assert_eq!(yt.caption.formats, shipped_yt.caption.formats);
        assert_eq!(yt.description, shipped_yt.description);

        let mine = lib.load("mine").unwrap();
        assert_eq!(mine.description, "Mine");
        assert_eq!(mine.cut.min_silence, Time::from_millis(300));
        assert_eq!(mine.cut.margin_after, shipped_yt.cut.margin_after);
        // The base chain: mine → (user) youtube → (shipped) youtube.
        assert_eq!(mine.render.crf, 18);
        assert_eq!(mine.base.as_deref(), Some("youtube"));
        // show round-trips through the base too.
        let shown = lib.show("mine").unwrap();
        assert_eq!(lib.parse(&shown, "shown.toml").unwrap(), mine);

        // A relative path is relative to the file that names it.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(
            sub.join("child.toml"),
            "base = \"../mine.toml\"\n[render]\ncrf = 30\n",
        )
        .unwrap();
        let child = lib.load(sub.join("child.toml").to_str().unwrap()).unwrap();
        assert_eq!(
            (child.render.crf, child.cut.min_silence),
            (30, Time::from_millis(300))
        );

        let e = lib.load("loop-a").unwrap_err().to_string();
        assert!(
            e.contains(":1: base: ") && e.contains("based on this preset again"),
            "{e}"
        );
        let e = lib
            .parse("base = \"nope\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x.toml:1: base: unknown preset \"nope\""),
            "{e}"
        );
        // A bad value in the base is reported in the base's file.
        std::fs::write(dir.path().join("bad.toml"), "[render]\ncrf = 99\n").unwrap();
        let e = lib
            .parse("base = \"bad\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.toml:2: render.crf 99"), "{e}");
    }

    #[test]
    fn a_path_loads_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("talks.toml");
        std::fs::write(
            &path,
            "[subtitle]\nmax_lines = 1\n[style]\nalignment = \"top\"\n",
        )
        .unwrap();
        let lib = Library::shipped_only();
        let p = lib.load(path.to_str().unwrap()).unwrap();
        assert_eq!(p.subtitle.max_lines, 1);
        assert_eq!(p.style.alignment, AssPosition::Top);
        let missing = dir.path().join("nope.toml");
        let e = lib.load(missing.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.starts_with(&missing.display().to_string()), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn unknown_names_get_a_suggestion() {
        let e = lib().load("yuotube").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown preset \"yuotube\" (did you mean \"youtube\"? `subcut presets list` shows them all)"
        );
        let e = lib().load("xyz").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown preset \"xyz\" (presets: default, lecture, podcast, shorts, youtube, zh-talking-head)"
        );
    }

    #[test]
    fn user_dir_follows_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        assert_eq!(
            user_dir_with(env(&[("SUBCUT_PRESETS_DIR", "/p"), ("HOME", "/h")])),
            Some(PathBuf::from("/p"))
        );
        assert_eq!(
            user_dir_with(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/subcut/presets"))
        );
        // A relative XDG_CONFIG_HOME is ignored, as the spec says.
        assert_eq!(
            user_dir_with(env(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/subcut/presets"))
        );
        assert_eq!(user_dir_with(env(&[])), None);
    }
}
