//! The rules a loaded artifact is checked against. Each rule is a small function that adds
//! diagnostics; [`artifact`] runs them all and never stops at the first problem. Also the
//! name helpers the loader uses: [`normalise_name`], [`skill_name_problem`], [`is_safe_name`].

use std::path::Path;

use serde_json::Value;

use crate::model::{Artifact, Kind, ModelSpec};
use crate::rel_path::is_windows_reserved;
use crate::{runbook, Diagnostic, RelPath};

/// The longest name any artifact may have (Agent Skills spec, applied to every kind).
pub const MAX_NAME_CHARS: usize = 64;
/// The longest description (Agent Skills spec, applied to every kind).
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// The longest skill `compatibility` (Agent Skills spec).
pub const MAX_COMPATIBILITY_CHARS: usize = 500;

/// Claude Code hook events a behavior's `event` may name. Source: the Claude Code hooks
/// reference (lifecycle diagram and event table, March 2026). The list grows, so an event
/// outside it is a warning, not an error.
pub const HOOK_EVENTS: &[&str] = &[
    "SessionStart",
    "Setup",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "PreToolUse",
    "PermissionRequest",
    "PermissionDenied",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "SubagentStart",
    "SubagentStop",
    "TaskCreated",
    "TaskCompleted",
    "Stop",
    "StopFailure",
    "TeammateIdle",
    "PreCompact",
    "PostCompact",
    "SessionEnd",
    "Elicitation",
    "ElicitationResult",
    "WorktreeCreate",
    "WorktreeRemove",
    "ConfigChange",
    "InstructionsLoaded",
    "CwdChanged",
    "FileChanged",
];

/// What the rules need to know about an artifact besides the artifact itself.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The main file, as diagnostics name it.
    pub display: &'a Path,
    /// The file line of each top-level frontmatter key ([`crate::frontmatter::key_lines`]).
    pub key_lines: &'a [(String, u32)],
    /// The name as written: frontmatter `name`, else the file or folder stem.
    pub raw_name: &'a str,
    /// The folder a skill or behavior lives in (`skills/<folder>/SKILL.md`).
    pub folder: Option<&'a str>,
    /// The frontmatter had no description and the loader took the body's first paragraph.
    pub description_derived: bool,
}

impl Facts<'_> {
    /// The line of frontmatter `key`, else the first line of the file.
    pub fn line_of(&self, key: &str) -> u32 {
        self.key_lines
            .iter()
            .find(|(k, _)| k == key)
            .map_or(1, |(_, line)| *line)
    }
}

type Rule = fn(&Artifact, &Facts, &mut Vec<Diagnostic>);

/// Every rule, in the order their diagnostics are reported for one file.
const RULES: &[Rule] = &[
    key_shapes,
    name_is_safe,
    name_length,
    skill_name_spec,
    folder_matches_name,
    description,
    body_not_empty,
    body_has_no_nul,
    model_id,
    skill_fields,
    behavior_event,
    behavior_command,
    runbook_structure,
    globs_are_valid,
    mcp_server,
];

/// Checks `artifact` against every rule and returns every problem found.
pub fn artifact(artifact: &Artifact, facts: &Facts) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in RULES {
        rule(artifact, facts, &mut out);
    }
    out
}

/// The shape each known frontmatter key must have.
#[derive(Clone, Copy)]
enum Shape {
    /// A single value (string, number or bool).
    Scalar,
    /// A single value or a list of them.
    ScalarOrList,
    /// `true` or `false`.
    Bool,
    /// A `key: value` map.
    Map,
}

