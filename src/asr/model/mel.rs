//! Whisper's log-mel front end as a ggml file stores it: the mel filterbank.

/// FFT size of Whisper's log-mel front end (at [`crate::time::SAMPLE_RATE`]): 201 frequency
/// bins.
pub const N_FFT: usize = 400;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
