//! R7: a clone with `core.autocrlf=true` (the Git for Windows default) is clean. Managed files
//! are compared and hashed in their LF form where git converted them, nothing is rewritten,
//! and sections go into a user's CRLF file in CRLF.

use super::repo::Hostile;

const PLATFORMS: &str = "claude-code,codex,cursor,agents-md";

#[test]
fn a_crlf_checkout_is_clean_and_stays_untouched() {
    let h = Hostile::new();
    let out = h.attacker(&["use", "sdlc", "--platforms", PLATFORMS]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    h.clone_as_teammate(&["core.autocrlf=true"]);
    // git really converted the files.
    let agents = h.read("AGENTS.md").unwrap();
    assert!(agents.windows(2).any(|w| w == b"\r\n"), "no CRLF checkout");
    let before = h.outside();
    let tree = |h: &Hostile| {
        let mut snap = super::repo::Snapshot::new();
        super::repo::walk(&h.victim(), &mut snap);
        snap.retain(|p, _| !p.starts_with(h.victim().join(".git")));
        snap
    };
    let checked_out = tree(&h);
    let out = h.run(&["check"]);
    assert_eq!(out.code, 0, "check is clean: {}{}", out.stdout, out.stderr);
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("nothing to change"), "{}", out.stderr);
    let after = tree(&h);
    let changed: Vec<_> = after
        .iter()
        .filter(|(p, n)| {
            checked_out.get(*p) != Some(*n) && !p.starts_with(h.victim().join(".aiwg"))
        })
        .map(|(p, _)| p)
        .collect();
    assert!(changed.is_empty(), "rewritten: {changed:?}");
    // Uninstall removes the CRLF files without `--force` and keeps none: they are still aiwg's.
    let out = h.run(&["uninstall"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(h.read("aiwg.lock").is_none(), "{}", out.stderr);
    assert!(!out.stderr.contains("kept"), "{}", out.stderr);
    h.assert_contained(&before);
}

#[test]
fn sections_go_into_a_users_crlf_file_in_crlf() {
    let h = Hostile::new();
    h.write("AGENTS.md", "# Mine\r\n\r\ntext\r\n");
    h.clone();
    let out = h.run(&["use", "sdlc", "--platforms", "claude-code,agents-md"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // AGENTS.md is the user's shared file that gets aiwg's sections (Claude Code reads the
    // rules in .claude/rules, so its CLAUDE.md needs no bridge section).
    let text = String::from_utf8(h.read("AGENTS.md").unwrap()).unwrap();
    assert!(text.starts_with("# Mine\r\n\r\ntext\r\n"), "{text:?}");
    assert!(text.contains("aiwg:begin"), "{text:?}");
    let lone_lf = text.replace("\r\n", "").contains('\n');
    assert!(!lone_lf, "mixed line endings: {text:?}");
    let out = h.run(&["check"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let out = h.run(&["uninstall"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(h.read("AGENTS.md").unwrap(), b"# Mine\r\n\r\ntext\r\n");
}
