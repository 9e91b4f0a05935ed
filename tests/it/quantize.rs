//! `subcut model import --quantize`: the files are what whisper.cpp's own quantize tool
//! writes (checked against ggml's quantizer, linked in through whisper-rs-sys), and a q8_0
//! tiny.en and a q4_k base transcribe the fixtures. Uses the CTranslate2 tiny.en and base
//! directories that `scripts/setup.sh` keeps (a missing one fails with a message saying how
//! to get it).

use crate::util::*;

use std::path::{Path, PathBuf};

fn import(dir: &Path, name: &str, quantize: Option<&str>) -> PathBuf {
    import_from(&ct2_tiny_en(), dir, name, quantize)
}

fn import_from(ct2: &Path, dir: &Path, name: &str, quantize: Option<&str>) -> PathBuf {
    let out = dir.join(name);
    let o = import_output(ct2, &out, quantize);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

/// `subcut model import CT2 -o OUT [--quantize Q]`, run to completion.
fn import_output(ct2: &Path, out: &Path, quantize: Option<&str>) -> std::process::Output {
    let mut cmd = subcut();
    cmd.args(["model", "import"]).arg(ct2).arg("-o").arg(out);
    if let Some(q) = quantize {
        cmd.args(["--quantize", q]);
    }
    cmd.output().unwrap()
}

// ggml's quantizer, from the static ggml library that whisper-rs-sys links into subcut.
use whisper_rs::whisper_rs_sys::ggml_quantize_chunk;

/// whisper.cpp's `examples/quantize` on an f16 ggml file, step for step: the header with
/// `ftype = 2 * 1000 + ftype`, mel filters and vocabulary copied, then every tensor; those
/// with two dimensions that are not on its skip list are read as f16, widened to f32 and
/// quantized by `ggml_quantize_chunk`, the rest copied.
fn whisper_cpp_quantize(f16_file: &[u8], q: Quant) -> Vec<u8> {
    let Quant {
        ggml_type,
        ftype,
        block_values,
        block_bytes,
        ..
    } = q;
    let i32_at = |b: &[u8], at: usize| i32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let mut out = Vec::with_capacity(f16_file.len());
    // Magic and 11 hyperparameters, the last being ftype.
    out.extend_from_slice(&f16_file[..44]);
    assert_eq!(i32_at(f16_file, 44), 1, "an f16 input");
    out.extend_from_slice(&(2000 + ftype).to_le_bytes());
    let mut at = 48;
    let (n_mel, n_fft) = (i32_at(f16_file, at), i32_at(f16_file, at + 4));
    at += 8 + 4 * (n_mel * n_fft) as usize;
    let n_tokens = i32_at(f16_file, at);
    at += 4;
    for _ in 0..n_tokens {
        at += 4 + i32_at(f16_file, at) as usize;
    }
    out.extend_from_slice(&f16_file[48..at]);
    let skip = [
        "encoder.conv1.bias",
        "encoder.conv2.bias",
        "encoder.positional_embedding",
        "decoder.positional_embedding",
    ];
    while at < f16_file.len() {
        let (n_dims, name_len, ttype) = (
            i32_at(f16_file, at),
            i32_at(f16_file, at + 4),
            i32_at(f16_file, at + 8),
        );
        let ne: Vec<i32> = (0..n_dims as usize)
            .map(|i| i32_at(f16_file, at + 12 + 4 * i))
            .collect();
        let head = 12 + 4 * n_dims as usize;
        let name = std::str::from_utf8(&f16_file[at + head..at + head + name_len as usize])
            .unwrap()
            .to_string();
        let data_at = at + head + name_len as usize;
        let n: usize = ne.iter().map(|&d| d as usize).product();
        let quantize = n_dims == 2 && !skip.contains(&name.as_str());
        let bpe = if ttype == 0 { 4 } else { 2 };
        let data = &f16_file[data_at..data_at + n * bpe];
        out.extend_from_slice(&n_dims.to_le_bytes());
        out.extend_from_slice(&name_len.to_le_bytes());
        if quantize {
            assert_eq!(ttype, 1, "{name} is f16");
            let values: Vec<f32> = data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect();
            let mut q = vec![0u8; n / block_values * block_bytes];
            // SAFETY: `values` holds ne[1] rows of ne[0] values, `q` their blocks.
            let size = unsafe {
                ggml_quantize_chunk(
                    ggml_type as u32,
                    values.as_ptr(),
                    q.as_mut_ptr().cast(),
                    0,
                    ne[1] as i64,
                    ne[0] as i64,
                    std::ptr::null(),
                )
            };
            assert_eq!(size, q.len());
            out.extend_from_slice(&ggml_type.to_le_bytes());
            out.extend_from_slice(&f16_file[at + 12..data_at]);
            out.extend_from_slice(&q);
        } else {
            out.extend_from_slice(&f16_file[at + 8..data_at]);
            out.extend_from_slice(data);
        }
        at = data_at + n * bpe;
    }
    out
}

/// A ggml quantization type as whisper.cpp's quantize tool names and writes it.
#[derive(Clone, Copy)]
struct Quant {
    name: &'static str,
    ggml_type: i32,
    ftype: i32,
    block_values: usize,
    block_bytes: usize,
}

const fn quant(
    name: &'static str,
    ggml_type: i32,
    ftype: i32,
    block_values: usize,
    block_bytes: usize,
) -> Quant {
    Quant {
        name,
        ggml_type,
        ftype,
        block_values,
        block_bytes,
    }
}

/// Imports `ct2` as f16 and quantized with each of `quants` (into the returned directory,
/// as `NAME.bin`); each file must equal what whisper.cpp's quantize writes from the f16 one.
fn check_imports(ct2: &Path, quants: &[Quant]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let f16_file = std::fs::read(import_from(ct2, dir.path(), "f16.bin", None)).unwrap();
    for &q in quants {
        let name = q.name;
        let path = import_from(ct2, dir.path(), &format!("{name}.bin"), Some(name));
        let ours = std::fs::read(&path).unwrap();
        let theirs = whisper_cpp_quantize(&f16_file, q);
        assert_eq!(ours.len(), theirs.len(), "{name}: file size");
        let first = ours.iter().zip(&theirs).position(|(a, b)| a != b);
        assert_eq!(first, None, "{name}: first differing byte");
        let h = subcut::asr::model::read_header(&path).unwrap();
        assert_eq!(h.ftype, 2000 + q.ftype as u32);
    }
    dir
}

#[test]
fn quantized_imports_are_what_whisper_cpp_quantize_writes() {
    let _dir = check_imports(
        &ct2_tiny_en(),
        &[
            quant("q8_0", 8, 7, 32, 34),
            quant("q5_1", 7, 9, 32, 24),
            quant("q5_0", 6, 8, 32, 22),
            quant("q4_0", 2, 2, 32, 18),
        ],
    );
}

#[test]
fn q4_k_base_is_what_whisper_cpp_quantize_writes_and_transcribes_the_fixture() {
    let dir = check_imports(&ct2_base(), &[quant("q4_k", 12, 12, 256, 144)]);
    let model = dir.path().join("q4_k.bin");
    // base f16 is 147 MB (FACTS.md §4); 4.5 bits per weight.
    let size = std::fs::metadata(&model).unwrap().len();
    assert!(size < 50_000_000, "q4_k base is about 44 MiB: {size}");
    let said = transcribe_talk(dir.path(), &model);
    let e = wer(TALK, &said);
    assert!(e <= 0.10, "WER {e:.3}: {said}");
}

#[test]
fn q4_k_refuses_tiny_rows_in_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = import_output(
        &ct2_tiny_en(),
        &dir.path().join("tiny-q4_k.bin"),
        Some("q4_k"),
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "exit code of a model or setup error"
    );
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot quantize encoder.blocks.0.attn.query.weight to q4_k: its rows of 384 values are not a multiple of 256 (the 32-value types q8_0, q5_1, q5_0 and q4_0 fit this model)"),
        "{err}"
    );
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

const TALK: &str = "The cat sat on the mat in the sun. We like to walk to the park after lunch. \
                    Please bring me a cup of hot tea. The train leaves the station at nine.";

/// `subcut caption` of fixtures/talk.mp4 with `model`; the text it wrote.
fn transcribe_talk(dir: &Path, model: &Path) -> String {
    let out = subcut()
        .arg("caption")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/talk.mp4"))
        .arg("-o")
        .arg(dir)
        .arg("--model")
        .arg(model)
        .args(["--language", "en", "--format", "txt"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(dir.join("talk.txt")).unwrap()
}

#[test]
fn q8_0_tiny_en_transcribes_the_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let model = import(dir.path(), "ggml-tiny.en-q8_0.bin", Some("q8_0"));
    let f16_size = 77_704_698u64; // FACTS.md §4
    let size = std::fs::metadata(&model).unwrap().len();
    assert!(
        size < f16_size * 6 / 10,
        "q8_0 is about half the f16 size: {size}"
    );
    let said = transcribe_talk(dir.path(), &model);
    let e = wer(TALK, &said);
    assert!(e <= 0.15, "WER {e:.3}: {said}");
}
