//! The data-use log's parsers (issue 17), by mode: 0 signed note, 1 signed checkpoint, 2 witness
//! `add-checkpoint` body decided against a stored state, 3 tile path, 4 entry bundle, 5 data-use
//! event JSON, 6 data-use leaf. Raw bytes after the mode byte; nothing may panic, and what parses
//! must write back to what was read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use souverain_core::data_use::{DataUseEvent, Leaf};
use souverain_core::tlog::checkpoint::{Checkpoint, UnverifiedCheckpoint};
use souverain_core::tlog::cosignature::Cosigner;
use souverain_core::tlog::merkle::empty_root;
use souverain_core::tlog::note::{Ed25519NoteSigner, UnverifiedNote, format_note};
use souverain_core::tlog::tiles::{TilePath, decode_bundle};
use souverain_core::tlog::witness::{AddCheckpoint, WitnessState, decide};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let log = Ed25519NoteSigner::new("log.example/fuzz", &[1; 32]).unwrap();
    match mode % 7 {
        0 => {
            if let Ok(note) = UnverifiedNote::parse(rest) {
                let written = format_note(note.text_unverified(), note.signatures());
                assert_eq!(written.as_bytes(), rest);
                let _ = note.verify(&[&log.verifier()]);
            }
        }
        1 => {
            if let Ok(checkpoint) = UnverifiedCheckpoint::parse(rest) {
                let text = checkpoint.checkpoint_unverified().to_text();
                assert_eq!(Checkpoint::parse_text(&text).as_ref(), Ok(checkpoint.checkpoint_unverified()));
                let _ = checkpoint.verify(&log.verifier());
            }
        }
        2 => {
            let Ok(request) = AddCheckpoint::parse(rest) else { return };
            let witness = Cosigner::new("witness.example/fuzz", &[2; 32]).unwrap();
            let text = Checkpoint::new("log.example/fuzz", 0, empty_root()).unwrap().to_text();
            let state = WitnessState { size: 0, root: empty_root(), note: format_note(&text, [&log.sign(&text)]) };
            for stored in [None, Some(&state)] {
                if let Err(refusal) = decide(&request, &log.verifier(), stored, &witness, 1) {
                    assert!((400..=500).contains(&refusal.status()));
                }
            }
        }
        3 => {
            let Ok(text) = std::str::from_utf8(rest) else { return };
            if let Ok(path) = TilePath::parse(text) {
                assert_eq!(path.to_path(), text);
            }
        }
        4 => {
            let Some((&width, bundle)) = rest.split_first() else { return };
            let _ = decode_bundle(bundle, u16::from(width).max(1));
        }
        5 => {
            if let Ok(event) = DataUseEvent::from_json(rest) {
                assert_eq!(DataUseEvent::from_json(event.to_json().as_bytes()), Ok(event));
            }
        }
        _ => {
            if let Ok(leaf) = Leaf::from_bytes(rest) {
                assert_eq!(leaf.to_bytes().as_slice(), rest);
            }
        }
    }
});
