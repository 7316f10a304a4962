//! `ipamctl backup FILE`: a consistent backup of a running ipamd (EventLog.Backup), in the
//! format of `ipamd export`. Written to FILE.partial and renamed only once the server says
//! every record up to the backup's head was sent, so FILE is always a whole backup.

use crate::client::{Client, status_error};
use anyhow::{Context, bail};
use clap::Args;
use ipam_proto::pb;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The argument of `ipamctl backup`: the file to write. The command's help is the doc
/// comment on `Command::Backup`, which clap prefers to this one.
#[derive(Args, Debug)]
pub struct BackupArgs {
    file: PathBuf,
}

pub async fn run(c: &Client, args: BackupArgs) -> anyhow::Result<()> {
    let file = args.file.as_path();
    let partial = {
        let mut name = file.as_os_str().to_owned();
        name.push(".partial");
        PathBuf::from(name)
    };
    let result = write(c, file, &partial).await;
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

async fn write(c: &Client, file: &Path, partial: &Path) -> anyhow::Result<()> {
    let mut stream = c
        .events()
        .backup(pb::BackupRequest {})
        .await
        .map_err(status_error)?
        .into_inner();
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(partial).with_context(|| format!("creating {}", partial.display()))?,
    );
    let (mut head, mut hash, mut records) = (None, String::new(), None);
    while let Some(chunk) = stream.message().await.map_err(status_error)? {
        if head.is_none() {
            head = Some(chunk.head_seq);
            hash = chunk.state_hash.clone();
        }
        out.write_all(&chunk.data)
            .with_context(|| format!("writing {}", partial.display()))?;
        if chunk.complete {
            records = Some(chunk.records);
        }
    }
    let (Some(head), Some(records)) = (head, records) else {
        bail!(
            "the backup stream ended before the server finished it; {} was not written",
            file.display()
        );
    };
    let out = out.into_inner().context("writing the backup")?;
    out.sync_all().context("syncing the backup")?;
    std::fs::rename(partial, file).with_context(|| format!("renaming to {}", file.display()))?;
    println!(
        "backup of {records} records up to event {head} (state hash {hash}) written to {}; \
         restore it with `ipamd import --data NEW_DIR --in {}`",
        file.display(),
        file.display()
    );
    Ok(())
}
