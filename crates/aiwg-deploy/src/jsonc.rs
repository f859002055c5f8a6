//! A span-preserving editor for JSON and JSON with comments (JSONC): aiwg changes only the bytes
//! of the members and array items it owns, so the user's layout, comments and trailing commas
//! survive, and removing what aiwg added gives back the exact bytes it started from.
//!
//! The document is parsed into a tree of byte spans (no values are re-printed). Every edit is a
//! splice of the text followed by a re-parse, and each insertion has an exact inverse:
//!
//! - appended after the last element of a multi-line container: a `,` right after the last
//!   value, then newline + the last element's indentation + the new element, placed after any
//!   comment on the last element's line (or, with a trailing comma, after it and before a new
//!   trailing comma). Removal takes out that comma and everything from the end of the previous
//!   token or comment to the end of the element.
//! - in a one-line container: `,` + the separator the container already uses + the element.
//! - into an empty container: newline + indentation + element (+ newline + the container's
//!   indentation when the braces were on one line); a compact document gets `{"k": v}`.
//! - a replaced value keeps the member's key and everything around it.
//!
//! New values are printed in the document's style: its newline (LF or CRLF), indent unit
//! (inferred from the first indented member, two spaces by default), `:` spacing, and one-line
//! or multi-line layout of the container they go into.

use serde_json::Value;

/// Deepest nesting accepted, so a hostile file cannot overflow the stack.
const MAX_DEPTH: usize = 256;

/// A parsed value: where it is, and its children for objects and arrays.
#[derive(Debug, Clone)]
struct Node {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Object(Vec<Element>),
    Array(Vec<Element>),
    Scalar,
}

/// A member of an object (with `key`) or an item of an array.
#[derive(Debug, Clone)]
struct Element {
    key: Option<String>,
    /// Start of the key (members) or of the value (items).
    start: usize,
    /// End of the key, for members.
    key_end: usize,
    value: Node,
    /// The comma after the value, if any.
    comma: Option<usize>,
    /// End of the last token or comment before `start`.
    lead: usize,
}

impl Element {
    /// End of the element without its comma.
    fn end(&self) -> usize {
        self.value.end
    }
}

/// Why a document cannot be parsed: the line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line of the problem.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// End of the last token or comment consumed.
    last: usize,
}

