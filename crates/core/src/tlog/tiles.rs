//! Tiles and entry bundles (c2sp.org/tlog-tiles): how the log is served as static files.
//!
//! - A hash tile `tile/<L>/<N>[.p/<W>]` holds `W` consecutive hashes (32 bytes each) of level
//!   `8·L` of the tree, starting at hash `256·N`; a full tile holds 256, a partial tile (only the
//!   rightmost one of its level) fewer, and is replaced by wider ones as the tree grows.
//! - An entry bundle `tile/entries/<N>[.p/<W>]` holds entries `256·N ..`, each as a big-endian
//!   `u16` length and the entry's bytes.
//! - `<N>` is written in groups of three digits, every group but the last prefixed with `x`
//!   (`5006007` is `x005/x006/007`).
//!
//! Full tiles never change and may be cached forever; partial tiles and the checkpoint change.
//! The log builds hash tiles from its stored hashes ([`tile_data`]); a reader authenticates the
//! tiles it downloads against a checkpoint's root ([`Tiles::inclusion_proof`], [`Tiles::consistency_proof`]).

use std::collections::BTreeMap;

use super::merkle::{
    ConsistencyProof, Hash, HashReader, InclusionProof, MerkleError, prove_consistency, prove_inclusion,
    stored_hash_index, verify_consistency, verify_inclusion,
};

/// Tile height: each tile spans 8 levels of the tree.
pub const TILE_HEIGHT: u8 = 8;
/// Full tile and bundle width.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// The largest entry an entry bundle can hold.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;
/// Highest tile level (8·L must stay below 64).
const MAX_LEVEL: u8 = 7;

/// Why a tile path, a tile or an entry bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// Not a tile or entry-bundle path of the canonical form.
    #[error("not a tile path: {0:?}")]
    BadPath(String),
    /// A width outside 1..=256, or a level above 7.
    #[error("tile coordinates out of range")]
    OutOfRange,
    /// An entry longer than 65,535 bytes cannot be bundled.
    #[error("an entry of {0} bytes is longer than a bundle allows")]
    EntryTooLong(usize),
    /// The bundle ends inside an entry.
    #[error("the entry bundle is truncated")]
    TruncatedBundle,
    /// The bundle does not hold the number of entries its width says.
    #[error("the entry bundle holds {found} entries, {expected} expected")]
    BundleWidth {
        /// Entries expected.
        expected: u64,
        /// Entries found.
        found: u64,
    },
    /// A downloaded tile has the wrong length.
    #[error("the tile {path} has {found} bytes, {expected} expected")]
    TileLength {
        /// The tile's path.
        path: String,
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// Reading the stored hashes failed.
    #[error("{0}")]
    Merkle(#[from] MerkleError),
}

/// A hash tile's or an entry bundle's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TileCoord {
    /// Level of tiles (0 for leaf hashes); always 0 for entry bundles.
    pub level: u8,
    /// Index within the level.
    pub index: u64,
    /// Number of hashes or entries, 1..=256 (256: full).
    pub width: u16,
}

impl TileCoord {
    /// Checked coordinates.
    pub fn new(level: u8, index: u64, width: u16) -> Result<TileCoord, TileError> {
        if level > MAX_LEVEL || width == 0 || u64::from(width) > TILE_WIDTH {
            return Err(TileError::OutOfRange);
        }
        Ok(TileCoord { level, index, width })
    }

    /// Whether the tile is full (immutable, cacheable forever).
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// The hash tile's path.
    pub fn tile_path(&self) -> String {
        format!("tile/{}/{}{}", self.level, index_path(self.index), self.partial_suffix())
    }

    /// The entry bundle's path (level 0 coordinates).
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}{}", index_path(self.index), self.partial_suffix())
    }

    fn partial_suffix(&self) -> String {
        if self.is_full() { String::new() } else { format!(".p/{}", self.width) }
    }

    fn from_tlog(tile: &tlog_tiles::Tile) -> Option<TileCoord> {
        TileCoord::new(tile.level(), tile.level_index(), u16::try_from(tile.width()).ok()?).ok()
    }
}

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// A hash tile.
    Hashes(TileCoord),
    /// An entry bundle.
    Entries(TileCoord),
}

impl TilePath {
    /// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, canonical forms only.
    pub fn parse(path: &str) -> Result<TilePath, TileError> {
        let bad = || TileError::BadPath(path.to_owned());
        let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
        let (kind, rest) = rest.split_once('/').ok_or_else(bad)?;
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let width: u16 = super::parse_size(width).and_then(|w| u16::try_from(w).ok()).ok_or_else(bad)?;
                if width == 0 || u64::from(width) >= TILE_WIDTH {
                    return Err(bad());
                }
                (index, width)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let index = parse_index_path(index_part).ok_or_else(bad)?;
        if kind == "entries" {
            return Ok(TilePath::Entries(TileCoord::new(0, index, width)?));
        }
        let level = super::parse_size(kind).and_then(|l| u8::try_from(l).ok()).ok_or_else(bad)?;
        Ok(TilePath::Hashes(TileCoord::new(level, index, width).map_err(|_| bad())?))
    }

