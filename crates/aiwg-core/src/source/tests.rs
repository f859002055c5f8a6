//! Loader tests: one `check(files, expect)` per diagnostic, layout cases, disk reading
//! (symlinks, caps, VCS folders) and a garbage-input robustness test.

use super::*;
use crate::test_rng::Rng;

fn tree(files: &[(&str, &[u8])]) -> SourceTree {
    SourceTree::from_files(
        "src",
        "src",
        files
            .iter()
            .map(|(path, bytes)| SourceFile {
                path: RelPath::new(path).unwrap(),
                bytes: bytes.to_vec(),
                executable: path.ends_with(".sh"),
            })
            .collect(),
    )
}

fn lines(loaded: &Loaded) -> Vec<String> {
    let mut diags = loaded.diagnostics.clone();
    diags.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    diags
        .iter()
        .map(|d| d.to_string().lines().next().unwrap().to_string())
        .collect()
}

/// Loads `files` and compares every diagnostic's first line (`path:line: level: message`).
fn check(files: &[(&str, &str)], expect: &[&str]) -> Loaded {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let loaded = load(&tree(&files));
    assert_eq!(lines(&loaded), expect, "files: {files:?}");
    loaded
}

const AGENT: &str = "---\nname: code-reviewer\ndescription: Reviews code\nmodel: opus\ntools: Read, Grep\n---\nYou review code.\n";
const SKILL: &str =
    "---\nname: pdf\ndescription: Reads PDFs\nlicense: MIT\n---\n# PDF\nUse scripts/x.sh.\n";
const RUNBOOK: &str = "---\nname: deploy\ndescription: Deploys\n---\n# Deploy {service}\n## Purpose\nx\n## Prerequisites\nx\n## Procedure\n### Stage 1: Go\n**Gate**: ok\n## Verification\nx\n## Rollback\n**Trigger**: bad\n## Agent Rules\n1. Be careful.\n2. Escalate when unsure.\n## Audit Trail\nx\n";
const BEHAVIOR: &str = "---\nname: guard\ndescription: Guards writes\nevent: PreToolUse\nmatcher: Write|Edit\ncommand: scripts/guard.sh\n---\nBlocks secrets.\n";

#[test]
fn loads_every_kind_clean() {
    let loaded = check(
        &[
            ("agents/code-reviewer.md", AGENT),
            ("skills/pdf/SKILL.md", SKILL),
            ("skills/pdf/scripts/x.sh", "echo\n"),
            (
                "commands/review.md",
                "---\ndescription: Review\nargument-hint: \"[path]\"\n---\nReview $ARGUMENTS\n",
            ),
            ("rules/style.md", "# Style\nUse four spaces.\n"),
            ("behaviors/guard/BEHAVIOR.md", BEHAVIOR),
            ("behaviors/guard/scripts/guard.sh", "exit 0\n"),
            ("runbooks/deploy.md", RUNBOOK),
        ],
        &[],
    );
    let got: Vec<(Kind, &str, usize)> = loaded
        .artifacts
        .iter()
        .map(|a| (a.kind, a.name.as_str(), a.assets.len()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Kind::Agent, "code-reviewer", 0),
            (Kind::Behavior, "guard", 1),
            (Kind::Command, "review", 0),
            (Kind::Rule, "style", 0),
            (Kind::Runbook, "deploy", 0),
            (Kind::Skill, "pdf", 1),
        ]
    );
    let skill = &loaded.artifacts[5];
    assert_eq!(skill.assets[0].path.as_str(), "scripts/x.sh");
    assert!(skill.assets[0].executable);
    assert_eq!(skill.body_line, 6);
    assert_eq!(skill.frontmatter.license().as_deref(), Some("MIT"));
    assert_eq!(
        loaded.artifacts[2].frontmatter.argument_hint().as_deref(),
        Some("[path]")
    );
    assert_eq!(loaded.artifacts[0].source, "src");
}

#[test]
fn yaml_and_encoding_errors_carry_the_file_line() {
    check(
        &[(
            "agents/a.md",
            "---\nname: a\ndescription: ok\ntools: [Read\nmodel: opus\n---\nBody\n",
        )],
        &["src/agents/a.md:5: error: invalid YAML: illegal placement of ':' indicator"],
    );
    check(
        &[("agents/a.md", "---\nname: a\ndescription: x\n")],
        &["src/agents/a.md:1: error: frontmatter opened with `---` is never closed"],
    );
    check(
        &[("agents/a.md", "---\n- a\n- b\n---\nBody\n")],
        &["src/agents/a.md:2: error: frontmatter is not a mapping of `key: value` lines"],
    );
    let loaded = load(&tree(&[(
        "agents/a.md",
        b"---\ndescription: x\n---\nok\n\xff\xfe\n",
    )]));
    assert_eq!(
        lines(&loaded),
        ["src/agents/a.md:5: error: file is not UTF-8"]
    );
    assert!(loaded.artifacts.is_empty());
}

