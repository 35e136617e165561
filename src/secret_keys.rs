//! Where the deployment's secret keys come from: `ESCALADE_SECRET_KEY`, else the file named by
//! `--secret-key-file`, else a key file beside the SQLite database (`escalade.key` beside
//! `escalade.db`), created on first start. PostgreSQL deployments must name a key: one kept in
//! the database would protect nothing from a copy of it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::DatabaseSettings;
use crate::domain::sealing::{KeyRing, SecretKey};

/// The environment variable holding the keys themselves, the current one first, separated by
/// commas.
pub const ENV: &str = "ESCALADE_SECRET_KEY";

/// Where the key ring in force came from, for the start-up log (never the keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Environment,
    File(PathBuf),
    /// A key file created beside the SQLite database on this start.
    Created(PathBuf),
}

/// The key ring for a deployment with `database`, and where it came from.
pub fn load(database: &DatabaseSettings, file: Option<&Path>) -> Result<(KeyRing, Source), String> {
    if let Some(keys) = std::env::var(ENV)
        .ok()
        .filter(|keys| !keys.trim().is_empty())
    {
        let ring = KeyRing::parse(&keys).map_err(|err| format!("{ENV}: {err}"))?;
        return Ok((ring, Source::Environment));
    }
    if let Some(file) = file {
        return read(file).map(|ring| (ring, Source::File(file.to_owned())));
    }
    let Some(path) = beside_sqlite(&database.url()) else {
        return Err(format!(
            "escalade needs a secret key kept outside the database: set {ENV} or \
             --secret-key-file (`escalade secret-key generate` makes a key)"
        ));
    };
    if path.exists() {
        return read(&path).map(|ring| (ring, Source::File(path)));
    }
    let key = SecretKey::generate();
    create(&path, &key)?;
    Ok((KeyRing::new(key, Vec::new()), Source::Created(path)))
}

fn read(path: &Path) -> Result<KeyRing, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read the secret key file {}: {err}", path.display()))?;
    KeyRing::parse(&text).map_err(|err| format!("{}: {err}", path.display()))
}

/// Writes a new key file readable by its owner only; refuses to replace an existing one.
fn create(path: &Path, key: &SecretKey) -> Result<(), String> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|err| {
        format!(
            "cannot create the secret key file {}: {err}",
            path.display()
        )
    })?;
    writeln!(
        file,
        "# escalade's secret keys, the current one first. Keep this file with the database's\n\
         # backups but apart from them: together they reveal webhook signing secrets.\n{}",
        key.encode()
    )
    .map_err(|err| format!("cannot write the secret key file {}: {err}", path.display()))
}

/// `escalade.key` beside `escalade.db`, for a SQLite database kept in a file.
fn beside_sqlite(url: &str) -> Option<PathBuf> {
    crate::store::sqlite_file(url).map(|file| file.with_extension("key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_file_sits_beside_a_sqlite_file() {
        assert_eq!(
            beside_sqlite("sqlite://escalade.db"),
            Some(PathBuf::from("escalade.key"))
        );
        assert_eq!(
            beside_sqlite("sqlite:///var/lib/escalade/escalade.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/escalade/escalade.key"))
        );
        assert_eq!(beside_sqlite("sqlite::memory:"), None);
        assert_eq!(beside_sqlite("postgres://db/escalade"), None);
    }
}