    /// The path text.
    pub fn to_path(&self) -> String {
        match self {
            TilePath::Hashes(coord) => coord.tile_path(),
            TilePath::Entries(coord) => coord.entries_path(),
        }
    }
}

/// `N` in groups of three digits, all but the last prefixed with `x`.
fn index_path(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn parse_index_path(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.split('/').collect();
    let (last, prefix) = parts.split_last()?;
    let mut index: u64 = 0;
    for (i, part) in prefix.iter().enumerate() {
        let digits = part.strip_prefix('x')?;
        // No leading zero group: one index, one path.
        if i == 0 && digits == "000" {
            return None;
        }
        index = index.checked_mul(1000)?.checked_add(three_digits(digits)?)?;
    }
    index.checked_mul(1000)?.checked_add(three_digits(last)?)
}

fn three_digits(text: &str) -> Option<u64> {
    (text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// The hash tiles a tree of `size` leaves publishes, partial ones included (`size` 0 has none).
pub fn tiles_for_size(size: u64) -> Vec<TileCoord> {
    tiles_to_publish(0, size)
}

/// The hash tiles that change when the tree grows from `old` to `new` leaves.
pub fn tiles_to_publish(old: u64, new: u64) -> Vec<TileCoord> {
    if new <= old {
        return Vec::new();
    }
    tlog_tiles::Tile::new_tiles(TILE_HEIGHT, old, new).iter().filter_map(TileCoord::from_tlog).collect()
}

/// The entry bundles that change when the tree grows from `old` to `new` leaves.
pub fn bundles_to_publish(old: u64, new: u64) -> Vec<TileCoord> {
    if new <= old {
        return Vec::new();
    }
    let first = old / TILE_WIDTH;
    let last = (new - 1) / TILE_WIDTH;
    (first..=last)
        .map(|index| {
            let width = (new - index * TILE_WIDTH).min(TILE_WIDTH) as u16;
            TileCoord { level: 0, index, width }
        })
        .collect()
}

/// The content of a hash tile, from the log's stored hashes.
pub fn tile_data(coord: TileCoord, reader: &impl HashReader) -> Result<Vec<u8>, TileError> {
    let start = coord.index.checked_mul(TILE_WIDTH).ok_or(TileError::OutOfRange)?;
    let level = TILE_HEIGHT * coord.level;
    let indexes: Vec<u64> = (0..u64::from(coord.width)).map(|i| stored_hash_index(level, start + i)).collect();
    let hashes = reader.read_hashes(&indexes).map_err(|e| MerkleError::Store(e.to_string()))?;
    if hashes.len() != indexes.len() {
        return Err(MerkleError::Store("short read".into()).into());
    }
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// Encodes entries as a bundle.
pub fn encode_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, TileError> {
    let mut bundle = Vec::new();
    for entry in entries {
        let length = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLong(entry.len()))?;
        bundle.extend_from_slice(&length.to_be_bytes());
        bundle.extend_from_slice(entry);
    }
    Ok(bundle)
}

/// Decodes a bundle of `width` entries.
pub fn decode_bundle(bundle: &[u8], width: u16) -> Result<Vec<Vec<u8>>, TileError> {
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let (length, tail) = rest.split_first_chunk::<2>().ok_or(TileError::TruncatedBundle)?;
        let length = usize::from(u16::from_be_bytes(*length));
        if tail.len() < length {
            return Err(TileError::TruncatedBundle);
        }
        entries.push(tail[..length].to_vec());
        rest = &tail[length..];
    }
    if entries.len() as u64 != u64::from(width) {
        return Err(TileError::BundleWidth { expected: u64::from(width), found: entries.len() as u64 });
    }
    Ok(entries)
}

/// Hash tiles downloaded by a reader, keyed by coordinates. Not trusted by themselves: they
/// are authenticated against a checkpoint's root by the proofs built from them.
#[derive(Debug, Clone, Default)]
pub struct Tiles {
    tiles: BTreeMap<(u8, u64, u16), Vec<u8>>,
}

impl Tiles {
    /// No tiles yet.
    pub fn new() -> Tiles {
        Tiles::default()
    }

    /// Adds a downloaded tile, checking its length.
    pub fn insert(&mut self, coord: TileCoord, data: Vec<u8>) -> Result<(), TileError> {
        let expected = usize::from(coord.width) * 32;
        if data.len() != expected {
            return Err(TileError::TileLength { path: coord.tile_path(), expected, found: data.len() });
        }
        self.tiles.insert((coord.level, coord.index, coord.width), data);
        Ok(())
    }

    /// The inclusion proof of leaf `index` (hash `leaf`) in the tree of `size` leaves and root
    /// `root`, read from these tiles and verified against `root`: a proof returned holds for that
    /// checkpoint whatever the tiles held. A missing or wrong tile is an error.
    pub fn inclusion_proof(&self, size: u64, root: Hash, index: u64, leaf: Hash) -> Result<InclusionProof, TileError> {
        let proof = prove_inclusion(size, index, &self.reader(size, root))?;
        verify_inclusion(&proof, size, root, index, leaf)?;
        Ok(proof)
    }

    /// The consistency proof from the tree of `old` leaves (root `old_root`) to the tree of `size`
    /// leaves (root `root`), read from these tiles and verified against both roots.
    pub fn consistency_proof(
        &self,
        size: u64,
        root: Hash,
        old: u64,
        old_root: Hash,
    ) -> Result<ConsistencyProof, TileError> {
        let proof = prove_consistency(size, old, &self.reader(size, root))?;
        verify_consistency(&proof, old, old_root, size, root)?;
        Ok(proof)
    }

    /// `tlog_tiles`'s reader of tiles for a tree. It checks tiles against the root as it reads
    /// them, but not all of them: it authenticates the tiles it fetched for the requested hashes
    /// starting at the position `len(stx)` in its list, while the list holds the root's tiles
    /// deduplicated (fewer than `stx`), so some tiles are used unchecked (a leaf tile altered in a
    /// tree of 1,000 leaves went through; `tests/tlog_merkle.rs`). The proofs built from it are
    /// therefore always verified against the root before they are returned.
    fn reader(&self, size: u64, root: Hash) -> impl HashReader + '_ {
        Authenticated { reader: tlog_tiles::TileHashReader::new(size, root, self) }
    }
}

impl tlog_tiles::TileReader for Tiles {
    fn height(&self) -> u8 {
        TILE_HEIGHT
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|tile| {
                let width = u16::try_from(tile.width()).map_err(|_| tlog_tiles::Error::InvalidTile)?;
                self.tiles
                    .get(&(tile.level(), tile.level_index(), width))
                    .cloned()
                    .ok_or(tlog_tiles::Error::InvalidTile)
            })
            .collect()
    }

    fn save_tiles(&self, _tiles: &[tlog_tiles::Tile], _data: &[Vec<u8>]) {}
}

