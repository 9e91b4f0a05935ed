//! The whisper.cpp ggml model file: its layout, its header, and the one reader that checks a
//! file before whisper.cpp sees it. [`super::ggml_write`] writes the same layout.
//!
//! ```text
//! i32 magic 0x67676d6c
//! i32 n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer,
//!     n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype (1 = f16)
//! i32 n_mels · i32 201 · n_mels×201 f32 mel filterbank (Slaney, sr 16000, n_fft 400)
//! i32 n_tokens · n_tokens × { i32 len · bytes }      text tokens, byte-level form decoded
//! tensors until EOF: { i32 ndim · i32 name_len · i32 ttype (0 f32, 1 f16, …) ·
//!                      i32 dims[ndim], innermost first · name · data }
//! ```
//!
//! whisper.cpp loads such a file with few checks of its own, so a truncated download, a GGUF
//! file or a PyTorch checkpoint would fail there with nothing but "failed to load".
//! [`read_header`] reads the header and walks the rest (filter bank, vocabulary, every tensor
//! header; the data is skipped) and names what is wrong in one line ([`GgmlError`]).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::error::GgmlError;

/// `ggml` in ASCII, as the first little-endian `i32` of a whisper.cpp model file.
pub const GGML_MAGIC: u32 = 0x6767_6d6c;

/// whisper.cpp treats a model as multilingual when its vocabulary has at least this many
/// tokens (English-only models have 51864).
pub const MULTILINGUAL_N_VOCAB: usize = 51865;

/// The hyperparameters at the start of a whisper.cpp ggml file (stored as `i32`; the first ten
/// are checked to be positive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GgmlHeader {
    /// Tokens in the vocabulary: 51864 in English-only models, at least 51865 in multilingual ones.
    pub n_vocab: u32,
    /// Encoder positions for one 30 s window (1500 in the standard models: one per 20 ms).
    pub(crate) n_audio_ctx: u32,
    /// Encoder width (384 tiny … 1280 large).
    pub n_audio_state: u32,
    /// Encoder attention heads.
    pub(crate) n_audio_head: u32,
    /// Encoder layers, from which whisper.cpp infers the model size.
    pub n_audio_layer: u32,
    /// Decoder positions: the most tokens one window's text can hold (448 in the standard models).
    pub(crate) n_text_ctx: u32,
    /// Decoder width.
    pub(crate) n_text_state: u32,
    /// Decoder attention heads.
    pub(crate) n_text_head: u32,
    /// Decoder layers.
    pub n_text_layer: u32,
    /// Mel frequency bands of the input (80, or 128 for large-v3).
    pub n_mels: u32,
    /// 0 f32, 1 f16, or a quantization type plus 1000 × the quantization version (2007 = q8_0).
    /// Not checked here: whisper.cpp judges it.
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

/// Values per block and bytes per block of the ggml tensor type `ttype` (`GGML_TYPE_*`), for
/// the types whisper files use; `None` for types this reader does not know.
pub fn block_size(ttype: u32) -> Option<(usize, usize)> {
    Some(match ttype {
        0 => (1, 4),      // f32
        1 | 30 => (1, 2), // f16, bf16
        2 => (32, 18),    // q4_0
        3 => (32, 20),    // q4_1
        6 => (32, 22),    // q5_0
        7 => (32, 24),    // q5_1
        8 => (32, 34),    // q8_0
        10 => (256, 84),  // q2_k
        11 => (256, 110), // q3_k
        12 => (256, 144), // q4_k
        13 => (256, 176), // q5_k
        14 => (256, 210), // q6_k
        _ => return None,
    })
}

/// Values per block and bytes per block of any tensor type ggml defines, from ggml's own table;
/// `None` for ids it does not (negative, past `GGML_TYPE_COUNT`, or removed types), on which
/// whisper.cpp would read past that table or divide by zero.
fn ggml_type_size(ttype: i32) -> Option<(u64, u64)> {
    use whisper_rs::whisper_rs_sys as sys;
    let t = u32::try_from(ttype)
        .ok()
        .filter(|&t| t < sys::ggml_type_GGML_TYPE_COUNT)?;
    // SAFETY: plain lookups in ggml's static type table, for an id below GGML_TYPE_COUNT.
    let (block, size) = unsafe { (sys::ggml_blck_size(t), sys::ggml_type_size(t)) };
    (block > 0 && size > 0).then_some((block as u64, size as u64))
}

