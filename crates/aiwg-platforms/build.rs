//! Embeds `platforms/*.toml` (the platform data at the repository root) into the crate as a
//! sorted table, so the binary needs no files beside it.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dir = manifest.join("../../platforms");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// Every `platforms/*.toml`: (file name, text), sorted by file name.\npub static PLATFORM_FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        let abs = path.canonicalize().unwrap();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    // The names and detection markers of every file, read here so that a run parses only the
    // platforms it selects (the whole TOML of all of them was a sixth of a small deploy). A
    // file that does not parse gets no head: the registry then parses every file at start and
    // reports the broken one as it always did.
    out.push_str(
        "/// Per `PLATFORM_FILES` entry: (id, aliases, default, detect), `None` when it does not parse.\npub static PLATFORM_HEADS: &[Option<BuiltHead>] = &[\n",
    );
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let head = text.parse::<toml::Table>().ok().and_then(|t| {
            let strings = |key: &str| -> Option<Vec<String>> {
                match t.get(key) {
                    None => Some(Vec::new()),
                    Some(v) => v
                        .as_array()?
                        .iter()
                        .map(|s| s.as_str().map(str::to_string))
                        .collect(),
                }
            };
            let default = match t.get("default") {
                None => false,
                Some(v) => v.as_bool()?,
            };
            Some((
                t.get("id")?.as_str()?.to_string(),
                strings("aliases")?,
                default,
                strings("detect")?,
            ))
        });
        match head {
            Some((id, aliases, default, detect)) => writeln!(
                out,
                "    Some(({id:?}, &{aliases:?}, {default}, &{detect:?})),"
            )
            .unwrap(),
            None => out.push_str("    None,\n"),
        }
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("platform_files.rs");
    std::fs::write(dest, out).unwrap();
}