const KEY_SHAPES: &[(&str, Shape)] = &[
    ("name", Shape::Scalar),
    ("description", Shape::Scalar),
    ("model", Shape::Scalar),
    ("tools", Shape::ScalarOrList),
    ("allowed-tools", Shape::ScalarOrList),
    ("globs", Shape::ScalarOrList),
    ("paths", Shape::ScalarOrList),
    ("applyTo", Shape::ScalarOrList),
    ("always", Shape::Bool),
    ("alwaysApply", Shape::Bool),
    ("argument-hint", Shape::Scalar),
    ("license", Shape::Scalar),
    ("compatibility", Shape::Scalar),
    ("metadata", Shape::Map),
    ("event", Shape::Scalar),
    ("matcher", Shape::Scalar),
    ("command", Shape::Scalar),
];

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn key_shapes(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    if a.kind == Kind::Mcp {
        return; // a server's keys are checked by `mcp_server`
    }
    for (key, shape) in KEY_SHAPES {
        let Some(value) = a.frontmatter.get(key) else {
            continue;
        };
        let (ok, want) = match shape {
            _ if value.is_null() => (true, ""),
            Shape::Scalar => (is_scalar(value), "a single value, not a list or map"),
            Shape::ScalarOrList => (
                is_scalar(value)
                    || value
                        .as_array()
                        .is_some_and(|items| items.iter().all(is_scalar)),
                "a value or a list of values",
            ),
            Shape::Bool => (value.is_boolean(), "`true` or `false`"),
            Shape::Map => (value.is_object(), "a map of `key: value` lines"),
        };
        if !ok {
            out.push(Diagnostic::error(
                f.display,
                Some(f.line_of(key)),
                format!("`{key}` must be {want}"),
            ));
        }
    }
}

/// Lowercases `raw`, turns spaces and `_` into `-`, drops every other character outside
/// `[a-z0-9-]`, and collapses and trims hyphens: `Code Reviewer` → `code-reviewer`.
pub fn normalise_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = match c {
            ' ' | '_' | '-' | '\t' => '-',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            _ => continue,
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Why `name` is not a valid Agent Skills name (`[a-z0-9-]`, 1..=64, no leading, trailing
/// or doubled hyphen), or `None` when it is.
pub fn skill_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Some("may only hold lowercase letters, digits and `-`")
    } else if name.starts_with('-') || name.ends_with('-') {
        Some("may not start or end with `-`")
    } else if name.contains("--") {
        Some("may not hold `--`")
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some("is longer than 64 characters")
    } else {
        None
    }
}

/// True when `name` is usable as one file or folder name inside a platform folder: not empty,
/// no separator, not `.` or `..`, not a Windows device name.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['/', '\\'])
        && name != "."
        && name != ".."
        && RelPath::new(name).is_ok()
}

fn name_is_safe(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    let line = Some(f.line_of("name"));
    let raw = f.raw_name;
    if raw.contains(['/', '\\']) || raw.split(['/', '\\']).any(|p| p == "..") {
        out.push(
            Diagnostic::error(
                f.display,
                line,
                format!("name `{raw}` would leave its folder"),
            )
            .with_hint("a name is one word of `a-z`, `0-9` and `-`, without `/` or `..`"),
        );
    } else if let Some(c) = raw.chars().find(|c| !c.is_ascii()) {
        // Dropping it silently would turn `reviеwer` (a Cyrillic `е`) into `reviwer`, a name
        // that looks like another artifact's in a review but is not (R20).
        out.push(
            Diagnostic::error(
                f.display,
                line,
                format!(
                    "name `{raw}` holds `{c}` (U+{:04X}), which is not in `a-z`, `0-9` or `-`; \
                     it would be deployed as `{}`",
                    c as u32, a.name
                ),
            )
            .with_hint(
                "give it a `name:` of `a-z`, `0-9` and `-` (a look-alike letter is not one)",
            ),
        );
    } else if a.name.is_empty() {
        out.push(
            Diagnostic::error(
                f.display,
                line,
                format!("name `{raw}` has no letter or digit to make a file name from"),
            )
            .with_hint("give it a `name:` of `a-z`, `0-9` and `-`"),
        );
    } else if is_windows_reserved(&a.name) {
        out.push(
            Diagnostic::error(
                f.display,
                line,
                format!(
                    "name `{}` is a device name on Windows and cannot be a file name",
                    a.name
                ),
            )
            .with_hint("pick another name"),
        );
    }
}

