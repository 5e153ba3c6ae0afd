//! The little that differs between operating systems, in one place.

use std::path::{Path, PathBuf};

/// Where a vault lives when `--vault` / `TECHO_VAULT` is not given:
/// Linux `~/.local/share/techo/vault`, macOS `~/Library/Application Support/jp.techo.Techo/vault`,
/// Windows `%APPDATA%\techo\Techo\data\vault`.
pub fn default_vault_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("jp", "techo", "Techo").map(|d| d.data_dir().join("vault"))
}

/// Makes a rename inside `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Creates the vault folder readable by its owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` whole or not at all: into `path.partial`, synced, renamed over
/// `path`, then the folder synced. On failure the partial file is removed. (Share packages and
/// summaries the person saves: never a half-written file.)
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("partial");
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => sync_dir(dir),
            None => Ok(()),
        }
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
