//! The target state: every path the platforms want, what it should hold, who owns which part,
//! and where it came from. Platforms build it; the deploy engine makes the disk match it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::RelPath;

/// Where a deployment goes: the repository, or the user's home folder.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The repository: paths are relative to the project root.
    #[default]
    Project,
    /// The user's home folder: paths are relative to it.
    User,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::Project => "project",
            Scope::User => "user",
        })
    }
}

/// The format of a shared config file whose keys aiwg merges into.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ConfigFormat {
    /// A JSON file; comments and trailing commas in it are kept.
    Json,
    /// A TOML file.
    Toml,
    /// A YAML file; the deploy engine cannot merge into YAML yet and reports an error.
    Yaml,
}

/// One key (or array item) that aiwg owns inside a shared config file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MergeEntry {
    /// The key path from the document root (`["hooks", "PreToolUse"]`).
    pub key: Vec<String>,
    /// The value aiwg writes at `key`, or the item it adds when `append` is true.
    pub value: Value,
    /// When true, `key` names an array and aiwg owns one item equal to `value` in it, beside
    /// the user's items; when false aiwg owns the whole value at `key`.
    pub append: bool,
}

/// What aiwg wants at one path, and how much of the file it owns.
#[derive(Debug, Clone, PartialEq)]
pub enum Desired {
    /// aiwg owns the whole file.
    File {
        /// The whole content of the file.
        bytes: Vec<u8>,
        /// Whether the file gets execute bits (assets that had them, and a behavior's hook
        /// script).
        executable: bool,
    },
    /// aiwg owns the whole file, known here only by the SHA-256 and size of its bytes: a
    /// render that streams (`aiwg apply`) hashes each file as it makes it and keeps no bytes,
    /// so memory does not grow with the output; apply renders again and writes each file as
    /// it comes, checking it against this digest.
    Digest {
        /// SHA-256 of the bytes.
        sha256: Sha256,
        /// The number of bytes.
        size: u64,
        /// Whether the file gets execute bits.
        executable: bool,
    },
    /// aiwg owns the region between `<!-- aiwg:begin <id> -->` and `<!-- aiwg:end <id> -->`
    /// of a shared Markdown file; `text` is what goes between the markers.
    Section {
        /// The section id in the markers (`sdlc:rules`); unique within the file.
        id: String,
        /// The text between the markers.
        text: String,
    },
    /// aiwg owns these keys of a shared JSON/TOML/YAML file and nothing else.
    Merge {
        /// How the file is parsed and written.
        format: ConfigFormat,
        /// The keys and array items aiwg owns in it.
        entries: Vec<MergeEntry>,
    },
}

impl Desired {
    /// The part of the path this entry owns: the whole file, a section, or the merged keys.
    pub fn part(&self) -> Part {
        match self {
            Desired::File { .. } | Desired::Digest { .. } => Part::Whole,
            Desired::Section { id, .. } => Part::Section(id.clone()),
            Desired::Merge { entries, .. } => {
                let keys: Vec<String> = entries.iter().map(|e| e.key.join(".")).collect();
                Part::Merge(keys.join(","))
            }
        }
    }

    /// Whether this entry owns `part` ([`Desired::part`], without making it).
    pub fn is_part(&self, part: &Part) -> bool {
        match (self, part) {
            (Desired::File { .. } | Desired::Digest { .. }, Part::Whole) => true,
            (Desired::Section { id, .. }, Part::Section(want)) => id == want,
            (Desired::Merge { .. }, Part::Merge(_)) => self.part() == *part,
            _ => false,
        }
    }

    /// A whole file's bytes replaced by their digest ([`Desired::Digest`]); other entries as
    /// they are.
    pub fn digested(self) -> Desired {
        match self {
            Desired::File { bytes, executable } => Desired::Digest {
                sha256: Sha256::of(&bytes),
                size: bytes.len() as u64,
                executable,
            },
            other => other,
        }
    }

