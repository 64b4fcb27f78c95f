// `sqlx::migrate!` embeds the SQL files at compile time; without this, a new migration file
// is silently left out until something else makes the crate rebuild.
fn main() {
    println!("cargo:rerun-if-changed=sql");
}
