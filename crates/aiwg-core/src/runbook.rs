//! Runbooks: the structure of an operational runbook (sections, stages with their gates,
//! the rollback trigger, agent rules), its `{placeholder}` variables, the lint that checks
//! the structure, and rendering with values.
//!
//! A placeholder is `{name}` with `name` matching `[a-z][a-z0-9_]*`, not preceded by `$`, `%`
//! or `{` and not followed by `}`, so shell `${VAR}`, curl's `%{http_code}`, templating
//! `{{args}}` and JSON are left alone. `{name|default}` is optional: without a value it renders as `default` (which may
//! be empty), and the default then applies to every use of the name. Placeholders inside
//! fenced code blocks count; headings and gates inside them do not, and values rendered into
//! a shell code block are quoted for the shell where they would change its meaning.
//! A leading YAML frontmatter block is skipped by [`parse`] and kept as is by [`render`].

use std::collections::BTreeMap;

use crate::frontmatter;
use crate::Severity;

/// The `##` sections every runbook should have, in the usual order.
pub const REQUIRED_SECTIONS: [&str; 7] = [
    "Purpose",
    "Prerequisites",
    "Procedure",
    "Verification",
    "Rollback",
    "Agent Rules",
    "Audit Trail",
];

/// A runbook's structure, with 1-based file lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runbook {
    /// The first `#` heading, if any.
    pub title: Option<Heading>,
    /// Every `##` section, in order.
    pub sections: Vec<Section>,
    /// The `###` headings inside the Procedure section.
    pub stages: Vec<Stage>,
    /// Lines in the Rollback section that start with `**Trigger` (when to roll back).
    pub rollback_triggers: Vec<u32>,
    /// The list items of the Agent Rules section.
    pub agent_rules: Vec<AgentRule>,
    /// Every placeholder, in order of first use, with every line it is on.
    pub placeholders: Vec<Placeholder>,
    /// Brace groups that look meant as placeholders but are not valid ones (`{Service Name}`).
    pub near_misses: Vec<NearMiss>,
    /// Lines of `**Gate**:` lines in the Procedure that say nothing (the evidence is missing).
    pub empty_gates: Vec<u32>,
    /// The line of a code fence that is never closed, if any.
    pub unclosed_fence: Option<u32>,
}

/// A heading and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// The heading text without its `#` marks.
    pub text: String,
    /// The file line of the heading.
    pub line: u32,
}

/// A `##` section: its heading text and the lines it spans (heading to last line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The heading text without its `##`.
    pub title: String,
    /// The file line of the `##` heading.
    pub line: u32,
    /// The last file line before the next `##` heading, or the file's last line.
    pub end_line: u32,
}

/// A stage of the Procedure (a `###` heading) and the lines of its `**Gate**` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The heading text without its `###`.
    pub title: String,
    /// The file line of the `###` heading.
    pub line: u32,
    /// The file lines of this stage that start with `**Gate`; empty when it has none.
    pub gates: Vec<u32>,
}

/// One item of the Agent Rules list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRule {
    /// The file line of the item.
    pub line: u32,
    /// The item's number for a numbered list (`3.`), `None` for a bullet.
    pub number: Option<u32>,
    /// The item's text after its marker, trimmed.
    pub text: String,
}

/// A placeholder name and the lines it appears on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The name between the braces (`service_name`).
    pub name: String,
    /// Every file line it appears on, ascending, each once.
    pub lines: Vec<u32>,
    /// The default of `{name|default}`, from its first use that has one; `None` when the
    /// placeholder is required.
    pub default: Option<String>,
}

/// A `{...}` that is probably meant as a placeholder but does not follow the syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    /// The file line of the brace group.
    pub line: u32,
    /// The text between the braces (`Service Name`).
    pub text: String,
    /// The valid name it probably means (`service_name`).
    pub suggestion: String,
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file line it is about; for a missing section, the title's line (1 without a title).
    pub line: u32,
    /// How bad it is; [`lint`] reports only warnings.
    pub severity: Severity,
    /// What is wrong, naming the section, stage or brace group.
    pub message: String,
}

/// `render` could not fill every placeholder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no value for {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))]
pub struct Unfilled {
    /// The placeholders without a value, in order of first use.
    pub names: Vec<String>,
}

/// `render` refused a value: it sits inside a quoted string of a shell code block and holds
/// characters that could end the string or, when the string is a command for another shell
/// (`ssh host '...'`, `sh -c "..."`), change that command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the value of `{name}` (line {line}) holds shell characters and sits inside a quoted shell string")]
pub struct Unquotable {
    /// The placeholder.
    pub name: String,
    /// The line of the body (1-based, counted from the first line after the frontmatter).
    pub line: u32,
}

