//! Reading CTranslate2 Whisper model directories (what faster-whisper loads).
//!
//! A CTranslate2 ("CT2") Whisper directory holds three files:
//!
//! - `model.bin`: every weight, in CT2's binary format (version 6, little-endian);
//! - `config.json`: alignment heads, language token ids and suppressed tokens;
//! - `vocabulary.txt`: one token per line in GPT-2 byte-level form (`Ġthe`).
//!
//! ```text
//! u32 version (6) · STR spec ("WhisperSpec") · u32 revision · u32 n_vars
//! n_vars × { STR name · u8 ndim · u32 dims[ndim] · u8 dtype · u32 nbytes · data }
//! u32 n_aliases · n_aliases × { STR alias · STR target }
//! STR = u16 len (counting a trailing NUL) · len bytes
//! ```
//!
//! [`Ct2Model::open`] reads `model.bin` into memory once and indexes it: a variable is a
//! view (dims, dtype, byte range) into that one buffer, so no tensor is copied until the
//! writer converts it. Every read is bounds-checked, and a variable's byte count must both
//! fit in what is left of the file and equal its dims' product times its element size, so a
//! damaged or hostile file yields an [`ImportError`] naming the variable, never a panic or
//! an absurd allocation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::ImportError;

/// The CT2 binary format version this reader understands.
pub const BINARY_VERSION: u32 = 6;

/// The element type of a CT2 variable (the `u8 dtype` of `model.bin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl DType {
    fn from_id(id: u8) -> Option<DType> {
        Some(match id {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::BF16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
        }
    }

    /// Whether the type holds floating-point weights that can be converted directly.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F16 | DType::BF16)
    }
}

#[derive(Clone, Debug)]
struct Var {
    dims: Vec<usize>,
    dtype: DType,
    start: usize,
    len: usize,
}

/// A borrowed view of one variable: its dims (outermost first), type and raw
/// little-endian bytes.
#[derive(Clone, Copy, Debug)]
pub struct Tensor<'a> {
    pub name: &'a str,
    pub dims: &'a [usize],
    pub dtype: DType,
    pub data: &'a [u8],
}

impl Tensor<'_> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len() / self.dtype.size()
    }
}

/// A parsed `model.bin`, holding the whole file in memory.
pub struct Ct2Model {
    path: PathBuf,
    data: Vec<u8>,
    spec: String,
    revision: u32,
    vars: HashMap<String, Var>,
    order: Vec<String>,
    aliases: HashMap<String, String>,
}

impl std::fmt::Debug for Ct2Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ct2Model")
            .field("path", &self.path)
            .field("spec", &self.spec)
            .field("revision", &self.revision)
            .field("variables", &self.order.len())
            .field("aliases", &self.aliases)
            .finish()
    }
}

