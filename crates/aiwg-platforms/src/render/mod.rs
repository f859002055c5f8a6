//! `render`: the model × the selected platforms × one scope → a `TargetState` and notices.
//!
//! Pure: it reads only the model and the platform specs, never the destination. Each
//! platform's placement is resolved once ([`crate::placement`]); every artifact goes where
//! that says — its native place, the platform's fallback (a command or agent becomes a skill,
//! an agent or rule a managed section of the instruction file), or nowhere — and a [`Notice`]
//! says so, one line per platform and kind. Runbook sections are written after the skills, so
//! a runbook that also has a skill copy is only indexed there (see `sections`).
//!
//! The phases, one file each: `frontmatter` (models, tools, template variables), `files`
//! (native files and the formats data cannot describe), `readers` and `skill_folders`
//! (placement by reader set), `sections` (instruction-file sections, the AGENTS.md bridge,
//! size limits), `hooks` (behaviors), `mcp` (MCP servers merged into each client's
//! configuration), `exclude` (what each platform leaves out).

mod exclude;
mod files;
mod frontmatter;
mod hooks;
pub mod mcp;
mod readers;
mod sections;
mod skill_folders;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;

use aiwg_core::config::Tiers;
use aiwg_core::exclude::ArtifactPattern;
use aiwg_core::rel_path::RelPathError;
use aiwg_core::target::{
    Desired, Origin, OriginTexts, Scope, Sha256, TargetClash, TargetEntry, TargetState,
};
use aiwg_core::{Artifact, Kind, Model, RelPath};
use serde_json::{Map, Value};

use crate::placement::{self, Place, Resolved};
use crate::spec::{KindSpec, PlatformSpec};
use crate::yaml;

/// Choices that come from `aiwg.toml` rather than the platform files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderOptions {
    /// `[models.<platform>] <tier> = "<id>"`: per-platform tier overrides (id or alias).
    pub model_overrides: BTreeMap<String, Tiers>,
    /// User scope: a client home variable that is set (`CODEX_HOME`) → its folder relative to
    /// the home folder (`""` for home itself). A platform whose `[home]` names the variable
    /// writes there instead of under its default folder.
    pub homes: BTreeMap<String, String>,
    /// `[platform.<id>] exclude`: per platform id, the artifacts it does not get. Placement
    /// plans around them: a platform never reads what it leaves out in a file or folder
    /// written for another (the render fails, naming both, where no place avoids that).
    pub exclude: BTreeMap<String, Vec<ArtifactPattern>>,
}

