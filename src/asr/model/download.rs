//! `subcut model pull`: downloading an official model of the [`super::registry`].
//!
//! ```text
//! GET {base_url}/ggml-base.bin  ──stream──▶  DIR/ggml-base.bin.part  (hashed while written)
//!     Range: bytes=N-  when a .part of N bytes is left from an interrupted download
//!     206 → append · 200 → the server ignored Range: start over · 416 → the .part is complete
//! size + SHA-256 check ──▶ rename(.part → DIR/ggml-base.bin)   (mismatch: .part deleted)
//! ```
//!
//! The model is never held in memory, a crash never leaves a half-written file under the final
//! name, and an interrupted download resumes where it stopped (automatically up to
//! [`PullOptions::retries`] times, or on the next run). A file that already sits under the final
//! name is never overwritten: it is accepted when it is the official file and refused otherwise
//! (it may be a model imported with `subcut model import`).
//!
//! The download draws nothing: it reports its progress ([`PullProgress`]) to the caller, which
//! may draw a bar. [`PullOptions::from_env`] is the one thin wrapper that reads the
//! environment.

use std::env;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::error::ModelError;
use super::registry::{known, models_dir, suggest, KNOWN};

/// Where `pull` downloads from unless `$SUBCUT_MODEL_URL` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/// How long to wait for a connection, and for each read of the body, before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How [`pull`] downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOptions {
    /// The file is fetched from `{base_url}/{file}`.
    pub base_url: String,
    /// Where the model is installed.
    pub dir: PathBuf,
    /// How many times an interrupted download is resumed in the same run before giving up.
    pub retries: u32,
}

impl PullOptions {
    /// `base_url` from `$SUBCUT_MODEL_URL`, else [`DEFAULT_BASE_URL`]; `dir` = [`models_dir`];
    /// 3 automatic resumes.
    pub fn from_env() -> Self {
        let base_url = env::var("SUBCUT_MODEL_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        PullOptions {
            base_url,
            dir: models_dir(),
            retries: 3,
        }
    }
}

/// How far a download has got, reported by [`pull`] to the caller (which may draw a bar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullProgress<'a> {
    /// A response body starts: `file` has `total` bytes, `at` of them already on disk (a
    /// resumed download). Each attempt starts anew.
    Start { file: &'a str, total: u64, at: u64 },
    /// `at` bytes are on disk.
    At(u64),
    /// The body stopped short of the whole file: an automatic resume or an error follows.
    Stopped,
    /// Every byte arrived; the checksum is checked next.
    Done,
}

/// Downloads the official model `name` into `opts.dir` and returns its path.
///
/// Streams `{base_url}/{file}` into `dir/{file}.part`, resuming an existing `.part` with an
/// HTTP Range request (206: append; 200: the server ignored Range, restart; 416: the part is
/// already complete), reports the bytes as they arrive to `progress`, verifies size and
/// SHA-256, then renames atomically to `dir/{file}`. A checksum mismatch deletes the `.part`.
/// An official file already in place is verified and returned as is.
pub fn pull(
    name: &str,
    opts: &PullOptions,
    progress: &mut dyn FnMut(PullProgress),
) -> Result<PathBuf, ModelError> {
    let model = known(name).ok_or_else(|| ModelError::UnknownPull {
        name: name.to_string(),
        suggestions: suggest(name, KNOWN.iter().map(|k| k.name.to_string())),
    })?;
    fetch(
        &Wanted {
            file: model.file,
            bytes: model.bytes,
            sha256: model.sha256,
        },
        opts,
        progress,
    )
}

/// What [`fetch`] downloads: a [`KnownModel`] or, in tests, a fake one.
struct Wanted<'a> {
    file: &'a str,
    bytes: u64,
    sha256: &'a str,
}