impl Ct2Model {
    /// Reads and indexes `path` (a `model.bin`).
    pub fn open(path: &Path) -> Result<Ct2Model, ImportError> {
        let data = std::fs::read(path).map_err(|source| ImportError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        Ct2Model::parse(path, data)
    }

    /// Indexes the bytes of a `model.bin`; `path` is only used in error messages.
    pub fn parse(path: &Path, data: Vec<u8>) -> Result<Ct2Model, ImportError> {
        let mut r = Reader {
            data: &data,
            pos: 0,
        };
        let trunc = |what: String| ImportError::Truncated {
            path: path.to_path_buf(),
            what,
        };
        let invalid = |msg: String| ImportError::Invalid {
            path: path.to_path_buf(),
            msg,
        };

        let version = r.u32().ok_or_else(|| ImportError::NotCt2 {
            path: path.to_path_buf(),
            why: "shorter than a header".into(),
        })?;
        if version != BINARY_VERSION {
            return Err(ImportError::NotCt2 {
                path: path.to_path_buf(),
                why: format!("version {version}, expected {BINARY_VERSION}"),
            });
        }
        let spec = r
            .string()
            .ok_or_else(|| trunc("the header".into()))?
            .map_err(|e| invalid(e.into()))?;
        let revision = r.u32().ok_or_else(|| trunc("the header".into()))?;
        let n_vars = r.u32().ok_or_else(|| trunc("the header".into()))? as usize;

        // Not `with_capacity(n_vars)`: a hostile count must not allocate.
        let mut vars = HashMap::new();
        let mut order = Vec::new();
        for i in 0..n_vars {
            let name = match r.string() {
                Some(Ok(name)) => name,
                Some(Err(e)) => return Err(invalid(format!("variable #{i}: {e}"))),
                None => {
                    return Err(trunc(match order.last() {
                        Some(prev) => format!("the variable after {prev}"),
                        None => "the first variable".into(),
                    }))
                }
            };
            let at = || trunc(format!("tensor {name}"));
            let ndim = r.u8().ok_or_else(at)? as usize;
            let mut dims = Vec::with_capacity(ndim);
            for _ in 0..ndim {
                dims.push(r.u32().ok_or_else(at)? as usize);
            }
            let type_id = r.u8().ok_or_else(at)?;
            let dtype = DType::from_id(type_id)
                .ok_or_else(|| invalid(format!("tensor {name} has unknown dtype {type_id}")))?;
            let nbytes = r.u32().ok_or_else(at)? as usize;
            let expected = dims
                .iter()
                .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
                .filter(|&n| n == nbytes);
            if expected.is_none() {
                return Err(invalid(format!(
                    "tensor {name} has {nbytes} bytes, which does not match its shape {dims:?} of {}",
                    dtype.name()
                )));
            }
            let start = r.pos;
            r.skip(nbytes).ok_or_else(at)?;
            if vars
                .insert(
                    name.clone(),
                    Var {
                        dims,
                        dtype,
                        start,
                        len: nbytes,
                    },
                )
                .is_some()
            {
                return Err(invalid(format!("tensor {name} appears twice")));
            }
            order.push(name);
        }

        let mut aliases = HashMap::new();
        let n_aliases = r.u32().ok_or_else(|| trunc("the alias table".into()))?;
        for _ in 0..n_aliases {
            let alias = r
                .string()
                .ok_or_else(|| trunc("the alias table".into()))?
                .map_err(|e| invalid(e.into()))?;
            let target = r
                .string()
                .ok_or_else(|| trunc("the alias table".into()))?
                .map_err(|e| invalid(e.into()))?;
            aliases.insert(alias, target);
        }
        Ok(Ct2Model {
            path: path.to_path_buf(),
            data,
            spec,
            revision,
            vars,
            order,
            aliases,
        })
    }

    /// The file this model was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The model specification's name, e.g. `WhisperSpec`.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// The variable `name`, following aliases (which may chain; a cycle gives `None`).
    fn lookup(&self, name: &str) -> Option<(&String, &Var)> {
        if let Some(kv) = self.vars.get_key_value(name) {
            return Some(kv);
        }
        let mut target = self.aliases.get(name)?;
        for _ in 0..8 {
            if let Some(kv) = self.vars.get_key_value(target.as_str()) {
                return Some(kv);
            }
            target = self.aliases.get(target.as_str())?;
        }
        None
    }

    /// Whether `name` (or an alias of that name) exists.
    pub fn contains(&self, name: &str) -> bool {
        self.lookup(name).is_some()
    }

    /// The variable called `name`, resolving aliases.
    pub fn get(&self, name: &str) -> Result<Tensor<'_>, ImportError> {
        let (key, var) = self
            .lookup(name)
            .ok_or_else(|| ImportError::MissingTensor {
                path: self.path.clone(),
                name: name.to_string(),
            })?;
        Ok(Tensor {
            name: key,
            dims: &var.dims,
            dtype: var.dtype,
            data: &self.data[var.start..var.start + var.len],
        })
    }

