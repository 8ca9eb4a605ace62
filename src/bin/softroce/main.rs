//! The `softroce` command-line tool (hosted): runs the hosted provider and its tools.

fn main() {
    println!("softroce {}", env!("CARGO_PKG_VERSION"));
}
