//! MCP servers through the binary: a source server merged into the user's own MCP files
//! (their servers, comments and layout kept), removed byte for byte by `uninstall`, a hand
//! edit reported as a conflict, secrets refused by `validate`, `new` and `list`.

use crate::support::Test;

const SERVER: &str = "description = \"Docs lookup\"\ncommand = \"npx\"\nargs = [\"-y\", \"docs-mcp\"]\n\n[env]\nDOCS_TOKEN = \"${env:DOCS_TOKEN}\"\n";

/// A project with one server in `.aiwg/mcp/docs.toml`.
fn project() -> Test {
    let t = Test::new();
    t.write(".aiwg/mcp/docs.toml", SERVER);
    t
}

/// The user's `.mcp.json`: their own server, comments, CRLF line ends, a trailing comma.
const USERS_MCP_JSON: &str = "{\r\n  // team servers\r\n  \"mcpServers\": {\r\n    \"mine\": { \"command\": \"./bin/mine\" }, // keep\r\n  },\r\n  \"other\": true\r\n}\r\n";

#[test]
fn use_adds_our_server_to_a_users_mcp_json_and_uninstall_gives_the_bytes_back() {
    let t = project();
    t.write(".mcp.json", USERS_MCP_JSON);
    let (code, _, err) = t.run(&[
        "use",
        ".aiwg",
        "--platforms",
        "claude-code",
        "--allow-hooks",
    ]);
    assert_eq!(code, 0, "{err}");
    let merged = t.read(".mcp.json");
    assert!(merged.starts_with("{\r\n  // team servers\r\n"), "{merged}");
    assert!(
        merged.contains("\"mine\": { \"command\": \"./bin/mine\" }, // keep"),
        "{merged}"
    );
    assert!(merged.contains("\"docs\""), "{merged}");
    assert!(
        merged.contains("${DOCS_TOKEN}"),
        "Claude Code's reference syntax: {merged}"
    );
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "nothing to do after use: {err}");
    let (code, _, err) = t.run(&["uninstall"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".mcp.json"), USERS_MCP_JSON);
}

#[test]
fn every_written_mcp_file_parses_back_with_the_users_servers_and_ours() {
    let t = project();
    let users = "{\n  \"mcpServers\": {\n    \"mine\": {\"command\": \"./bin/mine\"}\n  }\n}\n";
    t.write(".mcp.json", users);
    t.write(".cursor/mcp.json", users);
    let codex_users = "# my Codex settings\nmodel = \"o3\"\n\n[mcp_servers.mine]\ncommand = \"./bin/mine\" # keep\n";
    t.write(".codex/config.toml", codex_users);
    let (code, _, err) = t.run(&[
        "use",
        ".aiwg",
        "--platforms",
        "claude-code,cursor,codex,copilot,opencode,gemini-cli,qwen",
        "--allow-hooks",
    ]);
    assert_eq!(code, 0, "{err}");
    for (path, key, reference) in [
        (".mcp.json", "mcpServers", "${DOCS_TOKEN}"),
        (".cursor/mcp.json", "mcpServers", "${env:DOCS_TOKEN}"),
        (".vscode/mcp.json", "servers", "${env:DOCS_TOKEN}"),
        ("opencode.json", "mcp", "{env:DOCS_TOKEN}"),
        (".gemini/settings.json", "mcpServers", "${DOCS_TOKEN}"),
        (".qwen/settings.json", "mcpServers", "${DOCS_TOKEN}"),
    ] {
        let v: serde_json::Value = serde_json::from_str(&t.read(path))
            .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        let docs = &v[key]["docs"];
        assert!(docs.is_object(), "{path}: {v}");
        let env = if path == "opencode.json" {
            &docs["environment"]
        } else {
            &docs["env"]
        };
        assert_eq!(env["DOCS_TOKEN"], reference, "{path}: {v}");
    }
    for path in [".mcp.json", ".cursor/mcp.json"] {
        let v: serde_json::Value = serde_json::from_str(&t.read(path)).unwrap();
        assert_eq!(v["mcpServers"]["mine"]["command"], "./bin/mine", "{path}");
    }
    let opencode: serde_json::Value = serde_json::from_str(&t.read("opencode.json")).unwrap();
    assert_eq!(
        opencode["mcp"]["docs"]["command"],
        serde_json::json!(["npx", "-y", "docs-mcp"])
    );
    let codex_text = t.read(".codex/config.toml");
    assert!(
        codex_text.starts_with("# my Codex settings\n"),
        "{codex_text}"
    );
    assert!(
        codex_text.contains("command = \"./bin/mine\" # keep"),
        "{codex_text}"
    );
    let codex: toml::Table = toml::from_str(&codex_text).unwrap();
    let docs = &codex["mcp_servers"]["docs"];
    assert_eq!(docs["command"].as_str(), Some("npx"));
    assert_eq!(
        docs["env_vars"],
        toml::Value::Array(vec!["DOCS_TOKEN".into()])
    );
    assert!(
        docs.get("env").is_none(),
        "no literal copy of the reference: {codex_text}"
    );
    let (code, _, err) = t.run(&["uninstall"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".mcp.json"), users);
    assert_eq!(t.read(".cursor/mcp.json"), users);
    assert_eq!(t.read(".codex/config.toml"), codex_users);
    for created in [".vscode/mcp.json", "opencode.json", ".gemini/settings.json"] {
        assert!(!t.exists(created), "{created} was aiwg's alone");
    }
}