/// Bytes of `n` elements of ggml type `ttype`; `None` for ids that are no ggml type.
fn tensor_bytes(ttype: i32, n: u64) -> Option<u64> {
    let (block, size) = match u32::try_from(ttype).ok().and_then(block_size) {
        Some((b, s)) => (b as u64, s as u64),
        None => ggml_type_size(ttype)?,
    };
    Some(n.div_ceil(block).saturating_mul(size))
}

/// Whether whisper.cpp maps `ftype` (after `% 1000`, the quantization version) to a weight type:
/// other values abort in `ggml_ftype_to_ggml_type`.
fn known_ftype(ftype: i32) -> bool {
    ftype >= 0 && matches!(ftype % 1000, 0..=3 | 7..=25)
}

/// What whisper.cpp needs of the eleven hyperparameters (in file order) to load a model
/// without asserting or reading past its tables; the error says what is wrong. The reader
/// checks a file with it, and `model import` what it is about to write.
pub(crate) fn check_hyperparameters(hp: [i32; 11]) -> Result<(), String> {
    if hp[..10].iter().any(|&v| !(1..=1_000_000).contains(&v)) || !matches!(hp[9], 80 | 128) {
        return Err(format!("implausible hyperparameters {hp:?}"));
    }
    let [n_vocab, _, a_state, a_head, _, _, t_state, t_head, _, _, ftype] = hp;
    if !known_ftype(ftype) {
        return Err(format!("unknown weight type: ftype {ftype}"));
    }
    // Past 51866 a multilingual vocabulary would name more languages than whisper.cpp has.
    if n_vocab > 51866 {
        return Err(format!(
            "vocabulary of {n_vocab} tokens, whisper has at most 51866"
        ));
    }
    if a_state != t_state || a_state % a_head != 0 || t_state % t_head != 0 {
        return Err(format!(
            "widths {a_state}/{t_state} do not split into {a_head}/{t_head} attention heads"
        ));
    }
    Ok(())
}

/// Reads the header and walks the file (filter bank, vocabulary, tensor headers; data is
/// skipped) so a wrong or truncated file gets a precise one-line error before whisper.cpp
/// sees it.
pub fn read_header(path: &Path) -> Result<GgmlHeader, GgmlError> {
    let mut w = Walker::open(path)?;
    w.magic()?;
    let h = w.hyperparameters()?;
    w.mel_filters()?;
    w.vocabulary()?;
    w.tensors()?;
    Ok(h)
}

/// A cursor over a model file that knows the file's length and its own offset, for messages
/// that say where the file went wrong.
struct Walker<'a> {
    path: &'a Path,
    r: BufReader<File>,
    len: u64,
    pos: u64,
}

