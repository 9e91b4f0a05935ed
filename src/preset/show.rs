//! What `subcut presets show` prints: a preset's effective values as TOML
//! ([`Preset::to_toml`]), every key in the order of `presets/default.toml`, headed by where
//! the preset came from ([`Library::show`]).

use super::diagnostics::PresetError;
use super::library::{Library, Origin};
use super::schema::{fields_of, Preset, SECTIONS};

impl Library {
    /// The effective values of a preset as TOML (every key; defaults and base filled in),
    /// headed by comments saying where it came from.
    pub(super) fn show(&self, name_or_path: &str) -> Result<String, PresetError> {
        let found = self.find(name_or_path)?;
        let from = match (&found.origin, &found.name) {
            (Origin::Shipped, Some(n)) => format!("preset \"{n}\" (shipped: presets/{n}.toml)"),
            (Origin::User(p), Some(n)) => format!("preset \"{n}\" ({})", p.display()),
            (Origin::User(p), None) => format!("preset file {}", p.display()),
            (Origin::Shipped, None) => "preset".to_string(),
        };
        let preset = self.load_found(found, &mut Vec::new())?;
        let mut out = format!(
            "# {from}\n# Effective values: the preset's own{}, built-in defaults for the rest.\n",
            if preset.base.is_some() {
                ", its base's"
            } else {
                ""
            }
        );
        out.push_str(&preset.to_toml());
        Ok(out)
    }
}

impl Preset {
    /// The preset as TOML: every key with its value (keys without a value, such as an unset
    /// `max_cps`, as a comment), in the order of `presets/default.toml`. Parsing the text
    /// gives this preset back.
    pub(crate) fn to_toml(&self) -> String {
        let table = toml::Table::try_from(self).expect("a preset serializes to a TOML table");
        let mut out = String::new();
        for &key in fields_of::<Preset>() {
            if SECTIONS.iter().any(|(s, _)| *s == key) {
                continue;
            }
            match table.get(key) {
                Some(v) => out.push_str(&format!("{key} = {}\n", show_value(key, v))),
                None if key == "base" => {}
                None => out.push_str(&format!("# {key} = (not set)\n")),
            }
        }
        for (section, fields) in SECTIONS {
            out.push_str(&format!("\n[{section}]\n"));
            let t = table.get(*section).and_then(toml::Value::as_table);
            for &key in fields() {
                if section == &"render" && key == "burn_in" {
                    continue; // chosen per input, never part of a preset
                }
                match t.and_then(|t| t.get(key)) {
                    Some(v) => out.push_str(&format!(
                        "{key} = {}\n",
                        show_value(&format!("{section}.{key}"), v)
                    )),
                    None => out.push_str(&format!(
                        "# {key} = (not set: {})\n",
                        unset_meaning(&format!("{section}.{key}"))
                    )),
                }
            }
        }
        out
    }
}

/// What an optional key means when it is not set (for `show`).
fn unset_meaning(path: &str) -> &'static str {
    match path {
        "caption.initial_prompt" => "no prompt",
        "caption.threads" => "split the cores automatically",
        "caption.jobs" => "split the cores automatically",
        "subtitle.max_line_chars" => "42, or 16 for Chinese/Japanese/Korean",
        "subtitle.max_cps" => "17, or 9 for Chinese/Japanese/Korean",
        "render.audio_codec" => "chosen by the output format",
        "render.audio_bitrate" => "the encoder's default",
        "render.burn_in_style" => "[style] only",
        "render.aspect" => "the source's aspect ratio, not reframed",
        "cut.max_pause" => "cut pauses keep their margins",
        _ => "the built-in behaviour",
    }
}

/// Keys whose values are `f32` in Rust: shown with `f32` precision (`0.1`, not
/// `0.10000000149011612`); both read back to the same value.
const F32_KEYS: &[&str] = &[
    "subtitle.max_line_chars",
    "subtitle.max_cps",
    "style.size",
    "style.outline",
    "style.shadow",
    "caption.no_speech_threshold",
    "caption.logprob_threshold",
    "caption.entropy_threshold",
    "caption.temperature_increment",
];

fn show_value(path: &str, v: &toml::Value) -> String {
    match v {
        toml::Value::Float(f) if F32_KEYS.contains(&path) => {
            let s = format!("{}", *f as f32);
            if s.contains(['.', 'e', 'i', 'N']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Threshold;
    use crate::edit::export::Export;
    use crate::preset::library::SHIPPED;
    use crate::time::Time;

    fn lib() -> Library {
        Library::shipped_only()
    }

    #[test]
    fn show_round_trips_for_every_preset() {
        for (name, _) in SHIPPED {
            let p = lib().load(name).unwrap();
            let shown = lib().show(name).unwrap();
            assert!(
                shown.starts_with(&format!("# preset \"{name}\"")),
                "{shown}"
            );
            let back = lib()
                .parse(&shown, "shown.toml")
                .unwrap_or_else(|e| panic!("{name}: {e}\n{shown}"));
            assert_eq!(back, p, "{name}:\n{shown}");
        }
        // Unusual values survive too.
        let mut p = Preset::default();
        p.subtitle.max_cps = Some(12.3);
        p.subtitle.min_duration = Time::from_micros(1);
        p.style.size = 0.1 + 40.0;
        p.cut.threshold = Threshold::Db(-42.5);
        p.cut.fillers = "en,you know,那个".parse().unwrap();
        p.cut.retakes = crate::edit::Retakes::None;
        p.cut.max_pause = Some(Time::from_millis(400));
        p.caption.initial_prompt = Some("Quote \" and \\ and\nnewline".into());
        p.caption.threads = Some(3);
        p.render.audio_bitrate = Some(96_000);
        p.render.burn_in_style = Some("FontSize=22".into());
        p.export = vec![Export::Edl, Export::Fcpxml];
        let text = p.to_toml();
        assert!(text.contains("size = 40.1\n"), "{text}");
        assert_eq!(lib().parse(&text, "t.toml").unwrap(), p, "{text}");
    }

    #[test]
    fn show_prints_every_key_and_marks_unset_ones() {
        let shown = lib().show("default").unwrap();
        for (section, fields) in SECTIONS {
            for f in fields() {
                if *section == "render" && *f == "burn_in" {
                    continue;
                }
                assert!(
                    shown.contains(&format!("\n{f} = ")) || shown.contains(&format!("\n# {f} = ")),
                    "show lists {section}.{f}:\n{shown}"
                );
            }
        }
        assert!(shown.contains("\n# max_cps = (not set"), "{shown}");
        assert!(shown.contains("\nmin_silence = 0.5\n"), "{shown}");
        assert!(shown.contains("\nthreshold = \"auto\"\n"), "{shown}");
        assert!(shown.contains("\nformats = [\"srt\"]\n"), "{shown}");
    }
}
