use proptest::prelude::*;

use super::*;
use crate::transcript::Segment;

fn word(t: &str, a: i64, b: i64) -> Word {
    Word {
        text: t.into(),
        start: Time::from_millis(a),
        end: Time::from_millis(b),
        probability: 0.9,
    }
}

fn transcript(words: Vec<Word>, language: &str) -> Transcript {
    let (start, end) = match (words.first(), words.last()) {
        (Some(a), Some(b)) => (a.start, b.end),
        _ => (Time::ZERO, Time::ZERO),
    };
    Transcript {
        language: language.into(),
        segments: vec![Segment {
            start,
            end,
            text: String::new(),
            words,
            no_speech_probability: 0.0,
            language: String::new(),
        }],
    }
}

fn id(duration_ms: i64) -> InputId {
    InputId {
        name: "talk.mp4".into(),
        size: 1234,
        duration: Time::from_millis(duration_ms),
        fingerprint: "sha256:00ff".into(),
    }
}

/// "So um I think it works. (pause) The first step is to record. The first step is to
/// record your voice."
fn example() -> Stored {
    let words = vec![
        word("So", 1000, 1300),
        word("um,", 1400, 1700),
        word("I", 1800, 1900),
        word("think", 1900, 2200),
        word("it", 2300, 2400),
        word("works.", 2400, 2800),
        word("The", 4000, 4200),
        word("first", 4200, 4500),
        word("step", 4500, 4800),
        word("is", 4800, 4900),
        word("to", 4900, 5000),
        word("record.", 5000, 5400),
        word("The", 5600, 5800),
        word("first", 5800, 6100),
        word("step", 6100, 6400),
        word("is", 6400, 6500),
        word("to", 6500, 6600),
        word("record", 6600, 7000),
        word("your", 7000, 7200),
        word("voice.", 7200, 7600),
    ];
    let mut proposed = vec![None; words.len()];
    proposed[1] = Some(Reason::Filler { word: "um".into() });
    for p in proposed.iter_mut().take(12).skip(6) {
        *p = Some(Reason::Repeat {
            word: "the first step is to record".into(),
        });
    }
    Stored::from_parts(
        id(9000),
        transcript(words, "en"),
        proposed,
        Time::from_millis(500),
    )
}

fn decide_text(s: &Stored, text: &str) -> Decisions {
    decide(s, &s.words(), &parse(text).unwrap())
}

fn cut_words(s: &Stored, d: &Decisions) -> Vec<String> {
    let w = s.words();
    d.state
        .cut
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_some())
        .map(|(i, _)| w[i].text.clone())
        .collect()
}

#[test]
fn the_list_reads_as_a_checklist() {
    let s = example();
    let text = render(&s, "talk.edit.json", &s.proposal());
    let items: Vec<&str> = text.lines().filter(|l| l.starts_with("- [")).collect();
    assert_eq!(
        items,
        vec![
            "- [x] (pause 1.00 s) <!-- 00:00.00–00:01.00 · pause -->",
            "- [ ] So ~~um,~~ I think it works. <!-- 00:01.00–00:02.80 · filler \"um\" -->",
            "- [x] (pause 1.20 s) <!-- 00:02.80–00:04.00 · pause -->",
            "- [x] The first step is to record. <!-- 00:04.00–00:05.40 · repeat \"the first step is to record\" -->",
            "- [ ] The first step is to record your voice. <!-- 00:05.60–00:07.60 -->",
            "- [x] (pause 1.40 s) <!-- 00:07.60–00:09.00 · pause -->",
        ]
    );
    assert!(text.starts_with("<!-- subcut edit list 1\ninput: talk.mp4\nsize: 1234\n"));
    assert!(
        text.contains("subcut cut talk.mp4 --edit talk.edit.md"),
        "{text}"
    );
    let p = parse(&text).unwrap();
    assert_eq!(p.header.input, s.input);
    assert_eq!(p.header.transcript, "talk.edit.json");
    let d = decide(&s, &s.words(), &p);
    assert_eq!(d.state, s.proposal());
    assert!(d.warnings.is_empty());
}

#[test]
fn pauses_that_hold_sound_say_so() {
    let mut s = example();
    s.mark_sound(
        &[Span::new(Time::from_millis(7700), Time::from_millis(8500))],
        Time::from_millis(300),
    );
    let text = render(&s, "talk.edit.json", &s.proposal());
    assert!(
        text.contains("- [x] (pause 1.20 s) <!-- 00:02.80–00:04.00 · pause -->"),
        "{text}"
    );
    assert!(
        text.contains("- [x] (no words heard 1.40 s) <!-- 00:07.60–00:09.00 · pause with sound"),
        "{text}"
    );
    let back: Stored = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(back, s);
    assert_eq!(decide_text(&s, &text).state, s.proposal());
}

