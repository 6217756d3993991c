//! Short import names in the wallet's wasm and its JavaScript glue.
//!
//! wasm-bindgen names each function the wasm imports from its glue after the Rust binding and a
//! 16-digit hash (`__wbg_getElementById_0123456789abcdef`), all from the module
//! `./souverain-wallet_bg.js`: about 240 imports, 14 kB in the wasm and 8 kB again in the glue,
//! mostly hex digits that gzip cannot shrink. Those names are nothing but the contract between the
//! two files, so both are rewritten together: the wasm's import section names `a`, `b`, … `aa`, and
//! the glue's import object uses the same keys. Every other byte of the wasm is copied as it was.
//!
//! Why not binaryen's own pass (issue 20, measured 2026-12-06 on the served wasm, wasm-opt 132 with
//! `--all-features`, sizes gzip -9): `--minify-imports` gives 355,553 B against 355,555 B for the
//! same module re-encoded by wasm-opt with no pass, since these names are already the ones it would
//! choose (module `a`, then `a`, `b`, …); `--minify-imports-and-exports-and-modules` gives 355,751 B
//! (the export names it shortens compress worse than wasm-bindgen's) and would also need the glue's
//! export names rewritten. Neither touches the glue, which holds the other 8 kB: this module stays.

use wasm_encoder::{EntityType, ImportSection, Module, RawSection};
use wasmparser::{Encoding, Parser, Payload, TypeRef};

/// The wasm and its glue with short import names.
#[derive(Debug)]
pub struct Shortened {
    /// The module, its import section rewritten.
    pub wasm: Vec<u8>,
    /// The glue, its import object's keys rewritten to match.
    pub glue: String,
    /// How many imports were renamed.
    pub count: usize,
}

/// `a` … `z`, `A` … `Z`, then `aa`, `ab`, …: the `n`-th short name (bijective base 52, so every
/// name is used and none repeats).
fn short_name(mut n: usize) -> String {
    const DIGITS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(DIGITS[n % 52]);
        n /= 52;
        if n == 0 {
            break;
        }
        n -= 1;
    }
    name.reverse();
    String::from_utf8_lossy(&name).into_owned()
}

fn is_identifier_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$'
}

/// `glue` with the one occurrence of `key` as an object key (`key:`, as a whole identifier or as a
/// double-quoted string) replaced by `replacement`; an error when it does not occur exactly once,
/// since renaming a name the glue uses elsewhere, or twice, would break the pairing.
fn replace_key(glue: &str, key: &str, replacement: &str, quoted: bool) -> Result<String, String> {
    let bytes = glue.as_bytes();
    let (needle, written) = if quoted {
        (format!("\"{key}\":"), format!("\"{replacement}\":"))
    } else {
        (key.to_owned(), replacement.to_owned())
    };
    let whole = |at: usize| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + needle.len()).copied();
        quoted || (!before.is_some_and(is_identifier_byte) && !after.is_some_and(is_identifier_byte))
    };
    let found: Vec<usize> = glue.match_indices(&needle).map(|(at, _)| at).filter(|&at| whole(at)).collect();
    let [at] = found.as_slice() else {
        return Err(format!("the glue names the import {key} {} times, expected once", found.len()));
    };
    if !quoted && bytes.get(at + needle.len()) != Some(&b':') {
        return Err(format!("the glue uses the import name {key} other than as its object key"));
    }
    Ok(format!("{}{written}{}", &glue[..*at], &glue[at + needle.len()..]))
}

