//! Tokens → words, pure: whisper's byte-level tokens with their times become the words of a
//! segment (see the `whisper` module documentation for the rules), and word times are made
//! usable ([`fit_word_times`]).

use crate::time::{Span, Time};
use crate::transcript::{is_cjk, Word};

/// The shortest word the engine emits (where the segment has room for it).
pub const MIN_WORD: Time = Time::from_millis(20);

/// One decoded token: its raw bytes (possibly part of a UTF-8 character), its times on the
/// media timeline, its probability, and whether it is a special token (id ≥ end-of-text).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenTiming {
    pub bytes: Vec<u8>,
    pub start: Time,
    pub end: Time,
    pub probability: f32,
    pub special: bool,
}

/// Groups a segment's tokens into words and fits their times into `segment` (see
/// [`group_words`] and [`fit_word_times`]).
pub fn words_from_tokens(tokens: &[TokenTiming], segment: Span, min_len: Time) -> Vec<Word> {
    let mut words = group_words(tokens);
    fit_word_times(&mut words, segment, min_len);
    words
}

/// Decoded text between token boundaries, with the time and probability of the tokens that
/// made it.
struct Piece {
    text: String,
    start: Time,
    end: Time,
    probability: f32,
}

/// Concatenates token bytes until they decode, so characters split across tokens come out
/// whole; bytes that can never decode are dropped.
fn pieces(tokens: &[TokenTiming]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let (mut start, mut p_sum, mut p_n) = (Time::ZERO, 0.0f32, 0u32);
    let mut end = Time::ZERO;
    let mut emit = |bytes: &[u8], start: Time, end: Time, p: f32| {
        let text = String::from_utf8_lossy(bytes).replace('\u{FFFD}', "");
        if !text.is_empty() {
            out.push(Piece {
                text,
                start,
                end,
                probability: p,
            });
        }
    };
    for t in tokens.iter().filter(|t| !t.special) {
        if pending.is_empty() {
            (start, p_sum, p_n) = (t.start, 0.0, 0);
        }
        pending.extend_from_slice(&t.bytes);
        p_sum += t.probability;
        p_n += 1;
        end = t.end;
        loop {
            match std::str::from_utf8(&pending) {
                Ok(_) => {
                    emit(&pending, start, t.end, p_sum / p_n as f32);
                    pending.clear();
                    break;
                }
                Err(e) => {
                    // An incomplete character at the end waits for the next token; an invalid
                    // sequence is flushed (and its bytes dropped) and decoding goes on.
                    let cut = match e.error_len() {
                        None => e.valid_up_to(),
                        Some(len) => e.valid_up_to() + len,
                    };
                    if cut == 0 {
                        break;
                    }
                    emit(&pending[..cut], start, t.end, p_sum / p_n as f32);
                    pending.drain(..cut);
                    (start, p_sum, p_n) = (t.start, t.probability, 1);
                    if pending.is_empty() || e.error_len().is_none() {
                        break;
                    }
                }
            }
        }
    }
    if !pending.is_empty() {
        emit(&pending, start, end, p_sum / p_n.max(1) as f32);
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    /// Whitespace: the next visible character starts a new word.
    Space,
    /// Marks that close or end something: always stay on the word before.
    Closing,
    /// Marks that open something: start the next word.
    Opening,
    /// Other punctuation and symbols: stay on the word before unless a space separates them.
    Punct,
    /// A CJK letter (Han, kana, hangul).
    CjkLetter,
    /// Letters and digits of other scripts.
    Letter,
}

fn classify(c: char) -> CharClass {
    if c.is_whitespace() {
        CharClass::Space
    } else if ",.!?:;)]}”’»…、。，．！？：；）］｝」』】》〉〕〗〙〛〞".contains(c)
    {
        CharClass::Closing
    } else if "([{“‘«¿¡（［｛「『【《〈〔〖〘〚〝".contains(c) {
        CharClass::Opening
    } else if c.is_alphanumeric() {
        if is_cjk(c) {
            CharClass::CjkLetter
        } else {
            CharClass::Letter
        }
    } else {
        CharClass::Punct
    }
}

struct WordBuilder {
    text: String,
    start: Time,
    end: Time,
    p_sum: f32,
    p_n: u32,
    last: char,
    last_piece: usize,
    open_only: bool,
}

/// Groups tokens into words: special tokens skipped, bytes reassembled across tokens, a
/// leading space starts a word, punctuation stays with the word before (opening marks with
/// the word after), each token's run of CJK letters is a word. A word spans the times of the
/// characters it took from each token (a token's span shared evenly by its characters); its
/// probability is the mean over the tokens it took characters from. Times are as given: see
/// [`fit_word_times`].
pub fn group_words(tokens: &[TokenTiming]) -> Vec<Word> {
    let mut words: Vec<WordBuilder> = Vec::new();
    let mut space_pending = false;
    for (pi, piece) in pieces(tokens).iter().enumerate() {
        let visible = piece
            .text
            .chars()
            .filter(|c| !c.is_whitespace())
            .count()
            .max(1) as i64;
        let span = (piece.end - piece.start).max(Time::ZERO).0;
        let mut k = 0i64;
        for c in piece.text.chars() {
            let class = classify(c);
            if class == CharClass::Space {
                space_pending = true;
                continue;
            }
            let c_start = piece.start + Time(span * k / visible);
            let c_end = piece.start + Time(span * (k + 1) / visible);
            k += 1;
            let new_word = match words.last() {
                None => true,
                Some(w) if w.open_only => false,
                Some(w) => match class {
                    CharClass::Closing => false,
                    CharClass::Opening => space_pending || is_cjk(w.last),
                    CharClass::Punct => space_pending,
                    CharClass::CjkLetter => {
                        space_pending
                            || w.last_piece != pi
                            || classify(w.last) != CharClass::CjkLetter
                    }
                    CharClass::Letter => space_pending || is_cjk(w.last),
                    CharClass::Space => unreachable!(),
                },
            };
            if new_word {
                words.push(WordBuilder {
                    text: String::new(),
                    start: c_start,
                    end: c_end,
                    p_sum: 0.0,
                    p_n: 0,
                    last: c,
                    last_piece: usize::MAX,
                    open_only: class == CharClass::Opening,
                });
            }
            let w = words.last_mut().expect("a word was just pushed");
            w.text.push(c);
            // Trailing punctuation is silent: its token's time (often the pause after the word)
            // does not stretch the word.
            if new_word || !matches!(class, CharClass::Closing | CharClass::Punct) {
                w.start = w.start.min(c_start);
                w.end = w.end.max(c_end);
            }
            if w.last_piece != pi {
                w.p_sum += piece.probability;
                w.p_n += 1;
            }
            w.last = c;
            w.last_piece = pi;
            w.open_only &= class == CharClass::Opening;
            space_pending = false;
        }
    }
    words
        .into_iter()
        .map(|w| Word {
            text: w.text,
            start: w.start,
            end: w.end,
            probability: (w.p_sum / w.p_n.max(1) as f32).clamp(0.0, 1.0),
        })
        .collect()
}

/// Makes word times usable: inside `segment`, starts non-decreasing, no overlaps, and every
/// word at least `min_len` long — or `segment`'s duration shared evenly when it is too short
/// for that (an empty segment leaves its words empty, at its start).
pub fn fit_word_times(words: &mut [Word], segment: Span, min_len: Time) {
    let n = words.len() as i64;
    if n == 0 {
        return;
    }
    let seg_end = segment.end.max(segment.start);
    let min_len = min_len
        .max(Time::ZERO)
        .min(Time((seg_end - segment.start).0 / n));
    // Clamp into the segment, make starts monotonic, end no earlier than start.
    let mut prev_start = segment.start;
    for w in words.iter_mut() {
        w.start = w.start.max(prev_start).min(seg_end);
        w.end = w.end.max(w.start).min(seg_end);
        prev_start = w.start;
    }
    // An end may not run past the next word's start.
    for i in 0..words.len() - 1 {
        let next = words[i + 1].start;
        words[i].end = words[i].end.min(next).max(words[i].start);
    }
    // Forward: give each word its minimum length, pushing later words if needed…
    let mut lo = segment.start;
    for w in words.iter_mut() {
        w.start = w.start.max(lo);
        w.end = w.end.max(w.start + min_len);
        lo = w.end;
    }
    // …backward: pull everything back inside the segment (n × min_len fits by construction).
    let mut hi = seg_end;
    for w in words.iter_mut().rev() {
        w.end = w.end.min(hi);
        w.start = w.start.min(w.end - min_len);
        hi = w.start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: i64) -> Time {
        Time::from_millis(v)
    }

    fn tok(text: &str, a: i64, b: i64) -> TokenTiming {
        TokenTiming {
            bytes: text.as_bytes().to_vec(),
            start: ms(a),
            end: ms(b),
            probability: 0.9,
            special: false,
        }
    }

    fn raw(bytes: &[u8], a: i64, b: i64, p: f32) -> TokenTiming {
        TokenTiming {
            bytes: bytes.to_vec(),
            start: ms(a),
            end: ms(b),
            probability: p,
            special: false,
        }
    }

    fn special(text: &str, a: i64) -> TokenTiming {
        TokenTiming {
            special: true,
            ..tok(text, a, a)
        }
    }

    fn texts(words: &[Word]) -> Vec<&str> {
        words.iter().map(|w| w.text.as_str()).collect()
    }

    /// Every invariant the pipeline promises about a segment's words.
    fn assert_well_formed(words: &[Word], seg: Span, min_len: Time) {
        let mut prev_end = seg.start;
        for w in words {
            assert!(w.start >= prev_end, "{w:?} starts before {prev_end}");
            assert!(w.end > w.start, "{w:?} is empty");
            assert!(w.end <= seg.end, "{w:?} ends after {seg}");
            let room = (seg.end - seg.start).0 / words.len() as i64;
            assert!(
                (w.end - w.start).0 >= min_len.0.min(room),
                "{w:?} shorter than the minimum"
            );
            prev_end = w.end;
        }
    }

    #[test]
    fn english_bpe_pieces_join_on_leading_spaces() {
        let t = [
            special("[_BEG_]", 0),
            tok(" And", 0, 300),
            tok(" so", 300, 500),
            tok(" my", 500, 700),
            tok(" fellow", 700, 1000),
            tok(" Amer", 1000, 1300),
            tok("icans", 1300, 1700),
            tok(",", 1700, 1800),
            special("[_TT_90]", 1800),
        ];
        let w = group_words(&t);
        assert_eq!(texts(&w), ["And", "so", "my", "fellow", "Americans,"]);
        // The comma's time (often the pause after the word) does not stretch the word.
        assert_eq!((w[4].start, w[4].end), (ms(1000), ms(1700)));
        assert_eq!((w[0].start, w[0].end), (ms(0), ms(300)));
    }

    #[test]
    fn punctuation_stays_with_the_word_before() {
        let t = [
            tok(" Don", 0, 100),
            tok("'t", 100, 200),
            tok(" stop", 200, 300),
            tok("!", 300, 400),
            tok(" well", 400, 500),
            tok("-", 500, 550),
            tok("known", 550, 600),
            tok(" 3", 600, 700),
            tok(".", 700, 710),
            tok("5", 710, 720),
            tok(" (", 720, 730),
            tok("laughs", 730, 800),
            tok(")", 800, 810),
            tok(" Bonjour", 810, 900),
            tok(" !", 900, 910),
            tok(" -", 910, 920),
            tok(" “", 920, 930),
            tok("Hi", 930, 940),
            tok("”", 940, 950),
        ];
        let w = group_words(&t);
        assert_eq!(
            texts(&w),
            [
                "Don't",
                "stop!",
                "well-known",
                "3.5",
                "(laughs)",
                "Bonjour!",
                "-",
                "“Hi”"
            ]
        );
    }

    #[test]
    fn chinese_characters_split_across_tokens_are_reassembled() {
        // 中 = e4 b8 ad, 文 = e6 96 87, 好 = e5 a5 bd, 。= e3 80 82
        let t = [
            special("<|zh|>", 0),
            raw(&[0xe4, 0xb8], 0, 100, 0.5),
            raw(&[0xad, 0xe6, 0x96], 100, 200, 0.7),
            raw(&[0x87], 200, 300, 0.9),
            raw("很好".as_bytes(), 300, 500, 0.8),
            raw(&[0xe3, 0x80, 0x82], 500, 550, 0.6),
            special("[_TT_28]", 550),
        ];
        let w = group_words(&t);
        // One word per token-run of CJK letters; the trailing 。 stays with the last word.
        assert_eq!(texts(&w), ["中", "文", "很好。"]);
        // 中 spans its first two tokens, 文 the last two; probabilities are token means.
        assert_eq!((w[0].start, w[0].end), (ms(0), ms(200)));
        assert_eq!((w[1].start, w[1].end), (ms(100), ms(300)));
        assert!(
            (w[0].probability - 0.6).abs() < 1e-6,
            "{}",
            w[0].probability
        );
        assert!(
            (w[2].probability - 0.7).abs() < 1e-6,
            "{}",
            w[2].probability
        );
        // After fitting, the overlap from the shared token is gone.
        let mut w = w;
        fit_word_times(&mut w, Span::new(ms(0), ms(600)), MIN_WORD);
        assert_well_formed(&w, Span::new(ms(0), ms(600)), MIN_WORD);
        assert_eq!(w[0].end, w[1].start);
    }

    #[test]
    fn mixed_chinese_and_latin_split_at_script_changes() {
        let t = [
            tok("我用", 0, 200),
            tok("Python", 200, 400),
            tok("写", 400, 500),
            tok("代码", 500, 700),
            tok("，", 700, 720),
            tok("他说", 720, 900),
            tok("“", 900, 910),
            tok("好", 910, 1000),
            tok("”", 1000, 1010),
        ];
        let w = group_words(&t);
        assert_eq!(
            texts(&w),
            ["我用", "Python", "写", "代码，", "他说", "“好”"]
        );
    }

    #[test]
    fn a_token_with_several_characters_shares_its_time() {
        // One token completes 中 and carries 文 whole: the two words split its span.
        let t = [
            raw(&[0xe4, 0xb8], 0, 100, 0.9),
            raw(&[0xad, 0xe6, 0x96, 0x87, 0x20, 0x41], 100, 400, 0.9),
        ];
        let w = group_words(&t);
        assert_eq!(texts(&w), ["中文", "A"]);
        let t = [
            raw("中".as_bytes(), 0, 100, 0.9),
            raw(" ab cd".as_bytes(), 100, 500, 0.9),
        ];
        let w = group_words(&t);
        assert_eq!(texts(&w), ["中", "ab", "cd"]);
        assert_eq!((w[1].start, w[1].end), (ms(100), ms(300)));
        assert_eq!((w[2].start, w[2].end), (ms(300), ms(500)));
    }

    #[test]
    fn special_tokens_and_broken_bytes_are_skipped() {
        let t = [
            special("<|startoftranscript|>", 0),
            special("<|en|>", 0),
            special("[_BEG_]", 0),
            tok(" Hi", 0, 100),
            special("[_TT_5]", 100),
            raw(&[0xff], 100, 150, 0.1),
            tok(" there", 150, 300),
            raw(&[0xe4, 0xb8], 300, 350, 0.1), // a character never completed
            special("<|endoftext|>", 400),
        ];
        let w = group_words(&t);
        assert_eq!(texts(&w), ["Hi", "there"]);
        assert!(w.iter().all(|w| !w.text.contains('\u{FFFD}')));
        assert!(group_words(&[special("[_BEG_]", 0), special("<|endoftext|>", 0)]).is_empty());
    }

    #[test]
    fn word_times_become_monotonic_and_stay_inside_the_segment() {
        let seg = Span::new(ms(1000), ms(3000));
        let t = [
            tok(" a", 500, 1200),  // starts before the segment
            tok(" b", 1100, 1900), // starts before a's end
            tok(" c", 1050, 1100), // goes back in time
            tok(" d", 2500, 2500), // zero length
            tok(" e", 2990, 3500), // runs past the end
            tok(" f", 4000, 4100), // wholly after the end
        ];
        let w = words_from_tokens(&t, seg, MIN_WORD);
        assert_eq!(texts(&w), ["a", "b", "c", "d", "e", "f"]);
        assert_well_formed(&w, seg, MIN_WORD);
        assert_eq!(w[0].start, ms(1000));
        assert_eq!(w[0].end, ms(1100), "cut back at b's start");
        assert_eq!(
            (w[3].start, w[3].end),
            (ms(2500), ms(2520)),
            "zero length → 20 ms"
        );
        assert_eq!(w[5].end, ms(3000));
    }

    #[test]
    fn zero_length_words_get_the_minimum_and_push_their_neighbours() {
        let seg = Span::new(ms(0), ms(1000));
        let t = [
            tok(" a", 500, 500),
            tok(" b", 500, 500),
            tok(" c", 500, 500),
        ];
        let w = words_from_tokens(&t, seg, MIN_WORD);
        assert_eq!(
            w.iter().map(|w| (w.start, w.end)).collect::<Vec<_>>(),
            [(ms(500), ms(520)), (ms(520), ms(540)), (ms(540), ms(560))]
        );
        // Crowded at the segment's end: pulled back inside.
        let t = [
            tok(" a", 990, 990),
            tok(" b", 1000, 1000),
            tok(" c", 1200, 1300),
        ];
        let w = words_from_tokens(&t, seg, MIN_WORD);
        assert_well_formed(&w, seg, MIN_WORD);
        assert_eq!(w[2].end, ms(1000));
        assert_eq!(w[0].start, ms(940));
    }

    #[test]
    fn a_segment_too_short_for_the_minimum_is_shared_evenly() {
        let seg = Span::new(ms(100), ms(130));
        let t = [
            tok(" a", 100, 100),
            tok(" b", 100, 100),
            tok(" c", 100, 100),
        ];
        let w = words_from_tokens(&t, seg, MIN_WORD);
        assert_well_formed(&w, seg, MIN_WORD);
        assert_eq!(
            w.iter().map(|w| w.end - w.start).collect::<Vec<_>>(),
            [ms(10); 3]
        );
    }

    #[test]
    fn word_time_invariants_hold_on_random_input() {
        let mut rng = crate::testutil::Rng::new(0x9e37_79b9_7f4a_7c15u64);
        let mut next = |m: i64| rng.below(m);
        for _ in 0..2000 {
            let s = next(5000);
            let seg = Span::new(ms(s), ms(s + 40 + next(3000)));
            let n = 1 + next(12);
            let t: Vec<TokenTiming> = (0..n)
                .map(|i| {
                    let a = s - 500 + next(4000);
                    let text = if next(4) == 0 {
                        "字".to_string()
                    } else {
                        format!(" w{i}")
                    };
                    tok(&text, a, a + next(600) - 100)
                })
                .collect();
            let w = words_from_tokens(&t, seg, MIN_WORD);
            assert!(!w.is_empty());
            assert_well_formed(&w, seg, MIN_WORD);
        }
    }
}