#[test]
fn descriptions() {
    check(
        &[("agents/a.md", "---\nname: a\n---\n# Only a heading\n")],
        &["src/agents/a.md:1: error: missing `description`"],
    );
    let loaded = check(
        &[("skills/pdf/SKILL.md", "# PDF\n\nReads PDF files\nquickly.\n")],
        &["src/skills/pdf/SKILL.md:1: warning: no `description` in the frontmatter; the first paragraph is used"],
    );
    assert_eq!(
        loaded.artifacts[0].description(),
        "Reads PDF files quickly."
    );
    let long = format!(
        "---\nname: a\ntools: Read\ndescription: {}\n---\nBody\n",
        "x".repeat(1025)
    );
    check(
        &[("agents/a.md", &long)],
        &["src/agents/a.md:4: error: description is 1025 characters long; the limit is 1024"],
    );
    check(&[("rules/r.md", "Plain rule.\n")], &[]);
}

#[test]
fn names() {
    let long = format!("---\nname: {}\ndescription: d\n---\nBody\n", "a".repeat(65));
    check(
        &[("agents/a.md", &long)],
        &["src/agents/a.md:2: error: name is 65 characters long; the limit is 64"],
    );
    check(
        &[("skills/pdf/SKILL.md", "---\nname: pdf-tools\ndescription: d\n---\nBody\n")],
        &["src/skills/pdf/SKILL.md:2: error: skill name `pdf-tools` does not match its folder `pdf`"],
    );
    check(
        &[("skills/Pdf_Tools/SKILL.md", "---\ndescription: d\n---\nBody\n")],
        &["src/skills/Pdf_Tools/SKILL.md:1: error: skill name `Pdf_Tools` may only hold lowercase letters, digits and `-` (Agent Skills spec)"],
    );
    check(
        &[("skills/a--b/SKILL.md", "---\ndescription: d\n---\nBody\n")],
        &["src/skills/a--b/SKILL.md:1: error: skill name `a--b` may not hold `--` (Agent Skills spec)"],
    );
    let loaded = check(
        &[(
            "agents/Code_Reviewer.md",
            "---\nname: Code Reviewer!\ndescription: d\n---\nBody\n",
        )],
        &[],
    );
    assert_eq!(loaded.artifacts[0].name, "code-reviewer");
    let loaded = check(
        &[
            ("agents/a.md", "---\nname: ../../etc/passwd\ndescription: d\n---\nBody\n"),
            ("agents/b.md", "---\nname: con\ndescription: d\n---\nBody\n"),
            ("agents/c.md", "---\nname: \"!!!\"\ndescription: d\n---\nBody\n"),
            ("skills/x/SKILL.md", "---\nname: ..\ndescription: d\n---\nBody\n"),
        ],
        &[
            "src/agents/a.md:2: error: name `../../etc/passwd` would leave its folder",
            "src/agents/b.md:2: error: name `con` is a device name on Windows and cannot be a file name",
            "src/agents/c.md:2: error: name `!!!` has no letter or digit to make a file name from",
            "src/skills/x/SKILL.md:2: error: name `..` would leave its folder",
            "src/skills/x/SKILL.md:2: error: skill name `..` does not match its folder `x`",
        ],
    );
    // Only names that are safe file names reach the model.
    let names: Vec<&str> = loaded.artifacts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["etcpasswd"]);
}

#[test]
fn look_alike_names_nuls_and_case_only_paths_are_reported() {
    // R20: a Cyrillic `е` would be dropped in silence, deploying `reviwer`.
    check(
        &[("agents/revi\u{435}wer.md", "---\ndescription: d\n---\nBody\n")],
        &["src/agents/revi\u{435}wer.md:1: error: name `revi\u{435}wer` holds `\u{435}` (U+0435), which is not in `a-z`, `0-9` or `-`; it would be deployed as `reviwer`"],
    );
    check(
        &[(
            "agents/z.md",
            "---\ndescription: d\n---\nbefore\n\nx\0after\n",
        )],
        &["src/agents/z.md:6: warning: holds a NUL character"],
    );
    // R21: one file on a case-insensitive file system.
    check(
        &[
            ("skills/s/Guide.md", "A\n"),
            ("skills/s/SKILL.md", "---\ndescription: d\n---\nBody\n"),
            ("skills/s/guide.md", "B\n"),
        ],
        &["src/skills/s/guide.md: error: `src/skills/s/Guide.md` and `src/skills/s/guide.md` differ only in case: on macOS and Windows they are one file"],
    );
}