/// Why `render` wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// Placeholders without a value or a default.
    #[error(transparent)]
    Unfilled(#[from] Unfilled),
    /// A value that cannot be placed safely where its placeholder stands.
    #[error(transparent)]
    Unquotable(#[from] Unquotable),
}

impl Runbook {
    /// The section whose title matches `name` (case, spaces and punctuation ignored).
    pub fn section(&self, name: &str) -> Option<&Section> {
        let want = section_key(name);
        self.sections.iter().find(|s| section_key(&s.title) == want)
    }
}

/// `Agent Rules`, `agent-rules` and `AGENT RULES:` all compare equal.
fn section_key(title: &str) -> String {
    title
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Parses a runbook file (frontmatter, if any, is skipped; lines are file lines).
pub fn parse(text: &str) -> Runbook {
    match frontmatter::split(text) {
        Ok(split) => parse_body(split.body, split.body_line),
        Err(_) => parse_body(text, 1),
    }
}

/// Parses runbook Markdown whose first line is line `first_line` of its file.
pub fn parse_body(body: &str, first_line: u32) -> Runbook {
    let mut rb = Runbook::default();
    let mut fence: Option<(char, usize)> = None;
    let mut fence_line = 0;
    let lines: Vec<&str> = body.lines().collect();
    let mut current_section: Option<String> = None;
    let mut last_line = first_line;
    for (i, raw) in lines.iter().copied().enumerate() {
        let line = first_line + i as u32;
        last_line = line;
        scan_placeholders(raw, line, &mut rb);
        let trimmed = raw.trim_start();
        let was_open = fence.is_some();
        if track_fence(&mut fence, trimmed) {
            if !was_open {
                fence_line = line;
            }
            continue;
        }
        if fence.is_some() {
            continue;
        }
        if let Some((level, text)) = heading(raw) {
            match level {
                1 if rb.title.is_none() => {
                    rb.title = Some(Heading { text, line });
                }
                2 => {
                    if let Some(prev) = rb.sections.last_mut() {
                        prev.end_line = line - 1;
                    }
                    current_section = Some(section_key(&text));
                    rb.sections.push(Section {
                        title: text,
                        line,
                        end_line: line,
                    });
                }
                3 if current_section.as_deref() == Some("procedure") => {
                    rb.stages.push(Stage {
                        title: text,
                        line,
                        gates: Vec::new(),
                    });
                }
                _ => {}
            }
            continue;
        }
        match current_section.as_deref() {
            Some("procedure") if trimmed.starts_with("**Gate") => {
                if let Some(stage) = rb.stages.last_mut() {
                    stage.gates.push(line);
                }
                let next = lines.get(i + 1).map_or("", |l| l.trim());
                if gate_text(trimmed).is_empty() && (next.is_empty() || next.starts_with('#')) {
                    rb.empty_gates.push(line);
                }
            }
            Some("rollback") if trimmed.starts_with("**Trigger") => {
                rb.rollback_triggers.push(line);
            }
            Some("agentrules") => {
                if let Some(rule) = list_item(raw, line) {
                    rb.agent_rules.push(rule);
                }
            }
            _ => {}
        }
    }
    if let Some(last) = rb.sections.last_mut() {
        last.end_line = last_line;
    }
    if fence.is_some() {
        rb.unclosed_fence = Some(fence_line);
    }
    rb
}

/// What a `**Gate**: ...` line says after its label (`**Gate**:`, `**Gate:**`, `**Gate 2**:`).
fn gate_text(trimmed: &str) -> &str {
    let rest = &trimmed[2..];
    let rest = match rest.find("**") {
        Some(end) => &rest[end + 2..],
        None => rest,
    };
    rest.trim_start_matches(':').trim()
}

/// Follows fenced code blocks line by line: opens or closes `open` for a fence line and
/// returns true for one, false for any other line.
fn track_fence(open: &mut Option<(char, usize)>, trimmed: &str) -> bool {
    let Some(marker) = fence_marker(trimmed) else {
        return false;
    };
    match *open {
        None => *open = Some(marker),
        Some((c, n)) if marker.0 == c && marker.1 >= n && trimmed.trim_end().len() == marker.1 => {
            *open = None
        }
        Some(_) => {}
    }
    true
}

/// The fence character and length when `line` opens or closes a fenced code block.
fn fence_marker(trimmed: &str) -> Option<(char, usize)> {
    let c = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = trimmed.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

/// An ATX heading (`## Title`) with its level, at most three spaces in.
fn heading(raw: &str) -> Option<(usize, String)> {
    let indent = raw.len() - raw.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &raw[indent..];
    let level = rest.chars().take_while(|c| *c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let text = &rest[level..];
    if !text.is_empty() && !text.starts_with([' ', '\t']) {
        return None;
    }
    let text = text.trim().trim_end_matches('#').trim_end();
    Some((level, text.to_string()))
}

/// A top-level list item: `1. text`, `2) text`, `- text`, `* text`, `+ text`.
fn list_item(raw: &str, line: u32) -> Option<AgentRule> {
    if raw.starts_with([' ', '\t']) {
        return None;
    }
    if let Some(rest) = raw.strip_prefix(['-', '*', '+']) {
        let text = rest.strip_prefix([' ', '\t'])?.trim();
        return (!text.is_empty()).then(|| AgentRule {
            line,
            number: None,
            text: text.to_string(),
        });
    }
    let digits = raw.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let rest = raw[digits..].strip_prefix(['.', ')'])?;
    let text = rest.strip_prefix([' ', '\t'])?.trim();
    Some(AgentRule {
        line,
        number: raw[..digits].parse().ok(),
        text: text.to_string(),
    })
}

/// Where each placeholder sits in `line`: (byte range of `{name}` or `{name|default}`, name,
/// default).
fn placeholders_in(
    line: &str,
) -> impl Iterator<Item = (std::ops::Range<usize>, &str, Option<&str>)> {
    let bytes = line.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(off) = line[from..].find('{') {
            let open = from + off;
            from = open + 1;
            if open > 0 && matches!(bytes[open - 1], b'$' | b'{' | b'%') {
                continue;
            }
            let name_len = bytes[open + 1..]
                .iter()
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'_')
                .count();
            let name_end = open + 1 + name_len;
            if name_len == 0 || !bytes[open + 1].is_ascii_lowercase() {
                continue;
            }
            let (close, default) = match bytes.get(name_end) {
                Some(b'}') => (name_end, None),
                Some(b'|') => match line[name_end + 1..].find(['}', '{']) {
                    Some(off) if bytes[name_end + 1 + off] == b'}' => (
                        name_end + 1 + off,
                        Some(&line[name_end + 1..name_end + 1 + off]),
                    ),
                    _ => continue,
                },
                _ => continue,
            };
            if bytes.get(close + 1) == Some(&b'}') {
                continue;
            }
            from = close + 1;
            return Some((open..close + 1, &line[open + 1..name_end], default));
        }
        None
    })
}

fn scan_placeholders(raw: &str, line: u32, rb: &mut Runbook) {
    for (_, name, default) in placeholders_in(raw) {
        match rb.placeholders.iter_mut().find(|p| p.name == name) {
            Some(p) => {
                if p.lines.last() != Some(&line) {
                    p.lines.push(line);
                }
                if p.default.is_none() {
                    p.default = default.map(str::to_string);
                }
            }
            None => rb.placeholders.push(Placeholder {
                name: name.to_string(),
                lines: vec![line],
                default: default.map(str::to_string),
            }),
        }
    }
    scan_near_misses(raw, line, rb);
}

/// `{Service Name}`, `{service-name}`: letters first, then letters, digits, spaces, `_`
/// and `-`, with a capital, a space or a hyphen that makes it invalid.
fn scan_near_misses(raw: &str, line: u32, rb: &mut Runbook) {
    let bytes = raw.as_bytes();
    let mut from = 0;
    while let Some(off) = raw[from..].find('{') {
        let open = from + off;
        from = open + 1;
        if open > 0 && matches!(bytes[open - 1], b'$' | b'{' | b'%') {
            continue;
        }
        let Some(len) = raw[open + 1..].find('}') else {
            break;
        };
        let inner = &raw[open + 1..open + 1 + len];
        let close = open + 1 + len;
        if len == 0
            || len > 40
            || bytes.get(close + 1) == Some(&b'}')
            || !inner.starts_with(|c: char| c.is_ascii_alphabetic())
            || !inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-'))
            || !inner
                .chars()
                .any(|c| c.is_ascii_uppercase() || matches!(c, ' ' | '-'))
        {
            continue;
        }
        let suggestion = inner
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect::<String>()
            .split('_')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        rb.near_misses.push(NearMiss {
            line,
            text: inner.to_string(),
            suggestion,
        });
        from = close + 1;
    }
}

/// Checks a runbook's structure: the required sections (Audit Trail included), a stage list
/// with a `**Gate**` in every stage and no empty gate, a `**Trigger**` in Rollback, a list of
/// Agent Rules with an escalation rule, every code fence closed, and brace groups that look
/// like broken placeholders. Every finding is a warning; nothing stops at the first.
pub fn lint(rb: &Runbook) -> Vec<Finding> {
    let mut out = Vec::new();
    let top = rb.title.as_ref().map_or(1, |t| t.line);
    let mut warn = |line: u32, message: String| {
        out.push(Finding {
            line,
            severity: Severity::Warning,
            message,
        })
    };
    for name in REQUIRED_SECTIONS {
        if rb.section(name).is_none() {
            warn(top, format!("runbook has no `## {name}` section"));
        }
    }
    if let Some(procedure) = rb.section("Procedure") {
        if rb.stages.is_empty() {
            warn(
                procedure.line,
                "`## Procedure` has no stages (`### Stage 1: ...`, each ending in a `**Gate**:` line)"
                    .into(),
            );
        }
    }
    for stage in rb.stages.iter().filter(|s| s.gates.is_empty()) {
        warn(
            stage.line,
            format!("stage `{}` has no `**Gate**:` line", stage.title),
        );
    }
    if let Some(rollback) = rb.section("Rollback") {
        if rb.rollback_triggers.is_empty() {
            warn(
                rollback.line,
                "`## Rollback` has no `**Trigger**:` line saying when to roll back".into(),
            );
        }
    }
    for &line in &rb.empty_gates {
        warn(
            line,
            "`**Gate**:` says nothing; write the yes/no question and the evidence that answers it"
                .into(),
        );
    }
    if let Some(rules) = rb.section("Agent Rules") {
        if rb.agent_rules.is_empty() {
            warn(
                rules.line,
                "`## Agent Rules` has no list of rules (`1. ...`)".into(),
            );
        } else if !rb
            .agent_rules
            .iter()
            .any(|r| r.text.to_ascii_lowercase().contains("escalat"))
        {
            warn(
                rules.line,
                "`## Agent Rules` has no escalation rule (when to stop and escalate, and to whom)"
                    .into(),
            );
        }
    }
    if let Some(line) = rb.unclosed_fence {
        warn(
            line,
            "this code fence is never closed; everything after it reads as code".into(),
        );
    }
    for miss in &rb.near_misses {
        warn(
            miss.line,
            format!(
                "`{{{}}}` is not a placeholder (names are lowercase letters, digits and `_`); did you mean `{{{}}}`?",
                miss.text, miss.suggestion
            ),
        );
    }
    out.sort_by_key(|f| f.line);
    out
}

/// Fills every placeholder of `text` (after its frontmatter, which is kept as is) from
/// `values`, or from its `{name|default}` default. Fails, naming every placeholder without
/// either, rather than leave one unfilled.
///
/// Inside a shell code block (fence info `sh`, `bash`, `shell`, `console`, ... or none) a
/// value can never add a command. Plain words (letters, digits, `_@%+=:,./-`, single spaces:
/// a host list) go in as they are; any other bare value is single-quoted
/// (`app-02; rm -rf /` renders `'app-02; rm -rf /'`); inside a quoted string, where the text
/// may be a command for another shell (`ssh host '...'`), such a value is refused
/// ([`Unquotable`]). A placeholder named `..._command` or `..._cmd` is shell code by design
/// and goes in as it is.
pub fn render(text: &str, values: &BTreeMap<String, String>) -> Result<String, RenderError> {
    let body_start = match frontmatter::split(text) {
        Ok(split) => text.len() - split.body.len(),
        Err(_) => 0,
    };
    let body = &text[body_start..];
    let defaults: BTreeMap<String, String> = parse_body(body, 1)
        .placeholders
        .into_iter()
        .filter_map(|p| Some((p.name, p.default?)))
        .collect();
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..body_start]);
    let mut missing: Vec<String> = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    let mut shell_block = false;
    // The quoting a shell line starts in: a quoted string may span lines.
    let mut carry = Quote::Bare;
    for (i, line) in body.split_inclusive('\n').enumerate() {
        let line_no = i as u32 + 1;
        let trimmed = line.trim_start();
        let was_open = fence.is_some();
        let fence_line = track_fence(&mut fence, trimmed);
        if fence_line && !was_open {
            shell_block = is_shell_info(trimmed.trim_start_matches(['`', '~']));
            carry = Quote::Bare;
        }
        let in_shell = fence.is_some() && was_open && shell_block;
        let start = carry;
        if in_shell {
            carry = quote_state(line, start);
        }
        let mut last = 0;
        for (range, name, _) in placeholders_in(line) {
            out.push_str(&line[last..range.start]);
            match values.get(name).or_else(|| defaults.get(name)) {
                Some(value) if in_shell && !is_code_name(name) => {
                    let quoted = shell_quote(value, quote_state(&line[..range.start], start));
                    out.push_str(&quoted.ok_or_else(|| Unquotable {
                        name: name.to_string(),
                        line: line_no,
                    })?);
                }
                Some(value) => out.push_str(value),
                None => {
                    if !missing.iter().any(|m| m == name) {
                        missing.push(name.to_string());
                    }
                    out.push_str(&line[range.clone()]);
                }
            }
            last = range.end;
        }
        out.push_str(&line[last..]);
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(Unfilled { names: missing }.into())
    }
}

