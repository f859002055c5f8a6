//! Merge ownership: aiwg owns some keys (or single array items) of a shared JSON or TOML
//! config file, and nothing else.
//!
//! - TOML is edited with `toml_edit`: other keys, their order, comments and formatting survive.
//! - JSON and JSON with comments are edited as text ([`crate::jsonc`]): only the spans of aiwg's
//!   members and items change, so the user's layout, comments and trailing commas survive and
//!   removing aiwg's keys gives back the user's exact bytes. A file aiwg creates is printed with
//!   two spaces and a final newline.
//! - YAML is edited as lines ([`crate::yaml`]): aiwg owns children of one top-level block
//!   mapping key (`<key>.<name>`), rendered by aiwg and removed line for line; what it cannot
//!   edit exactly (flow style, anchors, several documents, ...) is a conflict naming the line.
//!
//! The lock records the hash of each value (or array item) aiwg wrote, so a value someone
//! changed is a conflict and removal takes out only aiwg's keys. Removing a key also removes
//! the tables or objects it leaves empty; a file left with nothing at all is deleted.

use aiwg_core::target::{ConfigFormat, Desired, MergeEntry, Part, TargetEntry};
use aiwg_core::RelPath;
use serde_json::Value;

use crate::decision::{lock_entry_for, Action, ConflictKind, NextLock, PartPlan, State};
use crate::hash::sha256_hex;
use crate::jsonc::JsonDoc;
use crate::lock::{LockEntry, LockedKey, Mode};
use crate::system::FileData;
use crate::yaml::YamlDoc;

/// JSON text with object keys sorted at every level: what the lock hashes.
pub fn canonical(value: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&map[k])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

pub(crate) fn hash_value(value: &Value) -> String {
    sha256_hex(canonical(value).as_bytes())
}

const YAML_ITEMS: &str = "aiwg merges no array items into YAML files";

/// A parsed config file that keys can be read from and written to.
enum Doc {
    Json(JsonDoc),
    Toml(toml_edit::DocumentMut),
    Yaml(YamlDoc),
}

impl Doc {
    /// `parents`: the top-level keys of the keys aiwg will touch (YAML checks those).
    fn parse(format: ConfigFormat, text: &str, parents: &[String]) -> Result<Doc, String> {
        match format {
            ConfigFormat::Json => JsonDoc::parse(text).map(Doc::Json).map_err(|e| {
                if e.message.contains("not an object") {
                    "the file is JSON but not an object, so aiwg cannot add keys to it".into()
                } else {
                    format!(
                        "the file is not valid JSON (line {}: {})",
                        e.line, e.message
                    )
                }
            }),
            ConfigFormat::Toml => text
                .parse::<toml_edit::DocumentMut>()
                .map(Doc::Toml)
                .map_err(|e| format!("the file is not valid TOML ({})", e.message().trim())),
            ConfigFormat::Yaml => YamlDoc::parse(text, parents)
                .map(Doc::Yaml)
                .map_err(|e| format!("aiwg cannot merge into this YAML: {e}")),
        }
    }