struct Authenticated<'a> {
    reader: tlog_tiles::TileHashReader<'a>,
}

impl HashReader for Authenticated<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        self.reader.read_hashes(indexes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_the_specification_paths() {
        let coord = TileCoord::new(0, 5_006_007, 256).unwrap();
        assert_eq!(coord.tile_path(), "tile/0/x005/x006/007");
        assert_eq!(TileCoord::new(1, 5_006_007, 8).unwrap().tile_path(), "tile/1/x005/x006/007.p/8");
        assert_eq!(TileCoord::new(0, 5, 3).unwrap().entries_path(), "tile/entries/005.p/3");
        for path in ["tile/0/x005/x006/007", "tile/1/x005/x006/007.p/8", "tile/entries/005.p/3", "tile/entries/000"] {
            assert_eq!(TilePath::parse(path).unwrap().to_path(), path);
        }
        for bad in [
            "tile/0/1",
            "tile/0/x000/001",
            "tile/0/001.p/256",
            "tile/0/001.p/0",
            "tile/0/001.p/07",
            "tile/8/001",
            "tile/00/001",
            "tile/0/0001",
            "tile/data/001",
            "tiles/0/001",
            "tile/0/x001",
            "tile/0/001/",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bundles_round_trip_and_refuse_truncation() {
        let entries: Vec<&[u8]> = vec![b"one", b"", b"three"];
        let bundle = encode_bundle(entries.clone()).unwrap();
        assert_eq!(decode_bundle(&bundle, 3).unwrap(), entries);
        assert_eq!(decode_bundle(&bundle[..bundle.len() - 1], 3), Err(TileError::TruncatedBundle));
        assert_eq!(decode_bundle(&bundle, 4), Err(TileError::BundleWidth { expected: 4, found: 3 }));
        assert_eq!(encode_bundle([&[0u8; 65536][..]]), Err(TileError::EntryTooLong(65536)));
    }

    #[test]
    fn lists_bundles_and_tiles_to_publish() {
        assert_eq!(
            bundles_to_publish(200, 600),
            vec![
                TileCoord { level: 0, index: 0, width: 256 },
                TileCoord { level: 0, index: 1, width: 256 },
                TileCoord { level: 0, index: 2, width: 88 }
            ]
        );
        assert!(bundles_to_publish(5, 5).is_empty());
        let tiles = tiles_for_size(70_000);
        assert!(tiles.contains(&TileCoord { level: 0, index: 273, width: 112 }));
        assert!(tiles.contains(&TileCoord { level: 1, index: 1, width: 17 }));
        assert!(tiles.contains(&TileCoord { level: 2, index: 0, width: 1 }));
    }
}