    /// True when both want the same content, a whole file's bytes and a digest of them
    /// counting as the same.
    pub fn same_as(&self, other: &Desired) -> bool {
        match (self, other) {
            (
                Desired::File { bytes, executable },
                Desired::Digest {
                    sha256,
                    size,
                    executable: x,
                },
            )
            | (
                Desired::Digest {
                    sha256,
                    size,
                    executable: x,
                },
                Desired::File { bytes, executable },
            ) => executable == x && bytes.len() as u64 == *size && Sha256::of(bytes) == *sha256,
            (a, b) => a == b,
        }
    }

    /// The ownership mode name used in the lock file and in listings.
    pub fn mode(&self) -> &'static str {
        match self {
            Desired::File { .. } | Desired::Digest { .. } => "file",
            Desired::Section { .. } => "section",
            Desired::Merge { .. } => "merge",
        }
    }
}

/// The SHA-256 of `bytes` as 64 lowercase hex digits (the lock file's `sha256`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::of(bytes).to_string()
}

/// A SHA-256 digest, held as its 32 bytes and shown as 64 lowercase hex digits (the lock
/// file's `sha256`). A plan keeps one per file it writes: as bytes inline it costs no
/// allocation, where the text was one of 64 bytes per file (ARCHITECTURE.md, "Memory").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        use sha2::Digest as _;
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// The 64 lowercase hex digits, on the stack.
    pub fn hex(&self) -> Sha256Hex {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(b >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
        }
        Sha256Hex(out)
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// The hex digits of a [`Sha256`], as a `str` that needs no allocation.
#[derive(Clone, Copy)]
pub struct Sha256Hex([u8; 64]);

impl std::ops::Deref for Sha256Hex {
    type Target = str;
    fn deref(&self) -> &str {
        // Only ASCII hex digits are ever written into it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Which part of a path an entry (or a lock entry) owns. Its text form is the `part` value of
/// `aiwg.lock`: `""`, `section:<id>`, `merge:<keys>`; the variant order sorts like that text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Part {
    /// The whole file (`""`).
    #[default]
    Whole,
    /// Some keys of a shared config file: their dotted paths joined by `,` (`merge:<keys>`).
    /// Kept as that text because a key may itself contain `.` or `,`.
    Merge(String),
    /// The marked section with this id (`section:<id>`).
    Section(String),
}

impl Part {
    /// Reads the lock's text form; `None` for anything else.
    pub fn parse(text: &str) -> Option<Part> {
        if text.is_empty() {
            Some(Part::Whole)
        } else if let Some(id) = text.strip_prefix("section:") {
            Some(Part::Section(id.to_string()))
        } else {
            text.strip_prefix("merge:")
                .map(|keys| Part::Merge(keys.to_string()))
        }
    }

    /// True for [`Part::Whole`].
    pub fn is_whole(&self) -> bool {
        matches!(self, Part::Whole)
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Whole => Ok(()),
            Part::Merge(keys) => write!(f, "merge:{keys}"),
            Part::Section(id) => write!(f, "section:{id}"),
        }
    }
}

impl serde::Serialize for Part {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Part {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Part, D::Error> {
        let text = String::deserialize(d)?;
        Part::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown part `{text}` (expected \"\", `section:<id>` or `merge:<keys>`)"
            ))
        })
    }
}

/// Where a target entry came from, for the lock file, `status` and error messages.
///
/// Shared, not copied: the target state, the plan and the lock hold one per file (tens of
/// thousands), so an origin is two counted references (16 bytes; a clone allocates nothing):
/// its source and artifact ([`OriginName`], one per artifact however many platforms and files
/// it has) and its platforms (one list per distinct set), which a render, a merge or a lock
/// parse makes once ([`OriginTexts`]). Not one pointer to all three: most files are one
/// artifact's for one platform, so a shared whole would be one allocation per file (x10 to
/// all: 41k origins for 50k entries, measured 5-8 MiB more peak RSS than three `Arc`s inline).
/// Compared, ordered, hashed and serialized as (source, artifact, platforms).
#[derive(Clone)]
pub struct Origin {
    name: Arc<OriginName>,
    /// The platforms that want this entry (one write serves them all), sorted.
    pub platforms: Platforms,
}

