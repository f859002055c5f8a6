//! The git cache under `$AIWG_HOME/git/`: one bare repository per URL (`db/<hash>/`, fetched
//! shallow, one commit at a time) and one checkout per commit and sub-folder
//! (`checkouts/<hash>/<commit>[-<hash of the sub-folder>]/`), holding only the source folders
//! the loader reads. A checkout is made in a temporary folder and renamed into place, so one
//! that exists is whole; it is never changed afterwards, so `check`'s stat cache can trust it.
//! Fetch and checkout of one URL run under a file lock (`db/<hash>.lock`).

use std::path::{Path, PathBuf};

use aiwg_core::escape::escape;
use aiwg_core::source::{MAX_SOURCE_BYTES, MAX_SOURCE_ENTRIES, SOURCE_FOLDERS};
use aiwg_deploy::hash::sha256_hex;
use aiwg_deploy::lock::is_commit_id;
use anyhow::Context as _;

use super::git::{self, Failure, Git};
use super::{short, GitSpec};
use crate::commands::UserError;

/// Checkout of a tree: no text conversion, no filter, no keyword expansion, whatever the
/// repository's `.gitattributes` say (this file beats them), so files are the blobs' bytes.
const ATTRIBUTES: &str = "* -text -eol -filter -ident -working-tree-encoding -export-subst\n";

