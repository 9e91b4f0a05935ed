//! Reframing: the picture put into another aspect ratio (a 9:16 short from a 16:9 talk), as
//! plain geometry (`Plan`) that the video path (`video.rs`) turns into libavfilter filters.
//!
//! Three ways to fill the new frame ([`Reframe`]):
//! - `crop`: a window of the source at the target aspect, the full height of a landscape
//!   source (the full width of a portrait one), placed across it by
//!   [`RenderOptions::reframe_x`] (0 = left edge, 0.5 = centre, 1 = right edge);
//! - `fit-pad`: the whole source, scaled to fit, with bars of [`RenderOptions::pad_colour`];
//! - `fit-blur`: the whole source, scaled to fit, over a blurred copy of itself zoomed to
//!   fill the frame (the bars show the picture's own colours, softened).
//!
//! The output size: the target aspect's platform size, short side 1080 ([`Aspect::full`]:
//! 1080 × 1920 for 9:16), but never so large that the source's pixels are scaled up (the crop
//! window of a 720p source is 405 × 720 source pixels, so its 9:16 is 406 × 720) unless
//! [`RenderOptions::upscale`] asks for the full size. Sides are even (4:2:0 video), pixels
//! square (SAR 1).
//!
//! Geometry is worked out on the picture as it is shown: a rotated input (display matrix) is
//! turned upright first (`transpose`, as the `ffmpeg` CLI's autorotation does) and the output
//! carries no rotation; a non-square pixel aspect ratio counts in display width.
//! The same turn applies whenever the picture is filtered at all (burned-in captions without
//! reframing too), so captions are drawn upright.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::RenderOptions;

/// An output aspect ratio (`--aspect`): width : height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aspect {
    /// Width part.
    pub w: u32,
    /// Height part.
    pub h: u32,
}

impl Aspect {
    /// The aspect ratios subcut knows, with what each is for.
    pub const ALL: [(Aspect, &'static str); 4] = [
        (
            Aspect { w: 9, h: 16 },
            "vertical: Shorts, Reels, TikTok (1080×1920)",
        ),
        (Aspect { w: 1, h: 1 }, "square (1080×1080)"),
        (Aspect { w: 4, h: 5 }, "portrait feed post (1080×1350)"),
        (Aspect { w: 16, h: 9 }, "landscape (1920×1080)"),
    ];

    /// The platform size: short side 1080.
    pub fn full(self) -> (u32, u32) {
        if self.w <= self.h {
            (1080, 1080 * self.h / self.w)
        } else {
            (1080 * self.w / self.h, 1080)
        }
    }

    fn ratio(self) -> f64 {
        self.w as f64 / self.h as f64
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.w, self.h)
    }
}

impl FromStr for Aspect {
    type Err = String;
    fn from_str(s: &str) -> Result<Aspect, String> {
        let known = || {
            Aspect::ALL
                .iter()
                .map(|(a, _)| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (w, h) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("aspect {s:?} is not one of {}", known()))?;
        let a = Aspect {
            w: w.trim().parse().unwrap_or(0),
            h: h.trim().parse().unwrap_or(0),
        };
        Aspect::ALL
            .iter()
            .map(|(k, _)| *k)
            .find(|k| *k == a)
            .ok_or_else(|| format!("aspect {s:?} is not one of {}", known()))
    }
}

impl Serialize for Aspect {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Aspect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Aspect, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How the source fills a frame of another aspect ratio (`--reframe`); see the module docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reframe {
    /// A window of the source at the target aspect.
    #[default]
    Crop,
    /// The whole source over a blurred, zoomed copy of itself.
    FitBlur,
    /// The whole source with bars of a colour.
    FitPad,
}

impl Reframe {
    /// Every mode, in `--help` order.
    pub const ALL: &'static [Reframe] = &[Reframe::Crop, Reframe::FitBlur, Reframe::FitPad];

    /// The name on the command line and in presets.
    pub fn name(self) -> &'static str {
        match self {
            Reframe::Crop => "crop",
            Reframe::FitBlur => "fit-blur",
            Reframe::FitPad => "fit-pad",
        }
    }

    /// One line for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            Reframe::Crop => "a window of the source at the new aspect (--reframe-x moves it)",
            Reframe::FitBlur => "the whole picture over a blurred, zoomed copy of itself",
            Reframe::FitPad => "the whole picture with bars of the pad colour",
        }
    }
}