#[test]
fn duplicates_name_both_files() {
    check(
        &[
            ("agents/Code_Reviewer.md", "---\ndescription: d\n---\nBody\n"),
            ("agents/code-reviewer.md", "---\ndescription: d\n---\nBody\n"),
            ("commands/a/x.md", "---\ndescription: d\n---\nBody\n"),
            ("commands/b/x.md", "---\ndescription: d\n---\nBody\n"),
            ("rules/x.md", "Body\n"),
        ],
        &[
            "src/agents/code-reviewer.md:1: error: duplicate agent name `code-reviewer`: `src/agents/Code_Reviewer.md` and `src/agents/code-reviewer.md`",
            "src/commands/b/x.md:1: error: duplicate command name `x`: `src/commands/a/x.md` and `src/commands/b/x.md`",
        ],
    );
    let a = tree(&[("agents/x.md", b"---\ndescription: d\n---\nBody\n")]);
    let mut b = a.clone();
    b.name = "other".into();
    b.display_root = "other".into();
    let all = load_all(&mut [a, b]);
    assert_eq!(
        lines(&all),
        ["other/agents/x.md:1: error: duplicate agent name `x`: `src/agents/x.md` and `other/agents/x.md`"]
    );
    assert_eq!(all.artifacts.len(), 1);
}

#[test]
fn bodies_models_and_key_shapes() {
    check(
        &[
            ("agents/a.md", "---\ndescription: d\n---\n\n  \n"),
            (
                "behaviors/b/BEHAVIOR.md",
                "---\ndescription: d\nevent: Stop\ncommand: run.sh\n---\n",
            ),
            ("behaviors/b/run.sh", "exit 0\n"),
        ],
        &[
            "src/agents/a.md:4: error: body is empty",
            "src/behaviors/b/BEHAVIOR.md:6: warning: body is empty",
        ],
    );
    check(
        &[(
            "agents/a.md",
            "---\ndescription: d\nmodel: my model\ntools:\n  x: 1\nalways: \"yes\"\nmetadata: [a]\nname: [a, b]\n---\nBody\n",
        )],
        &[
            "src/agents/a.md:3: warning: model `my model` is neither a tier nor a model id",
            "src/agents/a.md:4: error: `tools` must be a value or a list of values",
            "src/agents/a.md:6: error: `always` must be `true` or `false`",
            "src/agents/a.md:7: error: `metadata` must be a map of `key: value` lines",
            "src/agents/a.md:8: error: `name` must be a single value, not a list or map",
        ],
    );
    check(
        &[(
            "agents/a.md",
            "---\ndescription: d\nmodel: claude-opus-4-1-20250805\n---\nBody\n",
        )],
        &[],
    );
}

#[test]
fn skill_spec_fields() {
    let text = format!(
        "---\nname: s\ndescription: d\ncompatibility: {}\nmetadata:\n  version: 2\n---\nBody\n",
        "c".repeat(501)
    );
    check(
        &[("skills/s/SKILL.md", &text)],
        &[
            "src/skills/s/SKILL.md:4: error: compatibility is 501 characters long; the limit is 500",
            "src/skills/s/SKILL.md:5: warning: metadata `version` is 2; the Agent Skills spec wants strings",
        ],
    );
}

#[test]
fn behaviors() {
    check(
        &[
            ("behaviors/a/BEHAVIOR.md", "---\ndescription: d\n---\nBody\n"),
            ("behaviors/b/BEHAVIOR.md", "---\ndescription: d\nevent: pretooluse\ncommand: scripts/missing.sh\n---\nBody\n"),
            ("behaviors/b/scripts/other.sh", "exit 0\n"),
            ("behaviors/c/BEHAVIOR.md", "---\ndescription: d\nevent: OnSave\ncommand: ../../x.sh\n---\nBody\n"),
        ],
        &[
            "src/behaviors/a/BEHAVIOR.md:1: error: behavior has no `event`",
            "src/behaviors/a/BEHAVIOR.md:1: error: behavior has no `command`",
            "src/behaviors/b/BEHAVIOR.md:3: error: hook event `pretooluse` is spelt `PreToolUse`",
            "src/behaviors/b/BEHAVIOR.md:4: error: `command` names `scripts/missing.sh`, which is not in `behaviors/b/`",
            "src/behaviors/c/BEHAVIOR.md:3: warning: `OnSave` is not a hook event aiwg knows",
            "src/behaviors/c/BEHAVIOR.md:4: error: `command` must be a path inside `behaviors/c/`: path `../../x.sh` leaves its folder (`..`)",
        ],
    );
}

#[test]
fn runbook_sections_are_warnings() {
    check(
        &[("runbooks/r.md", "---\nname: r\ndescription: d\n---\n# R {host}\n## Purpose\nx\n## Procedure\n### Stage 1\nno gate\n")],
        &[
            "src/runbooks/r.md:5: warning: runbook has no `## Prerequisites` section",
            "src/runbooks/r.md:5: warning: runbook has no `## Verification` section",
            "src/runbooks/r.md:5: warning: runbook has no `## Rollback` section",
            "src/runbooks/r.md:5: warning: runbook has no `## Agent Rules` section",
            "src/runbooks/r.md:5: warning: runbook has no `## Audit Trail` section",
            "src/runbooks/r.md:9: warning: stage `Stage 1` has no `**Gate**:` line",
        ],
    );
}