    fn render(&self) -> String {
        match self {
            Doc::Json(doc) => doc.text().to_string(),
            Doc::Toml(doc) => doc.to_string(),
            Doc::Yaml(doc) => doc.text().to_string(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Doc::Json(doc) => doc.is_empty(),
            Doc::Toml(doc) => doc.to_string().trim().is_empty(),
            Doc::Yaml(doc) => doc.is_empty(),
        }
    }

    fn get(&self, key: &[String]) -> Option<Value> {
        match self {
            Doc::Json(doc) => doc.get(key),
            Doc::Yaml(doc) => doc.get(key),
            Doc::Toml(doc) => {
                let mut item = doc.as_item();
                for k in key {
                    item = item.as_table_like()?.get(k)?;
                }
                toml_to_json(item)
            }
        }
    }

    fn set(&mut self, key: &[String], value: &Value) -> Result<(), String> {
        let Some((last, parents)) = key.split_last() else {
            return Err("an empty key cannot be set".into());
        };
        match self {
            Doc::Json(doc) => doc.set(key, value),
            Doc::Yaml(doc) => doc.set(key, value),
            Doc::Toml(doc) => {
                let table = toml_parent(doc.as_table_mut(), parents)?;
                let item = json_to_toml(value)?;
                table.insert(last, item);
                Ok(())
            }
        }
    }

    /// Removes `key`, then every object or table it leaves empty.
    fn remove(&mut self, key: &[String]) -> Result<(), String> {
        match self {
            Doc::Json(doc) => return doc.remove(key),
            Doc::Yaml(doc) => return doc.remove(key),
            Doc::Toml(_) => {}
        }
        for len in (1..=key.len()).rev() {
            let (last, parents) = key[..len].split_last().expect("len >= 1");
            let emptied = match self {
                Doc::Json(_) | Doc::Yaml(_) => unreachable!("handled above"),
                Doc::Toml(doc) => {
                    let Ok(table) = toml_parent_existing(doc.as_table_mut(), parents) else {
                        return Ok(());
                    };
                    if len == key.len()
                        || table
                            .get(last)
                            .and_then(toml_edit::Item::as_table_like)
                            .is_some_and(|t| t.is_empty())
                    {
                        table.remove(last);
                        false
                    } else {
                        true
                    }
                }
            };
            if emptied {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The items of the array at `key` (empty when absent); an error when it is not an array.
    fn items(&self, key: &[String]) -> Result<Vec<Value>, String> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(format!("`{}` is not an array", key.join("."))),
        }
    }

    /// Appends `item` to the array at `key` (created when absent).
    fn push_item(&mut self, key: &[String], item: &Value) -> Result<(), String> {
        if let Doc::Yaml(_) = self {
            return Err(YAML_ITEMS.into());
        }
        if let Doc::Json(doc) = self {
            return doc.push_item(key, item);
        }
        let mut items = self.items(key)?;
        items.push(item.clone());
        self.set_items(key, items)
    }

    /// Replaces item `at` of the array at `key`.
    fn replace_item(&mut self, key: &[String], at: usize, item: &Value) -> Result<(), String> {
        if let Doc::Yaml(_) = self {
            return Err(YAML_ITEMS.into());
        }
        if let Doc::Json(doc) = self {
            return doc.replace_item(key, at, item);
        }
        let mut items = self.items(key)?;
        *items.get_mut(at).ok_or("the item is gone")? = item.clone();
        self.set_items(key, items)
    }

    /// Removes item `at` of the array at `key` (and the array, and emptied parents, when it
    /// was the last).
    fn remove_item(&mut self, key: &[String], at: usize) -> Result<(), String> {
        if let Doc::Yaml(_) = self {
            return Err(YAML_ITEMS.into());
        }
        if let Doc::Json(doc) = self {
            return doc.remove_item(key, at);
        }
        let mut items = self.items(key)?;
        if at < items.len() {
            items.remove(at);
        }
        self.set_items(key, items)
    }

    /// Puts `items` at `key` (removing it, and emptied parents, when there are none). TOML only.
    fn set_items(&mut self, key: &[String], items: Vec<Value>) -> Result<(), String> {
        if items.is_empty() {
            return self.remove(key);
        }
        if let Doc::Toml(doc) = self {
            // Keep the array's own formatting: edit it in place when it exists.
            let (last, parents) = key.split_last().ok_or("an empty key")?;
            let table = toml_parent(doc.as_table_mut(), parents)?;
            match table.get_mut(last) {
                Some(toml_edit::Item::ArrayOfTables(aot)) if items.iter().all(Value::is_object) => {
                    let mut new = toml_edit::ArrayOfTables::new();
                    for (i, item) in items.iter().enumerate() {
                        let existing = aot.get(i).filter(|t| {
                            toml_to_json(&toml_edit::Item::Table((*t).clone())).as_ref()
                                == Some(item)
                        });
                        match existing {
                            Some(t) => new.push(t.clone()),
                            None => match json_to_toml(item)? {
                                toml_edit::Item::Table(t) => new.push(t),
                                _ => return Err("an array-of-tables item must be a table".into()),
                            },
                        }
                    }
                    *aot = new;
                    return Ok(());
                }
                Some(toml_edit::Item::Value(toml_edit::Value::Array(arr))) => {
                    let old: Vec<toml_edit::Value> = arr.iter().cloned().collect();
                    arr.clear();
                    for item in &items {
                        let kept = old.iter().find(|v| {
                            toml_to_json(&toml_edit::Item::Value((*v).clone())).as_ref()
                                == Some(item)
                        });
                        match kept {
                            Some(v) => arr.push_formatted(v.clone()),
                            None => arr.push(json_to_toml_value(item)?),
                        }
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
        self.set(key, &Value::Array(items))
    }
}

fn toml_parent<'a>(
    mut table: &'a mut toml_edit::Table,
    parents: &[String],
) -> Result<&'a mut toml_edit::Table, String> {
    for k in parents {
        let item = table.entry(k).or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        });
        if let toml_edit::Item::Value(toml_edit::Value::InlineTable(inline)) = item {
            *item = toml_edit::Item::Table(inline.clone().into_table());
        }
        table = item
            .as_table_mut()
            .ok_or_else(|| format!("`{k}` is not a table"))?;
    }
    Ok(table)
}

fn toml_parent_existing<'a>(
    mut table: &'a mut toml_edit::Table,
    parents: &[String],
) -> Result<&'a mut toml_edit::Table, ()> {
    for k in parents {
        table = table
            .get_mut(k)
            .and_then(toml_edit::Item::as_table_mut)
            .ok_or(())?;
    }
    Ok(table)
}