impl FromStr for Reframe {
    type Err = String;
    fn from_str(s: &str) -> Result<Reframe, String> {
        Reframe::ALL
            .iter()
            .copied()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown reframe mode {s:?} (crop, fit-blur or fit-pad)"))
    }
}

/// `#RRGGBB` as libavfilter's `0xRRGGBB`; `None` for anything else.
pub(crate) fn ffmpeg_colour(s: &str) -> Option<String> {
    let hex = s.strip_prefix('#')?;
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("0x{hex}"))
}

/// The source picture as decoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Source {
    /// Coded size.
    pub width: u32,
    pub height: u32,
    /// Pixel aspect ratio (0/x or x/0: square).
    pub sar: (i32, i32),
    /// Display rotation, degrees counter-clockwise (ffprobe's `rotation`).
    pub rotation: f64,
}

/// How to turn a decoded picture upright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    Clockwise,
    CounterClockwise,
    Half,
}

impl Turn {
    /// The turn that shows a picture upright whose display matrix rotates it by `rotation`
    /// degrees counter-clockwise (the `ffmpeg` CLI's autorotation, to the nearest quarter).
    pub fn of(rotation: f64) -> Option<Turn> {
        let theta = (-rotation).rem_euclid(360.0);
        let quarter = (theta / 90.0).round() as i64 % 4;
        match quarter {
            1 => Some(Turn::Clockwise),
            2 => Some(Turn::Half),
            3 => Some(Turn::CounterClockwise),
            _ => None,
        }
    }

    fn filter(self) -> &'static str {
        match self {
            Turn::Clockwise => "transpose=clock",
            Turn::CounterClockwise => "transpose=cclock",
            Turn::Half => "hflip,vflip",
        }
    }
}

/// What fills the output frame.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Body {
    /// The upright picture as it is (no reframing).
    Keep,
    /// A window (upright coded pixels) scaled to the output size.
    Crop { x: u32, y: u32, w: u32, h: u32 },
    /// The whole picture scaled to `w` × `h` at `x`, `y`, over bars or a blurred copy.
    Fit {
        w: u32,
        h: u32,
        x: u32,
        y: u32,
        /// `None`: blurred background; else the pad colour (`0xRRGGBB`).
        pad: Option<String>,
    },
}

/// The filters from a decoded picture to the output frame, and that frame.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    /// The decoded size the plan is for (other sizes are scaled to it first).
    pub source: (u32, u32),
    pub turn: Option<Turn>,
    pub body: Body,
    /// The output frame (what captions are burned into and the encoder gets).
    pub width: u32,
    pub height: u32,
    /// Its pixel aspect ratio.
    pub sar: (i32, i32),
}

/// `x` to the nearest even number, at least 2.
fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32 * 2).max(2)
}

impl Plan {
    /// The plan for `src` under `opts` (`None` when the picture goes to the encoder as
    /// decoded: no burn-in and no reframing keep size, SAR and rotation as they are).
    pub fn new(src: Source, opts: &RenderOptions) -> Option<Plan> {
        opts.changes_pixels().then(|| Plan::filtered(src, opts))
    }

