//! Writing whisper.cpp ggml model files from CTranslate2 Whisper directories.
//!
//! `subcut model import DIR` turns the CTranslate2 weights that faster-whisper uses (read by
//! [`super::ct2`]) into the single-file format whisper.cpp (and so whisper-rs) loads:
//!
//! ```text
//! i32 magic 0x67676d6c
//! i32 n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
//!     n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype (1 = f16)
//! i32 n_mels · i32 201 · n_mels×201 f32 mel filterbank (Slaney, sr 16000, n_fft 400)
//! i32 n_tokens · n_tokens × { i32 len · bytes }      text tokens, byte-level form decoded
//! tensors until EOF: { i32 ndim · i32 name_len · i32 ttype (0 f32, 1 f16) ·
//!                      i32 dims[ndim], innermost first · name · data }
//! ```
//!
//! The conversion is a renaming plus three reshapes: CT2 fuses the self-attention
//! query/key/value projections into one `[3d, d]` matrix (and the cross-attention key/value
//! into `[2d, d]`), which are split back into OpenAI's separate tensors, dropping the key
//! bias (always zero; whisper.cpp has none); the conv biases become `[d, 1]`. 1-D tensors,
//! the conv biases and the positional embeddings are written as f32, every other weight as
//! f16. The output is byte-identical to `shared/tools/ct2_to_ggml_reference.py`.
//!
//! [`import_ct2`] validates the whole model (every tensor present, floating-point and of the
//! expected shape) before it creates any file, writes to a temporary file beside the output
//! and renames it into place, so an error never leaves a partial model under the final name.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use half::{bf16, f16};

use super::ct2::{self, Ct2Model, DType, Tensor};

/// `ggml` in ASCII, as the first little-endian `i32` of a whisper.cpp model file.
pub const GGML_MAGIC: u32 = 0x6767_6d6c;

/// whisper.cpp treats a model as multilingual when its vocabulary has at least this many
/// tokens (English-only models have 51864).
pub const MULTILINGUAL_N_VOCAB: usize = 51865;

/// Sample rate and FFT size of Whisper's log-mel front end.
const SAMPLE_RATE: u32 = 16_000;
const N_FFT: usize = 400;

/// An error importing a CTranslate2 model or reading a ggml file; every message names the
/// file and the cause on one line.
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
    #[error("{}: not a whisper.cpp ggml model ({why})", .path.display())]
    NotGgml { path: PathBuf, why: String },
}

/// What [`import_ct2`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportSummary {
    pub n_vocab: usize,
    pub n_audio_layer: usize,
    pub n_text_layer: usize,
    pub d_model: usize,
    pub n_heads: usize,
    /// Size of the written file.
    pub bytes: u64,
    /// Whether whisper.cpp will treat the model as multilingual (`n_vocab >= 51865`).
    pub multilingual: bool,
    /// How the 2-D weights were quantized (`None`: f16).
    pub quantization: Option<Quantization>,
}

/// The hyperparameters at the start of a whisper.cpp ggml file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GgmlHeader {
    pub n_vocab: u32,
    pub n_audio_ctx: u32,
    pub n_audio_state: u32,
    pub n_audio_head: u32,
    pub n_audio_layer: u32,
    pub n_text_ctx: u32,
    pub n_text_state: u32,
    pub n_text_head: u32,
    pub n_text_layer: u32,
    pub n_mels: u32,
    /// 0 f32, 1 f16, or a quantization type plus 1000 × the quantization version (2007 = q8_0).
    pub ftype: u32,
}

impl GgmlHeader {
    /// Whether whisper.cpp treats the model as multilingual.
    pub fn is_multilingual(&self) -> bool {
        self.n_vocab as usize >= MULTILINGUAL_N_VOCAB
    }

    /// The Whisper size whisper.cpp infers from the encoder depth: `tiny`, `base`, `small`,
    /// `medium`, `large`, or `unknown`.
    pub fn model_type(&self) -> &'static str {
        match self.n_audio_layer {
            4 => "tiny",
            6 => "base",
            12 => "small",
            24 => "medium",
            32 => "large",
            _ => "unknown",
        }
    }
}