impl<'a> Parser<'a> {
    fn error<T>(&self, at: usize, message: impl Into<String>) -> Result<T, ParseError> {
        let at = at.min(self.text.len());
        Err(ParseError {
            line: self.text.as_bytes()[..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1,
            message: message.into(),
        })
    }

    /// Skips whitespace and comments.
    fn skip(&mut self) -> Result<(), ParseError> {
        loop {
            match self.bytes.get(self.pos) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                    while !matches!(self.bytes.get(self.pos), None | Some(b'\n' | b'\r')) {
                        self.pos += 1;
                    }
                    self.last = self.pos;
                }
                Some(b'/') if self.bytes.get(self.pos + 1) == Some(&b'*') => {
                    let Some(close) = self.text[self.pos + 2..].find("*/") else {
                        return self.error(self.pos, "a `/*` comment is never closed");
                    };
                    self.pos += 2 + close + 2;
                    self.last = self.pos;
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, ParseError> {
        if depth > MAX_DEPTH {
            return self.error(self.pos, "nested too deeply");
        }
        let start = self.pos;
        match self.bytes.get(self.pos) {
            None => self.error(start, "unexpected end of file, expected a value"),
            Some(b'{') => self.container(b'}', depth),
            Some(b'[') => self.container(b']', depth),
            Some(b'"') => {
                self.string()?;
                Ok(self.scalar(start))
            }
            Some(_) => {
                while !matches!(
                    self.bytes.get(self.pos),
                    None | Some(b',' | b']' | b'}' | b':' | b'/' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                match serde_json::from_str::<Value>(word) {
                    Ok(v) if !v.is_object() && !v.is_array() && !word.is_empty() => {
                        Ok(self.scalar(start))
                    }
                    _ => {
                        let shown: String = self.text[start..].chars().take(12).collect();
                        self.error(start, format!("expected a value at `{shown}`"))
                    }
                }
            }
        }
    }

    fn scalar(&mut self, start: usize) -> Node {
        self.last = self.pos;
        Node {
            start,
            end: self.pos,
            kind: Kind::Scalar,
        }
    }

    /// A string starting at `pos`; returns its value.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.bytes.get(self.pos) {
                None | Some(b'\n') => return self.error(start, "a string is never closed"),
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += 1,
            }
        }
        match serde_json::from_str::<String>(&self.text[start..self.pos.min(self.text.len())]) {
            Ok(s) => {
                self.last = self.pos;
                Ok(s)
            }
            Err(e) => self.error(start, format!("bad string: {e}")),
        }
    }

    fn container(&mut self, close: u8, depth: usize) -> Result<Node, ParseError> {
        let start = self.pos;
        self.pos += 1;
        self.last = self.pos;
        let object = close == b'}';
        let mut elements: Vec<Element> = Vec::new();
        let mut keys: std::collections::HashSet<String> = std::collections::HashSet::new();
        loop {
            self.skip()?;
            if self.bytes.get(self.pos) == Some(&close) {
                break;
            }
            if elements.last().is_some_and(|e| e.comma.is_none()) {
                return self.error(self.pos, format!("expected `,` or `{}`", close as char));
            }
            let lead = self.last;
            let el_start = self.pos;
            let (key, key_end) = if object {
                if self.bytes.get(self.pos) != Some(&b'"') {
                    return self.error(self.pos, "expected a quoted key");
                }
                let key = self.string()?;
                if !keys.insert(key.clone()) {
                    return self
                        .error(el_start, format!("key `{key}` appears twice in one object"));
                }
                let key_end = self.pos;
                self.skip()?;
                if self.bytes.get(self.pos) != Some(&b':') {
                    return self.error(self.pos, format!("expected `:` after key `{key}`"));
                }
                self.pos += 1;
                self.last = self.pos;
                self.skip()?;
                (Some(key), key_end)
            } else {
                (None, el_start)
            };
            let value = self.value(depth + 1)?;
            self.skip()?;
            let comma = if self.bytes.get(self.pos) == Some(&b',') {
                self.pos += 1;
                self.last = self.pos;
                Some(self.pos - 1)
            } else {
                None
            };
            elements.push(Element {
                key,
                start: el_start,
                key_end,
                value,
                comma,
                lead,
            });
            if self.pos >= self.bytes.len() {
                break;
            }
        }
        if self.bytes.get(self.pos) != Some(&close) {
            return self.error(
                start,
                format!("`{}` is never closed", if object { '{' } else { '[' }),
            );
        }
        self.pos += 1;
        self.last = self.pos;
        Ok(Node {
            start,
            end: self.pos,
            kind: if object {
                Kind::Object(elements)
            } else {
                Kind::Array(elements)
            },
        })
    }
}

fn parse_tree(text: &str) -> Result<Node, ParseError> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        last: 0,
    };
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.skip()?;
    let root = p.value(0)?;
    p.skip()?;
    if p.pos < text.len() {
        return p.error(p.pos, "unexpected text after the document");
    }
    Ok(root)
}

/// How the document writes JSON: what new text is printed like.
#[derive(Debug, Clone)]
struct Style {
    newline: &'static str,
    unit: String,
    colon: String,
    /// The root is one line: new containers are printed on one line too.
    compact: bool,
}