fn name_length(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    let chars = a.name.chars().count();
    if chars > MAX_NAME_CHARS {
        out.push(Diagnostic::error(
            f.display,
            Some(f.line_of("name")),
            format!("name is {chars} characters long; the limit is {MAX_NAME_CHARS}"),
        ));
    }
}

fn skill_name_spec(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    if a.kind != Kind::Skill || !is_safe_name(&a.name) || a.name.chars().count() > MAX_NAME_CHARS {
        return; // reported by name_is_safe or name_length
    }
    if let Some(problem) = skill_name_problem(&a.name) {
        let fixed = normalise_name(&a.name);
        let mut d = Diagnostic::error(
            f.display,
            Some(f.line_of("name")),
            format!("skill name `{}` {problem} (Agent Skills spec)", a.name),
        );
        if !fixed.is_empty() {
            d = d.with_hint(format!("rename it `{fixed}` (the folder and the `name:`)"));
        }
        out.push(d);
    }
}

fn folder_matches_name(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    let Some(folder) = f.folder else {
        return;
    };
    if a.name == folder || a.name.is_empty() {
        return;
    }
    let line = Some(f.line_of("name"));
    let message = format!(
        "{} name `{}` does not match its folder `{folder}`",
        a.kind, a.name
    );
    let hint = "make the `name:` and the folder name the same";
    out.push(match a.kind {
        // The Agent Skills spec requires it; platforms find skills by folder name.
        Kind::Skill => Diagnostic::error(f.display, line, message).with_hint(hint),
        _ => Diagnostic::warning(f.display, line, message).with_hint(hint),
    });
}

/// The first paragraph of plain text in `body` (headings, code, tables, quotes, HTML and
/// lists skipped), on one line and cut to [`MAX_DESCRIPTION_CHARS`] at a word boundary.
pub fn first_paragraph(body: &str) -> Option<String> {
    let mut in_fence = false;
    let mut para: Vec<&str> = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            if !para.is_empty() {
                break;
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let skip = t.is_empty()
            || t.starts_with(['#', '|', '<', '>', '-', '*', '+', '='])
            || t.starts_with(|c: char| c.is_ascii_digit()) && t.contains(". ");
        if skip {
            if !para.is_empty() {
                break;
            }
            continue;
        }
        para.push(t);
    }
    if para.is_empty() {
        return None;
    }
    let text = para.join(" ");
    if text.chars().count() <= MAX_DESCRIPTION_CHARS {
        return Some(text);
    }
    let cut: String = text.chars().take(MAX_DESCRIPTION_CHARS).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    Some(cut.trim_end().to_string())
}

fn description(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    if matches!(a.kind, Kind::Rule | Kind::Mcp) {
        // Rules may be plain Markdown: a description only helps platforms that pick rules
        // by description, and its absence is no error.
        if let Some(d) = a.frontmatter.description() {
            description_length(&d, f, out);
        }
        return;
    }
    let hint = "add `description:` to the frontmatter: what it does and when to use it";
    if f.description_derived {
        out.push(
            Diagnostic::warning(
                f.display,
                Some(1),
                "no `description` in the frontmatter; the first paragraph is used",
            )
            .with_hint(hint),
        );
    }
    match a.frontmatter.get("description") {
        Some(v) if !is_scalar(v) && !v.is_null() => {} // reported by key_shapes
        _ => match a.frontmatter.description() {
            Some(d) if !d.trim().is_empty() => description_length(&d, f, out),
            _ => out.push(
                Diagnostic::error(
                    f.display,
                    Some(f.line_of("description")),
                    "missing `description`",
                )
                .with_hint(hint),
            ),
        },
    }
}