    /// A floating-point variable; int8/int16 weights of quantized models are an error.
    pub fn get_float(&self, name: &str) -> Result<Tensor<'_>, ImportError> {
        let t = self.get(name)?;
        match t.dtype {
            d if d.is_float() => Ok(t),
            DType::I8 | DType::I16 => Err(ImportError::Quantized {
                path: self.path.clone(),
                name: t.name.to_string(),
                dtype: t.dtype.name(),
            }),
            d => Err(ImportError::Invalid {
                path: self.path.clone(),
                msg: format!(
                    "tensor {} is {}, expected floating-point weights",
                    t.name,
                    d.name()
                ),
            }),
        }
    }

    /// An integer scalar such as `encoder/num_heads` (a 0-dim int16 in Whisper models).
    pub fn scalar_int(&self, name: &str) -> Result<i64, ImportError> {
        let t = self.get(name)?;
        let d = t.data;
        let v = match (t.dtype, t.len()) {
            (DType::I8, 1) => d[0] as i8 as i64,
            (DType::I16, 1) => i16::from_le_bytes([d[0], d[1]]) as i64,
            (DType::I32, 1) => i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64,
            _ => {
                return Err(ImportError::Invalid {
                    path: self.path.clone(),
                    msg: format!(
                        "{name} is not an integer scalar ({} {:?})",
                        t.dtype.name(),
                        t.dims
                    ),
                })
            }
        };
        Ok(v)
    }
}

/// A bounds-checked little-endian cursor: every read returns `None` past the end.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len())?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Some(s)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// `None` when truncated, `Some(Err)` when the bytes are not a NUL-terminated UTF-8 string.
    fn string(&mut self) -> Option<Result<String, &'static str>> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        Some(match b.split_last() {
            Some((0, s)) => std::str::from_utf8(s)
                .map(str::to_string)
                .map_err(|_| "a name is not UTF-8"),
            _ => Err("a name is not NUL-terminated"),
        })
    }
}

/// The parts of a CT2 Whisper `config.json` that matter to subcut. Unknown keys are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Ct2Config {
    /// Cross-attention heads that align text with audio, as (decoder layer, head) pairs.
    #[serde(default)]
    pub alignment_heads: Vec<(u32, u32)>,
    /// Token ids of the language tokens (`<|en|>`, ...); empty for English-only models.
    #[serde(default)]
    pub lang_ids: Vec<u32>,
    #[serde(default)]
    pub suppress_ids: Vec<i64>,
    #[serde(default)]
    pub suppress_ids_begin: Vec<i64>,
}

/// Parses a CT2 `config.json`.
pub fn read_config(path: &Path) -> Result<Ct2Config, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| ImportError::Invalid {
        path: path.to_path_buf(),
        msg: format!("not a CTranslate2 Whisper config ({e})"),
    })
}

/// Reads `vocabulary.txt`: one token per line, in GPT-2 byte-level form. Lines are split on
/// `\n` only (a token never contains a raw newline; `Ċ` stands for one) and a final empty
/// line is dropped.
pub fn read_vocabulary(path: &Path) -> Result<Vec<String>, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| ImportError::Invalid {
        path: path.to_path_buf(),
        msg: format!("not UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
    })?;
    let mut tokens: Vec<String> = text.split('\n').map(str::to_string).collect();
    if tokens.last().is_some_and(String::is_empty) {
        tokens.pop();
    }
    if tokens.is_empty() {
        return Err(ImportError::Invalid {
            path: path.to_path_buf(),
            msg: "empty vocabulary".into(),
        });
    }
    Ok(tokens)
}

/// The three files of a CT2 Whisper directory, checked to exist.
#[derive(Clone, Debug)]
pub struct Ct2Dir {
    pub model: PathBuf,
    pub vocabulary: PathBuf,
    /// `config.json`, when present (the conversion does not need it).
    pub config: Option<PathBuf>,
}

impl Ct2Dir {
    /// Locates the files of the CT2 directory `dir`.
    pub fn locate(dir: &Path) -> Result<Ct2Dir, ImportError> {
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(ImportError::Invalid {
                    path: dir.to_path_buf(),
                    msg: "not a directory (expected a CTranslate2 model directory)".into(),
                })
            }
            Err(source) => {
                return Err(ImportError::Io {
                    action: "open",
                    path: dir.to_path_buf(),
                    source,
                })
            }
        }
        let need = |name: &'static str| {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(ImportError::MissingFile {
                    dir: dir.to_path_buf(),
                    name,
                })
            }
        };
        let model = need("model.bin")?;
        let vocabulary = need("vocabulary.txt")?;
        let config = Some(dir.join("config.json")).filter(|p| p.is_file());
        Ok(Ct2Dir {
            model,
            vocabulary,
            config,
        })
    }
}

