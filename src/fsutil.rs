//! File writing that never leaves a half-written file: write a temp file in the target directory,
//! flush it, then rename it into place — over the destination ([`write_atomic`]), or only where
//! the name is still free ([`create_new_unsynced`], for reports that concurrent runs must never
//! overwrite). Files get the mode any other tool gives them, 0666 minus the umask (a temp file
//! on its own would be 0600).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use tempfile::NamedTempFile;

/// Write `bytes` to `path` atomically and durably (fsync before the rename), creating the parent
/// directory when missing. For documents that get deployed: templates and policies.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = parent_of(path);
    let temp =
        temp_file(dir, bytes, true).with_context(|| format!("writing {}", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// Whether [`create_new_unsynced`] took the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The file was written under the name.
    Written,
    /// Something already holds the name; nothing was written or changed.
    NameTaken,
}

/// Create `path` holding `bytes`, atomically and only if no file has that name: readers never see
/// a half-written file and an existing file (another run's) is never replaced. Like
/// [`write_atomic`] but without the fsync, since only a power loss could lose it: for run reports,
/// where two fsyncs would be most of a local action's run time (and 2,000 of them in a
/// 1,000-config fleet run).
pub fn create_new_unsynced(path: &Path, bytes: &[u8]) -> anyhow::Result<Created> {
    let dir = parent_of(path);
    let temp =
        temp_file(dir, bytes, false).with_context(|| format!("writing {}", path.display()))?;
    match temp.persist_noclobber(path) {
        Ok(_) => Ok(Created::Written),
        Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(Created::NameTaken)
        }
        Err(error) => Err(error.error).with_context(|| format!("creating {}", path.display())),
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A temp file in `dir` (created when missing) holding `bytes`, mode 0666 minus the umask.
fn temp_file(dir: &Path, bytes: &[u8], sync: bool) -> anyhow::Result<NamedTempFile> {
    // create_dir_all's own error for this case is "File exists", which reads as the opposite.
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!("{} is a file, not a directory", dir.display());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating directory {}", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".s3p-").suffix(".tmp");
    // The mode is passed to open(2), so the umask applies, as it does for any other tool's files.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut temp = builder.tempfile_in(dir).with_context(|| {
        format!(
            "creating a temporary file in {} (is it writable?)",
            dir.display()
        )
    })?;
    temp.write_all(bytes)?;
    if sync {
        temp.as_file().sync_all()?;
    }
    Ok(temp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_where_the_folder_should_be_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("reports");
        std::fs::write(&file, "").unwrap();
        let error = create_new_unsynced(&file.join("run.log"), b"x").unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            format!(
                "writing {}: {} is a file, not a directory",
                file.join("run.log").display(),
                file.display()
            )
        );
    }

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(names_in(path.parent().unwrap()), ["out.txt"]);
    }

    #[test]
    fn create_new_never_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.log");
        assert_eq!(
            create_new_unsynced(&path, b"first").unwrap(),
            Created::Written
        );
        assert_eq!(
            create_new_unsynced(&path, b"second").unwrap(),
            Created::NameTaken
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        assert_eq!(names_in(dir.path()), ["report.log"]);
    }
}
