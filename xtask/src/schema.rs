//! `cargo xtask docs` writes `aiwg.schema.json`: the JSON schema of `aiwg.toml`, derived by
//! schemars from `aiwg_core::config::Config` (so a key added there is in the schema), and
//! `aiwg.local.schema.json`, that of `aiwg.local.toml` (`aiwg_core::local::LocalConfig`), with the
//! platform ids and aliases of `platforms/*.toml` as the values editors offer. Draft 7, which
//! TOML editors' schema support reads. A test fails when the file is stale.

use std::path::Path;

use anyhow::Context as _;
use serde_json::{json, Value};

/// The file, at the repository root.
pub const FILE: &str = "aiwg.schema.json";
/// The schema of the personal overlay, `aiwg.local.toml`, beside it.
pub const LOCAL_FILE: &str = "aiwg.local.schema.json";

/// The schema text of `aiwg.toml`, ending in a newline.
pub fn text() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator
        .into_root_schema_for::<aiwg_core::config::Config>()
        .to_value();
    finish(schema, "aiwg.toml")
}

/// The schema text of `aiwg.local.toml` (`aiwg_core::local::LocalConfig`), ending in a
/// newline.
pub fn local_text() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator
        .into_root_schema_for::<aiwg_core::local::LocalConfig>()
        .to_value();
    finish(schema, aiwg_core::local::LOCAL_CONFIG_FILE)
}

/// `schema` with its title, the platform names offered where a platform is named, and the
/// `exclude` pattern description.
fn finish(mut schema: Value, title: &str) -> String {
    let registry = aiwg_platforms::Registry::builtin();
    let mut names: Vec<String> = registry
        .all()
        .iter()
        .flat_map(|p| std::iter::once(p.id.clone()).chain(p.aliases.iter().cloned()))
        .collect();
    names.sort();
    names.dedup();
    let platform_name = json!({ "type": "string", "enum": names });
    schema["title"] = json!(title);
    let properties = &mut schema["properties"];
    properties["platforms"]["items"] = platform_name.clone();
    for key in ["models", "platform"] {
        if properties.get(key).is_some() {
            properties[key]["propertyNames"] = platform_name.clone();
        }
    }
    properties["exclude"]["items"] = pattern();
    if let Some(definitions) = schema.get_mut("definitions") {
        definitions["PlatformConfig"]["properties"]["exclude"]["items"] = pattern();
    }
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// An `exclude` entry: `kind:glob`, `*:glob` or a bare glob.
fn pattern() -> Value {
    let kinds: Vec<&str> = aiwg_core::Kind::ALL.map(aiwg_core::Kind::as_str).to_vec();
    json!({
        "type": "string",
        "description": format!(
            "`kind:glob` (kinds: {}), `*:glob` or `glob`: the artifacts whose name matches",
            kinds.join(", ")
        ),
        "minLength": 1,
    })
}

/// Writes both schemas under `root`; true when a file changed.
pub fn write(root: &Path) -> anyhow::Result<bool> {
    let team = write_one(&root.join(FILE), &text())?;
    let local = write_one(&root.join(LOCAL_FILE), &local_text())?;
    Ok(team || local)
}

fn write_one(path: &Path, new: &str) -> anyhow::Result<bool> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(new) {
        return Ok(false);
    }
    std::fs::write(path, new).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_files_are_fresh() {
        for (file, text) in [(FILE, text()), (LOCAL_FILE, local_text())] {
            let on_disk = std::fs::read_to_string(crate::root().join(file)).unwrap_or_default();
            assert!(
                on_disk == text,
                "{file} is stale: run `cargo xtask docs` and commit it"
            );
        }
    }

    /// The overlay's schema takes what `aiwg.local.toml` takes and nothing the team decides.
    #[test]
    fn the_local_schema_describes_what_the_overlay_parser_takes() {
        let schema: Value = serde_json::from_str(&local_text()).unwrap();
        let mut keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["exclude", "platform", "platforms", "sources"]);
        assert_eq!(schema["additionalProperties"], json!(false));
        let full = "sources = [\"mine@../mine\"]\nplatforms = [\"codex\"]\n\
                    exclude = [\"agent:a\"]\n[platform.codex]\nexclude = [\"rule:*\"]\n";
        let file = Path::new(aiwg_core::local::LOCAL_CONFIG_FILE);
        aiwg_core::local::LocalConfig::parse(file, full).unwrap();
        let ids = schema["properties"]["platforms"]["items"]["enum"]
            .as_array()
            .unwrap();
        assert!(ids.contains(&json!("codex")));
    }

    /// Every key `aiwg.toml` takes is in the schema, a typo is not (additionalProperties is
    /// false, as `deny_unknown_fields` refuses it), and platform names are offered.
    #[test]
    fn the_schema_describes_what_the_config_parser_takes() {
        let schema: Value = serde_json::from_str(&text()).unwrap();
        let keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        let full = "sources = [\"sdlc\"]\nplatforms = [\"codex\"]\nscope = \"user\"\n\
                    exclude = [\"agent:legacy-*\"]\n[history]\nkeep = 3\n\
                    [models.codex]\nopus = \"o\"\n[platform.codex]\nexclude = [\"rule:*\"]\n";
        aiwg_core::config::Config::parse(Path::new("aiwg.toml"), full).unwrap();
        let taken = [
            "sources",
            "platforms",
            "scope",
            "exclude",
            "history",
            "models",
            "platform",
        ];
        for key in taken.map(String::from).iter() {
            assert!(keys.contains(&key), "`{key}` is missing from the schema");
        }
        assert_eq!(schema["additionalProperties"], json!(false));
        let ids = schema["properties"]["platforms"]["items"]["enum"]
            .as_array()
            .unwrap();
        assert!(ids.contains(&json!("claude-code")) && ids.contains(&json!("codex")));
        assert_eq!(
            schema["properties"]["scope"]["allOf"][0]["$ref"],
            json!("#/definitions/Scope")
        );
        let scopes: Vec<&Value> = schema["definitions"]["Scope"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| &v["const"])
            .collect();
        assert_eq!(scopes, [&json!("project"), &json!("user")]);
    }
}