#[test]
fn skills_take_the_templates_and_runbooks_they_name() {
    let loaded = check(
        &[
            ("skills/deploy/SKILL.md", "---\ndescription: d\n---\nFollow `runbooks/deploy.md` and fill\ntemplates/report.md. Also templates/forms/,\nnot a/templates/x.md, and templates/missing.md.\n"),
            ("skills/deploy/templates/report.md", "own copy\n"),
            ("runbooks/deploy.md", RUNBOOK),
            ("templates/report.md", "shared copy\n"),
            ("templates/forms/a.md", "a\n"),
            ("templates/forms/b.md", "b\n"),
        ],
        &["src/skills/deploy/SKILL.md:6: warning: names `templates/missing.md`, which the source does not have"],
    );
    let skill = loaded
        .artifacts
        .iter()
        .find(|a| a.kind == Kind::Skill)
        .unwrap();
    let assets: Vec<(&str, &[u8])> = skill
        .assets
        .iter()
        .map(|a| (a.path.as_str(), a.bytes.as_slice()))
        .collect();
    assert_eq!(
        assets,
        vec![
            ("templates/report.md", b"own copy\n".as_slice()),
            ("runbooks/deploy.md", RUNBOOK.as_bytes()),
            ("templates/forms/a.md", b"a\n".as_slice()),
            ("templates/forms/b.md", b"b\n".as_slice()),
        ]
    );
}

#[test]
fn non_artifacts_are_skipped_and_misplaced_skills_reported() {
    let loaded = check(
        &[
            ("README.md", "# Framework\n"),
            ("framework.toml", "name = \"x\"\n"),
            ("manifest.json", "{}\n"),
            ("docs/guide.md", "# Guide\n"),
            ("flows/x.md", "# Flow\n"),
            ("agents/README.md", "# Agents\n"),
            ("agents/agent-template.md", "---\nname: {name}\n"),
            ("agents/openai-compat.md", "notes\n"),
            ("agents/manifest.json", "{}\n"),
            ("agents/enhancements/x.md", "# x\n"),
            ("commands/templates/t.md", "# template\n"),
            (
                "commands/flow/gate-check.md",
                "---\ndescription: d\n---\nCheck.\n",
            ),
            ("rules/RULES-INDEX.md", "# Index\n"),
            ("rules/nested/x.md", "x\n"),
            ("skills/manifest.json", "{}\n"),
            ("skills/README.md", "# Skills\n"),
            ("skills/flat.md", "# Flat\n"),
            ("skills/nomain/notes.md", "notes\n"),
            ("templates/t.md", "t\n"),
        ],
        &[
            "src/skills/flat.md: warning: not loaded: a skill is a folder with a `SKILL.md`",
            "src/skills/nomain: warning: folder has no `SKILL.md`; its files are not loaded",
        ],
    );
    let names: Vec<String> = loaded.artifacts.iter().map(|a| a.id()).collect();
    assert_eq!(names, ["command:gate-check"]);
}

#[test]
fn crlf_and_bom() {
    let loaded = check(
        &[(
            "agents/a.md",
            "\u{feff}---\r\nname: a\r\ndescription: d\r\n---\r\nBody\r\n",
        )],
        &[],
    );
    assert_eq!(loaded.artifacts[0].description(), "d");
    assert_eq!(loaded.artifacts[0].body, "Body\r\n");
}

#[test]
fn size_caps_in_memory() {
    let big_main = format!("---\ndescription: d\n---\n{}", "x".repeat(1 << 20));
    let big_asset = vec![b'x'; (10 << 20) + 1];
    let loaded = load(&tree(&[
        ("agents/a.md", big_main.as_bytes()),
        ("skills/s/SKILL.md", b"---\ndescription: d\n---\nBody\n"),
        ("skills/s/data.bin", &big_asset),
    ]));
    assert_eq!(
        lines(&loaded),
        [
            "src/agents/a.md: error: file is 1048599 bytes; the cap for an artifact file is 1 MiB",
            "src/skills/s/data.bin: error: file is 10485761 bytes; the cap for an asset is 10 MiB",
        ]
    );
    assert_eq!(loaded.artifacts.len(), 1);
    assert!(loaded.artifacts[0].assets.is_empty());
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn reads_only_source_folders_and_skips_vcs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "agents/a.md", AGENT);
    write(root, "agents/.git/HEAD", "ref\n");
    write(root, ".git/config", "x\n");
    write(root, "docs/big.md", "not read\n");
    write(root, "README.md", "not read\n");
    write(root, "templates/t.md", "t\n");
    let (tree, diags) = SourceTree::read_dir_as("x", root, Path::new("shown"));
    assert_eq!(diags, vec![]);
    let paths: Vec<&str> = tree.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["agents/a.md", "templates/t.md"]);
    assert_eq!(tree.display_root, Path::new("shown"));
}