fn toml_to_json(item: &toml_edit::Item) -> Option<Value> {
    match item {
        toml_edit::Item::None => None,
        toml_edit::Item::Value(v) => Some(toml_value_to_json(v)),
        toml_edit::Item::Table(t) => Some(Value::Object(
            t.iter()
                .filter_map(|(k, v)| Some((k.to_string(), toml_to_json(v)?)))
                .collect(),
        )),
        toml_edit::Item::ArrayOfTables(a) => Some(Value::Array(
            a.iter()
                .filter_map(|t| toml_to_json(&toml_edit::Item::Table(t.clone())))
                .collect(),
        )),
    }
}

fn toml_value_to_json(v: &toml_edit::Value) -> Value {
    use toml_edit::Value as T;
    match v {
        T::String(s) => Value::String(s.value().clone()),
        T::Integer(i) => Value::from(*i.value()),
        T::Float(f) => serde_json::Number::from_f64(*f.value()).map_or(Value::Null, Value::Number),
        T::Boolean(b) => Value::Bool(*b.value()),
        T::Datetime(d) => Value::String(d.value().to_string()),
        T::Array(a) => Value::Array(a.iter().map(toml_value_to_json).collect()),
        T::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), toml_value_to_json(v)))
                .collect(),
        ),
    }
}

fn json_to_toml_value(v: &Value) -> Result<toml_edit::Value, String> {
    Ok(match v {
        Value::Null => return Err("TOML has no null".into()),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into(),
            (None, Some(f)) => f.into(),
            _ => return Err(format!("the number {n} does not fit TOML")),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => {
            let mut arr = toml_edit::Array::new();
            for item in items {
                arr.push(json_to_toml_value(item)?);
            }
            toml_edit::Value::Array(arr)
        }
        Value::Object(map) => {
            let mut t = toml_edit::InlineTable::new();
            for (k, v) in map {
                t.insert(k, json_to_toml_value(v)?);
            }
            toml_edit::Value::InlineTable(t)
        }
    })
}