fn infer_style(text: &str, root: &Node) -> Style {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let compact = !text[root.start..root.end].contains('\n')
        && matches!(&root.kind, Kind::Object(e) | Kind::Array(e) if !e.is_empty());
    let mut unit = None;
    let mut colon = None;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        let (Kind::Object(elements) | Kind::Array(elements)) = &node.kind else {
            continue;
        };
        if let Some(first) = elements.first() {
            // Only a first element on a line of its own shows the unit (checked first: it looks
            // back over the indentation only, so a one-line document with thousands of
            // containers stays linear).
            if unit.is_none() && starts_line(text, first.start) {
                let outer = line_indent(text, node.start);
                let inner = line_indent(text, first.start);
                if inner.len() > outer.len() {
                    unit = inner.strip_prefix(outer).map(str::to_string);
                }
            }
            if colon.is_none() && first.key.is_some() {
                let between = &text[first.key_end..first.value.start];
                if !between.contains(['\n', '\r', '/']) {
                    colon = Some(between.to_string());
                }
            }
        }
        stack.extend(elements.iter().rev().map(|e| &e.value));
    }
    Style {
        newline,
        unit: unit.unwrap_or_else(|| "  ".into()),
        colon: colon.unwrap_or_else(|| ": ".into()),
        compact,
    }
}

/// The leading whitespace of the line holding `pos`.
fn line_indent(text: &str, pos: usize) -> &str {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// True when only whitespace precedes `pos` on its line.
fn starts_line(text: &str, pos: usize) -> bool {
    let before = text[..pos].trim_end_matches([' ', '\t']);
    before.is_empty() || before.ends_with('\n')
}

/// The newline (LF or CRLF) at `pos`, if there is one.
fn newline_at(text: &str, pos: usize) -> Option<&'static str> {
    let rest = &text[pos..];
    if rest.starts_with("\r\n") {
        Some("\r\n")
    } else if rest.starts_with('\n') {
        Some("\n")
    } else {
        None
    }
}

impl Style {
    /// `value` printed at indentation `base`, on one line or several.
    fn render(&self, value: &Value, base: &str, multiline: bool) -> String {
        let mut out = String::new();
        self.write(&mut out, value, base, multiline);
        out
    }

    fn write(&self, out: &mut String, value: &Value, base: &str, multiline: bool) {
        let (open, close, items): (char, char, Vec<(Option<&String>, &Value)>) = match value {
            Value::Object(map) => ('{', '}', map.iter().map(|(k, v)| (Some(k), v)).collect()),
            Value::Array(items) => ('[', ']', items.iter().map(|v| (None, v)).collect()),
            scalar => {
                out.push_str(&scalar.to_string());
                return;
            }
        };
        out.push(open);
        let inner = format!("{base}{}", self.unit);
        let sep = if self.colon.ends_with(' ') { " " } else { "" };
        for (i, (key, v)) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
                if !multiline {
                    out.push_str(sep);
                }
            }
            if multiline {
                out.push_str(self.newline);
                out.push_str(&inner);
            }
            if let Some(key) = key {
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push_str(&self.colon);
            }
            self.write(out, v, &inner, multiline);
        }
        if multiline && !items.is_empty() {
            out.push_str(self.newline);
            out.push_str(base);
        }
        out.push(close);
    }
}

/// A JSON(C) document whose root is an object, edited in place.
#[derive(Debug, Clone)]
pub struct JsonDoc {
    text: String,
    root: Node,
    style: Style,
}

/// One splice of the text.
struct Splice {
    at: usize,
    remove: usize,
    insert: String,
}

impl JsonDoc {
    /// Parses `text`; an empty (whitespace-only) text is an empty object that aiwg prints
    /// pretty with two spaces and a final newline.
    pub fn parse(text: &str) -> Result<JsonDoc, ParseError> {
        let text = if text.trim().is_empty() { "{}\n" } else { text };
        let root = parse_tree(text)?;
        if !matches!(root.kind, Kind::Object(_)) {
            return Err(ParseError {
                line: 1,
                message: "the document is not an object".into(),
            });
        }
        let style = infer_style(text, &root);
        Ok(JsonDoc {
            text: text.to_string(),
            root,
            style,
        })
    }

    /// The text now.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when the document is `{}` and nothing else (no comments).
    pub fn is_empty(&self) -> bool {
        let mut rest = self.text.trim_start_matches('\u{feff}').trim();
        rest = rest.strip_prefix('{').unwrap_or(rest).trim_start();
        rest == "}"
    }

    /// The value at `key`.
    pub fn get(&self, key: &[String]) -> Option<Value> {
        self.find(key).map(|n| self.value_of(n))
    }

