fn main() {
    eprintln!("sim: not yet built");
    std::process::exit(2);
}
