//! Edits to `aiwg.toml` that keep the user's comments and formatting (`toml_edit`):
//! creating it with defaults, adding and removing sources, and writing it whole or not at
//! all. Callers hold the project's process lock around read, edit and write (R6).

use std::path::Path;

use aiwg_core::target::Scope;
use anyhow::Context as _;
use toml_edit::{Array, DocumentMut, Item, Value};

use crate::error::UserError;

/// The text of a new `aiwg.toml` deploying `sources` to `platforms` in `scope`.
pub fn new_config_text(sources: &[String], platforms: &[String], scope: Scope) -> String {
    let mut doc = DocumentMut::new();
    doc.decor_mut()
        .set_prefix("# aiwg: what to deploy, and where. See `aiwg --help`.\n\n");
    doc["sources"] = Item::Value(Value::Array(array(sources)));
    doc["platforms"] = Item::Value(Value::Array(array(platforms)));
    doc["scope"] = toml_edit::value(match scope {
        Scope::Project => "project",
        Scope::User => "user",
    });
    doc.to_string()
}

fn array(items: &[String]) -> Array {
    let mut a: Array = items.iter().map(String::as_str).collect();
    if items.len() > 3 {
        for v in a.iter_mut() {
            v.decor_mut().set_prefix("\n    ");
        }
        a.set_trailing("\n");
        a.set_trailing_comma(true);
    }
    a
}

/// Parses `text` (from `path`) for editing.
fn parse(path: &Path, text: &str) -> anyhow::Result<DocumentMut> {
    text.parse::<DocumentMut>().map_err(|e| {
        UserError::new(
            format!("`{}` is not valid TOML: {}", path.display(), e.message()),
            "fix the file, then run the command again",
        )
        .into()
    })
}

/// Appends `values` to the array `key` of `text` (creating it), skipping ones already there.
/// Returns the new text and the values that were added.
pub fn add_to_array(
    path: &Path,
    text: &str,
    key: &str,
    values: &[String],
) -> anyhow::Result<(String, Vec<String>)> {
    let mut doc = parse(path, text)?;
    if doc.get(key).is_none() {
        doc[key] = Item::Value(Value::Array(Array::new()));
    }
    let array = doc[key]
        .as_array_mut()
        .with_context(|| format!("`{key}` in `{}` is not a list", path.display()))?;
    let mut added = Vec::new();
    for value in values {
        if !array.iter().any(|v| v.as_str() == Some(value)) {
            array.push(value.as_str());
            added.push(value.clone());
        }
    }
    Ok((doc.to_string(), added))
}

/// Sets the array `key` of `text` to `values`: an entry already there keeps its place and
/// its comments, the others go, new ones are appended.
pub fn set_array(path: &Path, text: &str, key: &str, values: &[String]) -> anyhow::Result<String> {
    let kept = remove_from_array(path, text, key, |s| !values.iter().any(|v| v == s))?;
    let (new, _) = add_to_array(path, kept.as_deref().unwrap_or(text), key, values)?;
    Ok(new)
}

/// Removes the strings of the array `key` of `text` that `matches`. Returns the new text, or
/// `None` when none matched.
pub fn remove_from_array(
    path: &Path,
    text: &str,
    key: &str,
    matches: impl Fn(&str) -> bool,
) -> anyhow::Result<Option<String>> {
    let mut doc = parse(path, text)?;
    let Some(array) = doc.get_mut(key).and_then(Item::as_array_mut) else {
        return Ok(None);
    };
    let before = array.len();
    array.retain(|v| !v.as_str().is_some_and(&matches));
    if array.len() == before {
        return Ok(None);
    }
    Ok(Some(doc.to_string()))
}

/// `text` with `generated` set to `mode`: `generated = "ignore"`, or no key for the default
/// `commit`; the rest of the file as it was.
pub fn set_generated(
    path: &Path,
    text: &str,
    mode: aiwg_core::config::Generated,
) -> anyhow::Result<String> {
    let mut doc = parse(path, text)?;
    match mode {
        aiwg_core::config::Generated::Ignore => doc["generated"] = toml_edit::value("ignore"),
        aiwg_core::config::Generated::Commit => {
            doc.remove("generated");
        }
    }
    Ok(doc.to_string())
}

/// Writes `text` to `path` atomically (a temp file beside it, renamed over it), so that a
/// crash never leaves half an `aiwg.toml`. A symlinked `aiwg.toml` is written through to the
/// file it names, as a plain write would.
pub fn write_config(path: &Path, text: &str) -> anyhow::Result<()> {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    replace_file(&real, text.as_bytes(), path)
}

/// Writes `bytes` to `path` atomically, keeping the file's permission bits, for a file aiwg
/// edits outside the deploy engine (a source `adopt` rewrites, a rendered runbook): a
/// symlink at `path` is replaced by the file, never written through.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    replace_file(path, bytes, path)
}

/// Renames a new temp file holding `bytes` over `real` (errors name `shown`).
fn replace_file(real: &Path, bytes: &[u8], shown: &Path) -> anyhow::Result<()> {
    let shown = crate::project::display_relative(shown);
    let dir = real
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (tmp, mut file) = create_temp_beside(dir, &name)
        .with_context(|| format!("cannot write `{}`", shown.display()))?;
    let written = std::io::Write::write_all(&mut file, bytes);
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::Error::from(e).context(format!("cannot write `{}`", shown.display())));
    }
    // The bits of the file replaced, never of what a symlink there names.
    if let Some(meta) = std::fs::symlink_metadata(real).ok().filter(|m| m.is_file()) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, real).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::Error::from(e).context(format!("cannot write `{}`", shown.display()))
    })
}

