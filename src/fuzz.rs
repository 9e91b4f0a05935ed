//! Fuzz targets for the readers of user files in the root crate (issue 18): the preset TOML
//! loader, the CTranslate2 model directory reader (and the import that follows it) and the
//! ggml header reader. Random and mutated inputs must give a value or an error, never a
//! panic, a hang or a huge allocation (`scripts/fuzz.sh` runs them under a memory limit).
//! `#[ignore]`d: the script runs them (`--ignored fuzz_`), `SUBCUT_FUZZ_CASES` cases each;
//! CI does not. The subtitle readers' targets are in subcut-core (`subtitle::format::fuzz`).

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::asr::model::ct2::{self, fixture, Ct2Model};
use crate::asr::model::{ggml_file, import_ct2};
use crate::preset::Library;

fn config() -> Config {
    let cases = std::env::var("SUBCUT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// One change to a file: a byte set, inserted or removed, the file cut, or a 32-bit value
/// that headers lie with (0, -1, huge) written over four bytes.
#[derive(Clone, Debug)]
enum Op {
    Set(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    Remove(prop::sample::Index),
    Cut(prop::sample::Index),
    Word(prop::sample::Index, u32),
}

fn op() -> impl Strategy<Value = Op> {
    let word = prop_oneof![
        Just(0u32),
        Just(1),
        Just(u32::MAX),
        Just(i32::MAX as u32),
        Just(1 << 31),
        Just(1 << 30),
        Just(0xffff),
        Just(80),
        Just(128),
        any::<u32>(),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Op::Set(i, b)),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Op::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Op::Remove),
        any::<prop::sample::Index>().prop_map(Op::Cut),
        (any::<prop::sample::Index>(), word).prop_map(|(i, w)| Op::Word(i, w)),
    ]
}

fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 0..max)
}

/// Mostly the head of a file (where the headers are): `head` bytes get three in four changes.
fn mutate(mut b: Vec<u8>, ops: &[Op], head: usize) -> Vec<u8> {
    for (k, op) in ops.iter().enumerate() {
        let len = if k % 4 != 3 {
            b.len().min(head)
        } else {
            b.len()
        };
        let at = |i: &prop::sample::Index| i.index(len + 1);
        match op {
            Op::Set(i, v) if at(i) < b.len() => {
                let i = at(i);
                b[i] = *v;
            }
            Op::Insert(i, v) => {
                let i = at(i);
                b.insert(i, *v);
            }
            Op::Remove(i) if at(i) < b.len() => {
                b.remove(at(i));
            }
            Op::Cut(i) => b.truncate(at(i)),
            Op::Word(i, w) => {
                let i = at(i).min(b.len().saturating_sub(4));
                if b.len() >= 4 {
                    b[i..i + 4].copy_from_slice(&w.to_le_bytes());
                }
            }
            _ => {}
        }
    }
    b
}

/// The synthetic CTranslate2 model of the import tests.
fn ct2_bytes() -> Vec<u8> {
    fixture::model_bin(
        6,
        "WhisperSpec",
        &fixture::whisper_vars(),
        &fixture::ALIASES,
    )
}

/// A ggml file, as `model import` writes it from the synthetic model.
fn ggml_bytes() -> Vec<u8> {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES
        .get_or_init(|| {
            let d = tempfile::tempdir().unwrap();
            fixture::write_dir(&d.path().join("ct2"), &fixture::whisper_vars());
            let out = d.path().join("m.bin");
            import_ct2(&d.path().join("ct2"), &out, None).unwrap();
            std::fs::read(out).unwrap()
        })
        .clone()
}

const PRESET: &str = include_str!("../presets/default.toml");

