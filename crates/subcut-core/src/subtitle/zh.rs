//! Chinese script: whisper often writes Mandarin in Traditional characters even for an
//! audience that reads Simplified. Two fixes are in common use: an initial prompt in
//! Simplified Chinese (以下是普通话的句子。), which only nudges the model and fails on some
//! windows, and a character conversion table applied to the output, which is deterministic.
//! subcut converts with the OpenCC-derived table of the `fast2s` crate (context-aware for
//! one-to-many characters such as 乾/干, 髮/发, 麵/面), over each segment's whole text so
//! that the context crosses word boundaries, then splits it back into the same words.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::transcript::Transcript;

/// What to do with Chinese characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChineseScript {
    /// Convert Traditional characters to Simplified (the default for `zh`).
    #[default]
    Simplified,
    /// Keep the characters the recogniser wrote.
    Keep,
}

impl ChineseScript {
    /// Every choice, in the order `--help` lists them.
    pub const ALL: &'static [ChineseScript] = &[ChineseScript::Simplified, ChineseScript::Keep];

    /// The name on the command line and in presets.
    pub fn name(self) -> &'static str {
        match self {
            ChineseScript::Simplified => "simplified",
            ChineseScript::Keep => "keep",
        }
    }

    /// One line for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            ChineseScript::Simplified => {
                "Convert Traditional characters to Simplified (the default for `zh`)"
            }
            ChineseScript::Keep => "Keep the characters the recogniser wrote",
        }
    }
}

impl FromStr for ChineseScript {
    type Err = String;
    fn from_str(s: &str) -> Result<ChineseScript, String> {
        ChineseScript::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown Chinese script \"{s}\" (expected simplified or keep)"))
    }
}

impl fmt::Display for ChineseScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Converts a string to Simplified characters; everything else is left as it is.
pub(crate) fn to_simplified(s: &str) -> String {
    fast2s::convert(s)
}

/// Converts every word and segment text of the Chinese segments (language `zh`, `yue`: the
/// segment's own, else the transcript's) to Simplified characters. Other languages are left
/// alone (Japanese kanji must not change), also inside a transcript that is mostly Chinese.
pub fn simplify_transcript(t: &mut Transcript) {
    let chinese = |l: &str| matches!(l, "zh" | "yue");
    let file = chinese(&t.language);
    for seg in &mut t.segments {
        if !(if seg.language.is_empty() {
            file
        } else {
            chinese(&seg.language)
        }) {
            continue;
        }
        seg.text = to_simplified(&seg.text);
        let joined: String = seg.words.iter().map(|w| w.text.as_str()).collect();
        let converted = to_simplified(&joined);
        if converted.chars().count() == joined.chars().count() {
            let mut chars = converted.chars();
            for w in &mut seg.words {
                let n = w.text.chars().count();
                w.text = chars.by_ref().take(n).collect();
            }
        } else {
            for w in &mut seg.words {
                w.text = to_simplified(&w.text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_names_round_trip() {
        for &c in ChineseScript::ALL {
            assert_eq!(c.name().parse::<ChineseScript>().unwrap(), c);
            assert_eq!(c.to_string(), c.name());
        }
        assert!("traditional".parse::<ChineseScript>().is_err());
    }
    use crate::time::Time;
    use crate::transcript::{Segment, Word};

    #[test]
    fn traditional_becomes_simplified_with_context() {
        assert_eq!(
            to_simplified("這是一個測試，我們說話的時候會發現頭髮很長。"),
            "这是一个测试，我们说话的时候会发现头发很长。"
        );
        assert_eq!(to_simplified("乾燥的麵包"), "干燥的面包");
        assert_eq!(
            to_simplified("以下是普通话的句子。Hello 123"),
            "以下是普通话的句子。Hello 123"
        );
    }

    fn seg(words: &[&str]) -> Segment {
        Segment {
            start: Time::ZERO,
            end: Time::from_millis(1000),
            text: words.concat(),
            words: words
                .iter()
                .map(|w| Word {
                    text: w.to_string(),
                    start: Time::ZERO,
                    end: Time::from_millis(10),
                    probability: 1.0,
                })
                .collect(),
            no_speech_probability: 0.0,
            language: String::new(),
        }
    }

    #[test]
    fn words_keep_their_boundaries_and_context_crosses_them() {
        let mut t = Transcript {
            language: "zh".into(),
            segments: vec![seg(&["頭", "髮", "很長", "。"])],
        };
        simplify_transcript(&mut t);
        let words: Vec<&str> = t.segments[0]
            .words
            .iter()
            .map(|w| w.text.as_str())
            .collect();
        assert_eq!(words, ["头", "发", "很长", "。"]);
        assert_eq!(t.segments[0].text, "头发很长。");
    }

    #[test]
    fn other_languages_are_untouched() {
        let mut t = Transcript {
            language: "ja".into(),
            segments: vec![seg(&["會議", "です"])],
        };
        simplify_transcript(&mut t);
        assert_eq!(t.segments[0].text, "會議です");
    }

    #[test]
    fn each_segment_is_converted_by_its_own_language() {
        let mut zh = seg(&["這是", "測試"]);
        zh.language = "zh".into();
        let mut ja = seg(&["會議", "です"]);
        ja.language = "ja".into();
        let mut t = Transcript {
            language: "en".into(),
            segments: vec![zh, ja],
        };
        simplify_transcript(&mut t);
        assert_eq!(
            t.segments[0].text, "这是测试",
            "Chinese in an English-majority file"
        );
        assert_eq!(t.segments[1].text, "會議です");
    }
}