/// An [`Origin`]'s platforms: one allocation per distinct list.
pub type Platforms = Arc<Vec<String>>;

/// An [`Origin`]'s source and artifact, read through the origin (`origin.artifact`).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OriginName {
    /// The source (`sdlc`, `.aiwg`, a path).
    pub source: Arc<str>,
    /// `kind:name` of the artifact, or a name for generated files (`index:rules`).
    pub artifact: Arc<str>,
}

impl Origin {
    /// An origin from its texts (each allocated here: a caller making many shares them).
    pub fn new(source: &str, artifact: &str, platforms: Vec<String>) -> Origin {
        Origin::from_shared(
            Arc::new(OriginName {
                source: Arc::from(source),
                artifact: Arc::from(artifact),
            }),
            Arc::new(platforms),
        )
    }

    /// An origin of a shared name and list.
    pub fn from_shared(name: Arc<OriginName>, platforms: Platforms) -> Origin {
        Origin { name, platforms }
    }

    /// The same source and artifact, for `platforms`.
    pub fn with_platforms(&self, platforms: Platforms) -> Origin {
        Origin::from_shared(self.name.clone(), platforms)
    }

    /// The shared source and artifact.
    pub fn name(&self) -> &Arc<OriginName> {
        &self.name
    }

    fn key(&self) -> (&str, &str, &[String]) {
        (&self.name.source, &self.name.artifact, &self.platforms)
    }
}

impl std::ops::Deref for Origin {
    type Target = OriginName;
    fn deref(&self) -> &OriginName {
        &self.name
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Origin) -> bool {
        (Arc::ptr_eq(&self.name, &other.name) || self.name == other.name)
            && (Arc::ptr_eq(&self.platforms, &other.platforms) || self.platforms == other.platforms)
    }
}

impl Eq for Origin {}

impl PartialOrd for Origin {
    fn partial_cmp(&self, other: &Origin) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Origin {
    fn cmp(&self, other: &Origin) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::hash::Hash for Origin {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl serde::Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Origin", 3)?;
        st.serialize_field("source", &*self.name.source)?;
        st.serialize_field("artifact", &*self.name.artifact)?;
        st.serialize_field("platforms", &**self.platforms)?;
        st.end()
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Origin")
            .field("source", &self.name.source)
            .field("artifact", &self.name.artifact)
            .field("platforms", &self.platforms)
            .finish()
    }
}

/// A shared platform list, found by its names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ListKey(Platforms);

impl std::borrow::Borrow<[String]> for ListKey {
    fn borrow(&self) -> &[String] {
        &self.0
    }
}

/// Platform lists, each distinct one allocated once.
#[derive(Debug, Clone, Default)]
pub struct PlatformLists(std::collections::HashSet<ListKey>);

impl PlatformLists {
    /// `list` as the one shared list of every origin that names it.
    pub fn list(&mut self, list: &[String]) -> Platforms {
        match self.0.get(list) {
            Some(shared) => shared.0.clone(),
            None => self.add(list.to_vec()),
        }
    }

    /// `list` as the one shared list of every origin that names it, `list` kept when new.
    pub fn list_owned(&mut self, list: Vec<String>) -> Platforms {
        match self.0.get(list.as_slice()) {
            Some(shared) => shared.0.clone(),
            None => self.add(list),
        }
    }

    fn add(&mut self, list: Vec<String>) -> Platforms {
        let shared: Platforms = Arc::new(list);
        self.0.insert(ListKey(shared.clone()));
        shared
    }