/// What a render keeps of each whole file's bytes.
#[derive(Default)]
pub enum Bodies<'s> {
    /// Every byte, in the target state (`diff`, `adopt`, a dry run: what shows the bytes).
    #[default]
    Keep,
    /// Only the SHA-256 and size ([`Desired::Digest`]): each file's bytes go once hashed, so a
    /// render for a plan holds no output.
    Digest,
    /// Each whole file is handed to the sink as it is made (path, bytes, executable) and
    /// neither hashed nor kept: the target state holds only sections and merged keys. This
    /// is the second render of a streamed apply, of a model whose [`Bodies::Digest`] render
    /// already said every clash; a path several platforms want comes once per platform, with
    /// the same bytes, and the sink writes the first.
    Stream(Sink<'s>),
    /// As [`Bodies::Digest`], and each file's bytes (once per path) are offered to [`Held`],
    /// which keeps them while the whole output fits its budget beside the model (charged
    /// first) and the section texts: a small output is then
    /// written from them, rendered once instead of twice.
    Hold(&'s mut Held),
}

/// Where a streaming render hands each whole file: path, bytes, executable bit.
pub type Sink<'s> = &'s mut dyn FnMut(&RelPath, &[u8], bool);

/// The whole files of a [`Bodies::Hold`] render, kept while they fit a fixed budget beside
/// what the render holds anyway: the bytes in one buffer, with each file's path, end in the
/// buffer, SHA-256 and executable bit. The budget is one ceiling for all of it: the render
/// first charges what it holds for the model (its bodies' and assets' bytes, then each section
/// text as it is kept: [`Held::charge`]), and the buffer and list grow in steps of at most
/// [`HOLD_STEP`] (doubling below it), never reserved whole and never past what is left of the
/// budget. Past the budget everything is dropped at once and nothing more is kept, so what a
/// render holds never grows with its output, and a large model gives up early instead of
/// holding the budget's worth beside itself.
#[derive(Debug, Default)]
pub struct Held {
    budget: usize,
    /// Bytes the render holds anyway, counted against the budget.
    charged: usize,
    bytes: Vec<u8>,
    files: Vec<HeldFile>,
    over: bool,
    /// The most memory ever reserved for held files at once (tests: what a render that gave
    /// up had held before it did).
    #[cfg(test)]
    most_reserved: usize,
}

/// One held file: path, end in [`Held`]'s buffer, SHA-256, executable bit.
type HeldFile = (RelPath, usize, Sha256, bool);

/// The most [`Held`]'s buffer (or its list of files) grows by at a time.
pub const HOLD_STEP: usize = 1 << 20;

impl Held {
    /// Keeps at most `budget` bytes: the files' bytes and list and what is charged.
    pub fn new(budget: usize) -> Held {
        Held {
            budget,
            ..Held::default()
        }
    }

    /// Counts `bytes` the render holds anyway against the budget: past it, everything held
    /// is dropped and nothing more is kept.
    pub fn charge(&mut self, bytes: usize) {
        if self.over {
            return;
        }
        self.charged = self.charged.saturating_add(bytes);
        if self.reserved().saturating_add(self.charged) > self.budget {
            self.give_up();
        }
    }

    /// Gives up at once when `bytes` more (what the render will offer at least) cannot fit
    /// beside what is held and charged now.
    pub fn foresee(&mut self, bytes: usize) {
        if !self.over && self.used().saturating_add(bytes) > self.budget {
            self.give_up();
        }
    }

    /// What counts against the budget: the charged bytes and the memory reserved for the
    /// files (their buffer's and list's capacity); never more than the budget.
    pub fn used(&self) -> usize {
        self.charged + self.reserved()
    }

    /// The memory reserved for held files.
    fn reserved(&self) -> usize {
        self.bytes.capacity() + self.files.capacity() * std::mem::size_of::<HeldFile>()
    }

    /// Drops everything; nothing more is kept.
    fn give_up(&mut self) {
        *self = Held {
            budget: self.budget,
            over: true,
            #[cfg(test)]
            most_reserved: self.most_reserved,
            ..Held::default()
        };
    }

    fn offer(&mut self, path: RelPath, sha256: Sha256, bytes: &[u8], executable: bool) {
        if self.over {
            return;
        }
        // Room for one more file's entry, then its bytes, each within what is left of the
        // budget (a growth no allocation can give is one the output is over).
        let fits = self
            .budget
            .checked_sub(self.used())
            .is_some_and(|room| grow(&mut self.files, 1, room))
            && self
                .budget
                .checked_sub(self.used())
                .is_some_and(|room| grow(&mut self.bytes, bytes.len(), room));
        if !fits {
            self.give_up();
            return;
        }
        self.bytes.extend_from_slice(bytes);
        self.files
            .push((path, self.bytes.len(), sha256, executable));
        #[cfg(test)]
        {
            self.most_reserved = self.most_reserved.max(self.reserved());
        }
    }

    /// Every whole file the render made (path, SHA-256, bytes, executable bit; in the order
    /// a [`Bodies::Stream`] render hands them out), or `None` when they did not fit.
    pub fn files(&self) -> Option<impl Iterator<Item = (&RelPath, Sha256, &[u8], bool)>> {
        if self.over {
            return None;
        }
        let mut start = 0;
        Some(
            self.files
                .iter()
                .map(move |(path, end, sha256, executable)| {
                    let bytes = &self.bytes[start..*end];
                    start = *end;
                    (path, *sha256, bytes, *executable)
                }),
        )
    }
}

/// Makes room in `v` for `extra` more items, growing its capacity by at least that, by
/// doubling below [`HOLD_STEP`] bytes and by that step above, and by at most `room` bytes.
/// False when that is not enough or the allocation fails (nothing changed then).
fn grow<T>(v: &mut Vec<T>, extra: usize, room: usize) -> bool {
    if v.capacity() - v.len() >= extra {
        return true;
    }
    let size = std::mem::size_of::<T>().max(1);
    let most = v.capacity().saturating_add(room / size);
    let Some(need) = v.len().checked_add(extra).filter(|n| *n <= most) else {
        return false;
    };
    let step = v.capacity().clamp(4096 / size, HOLD_STEP / size);
    let to = need.max(v.capacity() + step).min(most);
    v.try_reserve_exact(to - v.len()).is_ok()
}

/// How much a [`Notice`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeLevel {
    /// A documented fallback or skip: the user should know, nothing is wrong.
    Info,
    /// Something will not work as written (a dropped model, a duplicate, a size limit).
    Warning,
}

