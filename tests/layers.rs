//! docs/architecture.md says which module may use which; this holds the
//! code to it. A module's uses are the `crate::<module>` paths in its
//! files, outside comments and `#[cfg(test)]` modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Layer name -> (modules, layers it may use), from the doc's table.
fn layers() -> Vec<(String, Vec<String>, Vec<String>)> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .unwrap();
    let table = doc
        .split("| layer | modules | may use |")
        .nth(1)
        .expect("the layer table");
    let mut out = Vec::new();
    for line in table.lines().skip(2) {
        if !line.starts_with('|') {
            break;
        }
        let cols: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let modules = cols[1]
            .split_whitespace()
            .map(|m| m.trim_matches('`').to_string())
            .collect();
        let may = cols[2].split(',').map(|l| l.trim().to_string()).collect();
        out.push((cols[0].to_string(), modules, may));
    }
    out
}

/// Top-level module -> the top-level modules it uses.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if top == "lib" || top == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            let deps = out.entry(top.clone()).or_default();
            for line in code.lines() {
                let line = line.trim_start();
                if line.starts_with("//") {
                    continue;
                }
                for part in line.split("crate::").skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_module_uses_only_the_layers_the_architecture_allows() {
    let layers = layers();
    assert!(layers.len() >= 4, "{layers:?}");
    let layer_of: BTreeMap<&str, &str> = layers
        .iter()
        .flat_map(|(l, mods, _)| mods.iter().map(move |m| (m.as_str(), l.as_str())))
        .collect();
    let may: BTreeMap<&str, &Vec<String>> =
        layers.iter().map(|(l, _, m)| (l.as_str(), m)).collect();
    let uses = uses();
    let mut wrong = Vec::new();
    for (module, deps) in &uses {
        let Some(layer) = layer_of.get(module.as_str()) else {
            wrong.push(format!("{module} is in no layer of docs/architecture.md"));
            continue;
        };
        for dep in deps {
            let Some(dep_layer) = layer_of.get(dep.as_str()) else {
                continue; // reported for `dep` itself
            };
            if !may[layer].iter().any(|l| l == dep_layer) {
                wrong.push(format!("{module} ({layer}) uses {dep} ({dep_layer})"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_two_modules_depend_on_each_other() {
    let uses = uses();
    // Depth-first search for a cycle.
    fn visit<'a>(
        m: &'a str,
        uses: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| *p == m) {
            let mut cycle: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if !done.insert(m) {
            return None;
        }
        path.push(m);
        for d in uses.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, uses, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in uses.keys() {
        if let Some(cycle) = visit(m, &uses, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cli_never_calls_git2() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("git2::"),
            "{} calls git2; reads and writes belong to the engine",
            path.display()
        );
    }
}
