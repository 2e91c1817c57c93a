//! The data directory: one JSON file per state machine
//! (`state-machines/<name>.json`) and per activity (`activities/<name>.json`),
//! each written atomically (a temporary file in the same folder, fsync,
//! rename, fsync of the folder), so a crash or `kill -9` at any moment
//! leaves either the old file or the new one, never part of one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where state machines and activities persist.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// The kinds of record a data directory keeps, one folder each.
#[derive(Debug, Clone, Copy)]
pub enum Folder {
    /// `state-machines/`
    StateMachines,
    /// `activities/`
    Activities,
}

impl Folder {
    fn name(self) -> &'static str {
        match self {
            Folder::StateMachines => "state-machines",
            Folder::Activities => "activities",
        }
    }
}

const TEMP_SUFFIX: &str = ".tmp";

impl DataDir {
    /// Opens (creating it if needed) the directory at `root`, and removes
    /// temporary files a crash left behind.
    pub fn open(root: &Path) -> std::io::Result<DataDir> {
        let dir = DataDir {
            root: root.to_path_buf(),
        };
        for folder in [Folder::StateMachines, Folder::Activities] {
            let path = dir.folder(folder);
            fs::create_dir_all(&path)?;
            for entry in fs::read_dir(&path)? {
                let entry = entry?;
                if entry.file_name().to_string_lossy().ends_with(TEMP_SUFFIX) {
                    fs::remove_file(entry.path())?;
                }
            }
        }
        Ok(dir)
    }

    fn folder(&self, folder: Folder) -> PathBuf {
        self.root.join(folder.name())
    }

    fn file(&self, folder: Folder, name: &str) -> PathBuf {
        // Names never hold `/` (AWS's name rules), and the `.json` suffix
        // keeps `.` and `..` ordinary file names.
        self.folder(folder).join(format!("{name}.json"))
    }

    /// Replaces the record `name` of `folder` with `bytes`, atomically.
    pub fn write(&self, folder: Folder, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.file(folder, name);
        let temp = self
            .folder(folder)
            .join(format!("{name}.json.{}{TEMP_SUFFIX}", std::process::id()));
        let result = (|| {
            let mut file = fs::File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, &path)?;
            fs::File::open(self.folder(folder))?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// Removes the record `name` of `folder` (no error if it is gone).
    pub fn remove(&self, folder: Folder, name: &str) -> std::io::Result<()> {
        match fs::remove_file(self.file(folder, name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => fs::File::open(self.folder(folder))?.sync_all(),
        }
    }

    /// Every record of `folder`: its path and contents, by file name.
    pub fn read_all(&self, folder: Folder) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
        let mut paths: Vec<PathBuf> = fs::read_dir(self.folder(folder))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| fs::read(&p).map(|bytes| (p, bytes)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_and_leftovers_go() {
        let root = std::env::temp_dir().join(format!("spate-datadir-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let dir = DataDir::open(&root).unwrap();
        dir.write(Folder::StateMachines, "a", b"1").unwrap();
        dir.write(Folder::StateMachines, "a", b"2").unwrap();
        dir.write(Folder::StateMachines, "..", b"3").unwrap();
        let leftover = root.join("state-machines/b.json.9.tmp");
        fs::write(&leftover, b"partial").unwrap();
        let dir = DataDir::open(&root).unwrap();
        assert!(!leftover.exists());
        let all = dir.read_all(Folder::StateMachines).unwrap();
        let contents: Vec<&[u8]> = all.iter().map(|(_, b)| b.as_slice()).collect();
        assert_eq!(contents, [b"3".as_slice(), b"2".as_slice()]);
        dir.remove(Folder::StateMachines, "a").unwrap();
        dir.remove(Folder::StateMachines, "a").unwrap();
        assert_eq!(dir.read_all(Folder::StateMachines).unwrap().len(), 1);
        fs::remove_dir_all(&root).unwrap();
    }
}