/// One line for `aiwg apply` and `aiwg status` about one platform.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Notice {
    /// The id of the platform it is about.
    pub platform: String,
    /// The kind it is about, if one.
    pub kind: Option<Kind>,
    /// Whether it is a documented fallback or something that will not work as written.
    pub level: NoticeLevel,
    /// The text to show, without the platform id (`Display` puts that in front).
    pub message: String,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.platform, self.message)
    }
}

/// What the platforms want on disk, and what the user should be told about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// Every path and part the selected platforms want, relative to the scope root.
    pub target: TargetState,
    /// Sorted by platform, then kind, then message.
    pub notices: Vec<Notice>,
}

/// Why a render cannot produce a target state.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// Two platforms (or artifacts) want one path with different content.
    #[error(transparent)]
    Clash(Box<TargetClash>),
    /// An artifact name makes a path that cannot be written.
    #[error("{platform}: cannot write `{artifact}`: {reason}")]
    BadPath {
        /// The id of the platform whose path pattern made the path.
        platform: String,
        /// The artifact's `kind:name`.
        artifact: String,
        /// Why the path is not a valid relative path.
        reason: RelPathError,
    },
    /// A platform would read an artifact its `[platform.<id>] exclude` leaves out, in a place
    /// written for other platforms.
    #[error("`[platform.{platform}] exclude` leaves out {artifact}, but {platform} reads `{place}`, which holds {} for {}", if artifact.contains(", ") { "them" } else { "it" }, written_for.join(", "))]
    Excluded {
        /// The id of the platform that leaves the artifact out.
        platform: String,
        /// The artifacts, as `kind `name``.
        artifact: String,
        /// The place it reads them in.
        place: String,
        /// The platforms the place is written for.
        written_for: Vec<String>,
    },
    /// Two platforms whose excludes differ share one file that would have to hold different
    /// text for each (a section of `AGENTS.md`, a hooks file).
    #[error("`{path}` is one file for {first} and {second}, whose `[platform.<id>] exclude` differ, so it cannot hold what each of them gets")]
    SharedExclude {
        /// The shared file.
        path: String,
        /// One platform.
        first: String,
        /// The other.
        second: String,
    },
}

impl From<TargetClash> for RenderError {
    fn from(clash: TargetClash) -> Self {
        RenderError::Clash(Box::new(clash))
    }
}

/// Frontmatter keys aiwg reads itself; `passthrough` never copies them raw.
pub(super) const CONSUMED_KEYS: &[&str] = &[
    "name",
    "description",
    "model",
    "tools",
    "globs",
    "paths",
    "applyTo",
    "always",
    "alwaysApply",
];

/// The Agent Skills specification's frontmatter keys, the only ones a shared SKILL.md carries.
pub const SPEC_SKILL_KEYS: &[&str] = &[
    "name",
    "description",
    "license",
    "compatibility",
    "metadata",
    "allowed-tools",
];

/// The id of the CLAUDE.md section that imports AGENTS.md.
pub const BRIDGE_SECTION: &str = "agents-md-bridge";

/// Renders `model` for `platforms` in `scope`: each platform's resolved placement
/// ([`placement::resolve`]), then native files, skill folders (by reader set), sections
/// (runbook sections last, so they can index the skill copies), the AGENTS.md bridge, and
/// size-limit warnings.
pub fn render(
    model: &Model,
    platforms: &[&PlatformSpec],
    scope: Scope,
    options: &RenderOptions,
) -> Result<Rendered, RenderError> {
    render_bodies(model, platforms, scope, options, Bodies::Keep)
}

