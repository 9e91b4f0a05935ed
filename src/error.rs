//! How an error reaches the user: its chain on one line. `main` prints it after `error: `;
//! the batch summary, the watcher's journal and its `NAME.error.txt` files hold it too.

/// An error chain on one line: `file: cause: detail`, skipping repeats (a cause whose text
/// is already contained in the line so far).
pub fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for c in e.chain() {
        let s = c.to_string();
        if line.contains(&s) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&s);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_chain_is_joined_and_repeats_are_dropped() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        // A message that already quotes its cause (`{path}: {source}`) shows it once.
        let e = Err::<(), _>(io)
            .context("talk.mp4: entity not found")
            .context("cannot read the script")
            .unwrap_err();
        assert_eq!(
            one_line(&e),
            "cannot read the script: talk.mp4: entity not found"
        );
        let e = anyhow::anyhow!("boom").context("talk.mp4: decoding");
        assert_eq!(one_line(&e), "talk.mp4: decoding: boom");
    }
}