#[test]
fn the_stored_words_round_trip_through_json() {
    let s = example();
    let json = serde_json::to_string(&s).unwrap();
    assert!(
        json.contains(r#""kind":"words","first_word":0,"end_word":6"#),
        "{json}"
    );
    let back: Stored = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert!(back.check().is_ok());
}

#[test]
fn ticks_deletions_and_strikes_decide() {
    let s = example();
    let text = render(&s, "talk.edit.json", &s.proposal());
    let edited = text
        // Keep the filler: the tildes removed.
        .replace("So ~~um,~~ I think", "So um, I think")
        // Untick the repeat: it stays.
        .replace(
            "- [x] The first step is to record.",
            "- [ ] The first step is to record.",
        )
        // Delete two words from the last sentence.
        .replace("to record your voice.", "to voice.")
        // Keep the last pause.
        .replace("- [x] (pause 1.40 s)", "- [ ] (pause 1.40 s)");
    let d = decide_text(&s, &edited);
    assert_eq!(cut_words(&s, &d), vec!["record", "your"]);
    assert!(d.state.cut.iter().flatten().all(|r| *r == Reason::Edit));
    assert_eq!(
        d.state.kept_pauses,
        vec![Span::new(Time::from_millis(7600), Time::from_millis(9000))]
    );
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);

    // Ticking a line cuts all of it; a proposal keeps its reason.
    let edited = text.replace("- [ ] So ~~um,~~", "- [X] So ~~um,~~");
    let d = decide_text(&s, &edited);
    assert_eq!(
        cut_words(&s, &d)[..6],
        ["So", "um,", "I", "think", "it", "works."]
    );
    assert_eq!(d.state.cut[1], Some(Reason::Filler { word: "um".into() }));
    assert_eq!(d.state.cut[0], Some(Reason::Edit));
}

#[test]
fn added_and_misspelt_words_are_ignored_with_one_warning() {
    let s = example();
    let text = render(&s, "talk.edit.json", &s.proposal());
    let edited = text.replace(
        "The first step is to record your voice.",
        "The frist step is to record your lovely voice.",
    );
    let d = decide_text(&s, &edited);
    assert_eq!(d.state, s.proposal(), "nothing changes");
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    let line = edited.lines().position(|l| l.contains("lovely")).unwrap() + 1;
    assert_eq!(d.warnings[0].line, line);
    let msg = d.warnings[0].to_string();
    assert!(msg.starts_with(&format!("line {line}: ")), "{msg}");
    assert!(
        msg.contains("\"frist\"") && msg.contains("\"lovely\""),
        "{msg}"
    );
}

#[test]
fn a_deleted_line_is_cut_and_a_damaged_one_stays_as_proposed() {
    let s = example();
    let text = render(&s, "talk.edit.json", &s.proposal());
    let edited: String = text
        .lines()
        .filter(|l| !l.contains("your voice"))
        .map(|l| format!("{l}\n"))
        .collect();
    let d = decide_text(&s, &edited);
    assert_eq!(cut_words(&s, &d).len(), 1 + 6 + 8);
    // The anchor damaged: a warning, and the line keeps its proposal.
    let edited = text.replace("<!-- 00:05.60–00:07.60 -->", "");
    let d = decide_text(&s, &edited);
    assert_eq!(d.state, s.proposal());
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].message.contains("stays as proposed"));
    // Lines in another order, and an anchor that matches nothing.
    let mut lines: Vec<&str> = text.lines().collect();
    let n = lines.len();
    lines.swap(n - 1, n - 2);
    let mut edited = lines.join("\n");
    edited.push_str("\n- [x] hello <!-- 10:00.00–10:01.00 -->\n");
    let d = decide_text(&s, &edited);
    assert_eq!(d.state, s.proposal());
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].message.contains("match no line"));
}

