//! `ipamctl status`: whether ipamd serves, and why not (Admin.GetStatus); exits non-zero
//! when it does not.

use crate::client::{Client, status_error};
use anyhow::bail;
use ipam_proto::pb;

pub async fn run(c: &Client) -> anyhow::Result<()> {
    let status = c
        .admin()
        .get_status(pb::GetStatusRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    c.printer.record(&status);
    if !status.serving {
        bail!("ipamd does not serve: {}", status.problems.join("; "));
    }
    Ok(())
}
