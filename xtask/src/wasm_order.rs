//! The order of the wallet's functions in its wasm, chosen for gzip.
//!
//! gzip finds repeats only within the last 32 kB it has read, so the same functions compress
//! differently depending on which sit side by side: on the wallet, orders of the same code differed
//! by up to 38 kB once gzipped. wasm-opt (run by Trunk with `-g`) keeps the functions' names; here
//! each function is renamed after its rank in the order wanted, and `wasm-opt
//! --reorder-functions-by-name` then moves them and strips the names. The order: functions grouped
//! by the trait they implement (`Deserialize`, `Drop`, `Debug`…) or else by their crate, then by
//! their bytes, so that the instances of one generic, which differ in a few constants, are
//! neighbours. Measured against wasm-opt's plain sort by name: 3 kB fewer as served (BENCHMARKS.md).

use std::ops::Range;

use wasm_encoder::{CodeSection, Function, Module, NameMap, NameSection, RawSection};
use wasmparser::{KnownCustom, Name, Parser, Payload};

/// The group a function's name puts it in: the trait of `<T as path::Trait>::method`, or the first
/// segment (the crate) of any other path.
fn group_of(name: &str) -> &str {
    let is_path_byte = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    if let Some(at) = name.find(" as ") {
        let rest = &name[at + 4..];
        return &rest[..rest.find(|c| !is_path_byte(c)).unwrap_or(rest.len())];
    }
    let path = name.trim_start_matches('<');
    path.split("::").next().unwrap_or_default()
}

/// A module's defined functions with their names, and its sections.
pub struct Functions<'a> {
    /// How many functions the module imports: defined function `i` has index `imported + i`.
    pub imported: u32,
    /// Each defined function's name (empty when the name section has none) and body.
    pub defined: Vec<(&'a str, &'a [u8])>,
    /// Every section in order: its id, its bytes' range, and whether it is the name section.
    sections: Vec<(u8, Range<usize>, bool)>,
}