fn description_length(d: &str, f: &Facts, out: &mut Vec<Diagnostic>) {
    let chars = d.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        out.push(
            Diagnostic::error(
                f.display,
                Some(f.line_of("description")),
                format!(
                    "description is {chars} characters long; the limit is {MAX_DESCRIPTION_CHARS}"
                ),
            )
            .with_hint("keep it to what it does and when to use it; details go in the body"),
        );
    }
}

fn body_not_empty(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    if !a.body.trim().is_empty() || a.kind == Kind::Mcp {
        return;
    }
    let line = Some(a.body_line.max(1));
    out.push(match a.kind {
        // A behavior's work is its script; its body only documents it.
        Kind::Behavior => Diagnostic::warning(f.display, line, "body is empty"),
        _ => Diagnostic::error(f.display, line, "body is empty")
            .with_hint("write the instructions below the frontmatter"),
    });
}

/// A NUL is valid UTF-8, but most readers of a Markdown or TOML file stop at it (R20).
fn body_has_no_nul(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    let Some(at) = a.body.find('\0') else {
        return;
    };
    let line = a.body_line.max(1) + a.body[..at].matches('\n').count() as u32;
    out.push(
        Diagnostic::warning(f.display, Some(line), "holds a NUL character")
            .with_hint("platforms may read the file only up to it; remove it"),
    );
}

fn model_id(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    let Some(ModelSpec::Concrete(id)) = a.frontmatter.model() else {
        return;
    };
    if id.is_empty() || id.contains(char::is_whitespace) {
        out.push(
            Diagnostic::warning(
                f.display,
                Some(f.line_of("model")),
                format!("model `{id}` is neither a tier nor a model id"),
            )
            .with_hint("use `opus`, `sonnet`, `haiku`, `inherit`, or a platform's model id"),
        );
    }
}

fn skill_fields(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    if a.kind != Kind::Skill {
        return;
    }
    if let Some(c) = a.frontmatter.compatibility() {
        let chars = c.chars().count();
        if chars > MAX_COMPATIBILITY_CHARS {
            out.push(Diagnostic::error(
                f.display,
                Some(f.line_of("compatibility")),
                format!(
                    "compatibility is {chars} characters long; the limit is {MAX_COMPATIBILITY_CHARS}"
                ),
            ));
        }
    }
    if let Some(meta) = a.frontmatter.metadata() {
        for (key, value) in meta.iter().filter(|(_, v)| !v.is_string()) {
            out.push(Diagnostic::warning(
                f.display,
                Some(f.line_of("metadata")),
                format!("metadata `{key}` is {value}; the Agent Skills spec wants strings"),
            ));
        }
    }
}

fn behavior_event(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    if a.kind != Kind::Behavior {
        return;
    }
    let hint = || format!("hook events: {}", HOOK_EVENTS.join(", "));
    let Some(event) = a.frontmatter.event() else {
        out.push(
            Diagnostic::error(f.display, Some(1), "behavior has no `event`").with_hint(hint()),
        );
        return;
    };
    if HOOK_EVENTS.contains(&event.as_str()) {
        return;
    }
    let line = Some(f.line_of("event"));
    match HOOK_EVENTS.iter().find(|e| e.eq_ignore_ascii_case(&event)) {
        Some(known) => out.push(Diagnostic::error(
            f.display,
            line,
            format!("hook event `{event}` is spelt `{known}`"),
        )),
        None => out.push(
            Diagnostic::warning(
                f.display,
                line,
                format!("`{event}` is not a hook event aiwg knows"),
            )
            .with_hint(hint()),
        ),
    }
}

/// True when `path` needs no quoting in a POSIX shell or in `cmd.exe`: ASCII letters, digits,
/// `.`, `_`, `-` and `/` only (R18).
pub fn is_shell_safe_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
}