/// [`render`], keeping of each whole file what `bodies` says: the bytes, or only their
/// digest; or, streaming, nothing, the bytes going to a sink. The same files in the same
/// order whatever `bodies` is.
pub fn render_bodies<'o, 's: 'o>(
    model: &Model,
    platforms: &[&PlatformSpec],
    scope: Scope,
    options: &'o RenderOptions,
    bodies: Bodies<'s>,
) -> Result<Rendered, RenderError> {
    // Not needless: the sink is re-borrowed for the render's shorter lifetime (a `&mut dyn`
    // is invariant, so `Bodies<'s>` is not a `Bodies<'o>` by itself).
    #[allow(clippy::needless_match)]
    let bodies: Bodies<'o> = match bodies {
        Bodies::Keep => Bodies::Keep,
        Bodies::Digest => Bodies::Digest,
        Bodies::Stream(sink) => Bodies::Stream(sink),
        Bodies::Hold(held) => {
            // One ceiling: what the model holds counts first, so a large model's render gives
            // up holding early instead of growing the budget's worth beside it.
            held.charge(model.artifacts.iter().map(source_bytes).sum());
            Bodies::Hold(held)
        }
    };
    let mut platforms: Vec<&PlatformSpec> = platforms.to_vec();
    platforms.sort_by(|a, b| a.id.cmp(&b.id));
    platforms.dedup_by(|a, b| a.id == b.id);
    let making = match bodies {
        Bodies::Keep | Bodies::Stream(_) => Making::Bytes,
        Bodies::Digest => Making::Digest,
        Bodies::Hold(_) => Making::Both,
    };
    let mut r = Renderer {
        shared: Shared {
            scope,
            options,
            excludes: options
                .exclude
                .iter()
                .filter(|(id, patterns)| {
                    !patterns.is_empty() && platforms.iter().any(|p| &p.id == *id)
                })
                .map(|(id, patterns)| (id.clone(), patterns.as_slice()))
                .collect(),
            making,
            notes: Mutex::default(),
        },
        target: TargetState::new(),
        runbook_skills: BTreeMap::new(),
        bodies,
        origin_texts: Default::default(),
        section_inputs: HashMap::new(),
    };
    let resolved: Vec<(&PlatformSpec, Resolved)> = platforms
        .iter()
        .map(|p| (*p, placement::resolve(p, scope)))
        .collect();

    let files = r.plan_files(model, &platforms, &resolved)?;
    if let Bodies::Hold(held) = &mut r.bodies {
        // An output that cannot fit is known before the first file is made: nothing is held
        // then, so a large render does not fill the budget only to drop it.
        held.foresee(files.least_file_bytes);
    }
    let mut deferred = Deferred::default();
    for (p, res) in &resolved {
        r.platform_pass(model, p, res, &resolved, &files, &mut deferred)?;
    }
    let Deferred {
        skill_needers,
        runbook_sections,
    } = deferred;
    let none = BTreeSet::new();
    let needers = |kind: Kind| skill_needers.get(&kind).unwrap_or(&none);
    // In order of precedence: the first kind to claim a name takes its skill folder.
    let skill_kinds = [
        (Kind::Skill, needers(Kind::Skill)),
        (Kind::Runbook, needers(Kind::Runbook)),
        (Kind::Agent, needers(Kind::Agent)),
        (Kind::Command, needers(Kind::Command)),
    ];
    r.skills(model, &platforms, &skill_kinds)?;
    r.reader_notices(&resolved, &files);
    for (p, file) in runbook_sections {
        let runbooks = r.kept(model, p, Kind::Runbook);
        r.section(p, Kind::Runbook, &runbooks, file)?;
    }
    r.bridge(&resolved)?;
    r.refuse_unplanned_leaks(model, &resolved)?;
    r.limits(&platforms);
    let notes = r
        .shared
        .notes
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    let mut notices = notes.notices;
    for ((platform, kind, how), n) in notes.tally {
        notices.insert(Notice {
            platform,
            kind: Some(kind),
            level: NoticeLevel::Info,
            message: format!("{n} {} {how}", plural(kind, n)),
        });
    }
    Ok(Rendered {
        target: r.target,
        notices: notices.into_iter().collect(),
    })
}

/// Why `p` also takes its native `kind` as skills (`[command.also_skill]`), when it does:
/// it has a skills folder here and no selected platform writes one of the `unless` places.
fn skill_copy<'a>(
    p: &'a PlatformSpec,
    res: &Resolved,
    kind: Kind,
    resolved: &[(&PlatformSpec, Resolved)],
) -> Option<&'a str> {
    let also = p.kind(kind)?.also_skill.as_ref()?;
    let native = matches!(res.get(kind).place, Place::Native { .. });
    let has_skills = matches!(res.get(Kind::Skill).place, Place::Skill { .. });
    let served = resolved.iter().any(|(q, qres)| {
        q.id != p.id
            && matches!(&qres.get(kind).place, Place::Native { pattern } if also.unless.contains(pattern))
    });
    (native && has_skills && !served).then_some(also.why.as_str())
}

/// For a platform without its own hooks that runs another selected platform's (Copilot CLI
/// runs `.claude/settings.json`): how its behaviors reach it, as a notice says it.
fn hooks_through(
    p: &PlatformSpec,
    res: &Resolved,
    resolved: &[(&PlatformSpec, Resolved)],
) -> Option<String> {
    let reads = &res.get(Kind::Behavior).reads;
    resolved
        .iter()
        .find_map(|(q, qres)| match &qres.get(Kind::Behavior).place {
            Place::Hooks { settings, .. } if q.id != p.id && reads.contains(settings) => {
                Some(format!(
                    "deployed through `{settings}` (written for {}), whose hooks {} runs",
                    q.id, p.name
                ))
            }
            _ => None,
        })
}

