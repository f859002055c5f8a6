//! Monorepo packages (`packages` in the root `aiwg.toml`): each package's `.aiwg/` rules deploy
//! scoped to its folder (nested `AGENTS.md` for Codex, `paths:` rules for Claude Code), under
//! one lock at the root; hostile package paths are refused naming their line.

use crate::support::Test;

/// A root rule, `apps/web` (a rule for `.tsx` files) and `services/*` (matching `api`, with an
/// always-on rule, and `empty`, which has no source), deployed to Claude Code and Codex.
fn monorepo(platforms: &str) -> Test {
    let t = Test::new();
    t.write(
        "aiwg.toml",
        &format!(
            "sources = [\".aiwg\"]\nplatforms = [{platforms}]\npackages = [\n  \"apps/web\",\n  \"services/*\",\n]\n"
        ),
    )
    .write(
        ".aiwg/rules/style.md",
        "---\ndescription: House style\nalways: true\n---\nWrite short functions.\n",
    )
    .write(
        "apps/web/.aiwg/rules/style.md",
        "---\ndescription: Web style\nglobs: [\"**/*.tsx\"]\n---\nUse function components.\n",
    )
    .write(
        "services/api/.aiwg/rules/errors.md",
        "---\ndescription: API errors\nalways: true\n---\nReturn problem+json.\n",
    )
    .write("services/empty/README.md", "no aiwg here\n");
    t
}

const CLAUDE_CODEX: &str = "\"claude-code\", \"codex\"";