    /// The plan for `src` under `opts` when its picture is filtered.
    pub fn filtered(src: Source, opts: &RenderOptions) -> Plan {
        let turn = Turn::of(src.rotation);
        let sideways = matches!(turn, Some(Turn::Clockwise | Turn::CounterClockwise));
        let square = src.sar.0 <= 0 || src.sar.1 <= 0;
        // The upright picture: coded size and pixel aspect ratio after the turn.
        let (cw, ch) = if sideways {
            (src.height, src.width)
        } else {
            (src.width, src.height)
        };
        let sar = match (square, sideways) {
            (true, _) => (1, 1),
            (false, false) => src.sar,
            (false, true) => (src.sar.1, src.sar.0),
        };
        let base = Plan {
            source: (src.width, src.height),
            turn,
            body: Body::Keep,
            width: cw,
            height: ch,
            sar,
        };
        let Some(aspect) = opts.aspect else {
            return base;
        };
        // Display size in pixels of the source's height.
        let s = sar.0 as f64 / sar.1 as f64;
        let (dw, dh) = (cw as f64 * s, ch as f64);
        let (tw, th) = aspect.full();
        let (tw, th) = (tw as f64, th as f64);
        let a = aspect.ratio();
        let body_size = match opts.reframe {
            Reframe::Crop => {
                let (win_w, win_h) = if dw / dh > a {
                    (dh * a, dh)
                } else {
                    (dw, dw / a)
                };
                let out_h = if opts.upscale { th } else { th.min(win_h) };
                let (w, h) = (even(out_h * a), even(out_h));
                // The window in upright coded pixels.
                let crop_w = ((win_w / s).round() as u32).clamp(1, cw);
                let crop_h = (win_h.round() as u32).clamp(1, ch);
                let rx = opts.reframe_x.clamp(0.0, 1.0);
                let x = ((cw - crop_w) as f64 * rx).round() as u32;
                let y = (ch - crop_h) / 2;
                (
                    Body::Crop {
                        x,
                        y,
                        w: crop_w,
                        h: crop_h,
                    },
                    w,
                    h,
                )
            }
            Reframe::FitBlur | Reframe::FitPad => {
                let f = (tw / dw).min(th / dh);
                let (out_w, out_h, f) = if f > 1.0 && !opts.upscale {
                    (even(tw / f), even(th / f), 1.0)
                } else {
                    (even(tw), even(th), f)
                };
                let w = even(dw * f).min(out_w);
                let h = even(dh * f).min(out_h);
                let pad = match opts.reframe {
                    Reframe::FitPad => {
                        Some(ffmpeg_colour(&opts.pad_colour).unwrap_or_else(|| "0x000000".into()))
                    }
                    _ => None,
                };
                let x = (out_w - w) / 2 / 2 * 2;
                let y = (out_h - h) / 2 / 2 * 2;
                (Body::Fit { w, h, x, y, pad }, out_w, out_h)
            }
        };
        let (body, width, height) = body_size;
        Plan {
            body,
            width,
            height,
            sar: (1, 1),
            ..base
        }
    }

    /// The libavfilter chain (one input, one output) for a decoded picture of `input` size;
    /// empty when nothing is to be done.
    pub fn filters(&self, input: (u32, u32)) -> String {
        let mut parts: Vec<String> = Vec::new();
        if input != self.source {
            parts.push(format!("scale={}:{}", self.source.0, self.source.1));
        }
        if let Some(t) = self.turn {
            parts.push(t.filter().into());
        }
        let (w, h) = (self.width, self.height);
        match &self.body {
            Body::Keep => {}
            Body::Crop {
                x,
                y,
                w: cw,
                h: chh,
            } => {
                let upright = match self.turn {
                    Some(Turn::Clockwise | Turn::CounterClockwise) => {
                        (self.source.1, self.source.0)
                    }
                    _ => self.source,
                };
                if (*x, *y, *cw, *chh) != (0, 0, upright.0, upright.1) {
                    parts.push(format!("crop={cw}:{chh}:{x}:{y}"));
                }
                if (*cw, *chh) != (w, h) {
                    parts.push(format!("scale={w}:{h}"));
                }
                parts.push("setsar=1".into());
            }
            Body::Fit {
                w: fw,
                h: fh,
                x,
                y,
                pad: Some(colour),
            } => {
                parts.push(format!("scale={fw}:{fh}"));
                parts.push(format!("pad={w}:{h}:{x}:{y}:color={colour}"));
                parts.push("setsar=1".into());
            }
            Body::Fit {
                w: fw,
                h: fh,
                x,
                y,
                pad: None,
            } => {
                // The background at a quarter of the size (cheap to blur), zoomed to cover
                // the frame, blurred, scaled back up; the picture fitted over it.
                let (bw, bh) = (even(w as f64 / 4.0), even(h as f64 / 4.0));
                let cover = (bw as f64 / *fw as f64).max(bh as f64 / *fh as f64);
                let (sw, sh) = (
                    even(*fw as f64 * cover).max(bw),
                    even(*fh as f64 * cover).max(bh),
                );
                let r = (bw.min(bh) / 8).max(1);
                let cr = (r / 2).max(1);
                let chain = parts.join(",");
                let head = if chain.is_empty() {
                    String::new()
                } else {
                    format!("{chain},")
                };
                return format!(
                    "{head}split=2[bg][fg];\
                     [bg]scale={sw}:{sh},crop={bw}:{bh},boxblur=lr={r}:lp=2:cr={cr}:cp=2,\
                     scale={w}:{h},setsar=1[back];\
                     [fg]scale={fw}:{fh},setsar=1[front];\
                     [back][front]overlay={x}:{y}:format=auto,setsar=1"
                );
            }
        }
        parts.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(w: u32, h: u32) -> Source {
        Source {
            width: w,
            height: h,
            sar: (1, 1),
            rotation: 0.0,
        }
    }

    fn opts(aspect: &str, reframe: Reframe) -> RenderOptions {
        RenderOptions {
            aspect: Some(aspect.parse().unwrap()),
            reframe,
            ..RenderOptions::default()
        }
    }

    fn size(p: &Plan) -> (u32, u32) {
        (p.width, p.height)
    }

    #[test]
    fn aspects_parse_and_know_their_platform_size() {
        let a: Aspect = "9:16".parse().unwrap();
        assert_eq!(a.full(), (1080, 1920));
        assert_eq!("1:1".parse::<Aspect>().unwrap().full(), (1080, 1080));
        assert_eq!("4:5".parse::<Aspect>().unwrap().full(), (1080, 1350));
        assert_eq!(" 16 : 9".parse::<Aspect>().unwrap().full(), (1920, 1080));
        for bad in ["9x16", "3:2", "", "16:"] {
            let e = bad.parse::<Aspect>().unwrap_err();
            assert!(e.contains("9:16, 1:1, 4:5, 16:9"), "{e}");
        }
        assert_eq!(a.to_string(), "9:16");
        assert_eq!(
            serde_json::from_str::<Aspect>("\"4:5\"").unwrap(),
            Aspect { w: 4, h: 5 }
        );
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"9:16\"");
        assert_eq!("fit-blur".parse::<Reframe>().unwrap(), Reframe::FitBlur);
        assert!("blur".parse::<Reframe>().is_err());
    }

