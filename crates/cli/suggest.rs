//! Did-you-mean for names the user types (framework names, sources, kinds), with `strsim`
//! (already in the tree through clap).

/// The candidate closest to `given` by edit distance, when it is close enough to be a typo:
/// at most a third of its length away (at least 1), or `given` is its prefix.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let given = given.trim().to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&given, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= (c.len() / 3).max(1) || (!given.is_empty() && c.starts_with(&given)))
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// A kind as the user typed it (`agent`, `skills`), or an error that names the closest kind
/// and lists them all, with `example` as the rest of the hint.
pub fn kind(given: &str, example: &str) -> Result<aiwg_core::Kind, crate::error::UserError> {
    use aiwg_core::Kind;
    given.parse().map_err(|_: String| {
        let kinds = Kind::ALL.map(Kind::as_str);
        crate::error::UserError::new(
            format!(
                "unknown kind `{}`{}",
                given.trim(),
                did_you_mean(given, kinds)
            ),
            format!("kinds are {}; {example}", kinds.join(", ")),
        )
    })
}

/// ` (did you mean `x`?)` for the closest candidate, or nothing.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(given, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn typos_get_the_nearest_name_and_strangers_none() {
        let names = ["sdlc", "stream", "all"];
        assert_eq!(super::closest("sdcl", names), Some("sdlc"));
        assert_eq!(super::closest("strem", names), Some("stream"));
        assert_eq!(super::closest("str", names), Some("stream"));
        assert_eq!(super::closest("kubernetes", names), None);
        assert_eq!(
            super::did_you_mean("agnet", ["agent", "skill"]),
            " (did you mean `agent`?)"
        );
    }
}
