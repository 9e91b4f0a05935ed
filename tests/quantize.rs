//! `subcut model import --quantize`: the files are what whisper.cpp's own quantize tool
//! writes (checked against ggml's quantizer, linked in through whisper-rs-sys), and a q8_0
//! tiny.en transcribes the fixtures. Uses the CTranslate2 tiny.en directory that
//! `scripts/setup.sh` keeps (a missing one fails with a message saying how to get it).

mod common;
use common::*;

use std::path::{Path, PathBuf};

fn import(dir: &Path, name: &str, quantize: Option<&str>) -> PathBuf {
    let out = dir.join(name);
    let mut cmd = subcut();
    cmd.args(["model", "import"])
        .arg(ct2_tiny_en())
        .arg("-o")
        .arg(&out);
    if let Some(q) = quantize {
        cmd.args(["--quantize", q]);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

// ggml's quantizer, from the static ggml library that whisper-rs-sys links into subcut.
extern "C" {
    fn ggml_quantize_chunk(
        ttype: std::ffi::c_int,
        src: *const f32,
        dst: *mut std::ffi::c_void,
        start: i64,
        nrows: i64,
        n_per_row: i64,
        imatrix: *const f32,
    ) -> usize;
}

/// whisper.cpp's `examples/quantize` on an f16 ggml file, step for step: the header with
/// `ftype = 2 * 1000 + ftype`, mel filters and vocabulary copied, then every tensor; those
/// with two dimensions that are not on its skip list are read as f16, widened to f32 and
/// quantized by `ggml_quantize_chunk`, the rest copied.
fn whisper_cpp_quantize(
    f16_file: &[u8],
    ggml_type: i32,
    ftype: i32,
    block_bytes: usize,
) -> Vec<u8> {
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
            let mut q = vec![0u8; n / 32 * block_bytes];
            // SAFETY: `values` holds ne[1] rows of ne[0] values, `q` their blocks.
            let size = unsafe {
                ggml_quantize_chunk(
                    ggml_type,
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

#[test]
fn quantized_imports_are_what_whisper_cpp_quantize_writes() {
    let dir = tempfile::tempdir().unwrap();
    let f16_file = std::fs::read(import(dir.path(), "f16.bin", None)).unwrap();
    // (name, ggml type, file type, bytes per block of 32)
    for (q, ggml_type, ftype, block) in [
        ("q8_0", 8, 7, 34),
        ("q5_1", 7, 9, 24),
        ("q5_0", 6, 8, 22),
        ("q4_0", 2, 2, 18),
    ] {
        let ours = std::fs::read(import(dir.path(), &format!("{q}.bin"), Some(q))).unwrap();
        let theirs = whisper_cpp_quantize(&f16_file, ggml_type, ftype, block);
        assert_eq!(ours.len(), theirs.len(), "{q}: file size");
        let first = ours.iter().zip(&theirs).position(|(a, b)| a != b);
        assert_eq!(first, None, "{q}: first differing byte");
        let h = subcut::asr::ggml::read_header(&dir.path().join(format!("{q}.bin"))).unwrap();
        assert_eq!(h.ftype, 2000 + ftype as u32);
    }
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
    let out = subcut()
        .arg("caption")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/talk.mp4"))
        .arg("-o")
        .arg(dir.path())
        .arg("--model")
        .arg(&model)
        .args(["--language", "en", "--format", "txt"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = std::fs::read_to_string(dir.path().join("talk.txt")).unwrap();
    let truth = "The cat sat on the mat in the sun. We like to walk to the park after lunch. \
                 Please bring me a cup of hot tea. The train leaves the station at nine.";
    let e = wer(truth, &said);
    assert!(e <= 0.15, "WER {e:.3}: {said}");
}