#[test]
fn caps_are_checked_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "skills/s/SKILL.md", SKILL);
    let big = std::fs::File::create(root.join("skills/s/huge.bin")).unwrap();
    big.set_len((10 << 20) + 1).unwrap();
    let main = std::fs::File::create(root.join("skills/t/SKILL.md")).unwrap_or_else(|_| {
        std::fs::create_dir_all(root.join("skills/t")).unwrap();
        std::fs::File::create(root.join("skills/t/SKILL.md")).unwrap()
    });
    main.set_len((1 << 20) + 1).unwrap();
    let (tree, diags) = SourceTree::read_dir("x", root);
    let msgs: Vec<String> = diags
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d.path.strip_prefix(root).unwrap().display(),
                d.message
            )
        })
        .collect();
    assert_eq!(
        msgs,
        [
            "skills/s/huge.bin: file is 10485761 bytes; the cap for an asset is 10 MiB",
            "skills/t/SKILL.md: file is 1048577 bytes; the cap for an artifact file is 1 MiB",
        ]
    );
    assert_eq!(tree.files.len(), 1);
}

#[cfg(unix)]
#[test]
fn symlinks_inside_are_followed_outside_refused() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "secret.md",
        "---\ndescription: d\n---\nsecret\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "templates/t.md", "t\n");
    write(root, "skills/s/SKILL.md", SKILL);
    std::fs::create_dir_all(root.join("agents")).unwrap();
    symlink(
        outside.path().join("secret.md"),
        root.join("agents/leak.md"),
    )
    .unwrap();
    symlink(outside.path(), root.join("rules")).unwrap();
    symlink(root.join("templates/t.md"), root.join("skills/s/t.md")).unwrap();
    symlink(root.join("skills"), root.join("skills/s/loop")).unwrap();
    symlink(root.join("nowhere"), root.join("skills/s/broken")).unwrap();
    let (tree, diags) = SourceTree::read_dir_as("x", root, Path::new("src"));
    let mut msgs: Vec<String> = diags
        .iter()
        .map(|d| format!("{}: {}", d.path.display(), d.message))
        .collect();
    msgs.sort();
    let outside_canon = outside.path().canonicalize().unwrap();
    assert_eq!(msgs.len(), 4, "{msgs:?}");
    assert_eq!(
        msgs[0],
        format!(
            "src/agents/leak.md: symlink points outside the source (to `{}`); refused",
            outside_canon.join("secret.md").display()
        )
    );
    assert_eq!(
        msgs[1],
        format!(
            "src/rules: symlink points outside the source (to `{}`); refused",
            outside_canon.display()
        )
    );
    assert!(
        msgs[2].starts_with("src/skills/s/broken: symlink is broken"),
        "{}",
        msgs[2]
    );
    assert_eq!(
        msgs[3],
        "src/skills/s/loop: symlink loops back to a folder that holds it; skipped"
    );
    let paths: Vec<&str> = tree.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["skills/s/SKILL.md", "skills/s/t.md", "templates/t.md"]
    );
}

#[cfg(unix)]
#[test]
fn bad_file_names_are_reported() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "rules/con.md", "x\n");
    let bad = std::ffi::OsStr::from_bytes(b"bad\xff.md");
    std::fs::write(root.join("rules").join(bad), "x\n").unwrap();
    let (_, diags) = SourceTree::read_dir_as("x", root, Path::new("src"));
    let msgs: Vec<String> = diags
        .iter()
        .map(|d| format!("{}: {}", d.path.display(), d.message))
        .collect();
    assert_eq!(
        msgs,
        [
            "src/rules/bad\u{fffd}.md: file name is not UTF-8 and cannot be deployed",
            "src/rules/con.md: file cannot be deployed: path `rules/con.md` has a component that Windows reserves (`con.md`)",
        ]
    );
}

#[test]
fn garbage_never_panics() {
    let paths = [
        "agents/a.md",
        "agents/b.md",
        "skills/s/SKILL.md",
        "skills/s/x",
        "skills/t/SKILL.md",
        "commands/c.md",
        "commands/d/e.md",
        "rules/r.md",
        "behaviors/b/BEHAVIOR.md",
        "behaviors/b/run.sh",
        "runbooks/r.md",
        "templates/t.md",
    ];
    let pieces: [&[u8]; 32] = [
        b"---\n",
        b"---",
        b"...\n",
        b"name: ",
        b"description: ",
        b"model: ",
        b"tools:\n  - ",
        b"event: ",
        b"command: ",
        b"run.sh",
        b"con",
        b"../",
        b"{a}",
        b"{",
        b"}",
        b"[",
        b"]",
        b"\n",
        b"\r\n",
        b" ",
        b"\t",
        b"# H\n",
        b"## Procedure\n",
        b"### S\n",
        b"**Gate**",
        b"```\n",
        b"\xff",
        b"\xe2\x82",
        b"\xef\xbb\xbf",
        b"templates/t.md",
        b": :",
        b"&a *a",
    ];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..2000 {
        let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
        for _ in 0..rng.below(6) + 1 {
            let path = paths[rng.below(paths.len())];
            let mut bytes = Vec::new();
            for _ in 0..rng.below(24) {
                if rng.below(8) == 0 {
                    bytes.push(rng.next() as u8);
                } else {
                    bytes.extend_from_slice(pieces[rng.below(pieces.len())]);
                }
            }
            files.push((path, bytes));
        }
        files.sort_by(|a, b| a.0.cmp(b.0));
        files.dedup_by(|a, b| a.0 == b.0);
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
        let loaded = load(&tree(&refs));
        for a in &loaded.artifacts {
            assert!(validate::is_safe_name(&a.name), "{:?}", a.name);
        }
        for d in &loaded.diagnostics {
            let _ = d.to_string();
        }
    }
}

