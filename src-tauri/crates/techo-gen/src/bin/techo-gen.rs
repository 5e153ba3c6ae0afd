//! `techo-gen [--seed N] [--persons N] [--resources N] [--facilities N] [--format ndjson|bundle]
//!            [--person I] [--out FILE]` — writes a synthetic record (stdout by default).

use std::io::Write;
use std::process::ExitCode;

use techo_gen::{write, write_person, GenConfig, GenFormat};

fn usage() -> ExitCode {
    eprintln!(
        "usage: techo-gen [--seed N] [--persons N] [--resources N] [--facilities N] \
         [--format ndjson|bundle] [--person I] [--out FILE]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut cfg = GenConfig::default();
    let mut format = GenFormat::Ndjson;
    let mut person: Option<usize> = None;
    let mut out_path: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next();
        let ok = match a.as_str() {
            "--seed" => val().and_then(|v| v.parse().ok()).map(|v| cfg.seed = v).is_some(),
            "--persons" => val().and_then(|v| v.parse().ok()).map(|v| cfg.persons = v).is_some(),
            "--resources" => val().and_then(|v| v.parse().ok()).map(|v| cfg.resources = v).is_some(),
            "--facilities" => val().and_then(|v| v.parse().ok()).map(|v| cfg.facilities = v).is_some(),
            "--person" => val().and_then(|v| v.parse().ok()).map(|v| person = Some(v)).is_some(),
            "--out" | "-o" => val().map(|v| out_path = Some(v)).is_some(),
            "--format" => match val().as_deref() {
                Some("ndjson") => { format = GenFormat::Ndjson; true }
                Some("bundle") => { format = GenFormat::Bundle; true }
                _ => false,
            },
            _ => false,
        };
        if !ok {
            return usage();
        }
    }
    let mut out: Box<dyn Write> = match &out_path {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("techo-gen: {p}: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => Box::new(std::io::stdout().lock()),
    };
    let t = std::time::Instant::now();
    let r = match person {
        Some(i) => write_person(&cfg, i, format, &mut out),
        None => write(&cfg, format, &mut out),
    };
    match r.and_then(|n| out.flush().map(|_| n)) {
        Ok(n) => {
            eprintln!("techo-gen: {n} resources in {:.2}s", t.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("techo-gen: {e}");
            ExitCode::FAILURE
        }
    }
}