/// Reads just the header (hparams) of a ggml whisper file.
pub fn read_header(path: &Path) -> Result<GgmlHeader, ImportError> {
    let mut f = File::open(path).map_err(|source| ImportError::Io {
        action: "open",
        path: path.to_path_buf(),
        source,
    })?;
    let mut buf = [0u8; 48];
    let mut have = 0;
    while have < buf.len() {
        match f.read(&mut buf[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(ImportError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
    let not_ggml = |why: String| ImportError::NotGgml {
        path: path.to_path_buf(),
        why,
    };
    if have < 4 {
        return Err(not_ggml(format!("{have} bytes long")));
    }
    let word =
        |i: usize| u32::from_le_bytes([buf[4 * i], buf[4 * i + 1], buf[4 * i + 2], buf[4 * i + 3]]);
    let magic = word(0);
    if magic != GGML_MAGIC {
        return Err(not_ggml(if &buf[..4] == b"GGUF" {
            "a GGUF file; whisper.cpp needs its own ggml format".into()
        } else {
            format!("magic 0x{magic:08x}, expected 0x{GGML_MAGIC:08x}")
        }));
    }
    if have < buf.len() {
        return Err(ImportError::Truncated {
            path: path.to_path_buf(),
            what: "the header".into(),
        });
    }
    let h = GgmlHeader {
        n_vocab: word(1),
        n_audio_ctx: word(2),
        n_audio_state: word(3),
        n_audio_head: word(4),
        n_audio_layer: word(5),
        n_text_ctx: word(6),
        n_text_state: word(7),
        n_text_head: word(8),
        n_text_layer: word(9),
        n_mels: word(10),
        ftype: word(11),
    };
    let fields = [
        h.n_vocab,
        h.n_audio_ctx,
        h.n_audio_state,
        h.n_audio_head,
        h.n_audio_layer,
        h.n_text_ctx,
        h.n_text_state,
        h.n_text_head,
        h.n_text_layer,
        h.n_mels,
    ];
    if fields.iter().any(|&v| v == 0 || v > i32::MAX as u32) || h.ftype > i32::MAX as u32 {
        return Err(ImportError::Invalid {
            path: path.to_path_buf(),
            msg: format!("implausible ggml header {h:?}"),
        });
    }
    Ok(h)
}

/// The librosa-style mel filterbank Whisper uses (Slaney mel scale, Slaney area
/// normalisation, fmin 0, fmax sr/2): row-major `n_mels × (1 + n_fft/2)`.
///
/// Computed in f64 step by step as numpy does in the reference converter, then rounded to
/// f32, so the values are bit-identical to OpenAI's `mel_filters.npz`.
pub fn mel_filterbank(sr: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    let hz_to_mel = |f: f64| {
        if f >= MIN_LOG_HZ {
            min_log_mel + (f.max(1e-10) / MIN_LOG_HZ).ln() / logstep
        } else {
            f / F_SP
        }
    };
    let mel_to_hz = |m: f64| {
        if m >= min_log_mel {
            MIN_LOG_HZ * (logstep * (m - min_log_mel)).exp()
        } else {
            F_SP * m
        }
    };

    let n_freqs = 1 + n_fft / 2;
    let fft_freqs = linspace(0.0, sr as f64 / 2.0, n_freqs);
    let mel_points = linspace(hz_to_mel(0.0), hz_to_mel(sr as f64 / 2.0), n_mels + 2);
    let mels: Vec<f64> = mel_points.into_iter().map(mel_to_hz).collect();

    let mut w = Vec::with_capacity(n_mels * n_freqs);
    for i in 0..n_mels {
        let (lo, mid, hi) = (mels[i], mels[i + 1], mels[i + 2]);
        let (down, up) = (mid - lo, hi - mid);
        let enorm = 2.0 / (hi - lo);
        for &f in &fft_freqs {
            let lower = -(lo - f) / down;
            let upper = (hi - f) / up;
            // `np.maximum(0, np.minimum(lower, upper))` as numpy's SIMD loops compute it
            // (x86 MINPD/MAXPD: the second operand on ties), which keeps the -0.0 at [0][0].
            let v = if lower < upper { lower } else { upper };
            let v = if 0.0 > v { 0.0 } else { v };
            w.push((v * enorm) as f32);
        }
    }
    w
}

/// numpy's `linspace(start, stop, num)`: `i * step + start`, the last point exactly `stop`.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 1 {
        return vec![start];
    }
    let step = (stop - start) / (num - 1) as f64;
    let mut v: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    if let Some(last) = v.last_mut() {
        *last = stop;
    }
    v
}

/// The byte that GPT-2's byte-level alphabet writes as `c`: printable Latin-1 characters
/// stand for themselves, the other 68 bytes (controls, space, DEL..NBSP, soft hyphen) were
/// shifted in order to U+0100..U+0143 (so `Ġ` is a space and `Ċ` a newline).
fn byte_of(c: char) -> Option<u8> {
    let c = c as u32;
    if (0x21..=0x7e).contains(&c) || (0xa1..=0xac).contains(&c) || (0xae..=0xff).contains(&c) {
        return Some(c as u8);
    }
    match c.checked_sub(0x100)? {
        n @ 0..=32 => Some(n as u8),
        n @ 33..=66 => Some((0x7f + n - 33) as u8),
        67 => Some(0xad),
        _ => None,
    }
}

/// Decodes a token in GPT-2 byte-level form (`Ġthe`) to its bytes (` the`); `None` when a
/// character is outside the byte-level alphabet.
pub fn decode_byte_level(token: &str) -> Option<Vec<u8>> {
    token.chars().map(byte_of).collect()
}

/// The ggml block quantizations `subcut model import --quantize` writes, as whisper.cpp's
/// `quantize` tool does: every 2-D weight except the conv biases and the positional
/// embeddings (`encoder.conv{1,2}.bias`, `{en,de}coder.positional_embedding`) becomes blocks of
/// 32 values (q4_k: super-blocks of 256); 1-D tensors stay f32 and the 3-D conv weights f16.
/// The header's `ftype` is ggml's quantization version (2) × 1000 + the file type (`q8_0` →
/// 2007).
///
/// Block layouts (little-endian, `d`/`m` are f16, values read row by row):
/// ```text
/// q8_0  34 B: d = max|x|/127 · 32 × i8 q = round(x/d)                      x ≈ d·q
/// q5_1  24 B: d = (max−min)/31 · m = min · u32 qh · 16 B nibbles           x ≈ d·q + m
/// q5_0  22 B: d = x_absmax/−16 · u32 qh · 16 B nibbles, q = min(31, ⌊x/d + 16.5⌋)   x ≈ d·(q − 16)
/// q4_0  18 B: d = x_absmax/−8 · 16 B nibbles, q = min(15, ⌊x/d + 8.5⌋)               x ≈ d·(q − 8)
/// q4_k 144 B per 256: d, dmin · 12 B of 6-bit scales sc/mins m for 8 sub-blocks of 32 ·
///      128 B nibbles                                              x ≈ d·sc·q − dmin·m
/// ```
/// A byte `j` of the nibbles holds value `j` (low nibble) and value `j + 16` (high nibble);
/// bit `j` of `qh` is the fifth bit of value `j`. The arithmetic follows ggml's reference
/// quantizers (`quantize_row_*_ref` in ggml-quants.c) step for step, so the bytes equal what
/// `ggml_quantize_chunk` writes (a test checks this against the linked ggml). q4_k's reference
/// quantizer is an iterative search for each sub-block's scale and minimum; rather than port
/// it, [`Quantization::quantize`] calls that same linked `ggml_quantize_chunk` for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Quantization {
    /// 8-bit, 34 bytes per 32 weights (≈ 53 % of f16).
    #[value(name = "q8_0")]
    Q8_0,
    /// 5-bit with a minimum, 24 bytes per 32 weights.
    #[value(name = "q5_1")]
    Q5_1,
    /// 5-bit, 22 bytes per 32 weights.
    #[value(name = "q5_0")]
    Q5_0,
    /// 4-bit, 18 bytes per 32 weights.
    #[value(name = "q4_0")]
    Q4_0,
    /// 4-bit k-quant, 144 bytes per 256 weights: slightly less accurate than q8_0, faster only
    /// on CPUs without Intel AMX; rows must be multiples of 256 (base and up).
    #[value(name = "q4_k")]
    Q4K,
}

/// Values per quantization block (`QK8_0`, `QK5_0`, … in ggml).
pub const QK: usize = 32;
/// Values per k-quant super-block (`QK_K` in ggml).
pub const QK_K: usize = 256;
/// `GGML_QNT_VERSION`: the header's ftype is this × 1000 + the file type.
const GGML_QNT_VERSION: u32 = 2;

impl Quantization {
    pub const ALL: [Quantization; 5] = [
        Quantization::Q8_0,
        Quantization::Q5_1,
        Quantization::Q5_0,
        Quantization::Q4_0,
        Quantization::Q4K,
    ];

    /// The name used on the command line and in model names (`base-q8_0`).
    pub fn name(self) -> &'static str {
        match self {
            Quantization::Q8_0 => "q8_0",
            Quantization::Q5_1 => "q5_1",
            Quantization::Q5_0 => "q5_0",
            Quantization::Q4_0 => "q4_0",
            Quantization::Q4K => "q4_k",
        }
    }

    /// ggml's tensor type (`GGML_TYPE_Q8_0` = 8, …), the `ttype` of a quantized tensor.
    pub fn ggml_type(self) -> u32 {
        match self {
            Quantization::Q4_0 => 2,
            Quantization::Q5_0 => 6,
            Quantization::Q5_1 => 7,
            Quantization::Q8_0 => 8,
            Quantization::Q4K => 12,
        }
    }

    /// ggml's file type (`GGML_FTYPE_MOSTLY_Q8_0` = 7, …).
    pub fn ftype(self) -> u32 {
        match self {
            Quantization::Q4_0 => 2,
            Quantization::Q8_0 => 7,
            Quantization::Q5_0 => 8,
            Quantization::Q5_1 => 9,
            Quantization::Q4K => 12,
        }
    }

    /// The `ftype` field of a whisper.cpp header for this quantization (2007 for q8_0).
    pub fn header_ftype(self) -> u32 {
        GGML_QNT_VERSION * 1000 + self.ftype()
    }

    /// The quantization a header `ftype` stands for (`None` for f32/f16 and other types).
    pub fn from_header_ftype(ftype: u32) -> Option<Quantization> {
        Quantization::ALL
            .into_iter()
            .find(|q| q.ftype() == ftype % 1000 && ftype >= 1000)
    }

    /// Values per block: [`QK`], or [`QK_K`] for the k-quant. A quantized tensor's rows must
    /// be whole blocks.
    pub fn block_values(self) -> usize {
        match self {
            Quantization::Q4K => QK_K,
            _ => QK,
        }
    }

    /// Bytes of one block of [`block_values`](Quantization::block_values) values.
    pub fn block_bytes(self) -> usize {
        match self {
            Quantization::Q8_0 => 34,
            Quantization::Q5_1 => 24,
            Quantization::Q5_0 => 22,
            Quantization::Q4_0 => 18,
            Quantization::Q4K => 144,
        }
    }

    /// Bytes of `n` values (whole blocks).
    pub fn bytes(self, n: usize) -> usize {
        n / self.block_values() * self.block_bytes()
    }

    /// Appends the blocks of `x` (whole blocks, see
    /// [`block_values`](Quantization::block_values)) to `out`.
    pub fn quantize(self, x: &[f32], out: &mut Vec<u8>) {
        assert!(
            x.len().is_multiple_of(self.block_values()),
            "{} values are not whole {} blocks",
            x.len(),
            self.name()
        );
        if self == Quantization::Q4K {
            let at = out.len();
            out.resize(at + self.bytes(x.len()), 0);
            let n = x.len() / QK_K;
            // SAFETY: `x` holds n rows of QK_K values and `out[at..]` room for their n blocks;
            // q4_K needs no importance matrix (a null one means "none").
            let written = unsafe {
                whisper_rs::whisper_rs_sys::ggml_quantize_chunk(
                    self.ggml_type(),
                    x.as_ptr(),
                    out[at..].as_mut_ptr().cast(),
                    0,
                    n as i64,
                    QK_K as i64,
                    std::ptr::null(),
                )
            };
            assert_eq!(written, out.len() - at, "ggml wrote an unexpected size");
            return;
        }
        out.reserve(self.bytes(x.len()));
        for b in x.chunks_exact(QK) {
            match self {
                Quantization::Q8_0 => q8_0_block(b, out),
                Quantization::Q5_1 => q5_1_block(b, out),
                Quantization::Q5_0 => q5_0_block(b, out),
                Quantization::Q4_0 => q4_0_block(b, out),
                Quantization::Q4K => unreachable!("quantized by ggml above"),
            }
        }
    }

    /// The values that blocks decode to (ggml's `dequantize_row_*`), appended to `out`.
    pub fn dequantize(self, blocks: &[u8], out: &mut Vec<f32>) {
        let n = self.block_bytes();
        assert!(
            blocks.len().is_multiple_of(n),
            "not whole {} blocks",
            self.name()
        );
        let h = |b: &[u8], i: usize| f16::from_le_bytes([b[i], b[i + 1]]).to_f32();
        for b in blocks.chunks_exact(n) {
            let d = h(b, 0);
            match self {
                Quantization::Q4K => q4_k_dequantize(b, d, h(b, 2), out),
                Quantization::Q8_0 => out.extend(b[2..].iter().map(|&q| q as i8 as f32 * d)),
                Quantization::Q4_0 => {
                    let qs = &b[2..18];
                    out.extend(qs.iter().map(|&q| ((q & 0x0f) as i32 - 8) as f32 * d));
                    out.extend(qs.iter().map(|&q| ((q >> 4) as i32 - 8) as f32 * d));
                }
                Quantization::Q5_0 | Quantization::Q5_1 => {
                    let (m, at) = match self {
                        Quantization::Q5_1 => (Some(h(b, 2)), 4),
                        _ => (None, 2),
                    };
                    let qh = u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
                    let qs = &b[at + 4..at + 20];
                    let value = |j: usize, nibble: u8| {
                        let q = (nibble | ((((qh >> j) & 1) as u8) << 4)) as i32;
                        match m {
                            Some(m) => q as f32 * d + m,
                            None => (q - 16) as f32 * d,
                        }
                    };
                    out.extend((0..16).map(|j| value(j, qs[j] & 0x0f)));
                    out.extend((0..16).map(|j| value(j + 16, qs[j] >> 4)));
                }
            }
        }
    }
}

impl std::fmt::Display for Quantization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Quantization {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Quantization::ALL
            .into_iter()
            .find(|q| q.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown quantization {s:?} (expected q8_0, q5_1, q5_0, q4_0 or q4_k)")
            })
    }
}

/// `dequantize_row_q4_K` for one super-block: eight sub-blocks of 32, each with a 6-bit scale
/// and minimum (`get_scale_min_k4`); byte `l` of a 32-byte group of nibbles holds value `l` of
/// the group's first sub-block (low nibble) and of its second (high nibble).
fn q4_k_dequantize(b: &[u8], d: f32, dmin: f32, out: &mut Vec<f32>) {
    let (scales, qs) = (&b[4..16], &b[16..144]);
    let scale_min = |j: usize| -> (f32, f32) {
        let (sc, m) = if j < 4 {
            (scales[j] & 63, scales[j + 4] & 63)
        } else {
            (
                (scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4),
                (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4),
            )
        };
        (d * sc as f32, dmin * m as f32)
    };
    for (g, q) in qs.chunks_exact(32).enumerate() {
        let (d1, m1) = scale_min(2 * g);
        let (d2, m2) = scale_min(2 * g + 1);
        out.extend(q.iter().map(|&v| d1 * (v & 0x0f) as f32 - m1));
        out.extend(q.iter().map(|&v| d2 * (v >> 4) as f32 - m2));
    }
}

/// `GGML_FP32_TO_FP16`: round to nearest, ties to even.
fn half_bytes(v: f32) -> [u8; 2] {
    f16::from_f32(v).to_bits().to_le_bytes()
}

