//! The console's pages use the U.S. Web Design System's CSS, JavaScript,
//! fonts and icons, built into the binary from the npm package that
//! `scripts/setup.sh` installs (`npm ci` in crates/console/web). Without
//! it the build stops here with that instruction, rather than with an
//! embedding macro's error about a missing folder.

fn main() {
    let dist = std::path::Path::new("web/node_modules/@uswds/uswds/dist");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.join("css/uswds.min.css").exists() {
        panic!(
            "the console's U.S. Web Design System assets are missing ({}): run scripts/setup.sh, or `npm ci --prefix crates/console/web`",
            dist.display()
        );
    }
}
