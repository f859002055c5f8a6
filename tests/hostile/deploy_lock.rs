//! R3: a committed `aiwg.lock` entry naming a file in a git folder or aiwg's own state is an
//! error naming the lock file and line, never a stale file to delete (or a section to cut, or
//! keys to remove).

use sha2::{Digest as _, Sha256};

use super::repo::Hostile;

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A lock entry saying aiwg wrote `bytes` at `path` as a whole file (so a plain apply would
/// delete it as stale).
fn entry(path: &str, bytes: &[u8]) -> String {
    format!(
        "\n[[file]]\npath = \"{path}\"\nmode = \"file\"\nsha256 = \"{}\"\nsize = {}\nsource = \".aiwg\"\nartifact = \"agent:old\"\nplatforms = [\"claude-code\"]\n",
        sha(bytes),
        bytes.len()
    )
}

/// The 1-based line of `path = "<path>"` in `lock`.
fn line_of(lock: &str, path: &str) -> usize {
    let needle = format!("path = \"{path}\"");
    lock.lines()
        .position(|l| l == needle)
        .expect("entry written")
        + 1
}

/// Deploys in the origin as the attacker, appends `extra` to the lock, commits and clones.
fn hostile_lock(extra: &[(&str, &[u8])]) -> (Hostile, String) {
    let h = Hostile::new();
    h.project();
    let out = h.attacker(&["apply"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut lock = String::from_utf8(std::fs::read(h.origin().join("aiwg.lock")).unwrap()).unwrap();
    for (path, bytes) in extra {
        lock.push_str(&entry(path, bytes));
    }
    h.write("aiwg.lock", &lock);
    h.clone();
    (h, lock)
}

#[test]
fn a_lock_entry_inside_git_or_aiwg_state_is_an_error_naming_the_line() {
    let head = b"ref: refs/heads/main\n";
    let cases: &[(&str, &[u8])] = &[
        (".git/HEAD", head),
        (".GIT/HEAD", head),
        (".git./HEAD", head),
        ("git~1/HEAD", head),
        ("vendor/lib/.git/config", b"[core]\n"),
        (".aiwg/agents/docs.md", b"x"),
        (
            "aiwg.toml",
            b"sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
        ),
        ("aiwg.lock", b"x"),
    ];
    for (path, bytes) in cases {
        let (h, lock) = hostile_lock(&[(path, bytes)]);
        let config = h.read("aiwg.toml").unwrap();
        let line = line_of(&lock, path);
        for args in [
            &["apply"][..],
            &["apply", "--force"],
            &["check"],
            &["status"],
            &["uninstall"],
            &["remove", ".aiwg"],
        ] {
            let before = h.outside();
            let out = h.run(args);
            assert_eq!(out.code, 2, "{path} {args:?}: {}", out.stderr);
            assert!(
                out.stderr.contains(&format!("aiwg.lock:{line}:")) && out.stderr.contains(path),
                "{path} {args:?}: the error names the lock line and the entry: {}",
                out.stderr
            );
            assert!(out.stderr.contains("hint:"), "{}", out.stderr);
            h.assert_contained(&before);
            assert_eq!(h.read("aiwg.toml").unwrap(), config, "{path} {args:?}");
            assert_eq!(
                h.read("aiwg.lock").unwrap(),
                lock.as_bytes(),
                "{path} {args:?}"
            );
        }
        assert_eq!(
            std::fs::read(h.victim().join(".git/HEAD")).unwrap(),
            head,
            "{path}"
        );
    }
}

#[test]
fn a_section_or_merge_entry_in_git_config_is_refused_too() {
    let h = Hostile::new();
    h.project();
    assert_eq!(h.attacker(&["apply"]).code, 0);
    let mut lock = String::from_utf8(std::fs::read(h.origin().join("aiwg.lock")).unwrap()).unwrap();
    lock.push_str(&format!(
        "\n[[file]]\npath = \".git/config\"\npart = \"section:x\"\nmode = \"section\"\nsha256 = \"{}\"\nsize = 0\nsource = \".aiwg\"\nartifact = \"rule:x\"\nplatforms = [\"claude-code\"]\n",
        sha(b"")
    ));
    h.write("aiwg.lock", &lock);
    h.clone();
    let before = h.outside();
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let line = line_of(&lock, ".git/config");
    assert!(
        out.stderr.contains(&format!("aiwg.lock:{line}:")),
        "{}",
        out.stderr
    );
    h.assert_contained(&before);
}