#[test]
fn checkboxes_and_markers_that_are_accepted() {
    for (line, want) in [
        ("- [x] a", Some(true)),
        ("- [X] a", Some(true)),
        ("-   [ x ]   a", Some(true)),
        ("* [✓] a", Some(true)),
        ("+ [ ] a", Some(false)),
        ("  - [] a", Some(false)),
        ("-\t[\t]\ta", Some(false)),
        ("- [Music] a", None),
        ("- [xx] a", None),
    ] {
        let it = parse_item(1, line).unwrap();
        assert_eq!(it.ticked, want, "{line}");
    }
    assert!(parse_item(1, "-[x] a").is_none());
    assert!(parse_item(1, "Tick a line ([x]) to cut it").is_none());
    assert!(parse_item(1, "1. [x] a").is_none());
    assert_eq!(
        parse_anchor(" 00:12.34–00:15.67 · filler "),
        Some((1234, 1567))
    );
    assert_eq!(parse_anchor("1:00:00.5-1:00:01"), Some((360_050, 360_100)));
    assert_eq!(parse_anchor("00:12.34"), None);
    assert_eq!(clock(Time::from_millis(3_725_678)), "1:02:05.68");
    assert_eq!(clock(Time::from_millis(65_004)), "01:05.00");
}

#[test]
fn files_that_are_not_edit_lists_are_refused() {
    assert_eq!(parse(""), Err(ParseError::NotAnEditList));
    assert_eq!(parse("# notes\n- [x] a"), Err(ParseError::NotAnEditList));
    assert_eq!(
        parse("<!-- subcut edit list 9\n-->"),
        Err(ParseError::Version("subcut edit list 9".into()))
    );
    assert_eq!(
        parse("<!-- subcut edit list 1\ninput: a\n-->"),
        Err(ParseError::Header("size"))
    );
}

#[test]
fn chinese_lines_compare_by_character() {
    let words = vec![
        word("嗯，", 0, 300),
        word("我", 300, 400),
        word("觉得", 400, 700),
        word("很", 700, 800),
        word("好。", 800, 1000),
    ];
    let mut proposed = vec![None; 5];
    proposed[0] = Some(Reason::Filler { word: "嗯".into() });
    let s = Stored::from_parts(
        id(1000),
        transcript(words, "zh"),
        proposed,
        Time::from_millis(500),
    );
    let text = render(&s, "a.edit.json", &s.proposal());
    assert!(
        text.contains("- [ ] ~~嗯，~~我觉得很好。 <!-- 00:00.00–00:01.00 · filler \"嗯\" -->"),
        "{text}"
    );
    // 很 deleted: cut; 觉 alone left of 觉得: kept, with a warning.
    let d = decide_text(&s, &text.replace("我觉得很好", "我觉好"));
    assert_eq!(cut_words(&s, &d), vec!["嗯，", "很"]);
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].message.contains("觉得"), "{:?}", d.warnings);
}

#[test]
fn a_struck_copy_of_a_repeated_word_is_the_one_cut() {
    // "嗯，我我": the filler and the first 我 are struck; the second 我 stays.
    let words = vec![
        word("嗯，", 0, 200),
        word("我", 200, 400),
        word("我", 400, 600),
    ];
    let proposed = vec![
        Some(Reason::Filler { word: "嗯".into() }),
        Some(Reason::Repeat { word: "我".into() }),
        None,
    ];
    let s = Stored::from_parts(
        id(600),
        transcript(words, "zh"),
        proposed,
        Time::from_millis(500),
    );
    let text = render(&s, "a.edit.json", &s.proposal());
    assert!(text.contains("- [ ] ~~嗯，我~~我 <!--"), "{text}");
    assert_eq!(decide_text(&s, &text).state, s.proposal());
    // One copy deleted by hand: the earlier one goes, the later stays.
    let d = decide_text(&s, &text.replace("~~嗯，我~~我", "嗯，我"));
    assert_eq!(
        d.state.cut,
        vec![None, Some(Reason::Repeat { word: "我".into() }), None]
    );
    let s = Stored::from_parts(
        id(600),
        transcript(
            vec![
                word("so", 0, 200),
                word("so", 200, 400),
                word("yes", 400, 600),
            ],
            "en",
        ),
        vec![None; 3],
        Time::from_millis(500),
    );
    let text = render(&s, "a.edit.json", &s.proposal());
    let d = decide_text(&s, &text.replace("so so yes", "so yes"));
    assert_eq!(d.state.cut, vec![Some(Reason::Edit), None, None]);
    assert!(d.warnings.is_empty());
}

