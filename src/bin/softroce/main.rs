//! The `softroce` command-line tool (hosted): `softroce decode` prints the
//! RoCEv2 packets of a capture (see docs/DECODE.md).
//! Owns the CLI; must not decode (that is `decode.rs`).

mod capture;
mod decode;
mod record;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use decode::Outcome;

#[derive(Parser)]
#[command(name = "softroce", version, about = "softroce hosted tools")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Decode the RoCEv2 packets (UDP port 4791) of a pcap or pcapng file,
    /// one line each. Exit status: 0 all good, 1 some packet malformed or
    /// with a bad ICRC, 2 the file could not be read.
    Decode {
        /// The capture (pcap or pcapng; Ethernet, Linux SLL/SLL2 or raw IP).
        file: PathBuf,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn decode(file: &Path, json: bool) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad = 0u64;
    let mut unknown_link = 0u64;
    let mut write_err = None;
    let result = capture::for_each_frame(file, |number, link, data| {
        let Some(link) = link else {
            unknown_link += 1;
            return;
        };
        let rec = match decode::decode_frame(number, link, data) {
            Outcome::NotRoce => return,
            Outcome::Good(rec) => rec,
            Outcome::Bad(rec) => {
                bad += 1;
                rec
            }
        };
        if write_err.is_some() {
            return;
        }
        let line = if json { rec.to_json() } else { rec.to_text() };
        if let Err(e) = writeln!(out, "{line}") {
            write_err = Some(e);
        }
    });
    let flushed = out.flush();
    if let Err(e) = result {
        eprintln!("softroce decode: {e}");
        return ExitCode::from(2);
    }
    match write_err.or(flushed.err()) {
        // The reader went away (`| head`): not an error of ours.
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Some(e) => {
            eprintln!("softroce decode: writing output: {e}");
            return ExitCode::from(2);
        }
        None => {}
    }
    if unknown_link > 0 {
        eprintln!("softroce decode: {unknown_link} frame(s) with an unsupported link type skipped");
    }
    if bad > 0 {
        eprintln!("softroce decode: {bad} malformed packet(s) or bad ICRC(s)");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Decode { file, json }) => decode(&file, json),
        None => {
            println!("softroce {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
    }
}
