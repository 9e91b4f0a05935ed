//! The ggml block quantizations of `subcut model import --quantize`.

use half::f16;

use super::ggml_file::block_size;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quantization {
    /// 8-bit, 34 bytes per 32 weights (≈ 53 % of f16).
    Q8_0,
    /// 5-bit with a minimum, 24 bytes per 32 weights.
    Q5_1,
    /// 5-bit, 22 bytes per 32 weights.
    Q5_0,
    /// 4-bit, 18 bytes per 32 weights.
    Q4_0,
    /// 4-bit k-quant, 144 bytes per 256 weights: slightly less accurate than q8_0, faster only
    /// on CPUs without Intel AMX; rows must be multiples of 256 (base and up).
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

    /// One line for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            Quantization::Q8_0 => "8-bit, 34 bytes per 32 weights (≈ 53 % of f16)",
            Quantization::Q5_1 => "5-bit with a minimum, 24 bytes per 32 weights",
            Quantization::Q5_0 => "5-bit, 22 bytes per 32 weights",
            Quantization::Q4_0 => "4-bit, 18 bytes per 32 weights",
            Quantization::Q4K => "4-bit k-quant, 144 bytes per 256 weights: slightly less accurate than q8_0, faster only on CPUs without Intel AMX; rows must be multiples of 256 (base and up)",
        }
    }

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
    #[cfg(test)]
    pub fn from_header_ftype(ftype: u32) -> Option<Quantization> {
        Quantization::ALL
            .into_iter()
            .find(|q| q.ftype() == ftype % 1000 && ftype >= 1000)
    }

    /// Values per block: [`QK`], or [`QK_K`] for the k-quant. A quantized tensor's rows must
    /// be whole blocks.
    pub fn block_values(self) -> usize {
        self.block().0
    }

    /// Bytes of one block of [`block_values`](Quantization::block_values) values.
    pub fn block_bytes(self) -> usize {
        self.block().1
    }

    /// ggml's block of this type: values and bytes ([`block_size`]).
    fn block(self) -> (usize, usize) {
        block_size(self.ggml_type()).expect("ggml_file knows every Quantization")
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
    #[cfg(test)]
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
#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
