//! `handoff schemas check|register`: the gate for schema changes. `check`
//! asks the registry whether each file of `schemas/` is compatible with
//! every version the registry holds for its subjects, and shows a diff of
//! what changed where it is not; CI runs it so an incompatible change never
//! reaches a producer.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use handoff_events::{Catalogue, Codec};
use serde_json::{json, Value};
use similar::TextDiff;

#[derive(Subcommand, Debug)]
pub enum SchemasCommand {
    /// Exit non-zero, with a readable diff, if any schema in the folder is
    /// incompatible with what the registry holds.
    Check(SchemasArgs),
    /// Register every schema of the folder (idempotent).
    Register(SchemasArgs),
}

#[derive(Args, Debug)]
pub struct SchemasArgs {
    /// The schema registry's URL.
    #[arg(
        long,
        env = "HANDOFF_REGISTRY_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    pub registry: String,
    /// The folder of .avsc files.
    #[arg(long, default_value = "schemas")]
    pub dir: PathBuf,
}

pub async fn run(cmd: SchemasCommand) -> Result<ExitCode> {
    match cmd {
        SchemasCommand::Check(args) => check(args).await,
        SchemasCommand::Register(args) => register(args).await,
    }
}

async fn register(args: SchemasArgs) -> Result<ExitCode> {
    let catalogue = Catalogue::from_dir(&args.dir)?;
    let codec = Codec::new(&args.registry, Arc::new(catalogue));
    let ids = codec.register_catalogue().await.context(
        "registering failed; run `handoff schemas check` to see which schema is incompatible",
    )?;
    for (subject, id) in ids {
        println!("{id:>5}  {subject}");
    }
    Ok(ExitCode::SUCCESS)
}

/// What the registry says about one subject.
enum Verdict {
    New,
    Unchanged,
    Compatible,
    Incompatible { messages: Vec<String>, diff: String },
}

async fn check(args: SchemasArgs) -> Result<ExitCode> {
    let catalogue = Catalogue::from_dir(&args.dir)?;
    let http = reqwest::Client::new();
    let base = args.registry.trim_end_matches('/');
    let mut failures = 0;
    for (subject, schema) in catalogue.subjects() {
        let verdict = verdict(&http, base, &subject, &schema.text).await?;
        match verdict {
            Verdict::New => println!("new           {subject}"),
            Verdict::Unchanged => println!("unchanged     {subject}"),
            Verdict::Compatible => println!("compatible    {subject}"),
            Verdict::Incompatible { messages, diff } => {
                failures += 1;
                println!("INCOMPATIBLE  {subject}  ({})", schema.path);
                for m in messages {
                    println!("    {m}");
                }
                println!("{diff}");
            }
        }
    }
    if failures > 0 {
        eprintln!(
            "{failures} schema(s) incompatible with the registry. Make the change compatible (add fields with defaults, never remove or retype a field without one), or publish a new versioned record name."
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

async fn verdict(http: &reqwest::Client, base: &str, subject: &str, text: &str) -> Result<Verdict> {
    let body = json!({"schema": text});
    let lookup = http
        .post(format!("{base}/subjects/{subject}"))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach the registry at {base}"))?;
    match lookup.status().as_u16() {
        200 => return Ok(Verdict::Unchanged),
        404 => {
            let error: Value = lookup.json().await.unwrap_or_default();
            if error["error_code"] == 40401 {
                return Ok(Verdict::New);
            }
        }
        other => bail!("registry answered {other} to a lookup of {subject}"),
    }
    let answer: Value = http
        .post(format!(
            "{base}/compatibility/subjects/{subject}/versions?verbose=true"
        ))
        .json(&body)
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("compatibility check of {subject} failed"))?
        .json()
        .await?;
    if answer["is_compatible"] == true {
        return Ok(Verdict::Compatible);
    }
    let messages = answer["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let latest: Value = http
        .get(format!("{base}/subjects/{subject}/versions/latest"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let registered = pretty(latest["schema"].as_str().unwrap_or("{}"));
    let proposed = pretty(text);
    let diff = TextDiff::from_lines(&registered, &proposed)
        .unified_diff()
        .context_radius(3)
        .header("registry (latest)", "schemas/ (proposed)")
        .to_string();
    Ok(Verdict::Incompatible { messages, diff })
}

fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| text.to_owned())
        + "\n"
}