    fn value_of(&self, node: &Node) -> Value {
        match &node.kind {
            Kind::Object(elements) => Value::Object(
                elements
                    .iter()
                    .map(|e| (e.key.clone().unwrap_or_default(), self.value_of(&e.value)))
                    .collect(),
            ),
            Kind::Array(elements) => {
                Value::Array(elements.iter().map(|e| self.value_of(&e.value)).collect())
            }
            Kind::Scalar => {
                serde_json::from_str(&self.text[node.start..node.end]).unwrap_or(Value::Null)
            }
        }
    }

    fn find(&self, key: &[String]) -> Option<&Node> {
        let mut node = &self.root;
        for k in key {
            let Kind::Object(elements) = &node.kind else {
                return None;
            };
            node = &elements.iter().find(|e| e.key.as_ref() == Some(k))?.value;
        }
        Some(node)
    }

    /// Applies non-overlapping splices; if the result would not parse (a bug in aiwg), the
    /// document is left as it was and the edit is an error rather than a broken file.
    fn apply(&mut self, mut splices: Vec<Splice>) -> Result<(), String> {
        splices.sort_by_key(|s| std::cmp::Reverse(s.at));
        let mut text = self.text.clone();
        for s in splices {
            text.replace_range(s.at..s.at + s.remove, &s.insert);
        }
        match parse_tree(&text) {
            Ok(root) => {
                self.text = text;
                self.root = root;
                Ok(())
            }
            Err(e) => Err(format!(
                "aiwg's edit would leave invalid JSON (line {}: {}); please report this",
                e.line, e.message
            )),
        }
    }

    /// Whether new elements of `node` go on their own lines.
    fn multiline(&self, node: &Node) -> bool {
        match &node.kind {
            Kind::Object(e) | Kind::Array(e) if !e.is_empty() => {
                self.text[node.start..e[0].start].contains('\n')
            }
            _ => !self.style.compact,
        }
    }

    /// The splices that append `element` (a member `"key": ` prefix included, or an item) to
    /// the container `node`; `value` is printed with the element's indentation.
    fn insertion(&self, node: &Node, key: Option<&str>, value: &Value) -> Vec<Splice> {
        let (Kind::Object(elements) | Kind::Array(elements)) = &node.kind else {
            unreachable!("insertion into a container")
        };
        let multiline = self.multiline(node);
        let nl = self.style.newline;
        let indent = match elements.last() {
            Some(last) => line_indent(&self.text, last.start).to_string(),
            None => format!("{}{}", line_indent(&self.text, node.start), self.style.unit),
        };
        let mut element = String::new();
        if let Some(key) = key {
            element.push_str(&Value::String(key.to_string()).to_string());
            element.push_str(&self.style.colon);
        }
        element.push_str(&self.style.render(value, &indent, multiline));
        let at = |at: usize, insert: String| Splice {
            at,
            remove: 0,
            insert,
        };
        let Some(last) = elements.last() else {
            let inside = &self.text[node.start + 1..node.end - 1];
            if !multiline {
                return vec![at(node.start + 1, element)];
            }
            if inside.contains('\n') {
                let anchor = self.same_line_end(node.start + 1);
                return vec![at(anchor, format!("{nl}{indent}{element}"))];
            }
            let outer = line_indent(&self.text, node.start);
            return vec![at(
                node.start + 1,
                format!("{nl}{indent}{element}{nl}{outer}"),
            )];
        };
        let sep = self.separator(elements);
        match (last.comma, multiline) {
            (Some(comma), true) => {
                let anchor = self.same_line_end(comma + 1);
                vec![at(anchor, format!("{nl}{indent}{element},"))]
            }
            (Some(comma), false) => vec![at(comma + 1, format!("{sep}{element},"))],
            (None, true) => {
                let anchor = self.same_line_end(last.end());
                if anchor == last.end() {
                    return vec![at(anchor, format!(",{nl}{indent}{element}"))];
                }
                vec![
                    at(last.end(), ",".into()),
                    at(anchor, format!("{nl}{indent}{element}")),
                ]
            }
            (None, false) => vec![at(last.end(), format!(",{sep}{element}"))],
        }
    }