/// Many files are read on several threads: the tree and the diagnostics (in walk order) must
/// be what reading one by one gives.
#[cfg(unix)]
#[test]
fn many_files_read_in_parallel_keep_bytes_modes_and_diagnostic_order() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut expected = Vec::new();
    for i in 0..300 {
        let rel = format!("skills/s{i:03}/SKILL.md");
        let text = format!("---\nname: s{i:03}\ndescription: d\n---\nbody {i}\n");
        write(root, &rel, &text);
        expected.push((rel, text.into_bytes(), false));
        let rel = format!("skills/s{i:03}/run.sh");
        write(root, &rel, "#!/bin/sh\n");
        let exec = i % 2 == 0;
        if exec {
            std::fs::set_permissions(root.join(&rel), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        expected.push((rel, b"#!/bin/sh\n".to_vec(), exec));
    }
    // Two oversized files far apart, and a symlink out of the source between them.
    for rel in ["skills/s010/big.bin", "skills/s290/big.bin"] {
        let big = std::fs::File::create(root.join(rel)).unwrap();
        big.set_len((10 << 20) + 1).unwrap();
    }
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.md"), "x\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("x.md"), root.join("skills/s150/x.md")).unwrap();
    expected.sort();
    let (tree, diags) = SourceTree::read_dir("x", root);
    let got: Vec<(String, Vec<u8>, bool)> = tree
        .files
        .iter()
        .map(|f| (f.path.to_string(), f.bytes.clone(), f.executable))
        .collect();
    assert_eq!(got, expected);
    let shown: Vec<String> = diags
        .iter()
        .map(|d| d.path.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert_eq!(
        shown,
        [
            "skills/s010/big.bin",
            "skills/s150/x.md",
            "skills/s290/big.bin"
        ]
    );
}

/// R14: a file behind many symlinks counts every time it is reached, so a small commit
/// cannot make the source (and so the deployment) gigabytes; reading stops at the cap.
#[cfg(unix)]
#[test]
fn symlinked_files_count_every_time_and_the_source_stops_at_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "skills/s/SKILL.md",
        "---\nname: s\ndescription: d\n---\nb\n",
    );
    let blob = vec![7u8; 9 << 20];
    std::fs::write(root.join("skills/s/blob.bin"), &blob).unwrap();
    for i in 0..50 {
        std::os::unix::fs::symlink("blob.bin", root.join(format!("skills/s/l{i}.bin"))).unwrap();
    }
    let (tree, diags) = SourceTree::read_dir("x", root);
    let read: u64 = tree.files.iter().map(|f| f.bytes.len() as u64).sum();
    assert!(read <= MAX_SOURCE_BYTES, "{read} bytes read");
    let over: Vec<_> = diags
        .iter()
        .filter(|d| d.message.contains("over 64 MiB"))
        .collect();
    assert_eq!(over.len(), 1, "{diags:?}");
    assert!(over[0].is_error() && over[0].hint.is_some());
}

/// Folder symlinks nested in each other double the paths at each level: 2^30 paths from a
/// few dozen links. The walk stops at the entry cap, quickly.
#[cfg(unix)]
#[test]
fn nested_folder_symlinks_stop_at_the_entry_cap() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "skills/s/SKILL.md",
        "---\nname: s\ndescription: d\n---\nb\n",
    );
    write(root, "skills/s/d0/x.md", "x\n");
    for level in 1..30 {
        let d = root.join(format!("skills/s/d{level}"));
        std::fs::create_dir_all(&d).unwrap();
        for name in ["a", "b"] {
            std::os::unix::fs::symlink(format!("../d{}", level - 1), d.join(name)).unwrap();
        }
    }
    let started = std::time::Instant::now();
    let (tree, diags) = SourceTree::read_dir("x", root);
    // A bound, not a speed claim: without the cap this walk never ends. Generous, since a
    // loaded machine (a parallel build, other test binaries) made 30 s flaky.
    assert!(started.elapsed().as_secs() < 300, "{:?}", started.elapsed());
    assert!(tree.files.len() <= MAX_SOURCE_ENTRIES);
    assert!(
        diags
            .iter()
            .any(|d| d.is_error() && d.message.contains("more than 50000")),
        "{diags:?}"
    );
}