/// What the per-platform pass leaves to the later phases.
#[derive(Default)]
struct Deferred<'a> {
    /// Per kind written as skills, the platforms that need it so.
    skill_needers: BTreeMap<Kind, BTreeSet<&'a str>>,
    /// Platforms whose runbooks become a section, with the file: written once the skills
    /// are placed, so the section can point to a runbook's skill copy instead of repeating it.
    runbook_sections: Vec<(&'a PlatformSpec, &'a str)>,
}

/// One render's state: what is written so far and what to tell the user. Whole files are
/// made on every core ([`Shared`]); they go into the target state here, on the calling
/// thread, in the order a serial render makes them.
struct Renderer<'o> {
    shared: Shared<'o>,
    target: TargetState,
    /// Runbook name → its SKILL.md as a section's index shows it, for every runbook this
    /// render writes as a skill (filled by `skills`).
    runbook_skills: BTreeMap<String, String>,
    /// What is kept of each whole file's bytes.
    bodies: Bodies<'o>,
    /// The origins made so far, their source and artifact names and each platform's list of
    /// one: every entry of an artifact for a platform shares one origin ([`Origin`]).
    origin_texts: OriginTexts,
    /// Each section kept so far (its path after the home rebase, its id) → the artifacts its
    /// text was made of, by address: another platform's section of the same artifacts there
    /// has the same text, which is not made again (`sections`).
    section_inputs: HashMap<(RelPath, String), Vec<usize>>,
}

impl<'o> std::ops::Deref for Renderer<'o> {
    type Target = Shared<'o>;
    fn deref(&self) -> &Shared<'o> {
        &self.shared
    }
}

/// What every part of a render reads, and what it collects for the user: all the threads
/// that make files share it. The notices are a set and the tallies are sums, so the order
/// threads add them in changes nothing.
pub(super) struct Shared<'o> {
    scope: Scope,
    options: &'o RenderOptions,
    /// `options.exclude` of the selected platforms that leave something out.
    excludes: BTreeMap<String, &'o [ArtifactPattern]>,
    /// What [`Shared::make`] computes of each whole file.
    making: Making,
    notes: Mutex<Notes>,
}

/// What the user is told, collected while rendering.
#[derive(Default)]
struct Notes {
    notices: BTreeSet<Notice>,
    /// (platform, kind, what happened) → count, made one line each at the end.
    tally: BTreeMap<(String, Kind, String), usize>,
}

/// What [`Shared::make`] keeps of a whole file, from [`Bodies`].
#[derive(Clone, Copy, PartialEq)]
enum Making {
    /// The bytes, unhashed (`Keep`, `Stream`).
    Bytes,
    /// The SHA-256 and size only (`Digest`): the bytes are dropped where they were made.
    Digest,
    /// Both (`Hold`).
    Both,
}

/// Whole files of at most this many source bytes (bodies and assets) are made at once on
/// every core, then inserted: what a render holds at a time stays bounded (a streamed
/// apply's second render must not hold its output), and a batch is big enough that starting
/// its thread is small next to it.
const BATCH_BYTES: usize = 1 << 20;

/// A batch of fewer source bytes than this is made on the calling thread: a thread start
/// (and, on a busy machine, the wait for it to run) costs more than such a batch takes
/// (the bundled framework's ten agents are 44 KiB). Unit tests use every batch, however
/// small, to compare the threads' result with one thread's.
const PARALLEL_BYTES: usize = if cfg!(test) { 1 } else { 256 << 10 };