    /// The end of the comments that follow `pos` on its line, or `pos` when there are none.
    fn same_line_end(&self, pos: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = pos;
        let mut end = pos;
        loop {
            match bytes.get(i) {
                Some(b' ' | b'\t') => i += 1,
                Some(b'/') if bytes.get(i + 1) == Some(&b'/') => {
                    while !matches!(bytes.get(i), None | Some(b'\n' | b'\r')) {
                        i += 1;
                    }
                    return i;
                }
                Some(b'/') if bytes.get(i + 1) == Some(&b'*') => {
                    match self.text[i + 2..].find("*/") {
                        Some(c) if !self.text[i..i + 2 + c].contains('\n') => {
                            i += 2 + c + 2;
                            end = i;
                        }
                        _ => return end,
                    }
                }
                _ => return end,
            }
        }
    }

    /// What follows a comma in a one-line container: its own habit, else the document's.
    fn separator(&self, elements: &[Element]) -> String {
        let from_siblings = elements.windows(2).find_map(|w| {
            let between = &self.text[w[0].comma? + 1..w[1].start];
            (!between.contains(['\n', '\r', '/'])).then(|| between.to_string())
        });
        from_siblings.unwrap_or_else(|| {
            if self.style.colon.ends_with(' ') {
                " ".into()
            } else {
                String::new()
            }
        })
    }

    /// The splices that remove element `i` of `node` with its comma and the whitespace that
    /// [`JsonDoc::insertion`] adds with it.
    fn removal(&self, node: &Node, i: usize) -> Vec<Splice> {
        let (Kind::Object(elements) | Kind::Array(elements)) = &node.kind else {
            unreachable!("removal from a container")
        };
        let cut = |from: usize, to: usize| Splice {
            at: from,
            remove: to - from,
            insert: String::new(),
        };
        let el = &elements[i];
        let n = elements.len();
        let through_comma = el.comma.map_or(el.end(), |c| c + 1);
        if n == 1 {
            let mut to = through_comma;
            let inside_after = &self.text[to..node.end - 1];
            if let Some(nl) = newline_at(&self.text, to) {
                let outer = line_indent(&self.text, node.start);
                let rest = &inside_after[nl.len()..];
                if let Some(tail) = rest.strip_prefix(outer) {
                    // Only what an insertion into `{}` added: it starts right after the brace.
                    if !tail.contains('\n') && el.lead == node.start + 1 {
                        to += nl.len() + outer.len();
                    }
                }
            }
            return vec![cut(el.lead, to)];
        }
        if i + 1 < n {
            if i == 0 {
                let next = &elements[1];
                let comma = el.comma.expect("a comma separates elements");
                let between = &self.text[comma + 1..next.start];
                if !between.contains('/') {
                    return vec![cut(el.start, next.start)];
                }
            }
            return vec![cut(el.lead, through_comma)];
        }
        if el.comma.is_some() {
            return vec![cut(el.lead, through_comma)];
        }
        let prev_comma = elements[i - 1].comma.expect("a comma separates elements");
        vec![cut(prev_comma, prev_comma + 1), cut(el.lead, el.end())]
    }

    /// Sets `key` to `value`: replaces the value in place, or appends a member (with any
    /// missing parent objects) to the deepest existing object.
    pub fn set(&mut self, key: &[String], value: &Value) -> Result<(), String> {
        let mut node = &self.root;
        for (depth, k) in key.iter().enumerate() {
            let Kind::Object(elements) = &node.kind else {
                return Err(format!("`{}` is not an object", key[..depth].join(".")));
            };
            match elements.iter().find(|e| e.key.as_ref() == Some(k)) {
                Some(el) if depth + 1 == key.len() => {
                    let splice = self.replacement(node, el, value);
                    return self.apply(vec![splice]);
                }
                Some(el) => node = &el.value,
                None => {
                    let nested = key[depth + 1..].iter().rev().fold(value.clone(), |v, k| {
                        Value::Object([(k.clone(), v)].into_iter().collect())
                    });
                    let splices = self.insertion(node, Some(k), &nested);
                    return self.apply(splices);
                }
            }
        }
        Err("an empty key cannot be set".into())
    }