/// Synthetic CT2 Whisper directories for tests (here and in [`super::ggml_write`]).
#[cfg(test)]
pub(crate) mod fixture {
    use std::path::Path;

    use half::{bf16, f16};

    /// One variable as the test wrote it: `values` are the exact numbers stored (after
    /// rounding to the dtype), for checking where they end up.
    pub(crate) struct Var {
        pub name: String,
        pub dims: Vec<u32>,
        pub dtype: u8,
        pub data: Vec<u8>,
        pub values: Vec<f32>,
    }

    /// A tensor of dtype `dtype` (0 f32, 4 f16, 5 bf16, 1 i8) filled with small integers
    /// that start at `seed * 7`, so that every tensor's first values differ.
    pub(crate) fn float_var(name: &str, dims: &[u32], dtype: u8, seed: usize) -> Var {
        let n: usize = dims.iter().map(|&d| d as usize).product();
        let mut data = Vec::new();
        let mut values = Vec::new();
        for i in 0..n {
            let v = ((seed * 7 + i) % 2048) as f32;
            let v = match dtype {
                0 => {
                    data.extend_from_slice(&v.to_le_bytes());
                    v
                }
                4 => {
                    data.extend_from_slice(&f16::from_f32(v).to_bits().to_le_bytes());
                    f16::from_f32(v).to_f32()
                }
                5 => {
                    data.extend_from_slice(&bf16::from_f32(v).to_bits().to_le_bytes());
                    bf16::from_f32(v).to_f32()
                }
                1 => {
                    data.push((i % 100) as u8);
                    (i % 100) as f32
                }
                _ => unreachable!("fixture dtype {dtype}"),
            };
            values.push(v);
        }
        Var {
            name: name.to_string(),
            dims: dims.to_vec(),
            dtype,
            data,
            values,
        }
    }

    pub(crate) fn scalar_i16(name: &str, v: i16) -> Var {
        Var {
            name: name.to_string(),
            dims: vec![],
            dtype: 2,
            data: v.to_le_bytes().to_vec(),
            values: vec![v as f32],
        }
    }

    pub(crate) fn scalar_i8(name: &str, v: i8) -> Var {
        Var {
            name: name.to_string(),
            dims: vec![],
            dtype: 1,
            data: vec![v as u8],
            values: vec![v as f32],
        }
    }

