//! Compresses the translation catalogs (DEFLATE) into `OUT_DIR`, where `src/i18n.rs` embeds
//! them: nineteen languages of JSON are a quarter of their size compressed, and each is
//! inflated only when a page first needs it.

use std::{fs, path::Path};

fn main() {
    let source = Path::new("translations");
    println!("cargo::rerun-if-changed=translations");
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    for entry in fs::read_dir(source).expect("the translations folder") {
        let path = entry.expect("a readable folder").path();
        if path.extension().is_none_or(|extension| extension != "json") {
            continue;
        }
        let json = fs::read(&path).expect("a readable catalog");
        let name = path.file_name().expect("a file name");
        let compressed = miniz_oxide::deflate::compress_to_vec(&json, 10);
        fs::write(
            Path::new(&out).join(name).with_extension("json.deflate"),
            compressed,
        )
        .expect("OUT_DIR is writable");
    }
}