    fn replacement(&self, container: &Node, el: &Element, value: &Value) -> Splice {
        let indent = line_indent(&self.text, el.start);
        Splice {
            at: el.value.start,
            remove: el.value.end - el.value.start,
            insert: self.style.render(value, indent, self.multiline(container)),
        }
    }

    /// The array at `key` and its items; `Err` when something else is there.
    fn array(&self, key: &[String]) -> Result<Option<&Node>, String> {
        match self.find(key) {
            None => Ok(None),
            Some(node) if matches!(node.kind, Kind::Array(_)) => Ok(Some(node)),
            Some(_) => Err(format!("`{}` is not an array", key.join("."))),
        }
    }

    /// Appends `item` to the array at `key`, creating the array (and parents) when absent.
    pub fn push_item(&mut self, key: &[String], item: &Value) -> Result<(), String> {
        match self.array(key)? {
            None => self.set(key, &Value::Array(vec![item.clone()])),
            Some(node) => {
                let splices = self.insertion(node, None, item);
                self.apply(splices)
            }
        }
    }

    /// Replaces item `at` of the array at `key`.
    pub fn replace_item(&mut self, key: &[String], at: usize, item: &Value) -> Result<(), String> {
        let node = self.array(key)?.ok_or("the array is gone")?;
        let Kind::Array(elements) = &node.kind else {
            unreachable!("checked by array()")
        };
        let el = elements.get(at).ok_or("the item is gone")?;
        let splice = self.replacement(node, el, item);
        self.apply(vec![splice])
    }

    /// Removes item `at` of the array at `key`; an array left empty goes too, with the objects
    /// that leaves empty.
    pub fn remove_item(&mut self, key: &[String], at: usize) -> Result<(), String> {
        let Ok(Some(node)) = self.array(key) else {
            return Ok(());
        };
        let Kind::Array(elements) = &node.kind else {
            return Ok(());
        };
        if elements.len() == 1 && at == 0 {
            self.remove(key)
        } else if at < elements.len() {
            let splices = self.removal(node, at);
            self.apply(splices)
        } else {
            Ok(())
        }
    }