/// Creates a new temp file in `dir` for a file named `name`, named as the deploy engine names
/// its own (`.<name>.aiwg-tmp.<pid>.<n>`, so a killed run's is found as debris, and never a
/// name a dead run with the same pid left), and never through whatever is at that name: a
/// file or a committed symlink there is an error, not a write into the file it names.
pub fn create_temp_beside(
    dir: &Path,
    name: &str,
) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let tmp = dir.join(aiwg_deploy::system::next_temp_name(name));
    // `create_new` is O_CREAT | O_EXCL, which fails on any entry, a symlink included.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    Ok((tmp, file))
}

/// Refuses a config file of the project (`aiwg.toml`, `aiwg.local.toml`) that is a symlink
/// leading out of `root`: a clone can commit such a link, and aiwg edits its config files in
/// place ([`write_config`] writes through links), so a link to one of the user's own files
/// would get that file rewritten. A link that stays inside the project is fine.
pub fn refuse_link_out(root: &Path, file: &Path) -> anyhow::Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(file) else {
        return Ok(());
    };
    if !meta.file_type().is_symlink() {
        return Ok(());
    }
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let real = std::fs::canonicalize(file).unwrap_or_default();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let to = std::fs::read_link(file).unwrap_or_default();
    if let Ok(inside) = real.strip_prefix(&root) {
        // Into git's own folder (`.git/info/exclude` as git makes it is all comments, an
        // empty TOML file `aiwg use` would rewrite): never (guarantee 1).
        let git = |c: std::path::Component<'_>| {
            aiwg_deploy::lock::names_git_folder(&c.as_os_str().to_string_lossy())
        };
        if !inside.components().any(git) {
            return Ok(());
        }
        return Err(crate::error::UserError::new(
            format!(
                "`{name}` is a symlink into git's folder (to `{}`): aiwg never reads or writes its config there",
                aiwg_core::escape::escape(&to.to_string_lossy())
            ),
            format!("delete the link `{name}` (a repository should not ship it), then run `aiwg init` or `aiwg use` again"),
        )
        .into());
    }
    Err(crate::error::UserError::new(
        format!(
            "`{name}` is a symlink leading out of the project (to `{}`): aiwg reads and edits its config only inside the project",
            aiwg_core::escape::escape(&to.to_string_lossy())
        ),
        format!("replace the link with a regular file (`cp --remove-destination \"$(readlink -f {name})\" {name}`), or delete it if you did not make it"),
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aiwg.toml");
        std::fs::write(&path, "old\n").unwrap();
        write_config(&path, "sources = []\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "sources = []\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);
    }

    /// A committed symlink at the temp name an older aiwg used (`.aiwg.toml.aiwg-tmp.<pid>`;
    /// in a container the pid is the same on every run) is never written through, and the
    /// temp name is one the debris search knows (review19: the config was written into the
    /// link's target, any file of the user's, and a killed edit's temp file was never found).
    #[cfg(unix)]
    #[test]
    fn a_link_at_a_temp_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("bashrc");
        std::fs::write(&victim, "mine\n").unwrap();
        let path = dir.path().join("aiwg.toml");
        std::fs::write(&path, "old\n").unwrap();
        let planted = dir
            .path()
            .join(format!(".aiwg.toml.aiwg-tmp.{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write_config(&path, "sources = []\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "sources = []\n");
        assert!(planted.symlink_metadata().is_ok(), "not aiwg's to remove");
        let (temp, _file) = create_temp_beside(dir.path(), "aiwg.toml").unwrap();
        let name = temp.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            aiwg_deploy::system::temp_writer(name),
            Some(std::process::id())
        );
    }

    #[test]
    fn new_config_parses_back() {
        let text = new_config_text(
            &["sdlc".into()],
            &["claude-code".into(), "codex".into()],
            Scope::Project,
        );
        let c = aiwg_core::config::Config::parse(Path::new("aiwg.toml"), &text).unwrap();
        assert_eq!(c.sources, vec!["sdlc"]);
        assert_eq!(c.platforms, vec!["claude-code", "codex"]);
    }

    #[test]
    fn add_keeps_comments_and_skips_present() {
        let text = "# mine\nsources = [\"sdlc\"] # keep\n";
        let (out, added) = add_to_array(
            Path::new("aiwg.toml"),
            text,
            "sources",
            &["sdlc".into(), "stream".into()],
        )
        .unwrap();
        assert_eq!(added, vec!["stream"]);
        assert!(out.starts_with("# mine\n"), "{out}");
        assert!(out.contains("# keep"), "{out}");
        assert!(out.contains("\"stream\""), "{out}");
        let removed = remove_from_array(Path::new("aiwg.toml"), &out, "sources", |s| s == "sdlc")
            .unwrap()
            .unwrap();
        assert!(!removed.contains("\"sdlc\""), "{removed}");
        assert!(
            remove_from_array(Path::new("aiwg.toml"), &removed, "sources", |s| s == "nope")
                .unwrap()
                .is_none()
        );
    }
}
