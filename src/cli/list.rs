//! `racelab list`: what racelab knows.

use crate::engine::Registry;
use crate::scenario::Scenario;
use std::path::PathBuf;

/// List; the exit code.
pub fn list(registry: &Registry) -> i32 {
    for m in registry.iter() {
        println!("model {}: {}", m.name(), m.about());
        let variants = m.variant_docs(None);
        if variants.is_empty() {
            println!("  variants: defined by each scenario file");
        } else {
            println!("  variants:");
            for v in variants {
                println!("    {:<16} {}", v.name, v.about);
            }
        }
        println!("  steps:");
        for s in m.steps() {
            let fields = if s.fields.is_empty() { String::new() } else { format!(" {{{}}}", s.fields.join(", ")) };
            println!("    {:<34} {}", format!("{}{}", s.name, fields), s.about);
        }
        println!("  invariants: {}", m.invariants(None).join(", "));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "toml")).collect()
        })
        .unwrap_or_default();
    files.sort();
    if !files.is_empty() {
        println!("scenarios:");
        for f in files {
            match Scenario::load(registry, &f) {
                Ok(s) => println!("  {:<40} {:<10} {}", f.display(), s.model, first_sentence(&s.about)),
                Err(e) => println!("  {:<40} error: {}", f.display(), e.message),
            }
        }
    }
    0
}

fn first_sentence(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.find(". ") {
        Some(i) => flat[..=i].to_owned(),
        None => flat,
    }
}