    /// Removes the member at `key`, then every object it leaves empty (not the root).
    pub fn remove(&mut self, key: &[String]) -> Result<(), String> {
        let mut len = key.len();
        while len > 0 {
            let (last, parents) = key[..len].split_last().expect("len > 0");
            let Some(parent) = self.find(parents) else {
                return Ok(());
            };
            let Kind::Object(elements) = &parent.kind else {
                return Ok(());
            };
            let Some(i) = elements.iter().position(|e| e.key.as_ref() == Some(last)) else {
                return Ok(());
            };
            let emptied = elements.len() == 1;
            let splices = self.removal(parent, i);
            self.apply(splices)?;
            if !emptied {
                return Ok(());
            }
            len -= 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> Vec<String> {
        k.split('.').map(str::to_string).collect()
    }

    fn check_parse_error(text: &str, line: usize, message: &str) {
        let err = JsonDoc::parse(text).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err:?}");
        assert!(err.message.contains(message), "{text:?}: {err:?}");
    }

    #[test]
    fn refuses_what_is_not_json() {
        check_parse_error("[1]", 1, "not an object");
        check_parse_error("{\n\"a\": }", 2, "expected a value");
        check_parse_error("{\"a\": 1 \"b\": 2}", 1, "expected `,`");
        check_parse_error("{\"a\": 1, \"a\": 2}", 1, "appears twice");
        check_parse_error("{\n/* open", 2, "never closed");
        check_parse_error("{\"a\": tru}", 1, "expected a value");
        check_parse_error("{\"a\": 1}}", 1, "after the document");
        check_parse_error("{\"a\": [1, 2}", 1, "expected `,` or `]`");
        check_parse_error(&"[".repeat(1000), 1, "nested too deeply");
        check_parse_error("{\"a\n\": 1}", 1, "never closed");
    }

    #[test]
    fn reads_values_through_comments_and_trailing_commas() {
        let doc = JsonDoc::parse(
            "\u{feff}// c\n{\"a\": {\"b\": [1, \"x\", null, true, -2.5e3,], /* k */ \"c\": {},},}",
        )
        .unwrap();
        assert_eq!(
            doc.get(&key("a")).unwrap(),
            json!({"b": [1, "x", null, true, -2.5e3], "c": {}})
        );
        assert_eq!(doc.get(&key("a.b.c")), None);
        assert!(JsonDoc::parse("{ /* x */ }")
            .map(|d| !d.is_empty())
            .unwrap());
        assert!(JsonDoc::parse("\n{ }\n").unwrap().is_empty());
    }

    /// `set` of `key` then `remove` of it is the identity, and the middle text is `merged`.
    fn check_set(before: &str, k: &str, value: Value, merged: &str) {
        let mut doc = JsonDoc::parse(before).unwrap();
        doc.set(&key(k), &value).unwrap();
        assert_eq!(doc.text(), merged, "{before:?}");
        assert_eq!(doc.get(&key(k)), Some(value));
        doc.remove(&key(k)).unwrap();
        assert_eq!(doc.text(), before, "{merged:?}");
    }

    #[test]
    fn set_then_remove_is_the_identity() {
        check_set("{}", "a", json!(1), "{\n  \"a\": 1\n}");
        check_set(
            "{}",
            "a.b",
            json!([]),
            "{\n  \"a\": {\n    \"b\": []\n  }\n}",
        );
        check_set("{ /* x */ }", "a", json!(1), "{\n  \"a\": 1\n /* x */ }");
        check_set(
            "{ // nothing yet\n}",
            "a",
            json!(1),
            "{ // nothing yet\n  \"a\": 1\n}",
        );
        check_set(
            "{\"x\":{\"z\":0}}",
            "x.y",
            json!(1),
            "{\"x\":{\"z\":0,\"y\":1}}",
        );
        check_set(
            "{\n\t\"x\": 1\n}",
            "y",
            json!({"z": [1, 2]}),
            "{\n\t\"x\": 1,\n\t\"y\": {\n\t\t\"z\": [\n\t\t\t1,\n\t\t\t2\n\t\t]\n\t}\n}",
        );
        check_set(
            "{\n  \"x\": 1, /* a */ /* b */\n}",
            "y",
            json!(2),
            "{\n  \"x\": 1, /* a */ /* b */\n  \"y\": 2,\n}",
        );
        check_set(
            "{\"a\" : 1 ,\"b\" : 2}",
            "c",
            json!(3),
            "{\"a\" : 1 ,\"b\" : 2,\"c\" : 3}",
        );
    }

    #[test]
    fn items_are_pushed_replaced_and_removed_in_place() {
        let before = "{\"l\": [\n    1, // one\n    2\n  ]}";
        let mut doc = JsonDoc::parse(before).unwrap();
        doc.push_item(&key("l"), &json!({"k": 3})).unwrap();
        assert_eq!(
            doc.text(),
            "{\"l\": [\n    1, // one\n    2,\n    {\n        \"k\": 3\n    }\n  ]}"
        );
        doc.replace_item(&key("l"), 2, &json!(4)).unwrap();
        assert_eq!(doc.text(), "{\"l\": [\n    1, // one\n    2,\n    4\n  ]}");
        doc.remove_item(&key("l"), 2).unwrap();
        assert_eq!(doc.text(), before);
        // A first item the user's comment follows: the comment stays.
        doc.remove_item(&key("l"), 0).unwrap();
        assert_eq!(doc.text(), "{\"l\": [ // one\n    2\n  ]}");
        doc.remove_item(&key("l"), 0).unwrap();
        assert_eq!(doc.text(), "{}");
        assert_eq!(
            JsonDoc::parse("{\"l\": 1}")
                .unwrap()
                .push_item(&key("l"), &json!(1)),
            Err("`l` is not an array".to_string())
        );
    }
}