    /// How many distinct lists.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The parts of many [`Origin`]s, each distinct source and artifact, and platform list,
/// allocated once however many entries name it (a render's target state, a parsed lock).
#[derive(Debug, Default)]
pub struct OriginTexts {
    /// Source → artifact → their shared name.
    names: HashMap<Arc<str>, HashMap<Arc<str>, Arc<OriginName>>>,
    lists: PlatformLists,
}

impl OriginTexts {
    /// The one shared origin of `source`, `artifact` and `platforms`' shared parts.
    pub fn origin(&mut self, source: &str, artifact: &str, platforms: &[String]) -> Origin {
        let platforms = self.lists.list(platforms);
        if let Some(name) = self.names.get(source).and_then(|a| a.get(artifact)) {
            return Origin::from_shared(name.clone(), platforms);
        }
        // A new artifact (once per artifact): its source's text shared when it has one.
        let source = match self.names.get_key_value(source) {
            Some((shared, _)) => shared.clone(),
            None => Arc::from(source),
        };
        let artifact: Arc<str> = Arc::from(artifact);
        let name = Arc::new(OriginName {
            source: source.clone(),
            artifact: artifact.clone(),
        });
        (self.names.entry(source).or_default()).insert(artifact, name.clone());
        Origin::from_shared(name, platforms)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` from `{}` for {}",
            self.artifact,
            self.source,
            self.platforms.join(", ")
        )
    }
}

/// One wanted path (or part of a shared path).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetEntry {
    /// Where the entry goes, relative to the scope root.
    pub path: RelPath,
    /// What should be there, and how much of the file aiwg owns.
    pub desired: Desired,
    /// Which source, artifact and platforms want it.
    pub origin: Origin,
}

/// Two platforms (or artifacts) want the same path or part with different content.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{path}` is wanted with different content by {first} and by {second}")]
pub struct TargetClash {
    /// The path both want.
    pub path: RelPath,
    /// The origin already in the target state.
    pub first: Origin,
    /// The origin whose entry was refused.
    pub second: Origin,
}

/// Everything the platforms want on disk, keyed by path and part. Relative to the scope root.
///
/// Held compactly, since a large deployment wants tens of thousands of files: the entries in
/// one list in the order they came, a hash index from each path to its first entry (a path
/// and part are not repeated beside the entry, which holds them), a link to the next entry
/// of the same path for the few paths with several parts (sections, merged keys), and the
/// sorted order made once, when the entries are first listed. A sorted tree keyed by path
/// and part held about 320 bytes per file, half-full nodes included; this, an estimated 120 (entry 88,
/// index about 30).
#[derive(Clone, Default)]
pub struct TargetState {
    /// Every entry, in the order inserted.
    entries: Vec<TargetEntry>,
    /// Each path's first entry.
    first: HashMap<RelPath, u32>,
    /// An entry's next one at the same path, for the paths that have several.
    next: HashMap<u32, u32>,
    /// The entries' indexes sorted by path then part, made when first asked for.
    sorted: OnceLock<Box<[u32]>>,
    /// The platform lists of merged origins (one file wanted by several platforms), each
    /// distinct list allocated once: a skill folder every `.agents/` reader shares would
    /// otherwise get its own list of the same names per file (x10 to all: 69k lists).
    merged: PlatformLists,
}

impl TargetState {
    /// An empty target state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The indexes of the entries at `path`, in the order inserted.
    fn at(&self, path: &RelPath) -> impl Iterator<Item = usize> + '_ {
        let first = self.first.get(path).copied();
        std::iter::successors(first, |i| self.next.get(i).copied()).map(|i| i as usize)
    }

    /// Adds `entry`. The same path and part wanted again with the same content is one write
    /// serving both origins; with different content (or a whole file where another wants a
    /// part of it) it is a [`TargetClash`] naming both.
    #[allow(clippy::result_large_err)] // a clash is rare and reported once; boxing buys nothing
    pub fn insert(&mut self, entry: TargetEntry) -> Result<(), TargetClash> {
        let part = entry.desired.part();
        let mut same = None;
        // A whole file where parts are wanted (or the reverse) names the first by part order.
        let mut whole_vs_part: Option<(Part, usize)> = None;
        let mut last = None;
        for i in self.at(&entry.path) {
            let other = self.entries[i].desired.part();
            if other.is_whole() != part.is_whole() {
                if whole_vs_part.as_ref().is_none_or(|(p, _)| other < *p) {
                    whole_vs_part = Some((other, i));
                }
            } else if other == part {
                same = Some(i);
            }
            last = Some(i);
        }
        if let Some((_, i)) = whole_vs_part {
            return Err(TargetClash {
                path: entry.path.clone(),
                first: self.entries[i].origin.clone(),
                second: entry.origin,
            });
        }
        match same {
            None => {
                let index = u32::try_from(self.entries.len()).expect("fewer than 2^32 entries");
                match last {
                    None => {
                        self.first.insert(entry.path.clone(), index);
                    }
                    Some(last) => {
                        self.next.insert(last as u32, index);
                    }
                }
                self.entries.push(entry);
                self.sorted = OnceLock::new();
                Ok(())
            }
            Some(i) if self.entries[i].desired == entry.desired => {
                self.serve_also(i, &entry.origin);
                Ok(())
            }
            Some(i) => Err(TargetClash {
                path: entry.path.clone(),
                first: self.entries[i].origin.clone(),
                second: entry.origin,
            }),
        }
    }

    /// What [`TargetState::insert`] does with the same path, part and content wanted again,
    /// without that content: the entry of `path` and `part` also serves `origin`'s platforms.
    /// For a caller that knows the content would be equal (a section's text made from the
    /// same artifacts), so it need not make it again. False, changing nothing, when no entry
    /// has that path and part.
    pub fn serve_also_at(&mut self, path: &RelPath, part: &Part, origin: &Origin) -> bool {
        let found = self
            .at(path)
            .find(|&i| self.entries[i].desired.is_part(part));
        match found {
            Some(i) => {
                self.serve_also(i, origin);
                true
            }
            None => false,
        }
    }

    /// Entry `i` also serves `origin`'s platforms (its own origin otherwise kept).
    fn serve_also(&mut self, i: usize, origin: &Origin) {
        let existing = &mut self.entries[i];
        let new = origin
            .platforms
            .iter()
            .filter(|p| !existing.origin.platforms.contains(p));
        let mut platforms: Vec<String> = new.cloned().collect();
        if !platforms.is_empty() {
            platforms.extend(existing.origin.platforms.iter().cloned());
            platforms.sort();
            platforms.dedup();
            existing.origin.platforms = self.merged.list_owned(platforms);
        }
    }

    /// True when a whole file is wanted at `path`.
    pub fn has_file(&self, path: &RelPath) -> bool {
        self.at(path)
            .any(|i| self.entries[i].desired.part().is_whole())
    }

    /// The entries' indexes sorted by path, then part.
    fn sorted(&self) -> &[u32] {
        self.sorted.get_or_init(|| {
            let entries = &self.entries;
            let mut order: Vec<u32> = (0..entries.len() as u32).collect();
            order.sort_unstable_by(|&a, &b| {
                let (a, b) = (&entries[a as usize], &entries[b as usize]);
                // Paths are seldom equal: only then are the parts made to compare.
                a.path
                    .cmp(&b.path)
                    .then_with(|| a.desired.part().cmp(&b.desired.part()))
            });
            order.into_boxed_slice()
        })
    }

    /// Every entry, sorted by path then part.
    pub fn entries(&self) -> impl Iterator<Item = &TargetEntry> {
        self.sorted().iter().map(|&i| &self.entries[i as usize])
    }

    /// Every entry, sorted by path then part, taken out of the state (a planner that keeps
    /// the bytes need not copy them). The list is given back as it is taken: its memory goes
    /// as the taker's comes.
    pub fn into_entries(self) -> impl Iterator<Item = TargetEntry> {
        self.sorted();
        let TargetState {
            mut entries,
            sorted,
            ..
        } = self;
        // In place, last first: `pop` hands them out in order, and the list shrinks behind.
        let mut order = sorted.into_inner().unwrap_or_default();
        order.reverse();
        permute(&mut entries, &mut order);
        std::iter::from_fn(move || {
            let entry = entries.pop()?;
            if entries.capacity() > 1024 && entries.len() < entries.capacity() / 2 {
                entries.shrink_to_fit();
            }
            Some(entry)
        })
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is wanted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Moves `items[order[k]]` to `k` for every `k`, in place: one swap per item, following each
/// cycle of the permutation (`order` is used up).
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    for start in 0..order.len() {
        let mut k = start;
        loop {
            let from = order[k] as usize;
            order[k] = k as u32;
            if from == start || from == k {
                break;
            }
            items.swap(k, from);
            k = from;
        }
    }
}

impl PartialEq for TargetState {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.entries().eq(other.entries())
    }
}

impl fmt::Debug for TargetState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_round_trips_through_its_lock_text_and_sorts_like_it() {
        let texts = [
            "",
            "merge:hooks.PreToolUse,a.b",
            "section:sdlc:rules",
            "section:z",
        ];
        let parts: Vec<Part> = texts.iter().map(|t| Part::parse(t).unwrap()).collect();
        for (text, part) in texts.iter().zip(&parts) {
            assert_eq!(&part.to_string(), text);
        }
        let mut sorted = parts.clone();
        sorted.sort();
        assert_eq!(sorted, parts, "the variant order is the text order");
        assert_eq!(Part::parse("keys:a"), None);
        assert_eq!(Part::parse("Section:a"), None);
    }

