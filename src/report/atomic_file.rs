//! Files that appear under their final name only when complete. An [`AtomicFile`] writes to a
//! hidden sibling (`.<name>.tmp`) and renames it over the final name on [`AtomicFile::commit`];
//! dropped uncommitted — after an error, a panic or an interruption — it removes the temporary,
//! so a run folder never holds a truncated file under a final name nor a stray temporary.
//! Every I/O error names the final file (`results/x/requests.csv: No space left on device`).
//!
//! Renaming within one directory is atomic on POSIX file systems; the data is not fsynced (a
//! power loss may still lose a file, a killed or failing process cannot truncate one).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::error::ReportError;

/// A file being written under a temporary name, renamed to its final name on commit.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
    committed: bool,
}

/// The temporary sibling `.<name>.tmp` of `target`.
pub fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "file".into(), |name| name.to_string_lossy().into_owned());
    target.with_file_name(format!(".{name}.tmp"))
}

impl AtomicFile {
    /// Start writing `target` (through its temporary sibling).
    pub fn create(target: &Path) -> Result<AtomicFile, ReportError> {
        let temp = temp_path(target);
        let file = File::create(&temp).map_err(|error| ReportError::io(target, error))?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temp,
            writer: Some(BufWriter::new(file)),
            committed: false,
        })
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// Flush, close and rename the temporary over the final name.
    pub fn commit(mut self) -> Result<(), ReportError> {
        if let Some(writer) = self.writer.take() {
            writer
                .into_inner()
                .map_err(|error| ReportError::io(&self.target, error.into_error()))?;
        }
        fs::rename(&self.temp, &self.target)
            .map_err(|error| ReportError::io(&self.target, error))?;
        self.committed = true;
        Ok(())
    }

    fn inner(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.writer
            .as_mut()
            .ok_or_else(|| io::Error::other("written after commit"))
    }

    /// The error of a failed write, naming the final file.
    fn named(&self, error: io::Error) -> io::Error {
        io::Error::new(error.kind(), format!("{}: {error}", self.target.display()))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let result = self.inner().and_then(|writer| writer.write(bytes));
        result.map_err(|error| self.named(error))
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let result = self.inner().and_then(|writer| writer.write_all(bytes));
        result.map_err(|error| self.named(error))
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner().and_then(|writer| writer.flush());
        result.map_err(|error| self.named(error))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Uncommitted: throw the partial file away, unflushed.
        if let Some(writer) = self.writer.take() {
            drop(writer.into_parts());
        }
        let _ = fs::remove_file(&self.temp);
    }
}

/// Write `bytes` to `target` atomically.
pub fn write_file(target: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let mut file = AtomicFile::create(target)?;
    file.inner()
        .and_then(|writer| writer.write_all(bytes))
        .map_err(|error| ReportError::io(target, error))?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("throttlebox-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_final_name_appears_only_on_commit() {
        let dir = scratch("atomic-commit");
        let target = dir.join("summary.json");
        let mut file = AtomicFile::create(&target).expect("create");
        file.write_all(b"{}\n").expect("write");
        assert_eq!(names(&dir), [".summary.json.tmp"]);
        file.commit().expect("commit");
        assert_eq!(names(&dir), ["summary.json"]);
        assert_eq!(fs::read_to_string(&target).expect("read"), "{}\n");
        fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn an_uncommitted_file_leaves_nothing_behind() {
        let dir = scratch("atomic-drop");
        let mut file = AtomicFile::create(&dir.join("requests.csv")).expect("create");
        file.write_all(b"partial").expect("write");
        drop(file);
        assert!(names(&dir).is_empty(), "{:?}", names(&dir));
        fs::remove_dir_all(dir).ok();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_is_reported_with_the_final_file_name_and_leaves_no_file() {
        // The temporary is a symlink to /dev/full: every write fails with ENOSPC.
        let dir = scratch("atomic-full");
        let target = dir.join("requests.csv");
        std::os::unix::fs::symlink("/dev/full", temp_path(&target)).expect("symlink");
        let error = write_file(&target, &[b'x'; 100_000]).expect_err("disk full");
        let text = error.to_string();
        assert!(text.contains("requests.csv"), "{text}");
        assert!(text.contains("No space left on device"), "{text}");
        assert!(names(&dir).is_empty(), "{:?}", names(&dir));
        fs::remove_dir_all(dir).ok();
    }
}