impl<'o> Renderer<'o> {
    /// `items` cut into consecutive batches of at most [`BATCH_BYTES`] source bytes (at least
    /// one artifact each); each batch made by `make` on every core, then given to `each` on
    /// this thread in `items`' order, so what `each` does happens in a serial render's order.
    /// A panic in `make` is passed on ([`aiwg_core::par::par_map`]).
    pub(super) fn batches<'m, R: Send>(
        &mut self,
        items: &[&'m Artifact],
        make: impl Fn(&Shared<'o>, &'m Artifact) -> R + Sync,
        mut each: impl FnMut(&mut Self, &'m Artifact, R) -> Result<(), RenderError>,
    ) -> Result<(), RenderError> {
        let mut rest = items;
        while !rest.is_empty() {
            let (mut n, mut batch_bytes) = (0, 0);
            for a in rest {
                let bytes = source_bytes(a);
                if n > 0 && batch_bytes + bytes > BATCH_BYTES {
                    break;
                }
                (n, batch_bytes) = (n + 1, batch_bytes + bytes);
            }
            let (batch, after) = rest.split_at(n);
            rest = after;
            let shared = &self.shared;
            let min_items = if batch_bytes >= PARALLEL_BYTES {
                2
            } else {
                usize::MAX
            };
            let made = aiwg_core::par::par_map(batch.to_vec(), min_items, |a| make(shared, a));
            for (a, r) in batch.iter().zip(made) {
                each(self, a, r)?;
            }
        }
        Ok(())
    }
}

/// The bytes of an artifact's body and assets: what making its files reads.
fn source_bytes(a: &Artifact) -> usize {
    a.body.len() + a.assets.iter().map(|x| x.bytes.len()).sum::<usize>()
}

/// Frontmatter and body as one Markdown file; without frontmatter the body's leading blank
/// lines go too.
pub(super) fn markdown(fm: &Map<String, Value>, body: &str) -> String {
    let block = yaml::frontmatter_block(fm);
    if block.is_empty() {
        body.trim_start_matches(['\n', '\r']).to_string()
    } else {
        format!("{block}{body}")
    }
}

pub(super) fn sorted(model: &Model, kind: Kind) -> Vec<&Artifact> {
    let mut v: Vec<&Artifact> = model.of_kind(kind).collect();
    v.sort_by(|a, b| (&a.source, &a.name).cmp(&(&b.source, &b.name)));
    v
}

/// "sees the agent twice", "sees each of the 3 rules 3 times".
pub(super) fn sees_copies(kind: Kind, n: usize, copies: usize) -> String {
    let times = if copies == 2 {
        "twice".to_string()
    } else {
        format!("{copies} times")
    };
    let what = if n == 1 {
        format!("the {kind}")
    } else {
        format!("each of the {n} {}", plural(kind, n))
    };
    format!("sees {what} {times}")
}

pub(super) fn plural(kind: Kind, n: usize) -> String {
    if kind == Kind::Mcp {
        return if n == 1 { "MCP server" } else { "MCP servers" }.to_string();
    }
    if n == 1 {
        kind.as_str().to_string()
    } else {
        format!("{}s", kind.as_str())
    }
}

impl Renderer<'_> {
    /// Every kind of one platform to the place its resolved placement names: native files and
    /// sections now, skills and runbook sections deferred.
    fn platform_pass<'a>(
        &mut self,
        model: &Model,
        p: &'a PlatformSpec,
        res: &'a Resolved,
        resolved: &[(&PlatformSpec, Resolved)],
        files: &readers::FilePlan,
        deferred: &mut Deferred<'a>,
    ) -> Result<(), RenderError> {
        for kind in [
            Kind::Agent,
            Kind::Command,
            Kind::Rule,
            Kind::Runbook,
            Kind::Behavior,
            Kind::Skill,
            Kind::Mcp,
        ] {
            let mut items = self.kept(model, p, kind);
            if kind == Kind::Mcp {
                items.retain(|a| mcp::targets(a, p));
            }
            let place = &res.get(kind).place;
            let file_place = match place {
                Place::Native { pattern } => Some(pattern),
                Place::Section { file } => Some(file),
                _ => None,
            };
            if let Some(own) = file_place.filter(|_| readers::FILE_KINDS.contains(&kind)) {
                // The rest is served by another platform's copy (`reader_notices` says where).
                items.retain(|a| files.writes(kind, &self.excluders(a), own));
                if items.is_empty() {
                    continue;
                }
            }
            let needs_skills = |deferred: &mut Deferred<'a>| {
                deferred
                    .skill_needers
                    .entry(kind)
                    .or_default()
                    .insert(&p.id);
            };
            if let Some(why) = skill_copy(p, res, kind, resolved) {
                let how = format!("also deployed as skills: {why}");
                self.count(p, kind, &how, items.len());
                if !items.is_empty() {
                    needs_skills(deferred);
                }
            }
            match place {
                Place::Native { pattern } => self.native(p, kind, &items, pattern)?,
                Place::Skill { native, .. } => {
                    if !*native {
                        let how = match kind {
                            Kind::Runbook => "deployed as skills".to_string(),
                            _ => format!("deployed as skills ({})", no_native(p, kind)),
                        };
                        self.count(p, kind, &how, items.len());
                    }
                    if *native || !items.is_empty() {
                        needs_skills(deferred);
                    }
                }
                Place::Section { file } if kind == Kind::Runbook => {
                    if !items.is_empty() {
                        deferred.runbook_sections.push((p, file));
                    }
                }
                Place::Section { file } => self.section(p, kind, &items, file)?,
                Place::Rule { pattern } => self.runbook_rules(p, &items, pattern)?,
                Place::Hooks { settings, scripts } => {
                    self.behaviors(p, &items, settings, scripts)?
                }
                Place::Config { .. } => self.mcp_servers(p, &items)?,
                Place::Skip { why } => {
                    let how = match hooks_through(p, res, resolved) {
                        Some(via) if kind == Kind::Behavior => via,
                        _ => format!("skipped: {why}"),
                    };
                    self.count(p, kind, &how, items.len());
                }
            }
        }
        Ok(())
    }

    fn insert(
        &mut self,
        path: RelPath,
        desired: Desired,
        source: &str,
        artifact: String,
        p: &PlatformSpec,
    ) -> Result<(), RenderError> {
        let path = self.rebase(p, path)?;
        if let (Bodies::Stream(sink), Desired::File { bytes, executable }) =
            (&mut self.bodies, &desired)
        {
            sink(&path, bytes, *executable);
            return Ok(());
        }
        // A streamed apply writes a section file from its plan, made by the first render: the
        // second keeps where each section goes (the bridge asks) but not its text, megabytes
        // at scale held while every file is written.
        let desired = match (&self.bodies, desired) {
            (Bodies::Stream(_), Desired::Section { id, .. }) => Desired::Section {
                id,
                text: String::new(),
            },
            (_, desired) => desired,
        };
        let (desired, body) = match (&self.bodies, desired) {
            (Bodies::Digest | Bodies::Hold(_), Desired::File { bytes, executable }) => {
                let sha256 = Sha256::of(&bytes);
                let size = bytes.len() as u64;
                let body = self
                    .holds_new(&path)
                    .then(|| (path.clone(), sha256, bytes, executable));
                let desired = Desired::Digest {
                    sha256,
                    size,
                    executable,
                };
                (desired, body)
            }
            (_, desired) => (desired, None),
        };
        self.want(path, desired, source, artifact, p)?;
        if let (Bodies::Hold(held), Some((path, sha256, bytes, executable))) =
            (&mut self.bodies, body)
        {
            held.offer(path, sha256, &bytes, executable);
        }
        Ok(())
    }

    /// Whether a [`Bodies::Hold`] render keeps the bytes of the whole file at `path`: only
    /// when the path is first wanted (a second platform wanting the same bytes there is the
    /// same write).
    fn holds_new(&self, path: &RelPath) -> bool {
        matches!(self.bodies, Bodies::Hold(_)) && !self.target.has_file(path)
    }

    /// [`Renderer::insert`] of a file from [`Renderer::make`] for platform `p`: the same entry,
    /// without hashing again (a streaming render hands the sink the same bytes, uncopied);
    /// `last` (no platform after this one) lets kept bytes go without a copy.
    fn insert_made(
        &mut self,
        made: &mut Made,
        source: &str,
        artifact: String,
        p: &PlatformSpec,
        last: bool,
    ) -> Result<(), RenderError> {
        let path = self.rebase(p, made.path.clone())?;
        if let Bodies::Stream(sink) = &mut self.bodies {
            sink(&path, &made.bytes, made.executable);
            return Ok(());
        }
        let desired = match &made.sha256 {
            None if last => Desired::File {
                bytes: std::mem::take(&mut made.bytes),
                executable: made.executable,
            },
            None => Desired::File {
                bytes: made.bytes.clone(),
                executable: made.executable,
            },
            Some(sha256) => Desired::Digest {
                sha256: *sha256,
                size: made.size,
                executable: made.executable,
            },
        };
        let hold = self.holds_new(&path).then(|| path.clone());
        self.want(path, desired, source, artifact, p)?;
        if let (Bodies::Hold(held), Some(path), Some(sha256)) =
            (&mut self.bodies, hold, &made.sha256)
        {
            held.offer(path, *sha256, &made.bytes, made.executable);
        }
        Ok(())
    }

    /// Records that platform `p` wants `desired` at `path` for `artifact` of `source` (a
    /// clash with another want is the render's error).
    fn want(
        &mut self,
        path: RelPath,
        desired: Desired,
        source: &str,
        artifact: String,
        p: &PlatformSpec,
    ) -> Result<(), RenderError> {
        let origin = self.origin(source, &artifact, p);
        self.target
            .insert(TargetEntry {
                path,
                desired,
                origin,
            })
            .map_err(|clash| self.clash_error(clash))
    }

    /// The origin of an entry platform `p` wants for `artifact` of `source`, its texts shared.
    pub(super) fn origin(&mut self, source: &str, artifact: &str, p: &PlatformSpec) -> Origin {
        self.origin_texts
            .origin(source, artifact, std::slice::from_ref(&p.id))
    }

    /// `path` under the client's home variable, when it is set and the path lies in the
    /// folder it moves (user scope only).
    fn rebase(&self, p: &PlatformSpec, path: RelPath) -> Result<RelPath, RenderError> {
        let moved = (self.scope == Scope::User)
            .then_some(p.home.as_ref())
            .flatten()
            .and_then(|h| Some((h, self.options.homes.get(&h.var)?)))
            .and_then(|(h, to)| h.rebase(path.as_str(), to));
        match moved {
            None => Ok(path),
            Some(moved) => RelPath::new(&moved).map_err(|reason| RenderError::BadPath {
                platform: p.id.clone(),
                artifact: path.to_string(),
                reason,
            }),
        }
    }
}