    fn file(path: &str, bytes: &str, platform: &str) -> TargetEntry {
        TargetEntry {
            path: RelPath::new(path).unwrap(),
            desired: Desired::File {
                bytes: bytes.as_bytes().to_vec(),
                executable: false,
            },
            origin: Origin::new("sdlc", "skill:x", vec![platform.into()]),
        }
    }

    #[test]
    fn same_bytes_is_one_write_different_bytes_clash() {
        let mut t = TargetState::new();
        t.insert(file(".agents/skills/x/SKILL.md", "a", "codex"))
            .unwrap();
        t.insert(file(".agents/skills/x/SKILL.md", "a", "cursor"))
            .unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(
            *t.entries().next().unwrap().origin.platforms,
            ["codex", "cursor"]
        );
        let err = t
            .insert(file(".agents/skills/x/SKILL.md", "b", "warp"))
            .unwrap_err();
        assert!(err.to_string().contains("warp"), "{err}");
        assert!(err.to_string().contains("codex, cursor"), "{err}");
    }

    #[test]
    fn files_merged_for_the_same_platforms_share_one_list() {
        let mut t = TargetState::new();
        for path in ["a/SKILL.md", "b/SKILL.md", "c/SKILL.md"] {
            for platform in ["codex", "cursor", "amp"] {
                t.insert(file(path, "same", platform)).unwrap();
            }
        }
        t.insert(file("d/SKILL.md", "same", "codex")).unwrap();
        t.insert(file("d/SKILL.md", "same", "warp")).unwrap();
        let lists: Vec<_> = t.entries().map(|e| e.origin.platforms.clone()).collect();
        assert_eq!(*lists[0], ["amp", "codex", "cursor"]);
        assert!(Arc::ptr_eq(&lists[0], &lists[1]) && Arc::ptr_eq(&lists[1], &lists[2]));
        assert_eq!(*lists[3], ["codex", "warp"]);
        // The lists made on the way (`codex, cursor`) and the final ones: one of each.
        assert_eq!(t.merged.len(), 3);
    }

