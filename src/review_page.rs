//! `NAME.review.html`: one static page to look at a proposed cut, opened from disk (no
//! server, nothing from the network: the CSS and the script are inline).
//!
//! - the video (a relative path from the page to the input) and the timeline picture;
//! - the transcript, one line per line of the edit list, cut words struck through and
//!   coloured by the kind of their reason (the timeline's colours, [`timeline::colour`]);
//!   clicking a line seeks the video to it;
//! - "play the cut": during playback, every removed span is skipped.
//!
//! `#selftest` at the end of the page's URL runs its own checks once the video's metadata
//! is loaded (the lines are there, a click seeks, the toggle skips a removed span, no script
//! errors) and writes the result as JSON into `<pre id="selftest">`: what the browser test
//! (`tests/it/review.rs`) reads from headless Chromium's DOM.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::edit::cuts::ReasonKind;
use crate::edit::editlist::{clock, LineKind, State, Stored};
use crate::edit::EditPlan;
use crate::timeline;
use crate::transcript::{is_cjk, Word};

/// What the page shows.
pub(crate) struct Page<'a> {
    /// The input's file name.
    pub title: &'a str,
    /// The video's URL, relative to the page.
    pub video: &'a str,
    /// The timeline picture's URL, relative to the page.
    pub timeline: &'a str,
    /// The edit list's file name.
    pub list: &'a str,
    pub stored: &'a Stored,
    pub words: &'a [Word],
    pub state: &'a State,
    pub plan: &'a EditPlan,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A kind's name in CSS classes and the legend: `filler`, `repeat`, … (any new kind too).
fn kind_name(k: ReasonKind) -> String {
    format!("{k:?}").to_lowercase()
}

