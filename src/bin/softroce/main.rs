//! The `softroce` command-line tool (hosted): `softroce adapters` opens hosted
//! adapters and prints their NDK info; `softroce decode` prints the RoCEv2
//! packets of a capture (see docs/DECODE.md).
//! Owns the CLI; must not decode (that is `decode.rs`).

mod adapters;
mod capture;
mod consumer;
mod decode;
mod rc_pingpong;
mod rdma_examples;
mod record;
mod rping;
mod smbd_probe;

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
    /// rping, rc-pingpong, rdma-server, rdma-client: send and receive
    /// Ethernet frames on interface IFNAME (AF_PACKET, ARP; IPv4; root or
    /// CAP_NET_RAW) through the frame carrier the Windows driver runs,
    /// instead of the UDP carrier. Default: the SOFTROCE_LINK environment
    /// variable, if set and not empty.
    #[arg(long, global = true, value_name = "IFNAME")]
    link: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Open hosted adapters through the C entry point and print the
    /// NDK_ADAPTER_INFO each reports through its dispatch table.
    Adapters {
        /// Local IPv4 or IPv6 addresses to open adapters on.
        #[arg(default_values_t = ["127.0.0.1".to_string(), "::1".to_string()])]
        addresses: Vec<String>,
    },
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
    /// rping-compatible client (-c) or server (-s) over a hosted adapter
    /// (librdmacm's rping protocol; needs root for the real carrier).
    Rping(RpingArgs),
    /// ibv_rc_pingpong-compatible RC SEND/RECV ping-pong with its TCP side
    /// channel (server without SERVERNAME, client with it).
    RcPingpong {
        /// The server to connect to (client); omit to be the server.
        servername: Option<std::net::IpAddr>,
        /// Our address (server: required; client default: the route's source).
        #[arg(short = 'I')]
        bind: Option<std::net::IpAddr>,
        /// TCP side-channel port.
        #[arg(short = 'p', default_value_t = 18515)]
        port: u16,
        /// Message size.
        #[arg(short = 's', default_value_t = 4096)]
        size: usize,
        /// Path MTU in bytes (256, 512, 1024, 2048 or 4096): the QP's and
        /// the adapter's RoCE MTU.
        #[arg(short = 'm', long = "mtu", default_value_t = 1024, value_parser = consumer::parse_mtu)]
        mtu: u32,
        /// Receives posted at once.
        #[arg(short = 'r', default_value_t = 500)]
        rx_depth: u32,
        /// Iterations.
        #[arg(short = 'n', default_value_t = 1000)]
        iters: u32,
        /// Accepted for compatibility (the GID is the adapter's address).
        #[arg(short = 'g')]
        gid_index: Option<u32>,
        /// Client: seconds to keep retrying the side channel.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Peer of librdmacm's `rdma_client` example: accept one connection on
    /// -a:-p, receive 16 bytes, send 16 bytes back, disconnect.
    RdmaServer {
        /// Address to listen on.
        #[arg(short = 'a', long = "addr")]
        addr: std::net::IpAddr,
        #[arg(short = 'p', default_value_t = 7471)]
        port: u16,
        /// The adapter's RoCE path MTU in bytes (256, 512, 1024, 2048 or 4096).
        #[arg(long, default_value_t = 1024, value_parser = consumer::parse_mtu)]
        mtu: u32,
        /// Seconds to wait for the connection.
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
    /// SMB Direct probe: connect to an SMB server's RDMA port, negotiate
    /// SMB Direct (MS-SMBD) and SMB2 (NEGOTIATE only), print the results,
    /// disconnect (needs root for the real carrier).
    SmbdProbe {
        /// The server's address.
        server: std::net::IpAddr,
        /// Local address (default: the route's source address).
        #[arg(short = 'I')]
        bind: Option<std::net::IpAddr>,
        /// RDMA-CM port (445 for InfiniBand/RoCE; iWARP uses 5445).
        #[arg(long, short = 'p', default_value_t = softroce::smbd::SMBD_PORT)]
        port: u16,
        /// Offer SMB 3.1.1 as well (with the preauth integrity context).
        #[arg(long)]
        smb311: bool,
        /// Seconds to keep retrying the connection (0: one try).
        #[arg(long, default_value_t = 0)]
        wait: u64,
        /// Seconds one protocol step may take.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        /// The adapter's RoCE path MTU in bytes.
        #[arg(long, default_value_t = 1024, value_parser = consumer::parse_mtu)]
        mtu: u32,
    },
    /// Peer of librdmacm's `rdma_server` example: connect to -s:-p, send 16
    /// bytes, receive 16 bytes, disconnect.
    RdmaClient {
        /// The server's address.
        #[arg(short = 's')]
        server: std::net::IpAddr,
        /// Local address (default: the route's source address).
        #[arg(short = 'I')]
        bind: Option<std::net::IpAddr>,
        #[arg(short = 'p', default_value_t = 7471)]
        port: u16,
        /// The adapter's RoCE path MTU in bytes (256, 512, 1024, 2048 or 4096).
        #[arg(long, default_value_t = 1024, value_parser = consumer::parse_mtu)]
        mtu: u32,
        /// Seconds to keep retrying the connection (0: one try).
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
}

#[derive(clap::Args)]
struct RpingArgs {
    /// Server: listen on -a and answer one client.
    #[arg(short = 's', conflicts_with = "client")]
    server: bool,
    /// Client: connect to the server at -a.
    #[arg(short = 'c')]
    client: bool,
    /// Server: address to listen on; client: the server's address.
    #[arg(short = 'a')]
    addr: std::net::IpAddr,
    /// Client: local address (default: the route's source address).
    #[arg(short = 'I')]
    bind: Option<std::net::IpAddr>,
    #[arg(short = 'p', default_value_t = 7174)]
    port: u16,
    /// The adapter's RoCE path MTU in bytes (256, 512, 1024, 2048 or 4096).
    #[arg(long, default_value_t = 1024, value_parser = consumer::parse_mtu)]
    mtu: u32,
    /// Ping data size in bytes (26..=65535, as rping).
    #[arg(short = 'S', default_value_t = 64)]
    size: usize,
    /// Ping count (0: forever; server: at least this many pings expected).
    #[arg(short = 'C', default_value_t = 0)]
    count: u32,
    /// Print the ping data.
    #[arg(short = 'v')]
    verbose: bool,
    /// Validate the ping data.
    #[arg(short = 'V')]
    validate: bool,
    /// Server: seconds to wait for a connection; client: seconds to keep
    /// retrying the connection (0: one try; server: forever).
    #[arg(long, default_value_t = 0)]
    wait: u64,
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

/// Exit status 0, or 1 with the error on stderr.
fn report(tool: &str, r: Result<(), String>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("softroce {tool}: FAILED: {e}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let link = cli
        .link
        .or_else(|| std::env::var("SOFTROCE_LINK").ok())
        .filter(|l| !l.is_empty());
    if let Some(link) = link {
        consumer::use_link(link);
    }
    match cli.command {
        Some(Command::Decode { file, json }) => decode(&file, json),
        Some(Command::Adapters { addresses }) => adapters::run(&addresses),
        Some(Command::RdmaServer {
            addr,
            port,
            mtu,
            wait,
        }) => report(
            "rdma-server",
            rdma_examples::server(addr, port, mtu, std::time::Duration::from_secs(wait)),
        ),
        Some(Command::RdmaClient {
            server,
            bind,
            port,
            mtu,
            wait,
        }) => report(
            "rdma-client",
            rdma_examples::client(
                server,
                bind,
                port,
                mtu,
                std::time::Duration::from_secs(wait),
            ),
        ),
        Some(Command::SmbdProbe {
            server,
            bind,
            port,
            smb311,
            wait,
            timeout,
            mtu,
        }) => report(
            "smbd-probe",
            smbd_probe::run(&smbd_probe::Opts {
                server,
                bind,
                port,
                mtu,
                smb311,
                wait: std::time::Duration::from_secs(wait),
                timeout: std::time::Duration::from_secs(timeout),
            }),
        ),
        Some(Command::RcPingpong {
            servername,
            bind,
            port,
            size,
            mtu,
            rx_depth,
            iters,
            gid_index: _,
            wait,
        }) => report(
            "rc-pingpong",
            rc_pingpong::run(&rc_pingpong::Opts {
                server: servername,
                bind,
                port,
                size,
                mtu,
                rx_depth,
                iters,
                wait: std::time::Duration::from_secs(wait),
            }),
        ),
        Some(Command::Rping(a)) => {
            if a.server == a.client {
                eprintln!("softroce rping: give exactly one of -s and -c");
                return ExitCode::from(2);
            }
            let o = rping::Opts {
                server: a.server,
                addr: a.addr,
                bind: a.bind,
                port: a.port,
                mtu: a.mtu,
                size: a.size,
                count: a.count,
                verbose: a.verbose,
                validate: a.validate,
                // A server without --wait waits (practically) forever.
                wait: std::time::Duration::from_secs(if a.server && a.wait == 0 {
                    u64::from(u32::MAX)
                } else {
                    a.wait
                }),
            };
            report("rping", rping::run(&o))
        }
        None => {
            println!("softroce {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
    }
}