#[test]
fn long_runs_of_cut_words_are_lines_of_their_own() {
    let words: Vec<Word> = ["a", "b", "c", "d", "e", "f", "g"]
        .iter()
        .enumerate()
        .map(|(i, t)| word(t, i as i64 * 100, i as i64 * 100 + 90))
        .collect();
    let mut proposed = vec![None; 7];
    for p in proposed.iter_mut().take(5).skip(2) {
        *p = Some(Reason::Edit);
    }
    proposed[6] = Some(Reason::Edit);
    let lines = layout(
        &words,
        &proposed,
        Time::from_millis(700),
        Time::from_millis(500),
    );
    let kinds: Vec<LineKind> = lines.into_iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        vec![
            LineKind::Words { first: 0, end: 2 },
            LineKind::Words { first: 2, end: 5 },
            LineKind::Words { first: 5, end: 7 },
        ]
    );
}

#[test]
fn an_edited_plan_cuts_the_words_and_keeps_unticked_pauses() {
    let s = example();
    let words = s.words();
    let speech: Vec<Span> = vec![
        Span::new(Time::from_millis(1000), Time::from_millis(2800)),
        Span::new(Time::from_millis(4000), Time::from_millis(7600)),
    ];
    let mut state = s.proposal();
    state.cut[1] = None;
    state.kept_pauses.push(s.lines[2].span);
    let p = CutParams {
        snap_to_frames: false,
        ..CutParams::default()
    };
    let plan = plan_edit(
        Time::from_millis(9000),
        &speech,
        &words,
        &state,
        &p,
        None::<FrameGrid>,
    );
    // The repeat (4.0–5.4 s) is gone; the kept pause joins the first sentence to it.
    assert_eq!(
        plan.keep,
        vec![
            Span::new(Time::from_millis(850), Time::from_millis(4000)),
            Span::new(Time::from_millis(5400), Time::from_millis(7800)),
        ]
    );
    assert!(plan
        .removed
        .iter()
        .any(|r| r.reason.kind() == crate::edit::cuts::ReasonKind::Repeat));
}

// ---- properties ----

const VOCAB: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
];

/// A transcript of unique words (some Chinese), some ending sentences, with pauses; and
/// random proposals.
fn case() -> impl Strategy<Value = Stored> {
    (
        prop::collection::vec(
            (0usize..3, 0i64..900, 80i64..500, any::<bool>(), 0u8..6),
            1..40,
        ),
        0i64..2000,
    )
        .prop_map(|(spec, tail)| {
            let mut t = 200;
            let mut words = Vec::new();
            let mut proposed = Vec::new();
            for (i, (kind, gap, len, stop, why)) in spec.into_iter().enumerate() {
                t += gap;
                // Unique tokens: Latin words numbered, Han characters never reused.
                let han = |k: u32| char::from_u32(0x4E00 + k).unwrap();
                let base = match kind {
                    0 | 1 => format!("{}{}", VOCAB[i % VOCAB.len()], i / VOCAB.len()),
                    _ => format!("{}{}", han(2 * i as u32), han(2 * i as u32 + 1)),
                };
                let text = if stop { format!("{base}.") } else { base };
                words.push(word(&text, t, t + len));
                t += len;
                proposed.push(match why {
                    0 => Some(Reason::Filler { word: "um".into() }),
                    1 => Some(Reason::Edit),
                    _ => None,
                });
            }
            let duration = t + tail;
            Stored::from_parts(
                id(duration),
                transcript(words, "en"),
                proposed,
                Time::from_millis(500),
            )
        })
}

/// A state reachable from `s`: random cuts (with the reasons [`decide`] gives) and kept
/// pauses.
fn random_state(s: &Stored, bits: &[bool]) -> State {
    let mut st = State::default();
    let bit = |i: usize| bits.get(i % bits.len().max(1)).copied().unwrap_or(false);
    for i in 0..s.proposed.len() {
        st.cut
            .push(bit(i).then(|| s.proposed[i].clone().unwrap_or(Reason::Edit)));
    }
    for (j, l) in s.lines.iter().enumerate() {
        if l.kind == LineKind::Pause && bit(j + 7) {
            st.kept_pauses.push(l.span);
        }
    }
    st
}

