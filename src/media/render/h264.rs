//! The few H.264 bitstream facts the smart render needs, as pure byte logic: the
//! `avcC` decoder configuration record (ISO/IEC 14496-15 §5.3.3) of MP4/MOV/Matroska, Annex B
//! start-code streams (what libx264 writes), and the parameter set ids (H.264 §7.3.2.1/7.3.2.2)
//! that tell the source's SPS/PPS from the encoder's.
//!
//! The smart render copies the source's packets and adds re-encoded ones whose parameter sets
//! carry other ids, so one `avcC` holds both sets: every slice names its PPS, and a decoder
//! picks the right one without a second sample description or in-band parameter sets.

/// NAL unit types used here.
pub(super) const NAL_SPS: u8 = 7;
pub(super) const NAL_PPS: u8 = 8;

/// A parsed `avcC` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Avcc {
    pub profile: u8,
    pub compatibility: u8,
    pub level: u8,
    /// Bytes of each NAL unit's length prefix in the samples (1, 2 or 4).
    pub length_size: usize,
    pub sps: Vec<Vec<u8>>,
    pub pps: Vec<Vec<u8>>,
    /// What follows the PPS list (the High profile extension: chroma format, bit depths,
    /// SPS extensions), kept as it is.
    pub tail: Vec<u8>,
}

impl Avcc {
    /// Parses an `avcC` record; `None` when it is not one (e.g. Annex B extradata).
    pub fn parse(b: &[u8]) -> Option<Avcc> {
        if b.len() < 7 || b[0] != 1 {
            return None;
        }
        let length_size = usize::from(b[4] & 3) + 1;
        if length_size == 3 {
            return None;
        }
        let mut at = 5;
        let list = |count: usize, at: &mut usize| -> Option<Vec<Vec<u8>>> {
            let mut v = Vec::with_capacity(count);
            for _ in 0..count {
                let len = usize::from(u16::from_be_bytes([*b.get(*at)?, *b.get(*at + 1)?]));
                let nal = b.get(*at + 2..*at + 2 + len)?;
                v.push(nal.to_vec());
                *at += 2 + len;
            }
            Some(v)
        };
        let n_sps = usize::from(b[at] & 0x1f);
        at += 1;
        let sps = list(n_sps, &mut at)?;
        let n_pps = usize::from(*b.get(at)?);
        at += 1;
        let pps = list(n_pps, &mut at)?;
        Some(Avcc {
            profile: b[1],
            compatibility: b[2],
            level: b[3],
            length_size,
            sps,
            pps,
            tail: b[at..].to_vec(),
        })
    }

    /// The record's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![
            1,
            self.profile,
            self.compatibility,
            self.level,
            0xfc | (self.length_size as u8 - 1),
            0xe0 | self.sps.len() as u8,
        ];
        for s in &self.sps {
            b.extend_from_slice(&(s.len() as u16).to_be_bytes());
            b.extend_from_slice(s);
        }
        b.push(self.pps.len() as u8);
        for p in &self.pps {
            b.extend_from_slice(&(p.len() as u16).to_be_bytes());
            b.extend_from_slice(p);
        }
        b.extend_from_slice(&self.tail);
        b
    }

    /// The ids of its SPSs and PPSs (`None` where one cannot be read).
    pub fn ids(&self) -> Option<(Vec<u32>, Vec<u32>)> {
        let sps = self.sps.iter().map(|s| sps_id(s)).collect::<Option<_>>()?;
        let pps = self.pps.iter().map(|p| pps_id(p)).collect::<Option<_>>()?;
        Some((sps, pps))
    }
}

/// The NAL units of an Annex B stream (start codes `00 00 01` / `00 00 00 01`), without the
/// start codes (and without trailing zero bytes).
pub(super) fn annexb_units(b: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= b.len() {
        if b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut units = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(b.len(), |&n| n - 3);
        while end > s && b[end - 1] == 0 {
            end -= 1;
        }
        if end > s {
            units.push(&b[s..end]);
        }
    }
    units
}

/// An Annex B access unit rewritten with `length_size`-byte length prefixes (the sample
/// format of MP4/Matroska). `None` if a unit is too long for the prefix.
pub(super) fn annexb_to_length_prefixed(b: &[u8], length_size: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len() + 16);
    for u in annexb_units(b) {
        let len = u.len() as u64;
        if length_size < 8 && len >> (8 * length_size) != 0 {
            return None;
        }
        out.extend_from_slice(&len.to_be_bytes()[8 - length_size..]);
        out.extend_from_slice(u);
    }
    Some(out)
}

/// The NAL unit type (low 5 bits of the header byte).
pub(super) fn nal_type(unit: &[u8]) -> u8 {
    unit.first().map_or(0, |h| h & 0x1f)
}

/// Reads Exp-Golomb codes from a NAL unit's payload (emulation prevention bytes removed).
struct Bits<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = *self.b.get(self.pos / 8)?;
        let v = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(v))
    }
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let mut v = 1u64;
        for _ in 0..zeros {
            v = (v << 1) | u64::from(self.bit()?);
        }
        u32::try_from(v - 1).ok()
    }
}