proptest! {
    #![proptest_config(config())]

    #[test]
    #[ignore = "fuzzing: run by scripts/fuzz.sh"]
    fn fuzz_ct2_model_bin(ops in ops(12), random in prop::collection::vec(any::<u8>(), 0..256), which in 0..4u8) {
        let bytes = match which {
            0 => random,
            _ => mutate(ct2_bytes(), &ops, 512),
        };
        if let Ok(m) = Ct2Model::parse(Path::new("model.bin"), bytes) {
            // Every lookup of what the import reads stays in bounds.
            for name in ["encoder/conv1/weight", "decoder/embeddings/weight", "encoder/num_heads", "decoder/projection/weight"] {
                let _ = m.get(name).map(|t| t.len());
                let _ = m.get_float(name);
                let _ = m.scalar_int(name);
            }
        }
    }

    #[test]
    #[ignore = "fuzzing: run by scripts/fuzz.sh"]
    fn fuzz_ct2_directory_import(
        model_ops in ops(10),
        vocab_ops in ops(6),
        config_ops in ops(6),
        quantize in prop::option::of(prop::sample::select(vec!["q8_0", "q4_0", "q5_1", "q4_k"])),
    ) {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("ct2");
        fixture::write_dir(&src, &fixture::whisper_vars());
        for (file, ops, head) in [("model.bin", &model_ops, 4096), ("vocabulary.txt", &vocab_ops, 64), ("config.json", &config_ops, 64)] {
            let b = std::fs::read(src.join(file)).unwrap();
            std::fs::write(src.join(file), mutate(b, ops, head)).unwrap();
        }
        let _ = ct2::read_config(&src.join("config.json"));
        let q = quantize.map(|q| q.parse().unwrap());
        let out = d.path().join("out.bin");
        if import_ct2(&src, &out, q).is_ok() {
            // What the import writes, the reader takes.
            ggml_file::read_header(&out).unwrap();
        } else {
            prop_assert!(!out.exists(), "a failed import left its output");
        }
    }

    #[test]
    #[ignore = "fuzzing: run by scripts/fuzz.sh"]
    fn fuzz_ct2_shapes(
        changes in prop::collection::vec((
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            prop::sample::select(vec![0u32, 1, 2, 3, 4, 6, 8, 16, 24, 32, 64, 79, 80, 81, 128, 129, 4096]),
            prop::option::weighted(0.2, prop::collection::vec(0u32..40, 0..4)),
        ), 1..4),
        heads in prop::sample::select(vec![-1i16, 0, 1, 2, 3, 8, i16::MAX]),
    ) {
        // Well-formed files whose tensors have other shapes than a Whisper model's: one
        // dimension of a tensor changed, or a new shape, or a head count.
        let mut vars = fixture::whisper_vars();
        for (i, j, value, shape) in &changes {
            let k = i.index(vars.len());
            let v = &vars[k];
            let dims = match (shape, v.dims.len()) {
                (Some(s), _) => s.clone(),
                (None, 0) => vec![],
                (None, l) => {
                    let mut d = v.dims.clone();
                    d[j.index(l)] = *value;
                    d
                }
            };
            let n: u64 = dims.iter().map(|&d| u64::from(d)).product();
            prop_assume!(n <= 1 << 20);
            vars[k] = match v.dims.is_empty() && shape.is_none() {
                true => fixture::scalar_i16(&v.name.clone(), heads),
                false => fixture::float_var(&v.name.clone(), &dims, match v.dtype { 0 | 4 | 5 => v.dtype, _ => 4 }, k),
            };
        }
        let d = tempfile::tempdir().unwrap();
        fixture::write_dir(&d.path().join("ct2"), &vars);
        let out = d.path().join("out.bin");
        if import_ct2(&d.path().join("ct2"), &out, None).is_ok() {
            // What the import writes, the reader takes.
            let read = ggml_file::read_header(&out);
            prop_assert!(read.is_ok(), "{:?} imported, then {}", changes, read.unwrap_err());
        } else {
            prop_assert!(!out.exists(), "a failed import left its output");
        }
    }

    #[test]
    #[ignore = "fuzzing: run by scripts/fuzz.sh"]
    fn fuzz_ggml_header(ops in ops(12), random in prop::collection::vec(any::<u8>(), 0..256), which in 0..4u8) {
        let bytes = match which {
            0 => random,
            1 => mutate(ggml_bytes(), &ops, 1 << 20),
            _ => mutate(ggml_bytes(), &ops, 48 + 8),
        };
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), &bytes).unwrap();
        let _ = ggml_file::read_header(f.path());
    }

    #[test]
    #[ignore = "fuzzing: run by scripts/fuzz.sh"]
    fn fuzz_preset_toml(
        ops in ops(10),
        lines in prop::collection::vec(prop_oneof![
            "[a-z_]{1,12} = [0-9.]{1,6}",
            "[a-z_]{1,12} = \"[ -~]{0,12}\"",
            "\\[[a-z_.]{1,12}\\]",
            Just("base = \"default\"".to_string()),
            Just("base = \"./self.toml\"".to_string()),
            Just("mode = \"cut\"".to_string()),
            Just("[cut]\nthreshold = \"-35dB\"".to_string()),
            Just("[render]\ncrf = -1".to_string()),
            Just("[caption]\nmax_chars = 0".to_string()),
            "\\PC{0,20}",
        ], 0..12),
        which in 0..3u8,
    ) {
        let text = match which {
            0 => lines.join("\n"),
            1 => String::from_utf8_lossy(&mutate(PRESET.as_bytes().to_vec(), &ops, PRESET.len())).into_owned(),
            _ => format!("{}\n{}", String::from_utf8_lossy(&mutate(PRESET.as_bytes().to_vec(), &ops, PRESET.len())), lines.join("\n")),
        };
        let lib = Library::shipped_only();
        if let Ok(p) = lib.parse(&text, "fuzz.toml") {
            // A preset that loads can be shown and loads again from what is shown.
            let shown = p.to_toml();
            lib.parse(&shown, "shown.toml").unwrap();
        }
    }
}

/// Found by `fuzz_ct2_shapes`: a CTranslate2 model with one mel band (any count but 80 or
/// 128) was imported into a file that `read_header`, and whisper.cpp, refuse; and its count
/// sized the filter bank, so a model claiming millions of bands allocated gigabytes.
#[test]
fn import_wrote_a_model_with_one_mel_band_that_the_reader_refused() {
    for bands in [1, 79, 4096] {
        let mut vars = fixture::whisper_vars();
        let k = vars
            .iter()
            .position(|v| v.name == "encoder/conv1/weight")
            .unwrap();
        vars[k] = fixture::float_var("encoder/conv1/weight", &[fixture::D, bands, 3], 4, k);
        let d = tempfile::tempdir().unwrap();
        fixture::write_dir(&d.path().join("ct2"), &vars);
        let out = d.path().join("out.bin");
        let e = import_ct2(&d.path().join("ct2"), &out, None).unwrap_err();
        assert!(
            e.to_string().contains("not a model whisper.cpp can load"),
            "{bands}: {e}"
        );
        assert!(!out.exists());
    }
}