/// Whitespace, checkbox case and list markers changed the ways the parser accepts.
fn perturb(text: &str, seed: &[u8]) -> String {
    let mut k = 0usize;
    let mut next = || {
        k += 1;
        seed.get(k % seed.len().max(1)).copied().unwrap_or(0)
    };
    let mut out = String::new();
    for line in text.lines() {
        if !line.starts_with("- [") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let ticked = line.starts_with("- [x]");
        let rest = &line[5..];
        let marker = ["-", "*", "+"][next() as usize % 3];
        let lead = ["", " ", "  ", "\t"][next() as usize % 4];
        let gap = [" ", "  ", "\t", " \t "][next() as usize % 4];
        let b = if ticked {
            ["[x]", "[X]", "[ x ]", "[ X]", "[✓]"][next() as usize % 5]
        } else {
            ["[ ]", "[]", "[  ]", "[\t]"][next() as usize % 4]
        };
        // Spaces between words doubled or made tabs (not inside the anchor comment).
        let (body, comment) = rest.split_at(rest.rfind("<!--").unwrap());
        let body: String = body
            .split(' ')
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join([" ", "  ", "\t", " "][next() as usize % 4]);
        let trail = ["", " ", "\t", "  "][next() as usize % 4];
        let eol = if next() % 2 == 0 { "\r\n" } else { "\n" };
        out.push_str(&format!(
            "{lead}{marker}{gap}{b}{body}{comment}{trail}{eol}"
        ));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn render_then_parse_gives_the_same_decisions(s in case(), bits in prop::collection::vec(any::<bool>(), 1..64)) {
        let words = s.words();
        for st in [s.proposal(), random_state(&s, &bits)] {
            let text = render(&s, "x.edit.json", &st);
            let d = decide(&s, &words, &parse(&text).unwrap());
            prop_assert!(d.warnings.is_empty(), "{:?}\n{}", d.warnings, text);
            prop_assert_eq!(&d.state, &st, "{}", text);
        }
    }

    #[test]
    fn whitespace_and_checkbox_case_parse_the_same(
        s in case(),
        bits in prop::collection::vec(any::<bool>(), 1..64),
        seed in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let st = random_state(&s, &bits);
        let text = render(&s, "x.edit.json", &st);
        let edited = perturb(&text, &seed);
        let d = decide(&s, &s.words(), &parse(&edited).unwrap());
        prop_assert!(d.warnings.is_empty(), "{:?}\n{}", d.warnings, edited);
        prop_assert_eq!(&d.state, &st, "{}", edited);
    }

    #[test]
    fn a_random_deletion_of_words_maps_to_exactly_those_words(
        s in case(),
        del in prop::collection::vec(any::<bool>(), 1..64),
    ) {
        let words = s.words();
        let keep_all = State { cut: vec![None; words.len()], kept_pauses: Vec::new() };
        let text = render(&s, "x.edit.json", &keep_all);
        let mut deleted = vec![false; words.len()];
        let mut k = 0;
        // Rewrite each words line with some of its words deleted (as a person would: the
        // word and a space beside it).
        let mut lines = s.lines.iter().filter(|l| matches!(l.kind, LineKind::Words { .. }));
        let mut edited = String::new();
        for line in text.lines() {
            if !line.starts_with("- [ ]") || line.contains("(pause") {
                edited.push_str(line);
                edited.push('\n');
                continue;
            }
            let l = lines.next().unwrap();
            let LineKind::Words { first, end } = l.kind else { unreachable!() };
            let mut body = String::new();
            for (i, w) in words.iter().enumerate().take(end).skip(first) {
                k += 1;
                if del[k % del.len()] {
                    deleted[i] = true;
                    continue;
                }
                if !body.is_empty() && spaced(&body, &w.text) {
                    body.push(' ');
                }
                body.push_str(&w.text);
            }
            edited.push_str(&format!("- [ ] {body} <!-- {} -->\n", l.anchor()));
        }
        let d = decide(&s, &words, &parse(&edited).unwrap());
        let got: Vec<bool> = d.state.cut.iter().map(Option::is_some).collect();
        prop_assert_eq!(got, deleted, "{}", edited);
        prop_assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        // The reasons: a proposal keeps its own, the rest are edits.
        for (i, c) in d.state.cut.iter().enumerate() {
            if let Some(r) = c {
                prop_assert_eq!(r, &s.proposed[i].clone().unwrap_or(Reason::Edit));
            }
        }
    }

    #[test]
    fn layout_covers_every_word_once_in_order(s in case()) {
        let n = s.words().len();
        let mut next = 0;
        let mut last_end = Time::ZERO;
        for l in &s.lines {
            let is_words = matches!(l.kind, LineKind::Words { .. });
            prop_assert!(l.span.start >= last_end || is_words);
            last_end = l.span.end;
            if let LineKind::Words { first, end } = l.kind {
                prop_assert_eq!(first, next);
                prop_assert!(end > first);
                next = end;
            } else {
                prop_assert!(l.span.duration() >= s.pause);
            }
        }
        prop_assert_eq!(next, n);
        prop_assert!(s.check().is_ok());
    }
}