    #[test]
    fn nothing_to_do_without_burn_in_or_aspect() {
        assert_eq!(Plan::new(src(1280, 720), &RenderOptions::default()), None);
        let burn = RenderOptions {
            burn_in: Some("x.ass".into()),
            ..RenderOptions::default()
        };
        let p = Plan::new(src(1280, 720), &burn).unwrap();
        assert_eq!((p.body.clone(), size(&p)), (Body::Keep, (1280, 720)));
        assert_eq!(p.filters((1280, 720)), "");
        // A rotated input is turned upright before captions are drawn on it.
        let rotated = Source {
            rotation: -90.0,
            sar: (4, 3),
            ..src(160, 120)
        };
        let p = Plan::new(rotated, &burn).unwrap();
        assert_eq!((size(&p), p.sar), ((120, 160), (3, 4)));
        assert_eq!(p.filters((160, 120)), "transpose=clock");
        assert_eq!(p.filters((320, 240)), "scale=160:120,transpose=clock");
    }

    #[test]
    fn crop_takes_a_window_at_the_source_height() {
        // 720p: the 9:16 window is 405 × 720 source pixels; 406 × 720 even, never upscaled.
        let p = Plan::new(src(1280, 720), &opts("9:16", Reframe::Crop)).unwrap();
        assert_eq!(size(&p), (406, 720));
        assert_eq!(
            p.body,
            Body::Crop {
                x: 438,
                y: 0,
                w: 405,
                h: 720
            }
        );
        assert_eq!(
            p.filters((1280, 720)),
            "crop=405:720:438:0,scale=406:720,setsar=1"
        );
        assert_eq!(
            size(&Plan::new(src(640, 360), &opts("9:16", Reframe::Crop)).unwrap()),
            (202, 360)
        );
        // 1080p and 4K: the platform size at most.
        assert_eq!(
            size(&Plan::new(src(1920, 1080), &opts("9:16", Reframe::Crop)).unwrap()),
            (608, 1080)
        );
        assert_eq!(
            size(&Plan::new(src(3840, 2160), &opts("9:16", Reframe::Crop)).unwrap()),
            (1080, 1920)
        );
        // …or the full size when asked.
        let up = RenderOptions {
            upscale: true,
            ..opts("9:16", Reframe::Crop)
        };
        assert_eq!(size(&Plan::new(src(1280, 720), &up).unwrap()), (1080, 1920));
        // reframe_x moves the window from the left edge to the right edge.
        for (rx, x) in [(0.0, 0), (1.0, 875), (0.25, 219)] {
            let o = RenderOptions {
                reframe_x: rx,
                ..opts("9:16", Reframe::Crop)
            };
            match Plan::new(src(1280, 720), &o).unwrap().body {
                Body::Crop { x: got, .. } => assert_eq!(got, x, "reframe_x {rx}"),
                b => panic!("{b:?}"),
            }
        }
        // A portrait source to 16:9: the full width, centred vertically.
        let p = Plan::new(src(1080, 1920), &opts("16:9", Reframe::Crop)).unwrap();
        assert_eq!(size(&p), (1080, 608));
        assert_eq!(
            p.body,
            Body::Crop {
                x: 0,
                y: 656,
                w: 1080,
                h: 608
            }
        );
        // 4:3 and square sources.
        assert_eq!(
            size(&Plan::new(src(640, 480), &opts("9:16", Reframe::Crop)).unwrap()),
            (270, 480)
        );
        assert_eq!(
            size(&Plan::new(src(640, 480), &opts("1:1", Reframe::Crop)).unwrap()),
            (480, 480)
        );
        assert_eq!(
            size(&Plan::new(src(1280, 720), &opts("4:5", Reframe::Crop)).unwrap()),
            (576, 720)
        );
    }