fn fetch(
    w: &Wanted,
    opts: &PullOptions,
    progress: &mut dyn FnMut(PullProgress),
) -> Result<PathBuf, ModelError> {
    fs::create_dir_all(&opts.dir).map_err(io_err("create the models directory", &opts.dir))?;
    let dest = opts.dir.join(w.file);
    if dest.exists() {
        let official = fs::metadata(&dest).is_ok_and(|md| md.is_file() && md.len() == w.bytes)
            && sha256_file(&dest)?.eq_ignore_ascii_case(w.sha256);
        return if official {
            Ok(dest)
        } else {
            Err(ModelError::Conflict {
                file: w.file.to_string(),
                path: dest,
            })
        };
    }
    let part = opts.dir.join(format!("{}.part", w.file));
    let url = format!("{}/{}", opts.base_url.trim_end_matches('/'), w.file);
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .timeout_write(READ_TIMEOUT)
        .user_agent(concat!("subcut/", env!("CARGO_PKG_VERSION")))
        .build();
    let mut attempt = 0;
    loop {
        match download_once(&agent, &url, w, &part, progress) {
            Ok(()) => break,
            Err(ModelError::Interrupted { .. }) if attempt < opts.retries => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(500) * attempt.min(6));
            }
            Err(e) => return Err(e),
        }
    }
    fs::rename(&part, &dest).map_err(io_err("rename the finished download to", &dest))?;
    if let Ok(d) = File::open(&opts.dir) {
        let _ = d.sync_all(); // make the rename durable; not every platform can open a directory
    }
    Ok(dest)
}

/// One HTTP request: continue (or start) `part`, and verify it once the server has sent all.
fn download_once(
    agent: &ureq::Agent,
    url: &str,
    w: &Wanted,
    part: &Path,
    progress: &mut dyn FnMut(PullProgress),
) -> Result<(), ModelError> {
    let file_err = |what: String| ModelError::BadResponse {
        file: w.file.to_string(),
        url: url.to_string(),
        what,
    };
    let mut have = fs::metadata(part).map(|md| md.len()).unwrap_or(0);
    if have > w.bytes {
        fs::remove_file(part).map_err(io_err("delete", part))?;
        have = 0;
    }
    let mut hasher = Sha256::new();
    if have > 0 {
        have = hash_into(part, &mut hasher)?;
    }

    let mut request = agent.get(url);
    if have > 0 {
        request = request.set("Range", &format!("bytes={have}-"));
    }
    let response = match request.call() {
        Ok(r) => r,
        // Nothing lies beyond what we have: the part is complete (or the remote file is shorter).
        Err(ureq::Error::Status(416, _)) if have > 0 => return verify(w, part, have, hasher),
        Err(ureq::Error::Status(status, r)) => {
            return Err(ModelError::Http {
                file: w.file.to_string(),
                url: url.to_string(),
                status,
                reason: one_line(r.status_text()),
            })
        }
        Err(ureq::Error::Transport(t)) => {
            return Err(ModelError::Network {
                file: w.file.to_string(),
                url: url.to_string(),
                cause: one_line(&t.to_string()),
            })
        }
    };

    // Where the body starts, and the total size the server announces.
    let (start, total) = match response.status() {
        206 if have > 0 => {
            let range = response.header("Content-Range").unwrap_or("");
            match parse_content_range(range) {
                Some((first, total)) if first == have => (have, total),
                _ => {
                    fs::remove_file(part).map_err(io_err("delete", part))?;
                    return Err(file_err(format!(
                        "asked for bytes={have}- but got Content-Range \"{range}\"; deleted the partial download, run again to start over"
                    )));
                }
            }
        }
        200 => (
            0,
            response
                .header("Content-Length")
                .and_then(|v| v.trim().parse().ok()),
        ),
        other => {
            return Err(file_err(format!(
                "HTTP {other} {}",
                one_line(response.status_text())
            )))
        }
    };
    if let Some(total) = total.filter(|&t| t != w.bytes) {
        return Err(file_err(format!(
            "the server announces {total} bytes but the official file has {} (has the upstream file changed?)",
            w.bytes
        )));
    }
    let file = if start == 0 {
        hasher = Sha256::new(); // 200 after a Range request: the server ignored it, start over
        File::create(part).map_err(io_err("create", part))?
    } else {
        OpenOptions::new()
            .append(true)
            .open(part)
            .map_err(io_err("open", part))?
    };

    progress(PullProgress::Start {
        file: w.file,
        total: w.bytes,
        at: start,
    });
    let mut reader = response.into_reader();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 256 * 1024];
    let mut pos = start;
    let stopped = loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Some(one_line(&e.to_string())),
        };
        if pos + n as u64 > w.bytes {
            drop(out);
            progress(PullProgress::Stopped);
            fs::remove_file(part).map_err(io_err("delete", part))?;
            return Err(ModelError::SizeMismatch {
                file: w.file.to_string(),
                expected: w.bytes,
                got: pos + n as u64,
            });
        }
        out.write_all(&buf[..n]).map_err(io_err("write", part))?;
        hasher.update(&buf[..n]);
        pos += n as u64;
        progress(PullProgress::At(pos));
    };
    // Keep what arrived on disk, whatever happens next: it is what the next attempt resumes.
    let file = out
        .into_inner()
        .map_err(|e| io_err("write", part)(e.into_error()))?;
    file.sync_all().map_err(io_err("write", part))?;
    drop(file);
    if stopped.is_some() || pos < w.bytes {
        progress(PullProgress::Stopped);
        return Err(ModelError::Interrupted {
            file: w.file.to_string(),
            url: url.to_string(),
            have: pos,
            total: w.bytes,
            cause: stopped.unwrap_or_else(|| "the connection closed early".to_string()),
        });
    }
    progress(PullProgress::Done);
    verify(w, part, pos, hasher)
}

