//! `requests.csv` and `attempts.csv` of a merged run: every strategy's rows taken verbatim,
//! as one block, from the shard that simulated it, and written in scenario order under the one
//! header — what the unsharded run writes, byte for byte. Files are streamed (a pass to find
//! each strategy's block, then a copy of its bytes), so memory does not grow with the run.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::error::ShardError;
use super::folders::ShardFolder;
use crate::report::ReportError;
use crate::report::atomic_file::AtomicFile;

/// One strategy's rows in a shard's file.
#[derive(Debug, Clone)]
struct Block {
    strategy: String,
    start: u64,
    end: u64,
    rows: u64,
}

/// A shard's file: its header bytes and its strategy blocks, in file order.
struct Layout {
    header: Vec<u8>,
    blocks: Vec<Block>,
}

pub(super) fn csv_error(path: &Path, error: impl std::fmt::Display) -> ShardError {
    ShardError::Csv {
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}

/// A reader of the CSV file at `path`, past its header, and the header's bytes as written.
pub(super) fn open_rows(
    path: &Path,
) -> Result<(csv::Reader<BufReader<File>>, Vec<u8>), ShardError> {
    let open = || {
        File::open(path).map_err(|error| ShardError::Io {
            path: path.to_path_buf(),
            error,
        })
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(BufReader::with_capacity(1 << 20, open()?));
    reader.byte_headers().map_err(|e| csv_error(path, e))?;
    let header_end = reader.position().byte();
    let mut header = vec![0; usize::try_from(header_end).unwrap_or(0)];
    open()?
        .read_exact(&mut header)
        .map_err(|error| csv_error(path, error))?;
    Ok((reader, header))
}

/// Read the next row of `reader` (a file at `path`) into `record`: its byte range in the
/// file, or None at the end.
pub(super) fn next_row(
    reader: &mut csv::Reader<BufReader<File>>,
    record: &mut csv::ByteRecord,
    path: &Path,
) -> Result<Option<(u64, u64)>, ShardError> {
    let start = reader.position().byte();
    let read = reader
        .read_byte_record(record)
        .map_err(|e| csv_error(path, e))?;
    Ok(read.then(|| (start, reader.position().byte())))
}

fn layout(path: &Path) -> Result<Layout, ShardError> {
    let (mut reader, header) = open_rows(path)?;
    let mut blocks: Vec<Block> = Vec::new();
    let mut record = csv::ByteRecord::new();
    while let Some((start, end)) = next_row(&mut reader, &mut record, path)? {
        let name = record.get(0).unwrap_or_default();
        match blocks.last_mut() {
            Some(block) if block.strategy.as_bytes() == name => {
                block.end = end;
                block.rows += 1;
            }
            _ => {
                let strategy = String::from_utf8_lossy(name).into_owned();
                if blocks.iter().any(|block| block.strategy == strategy) {
                    return Err(csv_error(
                        path,
                        format!("the rows of strategy {strategy:?} are not contiguous"),
                    ));
                }
                blocks.push(Block {
                    strategy,
                    start,
                    end,
                    rows: 1,
                });
            }
        }
    }
    Ok(Layout { header, blocks })
}

fn copy_block(path: &Path, block: &Block, out: &mut AtomicFile) -> Result<(), ShardError> {
    let io = |error| ShardError::Io {
        path: path.to_path_buf(),
        error,
    };
    let mut file = File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(block.start)).map_err(io)?;
    let wanted = block.end - block.start;
    let copied = std::io::copy(&mut file.take(wanted), out)
        .map_err(|error| ShardError::Report(ReportError::Named(error)))?;
    if copied != wanted {
        return Err(csv_error(path, "the file shrank while it was merged"));
    }
    Ok(())
}

/// Write `<out>/<file>` from the shards' `<file>`: the header once, then every strategy's
/// block in scenario order (`strategies`, the names), each from the one shard holding it.
/// Returns each strategy's row count (0 when no shard has rows of it).
pub fn merge_strategy_blocks(
    file: &str,
    shards: &[ShardFolder],
    strategies: &[String],
    out: &Path,
) -> Result<Vec<u64>, ShardError> {
    let mut layouts = Vec::with_capacity(shards.len());
    for shard in shards {
        let path = shard.path.join(file);
        let layout = layout(&path)?;
        for block in &layout.blocks {
            let owned = shard
                .manifest
                .items
                .iter()
                .any(|&item| strategies.get(item) == Some(&block.strategy));
            if !owned {
                return Err(csv_error(
                    &path,
                    format!(
                        "rows of strategy {:?}, which is not one of shard {}'s",
                        block.strategy, shard.manifest.shard
                    ),
                ));
            }
        }
        layouts.push((path, layout));
    }
    let mut target = AtomicFile::create(&out.join(file))?;
    let (first_path, first) = &layouts[0];
    target
        .write_all(&first.header)
        .map_err(|error| ShardError::Report(ReportError::Named(error)))?;
    for (path, layout) in &layouts[1..] {
        if layout.header != first.header {
            return Err(csv_error(
                path,
                format!("its header differs from {}'s", first_path.display()),
            ));
        }
    }
    let mut rows = Vec::with_capacity(strategies.len());
    for strategy in strategies {
        let found = layouts.iter().find_map(|(path, layout)| {
            layout
                .blocks
                .iter()
                .find(|block| &block.strategy == strategy)
                .map(|block| (path, block))
        });
        match found {
            Some((path, block)) => {
                copy_block(path, block, &mut target)?;
                rows.push(block.rows);
            }
            None => rows.push(0),
        }
    }
    target.commit()?;
    Ok(rows)
}