    fn put_str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u16 + 1).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    /// The bytes of a `model.bin`.
    pub(crate) fn model_bin(
        version: u32,
        spec: &str,
        vars: &[Var],
        aliases: &[(&str, &str)],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&version.to_le_bytes());
        put_str(&mut out, spec);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
        for v in vars {
            put_str(&mut out, &v.name);
            out.push(v.dims.len() as u8);
            for d in &v.dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.push(v.dtype);
            out.extend_from_slice(&(v.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&v.data);
        }
        out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
        for (a, t) in aliases {
            put_str(&mut out, a);
            put_str(&mut out, t);
        }
        out
    }

    /// Model width, heads, contexts and mel bins of the synthetic model.
    pub(crate) const D: u32 = 8;
    pub(crate) const HEADS: i16 = 2;
    pub(crate) const N_MELS: u32 = 80;
    pub(crate) const N_AUDIO_CTX: u32 = 6;
    pub(crate) const N_TEXT_CTX: u32 = 4;

    /// Text tokens (`!`, ` the`, newline, 你) then two special tokens.
    pub(crate) const VOCAB: [&str; 6] = [
        "!",
        "Ġthe",
        "Ċ",
        "ä½ł",
        "<|endoftext|>",
        "<|startoftranscript|>",
    ];

    /// Every variable of a 1-encoder-layer, 1-decoder-layer Whisper, with mixed dtypes:
    /// layer norms and the encoder positions f32, one FFN weight f32 and one bf16, the rest
    /// f16; in file order (sorted, as CT2 writes them).
    pub(crate) fn whisper_vars() -> Vec<Var> {
        whisper_vars_d(D)
    }

    /// [`whisper_vars`] with model width `d` (quantization needs rows of 32 values).
    pub(crate) fn whisper_vars_d(d: u32) -> Vec<Var> {
        let mut specs: Vec<(String, Vec<u32>)> = vec![
            ("encoder/conv1/weight".into(), vec![d, N_MELS, 3]),
            ("encoder/conv1/bias".into(), vec![d]),
            ("encoder/conv2/weight".into(), vec![d, d, 3]),
            ("encoder/conv2/bias".into(), vec![d]),
            (
                "encoder/position_encodings/encodings".into(),
                vec![N_AUDIO_CTX, d],
            ),
            ("encoder/layer_norm/gamma".into(), vec![d]),
            ("encoder/layer_norm/beta".into(), vec![d]),
            (
                "decoder/embeddings/weight".into(),
                vec![VOCAB.len() as u32, d],
            ),
            (
                "decoder/position_encodings/encodings".into(),
                vec![N_TEXT_CTX, d],
            ),
            ("decoder/layer_norm/gamma".into(), vec![d]),
            ("decoder/layer_norm/beta".into(), vec![d]),
        ];
        let lin = |specs: &mut Vec<(String, Vec<u32>)>, p: &str, o: u32, i: u32| {
            specs.push((format!("{p}/weight"), vec![o, i]));
            specs.push((format!("{p}/bias"), vec![o]));
        };
        let ln = |specs: &mut Vec<(String, Vec<u32>)>, p: &str| {
            specs.push((format!("{p}/gamma"), vec![d]));
            specs.push((format!("{p}/beta"), vec![d]));
        };
        for side in ["encoder", "decoder"] {
            let p = format!("{side}/layer_0");
            lin(
                &mut specs,
                &format!("{p}/self_attention/linear_0"),
                3 * d,
                d,
            );
            lin(&mut specs, &format!("{p}/self_attention/linear_1"), d, d);
            ln(&mut specs, &format!("{p}/self_attention/layer_norm"));
            lin(&mut specs, &format!("{p}/ffn/linear_0"), 4 * d, d);
            lin(&mut specs, &format!("{p}/ffn/linear_1"), d, 4 * d);
            ln(&mut specs, &format!("{p}/ffn/layer_norm"));
        }
        let p = "decoder/layer_0/attention";
        lin(&mut specs, &format!("{p}/linear_0"), d, d);
        lin(&mut specs, &format!("{p}/linear_1"), 2 * d, d);
        lin(&mut specs, &format!("{p}/linear_2"), d, d);
        ln(&mut specs, &format!("{p}/layer_norm"));
        specs.sort();

        let mut vars: Vec<Var> = specs
            .iter()
            .enumerate()
            .map(|(seed, (name, dims))| {
                let f32_names = [
                    "encoder/position_encodings/encodings",
                    "encoder/layer_0/ffn/linear_0/weight",
                ];
                let dtype = if name.contains("layer_norm") || f32_names.contains(&name.as_str()) {
                    0
                } else if name == "decoder/layer_0/ffn/linear_1/weight" {
                    5
                } else {
                    4
                };
                float_var(name, dims, dtype, seed)
            })
            .collect();
        vars.push(scalar_i8("decoder/activation", 3));
        vars.push(scalar_i16("decoder/alignment_heads", 1));
        vars.push(scalar_i16("decoder/num_heads", HEADS));
        vars.push(scalar_i16("encoder/num_heads", HEADS));
        vars
    }

    pub(crate) const ALIASES: [(&str, &str); 1] =
        [("decoder/projection/weight", "decoder/embeddings/weight")];

    /// Writes a CT2 directory from `vars` into `dir`.
    pub(crate) fn write_dir(dir: &Path, vars: &[Var]) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("model.bin"),
            model_bin(6, "WhisperSpec", vars, &ALIASES),
        )
        .unwrap();
        std::fs::write(dir.join("vocabulary.txt"), VOCAB.join("\n") + "\n").unwrap();
        std::fs::write(
            dir.join("config.json"),
            r#"{"alignment_heads": [[0, 1]], "lang_ids": [], "suppress_ids": [1, 2], "suppress_ids_begin": [3], "other": 1}"#,
        )
        .unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;

    fn parse(bytes: Vec<u8>) -> Result<Ct2Model, ImportError> {
        Ct2Model::parse(Path::new("/x/model.bin"), bytes)
    }

    #[test]
    fn indexes_variables_and_resolves_aliases() {
        let vars = whisper_vars();
        let m = parse(model_bin(6, "WhisperSpec", &vars, &ALIASES)).unwrap();
        assert_eq!(m.spec(), "WhisperSpec");
        assert_eq!(m.revision, 3);
        assert_eq!(m.order.len(), vars.len());
        assert_eq!(m.order[0], vars[0].name);

        let qkv = m
            .get("encoder/layer_0/self_attention/linear_0/weight")
            .unwrap();
        assert_eq!(qkv.dims, &[24, 8]);
        assert_eq!(qkv.dtype, DType::F16);
        assert_eq!(qkv.len(), 192);
        let src = vars.iter().find(|v| v.name == qkv.name).unwrap();
        assert_eq!(qkv.data, &src.data[..]);

        let ffn = m.get_float("encoder/layer_0/ffn/linear_0/weight").unwrap();
        assert_eq!((ffn.dtype, ffn.data.len()), (DType::F32, 32 * 8 * 4));
        assert_eq!(
            m.get("decoder/layer_0/ffn/linear_1/weight").unwrap().dtype,
            DType::BF16
        );

        let projection = m.get("decoder/projection/weight").unwrap();
        assert_eq!(projection.name, "decoder/embeddings/weight");
        assert_eq!(projection.dims, &[6, 8]);
        assert!(m.contains("decoder/projection/weight"));
        assert!(!m.contains("decoder/projection/bias"));

        assert_eq!(m.scalar_int("encoder/num_heads").unwrap(), 2);
        assert_eq!(m.scalar_int("decoder/activation").unwrap(), 3);
        let e = m
            .scalar_int("decoder/layer_norm/gamma")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/x/model.bin: decoder/layer_norm/gamma is not an integer scalar"),
            "{e}"
        );
    }

    #[test]
    fn alias_cycles_end() {
        let vars = vec![scalar_i16("a", 1)];
        let m = parse(model_bin(
            6,
            "WhisperSpec",
            &vars,
            &[("b", "c"), ("c", "b")],
        ))
        .unwrap();
        assert_eq!(
            m.get("b").unwrap_err().to_string(),
            "/x/model.bin: missing tensor b"
        );
        assert_eq!(m.get("a").unwrap().name, "a");
    }

    #[test]
    fn rejects_other_versions() {
        let e = parse(model_bin(3, "WhisperSpec", &whisper_vars(), &[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/x/model.bin: not a CTranslate2 model (version 3, expected 6)"
        );
        let e = parse(vec![6, 0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/x/model.bin: not a CTranslate2 model (shorter than a header)"
        );
    }

    #[test]
    fn names_the_tensor_where_the_file_ends() {
        let bytes = model_bin(6, "WhisperSpec", &whisper_vars(), &ALIASES);
        let name = b"encoder/layer_0/ffn/linear_1/weight\0";
        let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
        let e = parse(bytes[..at + name.len() + 20].to_vec()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/x/model.bin: truncated at tensor encoder/layer_0/ffn/linear_1/weight"
        );
        let e = parse(bytes[..at - 1].to_vec()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/x/model.bin: truncated at the variable after encoder/"),
            "{e}"
        );
    }

    #[test]
    fn every_prefix_is_an_error_never_a_panic() {
        let bytes = model_bin(6, "WhisperSpec", &whisper_vars(), &ALIASES);
        assert!(parse(bytes.clone()).is_ok());
        for len in (0..bytes.len()).step_by(3) {
            assert!(
                parse(bytes[..len].to_vec()).is_err(),
                "prefix of {len} bytes parsed"
            );
        }
    }

    #[test]
    fn hostile_sizes_are_rejected_before_allocating() {
        // A shape whose product overflows, with a tiny payload.
        let mut v = float_var("huge", &[1], 0, 0);
        v.dims = vec![u32::MAX, u32::MAX, u32::MAX];
        let e = parse(model_bin(6, "WhisperSpec", &[v], &[]))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/x/model.bin: tensor huge has 4 bytes, which does not match its shape"),
            "{e}"
        );

        // A payload that disagrees with the shape.
        let mut v = float_var("w", &[1], 0, 0);
        v.dims = vec![2];
        let e = parse(model_bin(6, "WhisperSpec", &[v], &[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/x/model.bin: tensor w has 4 bytes, which does not match its shape [2] of float32"
        );

        // A consistent 4 GiB header in a tiny file.
        let mut bytes = model_bin(6, "WhisperSpec", &[float_var("big", &[1], 4, 0)], &[]);
        let at = bytes.windows(4).position(|w| w == b"big\0").unwrap() + 4;
        bytes[at + 1..at + 5].copy_from_slice(&0x7fff_ffffu32.to_le_bytes()); // dims[0]
        bytes[at + 6..at + 10].copy_from_slice(&0xffff_fffeu32.to_le_bytes()); // nbytes
        let e = parse(bytes).unwrap_err();
        assert_eq!(e.to_string(), "/x/model.bin: truncated at tensor big");

        // A variable count far beyond the file.
        let mut bytes = model_bin(6, "WhisperSpec", &[], &[]);
        bytes[22..26].copy_from_slice(&u32::MAX.to_le_bytes()); // after version, spec, revision
        bytes.truncate(26);
        assert_eq!(
            parse(bytes).unwrap_err().to_string(),
            "/x/model.bin: truncated at the first variable"
        );
    }

    #[test]
    fn rejects_unknown_dtypes_and_bad_names() {
        let mut v = float_var("w", &[2], 0, 0);
        v.dtype = 9;
        let e = parse(model_bin(6, "WhisperSpec", &[v], &[])).unwrap_err();
        assert_eq!(e.to_string(), "/x/model.bin: tensor w has unknown dtype 9");

        let mut bytes = model_bin(6, "WhisperSpec", &[float_var("w", &[2], 0, 0)], &[]);
        let at = bytes.windows(2).position(|w| w == b"w\0").unwrap();
        bytes[at + 1] = b'x';
        let e = parse(bytes).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/x/model.bin: variable #0: a name is not NUL-terminated"
        );
    }

    #[test]
    fn int8_weights_are_refused_clearly() {
        let vars = vec![float_var("encoder/conv1/weight", &[4, 2], 1, 0)];
        let m = parse(model_bin(6, "WhisperSpec", &vars, &[])).unwrap();
        assert_eq!(
            m.get_float("encoder/conv1/weight").unwrap_err().to_string(),
            "/x/model.bin: tensor encoder/conv1/weight is int8: int8 CTranslate2 weights are not supported; use a float16 model"
        );
    }

    #[test]
    fn reads_vocabulary_and_config() {
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), &whisper_vars());
        let files = Ct2Dir::locate(dir.path()).unwrap();
        assert_eq!(read_vocabulary(&files.vocabulary).unwrap(), VOCAB);
        let config = read_config(files.config.as_deref().unwrap()).unwrap();
        assert_eq!(config.alignment_heads, vec![(0, 1)]);
        assert_eq!(config.suppress_ids, vec![1, 2]);
        assert!(config.lang_ids.is_empty());

        std::fs::write(&files.vocabulary, b"a\n\xff\n").unwrap();
        let e = read_vocabulary(&files.vocabulary).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: not UTF-8 (at byte 2)", files.vocabulary.display())
        );
        let config = dir.path().join("config.json");
        std::fs::write(&config, "{\"alignment_heads\": 3}").unwrap();
        let e = read_config(&config).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "{}: not a CTranslate2 Whisper config",
                config.display()
            )),
            "{e}"
        );
    }

    #[test]
    fn locate_names_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = Ct2Dir::locate(dir.path()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: missing model.bin", dir.path().display())
        );
        let e = Ct2Dir::locate(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "cannot open {}: ",
                dir.path().join("nope").display()
            )),
            "{e}"
        );
    }

    #[test]
    fn error_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<ImportError>();
    }
}
