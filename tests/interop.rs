//! Live interop with Linux `rdma_rxe`: runs `tests/interop/run-interop.sh`
//! (rping both ways at several sizes, rdma_client/rdma_server both ways,
//! ibv_rc_pingpong both ways, `softroce smbd-probe` against ksmbd's SMB Direct
//! transport, each capture decoded and checked; see docs/INTEROP.md) and fails if any
//! scenario fails. A full run boots a QEMU guest and takes about a minute
//! here (minutes under slower TCG), so plain `cargo test` SKIPS it with a
//! printed reason. `SOFTROCE_INTEROP=1 cargo test --test interop` runs it
//! (as root, with the rxe lab built or buildable) and fails if the lab cannot
//! run at all; `SOFTROCE_INTEROP=auto` (what CI sets) runs it wherever the lab
//! can run and says clearly that it was skipped, and why, where it cannot
//! (not root, no lab, the lab build failed): scenario failures always fail.

use std::io::Write;
use std::path::Path;
use std::process::Command;

#[test]
fn softroce_interoperates_with_linux_rxe() {
    let mode = std::env::var("SOFTROCE_INTEROP").unwrap_or_default();
    if mode != "1" && mode != "auto" {
        // Straight to the stderr handle: the harness does not capture it,
        // so the reason shows in a plain `cargo test` run.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED live rxe interop: set SOFTROCE_INTEROP=1 (or auto) to run \
             tests/interop/run-interop.sh (root, the rxe lab; about a minute)"
        );
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/run-interop.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("SOFTROCE_BIN", env!("CARGO_BIN_EXE_softroce"))
        .output()
        .expect("run-interop.sh could not be started");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    match out.status.code() {
        Some(0) => {
            assert!(
                text.contains("VERDICT interop: PASS"),
                "exit 0 without the PASS verdict"
            );
            let passes = text.matches(": PASS (rxe:").count();
            assert!(passes >= 2, "too few scenario verdicts: {passes}");
        }
        Some(2) if mode == "auto" => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED live rxe interop: the lab cannot run here (the SKIP line above says why)"
            );
        }
        Some(2) => panic!("SOFTROCE_INTEROP=1 but the lab cannot run here (see above)"),
        other => panic!("interop failed ({other:?}): see the VERDICT lines above"),
    }
}