/// A JSON value as a TOML item: objects become tables, arrays of objects arrays of tables.
fn json_to_toml(v: &Value) -> Result<toml_edit::Item, String> {
    match v {
        Value::Object(map) => {
            let mut t = toml_edit::Table::new();
            for (k, v) in map {
                t.insert(k, json_to_toml(v)?);
            }
            Ok(toml_edit::Item::Table(t))
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            let mut aot = toml_edit::ArrayOfTables::new();
            for item in items {
                if let toml_edit::Item::Table(t) = json_to_toml(item)? {
                    aot.push(t);
                }
            }
            Ok(toml_edit::Item::ArrayOfTables(aot))
        }
        other => Ok(toml_edit::Item::Value(json_to_toml_value(other)?)),
    }
}

/// The format of a config file from its name, for stale entries no target describes.
fn format_of(path: &RelPath) -> ConfigFormat {
    let name = path.file_name().to_ascii_lowercase();
    if name.ends_with(".toml") {
        ConfigFormat::Toml
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        ConfigFormat::Yaml
    } else {
        ConfigFormat::Json
    }
}

/// One decision about one key.
struct KeyPlan {
    /// Index into the part list this key belongs to.
    part: usize,
    action: Action,
    conflict: Option<ConflictKind>,
    state: State,
}

/// How much an action matters when one part takes the most significant decision of its keys.
fn action_rank(action: Action) -> u8 {
    match action {
        Action::Conflict => 5,
        Action::Update => 4,
        Action::Create => 3,
        Action::Delete => 2,
        Action::Drop => 1,
        Action::Unchanged => 0,
    }
}