/// The payload after the one-byte NAL header, emulation prevention bytes removed.
fn rbsp(unit: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(unit.len());
    let mut zeros = 0;
    for &b in unit.iter().skip(1) {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// `seq_parameter_set_id` of an SPS NAL unit (after profile, constraints and level).
pub(super) fn sps_id(unit: &[u8]) -> Option<u32> {
    if nal_type(unit) != NAL_SPS {
        return None;
    }
    let p = rbsp(unit);
    Bits { b: &p, pos: 24 }.ue()
}

/// `pic_parameter_set_id` of a PPS NAL unit.
pub(super) fn pps_id(unit: &[u8]) -> Option<u32> {
    if nal_type(unit) != NAL_PPS {
        return None;
    }
    let p = rbsp(unit);
    Bits { b: &p, pos: 0 }.ue()
}

/// The source's `avcC` with the encoder's parameter sets (from its Annex B extradata) added.
/// `None` when the encoder's sets are missing or their ids collide with the source's.
pub(super) fn merge(source: &Avcc, encoder_annexb: &[u8]) -> Option<Avcc> {
    let (src_sps, src_pps) = source.ids()?;
    let mut merged = source.clone();
    let mut added = (0, 0);
    for u in annexb_units(encoder_annexb) {
        match nal_type(u) {
            NAL_SPS => {
                if src_sps.contains(&sps_id(u)?) {
                    return None;
                }
                merged.sps.push(u.to_vec());
                added.0 += 1;
            }
            NAL_PPS => {
                if src_pps.contains(&pps_id(u)?) {
                    return None;
                }
                merged.pps.push(u.to_vec());
                added.1 += 1;
            }
            _ => {}
        }
    }
    (added.0 > 0 && added.1 > 0 && merged.sps.len() <= 31).then_some(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SPS of a 1280x720 High profile stream written by x264 (id 0), and a PPS (id 0).
    const SPS0: &[u8] = &[
        0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03,
        0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60,
    ];
    const PPS0: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

    fn avcc() -> Avcc {
        Avcc {
            profile: 0x64,
            compatibility: 0,
            level: 0x1f,
            length_size: 4,
            sps: vec![SPS0.to_vec()],
            pps: vec![PPS0.to_vec()],
            tail: vec![0xfd, 0xf8, 0xf8, 0x00],
        }
    }

    #[test]
    fn avcc_round_trips() {
        let a = avcc();
        let b = a.to_bytes();
        assert_eq!(b[0], 1);
        assert_eq!(b[4], 0xff);
        assert_eq!(b[5], 0xe1);
        assert_eq!(Avcc::parse(&b), Some(a));
        assert_eq!(Avcc::parse(&b[..10]), None, "truncated");
        assert_eq!(Avcc::parse(&[0, 0, 0, 1, 0x67, 0x64, 0]), None, "annex b");
    }

    #[test]
    fn ids_are_read() {
        assert_eq!(sps_id(SPS0), Some(0));
        assert_eq!(pps_id(PPS0), Some(0));
        // seq_parameter_set_id = 1 is ue "010" right after the level byte.
        let mut sps1 = SPS0.to_vec();
        sps1[4] = 0b0100_0000;
        assert_eq!(sps_id(&sps1), Some(1));
        // pic_parameter_set_id = 2 is "011", then seq id 0 = "1".
        assert_eq!(pps_id(&[0x68, 0b0111_0000]), Some(2));
        assert_eq!(sps_id(PPS0), None);
    }

    #[test]
    fn annexb_splits_and_prefixes() {
        let s = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 6, 0,
        ];
        let u = annexb_units(&s);
        assert_eq!(u, vec![&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4, 5, 6]]);
        let p = annexb_to_length_prefixed(&s, 4).unwrap();
        assert_eq!(
            p,
            vec![0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 3, 0, 0, 0, 4, 0x65, 4, 5, 6]
        );
        let p = annexb_to_length_prefixed(&s, 2).unwrap();
        assert_eq!(&p[..2], &[0, 3]);
        let big = [&[0u8, 0, 1, 0x65][..], &[7u8; 300]].concat();
        assert_eq!(annexb_to_length_prefixed(&big, 1), None);
    }

    #[test]
    fn merge_adds_the_encoders_sets_under_other_ids() {
        let mut sps1 = SPS0.to_vec();
        sps1[4] = 0b0100_0000;
        let pps1 = [0x68, 0b0100_1000];
        let enc = [&[0, 0, 0, 1][..], &sps1, &[0, 0, 1], &pps1].concat();
        let m = merge(&avcc(), &enc).unwrap();
        assert_eq!(m.sps.len(), 2);
        assert_eq!(m.pps.len(), 2);
        assert_eq!(m.ids(), Some((vec![0, 1], vec![0, 1])));
        assert_eq!(m.tail, avcc().tail);
        // The same ids as the source's: no merge.
        let same = [&[0, 0, 0, 1][..], SPS0, &[0, 0, 1], PPS0].concat();
        assert_eq!(merge(&avcc(), &same), None);
        // No parameter sets at all.
        assert_eq!(merge(&avcc(), &[0, 0, 1, 0x65, 1]), None);
    }
}
