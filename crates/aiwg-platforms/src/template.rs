//! Frontmatter templates: the values of `[<kind>.frontmatter]` tables in platform TOML.
//!
//! A string that is exactly one `{variable}` becomes that variable's value with its type (a
//! list stays a list); a string with variables inside text interpolates them as text; other
//! TOML values are literals. A key whose variable has no value (no model, no globs) is left
//! out of the output.
//!
//! Variables: `{name}`, `{description}`, `{model}` (mapped), `{tools}` (mapped list),
//! `{tools_csv}`, `{tools_space}`, `{tools_map}` (every tool of `tool_universe` to
//! true/false), `{globs}` (list), `{globs_csv}`, `{argument_hint}`, and `{fm:<key>}` (the
//! source frontmatter value of `<key>`, unchanged).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The names `{...}` may use, besides `fm:<key>`.
pub const VARIABLES: &[&str] = &[
    "name",
    "description",
    "model",
    "tools",
    "tools_csv",
    "tools_space",
    "tools_map",
    "globs",
    "globs_csv",
    "argument_hint",
];

/// Values for the variables of one artifact on one platform; absent = no value.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, Value>,
}

impl Vars {
    /// Sets `name` to `value`; empty strings and lists count as no value.
    pub fn set(&mut self, name: &str, value: Value) {
        let empty = match &value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        if empty {
            self.values.remove(name);
        } else {
            self.values.insert(name.to_string(), value);
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
}

/// Checks that every `{variable}` in `value` is known.
pub fn check(value: &toml::Value) -> Result<(), String> {
    match value {
        toml::Value::String(s) => {
            for token in tokens(s) {
                if let Token::Var(v) = token {
                    if !(VARIABLES.contains(&v)
                        || v.strip_prefix("fm:").is_some_and(|k| !k.is_empty()))
                    {
                        return Err(format!("unknown variable `{{{v}}}`"));
                    }
                }
            }
            Ok(())
        }
        toml::Value::Array(items) => items.iter().try_for_each(check),
        toml::Value::Table(t) => t.values().try_for_each(check),
        _ => Ok(()),
    }
}

/// Fills a whole frontmatter table into `out`, in table order; keys without a value are
/// skipped. Later tables (the `when` ones) override earlier keys.
pub fn fill(table: &toml::Table, vars: &Vars, out: &mut Map<String, Value>) {
    for (key, value) in table {
        match eval(value, vars) {
            Some(v) => {
                out.insert(key.clone(), v);
            }
            None => {
                out.remove(key);
            }
        }
    }
}

/// The value of one template, or `None` when it names a variable without a value.
pub fn eval(value: &toml::Value, vars: &Vars) -> Option<Value> {
    match value {
        toml::Value::String(s) => {
            let tokens: Vec<Token> = tokens(s).collect();
            if let [Token::Var(v)] = tokens.as_slice() {
                return lookup(v, vars).cloned();
            }
            let mut out = String::new();
            for token in tokens {
                match token {
                    Token::Text(t) => out.push_str(t),
                    Token::Var(v) => out.push_str(&as_text(lookup(v, vars)?)),
                }
            }
            Some(Value::String(out))
        }
        toml::Value::Integer(i) => Some(Value::from(*i)),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number),
        toml::Value::Boolean(b) => Some(Value::Bool(*b)),
        toml::Value::Datetime(d) => Some(Value::String(d.to_string())),
        toml::Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(|v| eval(v, vars)).collect(),
        )),
        toml::Value::Table(t) => {
            let mut map = Map::new();
            fill(t, vars, &mut map);
            Some(Value::Object(map))
        }
    }
}

fn lookup<'a>(name: &str, vars: &'a Vars) -> Option<&'a Value> {
    vars.get(name)
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(as_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

enum Token<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Splits `s` into text and `{variable}` tokens; braces around anything that is not a
/// variable name are text.
fn tokens(s: &str) -> impl Iterator<Item = Token<'_>> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut search = 0;
        while let Some(open) = rest[search..].find('{').map(|i| i + search) {
            if let Some(close) = rest[open..].find('}').map(|i| i + open) {
                let name = &rest[open + 1..close];
                let is_var = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_:-.".contains(&b));
                if is_var {
                    if open > 0 {
                        let text = &rest[..open];
                        rest = &rest[open..];
                        return Some(Token::Text(text));
                    }
                    rest = &rest[close + 1..];
                    return Some(Token::Var(name));
                }
            }
            search = open + 1;
        }
        let text = rest;
        rest = "";
        Some(Token::Text(text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut v = Vars::default();
        v.set("name", json!("x"));
        v.set("globs", json!(["a/**", "b"]));
        v.set("globs_csv", json!("a/**,b"));
        v.set("model", json!(""));
        v.set("fm:color", json!("red"));
        v
    }

    fn check_eval(template: toml::Value, expect: Option<Value>) {
        assert_eq!(eval(&template, &vars()), expect, "{template:?}");
    }

    #[test]
    fn evaluates_templates() {
        check_eval("{globs}".into(), Some(json!(["a/**", "b"])));
        check_eval("{globs_csv}".into(), Some(json!("a/**,b")));
        check_eval("rule {name}!".into(), Some(json!("rule x!")));
        check_eval("{model}".into(), None);
        check_eval("m {model}".into(), None);
        check_eval("{fm:color}".into(), Some(json!("red")));
        check_eval(
            "literal {not a var}".into(),
            Some(json!("literal {not a var}")),
        );
        check_eval(true.into(), Some(json!(true)));
        check_eval("subagent".into(), Some(json!("subagent")));
    }

    #[test]
    fn checks_variable_names() {
        assert!(check(&"{tools_csv}".into()).is_ok());
        assert!(check(&"{fm:anything}".into()).is_ok());
        assert_eq!(
            check(&"{toolz}".into()).unwrap_err(),
            "unknown variable `{toolz}`"
        );
    }

    #[test]
    fn fill_skips_missing_and_overrides() {
        let table: toml::Table =
            toml::from_str("name = \"{name}\"\nmodel = \"{model}\"\nalwaysApply = false\n")
                .unwrap();
        let mut out = Map::new();
        fill(&table, &vars(), &mut out);
        assert_eq!(
            Value::Object(out.clone()),
            json!({"name": "x", "alwaysApply": false})
        );
        let over: toml::Table = toml::from_str("alwaysApply = true\n").unwrap();
        fill(&over, &vars(), &mut out);
        assert_eq!(out["alwaysApply"], json!(true));
    }
}
