//! Merged keys in a YAML file, edited as lines: aiwg owns children of one top-level block
//! mapping key (`extensions:`, `mcp_servers:`) and nothing else.
//!
//! An owned child is a block of whole lines that aiwg renders itself (block mappings, every
//! string double-quoted and escaped), inserted at its siblings' indentation (two spaces under
//! a new or empty parent). Its extent is its key line up to the next sibling's key line (or the
//! next top-level key, or the end), less the blank and comment lines that end it: those belong
//! to what follows. Its value is what yaml-rust2 reads only while the extent is exactly what
//! aiwg renders for that value, so any hand edit of its bytes is a conflict, and removing it
//! deletes exactly the lines aiwg added. After every edit the text is parsed again and must
//! give the old document with exactly that one change. Anything else is refused: flow style,
//! anchors, aliases or tags in the parent, tabs, several documents, a duplicated key, a file
//! over [`MAX_YAML_BYTES`].

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::Marker;
use yaml_rust2::{Yaml, YamlLoader};

/// Largest YAML file aiwg merges into (each edit parses it again).
pub const MAX_YAML_BYTES: usize = 4 << 20;

/// Deepest nesting aiwg reads in a YAML file it merges into (configs nest a few levels).
pub const MAX_DEPTH: usize = 64;

/// A YAML file and where its top-level keys and the children of the parents aiwg edits are.
pub struct YamlDoc {
    text: String,
    eol: &'static str,
    parents: Vec<String>,
    /// Byte offset of the start of each line, and the text's length at the end.
    starts: Vec<usize>,
    /// Every top-level key and its line (0-based).
    top: Vec<(String, usize)>,
    /// The parsed document (`Null` when empty).
    root: Yaml,
}

/// A position in the file for an error message: `line N`.
fn at(line: usize, why: &str) -> String {
    format!("line {}: {why}", line + 1)
}

