//! The demo's bearer tokens: one per agency for the local stack, so the
//! API the demo points to answers. The tokens file (digests only, what
//! `--tokens` reads) and the secrets (for the printed `curl` lines) are
//! kept in the data directory and nowhere else, the secrets readable by
//! their owner only, and reused by the next `up --demo` on it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use handoff_auth::{digest, new_token, Tokens};
use handoff_events::Agency;

pub struct DemoTokens {
    /// The tokens file to start the views with.
    pub file: PathBuf,
    /// Where the secrets are kept.
    pub secrets_file: PathBuf,
    /// Each agency's secret, by its symbol (`ICE`, `HHS_ORR`, `DOJ_EOIR`).
    pub secrets: BTreeMap<String, String>,
}

impl DemoTokens {
    pub fn secret(&self, agency: Agency) -> &str {
        &self.secrets[agency.symbol()]
    }
}

/// The data directory's demo tokens, made on first use.
pub fn in_data_dir(data_dir: &Path) -> Result<DemoTokens> {
    let file = data_dir.join("demo-tokens.toml");
    let secrets_file = data_dir.join("demo-secrets.toml");
    if let Some(tokens) = reuse(&file, &secrets_file)? {
        return Ok(tokens);
    }
    let mut secrets = BTreeMap::new();
    let mut entries = Vec::new();
    for agency in Agency::ALL {
        let (secret, entry) =
            new_token(&format!("demo-{}", agency.symbol().to_lowercase()), agency);
        secrets.insert(agency.symbol().to_owned(), secret);
        entries.push(entry);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    write_private(&secrets_file, &toml::to_string(&secrets)?)?;
    std::fs::write(&file, toml::to_string(&Tokens { tokens: entries })?)
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(DemoTokens {
        file,
        secrets_file,
        secrets,
    })
}

/// The tokens of an earlier demo, if both files are there and every
/// agency's secret still matches its digest.
fn reuse(file: &Path, secrets_file: &Path) -> Result<Option<DemoTokens>> {
    if !file.exists() || !secrets_file.exists() {
        return Ok(None);
    }
    let tokens = Tokens::load(file)?;
    let text = std::fs::read_to_string(secrets_file)
        .with_context(|| format!("cannot read {}", secrets_file.display()))?;
    let secrets: BTreeMap<String, String> = toml::from_str(&text)
        .with_context(|| format!("{} is not the demo's secrets file", secrets_file.display()))?;
    let matches = Agency::ALL.iter().all(|agency| {
        secrets.get(agency.symbol()).is_some_and(|secret| {
            tokens
                .tokens
                .iter()
                .any(|t| t.agency == *agency && t.sha256 == digest(secret))
        })
    });
    Ok(matches.then(|| DemoTokens {
        file: file.to_owned(),
        secrets_file: secrets_file.to_owned(),
        secrets,
    }))
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