/// Plans the merged keys of one shared config file; returns the new file (or `None`: delete
/// it) and a plan per part.
pub(crate) fn plan(
    path: &RelPath,
    wants: &[&TargetEntry],
    locked: &[&LockEntry],
    old: Option<&FileData>,
) -> (Option<FileData>, Vec<PartPlan>) {
    let locked: Vec<&LockEntry> = locked
        .iter()
        .copied()
        .filter(|l| l.mode == Mode::Merge)
        .collect();
    let format = wants
        .iter()
        .find_map(|w| match &w.desired {
            Desired::Merge { format, .. } => Some(*format),
            _ => None,
        })
        .unwrap_or_else(|| format_of(path));
    let mut parts = merge_parts(wants, &locked);
    let unsafe_all = |parts: &mut Vec<PartPlan>, why: String| {
        for p in parts.iter_mut() {
            p.action = Action::Conflict;
            p.conflict = Some(ConflictKind::Unsafe(why.clone()));
            p.state = State::Conflict;
            p.next_lock = NextLock::Keep;
        }
    };
    // Each key costs a pass over the file (a parse per edit), so a lock or a source naming
    // thousands of keys in one file, or an array of thousands of items, would cost time
    // quadratic in the file: refused as a conflict instead (a few hooks is the norm).
    let keys: usize = wants
        .iter()
        .map(|w| match &w.desired {
            Desired::Merge { entries, .. } => entries.len(),
            _ => 0,
        })
        .sum::<usize>()
        + locked.iter().map(|l| l.keys.len()).sum::<usize>();
    if keys > MAX_MERGE_KEYS {
        unsafe_all(
            &mut parts,
            format!("aiwg would own {keys} keys and items in it; the limit is {MAX_MERGE_KEYS}"),
        );
        return (old.cloned(), parts);
    }
    let text = match old.map(|f| std::str::from_utf8(&f.bytes)) {
        None => "",
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            unsafe_all(&mut parts, "the file is not UTF-8 text".into());
            return (old.cloned(), parts);
        }
    };
    let mut parents: Vec<String> = wants
        .iter()
        .filter_map(|w| match &w.desired {
            Desired::Merge { entries, .. } => Some(entries),
            _ => None,
        })
        .flatten()
        .filter_map(|e| e.key.first().cloned())
        .chain(
            locked
                .iter()
                .flat_map(|l| l.keys.iter())
                .filter_map(|k| k.key.first().cloned()),
        )
        .collect();
    parents.sort();
    parents.dedup();
    let mut doc = match Doc::parse(format, text, &parents) {
        Ok(doc) => doc,
        Err(why) => {
            unsafe_all(&mut parts, why);
            return (old.cloned(), parts);
        }
    };
    let part_index = |part: &Part| parts.iter().position(|p| p.part == *part).unwrap_or(0);
    // Every desired key, and every locked key, with the part it belongs to.
    let desired: Vec<(usize, &MergeEntry)> = wants
        .iter()
        .filter_map(|w| match &w.desired {
            Desired::Merge { entries, .. } => Some((part_index(&w.desired.part()), entries)),
            _ => None,
        })
        .flat_map(|(i, entries)| entries.iter().map(move |e| (i, e)))
        .collect();
    let owned: Vec<(usize, &LockedKey)> = locked
        .iter()
        .flat_map(|l| {
            let i = part_index(&l.part);
            l.keys.iter().map(move |k| (i, k))
        })
        .collect();
    let mut decisions: Vec<KeyPlan> = Vec::new();
    let mut changed = false;
    let mut removed = false;
    let mut used = vec![false; owned.len()];
    let mut cache = ItemHashes::default();
    // Whole keys.
    for (part, entry) in desired.iter().filter(|(_, e)| !e.append) {
        let lock = owned
            .iter()
            .position(|(_, k)| !k.append && k.key == entry.key);
        if let Some(i) = lock {
            used[i] = true;
        }
        let current = doc.get(&entry.key);
        let (action, conflict, state) = match &current {
            None => (Action::Create, None, State::Missing),
            Some(v) if *v == entry.value => (Action::Unchanged, None, State::Ok),
            Some(v) if lock.is_some_and(|i| owned[i].1.sha256 == hash_value(v)) => {
                (Action::Update, None, State::Outdated)
            }
            Some(_) if lock.is_some() => {
                (Action::Conflict, Some(ConflictKind::Edited), State::Edited)
            }
            Some(_) => (
                Action::Conflict,
                Some(ConflictKind::Unmanaged),
                State::Conflict,
            ),
        };
        let mut decision = KeyPlan {
            part: *part,
            action,
            conflict,
            state,
        };
        if action != Action::Unchanged {
            match doc.set(&entry.key, &entry.value) {
                Ok(()) => changed = true,
                Err(why) => unsafe_key(&mut decision, &entry.key, &why),
            }
        }
        decisions.push(decision);
    }
    // Array items: first those whose locked hash matches the wanted item (unchanged or
    // missing), then replacements of a changed item by the same part, in place.
    let appends: Vec<(usize, &MergeEntry)> =
        desired.iter().filter(|(_, e)| e.append).copied().collect();
    let mut matched: Vec<Option<usize>> = Vec::with_capacity(appends.len());
    for (_, entry) in &appends {
        let hash = hash_value(&entry.value);
        let lock = owned
            .iter()
            .enumerate()
            .position(|(i, (_, k))| !used[i] && k.append && k.key == entry.key && k.sha256 == hash);
        if let Some(i) = lock {
            used[i] = true;
        }
        matched.push(lock);
    }
    for ((part, entry), matched) in appends.into_iter().zip(matched) {
        let mut decision = KeyPlan {
            part,
            action: Action::Unchanged,
            conflict: None,
            state: State::Ok,
        };
        let hash = hash_value(&entry.value);
        let hashes = match cache.of(&doc, &entry.key) {
            Ok(hashes) => hashes.clone(),
            Err(why) => {
                unsafe_key(&mut decision, &entry.key, &why);
                decisions.push(decision);
                continue;
            }
        };
        let items = &hashes;
        if !items.contains(&hash) {
            // A changed item of the same part replaces the old one where it stands.
            let replaced = owned.iter().enumerate().find_map(|(i, (p, k))| {
                if used[i] || !k.append || k.key != entry.key || *p != part {
                    return None;
                }
                let at = items.iter().position(|h| *h == k.sha256)?;
                Some((i, at))
            });
            // Else aiwg's item edited in place: where aiwg left it, with the others as they were.
            let edited = replaced.is_none().then(|| {
                owned.iter().enumerate().find_map(|(i, (p, k))| {
                    let candidate = Some(i) == matched || !used[i];
                    let same = k.append && k.key == entry.key && *p == part;
                    (candidate && same)
                        .then(|| edited_at(k, items))
                        .flatten()
                        .map(|at| (i, at))
                })
            });
            let edit = match (replaced, edited.flatten()) {
                (Some((i, at)), _) => {
                    used[i] = true;
                    decision.action = Action::Update;
                    decision.state = State::Outdated;
                    cache.replaced(&entry.key, at, &hash);
                    doc.replace_item(&entry.key, at, &entry.value)
                }
                (None, Some((i, at))) => {
                    used[i] = true;
                    decision.action = Action::Conflict;
                    decision.conflict = Some(ConflictKind::Edited);
                    decision.state = State::Edited;
                    // What `--force` writes: aiwg's item back where it stands.
                    cache.replaced(&entry.key, at, &hash);
                    doc.replace_item(&entry.key, at, &entry.value)
                }
                (None, None) => {
                    decision.action = Action::Create;
                    decision.state = State::Missing;
                    cache.pushed(&entry.key, &hash);
                    doc.push_item(&entry.key, &entry.value)
                }
            };
            match edit {
                Ok(()) => changed = true,
                Err(why) => unsafe_key(&mut decision, &entry.key, &why),
            }
        }
        decisions.push(decision);
    }
    // Stale keys and items: aiwg wrote them, nothing wants them now.
    for (i, (part, key)) in owned.iter().enumerate() {
        if used[i] {
            continue;
        }
        let wanted_elsewhere =
            !key.append && desired.iter().any(|(_, e)| !e.append && e.key == key.key);
        let (action, conflict, state) = if wanted_elsewhere {
            (Action::Drop, None, State::Gone)
        } else {
            remove_stale(&mut doc, &mut cache, key)
        };
        if action == Action::Delete {
            changed = true;
            removed = true;
        }
        decisions.push(KeyPlan {
            part: *part,
            action,
            conflict,
            state,
        });
    }
    fold_into_parts(&mut parts, decisions);
    record_positions(&mut parts, &doc);
    let executable = old.is_some_and(|f| f.executable);
    let new = if !changed {
        old.cloned()
    } else if doc.is_empty() && (removed || old.is_none()) {
        None
    } else {
        // toml_edit prints new lines with LF: a CRLF file stays CRLF (the JSON editor keeps
        // the document's own line ending itself).
        let rendered = doc.render();
        let rendered = match (&doc, crate::eol::of(text)) {
            (Doc::Toml(_), "\r\n") => {
                crate::eol::with_eol(&crate::eol::to_lf(&rendered), "\r\n").into_owned()
            }
            _ => rendered,
        };
        Some(FileData::new(rendered.into_bytes(), executable))
    };
    (new, parts)
}