impl YamlDoc {
    /// Reads `text`, whose top-level keys `parents` aiwg will edit children of.
    pub fn parse(text: &str, parents: &[String]) -> Result<YamlDoc, String> {
        if text.len() > MAX_YAML_BYTES {
            return Err(format!(
                "the file has {} bytes; aiwg merges into YAML files of at most {MAX_YAML_BYTES}",
                text.len()
            ));
        }
        let eol = crate::eol::of(text);
        let mut starts = vec![0];
        let bytes = text.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => {
                    return Err(at(starts.len() - 1, "a carriage return that ends no line"))
                }
                _ => {}
            }
        }
        if *starts.last().expect("one start") != text.len() {
            starts.push(text.len());
        }
        let doc = YamlDoc {
            text: text.to_string(),
            eol,
            parents: parents.to_vec(),
            starts,
            top: Vec::new(),
            root: Yaml::Null,
        };
        doc.check_lines()?;
        doc.index()
    }

    fn lines(&self) -> usize {
        self.starts.len() - 1
    }

    /// Line `i` without its line break.
    fn line(&self, i: usize) -> &str {
        let s = &self.text[self.starts[i]..self.starts[i + 1]];
        s.strip_suffix('\n')
            .map(|s| s.strip_suffix('\r').unwrap_or(s))
            .unwrap_or(s)
    }

    /// Refusals that need no parse: a BOM, directives and document markers, tabs in
    /// indentation, line breaks other than LF and CRLF.
    fn check_lines(&self) -> Result<(), String> {
        if self.text.starts_with('\u{feff}') {
            return Err(at(0, "the file starts with a byte-order mark"));
        }
        for i in 0..self.lines() {
            let l = self.line(i);
            if l.starts_with("---") || l.starts_with("...") || l.starts_with('%') {
                return Err(at(
                    i,
                    "a document marker or directive (aiwg merges into one plain YAML document)",
                ));
            }
            if l.trim_start_matches(' ').starts_with('\t') {
                return Err(at(i, "a tab in the indentation"));
            }
            if l.contains(['\u{85}', '\u{2028}', '\u{2029}']) {
                return Err(at(i, "a Unicode line separator"));
            }
        }
        Ok(())
    }

    /// Parses the text: the top-level keys, and the checks on every parent aiwg edits.
    fn index(mut self) -> Result<YamlDoc, String> {
        let events = Events(events(&self.text)?);
        let docs = YamlLoader::load_from_str(&self.text)
            .map_err(|e| at(e.marker().line().saturating_sub(1), e.info()))?;
        if docs.len() > 1 {
            return Err("the file holds several YAML documents".into());
        }
        self.root = docs.into_iter().next().unwrap_or(Yaml::Null);
        match &self.root {
            Yaml::Null => {
                if self.text.trim().is_empty() || self.only_comments() {
                    return Ok(self);
                }
                return Err("the file is YAML but not a mapping".into());
            }
            Yaml::Hash(_) => {}
            _ => {
                return Err(
                    "the file is YAML but not a mapping, so aiwg cannot add keys to it".into(),
                )
            }
        }
        // The events of the top-level mapping: depth 1 alternates key, value.
        let ev = &events.0;
        let first = ev
            .iter()
            .position(|(e, _)| matches!(e, Event::MappingStart(..)))
            .ok_or("the file is YAML but not a mapping")?;
        let (_, m) = &ev[first];
        let top_line = m.line().saturating_sub(1);
        if self.line(top_line).trim_start().starts_with('{') {
            return Err(at(top_line, "the top level is a flow mapping (`{ ... }`)"));
        }
        let mut i = first + 1;
        while i < ev.len() {
            let (e, m) = &ev[i];
            let key = match e {
                Event::MappingEnd => break,
                Event::Scalar(s, _, 0, None) => s.clone(),
                _ => {
                    return Err(at(
                        m.line().saturating_sub(1),
                        "a top-level key that is not a plain string",
                    ))
                }
            };
            let line = m.line().saturating_sub(1);
            if line >= self.lines() || self.line(line).starts_with([' ', '#']) {
                return Err(at(line, "a top-level key aiwg cannot place"));
            }
            if self.top.iter().any(|(k, _)| *k == key) && self.parents.contains(&key) {
                return Err(at(line, &format!("`{key}` is written twice")));
            }
            let value_end = skip(ev, i + 1)?;
            if self.parents.contains(&key) {
                self.check_parent(&key, line, &ev[i + 1..value_end])?;
            }
            self.top.push((key, line));
            i = value_end;
        }
        Ok(self)
    }

    fn only_comments(&self) -> bool {
        (0..self.lines()).all(|i| {
            let t = self.line(i).trim();
            t.is_empty() || t.starts_with('#')
        })
    }

    /// The parent `key` at `line` with the events of its value: a block mapping of plain
    /// children, or nothing.
    fn check_parent(
        &self,
        key: &str,
        line: usize,
        value: &[(Event, Marker)],
    ) -> Result<(), String> {
        let hint = format!("write `{key}:` alone on its line, its entries as block YAML below it");
        let rest = self.line(line);
        let rest = rest
            .strip_prefix(key)
            .or_else(|| rest.strip_prefix(&format!("\"{key}\"")))
            .or_else(|| rest.strip_prefix(&format!("'{key}'")))
            .and_then(|r| r.trim_start_matches(' ').strip_prefix(':'))
            .map(|r| r.trim_start_matches(' '));
        if !rest.is_some_and(|r| r.is_empty() || r.starts_with('#')) {
            return Err(at(
                line,
                &format!("`{key}` is not a block mapping ({hint})"),
            ));
        }
        for (e, m) in value {
            let bad = match e {
                Event::Alias(_) => Some("an alias"),
                Event::Scalar(_, _, a, t)
                | Event::MappingStart(a, t)
                | Event::SequenceStart(a, t)
                    if *a != 0 || t.is_some() =>
                {
                    Some("an anchor or a tag")
                }
                _ => None,
            };
            if let Some(bad) = bad {
                return Err(at(
                    m.line().saturating_sub(1),
                    &format!("{bad} under `{key}`"),
                ));
            }
        }
        match value.first() {
            Some((Event::Scalar(s, _, _, _), _)) if s.is_empty() => return Ok(()),
            Some((Event::MappingStart(..), _)) => {}
            _ => return Err(at(line, &format!("`{key}` is not a mapping ({hint})"))),
        }
        let children = self.children_in(value)?;
        let mut seen: Vec<&str> = Vec::new();
        let indent = children.first().map(|c| c.2);
        for (name, l, ind) in &children {
            if seen.contains(&name.as_str()) {
                return Err(at(*l, &format!("`{key}.{name}` is written twice")));
            }
            seen.push(name);
            if Some(*ind) != indent || *ind == 0 || *l <= line {
                return Err(at(
                    *l,
                    &format!("an entry of `{key}` aiwg cannot place ({hint})"),
                ));
            }
        }
        Ok(())
    }

    /// The children of a parent's block mapping: name, key line, indentation.
    fn children_in(
        &self,
        value: &[(Event, Marker)],
    ) -> Result<Vec<(String, usize, usize)>, String> {
        let mut out = Vec::new();
        let mut i = 1;
        while i < value.len() {
            let (e, m) = &value[i];
            let name = match e {
                Event::MappingEnd => break,
                Event::Scalar(s, _, _, _) => s.clone(),
                _ => {
                    return Err(at(
                        m.line().saturating_sub(1),
                        "an entry whose name is not a string",
                    ))
                }
            };
            let l = m.line().saturating_sub(1);
            if l >= self.lines() {
                return Err(at(l, "an entry aiwg cannot place"));
            }
            let text = self.line(l);
            let ind = text.len() - text.trim_start_matches(' ').len();
            out.push((name, l, ind));
            i = skip(value, i + 1)?;
        }
        Ok(out)
    }

    /// The children of `parent` (empty when it is absent or empty), from a fresh parse.
    fn children(&self, parent: &str) -> Vec<(String, usize, usize)> {
        let Ok(ev) = events(&self.text) else {
            return Vec::new();
        };
        let ev = &ev;
        let Some(first) = ev
            .iter()
            .position(|(e, _)| matches!(e, Event::MappingStart(..)))
        else {
            return Vec::new();
        };
        let mut i = first + 1;
        while i < ev.len() {
            let Event::Scalar(key, ..) = &ev[i].0 else {
                break;
            };
            let Ok(end) = skip(ev, i + 1) else {
                break;
            };
            if key == parent && matches!(ev.get(i + 1), Some((Event::MappingStart(..), _))) {
                return self.children_in(&ev[i + 1..end]).unwrap_or_default();
            }
            i = end;
        }
        Vec::new()
    }

    /// The line of `parent`'s key, when it is there.
    fn parent_line(&self, parent: &str) -> Option<usize> {
        self.top.iter().find(|(k, _)| k == parent).map(|(_, l)| *l)
    }

    /// The lines `[from, to)` of child `name` of `parent`, and its indentation.
    fn extent(&self, parent: &str, name: &str) -> Option<(usize, usize, usize)> {
        let pl = self.parent_line(parent)?;
        let children = self.children(parent);
        let pos = children.iter().position(|(n, _, _)| n == name)?;
        let (_, from, indent) = children[pos];
        let mut to = match children.get(pos + 1) {
            Some((_, l, _)) => *l,
            None => self
                .top
                .iter()
                .map(|(_, l)| *l)
                .filter(|l| *l > pl)
                .min()
                .unwrap_or(self.lines()),
        };
        while to > from + 1 {
            let t = self.line(to - 1).trim();
            if t.is_empty() || t.starts_with('#') {
                to -= 1;
            } else {
                break;
            }
        }
        Some((from, to, indent))
    }

    fn span(&self, from: usize, to: usize) -> &str {
        &self.text[self.starts[from]..self.starts[to]]
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when nothing but white space is left.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    /// The value of `[parent, name]`: what yaml-rust2 reads while its lines are exactly what
    /// aiwg renders for it, else a value no entry has (so a hand edit is never "unchanged").
    pub fn get(&self, key: &[String]) -> Option<Value> {
        let [parent, name] = key else {
            return None;
        };
        let (from, to, indent) = self.extent(parent, name)?;
        let edited = || {
            let mut m = Map::new();
            m.insert(
                "edited by hand".into(),
                Value::String(self.span(from, to).into()),
            );
            Some(Value::Object(m))
        };
        let Some(value) = self.child_yaml(parent, name).and_then(yaml_to_json) else {
            return edited();
        };
        if self.span(from, to) == render_child(name, &value, indent, self.eol) {
            Some(value)
        } else {
            edited()
        }
    }

    fn child_yaml(&self, parent: &str, name: &str) -> Option<&Yaml> {
        let Yaml::Hash(root) = &self.root else {
            return None;
        };
        match root.get(&Yaml::String(parent.into()))? {
            Yaml::Hash(h) => h.get(&Yaml::String(name.into())),
            _ => None,
        }
    }

    /// Puts `value` at `[parent, name]`: replaces the child's lines, or adds it after the
    /// last child (or under the parent, or at the end of the file with a new parent).
    pub fn set(&mut self, key: &[String], value: &Value) -> Result<(), String> {
        let [parent, name] = key else {
            return Err("aiwg merges only `<key>.<name>` into YAML files".into());
        };
        let eol = self.eol;
        let new = match self.extent(parent, name) {
            Some((from, to, indent)) => {
                let block = render_child(name, value, indent, eol);
                self.splice(from, to, &block)
            }
            None => match self.parent_line(parent) {
                Some(pl) => {
                    let children = self.children(parent);
                    let (at, indent) = match children.last() {
                        Some((last, _, ind)) => {
                            let (_, to, _) = self.extent(parent, last).expect("a child");
                            (to, *ind)
                        }
                        None => (pl + 1, 2),
                    };
                    let block = render_child(name, value, indent, eol);
                    self.splice(at, at, &block)
                }
                None => {
                    if !self.text.is_empty() && !self.text.ends_with('\n') {
                        return Err(
                            "the file does not end with a line break (add one, then run aiwg again)"
                                .into(),
                        );
                    }
                    let mut text = self.text.clone();
                    text.push_str(&yaml_key(parent));
                    text.push(':');
                    text.push_str(eol);
                    text.push_str(&render_child(name, value, 2, eol));
                    text
                }
            },
        };
        let mut expected = self.root.clone();
        if !matches!(expected, Yaml::Hash(_)) {
            expected = Yaml::Hash(Default::default());
        }
        if let Yaml::Hash(root) = &mut expected {
            let pk = Yaml::String(parent.clone());
            // `get_mut`, not `entry`: an entry of a linked map moves to the back.
            if !root.contains_key(&pk) {
                root.insert(pk.clone(), Yaml::Null);
            }
            let slot = root.get_mut(&pk).expect("just inserted");
            if !matches!(slot, Yaml::Hash(_)) {
                *slot = Yaml::Hash(Default::default());
            }
            if let Yaml::Hash(children) = slot {
                let v = json_to_yaml(value);
                match children.get_mut(&Yaml::String(name.clone())) {
                    Some(old) => *old = v,
                    None => {
                        children.insert(Yaml::String(name.clone()), v);
                    }
                }
            }
        }
        self.replace(new, &expected, parent, name, value)
    }

    /// Removes `[parent, name]` (its lines), and the parent's line when it is left empty.
    pub fn remove(&mut self, key: &[String]) -> Result<(), String> {
        let [parent, name] = key else {
            return Ok(());
        };
        let Some((from, to, _)) = self.extent(parent, name) else {
            return Ok(());
        };
        let pl = self.parent_line(parent).expect("a child has a parent");
        let only = self.children(parent).len() == 1;
        let mut expected = self.root.clone();
        let new = if only {
            // The parent goes with its last child: its line, then the child's lines.
            let text = self.splice(from, to, "");
            let a = self.starts[pl];
            let b = self.starts[pl + 1];
            format!("{}{}", &text[..a], &text[b..])
        } else {
            self.splice(from, to, "")
        };
        if let Yaml::Hash(root) = &mut expected {
            let pk = Yaml::String(parent.clone());
            if only {
                root.remove(&pk);
            } else if let Some(Yaml::Hash(children)) = root.get_mut(&pk) {
                children.remove(&Yaml::String(name.clone()));
            }
        }
        let mut doc = YamlDoc::parse(&new, &self.parents)
            .map_err(|e| format!("removing it would leave YAML aiwg cannot read ({e})"))?;
        if doc.root != expected
            && !(doc.root == Yaml::Null && expected == Yaml::Hash(Default::default()))
        {
            return Err("removing it would change more than the entry".into());
        }
        std::mem::swap(self, &mut doc);
        Ok(())
    }

    /// The text with lines `[from, to)` replaced by `with`.
    fn splice(&self, from: usize, to: usize, with: &str) -> String {
        format!(
            "{}{with}{}",
            &self.text[..self.starts[from]],
            &self.text[self.starts[to]..]
        )
    }

    /// Takes `new` as the text when it parses to `expected` and gives `value` back at the key.
    fn replace(
        &mut self,
        new: String,
        expected: &Yaml,
        parent: &str,
        name: &str,
        value: &Value,
    ) -> Result<(), String> {
        let mut doc = YamlDoc::parse(&new, &self.parents)
            .map_err(|e| format!("the edit would leave YAML aiwg cannot read ({e})"))?;
        if doc.root != *expected || doc.get(&[parent.into(), name.into()]).as_ref() != Some(value) {
            return Err("the edit would not read back as exactly the intended entry".into());
        }
        std::mem::swap(self, &mut doc);
        Ok(())
    }
}