#[test]
fn two_packages_deploy_nested_agents_md_for_codex_and_scoped_rules_for_claude_code() {
    let t = monorepo(CLAUDE_CODEX);
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");

    // Codex: each package's own AGENTS.md, its globs as written (relative to the package).
    let web = t.read("apps/web/AGENTS.md");
    assert!(
        web.contains("<!-- aiwg:begin apps/web/.aiwg:rules -->"),
        "{web}"
    );
    assert!(web.contains("Use function components."), "{web}");
    assert!(web.contains("`**/*.tsx`"), "{web}");
    assert!(t
        .read("services/api/AGENTS.md")
        .contains("Return problem+json."));
    assert!(!t.exists("services/empty/AGENTS.md"));
    // The root's AGENTS.md holds the root rule only.
    let root = t.read("AGENTS.md");
    assert!(root.contains("Write short functions."), "{root}");
    assert!(!root.contains("function components") && !root.contains("problem+json"));

    // Claude Code: root-level rules scoped to the package folder, named by package.
    let rule = t.read(".claude/rules/apps-web-style.md");
    assert!(rule.starts_with("---\npaths:"), "{rule}");
    assert!(rule.contains("apps/web/**/*.tsx"), "{rule}");
    let api = t.read(".claude/rules/services-api-errors.md");
    assert!(api.contains("services/api/**"), "{api}");
    assert!(!t.exists("apps/web/CLAUDE.md") && !t.exists("apps/web/.claude"));

    // One lock, at the root, paths relative to the root.
    let lock = t.read("aiwg.lock");
    assert!(lock.contains("path = \"apps/web/AGENTS.md\""), "{lock}");
    assert!(lock.contains("source = \"apps/web/.aiwg\""), "{lock}");
    assert!(!t.exists("apps/web/aiwg.lock") && !t.exists("services/api/aiwg.lock"));
    let (code, out, err) = t.run(&["check"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0);
    assert!(
        err.contains("0 created, 0 updated, 0 deleted") || err.contains("nothing to change"),
        "{err}"
    );
}

#[test]
fn check_sees_drift_in_a_package_file_from_the_root_and_from_inside_the_package() {
    let t = monorepo(CLAUDE_CODEX);
    assert_eq!(t.run(&["apply"]).0, 0);
    let path = t.root().join("apps/web/AGENTS.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("function components", "classes")).unwrap();

    let (code, out, _) = t.run(&["check"]);
    assert_eq!((code, out.as_str()), (1, "edited\tapps/web/AGENTS.md\n"));
    // Inside the package, aiwg finds the root (paths shown from there).
    let inside = t
        .aiwg(&["check"])
        .current_dir(t.root().join("apps/web"))
        .output()
        .unwrap();
    assert_eq!(inside.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&inside.stdout),
        "edited\tAGENTS.md\n"
    );
    let (code, out, _) = t.run(&["-C", "apps/web", "check"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("edited\t"), "{out}");
    // Nothing was written in the package but the file aiwg manages.
    assert!(!t.exists("apps/web/aiwg.lock") && !t.exists("apps/web/.aiwg/history"));

    let (code, _, err) = t.run(&["apply", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.run(&["check"]).0, 0);

    // A scoped copy is not taken back into the package's source by `adopt`: said so.
    let rule = t.read(".claude/rules/apps-web-style.md");
    t.write(
        ".claude/rules/apps-web-style.md",
        &rule.replace("function", "arrow"),
    );
    let (code, _, err) = t.run(&["adopt", ".claude/rules/apps-web-style.md"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is a rule of package `apps/web`"), "{err}");
    assert!(t
        .read("apps/web/.aiwg/rules/style.md")
        .contains("function components"));
}

#[test]
fn removing_a_package_from_the_list_removes_its_files() {
    let t = monorepo(CLAUDE_CODEX);
    assert_eq!(t.run(&["apply"]).0, 0);
    t.write(
        "services/api/AGENTS.md",
        &format!("# API notes\n\n{}", t.read("services/api/AGENTS.md")),
    );
    t.write(
        "aiwg.toml",
        &format!(
            "sources = [\".aiwg\"]\nplatforms = [{CLAUDE_CODEX}]\npackages = [\"apps/web\"]\n"
        ),
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(!t.exists(".claude/rules/services-api-errors.md"));
    // The user's text around the section stays; only aiwg's section goes.
    assert_eq!(t.read("services/api/AGENTS.md"), "# API notes\n");
    assert!(t.exists(".claude/rules/apps-web-style.md") && t.exists("apps/web/AGENTS.md"));
    assert!(!t.read("aiwg.lock").contains("services/api"));

    // No packages at all: the package files go, the root's stay.
    t.write(
        "aiwg.toml",
        &format!("sources = [\".aiwg\"]\nplatforms = [{CLAUDE_CODEX}]\n"),
    );
    assert_eq!(t.run(&["apply"]).0, 0);
    assert!(!t.exists("apps/web/AGENTS.md") && !t.exists(".claude/rules/apps-web-style.md"));
    assert!(t.exists(".claude/rules/style.md") && t.exists("AGENTS.md"));
}

/// Every file under the temp folder (project, home and the folder beside them).
fn tree(t: &Test) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![t.root().parent().unwrap().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_package_path_leaving_the_root_is_refused_naming_its_line() {
    let t = Test::new();
    t.write(".aiwg/rules/style.md", "---\ndescription: x\n---\nx\n")
        .write(
            "aiwg.toml",
            "platforms = [\"codex\"]\npackages = [\n  \"apps/web\",\n  \"../outside\",\n]\n",
        )
        .write("apps/web/.aiwg/rules/a.md", "---\ndescription: a\n---\na\n");
    std::fs::create_dir_all(t.root().parent().unwrap().join("outside/.aiwg/rules")).unwrap();
    let before = tree(&t);
    for cmd in ["apply", "check", "validate", "list"] {
        let (code, _, err) = t.run(&[cmd]);
        assert_eq!(code, 2, "{cmd}: {err}");
        assert!(
            err.contains("aiwg.toml:4:") && err.contains("`..`"),
            "{cmd}: {err}"
        );
        assert!(err.contains("hint:"), "{err}");
    }
    assert_eq!(tree(&t), before, "nothing was written");

    // A folder named outright must exist.
    t.write(
        "aiwg.toml",
        "platforms = [\"codex\"]\npackages = [\"apps/web\", \"libs/ui\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("aiwg.toml:2: package `libs/ui` does not exist"),
        "{err}"
    );

    // A symlink leading out, named outright or matched by a glob.
    let outside = t.root().parent().unwrap().join("outside");
    std::fs::write(
        outside.join(".aiwg/rules/secret.md"),
        "---\ndescription: s\n---\nSECRET\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, t.root().join("apps/evil")).unwrap();
    for (entry, line) in [("apps/evil", 3), ("apps/*", 3)] {
        t.write(
            "aiwg.toml",
            &format!("platforms = [\"codex\", \"claude-code\"]\n\npackages = [\"{entry}\"]\n"),
        );
        let before = tree(&t);
        for cmd in ["apply", "check", "validate"] {
            let (code, out, err) = t.run(&[cmd]);
            assert_eq!(code, 2, "{entry} {cmd}: {err}");
            assert!(
                err.contains(&format!("aiwg.toml:{line}:")),
                "{entry} {cmd}: {err}"
            );
            assert!(
                err.contains("`apps/evil` is a symlink leading out of the project root"),
                "{err}"
            );
            assert!(!out.contains("SECRET") && !err.contains("SECRET"));
        }
        assert_eq!(tree(&t), before, "{entry}: nothing was written");
    }

    // Inside the root but into git's folder, and a package's `.aiwg` leading out.
    std::fs::remove_file(t.root().join("apps/evil")).unwrap();
    std::fs::create_dir_all(t.root().join(".git/x/.aiwg/rules")).unwrap();
    std::os::unix::fs::symlink(t.root().join(".git/x"), t.root().join("apps/evil")).unwrap();
    t.write(
        "aiwg.toml",
        "platforms = [\"codex\"]\npackages = [\"apps/*\"]\n",
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("aiwg.toml:2:") && err.contains("not a package folder"),
        "{err}"
    );
    // Every spelling a case-insensitive or 8.3-naming file system resolves to git's or
    // aiwg's folder is refused by the one rule (`lock::names_git_folder`).
    for folder in [
        "GIT~1",
        "sub/.GIT",
        "sub/.git.",
        "sub/.git ",
        ".Aiwg.",
        "sub/.AIWG",
    ] {
        std::fs::remove_file(t.root().join("apps/evil")).unwrap();
        let inner = t.root().join(folder).join("x");
        std::fs::create_dir_all(inner.join(".aiwg/rules")).unwrap();
        std::os::unix::fs::symlink(&inner, t.root().join("apps/evil")).unwrap();
        let (code, _, err) = t.run(&["apply"]);
        assert_eq!(code, 2, "{folder}: {err}");
        assert!(err.contains("not a package folder"), "{folder}: {err}");
    }
    std::fs::remove_file(t.root().join("apps/evil")).unwrap();
    std::fs::remove_dir_all(t.root().join("apps/web/.aiwg")).unwrap();
    std::os::unix::fs::symlink(outside.join(".aiwg"), t.root().join("apps/web/.aiwg")).unwrap();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`apps/web/.aiwg` is a symlink leading out of the package"),
        "{err}"
    );
    assert!(!t.exists("apps/web/AGENTS.md") && !t.exists("aiwg.lock"));
}

#[test]
fn validate_and_list_show_packages_and_refuse_what_a_package_cannot_hold() {
    let t = monorepo(CLAUDE_CODEX);
    let (code, out, err) = t.run(&["list"]);
    assert_eq!(code, 0, "{err}");
    let row = out
        .lines()
        .find(|l| l.contains("apps-web-style"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("apps/web/.aiwg"), "{row}");
    assert!(
        out.lines().any(|l| l.contains("services-api-errors")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("rule  style ")), "{out}");
    let (code, _, err) = t.run(&["validate"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("validated 3 sources (2 packages), 3 artifacts"),
        "{err}"
    );

    // An agent in a package, and a rule whose package name is taken by a root rule.
    t.write(
        "apps/web/.aiwg/agents/helper.md",
        "---\nname: helper\ndescription: h\n---\nh\n",
    )
    .write(
        ".aiwg/rules/services-api-errors.md",
        "---\ndescription: dup\n---\nd\n",
    );
    let (code, out, _) = t.run(&["validate"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("apps/web/.aiwg/agents/helper.md: error: package `apps/web` holds agent `helper`; a package deploys rules only"), "{out}");
    assert!(out.contains("services/api/.aiwg/rules/errors.md: error: rule `errors` of package `services/api` is deployed as `services-api-errors`"), "{out}");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(!t.exists("apps/web/AGENTS.md"), "nothing deployed");
}

#[test]
fn a_platform_that_reads_neither_nested_files_nor_scoped_rules_gets_a_warning() {
    let t = monorepo("\"codex\", \"zed\", \"cursor\"");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let (_, _, notes) = t.run(&["status", "--notes"]);
    assert!(notes.contains("warning: zed: Zed reads no instruction file in sub-folders and has no glob-scoped rule files: package rules are not deployed to it"), "{notes}");
    // Cursor reads the nested AGENTS.md written for Codex: no second copy of its own.
    assert!(
        notes.contains(
            "package rules reach it through each package's `AGENTS.md` (written for codex)"
        ),
        "{notes}"
    );
    assert!(!t.exists(".cursor/rules/apps-web-style.mdc"));
    assert!(!t.read("AGENTS.md").contains("function components"));
}

/// `aiwg check` with the stat cache traced and a 100 ms racy window, after waiting it out.
fn traced_check(t: &Test) -> (i32, String, String) {
    std::thread::sleep(std::time::Duration::from_millis(160));
    let out = t
        .aiwg(&["check"])
        .env("AIWG_CHECK_CACHE_TRACE", "1")
        .env("AIWG_CHECK_RACY_MS", "100")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_check_cache_never_hides_a_package_change() {
    // Named outright: the cache is used, and a package's own source is watched.
    let t = monorepo(CLAUDE_CODEX);
    t.write(
        "aiwg.toml",
        &format!(
            "sources = [\".aiwg\"]\nplatforms = [{CLAUDE_CODEX}]\npackages = [\"apps/web\"]\n"
        ),
    );
    assert_eq!(t.run(&["apply"]).0, 0);
    assert_eq!(traced_check(&t).0, 0);
    let (code, _, err) = traced_check(&t);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("check: cache hit"), "{err}");
    t.write(
        "apps/web/.aiwg/rules/style.md",
        "---\ndescription: Web style\n---\nChanged.\n",
    );
    let (code, out, err) = traced_check(&t);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("apps/web/AGENTS.md"), "{out}");
    assert_eq!(t.run(&["apply"]).0, 0);
    assert_eq!(traced_check(&t).0, 0);
    // A package that gets its own `aiwg.toml` is an error, cache or not.
    t.write("apps/web/aiwg.toml", "platforms = [\"codex\"]\n");
    let (code, _, err) = traced_check(&t);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has its own `aiwg.toml`"), "{err}");
    std::fs::remove_file(t.root().join("apps/web/aiwg.toml")).unwrap();

    // Named by a glob, a new folder with a source is a new package: no cache is recorded.
    let t = monorepo(CLAUDE_CODEX);
    assert_eq!(t.run(&["apply"]).0, 0);
    assert_eq!(traced_check(&t).0, 0);
    t.write(
        "services/billing/.aiwg/rules/money.md",
        "---\ndescription: Money\n---\nUse integer cents.\n",
    );
    let (code, out, err) = traced_check(&t);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("missing\tservices/billing/AGENTS.md"), "{out}");
    assert!(!err.contains("cache hit"), "{err}");
}

#[test]
fn a_lock_entry_naming_a_package_source_never_deletes_it() {
    let t = monorepo(CLAUDE_CODEX);
    assert_eq!(t.run(&["apply"]).0, 0);
    // A committed lock claims the package's own rule file as a stale file aiwg wrote.
    let source = "apps/web/.aiwg/rules/style.md";
    let bytes = std::fs::read(t.root().join(source)).unwrap();
    let digest = {
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(&bytes);
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let lock = format!(
        "{}\n[[file]]\npath = \"{source}\"\nmode = \"file\"\nsha256 = \"{digest}\"\nsize = {}\nsource = \"x\"\nartifact = \"rule:gone\"\nplatforms = [\"codex\"]\n",
        t.read("aiwg.lock"),
        bytes.len()
    );
    t.write("aiwg.lock", &lock);
    for force in [false, true] {
        let args: &[&str] = if force {
            &["apply", "--force"]
        } else {
            &["apply"]
        };
        let (code, _, err) = t.run(args);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(&format!("conflict: `{source}`")) && err.contains("aiwg's own state"),
            "{err}"
        );
        assert_eq!(std::fs::read(t.root().join(source)).unwrap(), bytes);
    }
}

#[test]
fn a_platform_that_reads_another_platforms_scoped_copy_keeps_it_and_is_told_it_sees_two() {
    // Copilot reads Claude Code's `.claude/rules` and the nested AGENTS.md written for Codex:
    // no third copy, and a warning rather than a refusal.
    let t = monorepo("\"claude-code\", \"codex\", \"copilot\"");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(t.exists(".claude/rules/apps-web-style.md") && t.exists("apps/web/AGENTS.md"));
    assert!(!t.exists(".github/instructions/apps-web-style.instructions.md"));
    let (_, _, notes) = t.run(&["status", "--notes"]);
    assert!(
        notes.contains("warning: copilot: GitHub Copilot sees package rules twice: in `.claude/rules/{name}.md`"),
        "{notes}"
    );
    assert_eq!(t.run(&["check"]).0, 0);
}

#[test]
fn all_packages_together_share_one_sources_byte_cap() {
    let t = Test::new();
    t.write(
        "aiwg.toml",
        "platforms = [\"codex\"]\npackages = [\"p/*\"]\n",
    )
    .write(".aiwg/rules/root.md", "---\ndescription: r\n---\nr\n");
    // Three packages of 23 rules of just under 1 MiB each: 69 MiB in all, over the 64 MiB cap.
    let body = "x".repeat((1 << 20) - 64);
    for p in ["a", "b", "c"] {
        for i in 0..23 {
            t.write(
                &format!("p/{p}/.aiwg/rules/r{i}.md"),
                &format!("---\ndescription: r\n---\n{body}\n"),
            );
        }
    }
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("p/c/.aiwg: error: the packages' sources hold more than 64 MiB together"),
        "{err}"
    );
    assert!(!t.exists("aiwg.lock") && !t.exists("p/a/AGENTS.md"));
}

#[test]
fn codex_is_warned_when_the_root_and_a_package_file_together_near_its_limit() {
    let t = Test::new();
    let text = |n: usize| format!("---\ndescription: d\n---\n{}\n", "word ".repeat(n));
    t.write(
        "aiwg.toml",
        "platforms = [\"codex\"]\npackages = [\"a\", \"b\"]\n",
    )
    .write(".aiwg/rules/root.md", &text(4000))
    .write("a/.aiwg/rules/big.md", &text(3000))
    .write("b/.aiwg/rules/small.md", &text(10));
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    let (_, _, notes) = t.run(&["status", "--notes"]);
    assert!(
        notes.contains("warning: codex: aiwg's sections in `AGENTS.md` and `a/AGENTS.md` are"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "already over the 32768 bytes OpenAI Codex reads from the root down to a package"
        ),
        "{notes}"
    );
    assert!(!notes.contains("`b/AGENTS.md`"), "{notes}");
}

#[test]
fn a_root_without_its_own_source_deploys_its_packages_also_with_generated_ignored() {
    let t = Test::new();
    t.write(
        "aiwg.toml",
        &format!(
            "platforms = [{CLAUDE_CODEX}]\npackages = [\"apps/web\"]\ngenerated = \"ignore\"\n"
        ),
    )
    .write(
        "apps/web/.aiwg/rules/style.md",
        "---\ndescription: Web style\nglobs: [\"**/*.tsx\"]\n---\nUse function components.\n",
    );
    std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(t.root())
        .status()
        .unwrap();
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(t
        .read("apps/web/AGENTS.md")
        .contains("Use function components."));
    // The scoped rule file is aiwg's whole and ignored; the nested AGENTS.md is shared, kept.
    let ignore = t.read(".gitignore");
    assert!(
        ignore
            .lines()
            .any(|l| l.contains(".claude/rules/apps-web-style.md")),
        "{ignore}"
    );
    assert!(!ignore.contains("AGENTS.md"), "{ignore}");
    assert_eq!(t.run(&["check"]).0, 0);
    let (code, _, err) = t.run(&["validate"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("validated 1 source (1 package), 1 artifact"),
        "{err}"
    );
}