/// The value of largest magnitude (the first one on ties) and its magnitude.
fn signed_absmax(x: &[f32]) -> (f32, f32) {
    let (mut amax, mut max) = (0.0f32, 0.0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    (amax, max)
}

/// Minimum and maximum, starting from ±FLT_MAX as ggml does.
fn min_max(x: &[f32]) -> (f32, f32) {
    let (mut min, mut max) = (f32::MAX, -f32::MAX);
    for &v in x {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    (min, max)
}

fn inverse(d: f32) -> f32 {
    if d != 0.0 {
        1.0 / d
    } else {
        0.0
    }
}

/// `quantize_row_q8_0_ref`.
fn q8_0_block(x: &[f32], out: &mut Vec<u8>) {
    let amax = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    let d = amax / 127.0;
    let id = inverse(d);
    out.extend_from_slice(&half_bytes(d));
    out.extend(x.iter().map(|&v| (v * id).round() as i8 as u8));
}

/// `quantize_row_q4_0_ref`.
fn q4_0_block(x: &[f32], out: &mut Vec<u8>) {
    let (_, max) = signed_absmax(x);
    let d = max / -8.0;
    let id = inverse(d);
    out.extend_from_slice(&half_bytes(d));
    let q = |v: f32| ((v * id + 8.5) as i8).min(15) as u8;
    out.extend((0..16).map(|j| q(x[j]) | (q(x[j + 16]) << 4)));
}

/// `quantize_row_q5_0_ref`.
fn q5_0_block(x: &[f32], out: &mut Vec<u8>) {
    let (_, max) = signed_absmax(x);
    let d = max / -16.0;
    let id = inverse(d);
    out.extend_from_slice(&half_bytes(d));
    let q = |v: f32| ((v * id + 16.5) as i8).min(31) as u8;
    push_q5(x, q, out);
}

/// `quantize_row_q5_1_ref`.
fn q5_1_block(x: &[f32], out: &mut Vec<u8>) {
    let (min, max) = min_max(x);
    let d = (max - min) / 31.0;
    let id = inverse(d);
    out.extend_from_slice(&half_bytes(d));
    out.extend_from_slice(&half_bytes(min));
    let q = |v: f32| ((v - min) * id + 0.5) as u8;
    push_q5(x, q, out);
}

/// The fifth bits (`qh`) and the nibbles of a 5-bit block.
fn push_q5(x: &[f32], q: impl Fn(f32) -> u8, out: &mut Vec<u8>) {
    let mut qh = 0u32;
    let mut qs = [0u8; 16];
    for j in 0..16 {
        let (a, b) = (q(x[j]), q(x[j + 16]));
        qs[j] = (a & 0x0f) | ((b & 0x0f) << 4);
        qh |= (((a & 0x10) >> 4) as u32) << j;
        qh |= (((b & 0x10) >> 4) as u32) << (j + 16);
    }
    out.extend_from_slice(&qh.to_le_bytes());
    out.extend_from_slice(&qs);
}

/// How a tensor is stored in the ggml file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutType {
    F32,
    F16,
    Quant(Quantization),
}

impl OutType {
    fn ttype(self) -> i32 {
        match self {
            OutType::F32 => 0,
            OutType::F16 => 1,
            OutType::Quant(q) => q.ggml_type() as i32,
        }
    }

    /// Bytes of `n` values.
    fn bytes(self, n: usize) -> usize {
        match self {
            OutType::F32 => 4 * n,
            OutType::F16 => 2 * n,
            OutType::Quant(q) => q.bytes(n),
        }
    }
}

/// One tensor to write: its ggml name, dims (outermost first) and source bytes.
struct Planned<'a> {
    name: String,
    dims: Vec<usize>,
    src: &'a [u8],
    dtype: DType,
    out: OutType,
}

impl Planned<'_> {
    fn file_bytes(&self) -> u64 {
        let n = self.src.len() / self.dtype.size();
        (12 + 4 * self.dims.len() + self.name.len() + self.out.bytes(n)) as u64
    }
}

/// Model dimensions read from the CT2 weights.
struct Dims {
    d: usize,
    n_mels: usize,
    n_audio_ctx: usize,
    n_text_ctx: usize,
    n_audio_layer: usize,
    n_text_layer: usize,
    n_audio_head: usize,
    n_text_head: usize,
}

/// Builds the list of tensors to write, in the reference converter's order, checking that
/// every source tensor exists, is floating-point and has the shape Whisper needs.
struct Planner<'a> {
    m: &'a Ct2Model,
    d: usize,
    out: Vec<Planned<'a>>,
}

impl<'a> Planner<'a> {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<Tensor<'a>, ImportError> {
        let t = self.m.get_float(name)?;
        if t.dims != shape {
            return Err(ImportError::Invalid {
                path: self.m.path().to_path_buf(),
                msg: format!("tensor {name} has shape {:?}, expected {shape:?}", t.dims),
            });
        }
        Ok(t)
    }

    fn push(&mut self, name: String, dims: Vec<usize>, t: Tensor<'a>, src: &'a [u8]) {
        let f32_names = [
            "encoder.conv1.bias",
            "encoder.conv2.bias",
            "encoder.positional_embedding",
            "decoder.positional_embedding",
        ];
        let out = if dims.len() < 2 || f32_names.contains(&name.as_str()) {
            OutType::F32
        } else {
            OutType::F16
        };
        self.out.push(Planned {
            name,
            dims,
            src,
            dtype: t.dtype,
            out,
        });
    }

    /// A tensor copied whole.
    fn whole(&mut self, src: &str, shape: &[usize], dst: &str) -> Result<(), ImportError> {
        let t = self.tensor(src, shape)?;
        self.push(dst.to_string(), shape.to_vec(), t, t.data);
        Ok(())
    }

    /// Rows `rows` of the 2-D (or 1-D) tensor `t`, as a tensor of its own.
    fn rows(&mut self, t: Tensor<'a>, rows: std::ops::Range<usize>, dst: String) {
        let row_elems: usize = t.dims[1..].iter().product();
        let row_bytes = row_elems * t.dtype.size();
        let mut dims = t.dims.to_vec();
        dims[0] = rows.len();
        self.push(
            dst,
            dims,
            t,
            &t.data[rows.start * row_bytes..rows.end * row_bytes],
        );
    }

    fn linear(
        &mut self,
        src: &str,
        out_dim: usize,
        in_dim: usize,
        dst: &str,
    ) -> Result<(), ImportError> {
        self.whole(
            &format!("{src}/weight"),
            &[out_dim, in_dim],
            &format!("{dst}.weight"),
        )?;
        self.whole(&format!("{src}/bias"), &[out_dim], &format!("{dst}.bias"))
    }

    fn layer_norm(&mut self, src: &str, dst: &str) -> Result<(), ImportError> {
        let d = self.d;
        self.whole(&format!("{src}/gamma"), &[d], &format!("{dst}.weight"))?;
        self.whole(&format!("{src}/beta"), &[d], &format!("{dst}.bias"))
    }

    /// A fused `[3d, d]` query/key/value projection, split; the key bias is dropped.
    fn qkv(&mut self, src: &str, dst: &str) -> Result<(), ImportError> {
        let d = self.d;
        let w = self.tensor(&format!("{src}/weight"), &[3 * d, d])?;
        let b = self.tensor(&format!("{src}/bias"), &[3 * d])?;
        self.rows(w, 0..d, format!("{dst}.query.weight"));
        self.rows(b, 0..d, format!("{dst}.query.bias"));
        self.rows(w, d..2 * d, format!("{dst}.key.weight"));
        self.rows(w, 2 * d..3 * d, format!("{dst}.value.weight"));
        self.rows(b, 2 * d..3 * d, format!("{dst}.value.bias"));
        Ok(())
    }

    /// Shared by encoder and decoder layers: self-attention, its layer norm.
    fn self_attention(&mut self, p: &str, q: &str) -> Result<(), ImportError> {
        let d = self.d;
        self.qkv(&format!("{p}self_attention/linear_0"), &format!("{q}attn"))?;
        self.linear(
            &format!("{p}self_attention/linear_1"),
            d,
            d,
            &format!("{q}attn.out"),
        )?;
        self.layer_norm(
            &format!("{p}self_attention/layer_norm"),
            &format!("{q}attn_ln"),
        )
    }

    fn ffn(&mut self, p: &str, q: &str) -> Result<(), ImportError> {
        let d = self.d;
        self.linear(&format!("{p}ffn/linear_0"), 4 * d, d, &format!("{q}mlp.0"))?;
        self.linear(&format!("{p}ffn/linear_1"), d, 4 * d, &format!("{q}mlp.2"))?;
        self.layer_norm(&format!("{p}ffn/layer_norm"), &format!("{q}mlp_ln"))
    }

    fn plan(m: &'a Ct2Model, dims: &Dims, n_vocab: usize) -> Result<Vec<Planned<'a>>, ImportError> {
        let d = dims.d;
        let mut p = Planner {
            m,
            d,
            out: Vec::new(),
        };
        p.whole(
            "encoder/position_encodings/encodings",
            &[dims.n_audio_ctx, d],
            "encoder.positional_embedding",
        )?;
        p.whole(
            "encoder/conv1/weight",
            &[d, dims.n_mels, 3],
            "encoder.conv1.weight",
        )?;
        let b = p.tensor("encoder/conv1/bias", &[d])?;
        p.push("encoder.conv1.bias".into(), vec![d, 1], b, b.data);
        p.whole("encoder/conv2/weight", &[d, d, 3], "encoder.conv2.weight")?;
        let b = p.tensor("encoder/conv2/bias", &[d])?;
        p.push("encoder.conv2.bias".into(), vec![d, 1], b, b.data);
        for i in 0..dims.n_audio_layer {
            let (src, dst) = (
                format!("encoder/layer_{i}/"),
                format!("encoder.blocks.{i}."),
            );
            p.self_attention(&src, &dst)?;
            p.ffn(&src, &dst)?;
        }
        p.layer_norm("encoder/layer_norm", "encoder.ln_post")?;

        p.whole(
            "decoder/position_encodings/encodings",
            &[dims.n_text_ctx, d],
            "decoder.positional_embedding",
        )?;
        p.whole(
            "decoder/embeddings/weight",
            &[n_vocab, d],
            "decoder.token_embedding.weight",
        )?;
        for i in 0..dims.n_text_layer {
            let (src, dst) = (
                format!("decoder/layer_{i}/"),
                format!("decoder.blocks.{i}."),
            );
            p.self_attention(&src, &dst)?;
            p.linear(
                &format!("{src}attention/linear_0"),
                d,
                d,
                &format!("{dst}cross_attn.query"),
            )?;
            let w = p.tensor(&format!("{src}attention/linear_1/weight"), &[2 * d, d])?;
            let b = p.tensor(&format!("{src}attention/linear_1/bias"), &[2 * d])?;
            p.rows(w, 0..d, format!("{dst}cross_attn.key.weight"));
            p.rows(w, d..2 * d, format!("{dst}cross_attn.value.weight"));
            p.rows(b, d..2 * d, format!("{dst}cross_attn.value.bias"));
            p.linear(
                &format!("{src}attention/linear_2"),
                d,
                d,
                &format!("{dst}cross_attn.out"),
            )?;
            p.layer_norm(
                &format!("{src}attention/layer_norm"),
                &format!("{dst}cross_attn_ln"),
            )?;
            p.ffn(&src, &dst)?;
        }
        p.layer_norm("decoder/layer_norm", "decoder.ln")?;
        Ok(p.out)
    }
}

