//! Writing whisper.cpp ggml model files (the layout of [`super::ggml_file`]) from CTranslate2
//! Whisper directories.
//!
//! `subcut model import DIR` turns the CTranslate2 weights that faster-whisper uses (read by
//! [`super::ct2`]) into the single-file format whisper.cpp (and so whisper-rs) loads.
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
use std::io::{self, BufWriter, Write};
use std::path::Path;

use half::{bf16, f16};

use super::ct2::{self, Ct2Model, DType, Tensor};
use super::error::ImportError;
use super::ggml_file::{GGML_MAGIC, MULTILINGUAL_N_VOCAB};
use super::mel::{mel_filterbank, N_FFT};
use super::quantize::{Quantization, QK};
use crate::time::SAMPLE_RATE;

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
struct OutTensor<'a> {
    name: String,
    dims: Vec<usize>,
    src: &'a [u8],
    dtype: DType,
    out: OutType,
}

impl OutTensor<'_> {
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
struct Converter<'a> {
    m: &'a Ct2Model,
    d: usize,
    out: Vec<OutTensor<'a>>,
}

impl<'a> Converter<'a> {
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
        self.out.push(OutTensor {
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

    fn tensors(
        m: &'a Ct2Model,
        dims: &Dims,
        n_vocab: usize,
    ) -> Result<Vec<OutTensor<'a>>, ImportError> {
        let d = dims.d;
        let mut p = Converter {
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
/// whisper.cpp ggml file, f16, or with the 2-D weights quantized as whisper.cpp's `quantize`
/// tool would quantize the f16 file (see [`Quantization`]): the result is then byte for byte
/// `quantize(import_ct2(dir, None))`, in one pass and without the f16 file.
///
/// Writes to a temp file in `out`'s directory, then renames: no partial file under the
/// final name on any error. `config.json` is optional, but must parse when present.
pub fn import_ct2(
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
    let mut tensors = Converter::tensors(&model, &dims, n_vocab)?;
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
    let header = [
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
    ];
    // Refused before anything is written (or a filter bank of n_mels rows is allocated):
    // a file whisper.cpp cannot load, which `read_header` would refuse afterwards.
    let hp = header.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
    super::ggml_file::check_hyperparameters(hp).map_err(|why| ImportError::Invalid {
        path: files.model.clone(),
        msg: format!("not a model whisper.cpp can load: {why}"),
    })?;
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
        .prefix(&format!("{}import-", crate::output::temp_prefix()))
        .suffix(".part")
        .tempfile_in(crate::output::note_temp_dir(dir))
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
        i32s(&mut w, &header).map_err(write_err)?;
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
        + tensors.iter().map(OutTensor::file_bytes).sum::<u64>();
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
fn write_tensor(w: &mut impl Write, t: &OutTensor) -> io::Result<()> {
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
        // The converter only lets floating-point tensors through.
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
    use std::path::PathBuf;

    use super::super::ct2::fixture::{self, *};
    use super::super::ggml_file::{read_header, GgmlHeader};
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
        (import_ct2(src.path(), &out, None), out, src, out_dir)
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

    #[test]
    fn imports_a_synthetic_model_quantized() {
        // Rows of 256 values (and 1024) fit every type, q4_k's super-blocks included.
        let d = 256usize;
        let vars = fixture::whisper_vars_d(d as u32);
        let src = tempfile::tempdir().unwrap();
        fixture::write_dir(src.path(), &vars);
        let out_dir = tempfile::tempdir().unwrap();
        let f16_path = out_dir.path().join("ggml-f16.bin");
        import_ct2(src.path(), &f16_path, None).unwrap();
        let f16_file = parse_ggml(&std::fs::read(&f16_path).unwrap());
        for q in Quantization::ALL {
            let path = out_dir.path().join(format!("ggml-{q}.bin"));
            let s = import_ct2(src.path(), &path, Some(q)).unwrap();
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
            let e = import_ct2(src.path(), &out, Some(q))
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
        let e = import_ct2(src.path(), &out, None).unwrap_err().to_string();
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