/// The index after the value whose events start at `i`.
fn skip(ev: &[(Event, Marker)], mut i: usize) -> Result<usize, String> {
    let mut depth = 0usize;
    while i < ev.len() {
        match &ev[i].0 {
            Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
            Event::MappingEnd | Event::SequenceEnd => {
                depth = depth.checked_sub(1).ok_or("unbalanced YAML events")?;
            }
            _ => {}
        }
        i += 1;
        if depth == 0 {
            return Ok(i);
        }
    }
    Err("the YAML ends inside a value".into())
}

struct Events(Vec<(Event, Marker)>);

/// The events of `text` but the stream and document markers, pulled one at a time (the
/// parser's own `load` recurses per level), refusing nesting deeper than [`MAX_DEPTH`] before
/// anything recursive (the loader, comparing documents) sees it.
fn events(text: &str) -> Result<Vec<(Event, Marker)>, String> {
    let mut parser = Parser::new_from_str(text);
    let mut out = Vec::new();
    let mut depth = 0usize;
    loop {
        let (e, m) = parser
            .next_token()
            .map_err(|e| at(e.marker().line().saturating_sub(1), e.info()))?;
        match e {
            Event::StreamEnd => return Ok(out),
            Event::StreamStart | Event::DocumentStart | Event::DocumentEnd | Event::Nothing => {
                continue
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Err(at(
                m.line().saturating_sub(1),
                &format!("more than {MAX_DEPTH} levels of nesting"),
            ));
        }
        out.push((e, m));
    }
}

/// A string as a YAML double-quoted scalar: only printable ASCII as is, everything else
/// escaped, so no character can change what the line means.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn yaml_key(k: &str) -> String {
    // A plain key when it is one that cannot be misread, as clients write their own.
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && k.starts_with(|c: char| c.is_ascii_alphabetic());
    if plain {
        k.to_string()
    } else {
        quote(k)
    }
}

fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => return None,
    })
}

/// Child `name` = `value` as block YAML lines at `indent` spaces, each ended by `eol`.
pub fn render_child(name: &str, value: &Value, indent: usize, eol: &str) -> String {
    let mut out = String::new();
    entry(&mut out, &quote(name), value, indent, eol);
    out
}

fn entry(out: &mut String, key: &str, value: &Value, indent: usize, eol: &str) {
    let pad = " ".repeat(indent);
    if let Some(s) = scalar(value) {
        out.push_str(&format!("{pad}{key}: {s}{eol}"));
        return;
    }
    out.push_str(&format!("{pad}{key}:{eol}"));
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                entry(out, &quote(k), v, indent + 2, eol);
            }
        }
        Value::Array(items) => {
            for item in items {
                // Items that are collections are written as JSON, a subset of YAML's flow style.
                let s = scalar(item).unwrap_or_else(|| flow(item));
                out.push_str(&format!("{pad}  - {s}{eol}"));
            }
        }
        _ => unreachable!("scalars handled above"),
    }
}

fn flow(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", quote(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => scalar(other).unwrap_or_default(),
    }
}

fn yaml_to_json(y: &Yaml) -> Option<Value> {
    Some(match y {
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => {
            let f: f64 = r.parse().ok()?;
            Value::Number(serde_json::Number::from_f64(f)?)
        }
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Null => Value::Null,
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect::<Option<_>>()?),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| Some((k.as_str()?.to_string(), yaml_to_json(v)?)))
                .collect::<Option<_>>()?,
        ),
        Yaml::Alias(_) | Yaml::BadValue => return None,
    })
}