fn behavior_command(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    if a.kind != Kind::Behavior {
        return;
    }
    let Some(command) = a.frontmatter.command() else {
        out.push(
            Diagnostic::error(f.display, Some(1), "behavior has no `command`")
                .with_hint("set `command:` to its script, relative to the behavior folder (`scripts/check.sh`)"),
        );
        return;
    };
    let line = Some(f.line_of("command"));
    let folder = f.folder.unwrap_or(&a.name);
    match RelPath::new(&command) {
        Err(e) => out.push(
            Diagnostic::error(
                f.display,
                line,
                format!("`command` must be a path inside `behaviors/{folder}/`: {e}"),
            )
            .with_hint(
                "put the script beside BEHAVIOR.md (`scripts/check.sh`) and name it relative to it",
            ),
        ),
        // The platforms run the hook command through a shell, with the script's path written
        // after the hooks folder: a space, `;`, `$()` or a quote in it would be split or run.
        Ok(path) if !is_shell_safe_path(path.as_str()) => out.push(
            Diagnostic::error(
                f.display,
                line,
                format!(
                    "`command` `{path}` has characters a shell would split or run; a script path may hold only letters, digits, `.`, `_`, `-` and `/`"
                ),
            )
            .with_hint("rename the script (`scripts/check.sh`)"),
        ),
        Ok(path) if !a.assets.iter().any(|asset| asset.path == path) => out.push(
            Diagnostic::error(
                f.display,
                line,
                format!("`command` names `{path}`, which is not in `behaviors/{folder}/`"),
            )
            .with_hint("add the script, or fix the path (it is relative to the behavior folder)"),
        ),
        Ok(_) => {}
    }
}

fn runbook_structure(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    if a.kind != Kind::Runbook {
        return;
    }
    let rb = runbook::parse_body(&a.body, a.body_line);
    for finding in runbook::lint(&rb) {
        out.push(Diagnostic {
            path: f.display.to_path_buf(),
            line: Some(finding.line),
            severity: finding.severity,
            message: finding.message,
            hint: None,
        });
    }
}

/// Why `glob` cannot be matched the same way by every client, if it cannot: aiwg never
/// matches globs itself (each client applies its own engine: minimatch, picomatch, globset),
/// so it checks only the syntax they all share — closed `[...]` classes with ordered ranges,
/// balanced `{...}`, no empty pattern, no `..` leaving the repository.
pub fn glob_problem(glob: &str) -> Option<String> {
    if glob.trim().is_empty() {
        return Some("is empty".into());
    }
    if glob.split('/').any(|part| part == "..") {
        return Some("leaves the repository (`..`)".into());
    }
    let chars: Vec<char> = glob.chars().collect();
    let mut braces = 0usize;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => {
                let mut j = i + 1;
                if matches!(chars.get(j), Some('!' | '^')) {
                    j += 1;
                }
                // A `]` first in the class is a literal.
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    if chars[j] == '-' && j > i + 1 && j + 1 < chars.len() && chars[j + 1] != ']' {
                        let (from, to) = (chars[j - 1], chars[j + 1]);
                        if from > to {
                            return Some(format!(
                                "has the range `{from}-{to}`, which runs backwards"
                            ));
                        }
                    }
                    j += 1;
                }
                if j == chars.len() {
                    return Some("has a `[` that is never closed".into());
                }
                i = j;
            }
            '{' => braces += 1,
            '}' if braces == 0 => return Some("has a `}` without its `{`".into()),
            '}' => braces -= 1,
            _ => {}
        }
        i += 1;
    }
    (braces > 0).then(|| "has a `{` that is never closed".into())
}

fn globs_are_valid(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    for glob in a.frontmatter.globs() {
        if let Some(problem) = glob_problem(&glob) {
            out.push(
                Diagnostic::error(
                    f.display,
                    Some(f.line_of(
                        ["globs", "paths", "applyTo"]
                            .into_iter()
                            .find(|k| a.frontmatter.get(k).is_some())
                            .unwrap_or("globs"),
                    )),
                    format!("glob `{glob}` {problem}"),
                )
                .with_hint("write globs relative to the repository root, e.g. `src/**/*.ts` or `*.{js,ts}`"),
            );
        }
    }
}