/// A placeholder whose value is shell code by design (`smoke_test_command`).
fn is_code_name(name: &str) -> bool {
    name.ends_with("_command") || name.ends_with("_cmd")
}

/// True for the info string of a fence whose content is shell (or that names no language).
fn is_shell_info(info: &str) -> bool {
    let lang = info.split_whitespace().next().unwrap_or("");
    matches!(
        lang.to_ascii_lowercase().as_str(),
        "" | "sh" | "bash" | "shell" | "zsh" | "ksh" | "dash" | "console" | "shell-session"
    )
}

/// Where a shell word stands: bare, or inside `'...'` or `"..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Bare,
    Single,
    Double,
}

/// Where a shell word would stand after `prefix`, which starts in `state`. A `#` that starts
/// a bare word begins a comment, which quotes nothing and ends with the line.
fn quote_state(prefix: &str, mut state: Quote) -> Quote {
    let mut escaped = false;
    let mut word_start = true;
    for c in prefix.chars() {
        if escaped {
            escaped = false;
            word_start = false;
            continue;
        }
        if state == Quote::Bare && c == '#' && word_start {
            return Quote::Bare;
        }
        word_start = state == Quote::Bare && c.is_whitespace();
        state = match (state, c) {
            (Quote::Single, '\'') => Quote::Bare,
            (Quote::Single, _) => Quote::Single,
            (_, '\\') => {
                escaped = true;
                state
            }
            (Quote::Bare, '\'') => Quote::Single,
            (Quote::Bare, '"') => Quote::Double,
            (Quote::Double, '"') => Quote::Bare,
            (s, _) => s,
        };
    }
    state
}