#[test]
fn a_server_from_a_repository_needs_consent_like_a_hook() {
    let t = project();
    t.write(".mcp.json", USERS_MCP_JSON);
    let (code, _, err) = t.run(&["use", ".aiwg", "--platforms", "claude-code"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("mcp:docs") && err.contains("npx -y docs-mcp") && err.contains("MCP server"),
        "names the server and what it runs: {err}"
    );
    assert_eq!(t.read(".mcp.json"), USERS_MCP_JSON, "nothing written");
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    );
    let (code, _, err) = t.run(&["trust"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 0, "recorded consent: {err}");
    assert!(
        err.contains("hook: installs `mcp:docs`"),
        "announced: {err}"
    );
    // Consent covers these exact bytes: a changed server is asked about again.
    t.write(
        ".aiwg/mcp/docs.toml",
        &SERVER.replace("docs-mcp", "other-mcp"),
    );
    let (code, _, err) = t.run(&["apply"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("other-mcp"), "{err}");
}

#[test]
fn a_server_edited_by_hand_is_a_conflict_and_survives() {
    let t = project();
    t.write(".mcp.json", USERS_MCP_JSON);
    let (code, _, err) = t.run(&[
        "use",
        ".aiwg",
        "--platforms",
        "claude-code",
        "--allow-hooks",
    ]);
    assert_eq!(code, 0, "{err}");
    let edited = t.read(".mcp.json").replace("docs-mcp", "docs-mcp@2");
    t.write(".mcp.json", &edited);
    t.write(
        ".aiwg/mcp/docs.toml",
        &SERVER.replace("docs-mcp", "docs-mcp@3"),
    );
    let (code, _, err) = t.run(&["apply", "--allow-hooks"]);
    assert_eq!(code, 1, "a conflict stops apply: {err}");
    assert!(
        err.contains("conflict") && err.contains(".mcp.json"),
        "{err}"
    );
    assert_eq!(t.read(".mcp.json"), edited, "the hand edit is kept");
}

#[test]
fn validate_refuses_an_inline_secret_with_a_hint() {
    let t = Test::new();
    t.write(
        ".aiwg/mcp/gh.toml",
        "command = \"npx\"\n\n[env]\nGITHUB_TOKEN = \"ghp_abcdefghijklmnopqrstuvwxyz0123456789\"\n", // secret-guard: allow
    );
    let (code, out, err) = t.run(&["validate", ".aiwg"]);
    let all = format!("{out}{err}");
    assert_ne!(code, 0, "{all}");
    assert!(all.contains("gh.toml:3"), "the line of `[env]`: {all}");
    assert!(
        all.contains("${env:GITHUB_TOKEN}"),
        "the hint names the reference: {all}"
    );
    assert!(
        !all.contains("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        "the secret is not echoed: {all}"
    ); // secret-guard: allow
    let (code, _, _) = t.run(&["apply", "--platforms", "claude-code"]);
    assert_eq!(code, 2, "a source with an error is not deployed");
    assert!(!t.exists(".mcp.json"));
}

#[test]
fn new_mcp_scaffolds_a_valid_server_that_list_shows() {
    let t = Test::new();
    let (code, out, err) = t.run(&["new", "mcp", "tracker"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(".aiwg/mcp/tracker.toml"), "{out}");
    let (code, out, err) = t.run(&["validate", ".aiwg"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = t.run(&["list", ".aiwg"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("tracker"), "{out}");
    let (code, out, _) = t.run(&["list", ".aiwg", "--kind", "mcp", "--json"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"tracker\""), "{out}");
}

#[test]
fn import_reads_existing_mcp_configs_into_sources_without_their_secrets() {
    let t = Test::new();
    t.write(
        ".mcp.json",
        "{\n  // ours\n  \"mcpServers\": {\n    \"github\": {\"type\": \"stdio\", \"command\": \"npx\", \"args\": [\"-y\", \"gh-mcp\"], \"env\": {\"GITHUB_TOKEN\": \"${GITHUB_TOKEN}\"}},\n    \"leaky\": {\"command\": \"leaky-mcp\", \"env\": {\"API_KEY\": \"sk-live-0123456789abcdefghijkl\"}}\n  }\n}\n", // secret-guard: allow
    );
    t.write(
        ".cursor/mcp.json",
        "{\"mcpServers\": {\"github\": {\"command\": \"npx\", \"args\": [\"-y\", \"gh-mcp\"], \"env\": {\"GITHUB_TOKEN\": \"${env:GITHUB_TOKEN}\"}}}}\n",
    );
    t.write(
        ".codex/config.toml",
        "model = \"o3\"\n\n[mcp_servers.docs]\nurl = \"https://docs.example.com/mcp\"\nbearer_token_env_var = \"DOCS_TOKEN\"\nstartup_timeout_sec = 20\n",
    );
    let (code, out, err) = t.run(&["import"]);
    assert_eq!(code, 0, "{out}{err}");
    let github = t.read(".aiwg/mcp/github.toml");
    assert!(
        github.contains("GITHUB_TOKEN = \"${env:GITHUB_TOKEN}\""),
        "{github}"
    );
    assert!(
        !format!("{out}{err}").contains("differ"),
        "the Claude Code and Cursor copies agree once references are read back: {out}{err}"
    );
    let docs = t.read(".aiwg/mcp/docs.toml");
    assert!(
        docs.contains("Authorization = \"Bearer ${env:DOCS_TOKEN}\""),
        "{docs}"
    );
    assert!(
        docs.contains("[platform.codex]") && docs.contains("startup_timeout_sec = 20"),
        "{docs}"
    );
    let leaky = t.read(".aiwg/mcp/leaky.toml");
    assert!(leaky.contains("API_KEY = \"${env:API_KEY}\""), "{leaky}");
    assert!(
        !leaky.contains("sk-live"),
        "the literal is not copied: {leaky}"
    );
    assert!(
        format!("{out}{err}").contains("set `API_KEY`"),
        "{out}{err}"
    );
    let (code, out, err) = t.run(&["validate", ".aiwg"]);
    assert_eq!(code, 0, "imported servers validate: {out}{err}");
}

#[test]
fn a_server_one_platform_leaves_out_is_refused_where_it_reads_anothers_mcp_file() {
    // Copilot CLI reads `.mcp.json`, which Claude Code needs the server in: refused, nothing
    // written, rather than Copilot silently getting what it leaves out.
    let t = project();
    t.write(".mcp.json", USERS_MCP_JSON);
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"copilot\"]\n\n[platform.copilot]\nexclude = [\"mcp:docs\"]\n",
    );
    let (code, _, err) = t.run(&["apply", "--allow-hooks"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: `[platform.copilot] exclude` leaves out MCP server `docs`, but copilot reads `.mcp.json`, which holds it for claude-code"),
        "{err}"
    );
    assert!(
        err.contains(
            "hint: a platform that reads another's files needs the same `[platform.<id>] exclude`"
        ),
        "{err}"
    );
    assert_eq!(t.read(".mcp.json"), USERS_MCP_JSON, "nothing written");
    assert!(!t.exists(".vscode/mcp.json"), "nothing written");
    // The same exclude on both is honoured: neither file gets the server.
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"copilot\"]\n\n[platform.copilot]\nexclude = [\"mcp:docs\"]\n\n[platform.claude-code]\nexclude = [\"mcp:docs\"]\n",
    );
    let (code, _, err) = t.run(&["apply", "--allow-hooks"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".mcp.json"), USERS_MCP_JSON);
    assert!(!t.exists(".vscode/mcp.json"));
}

/// The JSON targets added from the clients' own code and docs: a stdio server without a
/// reference lands in each platform's file in its own spelling, next to the user's settings
/// (Zed's settings with comments), and `uninstall` gives the user's bytes back; a server with a
/// reference is left out where the file has no reference syntax, with a warning.
#[test]
fn servers_reach_zed_factory_amp_kilo_auggie_devin_and_continue_in_their_own_spelling() {
    let t = Test::new();
    t.write(
        ".aiwg/mcp/lint.toml",
        "command = \"npx\"\nargs = [\"-y\", \"lint-mcp\"]\n\n[env]\nLINT_LEVEL = \"strict\"\n",
    );
    t.write(".aiwg/mcp/docs.toml", SERVER);
    let zed_users = "// Zed settings\n{\n  \"theme\": \"One Dark\", // mine\n  \"context_servers\": {\n    \"mine\": {\"command\": \"./bin/mine\", \"args\": []},\n  },\n}\n";
    t.write(".zed/settings.json", zed_users);
    let (code, out, err) = t.run(&[
        "use",
        ".aiwg",
        "--platforms",
        "zed,factory,amp,kilo,auggie,windsurf,continue",
        "--allow-hooks",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // Continue takes one YAML block per server, a whole file.
    let block = t.read(".continue/mcpServers/lint.yaml");
    assert!(
        block.starts_with(
            "name: lint\nversion: \"0.0.1\"\nschema: v1\nmcpServers:\n  - name: lint\n"
        ),
        "{block}"
    );
    assert!(
        !t.exists(".continue/mcpServers/docs.yaml"),
        "no reference syntax there"
    );
    let zed = t.read(".zed/settings.json");
    assert!(
        zed.starts_with("// Zed settings\n{\n  \"theme\": \"One Dark\", // mine\n"),
        "{zed}"
    );
    assert!(
        zed.contains("\"mine\": {\"command\": \"./bin/mine\", \"args\": []},"),
        "{zed}"
    );
    let (code, notes, notes_err) = t.run(&["status", "--notes"]);
    assert_eq!(code, 0, "{notes_err}");
    let all = format!("{notes}{notes_err}");
    assert!(
        all.contains("`docs` not written: Zed (.zed/settings.json)"),
        "a reference Zed cannot hold is said: {all}"
    );
    for (path, key, env_key) in [
        (".factory/mcp.json", "mcpServers", "env"),
        (".amp/settings.json", "amp.mcpServers", "env"),
        ("kilo.json", "mcp", "environment"),
        (".augment/settings.json", "mcpServers", "env"),
        (".devin/config.json", "mcpServers", "env"),
    ] {
        let v: serde_json::Value = serde_json::from_str(&t.read(path))
            .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        let lint = &v[key]["lint"];
        assert_eq!(lint[env_key]["LINT_LEVEL"], "strict", "{path}: {v}");
        assert!(
            v[key].get("docs").is_none(),
            "{path}: no reference syntax: {v}"
        );
    }
    let kilo: serde_json::Value = serde_json::from_str(&t.read("kilo.json")).unwrap();
    assert_eq!(
        kilo["mcp"]["lint"]["command"],
        serde_json::json!(["npx", "-y", "lint-mcp"])
    );
    assert_eq!(kilo["mcp"]["lint"]["type"], "local");
    let factory: serde_json::Value = serde_json::from_str(&t.read(".factory/mcp.json")).unwrap();
    assert_eq!(factory["mcpServers"]["lint"]["type"], "stdio");
    let (code, _, err) = t.run(&["check"]);
    assert_eq!(code, 0, "nothing to do after use: {err}");
    let (code, _, err) = t.run(&["uninstall"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t.read(".zed/settings.json"), zed_users);
    for created in [
        ".factory/mcp.json",
        ".amp/settings.json",
        "kilo.json",
        ".augment/settings.json",
        ".devin/config.json",
        ".continue/mcpServers/lint.yaml",
    ] {
        assert!(!t.exists(created), "{created} was aiwg's alone");
    }
}

/// `aiwg adopt` of an MCP file: a server edited by hand in `.mcp.json` goes back into its
/// `mcp/<name>.toml` (the author's comment, description and other platforms' keys kept), after
/// which the deployment is clean again and Codex gets the change; an unedited file, and an
/// edit the source cannot say, are refused with the reason.
#[test]
fn adopt_takes_a_hand_edited_server_back_into_its_source() {
    let t = Test::new();
    let source = "# Docs lookup for the team\ndescription = \"Docs lookup\"\ncommand = \"npx\"\nargs = [\"-y\", \"docs-mcp\"]\n\n[env]\nDOCS_TOKEN = \"${env:DOCS_TOKEN}\"\n\n[platform.codex]\nstartup_timeout_sec = 30\n";
    t.write(".aiwg/mcp/docs.toml", source);
    t.write(".mcp.json", USERS_MCP_JSON);
    let (code, _, err) = t.run(&[
        "use",
        ".aiwg",
        "--platforms",
        "claude-code,codex",
        "--allow-hooks",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = t.run(&["adopt", ".mcp.json"]);
    assert_eq!(code, 2, "nothing edited: {err}");
    assert!(err.contains("nothing to adopt"), "{err}");

    let edited = t
        .read(".mcp.json")
        .replace("\"docs-mcp\"", "\"docs-mcp\",\r\n        \"--verbose\"")
        .replace(
            "\"${DOCS_TOKEN}\"",
            "\"${DOCS_TOKEN}\",\r\n          \"LOG\": \"debug\"",
        );
    t.write(".mcp.json", &edited);
    let (code, _, err) = t.run(&["adopt", ".mcp.json", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("would adopt MCP server `docs`"), "{err}");
    assert_eq!(
        t.read(".aiwg/mcp/docs.toml"),
        source,
        "a dry run writes nothing"
    );
    let (code, _, err) = t.run(&["adopt", ".mcp.json"]);
    assert_eq!(code, 0, "{err}");
    let adopted = t.read(".aiwg/mcp/docs.toml");
    assert!(
        adopted.starts_with("# Docs lookup for the team\ndescription = \"Docs lookup\"\n"),
        "{adopted}"
    );
    assert!(adopted.contains("\"--verbose\""), "{adopted}");
    assert!(
        adopted.contains("DOCS_TOKEN = \"${env:DOCS_TOKEN}\""),
        "{adopted}"
    );
    assert!(adopted.contains("LOG = \"debug\""), "{adopted}");
    assert!(adopted.contains("startup_timeout_sec = 30"), "{adopted}");
    assert_eq!(
        t.read(".mcp.json"),
        edited,
        "the edited file is not touched"
    );
    let (code, _, err) = t.run(&["apply", "--allow-hooks"]);
    assert_eq!(code, 0, "the edit is the source now: {err}");
    assert_eq!(t.read(".mcp.json"), edited);
    let codex = t.read(".codex/config.toml");
    assert!(
        codex.contains("--verbose") && codex.contains("debug"),
        "{codex}"
    );

    // The source has no way to say a command that is not a string.
    let broken = t
        .read(".mcp.json")
        .replace("\"command\": \"npx\"", "\"command\": 5");
    assert_ne!(broken, t.read(".mcp.json"));
    t.write(".mcp.json", &broken);
    let (code, _, err) = t.run(&["adopt", ".mcp.json"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot adopt `docs`") && err.contains("`command`"),
        "{err}"
    );
    assert!(
        t.read(".aiwg/mcp/docs.toml").contains("--verbose"),
        "the source is kept"
    );
}

/// `aiwg import --scope user` reads the MCP servers of the platforms' user files in the home
/// folder (not the repository's), leaves the keys aiwg merged there itself alone, and writes
/// the sources into the project's `.aiwg/` with an `aiwg.toml` for user scope.
#[test]
fn import_in_user_scope_reads_the_home_folders_mcp_files() {
    let t = Test::new();
    let home = t.home();
    let put = |rel: &str, text: &str| {
        let path = home.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    put(
        ".claude.json",
        "{\"numStartups\": 3, \"mcpServers\": {\"gh\": {\"type\": \"stdio\", \"command\": \"npx\", \"args\": [\"-y\", \"gh-mcp\"], \"env\": {\"GITHUB_TOKEN\": \"${GITHUB_TOKEN}\"}}}}\n",
    );
    put(
        ".codex/config.toml",
        "[mcp_servers.docs]\nurl = \"https://docs.example.com/mcp\"\nbearer_token_env_var = \"DOCS_TOKEN\"\n",
    );
    put(
        ".config/zed/settings.json",
        "// mine\n{\"context_servers\": {\"lint\": {\"command\": \"lint-mcp\", \"args\": []}}}\n",
    );
    t.write(
        ".mcp.json",
        "{\"mcpServers\": {\"projonly\": {\"command\": \"x\"}}}\n",
    );
    let (code, out, err) = t.run(&["import", "--scope", "user", "--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!t.exists(".aiwg"), "a dry run writes nothing");
    let (code, out, err) = t.run(&["import", "--scope", "user"]);
    assert_eq!(code, 0, "{out}{err}");
    let gh = t.read(".aiwg/mcp/gh.toml");
    assert!(
        gh.contains("GITHUB_TOKEN = \"${env:GITHUB_TOKEN}\""),
        "{gh}"
    );
    let docs = t.read(".aiwg/mcp/docs.toml");
    assert!(
        docs.contains("Authorization = \"Bearer ${env:DOCS_TOKEN}\""),
        "{docs}"
    );
    assert!(t
        .read(".aiwg/mcp/lint.toml")
        .contains("command = \"lint-mcp\""));
    assert!(
        !t.exists(".aiwg/mcp/projonly.toml"),
        "the repository is not read in user scope"
    );
    let config = t.read("aiwg.toml");
    assert!(config.contains("scope = \"user\""), "{config}");

    // What aiwg merged into `~/.claude.json` itself is not imported again.
    let (code, _, err) = t.run(&[
        "use",
        ".aiwg",
        "--platforms",
        "claude-code",
        "--allow-user-scope",
        "--allow-hooks",
    ]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(t.root().join(".aiwg/mcp/gh.toml")).unwrap();
    let (code, out, err) = t.run(&["import", "--scope", "user", "--from", "claude-code"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!t.exists(".aiwg/mcp/gh.toml"), "aiwg's own key: {out}{err}");
}

/// Kilo also reads OpenCode's `opencode.json` (`[mcp] reads_project`): a server Kilo leaves out
/// but OpenCode takes is refused, not handed to Kilo through OpenCode's file.
#[test]
fn a_server_kilo_leaves_out_is_refused_while_opencode_json_holds_it() {
    let t = Test::new();
    t.write(
        ".aiwg/mcp/lint.toml",
        "command = \"npx\"\nargs = [\"-y\", \"lint-mcp\"]\n",
    );
    t.write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"kilo\", \"opencode\"]\n\n[platform.kilo]\nexclude = [\"mcp:lint\"]\n",
    );
    let (code, _, err) = t.run(&["apply", "--allow-hooks"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("kilo reads `opencode.json`, which holds it for opencode"),
        "{err}"
    );
    assert!(
        !t.exists("opencode.json") && !t.exists("kilo.json"),
        "nothing written"
    );
}

/// Hermes keeps `mcp_servers` in `$HERMES_HOME/config.yaml`: aiwg's server is merged as lines
/// beside the user's (their comments, order and CRLF kept), `uninstall` gives the exact bytes
/// back, a hand edit is a conflict, and a parent in flow style is refused naming its line.
#[test]
fn a_server_goes_into_hermes_yaml_config_and_uninstall_gives_the_bytes_back() {
    let t = project();
    let config = t.home().join(".hermes/config.yaml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let users = "# my Hermes\r\nmodel:\r\n  default: gpt # mine\r\nmcp_servers:\r\n  time:\r\n    command: uvx\r\n    args: [\"mcp-server-time\"]\r\n\r\n# the end\r\n";
    std::fs::write(&config, users).unwrap();
    let use_ = [
        "use",
        ".aiwg",
        "--platforms",
        "hermes",
        "--scope",
        "user",
        "--allow-user-scope",
        "--allow-hooks",
    ];
    let (code, out, err) = t.run(&use_);
    assert_eq!(code, 0, "{out}{err}");
    let merged = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        merged,
        users.replace(
            "[\"mcp-server-time\"]\r\n",
            "[\"mcp-server-time\"]\r\n  \"docs\":\r\n    \"command\": \"npx\"\r\n    \"args\":\r\n      - \"-y\"\r\n      - \"docs-mcp\"\r\n    \"env\":\r\n      \"DOCS_TOKEN\": \"${DOCS_TOKEN}\"\r\n"
        ),
        "{merged}"
    );
    let (code, _, err) = t.run(&["check", "--scope", "user"]);
    assert_eq!(code, 0, "nothing to do after use: {err}");
    // A hand edit of aiwg's entry, even one YAML reads the same, is a conflict and survives.
    let edited = merged.replace("\"command\": \"npx\"", "command: npx");
    std::fs::write(&config, &edited).unwrap();
    t.write(
        ".aiwg/mcp/docs.toml",
        &SERVER.replace("docs-mcp", "docs-mcp@3"),
    );
    let (code, _, err) = t.run(&["apply", "--scope", "user", "--allow-hooks"]);
    assert_eq!(code, 1, "a conflict stops apply: {err}");
    assert!(err.contains("config.yaml"), "{err}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited);
    // Put aiwg's bytes back: uninstall restores the user's file exactly.
    std::fs::write(&config, &merged).unwrap();
    t.write(".aiwg/mcp/docs.toml", SERVER);
    let (code, _, err) = t.run(&["uninstall", "--scope", "user"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), users);
    // `mcp_servers: {}` cannot be edited exactly: refused, with its line, nothing written.
    let flow = "mcp_servers: {}\n";
    std::fs::write(&config, flow).unwrap();
    let (code, out, err) = t.run(&use_);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("line 1") && err.contains("config.yaml"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), flow);
}

/// Goose's `extensions` in `~/.config/goose/config.yaml`: aiwg's server goes beside Goose's own
/// builtin in Goose's shape (`cmd`, `name`, `enabled`, `env_keys` for a reference), at the
/// siblings' indentation, and `uninstall` gives the exact bytes back.
#[test]
fn a_server_goes_into_gooses_extensions_and_uninstall_gives_the_bytes_back() {
    let t = project();
    let config = t.home().join(".config/goose/config.yaml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let users = "GOOSE_PROVIDER: openai\nextensions:\n    developer:\n        bundled: true\n        enabled: true\n        name: developer\n        timeout: 300\n        type: builtin\nGOOSE_MODEL: gpt-4.1\n";
    std::fs::write(&config, users).unwrap();
    let (code, out, err) = t.run(&[
        "use",
        ".aiwg",
        "--platforms",
        "goose",
        "--scope",
        "user",
        "--allow-user-scope",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let merged = std::fs::read_to_string(&config).unwrap();
    assert_eq!(
        merged,
        users.replace(
            "type: builtin\n",
            "type: builtin\n    \"docs\":\n      \"type\": \"stdio\"\n      \"cmd\": \"npx\"\n      \"args\":\n        - \"-y\"\n        - \"docs-mcp\"\n      \"env_keys\":\n        - \"DOCS_TOKEN\"\n      \"enabled\": true\n      \"timeout\": 300\n      \"name\": \"docs\"\n"
        ),
        "{merged}"
    );
    let (code, _, err) = t.run(&["uninstall", "--scope", "user"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), users);
}