impl Shared<'_> {
    /// The artifacts of `kind` that `p` gets (its excludes left out), sorted.
    fn kept<'m>(&self, model: &'m Model, p: &PlatformSpec, kind: Kind) -> Vec<&'m Artifact> {
        let mut items = sorted(model, kind);
        items.retain(|a| !self.excluded(&p.id, a));
        items
    }

    pub(super) fn notice(
        &self,
        p: &PlatformSpec,
        kind: Option<Kind>,
        level: NoticeLevel,
        message: String,
    ) {
        self.notes().notices.insert(Notice {
            platform: p.id.clone(),
            kind,
            level,
            message,
        });
    }

    /// Counts `n` artifacts of `kind` that went `how` on `p`; one notice line per group.
    pub(super) fn count(&self, p: &PlatformSpec, kind: Kind, how: &str, n: usize) {
        if n > 0 {
            *self
                .notes()
                .tally
                .entry((p.id.clone(), kind, how.to_string()))
                .or_default() += n;
        }
    }

    /// The notes, whichever thread panicked while it held them (a panic is passed on anyway).
    fn notes(&self) -> std::sync::MutexGuard<'_, Notes> {
        self.notes.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn path(
        &self,
        p: &PlatformSpec,
        a: &Artifact,
        pattern: &str,
    ) -> Result<RelPath, RenderError> {
        RelPath::new(&pattern.replace("{name}", &a.name)).map_err(|reason| RenderError::BadPath {
            platform: p.id.clone(),
            artifact: a.id(),
            reason,
        })
    }

    /// A whole file made once for several platforms: hashed once when the render keeps
    /// digests, so each platform's [`Renderer::insert_made`] only records it.
    pub(super) fn make(&self, path: RelPath, mut bytes: Vec<u8>, executable: bool) -> Made {
        let size = bytes.len() as u64;
        let sha256 = (self.making != Making::Bytes).then(|| Sha256::of(&bytes));
        if self.making == Making::Digest {
            bytes = Vec::new();
        }
        Made {
            path,
            bytes,
            size,
            executable,
            sha256,
        }
    }

    pub(super) fn check_size(&self, p: &PlatformSpec, a: &Artifact, spec: &KindSpec, text: &str) {
        if let Some(max) = spec.max_chars {
            let n = text.chars().count();
            if n > max {
                self.notice(
                    p,
                    Some(a.kind),
                    NoticeLevel::Warning,
                    format!(
                        "{} `{}` is {n} characters; {} reads at most {max}, so the rest is ignored (shorten it; aiwg does not truncate)",
                        a.kind, a.name, p.name
                    ),
                );
            }
        }
    }
}

/// A whole file rendered once, to be inserted for each platform that sees it.
pub(super) struct Made {
    /// Before the platform's home rebase.
    path: RelPath,
    /// Empty when only the digest is kept ([`Making::Digest`]).
    bytes: Vec<u8>,
    size: u64,
    executable: bool,
    /// Its SHA-256, when the render keeps digests ([`Bodies::Digest`], [`Bodies::Hold`]).
    sha256: Option<Sha256>,
}

/// Why `kind` has no native place on `p`: its `why`, or "no native <kind>s here".
pub(super) fn no_native(p: &PlatformSpec, kind: Kind) -> String {
    p.kind(kind)
        .and_then(|k| k.why.clone())
        .unwrap_or_else(|| format!("no native {}s here", kind.as_str()))
}