impl<'a> Walker<'a> {
    fn open(path: &'a Path) -> Result<Walker<'a>, GgmlError> {
        let io = |source| GgmlError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Ok(Walker {
            path,
            r: BufReader::new(file),
            len,
            pos: 0,
        })
    }

    fn io(&self, source: io::Error) -> GgmlError {
        GgmlError::Io {
            path: self.path.to_path_buf(),
            source,
        }
    }

    fn not_ggml(&self, reason: String) -> GgmlError {
        GgmlError::NotGgml {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    fn truncated(&self, reason: String) -> GgmlError {
        GgmlError::Truncated {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    /// The first four bytes: ggml's magic, or a guess at what the file is instead.
    fn magic(&mut self) -> Result<(), GgmlError> {
        let mut magic = [0u8; 4];
        let got = read_full(&mut self.r, &mut magic).map_err(|e| self.io(e))?;
        if got < 4 {
            return Err(self.not_ggml(format!("only {} bytes", self.len)));
        }
        self.pos = 4;
        let why = match &magic {
            m if u32::from_le_bytes(*m) == GGML_MAGIC => return Ok(()),
            b"GGUF" => "a GGUF file, e.g. for llama.cpp".to_string(),
            [b'P', b'K', 3, 4] => {
                "a zip archive, e.g. a PyTorch checkpoint: convert it first".to_string()
            }
            m if m.iter().all(|b| b.is_ascii_graphic() || *b == b' ') => {
                format!("it starts with {:?}", String::from_utf8_lossy(m))
            }
            m => format!("magic bytes {m:02x?}"),
        };
        Err(self.not_ggml(why))
    }

    /// The next little-endian `i32`; a file that ends inside it is truncated in `what`.
    fn i32(&mut self, what: &str) -> Result<i32, GgmlError> {
        let mut b = [0u8; 4];
        let got = read_full(&mut self.r, &mut b).map_err(|e| self.io(e))?;
        if got < 4 {
            return Err(self.truncated(format!("ends inside the {what} ({} bytes)", self.len)));
        }
        self.pos += 4;
        Ok(i32::from_le_bytes(b))
    }

    /// Skips `n` bytes of `what`, which must all be in the file.
    fn skip(&mut self, n: u64, what: &str) -> Result<(), GgmlError> {
        if self.pos.checked_add(n).is_none_or(|end| end > self.len) {
            return Err(self.truncated(format!(
                "{what} needs {n} bytes at offset {}, the file ends at {}",
                self.pos, self.len
            )));
        }
        self.r.seek_relative(n as i64).map_err(|e| self.io(e))?;
        self.pos += n;
        Ok(())
    }

    /// The eleven hyperparameters, the first ten in a plausible range.
    fn hyperparameters(&mut self) -> Result<GgmlHeader, GgmlError> {
        let mut hp = [0i32; 11];
        for v in hp.iter_mut() {
            *v = self.i32("header")?;
        }
        check_hyperparameters(hp).map_err(|why| self.not_ggml(why))?;
        // The first ten are positive (checked above); ftype is kept as stored.
        let v = hp.map(|v| v as u32);
        Ok(GgmlHeader {
            n_vocab: v[0],
            n_audio_ctx: v[1],
            n_audio_state: v[2],
            n_audio_head: v[3],
            n_audio_layer: v[4],
            n_text_ctx: v[5],
            n_text_state: v[6],
            n_text_head: v[7],
            n_text_layer: v[8],
            n_mels: v[9],
            ftype: v[10],
        })
    }

    fn mel_filters(&mut self) -> Result<(), GgmlError> {
        let n_mel = self.i32("mel filters")?;
        let n_fft = self.i32("mel filters")?;
        if !(1..=1024).contains(&n_mel) || !(1..=4096).contains(&n_fft) {
            return Err(self.not_ggml(format!("implausible mel filter bank {n_mel}×{n_fft}")));
        }
        self.skip(n_mel as u64 * n_fft as u64 * 4, "the mel filter bank")
    }

    fn vocabulary(&mut self) -> Result<(), GgmlError> {
        let n_tokens = self.i32("vocabulary")?;
        if !(0..=1_000_000).contains(&n_tokens) {
            return Err(self.not_ggml(format!("implausible vocabulary size {n_tokens}")));
        }
        for _ in 0..n_tokens {
            let l = self.i32("vocabulary")?;
            if !(0..=4096).contains(&l) {
                return Err(self.not_ggml(format!("implausible token length {l}")));
            }
            self.skip(l as u64, "the vocabulary")?;
        }
        Ok(())
    }

    /// Every tensor header up to the end of the file (the data skipped), or up to a type
    /// [`block_size`] does not know: whisper.cpp judges the rest.
    fn tensors(&mut self) -> Result<(), GgmlError> {
        let mut n_tensors = 0;
        while self.pos < self.len {
            let at = self.pos;
            if self.len - at < 12 {
                return Err(self.truncated(format!("ends inside a tensor header at offset {at}")));
            }
            let n_dims = self.i32("tensor header")?;
            let name_len = self.i32("tensor header")?;
            let ttype = self.i32("tensor header")?;
            if !(1..=4).contains(&n_dims) || !(1..=1024).contains(&name_len) {
                return Err(self.not_ggml(format!("implausible tensor header at offset {at}")));
            }
            let mut n: u64 = 1;
            for _ in 0..n_dims {
                let at = self.pos;
                let d = self.i32("tensor header")?;
                if d < 1 {
                    return Err(self.not_ggml(format!("tensor dimension {d} at offset {at}")));
                }
                n = n.saturating_mul(d as u64);
            }
            if self.pos + name_len as u64 > self.len {
                return Err(
                    self.truncated(format!("ends inside a tensor name at offset {}", self.pos))
                );
            }
            let mut name = vec![0u8; name_len as usize];
            read_full(&mut self.r, &mut name).map_err(|e| self.io(e))?;
            self.pos += name_len as u64;
            let name = String::from_utf8_lossy(&name).into_owned();
            let Some(bytes) = tensor_bytes(ttype, n) else {
                return Err(self.not_ggml(format!("tensor {name} has unknown ggml type {ttype}")));
            };
            self.skip(bytes, &format!("tensor {name}"))?;
            n_tensors += 1;
        }
        if n_tensors == 0 && self.pos >= self.len {
            return Err(self.truncated("no tensors after the vocabulary".into()));
        }
        Ok(())
    }
}

/// Reads until `buf` is full or EOF; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// Writes a minimal ggml file: header, a 1×1 filter bank, `tokens`, then `tensors`
    /// (name, f32 element count, data bytes actually written).
    fn ggml_file(dir: &Path, name: &str, magic: &[u8], tensors: &[(&str, i32, usize)]) -> PathBuf {
        let mut b = magic.to_vec();
        for v in [51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1, 1, 1] {
            b.extend_from_slice(&i32::to_le_bytes(v));
        }
        b.extend_from_slice(&0f32.to_le_bytes());
        b.extend_from_slice(&1i32.to_le_bytes());
        b.extend_from_slice(&2i32.to_le_bytes());
        b.extend_from_slice(b"hi");
        for (tname, n, written) in tensors {
            for v in [1, tname.len() as i32, 0, *n] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(tname.as_bytes());
            b.resize(b.len() + *written, 0);
        }
        let path = dir.join(name);
        std::fs::write(&path, b).unwrap();
        path
    }

    #[test]
    fn model_files_are_checked_with_one_line_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let magic = GGML_MAGIC.to_le_bytes();

        let ok = ggml_file(dir, "ok.bin", &magic, &[("a", 4, 16), ("b", 2, 8)]);
        let h = read_header(&ok).unwrap();
        assert_eq!(
            (h.n_vocab, h.n_text_layer, h.n_audio_state),
            (51864, 4, 384)
        );

        let cut = ggml_file(dir, "cut.bin", &magic, &[("a", 4, 16), ("b", 100, 8)]);
        let e = read_header(&cut).unwrap_err();
        assert!(matches!(e, GgmlError::Truncated { .. }), "{e}");
        assert!(
            e.to_string().contains("cut.bin") && e.to_string().contains("tensor b"),
            "{e}"
        );

        let bare = ggml_file(dir, "bare.bin", &magic, &[]);
        assert!(matches!(
            read_header(&bare),
            Err(GgmlError::Truncated { .. })
        ));

        let gguf = ggml_file(dir, "llm.gguf", b"GGUF", &[]);
        let e = read_header(&gguf).unwrap_err();
        assert!(
            matches!(e, GgmlError::NotGgml { .. }) && e.to_string().contains("GGUF"),
            "{e}"
        );

        let text = dir.join("notes.txt");
        std::fs::write(&text, "hello, this is not a model").unwrap();
        assert!(matches!(read_header(&text), Err(GgmlError::NotGgml { .. })));

        let empty = dir.join("empty.bin");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            read_header(&empty),
            Err(GgmlError::NotGgml { .. })
        ));

        let e = read_header(&dir.join("missing.bin")).unwrap_err();
        assert!(matches!(e, GgmlError::Io { .. }) && e.to_string().contains("missing.bin"));
        for e in [e, read_header(&cut).unwrap_err()] {
            assert!(!e.to_string().contains('\n'), "one line: {e}");
        }
    }

    #[test]
    fn other_files_get_exact_messages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        let shown = path.display();
        let msg = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            read_header(&path).unwrap_err().to_string()
        };
        let not_ggml = |why: &str| format!("{shown}: not a whisper.cpp ggml model ({why})");
        assert_eq!(
            msg(b"GGUF\x03\0\0\0"),
            not_ggml("a GGUF file, e.g. for llama.cpp")
        );
        assert_eq!(msg(b"ab"), not_ggml("only 2 bytes"));
        assert_eq!(
            msg(b"PK\x03\x04rest"),
            not_ggml("a zip archive, e.g. a PyTorch checkpoint: convert it first")
        );
        assert_eq!(
            msg(b"{\"a\": 1}"),
            not_ggml("it starts with \"{\\\"a\\\"\"")
        );
        assert_eq!(
            msg(&[0, 1, 2, 3, 4]),
            not_ggml("magic bytes [00, 01, 02, 03]")
        );
        let mut b = GGML_MAGIC.to_le_bytes().to_vec();
        b.extend(1i32.to_le_bytes());
        assert_eq!(
            msg(&b),
            format!("{shown}: truncated whisper model (ends inside the header (8 bytes)); download or convert it again")
        );
        b.extend([0u8; 40]);
        assert_eq!(
            msg(&b),
            not_ggml("implausible hyperparameters [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]")
        );
        let none = dir.path().join("none.bin");
        let e = read_header(&none).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: cannot read the model: ", none.display())),
            "{e}"
        );
    }

    #[test]
    fn the_walk_says_where_the_tensors_go_wrong() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let magic = GGML_MAGIC.to_le_bytes();
        let base = ggml_file(dir, "base.bin", &magic, &[("a", 4, 16)]);
        let at = std::fs::metadata(&base).unwrap().len();
        let with = |name: &str, tail: &[i32], extra: &[u8]| {
            let mut b = std::fs::read(&base).unwrap();
            for v in tail {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(extra);
            let path = dir.join(name);
            std::fs::write(&path, b).unwrap();
            let e = read_header(&path).map(|_| String::new());
            e.unwrap_or_else(|e| e.to_string())
        };
        let shown = |name: &str| dir.join(name).display().to_string();
        assert_eq!(
            with("h.bin", &[1, 1], &[]),
            format!("{}: truncated whisper model (ends inside a tensor header at offset {at}); download or convert it again", shown("h.bin"))
        );
        assert_eq!(
            with("d.bin", &[5, 1, 0], &[]),
            format!(
                "{}: not a whisper.cpp ggml model (implausible tensor header at offset {at})",
                shown("d.bin")
            )
        );
        assert_eq!(
            with("z.bin", &[1, 1, 0, 0], &[]),
            format!(
                "{}: not a whisper.cpp ggml model (tensor dimension 0 at offset {})",
                shown("z.bin"),
                at + 12
            )
        );
        assert_eq!(
            with("n.bin", &[1, 9, 0, 1], b"abc"),
            format!("{}: truncated whisper model (ends inside a tensor name at offset {}); download or convert it again", shown("n.bin"), at + 16)
        );
        assert_eq!(
            with("t.bin", &[1, 1, 99, 1], b"x"),
            format!(
                "{}: not a whisper.cpp ggml model (tensor x has unknown ggml type 99)",
                shown("t.bin")
            )
        );
        // A type ggml knows that whisper files rarely use (iq4_nl): sized from ggml's table.
        let mut iq = vec![b'x'];
        iq.resize(1 + 18, 0);
        assert_eq!(with("iq.bin", &[1, 1, 20, 32], &iq), "");
    }

    #[test]
    fn block_sizes_are_ggml_s() {
        use whisper_rs::whisper_rs_sys::{ggml_blck_size, ggml_type_size};
        for t in 0..=30 {
            if let Some((block, bytes)) = block_size(t) {
                // SAFETY: plain lookups in ggml's static type table, for types it defines.
                let theirs = unsafe { (ggml_blck_size(t) as usize, ggml_type_size(t)) };
                assert_eq!((block, bytes), theirs, "ggml type {t}");
            }
        }
        assert_eq!(block_size(1), Some((1, 2)));
        assert_eq!(block_size(4), None);
    }
}
