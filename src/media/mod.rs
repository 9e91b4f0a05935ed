//! The FFmpeg edge: decoding any container to 16 kHz mono samples ([`decode`]), describing a
//! media file's streams ([`probe`]) and rendering a cut ([`render`]).
//!
//! What the three share lives here: FFmpeg's one-time set-up ([`init`]) and the cheap checks
//! on an input file that FFmpeg would answer less clearly.

pub mod decode;
pub mod probe;
pub mod render;

pub use decode::{decode_audio, Audio, MediaError, SAMPLE_RATE};

use std::fs::File;
use std::path::Path;
use std::sync::OnceLock;

use ffmpeg_next as ffmpeg;

use ffmpeg::{ffi, format, Rational};

/// The microsecond time base (FFmpeg's `AV_TIME_BASE_Q`).
pub(crate) const MICROS: Rational = Rational(1, 1_000_000);

/// The container's start time in microseconds (0 when unknown): where media time 0, the
/// first instant a player shows, lies on the streams' timestamps.
pub(crate) fn start_us(input: &format::context::Input) -> i64 {
    // SAFETY: reading a field of an open input.
    match unsafe { (*input.as_ptr()).start_time } {
        t if t == ffi::AV_NOPTS_VALUE => 0,
        t => t, // already in microseconds (AV_TIME_BASE)
    }
}

/// Initialises FFmpeg once per process and silences its log printing (errors are captured,
/// not printed). Safe to call from anywhere, any number of times.
pub fn init() -> Result<(), String> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        ffmpeg::init().map_err(|e| format!("FFmpeg failed to initialise: {e}"))?;
        log_capture::install();
        Ok(())
    })
    .clone()
}

/// Cheap checks on an input that FFmpeg would answer less clearly: missing, a directory,
/// empty, unreadable. The decoder and the renderer both run them first, so both say it the
/// same way.
pub(crate) fn check_input(path: &Path) -> Result<(), MediaError> {
    let unreadable = |message: String| MediaError::Unreadable {
        path: path.into(),
        message,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(unreadable("is a directory".into())),
        // Not opened: opening a FIFO waits for a writer, and a device never ends.
        Ok(m) if !m.is_file() => Err(unreadable(format!(
            "not a regular file ({})",
            special_kind(&m.file_type())
        ))),
        Ok(m) if m.len() == 0 => Err(MediaError::NotMedia {
            path: path.into(),
            reason: "the file is empty".into(),
        }),
        Ok(_) => File::open(path)
            .map(drop)
            .map_err(|e| unreadable(io_why(&e))),
        Err(_) if crate::inputs::link_trouble(path).is_some() => Err(unreadable(
            crate::inputs::link_trouble(path).unwrap_or_default(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(MediaError::NotFound { path: path.into() })
        }
        Err(e) => Err(unreadable(io_why(&e))),
    }
}

/// What a file that is neither a regular file nor a directory is, for messages.
pub(crate) fn special_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    let _ = t;
    "a special file"
}

/// An I/O error as a message part: std's Display appends " (os error N)"; keep the readable
/// part, lower-cased.
pub(crate) fn io_why(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

pub(crate) use crate::output::same_file;

/// Keeps FFmpeg quiet: nothing is printed; the last error line per thread is remembered.
mod log_capture {
    use std::cell::RefCell;

    #[cfg(all(target_arch = "x86_64", not(target_os = "windows")))]
    use super::ffi;
    use super::ffmpeg;

    thread_local! {
        static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    /// The last error FFmpeg logged on this thread since the previous call.
    pub(super) fn take() -> Option<String> {
        LAST.with(|l| l.borrow_mut().take())
    }

    #[cfg(all(target_arch = "x86_64", not(target_os = "windows")))]
    pub(super) fn install() {
        use std::ffi::{c_char, c_int, c_void, CStr};

        unsafe extern "C" fn callback(
            avcl: *mut c_void,
            level: c_int,
            fmt: *const c_char,
            args: *mut ffi::__va_list_tag,
        ) {
            if level > ffi::AV_LOG_ERROR || fmt.is_null() {
                return;
            }
            let mut line = [0 as c_char; 512];
            let mut print_prefix: c_int = 0;
            // SAFETY: FFmpeg hands us a live va_list for `fmt`; the buffer size is passed.
            let n = unsafe {
                ffi::av_log_format_line2(
                    avcl,
                    level,
                    fmt,
                    args,
                    line.as_mut_ptr(),
                    line.len() as c_int,
                    &mut print_prefix,
                )
            };
            if n < 0 {
                return;
            }
            // SAFETY: av_log_format_line2 always NUL-terminates within the buffer.
            let text = unsafe { CStr::from_ptr(line.as_ptr()) }.to_string_lossy();
            let text = text.trim();
            if !text.is_empty() {
                let _ = LAST.try_with(|l| *l.borrow_mut() = Some(text.to_string()));
            }
        }

        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Error);
        // SAFETY: the callback matches FFmpeg's signature and never unwinds.
        unsafe { ffi::av_log_set_callback(Some(callback)) };
    }

    #[cfg(not(all(target_arch = "x86_64", not(target_os = "windows"))))]
    pub(super) fn install() {
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Quiet);
    }
}
