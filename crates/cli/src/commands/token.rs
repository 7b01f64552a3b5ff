//! `handoff token new`: a fresh bearer token for one agency. The secret is
//! printed once, for the agency's system; only its digest goes into the
//! tokens file that `handoff up --tokens` reads.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use handoff_events::Agency;

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Make a token: prints the secret and the entry for the tokens file.
    New(NewArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AgencyName {
    Ice,
    HhsOrr,
    DojEoir,
}

#[derive(Args, Debug)]
pub struct NewArgs {
    #[arg(long, value_enum)]
    pub agency: AgencyName,
    /// A name for the token, shown in logs and audit records.
    #[arg(long)]
    pub id: String,
}

pub fn run(cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::New(args) => {
            let agency = match args.agency {
                AgencyName::Ice => Agency::Ice,
                AgencyName::HhsOrr => Agency::HhsOrr,
                AgencyName::DojEoir => Agency::DojEoir,
            };
            let (secret, entry) = handoff_auth::new_token(&args.id, agency);
            eprintln!("secret (give it to the agency's system; it is not stored anywhere):");
            eprintln!("{secret}");
            eprintln!("append this to the tokens file:");
            let file = handoff_auth::Tokens {
                tokens: vec![entry],
            };
            print!("{}", toml::to_string(&file)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
