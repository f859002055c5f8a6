//! Guarantee 8 (R13): control characters, escape sequences and bidi overrides in file names
//! and descriptions never reach the terminal raw.

use super::{Hostile, Output};

fn assert_clean(text: &str) {
    for bad in ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}'] {
        assert!(!text.contains(bad), "raw {bad:?} in:\n{text:?}");
    }
}

#[test]
fn names_and_descriptions_are_escaped_in_validate_list_apply_and_errors() {
    let c = Hostile::new();
    c.write(
        ".aiwg/agents/a\u{1b}]52;c;cm0gLXJmIH4K\u{7}b.md",
        "---\ndescription: x\n---\nb\n",
    )
    .write(
        ".aiwg/agents/desc.md",
        "---\ndescription: \"\\e[2J\\e]52;c;ZXZpbA==\\aclear\"\n---\nb\n",
    )
    .write(
        ".aiwg/skills/s/SKILL.md",
        "---\nname: s\ndescription: d\n---\nb\n",
    )
    .write(".aiwg/skills/s/invoice\u{202e}fdp.sh", "x\n")
    .write(
        ".aiwg/agents/bad\u{9b}31m.md",
        "---\ndescription: [unclosed\n---\nb\n",
    )
    .write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    )
    .clone();
    for args in [
        &["validate"][..],
        &["list"],
        &["apply"],
        &["status"],
        &["check"],
    ] {
        let Output {
            stdout: out,
            stderr: err,
            ..
        } = c.run(args);
        assert_clean(&out);
        assert_clean(&err);
    }
    let Output { stdout: out, .. } = c.run(&["list"]);
    assert!(
        out.contains("\\e[2J"),
        "the escape is shown, not dropped: {out}"
    );
    let Output { stdout: out, .. } = c.run(&["validate"]);
    assert!(out.contains("bad\\u{9b}31m.md"), "{out}");
}
