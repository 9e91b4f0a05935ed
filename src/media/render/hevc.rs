//! The HEVC bitstream facts the smart render needs, as pure byte logic: the `hvcC` decoder
//! configuration record (ISO/IEC 14496-15 §8.3.3) and NAL unit types (H.265 §7.4.2.2).
//!
//! x265 cannot give its parameter sets other ids than the source's, so for HEVC the smart
//! render sends parameter sets in band (the `hev1` sample entry, FFmpeg's default for HEVC in
//! MP4, allows it): the encoder's VPS/SPS/PPS before the first picture of every re-encoded
//! edge, and the source's again before the first copied picture after one.

/// NAL unit types of the parameter sets.
pub(super) const NAL_VPS: u8 = 32;
pub(super) const NAL_SPS: u8 = 33;
pub(super) const NAL_PPS: u8 = 34;

/// The HEVC NAL unit type (bits 1..7 of the first header byte).
pub(super) fn nal_type(unit: &[u8]) -> u8 {
    unit.first().map_or(0, |h| (h >> 1) & 0x3f)
}

/// What the smart render reads from an `hvcC` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Hvcc {
    /// `general_profile_idc` (1 = Main).
    pub profile: u8,
    /// `general_level_idc` (30 × the level: 120 = 4.0).
    pub level: u8,
    /// Bytes of each NAL unit's length prefix in the samples (1, 2 or 4).
    pub length_size: usize,
    /// The VPS, SPS and PPS NAL units, in that order.
    pub parameter_sets: Vec<Vec<u8>>,
}

impl Hvcc {
    /// Parses an `hvcC` record; `None` when it is not one (e.g. Annex B extradata).
    pub fn parse(b: &[u8]) -> Option<Hvcc> {
        if b.len() < 23 || b[0] != 1 {
            return None;
        }
        let length_size = usize::from(b[21] & 3) + 1;
        if length_size == 3 {
            return None;
        }
        let arrays = usize::from(b[22]);
        let mut at = 23;
        let mut sets: Vec<(u8, Vec<u8>)> = Vec::new();
        for _ in 0..arrays {
            let kind = b.get(at)? & 0x3f;
            let n = usize::from(u16::from_be_bytes([*b.get(at + 1)?, *b.get(at + 2)?]));
            at += 3;
            for _ in 0..n {
                let len = usize::from(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]));
                let nal = b.get(at + 2..at + 2 + len)?;
                if matches!(kind, NAL_VPS | NAL_SPS | NAL_PPS) {
                    sets.push((kind, nal.to_vec()));
                }
                at += 2 + len;
            }
        }
        sets.sort_by_key(|(k, _)| *k);
        Some(Hvcc {
            profile: b[1] & 0x1f,
            level: b[12],
            length_size,
            parameter_sets: sets.into_iter().map(|(_, n)| n).collect(),
        })
    }
}

/// The VPS, SPS and PPS units of Annex B bytes (an encoder's extradata), in that order.
pub(super) fn annexb_parameter_sets(b: &[u8]) -> Vec<Vec<u8>> {
    let mut sets: Vec<(u8, Vec<u8>)> = super::h264::annexb_units(b)
        .into_iter()
        .filter(|u| matches!(nal_type(u), NAL_VPS | NAL_SPS | NAL_PPS))
        .map(|u| (nal_type(u), u.to_vec()))
        .collect();
    sets.sort_by_key(|(k, _)| *k);
    sets.into_iter().map(|(_, n)| n).collect()
}

/// `units` written with `length_size`-byte length prefixes, ready to go before a sample's own.
pub(super) fn length_prefixed(units: &[Vec<u8>], length_size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for u in units {
        out.extend_from_slice(&(u.len() as u64).to_be_bytes()[8 - length_size..]);
        out.extend_from_slice(u);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An hvcC with one VPS, SPS and PPS (fake payloads, real headers), Main profile, level 4.
    fn record() -> Vec<u8> {
        let mut b = vec![
            1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 120, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0,
            0, 0x0f,
        ];
        b.push(3);
        for (t, payload) in [
            (NAL_SPS, vec![1, 2, 3]),
            (NAL_VPS, vec![4]),
            (NAL_PPS, vec![5, 6]),
        ] {
            b.push(0x80 | t);
            b.extend_from_slice(&1u16.to_be_bytes());
            let nal = [&[t << 1, 1][..], &payload].concat();
            b.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            b.extend_from_slice(&nal);
        }
        b
    }

    #[test]
    fn hvcc_is_read() {
        let h = Hvcc::parse(&record()).unwrap();
        assert_eq!((h.profile, h.level, h.length_size), (1, 120, 4));
        let types: Vec<u8> = h.parameter_sets.iter().map(|n| nal_type(n)).collect();
        assert_eq!(types, vec![NAL_VPS, NAL_SPS, NAL_PPS]);
        assert_eq!(h.parameter_sets[1], vec![NAL_SPS << 1, 1, 1, 2, 3]);
        assert_eq!(Hvcc::parse(&record()[..30]), None, "truncated");
        assert_eq!(Hvcc::parse(&[0, 0, 0, 1, 0x40, 1]), None, "annex b");
    }

    #[test]
    fn annexb_sets_and_prefixes() {
        let s = [
            &[0, 0, 0, 1, NAL_PPS << 1, 1, 9][..],
            &[0, 0, 1, NAL_VPS << 1, 1, 7],
            &[0, 0, 1, 39 << 1, 1, 5], // SEI: not a parameter set
            &[0, 0, 1, NAL_SPS << 1, 1, 8],
        ]
        .concat();
        let sets = annexb_parameter_sets(&s);
        assert_eq!(
            sets,
            vec![
                vec![NAL_VPS << 1, 1, 7],
                vec![NAL_SPS << 1, 1, 8],
                vec![NAL_PPS << 1, 1, 9]
            ]
        );
        let p = length_prefixed(&sets[..1], 4);
        assert_eq!(p, vec![0, 0, 0, 3, NAL_VPS << 1, 1, 7]);
    }
}