fn hex(k: ReasonKind) -> String {
    let c = timeline::colour(k).0;
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

fn secs(t: crate::time::Time) -> String {
    format!("{:.3}", t.as_secs_f64())
}

const STYLE: &str = r#"
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans",sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:12px 20px;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:18px;margin:0}
.meta{color:#666;font-size:14px}
main{display:flex;gap:20px;padding:16px 20px;align-items:flex-start}
#left{flex:0 0 48%;position:sticky;top:8px}
video{width:100%;background:#000;border-radius:4px}
#timeline{width:100%;margin-top:8px;cursor:pointer;border:1px solid #ddd}
#controls{margin:8px 0;font-size:15px}
#legend span{display:inline-block;margin-right:14px;font-size:14px}
#legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-1px}
#transcript{flex:1;min-width:0}
.line{padding:3px 8px;border-left:3px solid transparent;cursor:pointer;border-radius:3px}
.line:hover{background:#eef3fb}
.line.now{border-left-color:#3367d6;background:#e6eefc}
.line .t{color:#999;font-size:12px;font-variant-numeric:tabular-nums;margin-right:8px}
.line.pause{color:#888;font-style:italic}
.cut{text-decoration:line-through}
.line.cut{opacity:.75}
"#;

const SCRIPT: &str = r#"
(function () {
  'use strict';
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  var D = JSON.parse(document.getElementById('subcut-data').textContent);
  var v = document.getElementById('video');
  var toggle = document.getElementById('play-cut');
  var img = document.getElementById('timeline');
  var lines = Array.prototype.slice.call(document.querySelectorAll('#transcript .line'));
  function removedAt(t) {
    for (var i = 0; i < D.removed.length; i++) {
      var r = D.removed[i];
      if (t >= r[0] - 0.001 && t < r[1] - 0.01) return r;
    }
    return null;
  }
  function skipCut() {
    if (!toggle.checked) return false;
    var r = removedAt(v.currentTime);
    if (!r) return false;
    v.currentTime = Math.min(r[1], isFinite(v.duration) ? v.duration : r[1]);
    return true;
  }
  var current = null;
  function highlight() {
    var t = v.currentTime, now = null;
    for (var i = 0; i < lines.length; i++) {
      if (t >= +lines[i].dataset.start && t < +lines[i].dataset.end) { now = lines[i]; break; }
    }
    if (now !== current) {
      if (current) current.classList.remove('now');
      if (now) now.classList.add('now');
      current = now;
    }
  }
  lines.forEach(function (el) {
    el.addEventListener('click', function () { v.currentTime = parseFloat(el.dataset.start); highlight(); });
  });
  img.addEventListener('click', function (e) {
    v.currentTime = D.duration * e.offsetX / Math.max(1, img.clientWidth);
  });
  v.addEventListener('timeupdate', function () { if (!v.paused) skipCut(); highlight(); });
  (function frame() {
    if (!v.paused) skipCut();
    window.requestAnimationFrame(frame);
  })();

  function selftest() {
    var res = { lines: lines.length, expected: D.lines.length, video: null, seek: null, skip: null, errors: errors };
    var ran = false;
    function run() {
      if (ran) return;
      ran = true;
      try {
        var first = lines.filter(function (l) { return !l.classList.contains('pause'); })[1] || lines[0];
        first.click();
        res.seek = Math.abs(v.currentTime - parseFloat(first.dataset.start)) < 0.05 && first.classList.contains('now');
        var r = D.removed.filter(function (x) { return x[1] - x[0] > 0.1 && x[1] < (v.duration || 0); })[0];
        if (r) {
          toggle.checked = true;
          v.currentTime = (r[0] + r[1]) / 2;
          var skipped = skipCut();
          res.skip = skipped && Math.abs(v.currentTime - r[1]) < 0.05;
          toggle.checked = false;
        } else {
          res.skip = 'no removed span inside the video';
        }
      } catch (e) { errors.push(String(e)); }
      res.ok = res.lines === res.expected && res.lines > 0 && res.video === true && res.seek === true && res.skip === true && errors.length === 0;
      var pre = document.createElement('pre');
      pre.id = 'selftest';
      pre.textContent = JSON.stringify(res);
      document.body.appendChild(pre);
      document.title = res.ok ? 'selftest ok' : 'selftest failed';
    }
    if (v.readyState >= 1) { res.video = true; run(); return; }
    v.addEventListener('loadedmetadata', function () { res.video = true; run(); });
    v.addEventListener('error', function () { res.video = false; errors.push('video error ' + (v.error && v.error.code)); run(); });
    setTimeout(function () { if (res.video === null) { res.video = false; errors.push('no video metadata after 8 s'); run(); } }, 8000);
  }
  if (window.location.hash === '#selftest') selftest();
})();
"#;

/// The page, as one string.
pub(crate) fn render(p: &Page) -> String {
    let s = p.stored;
    let cut_kind = |i: usize| {
        p.state
            .cut
            .get(i)
            .and_then(|c| c.as_ref())
            .map(|r| r.kind())
    };
    let mut kinds: BTreeSet<ReasonKind> = p.plan.removed.iter().map(|r| r.reason.kind()).collect();
    kinds.extend((0..p.words.len()).filter_map(cut_kind));

    let mut css = String::from(STYLE);
    for &k in &kinds {
        let _ = writeln!(css, ".r-{}{{color:{}}}", kind_name(k), hex(k));
    }
    let mut legend = String::new();
    for &k in &kinds {
        let _ = write!(
            legend,
            r#"<span><i style="background:{}"></i>{}</span>"#,
            hex(k),
            kind_name(k)
        );
    }

    let mut body = String::new();
    for l in &s.lines {
        let (a, b) = (secs(l.span.start), secs(l.span.end));
        match l.kind {
            LineKind::Pause => {
                let kept = p.state.kept_pauses.contains(&l.span);
                let _ = writeln!(
                    body,
                    r#"<div class="line pause{}" data-start="{a}" data-end="{b}"><span class="t">{}</span>({} {:.2} s)</div>"#,
                    if kept || l.sound {
                        ""
                    } else {
                        " cut r-silence"
                    },
                    clock(l.span.start),
                    if l.sound { "no words heard" } else { "pause" },
                    l.span.duration().as_secs_f64()
                );
            }
            LineKind::Words { first, end } => {
                let all_cut = (first..end).all(|i| cut_kind(i).is_some());
                let mut text = String::new();
                let mut prev = String::new();
                for i in first..end.min(p.words.len()) {
                    let w = p.words[i].text.trim();
                    if w.is_empty() {
                        continue;
                    }
                    let joined = prev.chars().last().is_some_and(is_cjk)
                        && w.chars().next().is_some_and(is_cjk);
                    if !text.is_empty() && !joined {
                        text.push(' ');
                    }
                    let reason = p.state.cut.get(i).and_then(|c| c.as_ref());
                    match reason {
                        Some(r) => {
                            let _ = write!(
                                text,
                                r#"<span class="w cut r-{}" title="{}">{}</span>"#,
                                kind_name(r.kind()),
                                esc(&r.to_string()),
                                esc(w)
                            );
                        }
                        None => {
                            let _ = write!(text, r#"<span class="w">{}</span>"#, esc(w));
                        }
                    }
                    prev = w.to_string();
                }
                let _ = writeln!(
                    body,
                    r#"<div class="line{}" data-start="{a}" data-end="{b}"><span class="t">{}</span>{text}</div>"#,
                    if all_cut { " cut" } else { "" },
                    clock(l.span.start)
                );
            }
        }
    }

    let removed: Vec<String> = p
        .plan
        .removed
        .iter()
        .map(|r| {
            format!(
                "[{},{},\"{}\"]",
                secs(r.span.start),
                secs(r.span.end),
                kind_name(r.reason.kind())
            )
        })
        .collect();
    let data = format!(
        "{{\"duration\":{},\"lines\":[{}],\"removed\":[{}]}}",
        secs(p.plan.duration),
        s.lines
            .iter()
            .map(|l| format!("[{},{}]", secs(l.span.start), secs(l.span.end)))
            .collect::<Vec<_>>()
            .join(","),
        removed.join(",")
    );
    let kept = p.plan.kept();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review: {title}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>Review: {title}</h1>
<div class="meta">The cut keeps {kept} of {total}. Change it in <code>{list}</code>, then run <code>subcut cut {title} --edit {list}</code>.</div>
</header>
<main>
<section id="left">
<video id="video" src="{video}" controls preload="metadata"></video>
<div id="controls"><label><input type="checkbox" id="play-cut"> Play the cut (skip what is removed)</label></div>
<div id="legend">{legend}</div>
<img id="timeline" src="{timeline}" alt="Timeline: waveform, speech, cuts and captions">
</section>
<section id="transcript">
{body}</section>
</main>
<script id="subcut-data" type="application/json">{data}</script>
<script>{SCRIPT}</script>
</body>
</html>
"#,
        title = esc(p.title),
        list = esc(p.list),
        video = esc(p.video),
        timeline = esc(p.timeline),
        kept = clock(kept),
        total = clock(p.plan.duration),
    )
}