/// The cache folder (`$AIWG_HOME/git`).
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: &Path) -> Cache {
        Cache {
            root: root.to_path_buf(),
        }
    }

    fn key(url: &str) -> String {
        sha256_hex(url.as_bytes())[..24].to_string()
    }

    /// The checkout of `commit` for `spec`, made when missing; with no `pinned` commit the
    /// ref is fetched and resolved first. Returns the commit and its folder.
    pub fn checkout(
        &self,
        spec: &GitSpec,
        pinned: Option<&str>,
        offline: bool,
    ) -> anyhow::Result<(String, PathBuf)> {
        let key = Cache::key(&spec.url);
        let checkouts = self.root.join("checkouts").join(&key);
        let folder_of = |commit: &str| {
            let mut name = commit.to_string();
            if let Some(d) = &spec.subdir {
                name.push('-');
                name.push_str(&sha256_hex(d.as_str().as_bytes())[..12]);
            }
            checkouts.join(name)
        };
        // The common case: a pinned commit already checked out. No git process runs.
        if let Some(commit) = pinned {
            let folder = folder_of(commit);
            if folder.is_dir() {
                return Ok((commit.to_string(), folder));
            }
        }
        if pinned.is_none() && offline {
            return Err(UserError::new(
                format!(
                    "git source `{}` ({}) is not pinned in `aiwg.lock`, and --offline cannot ask the remote what `{}` is",
                    escape(&spec.name),
                    spec.shown(),
                    escape(spec.reference())
                ),
                "run once without --offline (the commit is then pinned and cached)",
            )
            .into());
        }
        let db_root = self.root.join("db");
        std::fs::create_dir_all(&db_root)
            .with_context(|| format!("cannot create `{}`", db_root.display()))?;
        std::fs::create_dir_all(&checkouts)
            .with_context(|| format!("cannot create `{}`", checkouts.display()))?;
        let lock_path = db_root.join(format!("{key}.lock"));
        let lock_file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open `{}`", lock_path.display()))?;
        lock_file
            .lock()
            .with_context(|| format!("cannot lock `{}`", lock_path.display()))?;
        let db = db_root.join(&key);
        self.init(&db)?;
        let wanted = pinned
            .map(str::to_string)
            .or_else(|| spec.reference.clone().filter(|r| is_commit_id(r)));
        let commit = match wanted {
            Some(commit) => {
                if !has_commit(&db, &commit) {
                    if offline {
                        return Err(UserError::new(
                            format!(
                                "commit {} of `{}` ({}) is not in the cache, and --offline fetches nothing",
                                short(&commit),
                                escape(&spec.name),
                                spec.shown()
                            ),
                            "run once without --offline to fetch it",
                        )
                        .into());
                    }
                    fetch(&db, spec, &commit, true)?;
                    if !has_commit(&db, &commit) {
                        return Err(missing_pin(spec, &commit, "the fetch did not bring it"));
                    }
                }
                commit
            }
            None => {
                fetch(&db, spec, spec.reference(), false)?;
                let out = Git::new(Some(&db))
                    .args([
                        "rev-parse",
                        "--verify",
                        "--end-of-options",
                        "FETCH_HEAD^{commit}",
                    ])
                    .run()
                    .map_err(|f| fetch_error(spec, spec.reference(), &f, false))?;
                let commit = String::from_utf8_lossy(&out).trim().to_string();
                if !is_commit_id(&commit) {
                    return Err(anyhow::anyhow!(
                        "git gave `{}` as the commit of `{}`",
                        escape(&commit),
                        spec.shown()
                    ));
                }
                commit
            }
        };
        let folder = folder_of(&commit);
        if !folder.is_dir() {
            extract(&db, spec, &commit, &checkouts, &folder)?;
        }
        drop(lock_file);
        Ok((commit, folder))
    }

    /// Makes the bare repository `db` when missing (in a temporary folder, renamed into place).
    fn init(&self, db: &Path) -> anyhow::Result<()> {
        if db.join("HEAD").is_file() {
            return Ok(());
        }
        let tmp = db.with_extension(format!("tmp.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        Git::new(None)
            .args(["init", "--bare", "--quiet"])
            .args([&tmp])
            .run()
            .map_err(|f| anyhow::anyhow!("cannot make the git cache `{}`: {f}", db.display()))?;
        let info = tmp.join("info");
        std::fs::create_dir_all(&info)?;
        std::fs::write(info.join("attributes"), ATTRIBUTES)?;
        // The sample hooks are never run (`core.hooksPath=/dev/null`); they are removed so
        // that nothing in the cache even looks runnable.
        let _ = std::fs::remove_dir_all(tmp.join("hooks"));
        let _ = std::fs::remove_dir_all(db);
        std::fs::rename(&tmp, db)
            .with_context(|| format!("cannot make the git cache `{}`", db.display()))?;
        Ok(())
    }
}

fn has_commit(db: &Path, commit: &str) -> bool {
    Git::new(Some(db))
        .args(["cat-file", "-e", "--end-of-options"])
        .args([format!("{commit}^{{commit}}")])
        .run()
        .is_ok()
}

/// Fetches `what` (a ref name, or a commit id when `by_id`) of `spec`'s URL, one commit deep.
fn fetch(db: &Path, spec: &GitSpec, what: &str, by_id: bool) -> anyhow::Result<()> {
    Git::new(Some(db))
        .network(spec.protocol.as_str())
        .watch(&db.join("objects"), git::max_fetch_bytes())
        .args([
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-recurse-submodules",
            "--no-write-commit-graph",
            "--depth=1",
            "--end-of-options",
            &spec.url,
            what,
        ])
        .run()
        .map(drop)
        .map_err(|f| {
            // What an oversized fetch left is not kept: the next fetch starts from nothing.
            if matches!(f, Failure::TooBig(..)) {
                let _ = std::fs::remove_dir_all(db);
            }
            fetch_error(spec, what, &f, by_id)
        })
}

fn missing_pin(spec: &GitSpec, commit: &str, why: &str) -> anyhow::Error {
    UserError::new(
        format!(
            "cannot fetch commit {} pinned for `{}` from `{}`: {why}",
            short(commit),
            escape(&spec.name),
            escape(&spec.url)
        ),
        format!(
            "the remote no longer has it (a force-push, or a deleted branch or tag): `aiwg update {}` pins what `{}` is now, and shows the diff first",
            escape(&spec.name),
            escape(spec.reference())
        ),
    )
    .into()
}

/// A fetch failure as the user reads it: the URL, what was asked and git's own reason.
fn fetch_error(spec: &GitSpec, what: &str, failure: &Failure, by_id: bool) -> anyhow::Error {
    let cause = escape(&failure.to_string()).into_owned();
    if let Failure::Failed(m) = failure {
        let m = m.to_ascii_lowercase();
        if by_id
            && (m.contains("not our ref") || m.contains("unadvertised") || m.contains("no such"))
        {
            return missing_pin(spec, what, &cause);
        }
        if m.contains("couldn't find remote ref") || m.contains("no such remote ref") {
            return UserError::new(
                format!(
                    "cannot fetch `{}`: it has no ref `{}` ({cause})",
                    escape(&spec.url),
                    escape(what)
                ),
                "the branch or tag was deleted or renamed: fix the `@ref` of the source in `aiwg.toml` (the pinned commit stays usable from the cache)",
            )
            .into();
        }
    }
    let hint = match failure {
        Failure::NotInstalled => "install git: aiwg runs it to fetch git sources".to_string(),
        Failure::Timeout(_) => {
            "check the network and the URL; `AIWG_GIT_TIMEOUT` sets the limit in seconds".into()
        }
        Failure::TooBig(..) => {
            "the repository is too large for a source: `AIWG_GIT_MAX_FETCH_MB` raises the limit, or use a smaller repository".into()
        }
        _ => format!(
            "check that `git ls-remote {}` works in this shell: aiwg uses your git credentials and stores none",
            escape(&spec.url)
        ),
    };
    UserError::new(
        format!(
            "cannot fetch `{}` (`{}`): {cause}",
            escape(&spec.url),
            escape(what)
        ),
        hint,
    )
    .into()
}

/// One entry of `git ls-tree -r -l -z`.
struct TreeEntry {
    mode: String,
    kind: String,
    oid: String,
    size: u64,
    path: Vec<u8>,
}

fn parse_ls_tree(out: &[u8]) -> Option<Vec<TreeEntry>> {
    out.split(|b| *b == 0)
        .filter(|r| !r.is_empty())
        .map(|record| {
            let tab = record.iter().position(|b| *b == b'\t')?;
            let head = std::str::from_utf8(&record[..tab]).ok()?;
            let mut fields = head.split_ascii_whitespace();
            let mode = fields.next()?.to_string();
            let kind = fields.next()?.to_string();
            let oid = fields.next()?.to_string();
            let size = fields.next()?.parse().unwrap_or(0);
            Some(TreeEntry {
                mode,
                kind,
                oid,
                size,
                path: record[tab + 1..].to_vec(),
            })
        })
        .collect()
}

/// Checks out the source folders of `commit` (below the spec's sub-folder) into `folder`,
/// after checking the tree against the source caps, so nothing over them is ever written.
fn extract(
    db: &Path,
    spec: &GitSpec,
    commit: &str,
    checkouts: &Path,
    folder: &Path,
) -> anyhow::Result<()> {
    let fail = |what: &str, f: Failure| {
        anyhow::anyhow!(
            "cannot check out commit {} of `{}`: {what}: {}",
            short(commit),
            escape(&spec.url),
            escape(&f.to_string())
        )
    };
    // (`<commit>:<path>` takes the rest as a path, so the type is asked separately.)
    let tree_name = match &spec.subdir {
        Some(d) => format!("{commit}:{}", d.as_str()),
        None => format!("{commit}^{{tree}}"),
    };
    let tree = Git::new(Some(db))
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &tree_name,
        ])
        .run()
        .ok()
        .map(|out| String::from_utf8_lossy(&out).trim().to_string())
        .filter(|oid| {
            Git::new(Some(db))
                .args(["cat-file", "-t", "--end-of-options", oid])
                .run()
                .is_ok_and(|t| t.trim_ascii() == b"tree")
        })
        .ok_or_else(|| {
            UserError::new(
                format!(
                    "`{}` has no folder `{}` in commit {}",
                    escape(&spec.url),
                    escape(spec.subdir.as_ref().map_or("", |d| d.as_str())),
                    short(commit)
                ),
                "fix the `#sub-folder` of the source in `aiwg.toml`",
            )
        })?;
    let listing = Git::new(Some(db))
        .args(["ls-tree", "-r", "-l", "-z", "--end-of-options", &tree, "--"])
        .args(SOURCE_FOLDERS)
        .run()
        .map_err(|f| fail("listing its tree", f))?;
    let entries = parse_ls_tree(&listing)
        .ok_or_else(|| anyhow::anyhow!("cannot read git's listing of `{}`", escape(&spec.url)))?;
    // Submodules are not followed; everything else is a file or a symlink to check out.
    let entries: Vec<TreeEntry> = entries.into_iter().filter(|e| e.kind == "blob").collect();
    let bytes: u64 = entries.iter().map(|e| e.size).sum();
    if entries.len() > MAX_SOURCE_ENTRIES || bytes > MAX_SOURCE_BYTES {
        return Err(UserError::new(
            format!(
                "commit {} of `{}` holds {} files and {} bytes in its source folders; a source holds at most {MAX_SOURCE_ENTRIES} files and {} MiB; nothing was checked out",
                short(commit),
                escape(&spec.url),
                entries.len(),
                bytes,
                MAX_SOURCE_BYTES >> 20
            ),
            "point the source at a smaller folder (`#sub-folder`), or keep large data outside the source folders",
        )
        .into());
    }
    // Leftovers of an interrupted checkout (this run holds the lock, so none is live).
    if let Ok(list) = std::fs::read_dir(checkouts) {
        for e in list.filter_map(Result::ok) {
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let tmp = checkouts.join(format!(".tmp-{}", std::process::id()));
    let tree_dir = tmp.join("tree");
    std::fs::create_dir_all(&tree_dir)
        .with_context(|| format!("cannot create `{}`", tree_dir.display()))?;
    let index = tmp.join("index");
    let mut info = Vec::new();
    for e in &entries {
        info.extend_from_slice(format!("{} {}\t", e.mode, e.oid).as_bytes());
        info.extend_from_slice(&e.path);
        info.push(0);
    }
    let mut work_tree = std::ffi::OsString::from("--work-tree=");
    work_tree.push(&tree_dir);
    Git::new(Some(db))
        .env("GIT_INDEX_FILE", &index)
        .args([&work_tree])
        .args(["update-index", "-z", "--index-info"])
        .stdin(info)
        .run()
        .map_err(|f| fail("building its index", f))?;
    Git::new(Some(db))
        .env("GIT_INDEX_FILE", &index)
        .args([&work_tree])
        .args(["checkout-index", "--all", "--force"])
        .run()
        .map_err(|f| fail("writing its files", f))?;
    let renamed = std::fs::rename(&tree_dir, folder);
    let _ = std::fs::remove_dir_all(&tmp);
    if let Err(e) = renamed {
        if !folder.is_dir() {
            return Err(anyhow::anyhow!("cannot write `{}`: {e}", folder.display()));
        }
    }
    Ok(())
}