/// Reads the model dimensions from the CT2 weights.
fn model_dims(m: &Ct2Model) -> Result<Dims, ImportError> {
    let invalid = |msg: String| ImportError::Invalid {
        path: m.path().to_path_buf(),
        msg,
    };
    let conv1 = m.get("encoder/conv1/weight")?;
    let &[d, n_mels, 3] = conv1.dims else {
        return Err(invalid(format!(
            "tensor encoder/conv1/weight has shape {:?}, expected [d, n_mels, 3]",
            conv1.dims
        )));
    };
    let ctx = |name: &str| -> Result<usize, ImportError> {
        let t = m.get(name)?;
        match *t.dims {
            [n, w] if w == d && n > 0 => Ok(n),
            _ => Err(invalid(format!(
                "tensor {name} has shape {:?}, expected [n_ctx, {d}]",
                t.dims
            ))),
        }
    };
    let count_layers = |side: &str| {
        (0..)
            .take_while(|i| m.contains(&format!("{side}/layer_{i}/ffn/linear_0/bias")))
            .count()
    };
    let heads = |name: &str| -> Result<usize, ImportError> {
        let h = m.scalar_int(name)?;
        if h <= 0 || d % h as usize != 0 {
            return Err(invalid(format!(
                "{name} is {h}, which does not divide the model width {d}"
            )));
        }
        Ok(h as usize)
    };
    let dims = Dims {
        d,
        n_mels,
        n_audio_ctx: ctx("encoder/position_encodings/encodings")?,
        n_text_ctx: ctx("decoder/position_encodings/encodings")?,
        n_audio_layer: count_layers("encoder"),
        n_text_layer: count_layers("decoder"),
        n_audio_head: heads("encoder/num_heads")?,
        n_text_head: heads("decoder/num_heads")?,
    };
    if d == 0 || n_mels == 0 {
        return Err(invalid(format!(
            "tensor encoder/conv1/weight has an empty shape {:?}",
            conv1.dims
        )));
    }
    if dims.n_audio_layer == 0 {
        return Err(ImportError::MissingTensor {
            path: m.path().to_path_buf(),
            name: "encoder/layer_0/ffn/linear_0/bias".into(),
        });
    }
    if dims.n_text_layer == 0 {
        return Err(ImportError::MissingTensor {
            path: m.path().to_path_buf(),
            name: "decoder/layer_0/ffn/linear_0/bias".into(),
        });
    }
    Ok(dims)
}

/// Converts a CTranslate2 whisper directory (model.bin, config.json, vocabulary.txt) to a
/// whisper.cpp ggml file.
///
/// Writes to a temp file in `out`'s directory, then renames: no partial file under the
/// final name on any error. `config.json` is optional, but must parse when present.
pub fn import_ct2(ct2_dir: &Path, out: &Path) -> Result<ImportSummary, ImportError> {
    import_ct2_with(ct2_dir, out, None)
}

