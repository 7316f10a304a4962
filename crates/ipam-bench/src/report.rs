//! Figures: one line per figure on stdout (`name value unit`) and the same as JSON.

use serde::Serialize;
use std::path::Path;

#[derive(Serialize, Clone, Debug)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
    /// The benchmark's parameters (sizes, concurrency), for reproducing it.
    pub params: String,
    /// The target the issue sets, when there is one.
    pub target: Option<String>,
}

#[derive(Default)]
pub struct Figures {
    pub figures: Vec<Figure>,
}

impl Figures {
    pub fn add(&mut self, name: &str, value: f64, unit: &str, params: &str, target: Option<&str>) {
        let f = Figure {
            name: name.to_string(),
            value,
            unit: unit.to_string(),
            params: params.to_string(),
            target: target.map(str::to_string),
        };
        let shown = if value.abs() >= 100.0 {
            format!("{value:.0}")
        } else {
            format!("{value:.3}")
        };
        println!("{} {} {}", f.name, shown, f.unit);
        eprintln!(
            "    ({}{})",
            f.params,
            f.target
                .as_ref()
                .map(|t| format!("; target {t}"))
                .unwrap_or_default()
        );
        self.figures.push(f);
    }

    pub fn write_json(&self, path: &Path, machine: &str, scale: &str) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let doc = serde_json::json!({ "machine": machine, "scale": scale, "figures": self.figures });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)?;
        Ok(())
    }
}
