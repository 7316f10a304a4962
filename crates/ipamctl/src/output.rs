//! What ipamctl prints. `--output json`: one JSON object per line, each the canonical
//! proto3 JSON of the API message (found through the descriptor set, so every message is
//! covered), with the field names of the .proto, enums by name and 64-bit numbers as
//! numbers. `--output table`: aligned columns chosen per message type (`Row`), and a
//! "field: value" listing for a single record.

use clap::ValueEnum;
use ipam_proto::pb;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::Value;
use std::io::Write;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(ipam_proto::FILE_DESCRIPTOR_SET).expect("the embedded descriptor set decodes")
    })
}

/// Any API message as JSON.
pub fn to_json<M: prost::Message + prost::Name>(msg: &M) -> Value {
    let name = M::full_name();
    let descriptor = pool()
        .get_message_by_name(&name)
        .unwrap_or_else(|| panic!("{name} is in the descriptor set"));
    let dynamic = DynamicMessage::decode(descriptor, msg.encode_to_vec().as_slice())
        .expect("a message decodes as its own type");
    let options = SerializeOptions::new()
        .stringify_64_bit_integers(false)
        .use_proto_field_name(true)
        .skip_default_fields(false);
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &options)
        .expect("serialises to JSON")
}

/// A column of a table: its header and how a row shows in it.
pub type Column<T> = (&'static str, fn(&T) -> String);

/// A message that prints as a table row.
pub trait Row: prost::Message + prost::Name + Sized {
    fn columns() -> Vec<Column<Self>>;
}

/// An enum value by its short name: `OVERLAP_BECAUSE_FAILOVER` -> `because-failover`.
pub fn short(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix)
        .unwrap_or(full)
        .to_ascii_lowercase()
        .replace('_', "-")
}

pub fn percent(u: &Option<pb::Utilization>) -> String {
    u.as_ref()
        .map_or(String::new(), |u| format!("{:.1}%", u.percent_utilized))
}

pub fn id(v: u64) -> String {
    if v == 0 { "-".into() } else { v.to_string() }
}

pub struct Printer {
    pub format: Format,
}

impl Printer {
    pub fn json_line(&self, value: &Value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{value}");
    }

    /// Rows as a table (header, aligned columns) or as JSON lines.
    pub fn rows<T: Row>(&self, rows: &[T]) {
        match self.format {
            Format::Json => rows.iter().for_each(|r| self.json_line(&to_json(r))),
            Format::Table => {
                let columns = T::columns();
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| columns.iter().map(|(_, f)| f(r)).collect())
                    .collect();
                print_table(&columns.iter().map(|(h, _)| *h).collect::<Vec<_>>(), &cells);
            }
        }
    }

    /// One record: every field, one per line (nested fields as `a.b`), or one JSON line.
    pub fn record<M: prost::Message + prost::Name>(&self, msg: &M) {
        let value = to_json(msg);
        match self.format {
            Format::Json => self.json_line(&value),
            Format::Table => {
                let mut lines = Vec::new();
                flatten("", &value, &mut lines);
                let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
                let mut out = std::io::stdout().lock();
                for (k, v) in lines {
                    let _ = writeln!(out, "{k:width$}  {v}");
                }
            }
        }
    }
}

/// `{"a": {"b": 1}, "c": [..]}` as `("a.b", "1")`, `("c", "...")` lines.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object()) => {
            let text: Vec<String> = items.iter().map(scalar).collect();
            out.push((prefix.to_string(), text.join(", ")));
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => out.push((prefix.to_string(), scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(out, "{}", line(headers.to_vec()));
    for row in rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
}