fn json_to_yaml(v: &Value) -> Yaml {
    match v {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(a) => Yaml::Array(a.iter().map(json_to_yaml).collect()),
        Value::Object(o) => Yaml::Hash(
            o.iter()
                .map(|(k, v)| (Yaml::String(k.clone()), json_to_yaml(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> Vec<String> {
        vec!["extensions".into(), "aiwg".into()]
    }

    fn doc(text: &str) -> YamlDoc {
        YamlDoc::parse(text, &["extensions".into()]).unwrap()
    }

    fn server() -> Value {
        json!({"cmd": "npx", "args": ["-y", "pkg"], "enabled": true, "envs": {"A": "${A}"}, "timeout": 300})
    }

    fn added(text: &str) -> String {
        let mut d = doc(text);
        d.set(&key(), &server()).unwrap();
        assert_eq!(d.get(&key()), Some(server()));
        let mut back = doc(d.text());
        back.remove(&key()).unwrap();
        assert_eq!(back.text(), text, "removal gives the exact bytes back");
        d.text().to_string()
    }

    #[test]
    fn an_empty_file_gets_the_parent_and_the_entry() {
        let out = added("");
        assert_eq!(
            out,
            "extensions:\n  \"aiwg\":\n    \"cmd\": \"npx\"\n    \"args\":\n      - \"-y\"\n      - \"pkg\"\n    \"enabled\": true\n    \"envs\":\n      \"A\": \"${A}\"\n    \"timeout\": 300\n"
        );
        let mut d = doc(&out);
        d.remove(&key()).unwrap();
        assert!(d.is_empty());
    }

    #[test]
    fn an_entry_goes_beside_the_users_at_their_indentation_with_comments_kept() {
        let text = "# my config\nGOOSE_MODEL: gpt # mine\nextensions: # servers\n    developer:\n        enabled: true\n        type: builtin\n    # a note about the next one\n    mine:\n        cmd: foo\n\n# trailing\nGOOSE_MODE: auto\n";
        let out = added(text);
        assert!(
            out.contains("        cmd: foo\n    \"aiwg\":\n      \"cmd\": \"npx\"\n"),
            "{out}"
        );
        assert!(
            out.ends_with("      \"timeout\": 300\n\n# trailing\nGOOSE_MODE: auto\n"),
            "{out}"
        );
    }

    #[test]
    fn an_empty_parent_and_a_parent_elsewhere_in_the_file() {
        // An empty parent aiwg filled goes with aiwg's last entry, as an emptied JSON object does.
        let mut d = doc("extensions:\nother: 1\n");
        d.set(&key(), &json!({"cmd": "x"})).unwrap();
        assert_eq!(
            d.text(),
            "extensions:\n  \"aiwg\":\n    \"cmd\": \"x\"\nother: 1\n"
        );
        d.remove(&key()).unwrap();
        assert_eq!(d.text(), "other: 1\n");
        added("a: 1\nextensions:\n  x:\n    cmd: y\nb:\n  - 2\n");
        added("a: 1\n");
    }

    #[test]
    fn crlf_stays_crlf_and_comes_back_exactly() {
        let out = added("a: 1\r\nextensions:\r\n  x: {}\r\n");
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    }

    #[test]
    fn an_update_replaces_the_lines_and_a_hand_edit_reads_as_edited() {
        let mut d = doc("extensions:\n  keep: 1\n");
        d.set(&key(), &server()).unwrap();
        let new = json!({"cmd": "uvx"});
        d.set(&key(), &new).unwrap();
        assert_eq!(
            d.text(),
            "extensions:\n  keep: 1\n  \"aiwg\":\n    \"cmd\": \"uvx\"\n"
        );
        // Same value, other bytes: not aiwg's any more.
        let edited = doc(&d.text().replace("\"cmd\": \"uvx\"", "cmd: uvx"));
        assert_ne!(edited.get(&key()), Some(new.clone()));
        let commented = doc(&d.text().replace("    \"cmd", "    # hi\n    \"cmd"));
        assert_ne!(commented.get(&key()), Some(new));
    }

    #[test]
    fn strings_are_quoted_so_nothing_in_them_changes_the_yaml() {
        let hostile = json!({"cmd": "x\"\n  evil: 1 # \u{7f}\u{2028}é😀", "args": ["*a", "&b", "!t", "- c", "{d}"]});
        let mut d = doc("");
        d.set(&key(), &hostile).unwrap();
        assert_eq!(d.get(&key()), Some(hostile));
        assert!(d.text().is_ascii());
    }

    fn refused(text: &str, why: &str) {
        match YamlDoc::parse(text, &["extensions".into()]) {
            Err(e) => assert!(e.contains(why), "{text:?}: {e}"),
            Ok(mut d) => {
                let e = d.set(&key(), &server()).unwrap_err();
                assert!(e.contains(why), "{text:?}: {e}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        eprintln!("S1");
        refused(&format!("a: {}\n", "[".repeat(200_000)), "line 1");
        eprintln!("S2");
        refused(
            &format!("extensions:\n  x: {}\n", "{a: ".repeat(200_000)),
            "line 2",
        );
        let deep: String = (0..2_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        refused(&deep, "levels of nesting");
        let fine: String = (0..60).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let mut d = doc(&fine);
        d.set(&key(), &server()).unwrap();
        assert_eq!(d.get(&key()), Some(server()));
    }

    #[test]
    fn what_cannot_be_edited_exactly_is_refused_with_its_line() {
        refused(
            "extensions: {}\n",
            "line 1: `extensions` is not a block mapping",
        );
        refused("extensions: {a: 1}\n", "not a block mapping");
        refused("extensions:\n  a: &x {}\n", "line 2: an anchor or a tag");
        refused("base: &b {}\nextensions:\n  a: *b\n", "an alias");
        refused("extensions:\n  a: !!str x\n", "an anchor or a tag");
        refused("extensions:\n\t a: 1\n", "tab");
        refused("a: 1\n---\nb: 2\n", "document marker");
        refused(
            "extensions:\n  a: 1\nextensions:\n  b: 1\n",
            "duplicated key",
        );
        refused("extensions:\n  a: 1\n  a: 2\n", "duplicated key");
        refused("- 1\n", "not a mapping");
        refused("{extensions: {}}\n", "flow mapping");
        refused("extensions: [1]\n", "not a block mapping");
        refused("extensions:\n  - 1\n", "not a mapping");
        refused("a: [\n", "line");
        refused("a: 1", "does not end with a line break");
        refused("a: 1\rb: 2\n", "carriage return");
        refused("\u{feff}a: 1\n", "byte-order mark");
        refused(&"#".repeat(MAX_YAML_BYTES + 1), "at most");
    }
}