    #[test]
    fn a_file_and_its_digest_are_the_same_content() {
        let f = file("a.md", "abc", "codex").desired;
        let d = f.clone().digested();
        assert!(f.same_as(&d) && d.same_as(&f) && d.same_as(&d) && f.same_as(&f));
        let other = file("a.md", "abd", "codex").desired;
        assert!(!other.same_as(&d) && !d.same_as(&other));
        let exec = Desired::File {
            bytes: b"abc".to_vec(),
            executable: true,
        };
        assert!(!exec.same_as(&d));
    }

    /// The compact state against a sorted map of path and part, the layout it replaced: the
    /// same entries, order, merges and clashes, for entries inserted in any order.
    #[test]
    fn the_state_lists_and_takes_out_what_a_sorted_map_would() {
        use std::collections::BTreeMap;
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..40 {
            let mut state = TargetState::new();
            let mut model: BTreeMap<(RelPath, Part), TargetEntry> = BTreeMap::new();
            for _ in 0..(1 + next(300)) {
                let path = format!("d{}/f{}.md", next(4), next(30));
                let mut entry = file(
                    &path,
                    ["a", "b"][next(2) as usize],
                    ["x", "y", "z"][next(3) as usize],
                );
                if next(4) == 0 {
                    entry.desired = Desired::Section {
                        id: format!("s{}", next(3)),
                        text: ["t", "u"][next(2) as usize].into(),
                    };
                }
                let part = entry.desired.part();
                let whole_vs_part = model
                    .range((entry.path.clone(), Part::Whole)..)
                    .take_while(|((p, _), _)| *p == entry.path)
                    .find(|((_, other), _)| other.is_whole() != part.is_whole())
                    .map(|(_, e)| e.origin.clone());
                let expect = match (
                    whole_vs_part,
                    model.get_mut(&(entry.path.clone(), part.clone())),
                ) {
                    (Some(first), _) => Err(first),
                    (None, None) => {
                        model.insert((entry.path.clone(), part), entry.clone());
                        Ok(())
                    }
                    (None, Some(existing)) if existing.desired == entry.desired => {
                        let mut platforms: Vec<String> = existing.origin.platforms.to_vec();
                        platforms.extend(entry.origin.platforms.iter().cloned());
                        platforms.sort();
                        platforms.dedup();
                        existing.origin.platforms = Arc::new(platforms);
                        Ok(())
                    }
                    (None, Some(existing)) => Err(existing.origin.clone()),
                };
                let got = state.insert(entry).map_err(|clash| clash.first);
                assert_eq!(got, expect, "round {round}");
                // Listing in the middle, then inserting more, lists the new ones too.
                if next(50) == 0 {
                    assert!(state.entries().eq(model.values()), "round {round}");
                }
            }
            assert_eq!(state.len(), model.len());
            assert!(state.entries().eq(model.values()), "round {round}");
            for path in ["d0/f1.md", "d1/f2.md", "d3/f29.md", "nowhere.md"] {
                let path = RelPath::new(path).unwrap();
                assert_eq!(
                    state.has_file(&path),
                    model.contains_key(&(path, Part::Whole))
                );
            }
            assert_eq!(state.clone(), state);
            let taken: Vec<TargetEntry> = state.into_entries().collect();
            assert!(taken.iter().eq(model.values()), "round {round}");
        }
    }

    #[test]
    fn a_permutation_is_applied_in_place() {
        for order in [
            vec![],
            vec![0],
            vec![1, 0],
            vec![2, 0, 1],
            vec![3, 2, 0, 1, 4],
        ] {
            let mut items: Vec<u32> = (0..order.len() as u32).map(|i| i * 10).collect();
            let expect: Vec<u32> = order.iter().map(|&i| items[i as usize]).collect();
            permute(&mut items, &mut order.clone());
            assert_eq!(items, expect);
        }
    }

    #[test]
    fn whole_file_and_section_on_one_path_clash() {
        let mut t = TargetState::new();
        t.insert(file("AGENTS.md", "a", "codex")).unwrap();
        let mut section = file("AGENTS.md", "", "warp");
        section.desired = Desired::Section {
            id: "sdlc".into(),
            text: "x".into(),
        };
        assert!(t.insert(section).is_err());
    }
}
