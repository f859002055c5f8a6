//! The main commands as a user sees them: exit code, stdout and stderr of each, as inline
//! snapshots, through one project's life (use, a no-op apply, a source edit, a hand edit that
//! stops apply, --force, rollback --list, validate, uninstall). A change in any word shows here.

use crate::support::Test;

/// A git project with one agent and one rule in `.aiwg/`, no `aiwg.toml` yet.
fn project() -> Test {
    let t = Test::new();
    std::fs::create_dir_all(t.root().join(".git")).unwrap();
    t.write(
        ".aiwg/agents/reviewer.md",
        "---\nname: reviewer\ndescription: Reviews code\n---\nReview carefully.\n",
    )
    .write(
        ".aiwg/rules/commits.md",
        "---\ndescription: Commit style\nalways: true\n---\nWrite short commit subjects.\n",
    );
    t
}

/// `text` with every `YYYY-MM-DD HH:MM:SS` written `[TIME]`.
fn mask_times(text: &str) -> String {
    let shape = |w: &[u8]| {
        w.len() == 19
            && w.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                10 => *b == b' ',
                13 | 16 => *b == b':',
                _ => b.is_ascii_digit(),
            })
    };
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes.len() - i >= 19 && shape(&bytes[i..i + 19]) {
            out.push_str("[TIME]");
            i += 19;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn the_main_commands_through_a_projects_life() {
    let t = project();
    insta::assert_snapshot!(t.snap(&["use", ".aiwg", "--platforms", "claude-code,codex"]), @"
    exit 0
    --- stdout
    --- stderr
      claude-code     2 files  .claude/
      codex           2 files  .codex/, AGENTS.md
    4 created, 0 updated, 0 deleted, 0 unchanged
    note: 1 warning and 2 notes on how the platforms take this content (`aiwg status --notes` lists them)
    created `aiwg.toml`
    ");
    insta::assert_snapshot!(t.snap(&["apply"]), @"
    exit 0
    --- stdout
    --- stderr
    nothing to change: 4 files up to date
    ");

    // A source edit: diff, check and status say so; nothing is written.
    let text = t.read(".aiwg/agents/reviewer.md");
    t.write(
        ".aiwg/agents/reviewer.md",
        &text.replace("carefully", "twice"),
    );
    insta::assert_snapshot!(t.snap(&["diff", "--stat"]), @"
    exit 0
    --- stdout
    .claude/agents/reviewer.md  | +1 -1
    .codex/agents/reviewer.toml | +1 -1
    2 paths changed, 2 lines added, 2 removed
    --- stderr
    ");
    insta::assert_snapshot!(t.snap(&["check"]), @"
    exit 1
    --- stdout
    outdated	.claude/agents/reviewer.md
    outdated	.codex/agents/reviewer.toml
    --- stderr

    hint: `aiwg diff` shows the changes; `aiwg apply` makes them
    ");
    insta::assert_snapshot!(t.snap(&["status"]), @"
    exit 0
    --- stdout
    STATE     PATH                         ORIGIN
    outdated  .claude/agents/reviewer.md   agent:reviewer (.aiwg)
    ok        .claude/rules/commits.md     rule:commits (.aiwg)
    outdated  .codex/agents/reviewer.toml  agent:reviewer (.aiwg)
    ok        AGENTS.md [.aiwg:rules]      section:rules (.aiwg)
    --- stderr
    note: 1 warning and 2 notes on how the platforms take this content (`aiwg status --notes` lists them)
    ");

    // A hand edit of a managed file stops apply before it writes anything; --force backs it up.
    let edited = format!("{}hand\n", t.read(".claude/agents/reviewer.md"));
    t.write(".claude/agents/reviewer.md", &edited);
    insta::assert_snapshot!(t.snap(&["check"]), @"
    exit 1
    --- stdout
    edited	.claude/agents/reviewer.md
    outdated	.codex/agents/reviewer.toml
    --- stderr

    hint: `aiwg diff` shows the changes; a plain `aiwg apply` stops on the edited ones: `aiwg adopt <path>` takes an edit into its source, `aiwg apply --force` overwrites it after a backup
    ");
    insta::assert_snapshot!(t.snap(&["apply"]), @"
    exit 1
    --- stdout
    --- stderr
    conflict: `.claude/agents/reviewer.md`: edited since aiwg wrote it (wanted by `agent:reviewer` from `.aiwg`)

    hint: `aiwg diff` shows each change, conflicts included
    hint: `aiwg apply --force` overwrites edited files after a backup (`aiwg rollback` undoes it); stale edited files are kept and no longer managed
    error: apply stopped before writing anything
    ");
    assert_eq!(t.read(".claude/agents/reviewer.md"), edited);
    insta::assert_snapshot!(t.snap(&["apply", "--force"]), @"
    exit 0
    --- stdout
    --- stderr
    overwrote `.claude/agents/reviewer.md` (its old bytes are in generation 2, kept until you delete `.aiwg/history/2`)
      claude-code     1 file   .claude/
      codex           1 file   .codex/
    0 created, 2 updated, 0 deleted, 2 unchanged
    note: 1 warning and 2 notes on how the platforms take this content (`aiwg status --notes` lists them)
    ");
    insta::assert_snapshot!(mask_times(&t.snap(&["rollback", "--list"])), @"
    exit 0
    --- stdout
    GEN  TIME (UTC)           PATHS  COMMAND
    2    [TIME]      2  apply  (kept: the only copy of 1 file `--force` overwrote; delete `.aiwg/history/2` to drop it)
    1    [TIME]      4  apply
    --- stderr
    ");

    insta::assert_snapshot!(t.snap(&["rollback"]), @"
    exit 0
    --- stdout
    --- stderr
    rolled back generation 2: 2 paths restored (recorded as generation 3; `aiwg rollback` again redoes)
    ");
    assert_eq!(
        t.read(".claude/agents/reviewer.md"),
        edited,
        "rollback lost the hand edit"
    );

    // A broken source: validate names the file and line, with a hint.
    t.write(
        ".aiwg/agents/broken.md",
        "---\ndescription: *alias\n---\nBody.\n",
    );
    insta::assert_snapshot!(t.snap(&["validate"]), @r#"
    exit 2
    --- stdout
    .aiwg/agents/broken.md:2: error: invalid YAML: while parsing node, found unknown anchor
      hint: quote a value that contains `: ` or ` #`, or starts with `[`, `{`, `*`, `&`, `!`, `|`, `>`, `%` or `@` (`description: "Use: this"`)
    --- stderr
    validated 1 source, 2 artifacts: 1 error, 0 warnings
    "#);
    std::fs::remove_file(t.root().join(".aiwg/agents/broken.md")).unwrap();

    // Uninstall: a dry run in a few lines, then nothing of aiwg is left but the hand-edited
    // file, kept and no longer managed.
    insta::assert_snapshot!(t.snap(&["uninstall", "--dry-run", "--stat"]), @"
    exit 0
    --- stdout
    .claude/agents/reviewer.md  | +0 -0  (conflict: no longer wanted, but edited since aiwg wrote it)
    .claude/rules/commits.md    | +0 -1
    .codex/agents/reviewer.toml | +0 -5
    AGENTS.md                   | +0 -5
    4 paths changed, 0 lines added, 11 removed
    --- stderr
    dry run: 0 created, 0 updated, 3 deleted, 0 unchanged, 1 conflict
    would remove `.aiwg/history/`, `.aiwg/check-cache`, aiwg's lines in `.git/info/exclude`, `aiwg.toml`
    ");
    insta::assert_snapshot!(t.snap(&["uninstall"]), @"
    exit 0
    --- stdout
    --- stderr
    kept `.claude/agents/reviewer.md`: edited since aiwg wrote it, no longer managed
    0 created, 0 updated, 3 deleted, 1 unchanged
    removed `.aiwg/history/`, `.aiwg/check-cache`, aiwg's lines in `.git/info/exclude`, `aiwg.toml`
    ");
    assert!(!t.exists("aiwg.toml") && !t.exists("aiwg.lock") && !t.exists(".codex"));
    assert_eq!(t.read(".claude/agents/reviewer.md"), edited);
    assert!(!t.exists(".claude/rules"));
    assert!(
        t.exists(".aiwg/agents/reviewer.md"),
        "uninstall took a source"
    );
}
