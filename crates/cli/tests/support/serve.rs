//! Starting the real `chitra serve` from a test.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Starts `chitra serve` (the binary `bin`) on `db` on a free port: the child and the base URL
/// it printed (`http://ADDR`).
pub fn serve(bin: &str, db: &str) -> (Child, String) {
    let mut child = Command::new(bin)
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, format!("http://{addr}"))
}