/// Many skills naming one large template copy it into each: the copies share the source's
/// cap, and one error names the skill where it ran out.
#[test]
fn named_templates_copied_into_many_skills_share_the_source_cap() {
    let big = vec![b'x'; 9 << 20];
    let mut files: Vec<(String, Vec<u8>)> = vec![("templates/big.txt".into(), big)];
    for i in 0..10 {
        files.push((
            format!("skills/s{i}/SKILL.md"),
            format!("---\nname: s{i}\ndescription: d\n---\nUse templates/big.txt.\n").into_bytes(),
        ));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let loaded = load(&tree(&refs));
    let carried: u64 = loaded.artifacts.iter().map(artifact_bytes).sum();
    assert!(carried <= MAX_SOURCE_BYTES, "{carried}");
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(
        errors
            .iter()
            .any(|d| d.message.contains("names `templates/big.txt`") && d.line == Some(5)),
        "{errors:?}"
    );
}

#[test]
fn one_artifact_over_its_total_cap_is_an_error() {
    let asset = vec![b'a'; 9 << 20];
    let mut files: Vec<(String, Vec<u8>)> = vec![(
        "skills/s/SKILL.md".into(),
        b"---\nname: s\ndescription: d\n---\nb\n".to_vec(),
    )];
    for i in 0..4 {
        files.push((format!("skills/s/a{i}.bin"), asset.clone()));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let loaded = load(&tree(&refs));
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|d| d.is_error() && d.message.contains("the cap for one artifact is 32 MiB")),
        "{:?}",
        loaded.diagnostics
    );
}

/// R18: a behavior script whose path a shell would split or run is refused by `validate`.
#[test]
fn behavior_scripts_that_need_shell_quoting_are_refused() {
    for (script, refused) in [
        ("my script.sh", true),
        ("x;touch pwned.sh", true),
        ("scripts/ok.sh", false),
    ] {
        let md = format!(
            "---\nname: b\ndescription: d\nevent: PreToolUse\nmatcher: Write\ncommand: \"{script}\"\n---\n\nbody\n"
        );
        let asset = format!("behaviors/b/{script}");
        let loaded = load(&tree(&[
            ("behaviors/b/BEHAVIOR.md", md.as_bytes()),
            (&asset, b"#!/bin/sh\n"),
        ]));
        let hit = loaded
            .diagnostics
            .iter()
            .find(|d| d.message.contains("a shell would split or run"));
        assert_eq!(hit.is_some(), refused, "{script}: {:?}", loaded.diagnostics);
        if let Some(d) = hit {
            assert_eq!(d.line, Some(6));
            assert!(d.is_error() && d.hint.is_some());
        }
    }
}

/// Bounded property test of the loader on disk: random trees of small files, folders and
/// symlinks inside the source (to files, to folders, to parents) never panic, and every
/// read stays inside the caps in bytes and entries, each tree in well under a second.
#[cfg(unix)]
#[test]
fn random_trees_with_symlinks_are_bounded() {
    let mut rng = Rng(0x9E6C_63D0_676A_9A99);
    let dirs = [
        "skills/s",
        "skills/s/d",
        "skills/t",
        "agents",
        "templates",
        "behaviors/b",
    ];
    let names = ["SKILL.md", "BEHAVIOR.md", "a.md", "b", "c.sh", "x"];
    let started = std::time::Instant::now();
    let mut slowest = std::time::Duration::ZERO;
    let rounds = crate::test_rng::rounds(60);
    for _ in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in dirs {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for _ in 0..rng.below(12) + 1 {
            let path = root.join(rng.pick(&dirs)).join(rng.pick(&names));
            let body = format!(
                "---\nname: s\ndescription: d\n---\n{}\n",
                "templates/x ".repeat(rng.below(4))
            );
            let _ = std::fs::write(&path, body);
        }
        for i in 0..rng.below(16) {
            let at = root.join(rng.pick(&dirs)).join(format!("l{i}"));
            let target = rng.pick(&[
                "..",
                ".",
                "../..",
                "a.md",
                "../d",
                "../../templates",
                "x",
                "../s",
            ]);
            let _ = std::os::unix::fs::symlink(target, at);
        }
        let one = std::time::Instant::now();
        let (tree, _) = SourceTree::read_dir("x", root);
        let read: u64 = tree.files.iter().map(|f| f.bytes.len() as u64).sum();
        assert!(read <= MAX_SOURCE_BYTES && tree.files.len() <= MAX_SOURCE_ENTRIES);
        let loaded = load(&tree);
        let carried: u64 = loaded.artifacts.iter().map(artifact_bytes).sum();
        assert!(carried <= MAX_SOURCE_BYTES + read, "{carried}");
        slowest = slowest.max(one.elapsed());
    }
    assert!(slowest.as_secs() < 5, "slowest tree {slowest:?}");
    eprintln!(
        "{rounds} random trees in {:?}, slowest {slowest:?}",
        started.elapsed()
    );
}

