//! Committed symlinks at the temp names aiwg's own edits write through (`aiwg adopt` wrote
//! `<source>.aiwg-adopt.tmp` beside the source file it rewrites): never written through.
//! (A link there that leads out of the source is refused when the source is read.)

use super::repo::Hostile;

/// A committed `.aiwg/agents/docs.aiwg-adopt.tmp -> docs.md`: `aiwg adopt` of the user's hand
/// edit wrote the adopted text through the link, then renamed the link over the source, which
/// became a link to itself (the source broken, the adopted edit lost; review19).
#[test]
fn adopt_never_writes_through_a_link_at_its_temp_name() {
    let h = Hostile::new();
    h.project()
        .symlink(".aiwg/agents/docs.aiwg-adopt.tmp", "docs.md");
    h.clone();
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let deployed = h.victim().join(".claude/agents/docs.md");
    let edited = std::fs::read_to_string(&deployed)
        .unwrap()
        .replace("Write the docs.", "Write the docs, then the tests.");
    std::fs::write(&deployed, &edited).unwrap();
    let before = h.outside();
    let out = h.run(&["adopt", ".claude/agents/docs.md"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let source = h.victim().join(".aiwg/agents/docs.md");
    assert!(
        std::fs::symlink_metadata(&source).unwrap().is_file(),
        "the source is a file, not the planted link"
    );
    let text = std::fs::read_to_string(&source).unwrap();
    assert!(text.contains("then the tests."), "{text}");
    let out = h.run(&["apply"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    h.assert_contained(&before);
}