/// One part per wanting target entry (with the lock entry apply will write), then one per
/// locked part nothing wants any more.
fn merge_parts(wants: &[&TargetEntry], locked: &[&LockEntry]) -> Vec<PartPlan> {
    let mut parts: Vec<PartPlan> = Vec::new();
    for want in wants {
        let Desired::Merge { entries, .. } = &want.desired else {
            continue;
        };
        let mut entry = lock_entry_for(want, String::new(), 0);
        entry.keys = entries
            .iter()
            .map(|e| LockedKey {
                key: e.key.clone(),
                append: e.append,
                sha256: hash_value(&e.value),
                at: None,
                others: None,
            })
            .collect();
        let all: Vec<Value> = entries.iter().map(entry_json).collect();
        entry.sha256 = hash_value(&Value::Array(all));
        parts.push(PartPlan {
            part: want.desired.part(),
            mode: Mode::Merge,
            action: Action::Unchanged,
            conflict: None,
            state: State::Ok,
            origin: want.origin.clone(),
            next_lock: NextLock::Write(entry),
        });
    }
    for l in locked {
        if !parts.iter().any(|p| p.part == l.part) {
            parts.push(PartPlan {
                part: l.part.clone(),
                mode: Mode::Merge,
                action: Action::Drop,
                conflict: None,
                state: State::Gone,
                origin: l.origin(),
                next_lock: NextLock::Remove,
            });
        }
    }
    parts
}