/// Reads the functions of `wasm`; an error when it has no function names (the build must keep
/// them until the functions are ordered).
pub fn read_functions(wasm: &[u8]) -> Result<Functions<'_>, String> {
    let malformed = |err: wasmparser::BinaryReaderError| format!("the wallet's wasm does not parse: {err}");
    let mut imported = 0u32;
    let mut bodies: Vec<&[u8]> = Vec::new();
    let mut names: Vec<(u32, &str)> = Vec::new();
    let mut sections = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(malformed)?;
        let mut is_name = false;
        match &payload {
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    if matches!(import.map_err(malformed)?.ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(&wasm[body.range()]),
            Payload::CustomSection(custom) => {
                if let KnownCustom::Name(reader) = custom.as_known() {
                    is_name = true;
                    for subsection in reader {
                        if let Name::Function(map) = subsection.map_err(malformed)? {
                            for naming in map {
                                let naming = naming.map_err(malformed)?;
                                names.push((naming.index, naming.name));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            sections.push((id, range, is_name));
        }
    }
    if names.is_empty() {
        return Err("the wallet's wasm has no function names: Trunk's wasm-opt must keep them (-g)".into());
    }
    names.sort_by_key(|(index, _)| *index);
    let name_of = |index: u32| names.binary_search_by_key(&index, |(i, _)| *i).map_or("", |at| names[at].1);
    let defined = bodies.iter().zip(imported..).map(|(body, index)| (name_of(index), *body)).collect();
    Ok(Functions { imported, defined, sections })
}

/// `wasm` with its name section replaced by one naming every function after its rank: sorting
/// those names sorts the functions by group, then by bytes.
pub fn rank_names(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let functions = read_functions(wasm)?;
    let mut order: Vec<(u32, &str, &[u8])> = functions
        .defined
        .iter()
        .zip(functions.imported..)
        .map(|((name, body), index)| (index, group_of(name), *body))
        .collect();
    order.sort_by(|a, b| a.1.cmp(b.1).then_with(|| a.2.cmp(b.2)));
    // Ranks zero-padded so that comparing names compares ranks; imports keep a name of their own.
    let width = order.len().to_string().len();
    let mut ranked: Vec<(u32, String)> =
        (0..functions.imported).map(|index| (index, format!("import{index}"))).collect();
    ranked.extend(order.iter().enumerate().map(|(rank, (index, _, _))| (*index, format!("f{rank:0width$}"))));
    ranked.sort_by_key(|(index, _)| *index);
    let mut map = NameMap::new();
    for (index, name) in &ranked {
        map.append(*index, name);
    }
    let mut name_section = NameSection::new();
    name_section.functions(&map);
    let mut module = Module::new();
    for (id, range, is_name) in &functions.sections {
        if !is_name {
            module.section(&RawSection { id: *id, data: &wasm[range.clone()] });
        }
    }
    module.section(&name_section);
    Ok(module.finish())
}

/// `wasm` with the body of every function whose name `empty` selects replaced by `unreachable`,
/// every other byte kept (names included): what the module would weigh without those functions'
/// code, for `cargo xtask bench size`.
pub fn without_bodies(wasm: &[u8], empty: impl Fn(&str) -> bool) -> Result<Vec<u8>, String> {
    let functions = read_functions(wasm)?;
    let mut code = CodeSection::new();
    for (name, body) in &functions.defined {
        if empty(name) {
            let mut stub = Function::new([]);
            stub.instructions().unreachable().end();
            code.function(&stub);
        } else {
            code.raw(body);
        }
    }
    let mut module = Module::new();
    for (id, range, _) in &functions.sections {
        if *id == CODE_SECTION {
            module.section(&code);
        } else {
            module.section(&RawSection { id: *id, data: &wasm[range.clone()] });
        }
    }
    Ok(module.finish())
}

/// The code section's id (WebAssembly core specification, 5.5.2).
const CODE_SECTION: u8 = 10;

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{EntityType, FunctionSection, ImportSection, Instruction, TypeSection};

    #[test]
    fn groups_by_trait_or_crate() {
        assert_eq!(
            group_of("<souverain_core::consent::Grant as serde_core::de::Deserialize>::deserialize"),
            "serde_core::de::Deserialize"
        );
        assert_eq!(group_of("core::ptr::drop_in_place<alloc::vec::Vec<u8>>"), "core");
        assert_eq!(group_of("<yew::virtual_dom::vnode::VNode>::clone"), "yew");
        assert_eq!(group_of("ed25519_dalek::verifying::VerifyingKey::verify_strict"), "ed25519_dalek");
        assert_eq!(group_of(""), "");
    }

    /// One import, then three functions whose names and bodies fix the expected order.
    fn module(names: &[(u32, &str)]) -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut imports = ImportSection::new();
        imports.import("m", "f", EntityType::Function(0));
        module.section(&imports);
        let mut functions = FunctionSection::new();
        (0..3).for_each(|_| {
            functions.function(0);
        });
        module.section(&functions);
        let mut code = CodeSection::new();
        for constant in [7, 1, 3] {
            let mut body = Function::new([]);
            body.instruction(&Instruction::I32Const(constant))
                .instruction(&Instruction::Drop)
                .instruction(&Instruction::End);
            code.function(&body);
        }
        module.section(&code);
        let mut map = NameMap::new();
        names.iter().for_each(|(index, name)| map.append(*index, name));
        let mut section = NameSection::new();
        section.functions(&map);
        module.section(&section);
        module.finish()
    }

    fn function_names(wasm: &[u8]) -> Vec<(u32, String)> {
        let mut out = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            if let Payload::CustomSection(custom) = payload.unwrap()
                && let KnownCustom::Name(reader) = custom.as_known()
            {
                for subsection in reader {
                    if let Name::Function(map) = subsection.unwrap() {
                        out.extend(map.into_iter().map(|n| n.unwrap()).map(|n| (n.index, n.name.to_owned())));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn ranks_follow_group_then_bytes() {
        // Functions 1 and 3 implement the same trait; 2 is a free function of crate `a`, which sorts first.
        let wasm = module(&[(0, "import"), (1, "<x::T as z::Trait>::m"), (2, "a::free"), (3, "<y::U as z::Trait>::m")]);
        let ranked = rank_names(&wasm).unwrap();
        let names = function_names(&ranked);
        // Group `a` first (function 2), then `z::Trait`: function 3 (`i32.const 3`) before 1 (`i32.const 7`).
        assert_eq!(names, [(0, "import0".into()), (1, "f2".into()), (2, "f0".into()), (3, "f1".into())]);
    }

    #[test]
    fn empties_only_the_bodies_chosen_by_name() {
        let wasm = module(&[(0, "import"), (1, "keep::one"), (2, "drop::two"), (3, "keep::three")]);
        let emptied = without_bodies(&wasm, |name| name.starts_with("drop::")).unwrap();
        let (before, after) = (read_functions(&wasm).unwrap(), read_functions(&emptied).unwrap());
        assert_eq!(after.defined[0], before.defined[0]);
        assert_eq!(after.defined[2], before.defined[2]);
        assert_eq!(after.defined[1], ("drop::two", [0x00, 0x00, 0x0b].as_slice()), "no locals, unreachable, end");
        assert!(emptied.len() < wasm.len());
    }

    #[test]
    fn refuses_a_module_without_names() {
        let wasm = module(&[]);
        assert!(rank_names(&wasm).unwrap_err().contains("no function names"));
        assert!(rank_names(b"\0asm").is_err());
    }
}