/// Checks size and digest of a finished `part`; deletes it when either is wrong.
fn verify(w: &Wanted, part: &Path, size: u64, hasher: Sha256) -> Result<(), ModelError> {
    if size != w.bytes {
        fs::remove_file(part).map_err(io_err("delete", part))?;
        return Err(ModelError::SizeMismatch {
            file: w.file.to_string(),
            expected: w.bytes,
            got: size,
        });
    }
    let got = hex(&hasher.finalize());
    if !got.eq_ignore_ascii_case(w.sha256) {
        fs::remove_file(part).map_err(io_err("delete", part))?;
        return Err(ModelError::ChecksumMismatch {
            file: w.file.to_string(),
            expected: w.sha256.to_string(),
            got,
        });
    }
    Ok(())
}

/// `bytes FIRST-LAST/TOTAL` → (FIRST, Some(TOTAL)); a `*` total → None.
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (first, _last) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((first.trim().parse().ok()?, total))
}

/// Feeds a whole file to `hasher`; returns how many bytes it read.
fn hash_into(path: &Path, hasher: &mut Sha256) -> Result<u64, ModelError> {
    let mut f = File::open(path).map_err(io_err("read", path))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n_total = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => return Ok(n_total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err("read", path)(e)),
        };
        hasher.update(&buf[..n]);
        n_total += n as u64;
    }
}

fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut hasher = Sha256::new();
    hash_into(path, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ModelError {
    let path = path.to_path_buf();
    move |source| ModelError::Io {
        action,
        path,
        source,
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;
    use std::time::Instant;

    // ---- a tiny HTTP/1.1 file server with Range support and scripted misbehaviour ----

    /// How the server answers one request.
    #[derive(Clone, Copy, Debug)]
    enum Serve {
        /// 200, or 206 for `Range: bytes=N-`, or 416 when N is past the end.
        Normal,
        /// Like Normal, but the connection is closed after this many body bytes.
        DropAfter(usize),
        /// Like Normal, with other bytes of the same length.
        Wrong,
        /// Always 200 with the whole file.
        IgnoreRange,
        NotFound,
    }

    /// One request as the server saw it: path and Range header.
    #[derive(Debug, Clone, PartialEq)]
    struct Seen {
        path: String,
        range: Option<String>,
    }

    struct Server {
        base_url: String,
        log: Arc<Mutex<Vec<Seen>>>,
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    }

    impl Server {
        /// Serves `body` as `/ggml-fake.bin`; request i is answered as `plan[i]` (then Normal).
        fn start(body: Vec<u8>, plan: Vec<Serve>) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.set_nonblocking(true).unwrap();
            let base_url = format!("http://{}", listener.local_addr().unwrap());
            let log = Arc::new(Mutex::new(Vec::new()));
            let stop = Arc::new(AtomicBool::new(false));
            let (log2, stop2) = (log.clone(), stop.clone());
            let thread = std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(10);
                let mut i = 0;
                while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let how = plan.get(i).copied().unwrap_or(Serve::Normal);
                            i += 1;
                            answer(stream, how, &body, &log2);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(2))
                        }
                        Err(e) => panic!("accept: {e}"),
                    }
                }
            });
            Server {
                base_url,
                log,
                stop,
                thread: Some(thread),
            }
        }

        /// Stops and joins the server thread; returns the requests it saw.
        fn finish(mut self) -> Vec<Seen> {
            self.stop.store(true, Ordering::SeqCst);
            self.thread.take().unwrap().join().unwrap();
            let log = self.log.lock().unwrap().clone();
            log
        }
    }

    fn answer(mut s: TcpStream, how: Serve, body: &[u8], log: &Mutex<Vec<Seen>>) {
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut req = Vec::new();
        let mut byte = [0u8; 1];
        while !req.ends_with(b"\r\n\r\n") {
            match s.read(&mut byte) {
                Ok(1) => req.push(byte[0]),
                _ => return,
            }
        }
        let text = String::from_utf8_lossy(&req).to_string();
        let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
        let range = text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("range")
                .then(|| v.trim().to_string())
        });
        log.lock().unwrap().push(Seen {
            path: path.clone(),
            range: range.clone(),
        });

        let wrong: Vec<u8>;
        let content = if matches!(how, Serve::Wrong) {
            wrong = body.iter().map(|b| b ^ 0x5a).collect();
            &wrong[..]
        } else {
            body
        };
        let len = content.len();
        let from = match how {
            Serve::IgnoreRange => None,
            _ => range.as_deref().and_then(|r| {
                r.strip_prefix("bytes=")?
                    .strip_suffix('-')?
                    .parse::<usize>()
                    .ok()
            }),
        };
        let (head, slice) = if matches!(how, Serve::NotFound) || path != "/ggml-fake.bin" {
            (
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n".to_string(),
                &content[..0],
            )
        } else {
            match from {
                Some(n) if n >= len => {
                    (format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\n"), &content[..0])
                }
                Some(n) => (
                    format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {n}-{}/{len}\r\nContent-Length: {}\r\n",
                        len - 1,
                        len - n
                    ),
                    &content[n..],
                ),
                None => (format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n"), content),
            }
        };
        let slice = match how {
            Serve::DropAfter(k) => &slice[..k.min(slice.len())],
            _ => slice,
        };
        let _ = s.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes());
        let _ = s.write_all(slice);
        let _ = s.flush();
        let _ = s.shutdown(Shutdown::Both);
    }

    // ---- fixtures ----

    const FAKE_LEN: usize = 300_000;

    /// A few hundred KB of deterministic bytes and their SHA-256.
    fn fake_model() -> (Vec<u8>, String) {
        let mut rng = crate::testutil::Rng::new(0x1234_5678);
        let body: Vec<u8> = (0..FAKE_LEN)
            .map(|_| (rng.next_u64() >> 56) as u8)
            .collect();
        let sha = hex(&Sha256::digest(&body));
        (body, sha)
    }

    fn options(base_url: &str, dir: &Path, retries: u32) -> PullOptions {
        PullOptions {
            base_url: base_url.to_string(),
            dir: dir.to_path_buf(),
            retries,
        }
    }

    fn fetch_fake(sha: &str, opts: &PullOptions) -> Result<PathBuf, ModelError> {
        fetch(
            &Wanted {
                file: "ggml-fake.bin",
                bytes: FAKE_LEN as u64,
                sha256: sha,
            },
            opts,
            &mut |_| {},
        )
    }

    fn range(r: &str) -> Option<String> {
        Some(r.to_string())
    }

    // ---- pull ----

    #[test]
    fn pull_downloads_verifies_and_installs() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let dest = fetch_fake(&sha, &options(&server.base_url, dir.path(), 0)).unwrap();
        let log = server.finish();
        assert_eq!(dest, dir.path().join("ggml-fake.bin"));
        assert_eq!(fs::read(&dest).unwrap(), body);
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
        assert_eq!(
            log,
            vec![Seen {
                path: "/ggml-fake.bin".into(),
                range: None
            }]
        );
    }

    #[test]
    fn dropped_connection_keeps_the_part_and_the_next_pull_resumes_with_range() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::DropAfter(100_000), Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let opts = options(&server.base_url, dir.path(), 0);

        let err = fetch_fake(&sha, &opts).unwrap_err();
        assert!(
            matches!(err, ModelError::Interrupted { have: 100_000, .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("ggml-fake.bin") && err.to_string().contains("resume"),
            "{err}"
        );
        let part = dir.path().join("ggml-fake.bin.part");
        assert_eq!(fs::read(&part).unwrap(), &body[..100_000]);
        assert!(!dir.path().join("ggml-fake.bin").exists());

        let dest = fetch_fake(&sha, &opts).unwrap();
        let log = server.finish();
        assert_eq!(fs::read(dest).unwrap(), body);
        assert!(!part.exists());
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].range, None);
        assert_eq!(log[1].range, range("bytes=100000-"));
    }

    #[test]
    fn dropped_connection_is_resumed_in_the_same_run_when_retries_allow() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::DropAfter(70_000), Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let dest = fetch_fake(&sha, &options(&server.base_url, dir.path(), 1)).unwrap();
        let log = server.finish();
        assert_eq!(fs::read(dest).unwrap(), body);
        assert_eq!(
            log.iter().map(|s| s.range.clone()).collect::<Vec<_>>(),
            vec![None, range("bytes=70000-")]
        );
    }

    #[test]
    fn progress_is_reported_for_every_attempt() {
        let (body, sha) = fake_model();
        let server = Server::start(body, vec![Serve::DropAfter(70_000), Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let mut seen = Vec::new();
        let wanted = Wanted {
            file: "ggml-fake.bin",
            bytes: FAKE_LEN as u64,
            sha256: &sha,
        };
        let opts = options(&server.base_url, dir.path(), 1);
        fetch(&wanted, &opts, &mut |p| {
            seen.push(match p {
                PullProgress::Start { file, total, at } => {
                    assert_eq!((file, total), ("ggml-fake.bin", FAKE_LEN as u64));
                    ("start", at)
                }
                PullProgress::At(at) => ("at", at),
                PullProgress::Stopped => ("stopped", 0),
                PullProgress::Done => ("done", 0),
            })
        })
        .unwrap();
        server.finish();
        let marks: Vec<(&str, u64)> = seen.iter().copied().filter(|m| m.0 != "at").collect();
        assert_eq!(
            marks,
            [("start", 0), ("stopped", 0), ("start", 70_000), ("done", 0)]
        );
        let at: Vec<u64> = seen.iter().filter(|m| m.0 == "at").map(|m| m.1).collect();
        assert!(at.windows(2).all(|p| p[0] < p[1]), "{at:?}");
        assert_eq!(at.last(), Some(&(FAKE_LEN as u64)));
        assert!(at.contains(&70_000), "{at:?}");
    }

    #[test]
    fn wrong_content_is_rejected_and_leaves_no_file_and_no_part() {
        let (body, sha) = fake_model();
        let server = Server::start(body, vec![Serve::Wrong]);
        let dir = tempfile::tempdir().unwrap();
        let err = fetch_fake(&sha, &options(&server.base_url, dir.path(), 3)).unwrap_err();
        server.finish();
        assert!(matches!(err, ModelError::ChecksumMismatch { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("ggml-fake.bin") && msg.contains("SHA-256") && msg.contains(&sha),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
        assert!(!dir.path().join("ggml-fake.bin").exists());
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
    }

    #[test]
    fn a_corrupt_part_is_hashed_on_resume_so_the_mismatch_is_caught_and_the_part_deleted() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("ggml-fake.bin.part");
        let mut bad = body[..50_000].to_vec();
        bad[123] ^= 1;
        fs::write(&part, &bad).unwrap();
        let err = fetch_fake(&sha, &options(&server.base_url, dir.path(), 0)).unwrap_err();
        let log = server.finish();
        assert!(matches!(err, ModelError::ChecksumMismatch { .. }), "{err}");
        assert_eq!(log[0].range, range("bytes=50000-"));
        assert!(!part.exists());
        assert!(!dir.path().join("ggml-fake.bin").exists());
    }

    #[test]
    fn a_server_that_ignores_range_makes_the_pull_start_over_cleanly() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::IgnoreRange]);
        let dir = tempfile::tempdir().unwrap();
        // Garbage in the part: appending the 200 body to it would fail size and checksum.
        fs::write(dir.path().join("ggml-fake.bin.part"), vec![0xAB; 40_000]).unwrap();
        let dest = fetch_fake(&sha, &options(&server.base_url, dir.path(), 0)).unwrap();
        let log = server.finish();
        assert_eq!(log[0].range, range("bytes=40000-"));
        assert_eq!(fs::read(dest).unwrap(), body);
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
    }

    #[test]
    fn a_complete_part_gets_416_and_is_verified_and_installed() {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("ggml-fake.bin.part"), &body).unwrap();
        let dest = fetch_fake(&sha, &options(&server.base_url, dir.path(), 0)).unwrap();
        let log = server.finish();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].range, range(&format!("bytes={FAKE_LEN}-")));
        assert_eq!(fs::read(dest).unwrap(), body);
    }

    #[test]
    fn http_404_is_a_clear_error() {
        let (body, sha) = fake_model();
        let server = Server::start(body, vec![Serve::NotFound]);
        let dir = tempfile::tempdir().unwrap();
        let err = fetch_fake(&sha, &options(&server.base_url, dir.path(), 3)).unwrap_err();
        let log = server.finish();
        assert_eq!(log.len(), 1, "a 404 is not retried");
        assert!(matches!(err, ModelError::Http { status: 404, .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("HTTP 404")
                && msg.contains("ggml-fake.bin")
                && msg.contains(&server_url(&msg)),
            "{msg}"
        );
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
        assert!(!dir.path().join("ggml-fake.bin").exists());
    }

    /// The URL in a message (checks the message names where it downloaded from).
    fn server_url(msg: &str) -> String {
        msg.split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or("<no url>")
            .to_string()
    }

    #[test]
    fn a_size_that_disagrees_with_the_registry_is_refused_before_downloading() {
        let (body, _) = fake_model();
        let server = Server::start(body, vec![Serve::Normal]);
        let dir = tempfile::tempdir().unwrap();
        let opts = options(&server.base_url, dir.path(), 0);
        let err = fetch(
            &Wanted {
                file: "ggml-fake.bin",
                bytes: 1000,
                sha256: "00",
            },
            &opts,
            &mut |_| {},
        )
        .unwrap_err();
        server.finish();
        assert!(matches!(err, ModelError::BadResponse { .. }), "{err}");
        assert!(err.to_string().contains("300000 bytes"), "{err}");
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
    }

    #[test]
    fn an_unreachable_server_is_a_network_error_naming_the_file() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let (_, sha) = fake_model();
        let err = fetch_fake(
            &sha,
            &options(&format!("http://127.0.0.1:{port}/"), dir.path(), 3),
        )
        .unwrap_err();
        assert!(matches!(err, ModelError::Network { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("http://127.0.0.1:{port}/ggml-fake.bin")),
            "{err}"
        );
    }

    #[test]
    fn an_installed_official_file_is_verified_not_downloaded_and_another_file_is_never_overwritten()
    {
        let (body, sha) = fake_model();
        let server = Server::start(body.clone(), vec![]);
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("ggml-fake.bin");
        fs::write(&dest, &body).unwrap();
        let opts = options(&server.base_url, dir.path(), 0);
        assert_eq!(fetch_fake(&sha, &opts).unwrap(), dest);

        let mut imported = body.clone();
        imported[7] ^= 1;
        fs::write(&dest, &imported).unwrap();
        let err = fetch_fake(&sha, &opts).unwrap_err();
        assert!(matches!(err, ModelError::Conflict { .. }), "{err}");
        assert!(err.to_string().contains("move it away"), "{err}");
        assert_eq!(fs::read(&dest).unwrap(), imported);
        assert!(server.finish().is_empty());
    }

    #[test]
    fn pulling_an_unknown_name_suggests_close_ones_without_touching_the_network() {
        let dir = tempfile::tempdir().unwrap();
        let opts = options("http://127.0.0.1:9", dir.path(), 0);
        let err = pull("tiny.eng", &opts, &mut |_| {}).unwrap_err();
        assert!(matches!(err, ModelError::UnknownPull { .. }), "{err}");
        assert!(err.to_string().contains("did you mean tiny.en"), "{err}");
    }

    #[test]
    fn content_range_parsing() {
        assert_eq!(
            parse_content_range("bytes 100-299/300"),
            Some((100, Some(300)))
        );
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, None)));
        assert_eq!(parse_content_range("bytes */300"), None);
        assert_eq!(parse_content_range(""), None);
    }
}