/// A key or array item aiwg wrote that nothing wants now: removed while it is what aiwg
/// wrote, kept and reported when edited since, forgotten when it is gone.
fn remove_stale(
    doc: &mut Doc,
    cache: &mut ItemHashes,
    key: &LockedKey,
) -> (Action, Option<ConflictKind>, State) {
    let gone = (Action::Drop, None, State::Gone);
    let removal = if key.append {
        let items = match cache.of(doc, &key.key) {
            Ok(items) => items,
            Err(why) if why.contains("the limit is") => {
                return (
                    Action::Conflict,
                    Some(ConflictKind::Unsafe(why)),
                    State::Conflict,
                )
            }
            Err(_) => return gone,
        };
        let Some(at) = items.iter().position(|h| *h == key.sha256) else {
            // aiwg's item edited in place is kept and reported, as an edited stale file is.
            if edited_at(key, items).is_some() {
                return (
                    Action::Conflict,
                    Some(ConflictKind::EditedStale),
                    State::Edited,
                );
            }
            return gone;
        };
        items.remove(at);
        doc.remove_item(&key.key, at)
    } else {
        match doc.get(&key.key) {
            None => return gone,
            Some(v) if hash_value(&v) == key.sha256 => {
                // It may hold an array whose hashes are kept: read them again.
                cache.0.clear();
                doc.remove(&key.key)
            }
            Some(_) => {
                return (
                    Action::Conflict,
                    Some(ConflictKind::EditedStale),
                    State::Edited,
                )
            }
        }
    };
    match removal {
        Ok(()) => (Action::Delete, None, State::Stale),
        Err(why) => (
            Action::Conflict,
            Some(ConflictKind::Unsafe(why)),
            State::Conflict,
        ),
    }
}

/// Where aiwg's item `key` stands in `items` although its bytes changed: the item at the
/// index the lock recorded, when removing it leaves the other items exactly as aiwg left them.
/// `None` when the lock has no position (written by an older aiwg) or the array changed
/// around it (then an edit cannot be told from a user's own item).
fn edited_at(key: &LockedKey, hashes: &[String]) -> Option<usize> {
    let at = usize::try_from(key.at?).ok()?;
    let others = key.others.as_ref()?;
    if at >= hashes.len() || hashes[at] == key.sha256 {
        return None;
    }
    (others_hash(hashes, at) == *others).then_some(at)
}

/// Fills in, for each array item a part will own, where it stands in the file as planned and
/// the hash of the items around it ([`LockedKey::at`], [`LockedKey::others`]).
fn record_positions(parts: &mut [PartPlan], doc: &Doc) {
    /// One array of the file: its items, their hashes, which ones a key already took.
    struct Array {
        items: Vec<Value>,
        hashes: Vec<String>,
        taken: Vec<bool>,
    }
    let mut arrays: std::collections::HashMap<Vec<String>, Option<Array>> =
        std::collections::HashMap::new();
    for part in parts.iter_mut() {
        let NextLock::Write(entry) = &mut part.next_lock else {
            continue;
        };
        for key in entry.keys.iter_mut().filter(|k| k.append) {
            let array = arrays.entry(key.key.clone()).or_insert_with(|| {
                let items = doc.items(&key.key).and_then(bounded).ok()?;
                let hashes = items.iter().map(hash_value).collect();
                let taken = vec![false; items.len()];
                Some(Array {
                    items,
                    hashes,
                    taken,
                })
            });
            let Some(array) = array else {
                continue;
            };
            let Some(at) =
                (0..array.items.len()).find(|&j| !array.taken[j] && array.hashes[j] == key.sha256)
            else {
                continue;
            };
            array.taken[at] = true;
            key.at = Some(at as u64);
            key.others = Some(others_hash(&array.hashes, at));
        }
    }
}