/// R20: a file name with a bidi override or a control character is refused, not copied.
#[cfg(unix)]
#[test]
fn file_names_with_bidi_or_control_characters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "skills/s/SKILL.md",
        "---\nname: s\ndescription: d\n---\nb\n",
    );
    write(root, "skills/s/invoice\u{202e}fdp.sh", "x\n");
    write(root, "skills/s/bell\u{7}.md", "x\n");
    write(root, "skills/s/ok.md", "x\n");
    let (tree, diags) = SourceTree::read_dir("x", root);
    let names: Vec<&str> = tree.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(names, ["skills/s/SKILL.md", "skills/s/ok.md"]);
    let refused = diags
        .iter()
        .filter(|d| d.is_error() && d.message.contains("bidi-override"))
        .count();
    assert_eq!(refused, 2, "{diags:?}");
    // Printed escaped.
    assert!(diags
        .iter()
        .any(|d| d.to_string().contains("invoice\\u{202e}fdp.sh")));
}

/// A folder with many subfolders has them listed ahead on several threads; the walk then
/// reads exactly what it reads without that, in the same order, with the same diagnostics
/// in the same places: nested folders, a skipped `.git`, a symlink inside (followed), one
/// leading out (refused), a name that cannot be deployed.
#[cfg(unix)]
#[test]
fn the_listing_ahead_changes_nothing_the_walk_reads() {
    use std::os::unix::ffi::OsStrExt;
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let n = PREFETCH_FOLDERS + 4;
    let mut want = Vec::new();
    for i in 0..n {
        let skill = format!("skills/s{i:02}");
        write(root, &format!("{skill}/SKILL.md"), SKILL);
        write(root, &format!("{skill}/references/deep/r.md"), "r\n");
        want.push(format!("{skill}/SKILL.md"));
        if i == 9 {
            std::os::unix::fs::symlink("../s01/SKILL.md", root.join(&skill).join("link.md"))
                .unwrap();
            want.push(format!("{skill}/link.md"));
        }
        want.push(format!("{skill}/references/deep/r.md"));
    }
    write(root, "skills/s05/.git/HEAD", "ref\n");
    std::os::unix::fs::symlink(outside.path(), root.join("skills/s11/out")).unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"bad\xff.md");
    std::fs::write(root.join("skills/s13/references").join(bad), "x\n").unwrap();
    let (tree, diags) = SourceTree::read_dir_as("x", root, Path::new("src"));
    let paths: Vec<&str> = tree.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, want);
    let msgs: Vec<String> = diags
        .iter()
        .map(|d| format!("{}: {}", d.path.display(), d.message))
        .collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(
        msgs[0].starts_with("src/skills/s11/out: symlink points outside"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].starts_with("src/skills/s13/references/bad"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].ends_with("file name is not UTF-8 and cannot be deployed"),
        "{msgs:?}"
    );
}

/// What is listed ahead is bounded: with the source's entry budget spent, nothing is listed
/// (the walk lists it itself, and stops at the cap with its one error).
#[test]
fn the_listing_ahead_stops_at_the_entry_cap() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/b/c.md", "c\n");
    let mut out = Vec::new();
    let spent = std::sync::atomic::AtomicUsize::new(MAX_SOURCE_ENTRIES);
    list_tree(dir.path().to_path_buf(), &spent, &mut out);
    assert!(out.is_empty());
    let fresh = std::sync::atomic::AtomicUsize::new(0);
    list_tree(dir.path().to_path_buf(), &fresh, &mut out);
    let listed: Vec<&Path> = out
        .iter()
        .map(|(p, _)| p.strip_prefix(dir.path()).unwrap())
        .collect();
    assert_eq!(listed, [Path::new(""), Path::new("a"), Path::new("a/b")]);
}

/// The listing ahead lists only folders the walk goes into: nothing under a skipped
/// version-control folder (a repository can commit `.svn/` or `.hg/` trees of any size,
/// which the walk never reads and the entry cap never counts) nor under a folder whose
/// name the walk refuses (control or bidi characters, not UTF-8).
#[cfg(unix)]
#[test]
fn the_listing_ahead_lists_nothing_the_walk_skips() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/b/c.md", "c\n");
    for skipped in [".git", ".hg", ".svn", "bad\u{202e}dm.", "esc\u{1b}"] {
        write(dir.path(), &format!("a/{skipped}/deep/x"), "x\n");
    }
    let not_utf8 = dir
        .path()
        .join("a")
        .join(std::ffi::OsStr::from_bytes(b"n\xff"));
    std::fs::create_dir_all(not_utf8.join("deep")).unwrap();
    let fresh = std::sync::atomic::AtomicUsize::new(0);
    let mut out = Vec::new();
    list_tree(dir.path().to_path_buf(), &fresh, &mut out);
    let listed: Vec<&Path> = out
        .iter()
        .map(|(p, _)| p.strip_prefix(dir.path()).unwrap())
        .collect();
    assert_eq!(listed, [Path::new(""), Path::new("a"), Path::new("a/b")]);
}
