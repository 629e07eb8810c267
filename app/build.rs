//! `sqlx::migrate!` embeds the migration folders when `store` compiles; a
//! migration added without another change to this crate would otherwise be
//! left out of an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