/// `value` made safe for the shell at `state`, or `None` when it cannot be: plain words go
/// in as they are anywhere; anything else is single-quoted when bare and refused in quotes.
fn shell_quote(value: &str, state: Quote) -> Option<String> {
    let plain = value.split(' ').all(|word| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c))
    });
    if plain || value.is_empty() {
        return Some(value.to_string());
    }
    (state == Quote::Bare).then(|| format!("'{}'", value.replace('\'', "'\\''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        parse_body(text, 1)
            .placeholders
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    #[test]
    fn placeholder_syntax() {
        let check = |text: &str, expect: &[&str]| assert_eq!(names(text), expect, "{text:?}");
        check("{service_name} on {port}", &["service_name", "port"]);
        check("{a1_b} {a1_b}", &["a1_b"]);
        check("${VAR} ${var} {{args}} {x}} {{y}}", &[]);
        check("curl -w '%{http_code} %{time_total}'", &[]);
        check("{\"status\": \"ok\"} {Service} {9x} {_x} {a-b} {}", &[]);
        check("`{host}` and\n```\ncurl {url}\n```", &["host", "url"]);
        check("{a{b}}", &[]);
        check("{a{b}", &["b"]);
        check("x{y}z", &["y"]);
    }

    #[test]
    fn placeholder_lines_are_file_lines() {
        let rb = parse("---\nname: r\ndescription: d {not}\n---\n# T {a}\n\n{b} {a}\n{a}\n");
        assert_eq!(
            rb.placeholders,
            vec![
                Placeholder {
                    name: "a".into(),
                    lines: vec![5, 7, 8],
                    default: None,
                },
                Placeholder {
                    name: "b".into(),
                    lines: vec![7],
                    default: None,
                },
            ]
        );
    }

    const GOOD: &str = "\
# Deploy {service}

## Purpose
Deploy it.

## Prerequisites
- access

## Procedure

### Stage 1: Canary
```bash
# not a heading
## nor this
**Gate**: not a gate either
```
**Gate**: canary healthy.

### Stage 2: Rest
Do the rest.
**Gate**: all healthy.

## Verification
Check.

## Rollback
**Trigger rollback if**: errors.

## Agent Rules
1. Canary first.
2. Never skip a gate.
- DO NOT: guess.
   3. nested, not a rule
4. Escalate to the owner when the canary fails.

## Audit Trail
| Author | {author} |
";

    #[test]
    fn parses_structure() {
        let rb = parse_body(GOOD, 1);
        assert_eq!(
            rb.title,
            Some(Heading {
                text: "Deploy {service}".into(),
                line: 1
            })
        );
        let titles: Vec<(&str, u32, u32)> = rb
            .sections
            .iter()
            .map(|s| (s.title.as_str(), s.line, s.end_line))
            .collect();
        assert_eq!(
            titles,
            vec![
                ("Purpose", 3, 5),
                ("Prerequisites", 6, 8),
                ("Procedure", 9, 22),
                ("Verification", 23, 25),
                ("Rollback", 26, 28),
                ("Agent Rules", 29, 35),
                ("Audit Trail", 36, 37),
            ]
        );
        assert_eq!(
            rb.stages,
            vec![
                Stage {
                    title: "Stage 1: Canary".into(),
                    line: 11,
                    gates: vec![17]
                },
                Stage {
                    title: "Stage 2: Rest".into(),
                    line: 19,
                    gates: vec![21]
                },
            ]
        );
        assert_eq!(rb.rollback_triggers, vec![27]);
        let rules: Vec<(u32, Option<u32>, &str)> = rb
            .agent_rules
            .iter()
            .map(|r| (r.line, r.number, r.text.as_str()))
            .collect();
        assert_eq!(
            rules,
            vec![
                (30, Some(1), "Canary first."),
                (31, Some(2), "Never skip a gate."),
                (32, None, "DO NOT: guess."),
                (34, Some(4), "Escalate to the owner when the canary fails."),
            ]
        );
        assert_eq!(lint(&rb), vec![]);
    }

    fn check_lint(text: &str, expect: &[&str]) {
        let got: Vec<String> = lint(&parse_body(text, 1))
            .into_iter()
            .map(|f| format!("{}: {}", f.line, f.message))
            .collect();
        assert_eq!(got, expect, "{text}");
    }

    #[test]
    fn lint_findings() {
        check_lint(
            "# T\n## Purpose\n",
            &[
                "1: runbook has no `## Prerequisites` section",
                "1: runbook has no `## Procedure` section",
                "1: runbook has no `## Verification` section",
                "1: runbook has no `## Rollback` section",
                "1: runbook has no `## Agent Rules` section",
                "1: runbook has no `## Audit Trail` section",
            ],
        );
        let broken = GOOD
            .replace("**Gate**: all healthy.", "All healthy.")
            .replace("**Trigger rollback if**: errors.", "When it breaks.")
            .replace(
                "1. Canary first.\n2. Never skip a gate.\n- DO NOT: guess.\n",
                "",
            )
            .replace("4. Escalate to the owner when the canary fails.\n", "")
            .replace("Deploy it.", "Deploy {Service Name} to {host-list}.");
        check_lint(
            &broken,
            &[
                "4: `{Service Name}` is not a placeholder (names are lowercase letters, digits and `_`); did you mean `{service_name}`?",
                "4: `{host-list}` is not a placeholder (names are lowercase letters, digits and `_`); did you mean `{host_list}`?",
                "19: stage `Stage 2: Rest` has no `**Gate**:` line",
                "26: `## Rollback` has no `**Trigger**:` line saying when to roll back",
                "29: `## Agent Rules` has no list of rules (`1. ...`)",
            ],
        );
        check_lint(
            "# T\n## Purpose\n## Prerequisites\n## Procedure\nJust do it.\n## Verification\n## Rollback\n**Trigger**: x\n## agent rules\n1. escalate\n## Audit trail\n",
            &["4: `## Procedure` has no stages (`### Stage 1: ...`, each ending in a `**Gate**:` line)"],
        );
    }

    #[test]
    fn lint_gates_escalation_and_fences() {
        let gate = |g: &str| GOOD.replace("**Gate**: canary healthy.", g);
        check_lint(&gate("**Gate**: canary healthy."), &[]);
        check_lint(&gate("**Gate:** canary healthy."), &[]);
        // A gate whose question follows on the next lines is not empty.
        check_lint(&gate("**Gate**:\n- canary healthy"), &[]);
        let empty = "17: `**Gate**:` says nothing; write the yes/no question and the evidence that answers it";
        check_lint(&gate("**Gate**:"), &[empty]);
        check_lint(&gate("**Gate**:   "), &[empty]);
        check_lint(&gate("**Gate:**"), &[empty]);
        check_lint(&gate("**Gate**:\n"), &[empty]);
        check_lint(
            &GOOD.replace("4. Escalate to the owner when the canary fails.", "4. Be careful."),
            &["29: `## Agent Rules` has no escalation rule (when to stop and escalate, and to whom)"],
        );
        check_lint(
            &GOOD.replace("Check.", "```sh\ncurl -sf localhost"),
            &[
                "1: runbook has no `## Rollback` section",
                "1: runbook has no `## Agent Rules` section",
                "1: runbook has no `## Audit Trail` section",
                "24: this code fence is never closed; everything after it reads as code",
            ],
        );
        // The sections after it are swallowed, and said to be missing too.
        // A shorter or different closing fence does not close it.
        check_lint(
            &GOOD.replace("Check.", "````sh\nx\n```\n~~~~"),
            &[
                "1: runbook has no `## Rollback` section",
                "1: runbook has no `## Agent Rules` section",
                "1: runbook has no `## Audit Trail` section",
                "24: this code fence is never closed; everything after it reads as code",
            ],
        );
        check_lint(&GOOD.replace("Check.", "~~~\nx\n~~~~"), &[]);
    }

    #[test]
    fn near_misses_leave_code_alone() {
        let rb = parse_body("awk '{print $2}' {a,b} ${HOME} {{Name}} {x y z}", 1);
        assert_eq!(
            rb.near_misses,
            vec![NearMiss {
                line: 1,
                text: "x y z".into(),
                suggestion: "x_y_z".into()
            }]
        );
    }

    #[test]
    fn renders_or_names_every_unfilled() {
        let values: BTreeMap<String, String> = [("service", "api"), ("port", "8080")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let text =
            "---\ndescription: keeps {service}\n---\n# {service}\ncurl :{port}/ ${HOME} {{x}}\n";
        assert_eq!(
            render(text, &values).unwrap(),
            "---\ndescription: keeps {service}\n---\n# api\ncurl :8080/ ${HOME} {{x}}\n"
        );
        let RenderError::Unfilled(err) = render("{a} {service} {b} {a}", &values).unwrap_err()
        else {
            panic!("unfilled expected")
        };
        assert_eq!(err.names, vec!["a", "b"]);
        assert_eq!(err.to_string(), "no value for `a`, `b`");
        assert_eq!(
            render("no placeholders\r\n", &BTreeMap::new()).unwrap(),
            "no placeholders\r\n"
        );
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_make_placeholders_optional() {
        let check = |text: &str, given: &[(&str, &str)], expect: Result<&str, &[&str]>| {
            let got = render(text, &values(given));
            match (got, expect) {
                (got, Ok(want)) => assert_eq!(got.as_deref(), Ok(want), "{text}"),
                (Err(RenderError::Unfilled(u)), Err(names)) => assert_eq!(u.names, names, "{text}"),
                (got, Err(_)) => panic!("{text}: {got:?}"),
            }
        };
        check("{batch|1} hosts", &[], Ok("1 hosts"));
        check("{batch|1} hosts", &[("batch", "3")], Ok("3 hosts"));
        check("[{note|}]", &[], Ok("[]"));
        // One default covers every use of the name.
        check("{n|2} then {n}", &[], Ok("2 then 2"));
        check("{n} then {n|2}", &[], Ok("2 then 2"));
        check("{a|x y z} {b}", &[], Err(&["b"]));
        // Not placeholders: a brace inside the default, a shell `${x|y}`, JSON.
        check("{a|{b} c}", &[("b", "B")], Ok("{a|B c}"));
        check("${x|y} {\"a\": 1}", &[], Ok("${x|y} {\"a\": 1}"));
        let rb = parse_body("{a|1} {b} {a}", 1);
        let defaults: Vec<(&str, Option<&str>)> = rb
            .placeholders
            .iter()
            .map(|p| (p.name.as_str(), p.default.as_deref()))
            .collect();
        assert_eq!(defaults, vec![("a", Some("1")), ("b", None)]);
    }

    #[test]
    fn values_in_shell_blocks_are_quoted_where_they_stand() {
        let render_one = |block: &str, value: &str| {
            render(&format!("{block}\n"), &values(&[("v", value)]))
                .map(|out| out.trim_end_matches('\n').to_string())
        };
        let check = |block: &str, value: &str, expect: &str| {
            assert_eq!(
                render_one(block, value).as_deref(),
                Ok(expect),
                "{block} with {value:?}"
            );
        };
        let refused = |block: &str, value: &str, line: u32| {
            assert_eq!(
                render_one(block, value),
                Err(RenderError::Unquotable(Unquotable {
                    name: "v".into(),
                    line
                })),
                "{block} with {value:?}"
            );
        };
        let sh = |line: &str| format!("```sh\n{line}\n```");
        check(
            &sh("for h in {v}; do"),
            "app-01 app-02",
            &sh("for h in app-01 app-02; do"),
        );
        check(
            &sh("for h in {v}; do"),
            "app-02; rm -rf /",
            &sh("for h in 'app-02; rm -rf /'; do"),
        );
        check(&sh("echo {v}"), "it's", &sh("echo 'it'\\''s'"));
        check(&sh("echo {v}"), "$(id)", &sh("echo '$(id)'"));
        check(&sh("ls {v}"), "/srv/app-1.2", &sh("ls /srv/app-1.2"));
        check(&sh("x=\\\"{v}"), "a;b", &sh("x=\\\"'a;b'"));
        check(&sh("run {v}"), "", &sh("run "));
        check("```\nrun {v}\n```", "a;b", "```\nrun 'a;b'\n```");
        check("~~~bash\nrun {v}\n~~~", "a;b", "~~~bash\nrun 'a;b'\n~~~");
        // Plain words inside quotes are fine; anything else there is refused.
        check(
            &sh("curl \"http://x/{v}\""),
            "v1/ping",
            &sh("curl \"http://x/v1/ping\""),
        );
        check(
            &sh("ssh h 'systemctl stop {v}'"),
            "billing-api",
            &sh("ssh h 'systemctl stop billing-api'"),
        );
        refused(&sh("curl \"http://x/{v}\""), "a\"b", 2);
        refused(&sh("ssh h 'rm {v}.bak'"), "x'; rm -rf /; '", 2);
        refused(&sh("ssh h \"rm {v}.bak\""), "x; rm -rf /", 2);
        // A quoted string that spans lines keeps its quoting on the next line.
        refused(&sh("ssh h 'one\n  {v}'"), "a;b", 3);
        check(&sh("ssh h 'one\n  {v}'"), "a b", &sh("ssh h 'one\n  a b'"));
        // A quote in a comment changes nothing; each block starts bare.
        check(
            &sh("ls # don't\nrun {v}"),
            "a;b",
            &sh("ls # don't\nrun 'a;b'"),
        );
        check(
            &format!("{}\n{}", sh("echo 'open"), sh("run {v}")),
            "a;b",
            &format!("{}\n{}", sh("echo 'open"), sh("run 'a;b'")),
        );
        // `..._command` placeholders are shell code by design.
        let code = render(
            "```sh\n{smoke_command}\n```\n",
            &values(&[("smoke_command", "curl -sf x | grep ok")]),
        );
        assert_eq!(code.as_deref(), Ok("```sh\ncurl -sf x | grep ok\n```\n"));
        // Prose, other languages and inline code take the value as it is.
        check("Deploy {v} now.", "a;b", "Deploy a;b now.");
        check(
            "```json\n{\"h\": \"{v}\"}\n```",
            "a;b",
            "```json\n{\"h\": \"a;b\"}\n```",
        );
        check("`run {v}`", "a;b", "`run a;b`");
    }

    /// The property that matters, checked by a real shell: a rendered bare value is one
    /// word holding exactly the value, whatever it contains.
    #[cfg(unix)]
    #[test]
    fn a_bare_value_is_exactly_one_shell_word() {
        for value in [
            "a;b",
            "x'; echo INJECTED; '",
            "$(echo INJECTED)",
            "`id`",
            "a b\tc",
            "*",
            "\\n",
            "\"q\"",
        ] {
            let out = render("```sh\nprintf '[%s]' {v}\n```\n", &values(&[("v", value)])).unwrap();
            let command = out.lines().nth(1).unwrap();
            let ran = std::process::Command::new("sh")
                .args(["-c", command])
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&ran.stdout),
                format!("[{value}]"),
                "{command}"
            );
        }
    }
}