    #[test]
    fn fit_modes_keep_the_whole_picture() {
        let p = Plan::new(src(1920, 1080), &opts("9:16", Reframe::FitPad)).unwrap();
        assert_eq!(size(&p), (1080, 1920));
        assert_eq!(
            p.body,
            Body::Fit {
                w: 1080,
                h: 608,
                x: 0,
                y: 656,
                pad: Some("0x000000".into())
            }
        );
        assert_eq!(
            p.filters((1920, 1080)),
            "scale=1080:608,pad=1080:1920:0:656:color=0x000000,setsar=1"
        );
        // A small source is not scaled up: the frame shrinks around it.
        let p = Plan::new(src(640, 360), &opts("9:16", Reframe::FitPad)).unwrap();
        assert_eq!(size(&p), (640, 1138));
        assert!(
            matches!(
                p.body,
                Body::Fit {
                    w: 640,
                    h: 360,
                    x: 0,
                    y: 388,
                    ..
                }
            ),
            "{:?}",
            p.body
        );
        let blur = Plan::new(src(640, 360), &opts("9:16", Reframe::FitBlur)).unwrap();
        assert_eq!(
            blur.filters((640, 360)),
            "split=2[bg][fg];[bg]scale=504:284,crop=160:284,boxblur=lr=20:lp=2:cr=10:cp=2,\
             scale=640:1138,setsar=1[back];[fg]scale=640:360,setsar=1[front];\
             [back][front]overlay=0:388:format=auto,setsar=1"
        );
        let o = RenderOptions {
            pad_colour: "#336699".into(),
            ..opts("1:1", Reframe::FitPad)
        };
        let p = Plan::new(src(1280, 720), &o).unwrap();
        assert_eq!(size(&p), (1080, 1080));
        assert!(p.filters((1280, 720)).contains("color=0x336699"));
    }

    #[test]
    fn rotation_and_pixel_aspect_count_as_displayed() {
        // A phone video: coded 1920 × 1080, shown upright as 1080 × 1920 (rotation -90).
        let phone = Source {
            rotation: -90.0,
            ..src(1920, 1080)
        };
        let p = Plan::new(phone, &opts("9:16", Reframe::Crop)).unwrap();
        assert_eq!((size(&p), p.turn), ((1080, 1920), Some(Turn::Clockwise)));
        assert_eq!(p.filters((1920, 1080)), "transpose=clock,setsar=1");
        assert_eq!(Turn::of(90.0), Some(Turn::CounterClockwise));
        assert_eq!(Turn::of(180.0), Some(Turn::Half));
        assert_eq!(Turn::of(-180.0), Some(Turn::Half));
        assert_eq!(Turn::of(0.0), None);
        assert_eq!(Turn::of(359.6), None);
        // Anamorphic 720 × 576 at SAR 16:15 is 768 × 576 on screen: its 9:16 window is
        // 324 display pixels = 304 coded pixels wide.
        let pal = Source {
            sar: (16, 15),
            ..src(720, 576)
        };
        let p = Plan::new(pal, &opts("9:16", Reframe::Crop)).unwrap();
        assert_eq!((size(&p), p.sar), ((324, 576), (1, 1)));
        assert_eq!(
            p.body,
            Body::Crop {
                x: 208,
                y: 0,
                w: 304,
                h: 576
            }
        );
    }
}
