//! `aiwg completions <shell>`: the clap definitions, with the values aiwg knows added for the
//! completion script only (parsing keeps its own checks and did-you-mean): platform ids and
//! aliases for `--platforms`/`--platform`, the kinds for `--kind` and `new`, the bundled
//! frameworks for `use`.

use clap::builder::PossibleValuesParser;
use clap::{Arg, Command};

use crate::cli::Cli;

/// The command with completion values attached to the arguments that take known names.
pub fn command() -> Command {
    let registry = aiwg_platforms::Registry::builtin();
    let mut platforms: Vec<String> = vec!["all".into()];
    for p in registry.all() {
        platforms.push(p.id.clone());
        platforms.extend(p.aliases.iter().cloned());
    }
    let mut sources: Vec<String> = crate::frameworks::bundled()
        .into_iter()
        .map(|f| f.name)
        .collect();
    sources.push("all".into());
    let values =
        |arg: Arg, names: &[String]| arg.value_parser(PossibleValuesParser::new(names.to_vec()));
    let kinds: Vec<String> = aiwg_core::Kind::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(&name, |mut sub| {
            let ids: Vec<String> = sub
                .get_arguments()
                .map(|a| a.get_id().to_string())
                .collect();
            for id in ids {
                sub = match (name.as_str(), id.as_str()) {
                    (_, "platforms" | "platform") => sub.mut_arg(&id, |a| values(a, &platforms)),
                    ("list", "kind") | ("new", "kind") => sub.mut_arg(&id, |a| values(a, &kinds)),
                    ("use", "source") => sub.mut_arg(&id, |a| values(a, &sources)),
                    _ => sub,
                };
            }
            sub
        });
    }
    cmd
}

/// The completion script for `shell`.
pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "aiwg", &mut script);
    script
}

#[cfg(test)]
mod tests {
    #[test]
    fn scripts_know_platform_ids_kinds_and_frameworks() {
        let bash = String::from_utf8(super::script(clap_complete::Shell::Bash)).unwrap();
        for word in ["claude-code", "codex", "copilot", "runbook", "sdlc"] {
            assert!(
                bash.contains(word),
                "`{word}` is not in the bash completions"
            );
        }
        let fish = String::from_utf8(super::script(clap_complete::Shell::Fish)).unwrap();
        assert!(
            fish.contains("claude-code") && fish.contains("behavior"),
            "{fish}"
        );
        super::command().debug_assert();
    }
}
