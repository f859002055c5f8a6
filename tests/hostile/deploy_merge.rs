//! R12: an edited hook item inside a merged settings file is `edited`, not `missing`: apply
//! stops instead of appending the hook a second time, `--force` puts aiwg's item back where it
//! stands, and uninstall keeps the edited item and says so.

use super::repo::Hostile;

#[test]
fn an_edited_hook_item_in_a_clone_is_edited_not_missing() {
    let h = Hostile::new();
    h.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    )
    .write(
        ".aiwg/behaviors/g/BEHAVIOR.md",
        "---\nname: g\ndescription: Guards writes.\nevent: PreToolUse\nmatcher: Write|Edit\ncommand: scripts/g.sh\n---\n\n# g\n\nGuards.\n",
    )
    .write_exec(".aiwg/behaviors/g/scripts/g.sh", "#!/bin/sh\nexit 0\n");
    let out = h.attacker(&["apply", "--allow-hooks"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    h.clone_as_teammate(&[]);
    let before = h.outside();
    let settings = h.victim().join(".claude/settings.json");
    let deployed = std::fs::read_to_string(&settings).unwrap();
    let edited = deployed.replace("/scripts/g.sh\"", "/scripts/g.sh --strict\"");
    assert_ne!(edited, deployed, "{deployed}");
    std::fs::write(&settings, &edited).unwrap();
    let out = h.run(&["status"]);
    assert!(
        out.stdout.contains("edited  .claude/settings.json"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    let out = h.run(&["apply", "--allow-hooks"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("edited since aiwg wrote it"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        edited,
        "not appended twice"
    );
    let out = h.run(&["apply", "--force", "--allow-hooks"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), deployed);
    std::fs::write(&settings, &edited).unwrap();
    let out = h.run(&["uninstall"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("kept `.claude/settings.json`"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), edited);
    h.assert_contained(&before);
}