/// Each part takes the most significant decision of its keys.
fn fold_into_parts(parts: &mut [PartPlan], decisions: Vec<KeyPlan>) {
    for d in decisions {
        let p = &mut parts[d.part];
        if action_rank(d.action) > action_rank(p.action)
            || p.action == Action::Drop && d.action == Action::Unchanged
        {
            p.action = d.action;
        }
        if p.conflict.is_none() {
            p.conflict = d.conflict.clone();
        }
        if d.state.severity() > p.state.severity() || p.state == State::Gone {
            p.state = d.state;
        }
        if matches!(d.conflict, Some(ConflictKind::Unsafe(_))) {
            p.next_lock = NextLock::Keep;
        }
    }
}

/// The hashes of each array's items, read once per array and kept in step with every edit
/// aiwg makes to it, so looking for N owned items costs N lookups, not N passes (a parse
/// and a hash per item) over the file.
#[derive(Default)]
struct ItemHashes(std::collections::HashMap<Vec<String>, Vec<String>>);

impl ItemHashes {
    /// The hashes of the items at `key` (empty when absent; an error when not an array or
    /// longer than [`MAX_MERGE_ITEMS`]).
    fn of(&mut self, doc: &Doc, key: &[String]) -> Result<&mut Vec<String>, String> {
        if !self.0.contains_key(key) {
            let items = doc.items(key).and_then(bounded)?;
            self.0
                .insert(key.to_vec(), items.iter().map(hash_value).collect());
        }
        Ok(self.0.get_mut(key).expect("just inserted"))
    }
}

impl ItemHashes {
    /// aiwg replaced item `at` of `key` by one hashing `hash`.
    fn replaced(&mut self, key: &[String], at: usize, hash: &str) {
        if let Some(slot) = self.0.get_mut(key).and_then(|h| h.get_mut(at)) {
            *slot = hash.to_string();
        }
    }

    /// aiwg appended an item hashing `hash` to `key`.
    fn pushed(&mut self, key: &[String], hash: &str) {
        if let Some(h) = self.0.get_mut(key) {
            h.push(hash.to_string());
        }
    }
}

/// A fingerprint of an array's items but the one at `skip`: the sum (mod 2^128) of the first
/// 128 bits of each item's hash, so it costs a pass of additions over the hashes, never the
/// values, and "the others are as aiwg left them" is checked in constant work per item. It
/// ignores their order, which is not what tells an edited item from a user's own.
fn others_hash(hashes: &[String], skip: usize) -> String {
    let sum = hashes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != skip)
        .map(|(_, h)| u128::from_str_radix(h.get(..32).unwrap_or("0"), 16).unwrap_or(0))
        .fold(0u128, u128::wrapping_add);
    format!("{sum:032x}")
}

/// Most keys and array items aiwg owns in one merged file (see [`plan`]).
pub(crate) const MAX_MERGE_KEYS: usize = 128;

/// Longest array aiwg merges an item into or out of.
pub(crate) const MAX_MERGE_ITEMS: usize = 1_000;

/// `items`, or an error when there are more than [`MAX_MERGE_ITEMS`].
fn bounded(items: Vec<Value>) -> Result<Vec<Value>, String> {
    if items.len() > MAX_MERGE_ITEMS {
        return Err(format!(
            "the array has {} items; the limit is {MAX_MERGE_ITEMS}",
            items.len()
        ));
    }
    Ok(items)
}

fn unsafe_key(decision: &mut KeyPlan, key: &[String], why: &str) {
    decision.action = Action::Conflict;
    decision.conflict = Some(ConflictKind::Unsafe(format!(
        "cannot merge `{}`: {why}",
        key.join(".")
    )));
    decision.state = State::Conflict;
}

fn entry_json(e: &MergeEntry) -> Value {
    serde_json::json!({"key": e.key, "value": e.value, "append": e.append})
}
