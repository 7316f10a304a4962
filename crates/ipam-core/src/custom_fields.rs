//! Custom fields (ADM_CustomFieldsTable 3.1.1.1.14, values 3.1.1.1.15): named values on a
//! block, range or address. The spec's built-in fields (RIR, Country/Region, ...) are
//! custom fields too; "Managed by" and "Managed by entity" are first-class columns here
//! because every overlap and mapping rule keys on them (ipam-model digest §1, §2.9).

use crate::fault::{Fault, FaultResult};
use std::collections::BTreeMap;

pub type CustomFields = BTreeMap<String, String>;

/// The built-in custom fields a block or range commonly carries (BuiltinCustomFieldNumber
/// 1-18, minus Managed by / Managed by entity, which are columns).
pub const BUILT_IN: &[&str] = &[
    "RIR",
    "Region",
    "Country/Region",
    "Type of networks",
    "AD site",
    "Microsoft server role",
    "Device type",
    "IP Address State",
    "IP Pool Name",
    "Logical Network",
    "DNS Suffix",
    "Network Site",
    "VM Network",
    "Tenant",
    "Isolation Method",
];

/// The key of the RIR built-in field (number 1).
pub const RIR: &str = "RIR";

/// Longest name (ADM_CustomFieldsTable.Name) and value (multi-valued property values are
/// at most 900 bytes, 3.1.1.1.49.1).
const MAX_NAME: usize = 256;
const MAX_VALUE: usize = 900;
const MAX_FIELDS: usize = 64;

pub fn validate(field: &str, fields: &CustomFields) -> FaultResult<()> {
    if fields.len() > MAX_FIELDS {
        return Err(Fault::invalid(
            field,
            format!("at most {MAX_FIELDS} custom fields, got {}", fields.len()),
        ));
    }
    for (name, value) in fields {
        if name.trim().is_empty() || name.len() > MAX_NAME {
            return Err(Fault::invalid(
                format!("{field}[{name}]"),
                format!("a custom field name is 1-{MAX_NAME} bytes and not blank"),
            ));
        }
        if value.len() > MAX_VALUE {
            return Err(Fault::invalid(
                format!("{field}[{name}]"),
                format!(
                    "a custom field value is at most {MAX_VALUE} bytes, got {}",
                    value.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Applies a selective update: each given name is set, and an empty value removes it.
pub fn merge(into: &mut CustomFields, changes: &CustomFields) {
    for (name, value) in changes {
        if value.is_empty() {
            into.remove(name);
        } else {
            into.insert(name.clone(), value.clone());
        }
    }
}
