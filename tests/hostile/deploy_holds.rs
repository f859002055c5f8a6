//! What already held in the review (hostile-repos.md §2), kept as regression cases in a clone:
//! a clean project applies, checks, rolls back and uninstalls without reaching outside the work
//! tree, and the symlinks that lead out of it are never followed.

use super::repo::Hostile;

#[test]
fn a_clean_clone_deploys_and_uninstalls_inside_its_work_tree() {
    let h = Hostile::new();
    h.project();
    h.clone();
    let before = h.outside();
    for args in [
        &["apply"][..],
        &["check"],
        &["rollback"],
        &["apply"],
        &["uninstall"],
    ] {
        let out = h.run(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    }
    h.assert_contained(&before);
    assert!(h.read(".claude/agents/docs.md").is_none());
    assert!(h.read("aiwg.lock").is_none());
}

#[test]
fn a_committed_link_to_outside_the_root_is_never_written_through() {
    // Case 4.1: `.claude` is a committed link to a folder outside the clone.
    let h = Hostile::new();
    h.project().symlink(".claude", "../home");
    h.clone();
    let before = h.outside();
    for args in [&["apply"][..], &["apply", "--force"]] {
        let out = h.run(args);
        assert_ne!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("symlink leads outside the root"),
            "{}",
            out.stderr
        );
    }
    let out = h.run(&["uninstall"]);
    assert!(
        out.stderr.contains("nothing to uninstall"),
        "{}",
        out.stderr
    );
    h.assert_contained(&before);
}