/// An MCP server's shape, its references, and no secret written inline ([`crate::mcp::check`]).
fn mcp_server(a: &Artifact, f: &Facts, out: &mut Vec<Diagnostic>) {
    if a.kind != Kind::Mcp {
        return;
    }
    for p in crate::mcp::check(&a.frontmatter.entries) {
        let mut d = Diagnostic::error(f.display, Some(f.line_of(&p.key)), p.message);
        if let Some(hint) = p.hint {
            d = d.with_hint(hint);
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_syntax_every_client_shares() {
        for ok in [
            "**/*.rs",
            "src/[a-z]*.ts",
            "*.{js,ts}",
            "[]]x",
            "[!.]*",
            "a\\[b",
            "/src/**",
        ] {
            assert_eq!(glob_problem(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("src/[.ts", "has a `[` that is never closed"),
            ("*.{js,ts", "has a `{` that is never closed"),
            ("a}b", "has a `}` without its `{`"),
            ("[z-a]", "has the range `z-a`, which runs backwards"),
            ("../x/*.rs", "leaves the repository (`..`)"),
            ("  ", "is empty"),
        ] {
            assert_eq!(glob_problem(bad).as_deref(), Some(why), "{bad}");
        }
    }

    #[test]
    fn normalises_names() {
        let check = |raw: &str, expect: &str| assert_eq!(normalise_name(raw), expect, "{raw:?}");
        check("code-reviewer", "code-reviewer");
        check("Code Reviewer", "code-reviewer");
        check("flow_gate__check", "flow-gate-check");
        check("  --a--b--  ", "a-b");
        check("v1.2 (beta)!", "v12-beta");
        check("日本", "");
        check("../etc", "etc");
    }

    #[test]
    fn skill_names_follow_the_spec() {
        let check = |name: &str, expect: Option<&str>| {
            assert_eq!(skill_name_problem(name), expect, "{name:?}")
        };
        check("pdf-tools", None);
        check("a1", None);
        check("", Some("is empty"));
        check(
            "PDF",
            Some("may only hold lowercase letters, digits and `-`"),
        );
        check(
            "a_b",
            Some("may only hold lowercase letters, digits and `-`"),
        );
        check("-a", Some("may not start or end with `-`"));
        check("a-", Some("may not start or end with `-`"));
        check("a--b", Some("may not hold `--`"));
        check(&"a".repeat(64), None);
        check(&"a".repeat(65), Some("is longer than 64 characters"));
    }

    #[test]
    fn shell_safe_script_paths() {
        for ok in ["scripts/check.sh", "run_1.py", "a-b/c.d"] {
            assert!(is_shell_safe_path(ok), "{ok}");
        }
        for bad in [
            "my script.sh",
            "a;b.sh",
            "$(x).sh",
            "a'b",
            "a\"b",
            "x|y",
            "é.sh",
            "a`b`",
            "",
        ] {
            assert!(!is_shell_safe_path(bad), "{bad}");
        }
    }

    #[test]
    fn safe_names() {
        for ok in ["a", "code-reviewer", "console"] {
            assert!(is_safe_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a\\b", "con", "nul", "lpt1"] {
            assert!(!is_safe_name(bad), "{bad}");
        }
    }

    #[test]
    fn first_paragraphs() {
        let check =
            |body: &str, expect: Option<&str>| assert_eq!(first_paragraph(body).as_deref(), expect);
        check(
            "# Title\n\nDoes a thing\nwell.\n\nMore.",
            Some("Does a thing well."),
        );
        check("```\ncode\n```\n| t |\n- item\n> quote\nText", Some("Text"));
        check("# Only a heading\n", None);
        check("", None);
        let long = "word ".repeat(300);
        let cut = first_paragraph(&long).unwrap();
        assert!(
            cut.chars().count() <= MAX_DESCRIPTION_CHARS,
            "{}",
            cut.len()
        );
        assert!(cut.ends_with("word"));
    }
}