/// Renames every import of `wasm` to a short name, and the matching keys of `glue`.
pub fn shorten_imports(wasm: &[u8], glue: &str) -> Result<Shortened, String> {
    let malformed = |err: wasmparser::BinaryReaderError| format!("the wallet's wasm does not parse: {err}");
    let mut module = Module::new();
    let mut glue = glue.to_owned();
    let mut count = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(malformed)?;
        match payload {
            Payload::Version { encoding: Encoding::Module, .. } => {}
            Payload::Version { .. } => return Err("the wallet's wasm is a component, not a module".into()),
            Payload::ImportSection(reader) => {
                let mut modules: Vec<(String, String)> = Vec::new();
                let mut section = ImportSection::new();
                for import in reader.into_imports() {
                    let import = import.map_err(malformed)?;
                    let TypeRef::Func(type_index) = import.ty else {
                        return Err(format!(
                            "import {} is not a function: the renaming knows only functions",
                            import.name
                        ));
                    };
                    let short_module = match modules.iter().find(|(long, _)| long == import.module) {
                        Some((_, short)) => short.clone(),
                        None => {
                            let short = short_name(modules.len());
                            glue = replace_key(&glue, import.module, &short, true)?;
                            modules.push((import.module.to_owned(), short.clone()));
                            short
                        }
                    };
                    let short = short_name(count);
                    glue = replace_key(&glue, import.name, &short, false)?;
                    section.import(&short_module, &short, EntityType::Function(type_index));
                    count += 1;
                }
                module.section(&section);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&RawSection { id, data: &wasm[range] });
                }
            }
        }
    }
    Ok(Shortened { wasm: module.finish(), glue, count })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{CodeSection, CustomSection, ExportKind, ExportSection, Function, FunctionSection, TypeSection};

    /// A module importing two functions from the glue's module, with a function of its own, an
    /// export and a custom section: every section but the imports must come out unchanged.
    fn module_with_imports(first: &str, second: &str) -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut imports = ImportSection::new();
        imports.import("./app_bg.js", first, EntityType::Function(0));
        imports.import("./app_bg.js", second, EntityType::Function(0));
        module.section(&imports);
        let mut functions = FunctionSection::new();
        functions.function(0);
        module.section(&functions);
        let mut exports = ExportSection::new();
        exports.export("main", ExportKind::Func, 2);
        module.section(&exports);
        let mut code = CodeSection::new();
        let mut body = Function::new([]);
        body.instructions().call(0).call(1).end();
        code.function(&body);
        module.section(&code);
        module.section(&CustomSection { name: "note".into(), data: b"kept as is".as_slice().into() });
        module.finish()
    }

    fn imports_of(wasm: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            if let Payload::ImportSection(reader) = payload.unwrap() {
                for import in reader.into_imports() {
                    let import = import.unwrap();
                    out.push((import.module.to_owned(), import.name.to_owned()));
                }
            }
        }
        out
    }

    const GLUE: &str = r#"function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_focus_0123456789abcdef: function(arg0) { arg0.focus(); },
        __wbg_blur_fedcba9876543210: function(arg0) { arg0.blur(); },
    };
    return { __proto__: null, "./app_bg.js": import0 };
}"#;

    #[test]
    fn renames_imports_in_both_files_and_keeps_every_other_section() {
        let (first, second) = ("__wbg_focus_0123456789abcdef", "__wbg_blur_fedcba9876543210");
        let wasm = module_with_imports(first, second);
        let out = shorten_imports(&wasm, GLUE).unwrap();
        assert_eq!(out.count, 2);
        assert_eq!(imports_of(&out.wasm), [("a".to_owned(), "a".to_owned()), ("a".to_owned(), "b".to_owned())]);
        assert!(out.glue.contains("        a: function(arg0) { arg0.focus(); },"), "{}", out.glue);
        assert!(out.glue.contains("        b: function(arg0) { arg0.blur(); },"), "{}", out.glue);
        assert!(out.glue.contains(r#""a": import0"#), "{}", out.glue);
        assert!(!out.glue.contains("0123456789abcdef") && !out.glue.contains("./app_bg.js"), "{}", out.glue);
        // Every other section is the same bytes.
        let sections_other_than_imports = |bytes: &[u8]| {
            Parser::new(0)
                .parse_all(bytes)
                .filter_map(|p| {
                    let p = p.unwrap();
                    if matches!(p, Payload::ImportSection(_)) {
                        return None;
                    }
                    p.as_section().map(|(id, range)| (id, bytes[range].to_vec()))
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(sections_other_than_imports(&out.wasm), sections_other_than_imports(&wasm));
    }

    #[test]
    fn refuses_a_glue_that_does_not_name_each_import_once_as_a_key() {
        let wasm = module_with_imports("__wbg_focus_0123456789abcdef", "__wbg_blur_fedcba9876543210");
        let missing = GLUE.replace("__wbg_blur_fedcba9876543210", "__wbg_blur_other");
        assert!(shorten_imports(&wasm, &missing).unwrap_err().contains("0 times"));
        let twice = format!("{GLUE}\nconst again = {{ __wbg_focus_0123456789abcdef: null }};");
        assert!(shorten_imports(&wasm, &twice).unwrap_err().contains("2 times"));
        let called = GLUE.replace("arg0.blur();", "__wbg_focus_0123456789abcdef(arg0);");
        assert!(shorten_imports(&wasm, &called).unwrap_err().contains("2 times"), "a key also used as a value");
        let not_a_key =
            GLUE.replace("__wbg_blur_fedcba9876543210: function(arg0)", "blur: __wbg_blur_fedcba9876543210");
        assert!(shorten_imports(&wasm, &not_a_key).unwrap_err().contains("other than as its object key"));
        let other_module = GLUE.replace(r#""./app_bg.js""#, r#""./other.js""#);
        assert!(shorten_imports(&wasm, &other_module).unwrap_err().contains("./app_bg.js"));
        assert!(shorten_imports(b"not wasm", GLUE).unwrap_err().contains("does not parse"));
    }

    #[test]
    fn short_names_are_distinct_and_short() {
        let names: Vec<String> = (0..3_000).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[51], "Z");
        assert_eq!(names[52], "aa");
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert!(names.iter().all(|n| n.len() <= 3));
    }
}