/// [`import_ct2`], with the 2-D weights quantized as whisper.cpp's `quantize` tool would
/// quantize the f16 file (see [`Quantization`]): the result is byte for byte
/// `quantize(import_ct2(dir))`, in one pass and without the f16 file.
pub fn import_ct2_with(
    ct2_dir: &Path,
    out: &Path,
    quantize: Option<Quantization>,
) -> Result<ImportSummary, ImportError> {
    let files = ct2::Ct2Dir::locate(ct2_dir)?;
    if let Some(config) = &files.config {
        ct2::read_config(config)?;
    }
    let vocab = ct2::read_vocabulary(&files.vocabulary)?;
    let vocab_err = |msg: String| ImportError::Invalid {
        path: files.vocabulary.clone(),
        msg,
    };
    let eot = vocab
        .iter()
        .position(|t| t == "<|endoftext|>")
        .ok_or_else(|| vocab_err("no <|endoftext|> token".into()))?;
    let text_tokens = vocab[..eot]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            decode_byte_level(t).ok_or_else(|| {
                vocab_err(format!(
                    "line {}: token {t:?} is not in GPT-2 byte-level form",
                    i + 1
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let n_vocab = vocab.len();
    if n_vocab > i32::MAX as usize {
        return Err(vocab_err(format!("{n_vocab} tokens")));
    }

    let model = Ct2Model::open(&files.model)?;
    if model.spec() != "WhisperSpec" {
        return Err(ImportError::Invalid {
            path: files.model.clone(),
            msg: format!(
                "a {} model, not a Whisper model (WhisperSpec)",
                model.spec()
            ),
        });
    }
    let dims = model_dims(&model)?;
    let emb = model.get("decoder/embeddings/weight")?;
    if emb.dims.first() != Some(&n_vocab) {
        return Err(ImportError::Invalid {
            path: files.model.clone(),
            msg: format!(
                "decoder/embeddings/weight has shape {:?}, but {} has {n_vocab} tokens",
                emb.dims,
                files.vocabulary.display()
            ),
        });
    }
    let mut tensors = Planner::plan(&model, &dims, n_vocab)?;
    if let Some(q) = quantize {
        // whisper.cpp's quantize: 2-D tensors not on its skip list (the conv biases and the
        // positional embeddings, which are f32 here anyway); the 3-D conv weights stay f16.
        for t in tensors
            .iter_mut()
            .filter(|t| t.out == OutType::F16 && t.dims.len() == 2)
        {
            let (row, block) = (t.dims[1], q.block_values());
            if row % block != 0 {
                // whisper.cpp gives every quantized weight the file's one type: no fallback.
                let hint = if row % QK == 0 {
                    " (the 32-value types q8_0, q5_1, q5_0 and q4_0 fit this model)"
                } else {
                    ""
                };
                return Err(ImportError::Invalid {
                    path: files.model.clone(),
                    msg: format!(
                        "cannot quantize {} to {q}: its rows of {row} values are not a multiple of {block}{hint}",
                        t.name
                    ),
                });
            }
            t.out = OutType::Quant(q);
        }
    }
    let mel = mel_filterbank(SAMPLE_RATE, N_FFT, dims.n_mels);

    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let write_err = |source: io::Error| ImportError::Io {
        action: "write",
        path: out.to_path_buf(),
        source,
    };
    let tmp = tempfile::Builder::new()
        .prefix(".subcut-import-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|source| ImportError::Io {
            action: "create a temporary file in",
            path: dir.to_path_buf(),
            source,
        })?;
    {
        let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file());
        let i32s = |w: &mut BufWriter<&File>, v: &[usize]| -> io::Result<()> {
            v.iter()
                .try_for_each(|&x| w.write_all(&(x as i32).to_le_bytes()))
        };
        w.write_all(&GGML_MAGIC.to_le_bytes()).map_err(write_err)?;
        i32s(
            &mut w,
            &[
                n_vocab,
                dims.n_audio_ctx,
                dims.d,
                dims.n_audio_head,
                dims.n_audio_layer,
                dims.n_text_ctx,
                dims.d,
                dims.n_text_head,
                dims.n_text_layer,
                dims.n_mels,
                quantize.map_or(1, |q| q.header_ftype() as usize),
            ],
        )
        .map_err(write_err)?;
        i32s(&mut w, &[dims.n_mels, 1 + N_FFT / 2]).map_err(write_err)?;
        for v in &mel {
            w.write_all(&v.to_le_bytes()).map_err(write_err)?;
        }
        i32s(&mut w, &[text_tokens.len()]).map_err(write_err)?;
        for t in &text_tokens {
            i32s(&mut w, &[t.len()]).map_err(write_err)?;
            w.write_all(t).map_err(write_err)?;
        }
        for t in &tensors {
            write_tensor(&mut w, t).map_err(write_err)?;
        }
        w.flush().map_err(write_err)?;
    }
    let bytes = tmp.as_file().metadata().map_err(write_err)?.len();
    let expected = 48
        + 8
        + 4 * mel.len() as u64
        + 4
        + text_tokens.iter().map(|t| 4 + t.len() as u64).sum::<u64>()
        + tensors.iter().map(Planned::file_bytes).sum::<u64>();
    if bytes != expected {
        return Err(write_err(io::Error::other(format!(
            "wrote {bytes} bytes, expected {expected}"
        ))));
    }
    tmp.as_file().sync_all().map_err(write_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Temporary files are private (0600); a model is an ordinary file.
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(write_err)?;
    }
    tmp.persist(out).map_err(|e| write_err(e.error))?;

    Ok(ImportSummary {
        n_vocab,
        n_audio_layer: dims.n_audio_layer,
        n_text_layer: dims.n_text_layer,
        d_model: dims.d,
        n_heads: dims.n_audio_head,
        bytes,
        multilingual: n_vocab >= MULTILINGUAL_N_VOCAB,
        quantization: quantize,
    })
}

/// Writes one tensor record, converting the element type where needed.
fn write_tensor(w: &mut impl Write, t: &Planned) -> io::Result<()> {
    let head = [t.dims.len() as i32, t.name.len() as i32, t.out.ttype()];
    for v in head.iter().chain(
        t.dims
            .iter()
            .rev()
            .map(|&d| d as i32)
            .collect::<Vec<_>>()
            .iter(),
    ) {
        w.write_all(&v.to_le_bytes())?;
    }
    w.write_all(t.name.as_bytes())?;
    match (t.dtype, t.out) {
        (DType::F16, OutType::F16) | (DType::F32, OutType::F32) => w.write_all(t.src),
        (DType::F16, OutType::F32) => convert::<2, 4>(w, t.src, |b| {
            f16::from_bits(u16::from_le_bytes([b[0], b[1]]))
                .to_f32()
                .to_le_bytes()
        }),
        (DType::BF16, OutType::F32) => convert::<2, 4>(w, t.src, |b| {
            bf16::from_bits(u16::from_le_bytes([b[0], b[1]]))
                .to_f32()
                .to_le_bytes()
        }),
        (DType::F32, OutType::F16) => convert::<4, 2>(w, t.src, |b| {
            f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .to_bits()
                .to_le_bytes()
        }),
        (DType::BF16, OutType::F16) => convert::<2, 2>(w, t.src, |b| {
            f16::from_f32(bf16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32())
                .to_bits()
                .to_le_bytes()
        }),
        // As the f16 file holds it, then quantized.
        (DType::F16 | DType::F32 | DType::BF16, OutType::Quant(q)) => {
            let values: Vec<f32> = match t.dtype {
                DType::F16 => t
                    .src
                    .chunks_exact(2)
                    .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                    .collect(),
                DType::F32 => t
                    .src
                    .chunks_exact(4)
                    .map(|b| f16::from_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).to_f32())
                    .collect(),
                _ => t
                    .src
                    .chunks_exact(2)
                    .map(|b| {
                        let v = bf16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32();
                        f16::from_f32(v).to_f32()
                    })
                    .collect(),
            };
            let mut blocks = Vec::with_capacity(t.out.bytes(values.len()));
            q.quantize(&values, &mut blocks);
            w.write_all(&blocks)
        }
        // The planner only lets floating-point tensors through.
        (d, _) => Err(io::Error::other(format!(
            "cannot convert {} tensor {}",
            d.name(),
            t.name
        ))),
    }
}

/// Converts `src` element by element (`I` bytes in, `O` bytes out) through a buffer.
fn convert<const I: usize, const O: usize>(
    w: &mut impl Write,
    src: &[u8],
    f: impl Fn(&[u8]) -> [u8; O],
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(64 * 1024);
    for chunk in src.chunks(I * 16 * 1024) {
        buf.clear();
        for b in chunk.chunks_exact(I) {
            buf.extend_from_slice(&f(b));
        }
        w.write_all(&buf)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::ct2::fixture::{self, *};
    use super::*;

    /// A whole ggml file, parsed independently of the writer.
    struct Parsed {
        hparams: Vec<i32>,
        mel_shape: (i32, i32),
        mel: Vec<f32>,
        tokens: Vec<Vec<u8>>,
        tensors: Vec<ParsedTensor>,
    }

    struct ParsedTensor {
        name: String,
        ttype: i32,
        dims_innermost_first: Vec<usize>,
        values: Vec<f32>,
    }

    fn parse_ggml(bytes: &[u8]) -> Parsed {
        struct Cursor<'a>(&'a [u8]);
        impl<'a> Cursor<'a> {
            fn take(&mut self, n: usize) -> &'a [u8] {
                let (s, rest) = self.0.split_at(n);
                self.0 = rest;
                s
            }
        }
        let mut c = Cursor(bytes);
        let mut take = |n: usize| c.take(n);
        fn i32_of(b: &[u8]) -> i32 {
            i32::from_le_bytes(b.try_into().unwrap())
        }
        assert_eq!(i32_of(take(4)), 0x6767_6d6c);
        let hparams: Vec<i32> = (0..11).map(|_| i32_of(take(4))).collect();
        let mel_shape = (i32_of(take(4)), i32_of(take(4)));
        let n_mel = (mel_shape.0 * mel_shape.1) as usize;
        let mel = take(4 * n_mel)
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let n_tokens = i32_of(take(4));
        let tokens = (0..n_tokens)
            .map(|_| {
                let len = i32_of(take(4)) as usize;
                take(len).to_vec()
            })
            .collect();
        let mut tensors = Vec::new();
        while !c.0.is_empty() {
            let mut take = |n: usize| c.take(n);
            let (ndim, name_len, ttype) = (i32_of(take(4)), i32_of(take(4)), i32_of(take(4)));
            let dims: Vec<usize> = (0..ndim).map(|_| i32_of(take(4)) as usize).collect();
            let name = String::from_utf8(take(name_len as usize).to_vec()).unwrap();
            let n: usize = dims.iter().product();
            let values = match ttype {
                0 => take(4 * n)
                    .chunks(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
                1 => take(2 * n)
                    .chunks(2)
                    .map(|c| f16::from_le_bytes(c.try_into().unwrap()).to_f32())
                    .collect(),
                t => {
                    let q = Quantization::ALL
                        .into_iter()
                        .find(|q| q.ggml_type() as i32 == t)
                        .unwrap_or_else(|| panic!("unexpected ttype {t}"));
                    let mut v = Vec::new();
                    q.dequantize(take(q.bytes(n)), &mut v);
                    v
                }
            };
            tensors.push(ParsedTensor {
                name,
                ttype,
                dims_innermost_first: dims,
                values,
            });
        }
        Parsed {
            hparams,
            mel_shape,
            mel,
            tokens,
            tensors,
        }
    }

    /// One expected ggml tensor: its name, the CT2 source, which rows of it, the dims
    /// (outermost first) and the ggml type.
    struct Expect {
        name: String,
        src: String,
        rows: Option<(usize, usize)>,
        dims: Vec<usize>,
        ttype: i32,
    }

    fn expected_tensors() -> Vec<Expect> {
        let d = fixture::D as usize;
        let mut v = Vec::new();
        let mut e =
            |name: &str, src: &str, rows: Option<(usize, usize)>, dims: &[usize], ttype: i32| {
                v.push(Expect {
                    name: name.into(),
                    src: src.into(),
                    rows,
                    dims: dims.to_vec(),
                    ttype,
                })
            };
        let (f32_, f16_) = (0, 1);
        e(
            "encoder.positional_embedding",
            "encoder/position_encodings/encodings",
            None,
            &[6, d],
            f32_,
        );
        e(
            "encoder.conv1.weight",
            "encoder/conv1/weight",
            None,
            &[d, 80, 3],
            f16_,
        );
        e(
            "encoder.conv1.bias",
            "encoder/conv1/bias",
            None,
            &[d, 1],
            f32_,
        );
        e(
            "encoder.conv2.weight",
            "encoder/conv2/weight",
            None,
            &[d, d, 3],
            f16_,
        );
        e(
            "encoder.conv2.bias",
            "encoder/conv2/bias",
            None,
            &[d, 1],
            f32_,
        );
        for side in ["encoder", "decoder"] {
            let (p, q) = (format!("{side}/layer_0/"), format!("{side}.blocks.0."));
            if side == "decoder" {
                e(
                    "decoder.positional_embedding",
                    "decoder/position_encodings/encodings",
                    None,
                    &[4, d],
                    f32_,
                );
                e(
                    "decoder.token_embedding.weight",
                    "decoder/embeddings/weight",
                    None,
                    &[6, d],
                    f16_,
                );
            }
            let qkv = format!("{p}self_attention/linear_0/");
            e(
                &format!("{q}attn.query.weight"),
                &format!("{qkv}weight"),
                Some((0, d)),
                &[d, d],
                f16_,
            );
            e(
                &format!("{q}attn.query.bias"),
                &format!("{qkv}bias"),
                Some((0, d)),
                &[d],
                f32_,
            );
            e(
                &format!("{q}attn.key.weight"),
                &format!("{qkv}weight"),
                Some((d, 2 * d)),
                &[d, d],
                f16_,
            );
            e(
                &format!("{q}attn.value.weight"),
                &format!("{qkv}weight"),
                Some((2 * d, 3 * d)),
                &[d, d],
                f16_,
            );
            e(
                &format!("{q}attn.value.bias"),
                &format!("{qkv}bias"),
                Some((2 * d, 3 * d)),
                &[d],
                f32_,
            );
            e(
                &format!("{q}attn.out.weight"),
                &format!("{p}self_attention/linear_1/weight"),
                None,
                &[d, d],
                f16_,
            );
            e(
                &format!("{q}attn.out.bias"),
                &format!("{p}self_attention/linear_1/bias"),
                None,
                &[d],
                f32_,
            );
            e(
                &format!("{q}attn_ln.weight"),
                &format!("{p}self_attention/layer_norm/gamma"),
                None,
                &[d],
                f32_,
            );
            e(
                &format!("{q}attn_ln.bias"),
                &format!("{p}self_attention/layer_norm/beta"),
                None,
                &[d],
                f32_,
            );
            if side == "decoder" {
                let a = format!("{p}attention/");
                e(
                    &format!("{q}cross_attn.query.weight"),
                    &format!("{a}linear_0/weight"),
                    None,
                    &[d, d],
                    f16_,
                );
                e(
                    &format!("{q}cross_attn.query.bias"),
                    &format!("{a}linear_0/bias"),
                    None,
                    &[d],
                    f32_,
                );
                e(
                    &format!("{q}cross_attn.key.weight"),
                    &format!("{a}linear_1/weight"),
                    Some((0, d)),
                    &[d, d],
                    f16_,
                );
                e(
                    &format!("{q}cross_attn.value.weight"),
                    &format!("{a}linear_1/weight"),
                    Some((d, 2 * d)),
                    &[d, d],
                    f16_,
                );
                e(
                    &format!("{q}cross_attn.value.bias"),
                    &format!("{a}linear_1/bias"),
                    Some((d, 2 * d)),
                    &[d],
                    f32_,
                );
                e(
                    &format!("{q}cross_attn.out.weight"),
                    &format!("{a}linear_2/weight"),
                    None,
                    &[d, d],
                    f16_,
                );
                e(
                    &format!("{q}cross_attn.out.bias"),
                    &format!("{a}linear_2/bias"),
                    None,
                    &[d],
                    f32_,
                );
                e(
                    &format!("{q}cross_attn_ln.weight"),
                    &format!("{a}layer_norm/gamma"),
                    None,
                    &[d],
                    f32_,
                );
                e(
                    &format!("{q}cross_attn_ln.bias"),
                    &format!("{a}layer_norm/beta"),
                    None,
                    &[d],
                    f32_,
                );
            }
            e(
                &format!("{q}mlp.0.weight"),
                &format!("{p}ffn/linear_0/weight"),
                None,
                &[4 * d, d],
                f16_,
            );
            e(
                &format!("{q}mlp.0.bias"),
                &format!("{p}ffn/linear_0/bias"),
                None,
                &[4 * d],
                f32_,
            );
            e(
                &format!("{q}mlp.2.weight"),
                &format!("{p}ffn/linear_1/weight"),
                None,
                &[d, 4 * d],
                f16_,
            );
            e(
                &format!("{q}mlp.2.bias"),
                &format!("{p}ffn/linear_1/bias"),
                None,
                &[d],
                f32_,
            );
            e(
                &format!("{q}mlp_ln.weight"),
                &format!("{p}ffn/layer_norm/gamma"),
                None,
                &[d],
                f32_,
            );
            e(
                &format!("{q}mlp_ln.bias"),
                &format!("{p}ffn/layer_norm/beta"),
                None,
                &[d],
                f32_,
            );
            let (ln, dst) = if side == "encoder" {
                ("encoder/layer_norm", "encoder.ln_post")
            } else {
                ("decoder/layer_norm", "decoder.ln")
            };
            e(
                &format!("{dst}.weight"),
                &format!("{ln}/gamma"),
                None,
                &[d],
                f32_,
            );
            e(
                &format!("{dst}.bias"),
                &format!("{ln}/beta"),
                None,
                &[d],
                f32_,
            );
        }
        v
    }

    /// Imports `vars` as a CT2 directory; returns the result, the output path and the
    /// directories (kept alive).
    fn import(
        vars: &[fixture::Var],
    ) -> (
        Result<ImportSummary, ImportError>,
        PathBuf,
        tempfile::TempDir,
        tempfile::TempDir,
    ) {
        let src = tempfile::tempdir().unwrap();
        fixture::write_dir(src.path(), vars);
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("ggml-test.bin");
        (import_ct2(src.path(), &out), out, src, out_dir)
    }

    #[test]
    fn imports_a_synthetic_model_tensor_by_tensor() {
        let vars = whisper_vars();
        let (summary, out, _src, _out_dir) = import(&vars);
        let summary = summary.unwrap();
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(
            summary,
            ImportSummary {
                n_vocab: 6,
                n_audio_layer: 1,
                n_text_layer: 1,
                d_model: 8,
                n_heads: 2,
                bytes: bytes.len() as u64,
                multilingual: false,
                quantization: None,
            }
        );

        let p = parse_ggml(&bytes);
        assert_eq!(p.hparams, [6, 6, 8, 2, 1, 4, 8, 2, 1, 80, 1]);
        assert_eq!(p.mel_shape, (80, 201));
        assert_eq!(p.mel, mel_filterbank(16000, 400, 80));
        let text: Vec<&[u8]> = vec![b"!", b" the", b"\n", "你".as_bytes()];
        assert_eq!(p.tokens, text);

        let expected = expected_tensors();
        let names: Vec<&str> = p.tensors.iter().map(|t| t.name.as_str()).collect();
        let expected_names: Vec<&str> = expected.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, expected_names);
        assert!(!names.iter().any(|n| n.ends_with("key.bias")));
        for (t, e) in p.tensors.iter().zip(&expected) {
            let src = vars.iter().find(|v| v.name == e.src).unwrap();
            let row: usize = src.dims[1..].iter().map(|&d| d as usize).product();
            let values = match e.rows {
                Some((a, b)) => &src.values[a * row..b * row],
                None => &src.values[..],
            };
            let mut dims = e.dims.clone();
            dims.reverse();
            assert_eq!(
                (t.ttype, &t.dims_innermost_first),
                (e.ttype, &dims),
                "{}",
                t.name
            );
            assert_eq!(t.values, values, "{} from {}", t.name, e.src);
        }

        // The fused QKV rows really are the query, key and value: 0.., 64.., 128.. past the seed.
        let find = |name: &str| &p.tensors.iter().find(|t| t.name == name).unwrap().values;
        let q = find("encoder.blocks.0.attn.query.weight")[0];
        assert_eq!(find("encoder.blocks.0.attn.key.weight")[0], q + 64.0);
        assert_eq!(find("encoder.blocks.0.attn.value.weight")[0], q + 128.0);
        assert_eq!(
            find("encoder.blocks.0.attn.value.bias")[0],
            find("encoder.blocks.0.attn.query.bias")[0] + 16.0
        );

        let h = read_header(&out).unwrap();
        assert_eq!(
            h,
            GgmlHeader {
                n_vocab: 6,
                n_audio_ctx: 6,
                n_audio_state: 8,
                n_audio_head: 2,
                n_audio_layer: 1,
                n_text_ctx: 4,
                n_text_state: 8,
                n_text_head: 2,
                n_text_layer: 1,
                n_mels: 80,
                ftype: 1
            }
        );
        assert!(!h.is_multilingual());
        assert_eq!(h.model_type(), "unknown");
        // Nothing but the output is left beside it.
        assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 1);
    }

    /// Seeded test data: blocks of normal-ish weights at several scales, and the awkward
    /// cases (all zero, constant, one outlier, ties of opposite sign, exact halves).
    fn quant_data() -> Vec<f32> {
        let mut rng = crate::testutil::Rng::new(0x2545_f491_4f6c_dd1du64);
        let mut rnd = move || rng.unit();
        let mut v = Vec::new();
        for scale in [1e-4f64, 0.02, 0.3, 1.0, 7.0, 3e3] {
            for _ in 0..64 * QK {
                let g: f64 = (0..4).map(|_| rnd() - 0.5).sum();
                v.push((g * scale) as f32);
            }
        }
        // Values as an f16 file holds them, which is what the quantizers see in practice.
        let mut v: Vec<f32> = v.into_iter().map(|x| f16::from_f32(x).to_f32()).collect();
        v.extend([0.0f32; QK]);
        v.extend([0.125f32; QK]);
        v.extend([-3.5f32; QK]);
        let mut outlier = [0.001f32; QK];
        outlier[17] = -40.0;
        v.extend(outlier);
        let mut ties: Vec<f32> = (0..QK).map(|i| (i as f32 - 16.0) / 16.0).collect();
        ties[0] = 1.0;
        ties[31] = -1.0;
        v.extend(ties);
        v.extend((0..QK).map(|i| i as f32 * 0.5 - 8.0));
        // Two blocks of zeros: whole q4_k super-blocks of 256.
        v.extend([0.0f32; 2 * QK]);
        assert!(v.len().is_multiple_of(QK_K));
        v
    }

    use whisper_rs::whisper_rs_sys::{ggml_get_type_traits, ggml_quantize_chunk};

    /// The linked ggml quantizing `x` (rows of `row` values) as whisper.cpp's quantize tool does.
    fn ggml_quantize(q: Quantization, x: &[f32], row: usize) -> Vec<u8> {
        let mut out = vec![0u8; q.bytes(x.len())];
        // SAFETY: `x` holds nrows × row values, `out` the matching number of blocks; these
        // types need no importance matrix.
        let n = unsafe {
            ggml_quantize_chunk(
                q.ggml_type(),
                x.as_ptr(),
                out.as_mut_ptr().cast(),
                0,
                (x.len() / row) as i64,
                row as i64,
                std::ptr::null(),
            )
        };
        assert_eq!(n, out.len());
        out
    }

    /// The linked ggml's `to_float` of `q`'s blocks.
    fn ggml_dequantize(q: Quantization, blocks: &[u8]) -> Vec<f32> {
        let n = blocks.len() / q.block_bytes() * q.block_values();
        let mut out = vec![0f32; n];
        // SAFETY: ggml's traits table is static; `to_float` reads the n values' blocks and
        // writes n floats.
        unsafe {
            let to_float = (*ggml_get_type_traits(q.ggml_type())).to_float.unwrap();
            to_float(blocks.as_ptr().cast(), out.as_mut_ptr(), n as i64);
        }
        out
    }

    #[test]
    fn quantizers_write_the_bytes_ggml_writes() {
        let x = quant_data();
        // q4_k is quantized by ggml itself (see `Quantization`); the Rust ports are checked.
        for q in Quantization::ALL
            .into_iter()
            .filter(|&q| q != Quantization::Q4K)
        {
            let mut ours = Vec::new();
            q.quantize(&x, &mut ours);
            let theirs = ggml_quantize(q, &x, QK_K);
            assert_eq!(ours.len(), theirs.len(), "{q}");
            let block = q.block_bytes();
            if let Some(i) = (0..ours.len() / block)
                .find(|&i| ours[i * block..(i + 1) * block] != theirs[i * block..(i + 1) * block])
            {
                panic!(
                    "{q}: block {i} differs\n x:     {:?}\n ours:  {:?}\n ggml:  {:?}",
                    &x[i * QK..(i + 1) * QK],
                    &ours[i * block..(i + 1) * block],
                    &theirs[i * block..(i + 1) * block]
                );
            }
        }
    }

    /// q4_k: each sub-block of 32 spans 15 steps from its minimum (≤ 0) to its maximum
    /// (≥ 0), and the search may trade a clamped value for a better fit of the rest: one step.
    /// But the sub-block's scale and minimum are themselves 6-bit multiples of the
    /// super-block's largest ones (÷ 63, at most the widest sub-block's range ÷ 15 and its
    /// minimum): rounding the scale moves a value by up to 15 × ½ of that multiple, rounding
    /// the minimum by ½ (so a small sub-block beside a wide one can come back as zeros).
    /// Plus what f16 scales can add.
    fn q4_k_errors_stay_within_a_step(x: &[f32], y: &[f32]) {
        for (s, (xs, ys)) in x.chunks(QK_K).zip(y.chunks(QK_K)).enumerate() {
            let range = |b: &[f32]| {
                let (min, max) = min_max(b);
                (max.max(0.0) - min.min(0.0)) as f64
            };
            let widest = xs.chunks(QK).map(range).fold(0.0, f64::max);
            // d and dmin are f16 (2^-11 relative, 2^-25 absolute among the subnormals), and a
            // value is d·sc·q − dmin·m with sc, m ≤ 63 and q ≤ 15.
            let d = widest / (15.0 * 63.0);
            let f16_err = (15.0 * 63.0 + 63.0) * (d * 2f64.powi(-11)).max(2f64.powi(-25));
            for (k, (xb, yb)) in xs.chunks(QK).zip(ys.chunks(QK)).enumerate() {
                let bound = range(xb) / 15.0 + 8.0 * d + f16_err + 1e-30;
                for (i, (&a, &b)) in xb.iter().zip(yb).enumerate() {
                    let e = (a as f64 - b as f64).abs();
                    assert!(
                        e <= bound,
                        "q4_k super-block {s} sub-block {k} value {i}: {a} came back as {b} \
                         (error {e:e} > {bound:e})"
                    );
                }
            }
        }
    }

    #[test]
    fn dequantized_values_stay_within_the_block_step() {
        let x = quant_data();
        for q in Quantization::ALL {
            let mut blocks = Vec::new();
            q.quantize(&x, &mut blocks);
            assert_eq!(blocks.len(), q.bytes(x.len()));
            let mut y = Vec::new();
            q.dequantize(&blocks, &mut y);
            assert_eq!(y.len(), x.len());
            // Our dequantizer reads the blocks as ggml does (up to the last bit: C may fuse
            // q4_k's multiply-subtract).
            let theirs = ggml_dequantize(q, &blocks);
            for (i, (&a, &b)) in y.iter().zip(&theirs).enumerate() {
                assert!(
                    a == b || (a - b).abs() <= 1e-6 * a.abs().max(b.abs()),
                    "{q} value {i}: ours {a}, ggml {b}"
                );
            }
            if q == Quantization::Q4K {
                q4_k_errors_stay_within_a_step(&x, &y);
            }
            let blocks_of_32 = x.chunks(QK).zip(y.chunks(QK)).enumerate();
            for (k, (xb, yb)) in blocks_of_32.filter(|_| q != Quantization::Q4K) {
                let amax = xb.iter().fold(0.0f32, |a, v| a.max(v.abs())) as f64;
                let (min, max) = min_max(xb);
                // Half a quantization step (a whole one for the value that ±8 / ±16 clamps),
                // plus what rounding the scale (and minimum) to f16 can add: 2^-11 relative.
                let step = match q {
                    Quantization::Q8_0 => amax / 127.0,
                    Quantization::Q5_1 => (max - min) as f64 / 31.0,
                    Quantization::Q5_0 => amax / 16.0,
                    Quantization::Q4_0 | Quantization::Q4K => amax / 8.0,
                };
                let levels = match q {
                    Quantization::Q8_0 => 127.0,
                    Quantization::Q5_1 => 31.0,
                    Quantization::Q5_0 => 16.0,
                    Quantization::Q4_0 | Quantization::Q4K => 8.0,
                };
                let half = if matches!(q, Quantization::Q8_0 | Quantization::Q5_1) {
                    0.5
                } else {
                    1.0
                };
                // Rounding to f16: 2^-11 relative, or 2^-25 absolute among the subnormals.
                let f16_round = |v: f64| (v.abs() * 2f64.powi(-11)).max(2f64.powi(-25));
                let mut f16_err = levels * f16_round(step);
                if q == Quantization::Q5_1 {
                    f16_err += f16_round(min as f64);
                }
                let bound = half * step + f16_err + 1e-30;
                for (i, (&a, &b)) in xb.iter().zip(yb).enumerate() {
                    let e = (a as f64 - b as f64).abs();
                    assert!(
                        e <= bound,
                        "{q} block {k} value {i}: {a} came back as {b} (error {e:e} > {bound:e})"
                    );
                }
            }
            // Most values are much closer than the bound: the mean error is about a quarter step.
            let mean: f64 = x
                .iter()
                .zip(&y)
                .map(|(&a, &b)| (a as f64 - b as f64).abs())
                .sum::<f64>()
                / x.len() as f64;
            let mean_abs: f64 = x.iter().map(|&a| (a as f64).abs()).sum::<f64>() / x.len() as f64;
            let rel = mean / mean_abs;
            let limit = match q {
                Quantization::Q8_0 => 0.01,
                Quantization::Q5_1 | Quantization::Q5_0 => 0.06,
                Quantization::Q4_0 => 0.12,
                Quantization::Q4K => 0.10,
            };
            assert!(rel < limit, "{q}: mean relative error {rel}");
        }
        // Zeros stay exactly zero.
        for q in Quantization::ALL {
            let (mut b, mut y) = (Vec::new(), Vec::new());
            q.quantize(&vec![0.0; q.block_values()], &mut b);
            q.dequantize(&b, &mut y);
            assert!(y.iter().all(|&v| v == 0.0), "{q}");
        }
    }

    #[test]
    fn quantization_names_and_header_ftypes() {
        let ftypes: Vec<(String, u32, u32)> = Quantization::ALL
            .iter()
            .map(|q| (q.to_string(), q.header_ftype(), q.ggml_type()))
            .collect();
        assert_eq!(
            ftypes,
            [
                ("q8_0".to_string(), 2007, 8),
                ("q5_1".to_string(), 2009, 7),
                ("q5_0".to_string(), 2008, 6),
                ("q4_0".to_string(), 2002, 2),
                ("q4_k".to_string(), 2012, 12),
            ]
        );
        for q in Quantization::ALL {
            assert_eq!(Quantization::from_header_ftype(q.header_ftype()), Some(q));
            assert_eq!(q.name().parse::<Quantization>(), Ok(q));
        }
        assert_eq!(Quantization::from_header_ftype(1), None);
        assert_eq!(Quantization::from_header_ftype(7), None);
        assert!("q4_1".parse::<Quantization>().is_err());
        assert_eq!("Q4_K".parse::<Quantization>(), Ok(Quantization::Q4K));
    }

    #[test]
    fn imports_a_synthetic_model_quantized() {
        // Rows of 256 values (and 1024) fit every type, q4_k's super-blocks included.
        let d = 256usize;
        let vars = fixture::whisper_vars_d(d as u32);
        let src = tempfile::tempdir().unwrap();
        fixture::write_dir(src.path(), &vars);
        let out_dir = tempfile::tempdir().unwrap();
        let f16_path = out_dir.path().join("ggml-f16.bin");
        import_ct2(src.path(), &f16_path).unwrap();
        let f16_file = parse_ggml(&std::fs::read(&f16_path).unwrap());
        for q in Quantization::ALL {
            let path = out_dir.path().join(format!("ggml-{q}.bin"));
            let s = import_ct2_with(src.path(), &path, Some(q)).unwrap();
            assert_eq!(s.quantization, Some(q));
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(s.bytes, bytes.len() as u64);
            assert_eq!(read_header(&path).unwrap().ftype, q.header_ftype());
            let p = parse_ggml(&bytes);
            assert_eq!(p.hparams[..10], f16_file.hparams[..10]);
            assert_eq!(p.hparams[10], q.header_ftype() as i32);
            assert_eq!((&p.mel, &p.tokens), (&f16_file.mel, &f16_file.tokens));
            assert_eq!(p.tensors.len(), f16_file.tensors.len());
            for (t, f) in p.tensors.iter().zip(&f16_file.tensors) {
                assert_eq!(
                    (&t.name, &t.dims_innermost_first),
                    (&f.name, &f.dims_innermost_first)
                );
                let skipped = [
                    "encoder.conv1.bias",
                    "encoder.conv2.bias",
                    "encoder.positional_embedding",
                    "decoder.positional_embedding",
                ];
                let quantized = f.ttype == 1 && f.dims_innermost_first.len() == 2;
                assert_eq!(
                    quantized,
                    !skipped.contains(&t.name.as_str()) && t.dims_innermost_first.len() == 2,
                    "{}",
                    t.name
                );
                if quantized {
                    assert_eq!(t.ttype, q.ggml_type() as i32, "{}", t.name);
                    // The same blocks as quantizing the f16 file's values.
                    let mut want = Vec::new();
                    q.quantize(&f.values, &mut want);
                    let mut back = Vec::new();
                    q.dequantize(&want, &mut back);
                    assert_eq!(t.values, back, "{}", t.name);
                } else {
                    assert_eq!((t.ttype, &t.values), (f.ttype, &f.values), "{}", t.name);
                }
            }
            let n_quantized = p.tensors.iter().filter(|t| t.ttype > 1).count();
            // Per layer: encoder q, k, v, out, mlp.0, mlp.2; decoder the same plus cross
            // q, k, v, out; and the token embedding.
            assert_eq!(n_quantized, 6 + 10 + 1, "{q}");
        }

        // Rows that are not whole blocks cannot be quantized; nothing is written. q4_k needs
        // rows of 256: a model of width 32 fits only the 32-value types.
        let out = out_dir.path().join("ggml-bad.bin");
        for (width, q, tail) in [
            (8, Quantization::Q8_0, "to q8_0: its rows of 8 values are not a multiple of 32"),
            (32, Quantization::Q4K, "to q4_k: its rows of 32 values are not a multiple of 256 (the 32-value types q8_0, q5_1, q5_0 and q4_0 fit this model)"),
        ] {
            fixture::write_dir(src.path(), &fixture::whisper_vars_d(width));
            let e = import_ct2_with(src.path(), &out, Some(q))
                .unwrap_err()
                .to_string();
            assert!(
                e.ends_with(&format!("cannot quantize encoder.blocks.0.attn.query.weight {tail}")),
                "{e}"
            );
            assert!(!out.exists());
        }
    }

    /// Imports a broken model into a directory holding an older `ggml-test.bin`; checks
    /// the error and that the old file and nothing else is there afterwards.
    fn import_err(vars: &[fixture::Var], damage: impl FnOnce(&Path)) -> (String, PathBuf) {
        let src = tempfile::tempdir().unwrap();
        fixture::write_dir(src.path(), vars);
        damage(src.path());
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("ggml-test.bin");
        std::fs::write(&out, b"old").unwrap();
        let e = import_ct2(src.path(), &out).unwrap_err().to_string();
        assert_eq!(std::fs::read(&out).unwrap(), b"old");
        assert_eq!(
            std::fs::read_dir(out_dir.path()).unwrap().count(),
            1,
            "a temporary file was left"
        );
        (e, src.path().to_path_buf())
    }

    #[test]
    fn missing_vocabulary() {
        let (e, dir) = import_err(&whisper_vars(), |d| {
            std::fs::remove_file(d.join("vocabulary.txt")).unwrap()
        });
        assert_eq!(e, format!("{}: missing vocabulary.txt", dir.display()));
    }

    #[test]
    fn wrong_version() {
        let (e, dir) = import_err(&whisper_vars(), |d| {
            std::fs::write(
                d.join("model.bin"),
                model_bin(3, "WhisperSpec", &whisper_vars(), &[]),
            )
            .unwrap()
        });
        assert_eq!(
            e,
            format!(
                "{}: not a CTranslate2 model (version 3, expected 6)",
                dir.join("model.bin").display()
            )
        );
    }

    #[test]
    fn not_whisper() {
        let (e, dir) = import_err(&whisper_vars(), |d| {
            std::fs::write(
                d.join("model.bin"),
                model_bin(6, "TransformerSpec", &whisper_vars(), &[]),
            )
            .unwrap()
        });
        let want = format!(
            "{}: a TransformerSpec model, not a Whisper model (WhisperSpec)",
            dir.join("model.bin").display()
        );
        assert_eq!(e, want);
    }

    #[test]
    fn truncated_model() {
        let (e, dir) = import_err(&whisper_vars(), |d| {
            let path = d.join("model.bin");
            let bytes = std::fs::read(&path).unwrap();
            let name = b"encoder/layer_0/self_attention/linear_0/weight\0";
            let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
            std::fs::write(&path, &bytes[..at + name.len() + 100]).unwrap();
        });
        let want = format!(
            "{}: truncated at tensor encoder/layer_0/self_attention/linear_0/weight",
            dir.join("model.bin").display()
        );
        assert_eq!(e, want);
    }

    #[test]
    fn missing_tensor() {
        let mut vars = whisper_vars();
        vars.retain(|v| v.name != "decoder/layer_0/attention/linear_2/bias");
        let (e, dir) = import_err(&vars, |_| {});
        assert_eq!(
            e,
            format!(
                "{}: missing tensor decoder/layer_0/attention/linear_2/bias",
                dir.join("model.bin").display()
            )
        );

        let mut vars = whisper_vars();
        vars.retain(|v| v.name != "encoder/num_heads");
        let (e, dir) = import_err(&vars, |_| {});
        assert_eq!(
            e,
            format!(
                "{}: missing tensor encoder/num_heads",
                dir.join("model.bin").display()
            )
        );
    }

    #[test]
    fn int8_weights() {
        let mut vars = whisper_vars();
        let i = vars
            .iter()
            .position(|v| v.name == "decoder/layer_0/ffn/linear_0/weight")
            .unwrap();
        vars[i] = fixture::float_var("decoder/layer_0/ffn/linear_0/weight", &[32, 8], 1, 0);
        let (e, dir) = import_err(&vars, |_| {});
        let want = format!(
            "{}: tensor decoder/layer_0/ffn/linear_0/weight is int8: int8 CTranslate2 weights are not supported; use a float16 model",
            dir.join("model.bin").display()
        );
        assert_eq!(e, want);
    }

    #[test]
    fn wrong_shapes() {
        let mut vars = whisper_vars();
        let i = vars
            .iter()
            .position(|v| v.name == "encoder/layer_0/self_attention/linear_0/weight")
            .unwrap();
        vars[i] = fixture::float_var(
            "encoder/layer_0/self_attention/linear_0/weight",
            &[16, 8],
            4,
            0,
        );
        let (e, dir) = import_err(&vars, |_| {});
        let want = format!(
            "{}: tensor encoder/layer_0/self_attention/linear_0/weight has shape [16, 8], expected [24, 8]",
            dir.join("model.bin").display()
        );
        assert_eq!(e, want);

        let mut vars = whisper_vars();
        vars.retain(|v| v.name != "decoder/num_heads");
        vars.push(fixture::scalar_i16("decoder/num_heads", 3));
        let (e, _) = import_err(&vars, |_| {});
        assert!(
            e.ends_with(
                "model.bin: decoder/num_heads is 3, which does not divide the model width 8"
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_vocabularies() {
        let (e, dir) = import_err(&whisper_vars(), |d| {
            std::fs::write(d.join("vocabulary.txt"), "a\nb\n").unwrap()
        });
        assert_eq!(
            e,
            format!(
                "{}: no <|endoftext|> token",
                dir.join("vocabulary.txt").display()
            )
        );

        let (e, dir) = import_err(&whisper_vars(), |d| {
            std::fs::write(d.join("vocabulary.txt"), "a\nb c\n<|endoftext|>\nx\ny\nz\n").unwrap()
        });
        assert_eq!(
            e,
            format!(
                "{}: line 2: token \"b c\" is not in GPT-2 byte-level form",
                dir.join("vocabulary.txt").display()
            )
        );

        let (e, dir) = import_err(&whisper_vars(), |d| {
            std::fs::write(d.join("vocabulary.txt"), "a\n<|endoftext|>\n").unwrap()
        });
        let want = format!(
            "{}: decoder/embeddings/weight has shape [6, 8], but {} has 2 tokens",
            dir.join("model.bin").display(),
            dir.join("vocabulary.txt").display()
        );
        assert_eq!(e, want);
    }

    #[test]
    fn bad_config() {
        let (e, dir) = import_err(&whisper_vars(), |d| {
            std::fs::write(d.join("config.json"), "{").unwrap()
        });
        assert!(
            e.starts_with(&format!(
                "{}: not a CTranslate2 Whisper config",
                dir.join("config.json").display()
            )),
            "{e}"
        );
    }

    #[test]
    fn read_header_rejects_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        std::fs::write(&path, b"GGUF\x03\0\0\0").unwrap();
        let e = read_header(&path).unwrap_err().to_string();
        assert_eq!(e, format!("{}: not a whisper.cpp ggml model (a GGUF file; whisper.cpp needs its own ggml format)", path.display()));
        std::fs::write(&path, b"ab").unwrap();
        let e = read_header(&path).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{}: not a whisper.cpp ggml model (2 bytes long)",
                path.display()
            )
        );
        std::fs::write(&path, b"lmgg\x01\0\0\0").unwrap();
        let e = read_header(&path).unwrap_err().to_string();
        assert_eq!(e, format!("{}: truncated at the header", path.display()));
        let mut h = b"lmgg".to_vec();
        h.extend([0u8; 44]);
        std::fs::write(&path, h).unwrap();
        let e = read_header(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: implausible ggml header", path.display())),
            "{e}"
        );
        let e = read_header(&dir.path().join("none.bin"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "cannot open {}: ",
                dir.path().join("none.bin").display()
            )),
            "{e}"
        );
    }

    /// FNV-1a 64 of a byte string.
    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        })
    }

    #[test]
    fn mel_filterbank_matches_the_reference() {
        let f = mel_filterbank(16000, 400, 80);
        assert_eq!(f.len(), 80 * 201);
        let row = |r: usize| &f[r * 201..(r + 1) * 201];

        // Printed with numpy from the reference converter's output (the 80×201 f32 block at
        // byte 56 of /tmp/ref/base.bin): FNV-1a 64 of its bytes; per row the sum (in f64),
        // argmax, max as f32 bits and the non-zero column range.
        let bytes: Vec<u8> = f.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(fnv1a(&bytes), 0x2a41_3a67_a798_be9a);
        type Row = (usize, f64, usize, u32, (usize, usize));
        let reference: [Row; 5] = [
            (0, 0.02486259490251541, 1, 0x3ccb_aca4, (1, 1)),
            (1, 0.024862593738362193, 2, 0x3cbb_5d95, (1, 2)),
            (10, 0.02486259490251541, 10, 0x3ca3_1690, (10, 11)),
            (40, 0.026664860546588898, 43, 0x3c71_6d71, (42, 44)),
            (79, 0.024925339414039627, 192, 0x3b4f_670d, (186, 199)),
        ];
        for (r, sum, argmax, max_bits, (first, last)) in reference {
            let v = row(r);
            let s: f64 = v.iter().map(|&x| x as f64).sum();
            assert!((s - sum).abs() < 1e-12, "row {r}: sum {s}");
            let (am, max) =
                v.iter().enumerate().fold(
                    (0, f32::MIN),
                    |(i, m), (j, &x)| if x > m { (j, x) } else { (i, m) },
                );
            assert_eq!((am, max.to_bits()), (argmax, max_bits), "row {r}");
            let nz: Vec<usize> = (0..201).filter(|&j| v[j] != 0.0).collect();
            assert_eq!((nz[0], *nz.last().unwrap()), (first, last), "row {r}");
        }
        // numpy's maximum keeps the sign of -0.0 at [0][0].
        assert_eq!(f[0].to_bits(), 0x8000_0000);

        // Independently of the reference: non-negative triangles, one per row, whose peaks
        // move right; with Slaney area normalisation each row sums to about 1 / (40 Hz bin).
        let mut last_peak = 0;
        for r in 0..80 {
            let v = row(r);
            assert!(v.iter().all(|&x| x >= 0.0), "row {r}");
            let nz: Vec<usize> = (0..201).filter(|&j| v[j] > 0.0).collect();
            let (a, b) = (nz[0], *nz.last().unwrap());
            assert_eq!(nz.len(), b - a + 1, "row {r} has a gap");
            let peak = (a..=b).max_by(|&i, &j| v[i].total_cmp(&v[j])).unwrap();
            assert!(
                (a..peak).all(|j| v[j] <= v[j + 1]) && (peak..b).all(|j| v[j] >= v[j + 1]),
                "row {r}"
            );
            assert!(peak >= last_peak, "row {r}");
            last_peak = peak;
            let s: f64 = v.iter().map(|&x| x as f64).sum();
            assert!((0.02..0.03).contains(&s), "row {r}: sum {s}");
        }
        assert!(mel_filterbank(16000, 400, 0).is_empty());
        assert_eq!(mel_filterbank(16000, 400, 128).len(), 128 * 201);
    }

    #[test]
    fn decodes_byte_level_tokens() {
        assert_eq!(decode_byte_level("Ġthe").unwrap(), b" the");
        assert_eq!(decode_byte_level("Ċ").unwrap(), b"\n");
        assert_eq!(decode_byte_level("ä½łå¥½").unwrap(), "你好".as_bytes());
        assert_eq!(decode_byte_level("åŃĹå¹ķ").unwrap(), "字幕".as_bytes());
        assert_eq!(
            decode_byte_level("<|endoftext|>").unwrap(),
            b"<|endoftext|>"
        );
        assert_eq!(decode_byte_level("").unwrap(), b"");
        assert_eq!(decode_byte_level("a b"), None);
        assert_eq!(decode_byte_level("€"), None);
        assert_eq!(decode_byte_level("\u{144}"), None);
        // The alphabet is U+0021..U+0143 minus the 68 chars it shifted away: a bijection.
        let mut seen = [false; 256];
        for c in (0..0x144u32).filter_map(char::from_u32) {
            if let Some(b) = byte_of(c) {
                assert!(!seen[b as usize], "byte {b} twice");
                seen[b as usize] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(byte_of('\u{100}'), Some(0));
        assert_eq!(byte_of('\u{121}'), Some(0x7f));
        assert_eq!(byte_of('\u{142}'), Some(0xa0));
        assert_eq!(byte_of('\u{143}'), Some(0xad));
    }
}
