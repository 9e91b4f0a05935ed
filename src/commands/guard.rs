//! Destinations checked before any work (issue 18): no input of a run (media, `--script`,
//! `--preset FILE`, `--fake-transcript`, a model source) is ever one of its destinations,
//! no two inputs write the same output, and a `--report` file can be written. Every
//! refusal is a configuration error (exit code 2) raised before anything is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// `p` made absolute and free of links as far as it exists: its longest existing ancestor
/// canonicalized, the rest joined to it as written (`.` dropped, `..` going up), so that
/// outputs in a directory not yet created compare too. `None`: no current directory.
pub(super) fn normalize(p: &Path) -> Option<PathBuf> {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(p)
    };
    let mut base = abs.as_path();
    let mut rest = Vec::new();
    let mut out = loop {
        if let Ok(c) = base.canonicalize() {
            break c;
        }
        rest.push(base.file_name()?.to_os_string());
        base = base.parent()?;
    };
    for name in rest.iter().rev() {
        match name.to_str() {
            Some(".") => {}
            Some("..") => {
                out.pop();
            }
            _ => out.push(name),
        }
    }
    Some(out)
}

/// The inputs every command shares beyond its media: `--preset FILE` and `--fake-transcript`.
pub(super) fn side_inputs(preset: Option<&str>, fake: Option<&Path>) -> Vec<(PathBuf, String)> {
    let mut v = Vec::new();
    if let Some(p) = preset.map(Path::new).filter(|p| p.is_file()) {
        v.push((p.to_path_buf(), "the --preset file".to_string()));
    }
    if let Some(f) = fake {
        v.push((f.to_path_buf(), "the --fake-transcript file".to_string()));
    }
    v
}

/// Refuses a run whose destinations meet its inputs or each other. `inputs`: what the run
/// reads, with what each is (for the message); `outputs`: each media input with the files
/// it writes; `report`: the `--report` file.
pub(super) fn check(
    inputs: &[(PathBuf, String)],
    outputs: &[(PathBuf, Vec<PathBuf>)],
    report: Option<&Path>,
) -> Result<()> {
    let read: BTreeMap<PathBuf, (&Path, &str)> = inputs
        .iter()
        .filter_map(|(p, what)| Some((p.canonicalize().ok()?, (p.as_path(), what.as_str()))))
        .collect();
    let mut written: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut dest = |d: &Path, by: Option<&Path>, flag: &str| -> Result<()> {
        let Some(n) = normalize(d) else {
            return Ok(());
        };
        if let Some((p, what)) = read.get(&n) {
            bail!(
                "{}: refusing to write {flag} over {what} {} (an input of this run is never a destination)",
                d.display(),
                p.display()
            );
        }
        if let Some(prev) = written.get(&n) {
            match by {
                Some(by) => bail!(
                    "{}: inputs {} and {} would both write this output; rename one or run them separately",
                    d.display(),
                    prev.display(),
                    by.display()
                ),
                None => bail!(
                    "{}: the report would overwrite an output of {}",
                    d.display(),
                    prev.display()
                ),
            }
        }
        if let Some(by) = by {
            written.insert(n, by.to_path_buf());
        }
        Ok(())
    };
    for (input, outs) in outputs {
        for o in outs {
            dest(o, Some(input), "an output")?;
        }
    }
    if let Some(r) = report {
        dest(r, None, "the report")?;
        writable_file(r, "--report")?;
    }
    Ok(())
}

/// [`check`] for a batch: its media inputs and `more` are read, each input writes
/// `expected(input)`.
pub(super) fn check_batch(
    batch: &super::batch::Batch,
    more: Vec<(PathBuf, String)>,
    expected: &dyn Fn(&Path) -> Vec<PathBuf>,
    report: Option<&Path>,
) -> Result<()> {
    let mut read: Vec<(PathBuf, String)> = batch
        .inputs
        .iter()
        .map(|p| (p.clone(), "the input".to_string()))
        .collect();
    read.extend(more);
    let outputs: Vec<(PathBuf, Vec<PathBuf>)> = batch
        .inputs
        .iter()
        .map(|p| (p.clone(), expected(p)))
        .collect();
    check(&read, &outputs, report)
}

/// Whether a file can be created at `p`: its directory exists and takes new files, and `p`
/// is not a directory.
pub(super) fn writable_file(p: &Path, flag: &str) -> Result<()> {
    if p.is_dir() {
        bail!("{}: {flag} names a directory, not a file", p.display());
    }
    let dir = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!(
            "{}: cannot write {flag}: directory {} does not exist",
            p.display(),
            dir.display()
        );
    }
    if let Err(e) = tempfile::Builder::new().prefix(".subcut-").tempfile_in(dir) {
        bail!(
            "{}: cannot write {flag} in {}: {}",
            p.display(),
            dir.display(),
            crate::output::why(&e)
        );
    }
    Ok(())
}
