//! A QR code drawn as one SVG path, so that it stays sharp at any size and needs no image.
//!
//! The `qrcode` crate only computes the module matrix; drawing it here (one path, dark runs
//! merged per row) keeps its SVG renderer and its string templates out. This module runs in the
//! worker, not in the wallet's first load (the matrix code and its tables weigh about 12 kB
//! served): the wallet draws the `<svg>` with its title and label, and the worker's answer gives
//! its size and path when the citizen opens "show to an agent" (`www/lazy.js`). The code is black
//! on white in every theme: scanners expect dark modules on a light ground.

/// The quiet zone around the code, in modules (ISO/IEC 18004 asks for four).
pub const QUIET_ZONE: usize = 4;

/// The SVG path drawing the dark modules of a `width` × `width` matrix (`dark`, row by row), in
/// module units, shifted by the quiet zone: one `M x y h n v1 h -n z` rectangle per horizontal
/// run of dark modules. Cells missing from a short matrix count as light.
pub fn matrix_path(width: usize, dark: &[bool]) -> String {
    let mut path = String::new();
    if width == 0 {
        return path;
    }
    for (y, row) in dark.chunks(width).take(width).enumerate() {
        let mut x = 0;
        while x < row.len() {
            if !row.get(x).copied().unwrap_or(false) {
                x += 1;
                continue;
            }
            let start = x;
            while row.get(x).copied().unwrap_or(false) {
                x += 1;
            }
            let run = x - start;
            path.push_str(&format!("M{} {}h{run}v1h-{run}z", start + QUIET_ZONE, y + QUIET_ZONE));
        }
    }
    path
}

/// The module matrix of `data` in byte mode, in the smallest version that holds it at error
/// correction level M (15 % of the code may be damaged). Byte mode only, rather than the crate's
/// segment optimiser: it spares the worker that code, and costs at most a version on a URL.
fn matrix(data: &[u8]) -> Option<(usize, Vec<bool>)> {
    let ec = qrcode::EcLevel::M;
    (1..=40).find_map(|v| {
        let mut bits = qrcode::bits::Bits::new(qrcode::Version::Normal(v));
        bits.push_byte_data(data).ok()?;
        bits.push_terminator(ec).ok()?;
        let code = qrcode::QrCode::with_bits(bits, ec).ok()?;
        let dark = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        Some((code.width(), dark))
    })
}

/// The side of the drawing, quiet zone included, and its path; `None` when `data` does not fit
/// in a QR code.
pub fn drawing(data: &str) -> Option<(usize, String)> {
    let (width, dark) = matrix(data.as_bytes())?;
    Some((width + 2 * QUIET_ZONE, matrix_path(width, &dark)))
}

/// Properties of [`QrCode`].
#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the path back into a matrix of the drawing's size (quiet zone included), checking
    /// that every command is one of the rectangles `matrix_path` writes.
    fn decode(path: &str, side: usize) -> Vec<bool> {
        let mut cells = vec![false; side * side];
        for rect in path.split('z').filter(|r| !r.is_empty()) {
            let rest = rect.strip_prefix('M').unwrap();
            let (x, rest) = rest.split_once(' ').unwrap();
            let (y, rest) = rest.split_once('h').unwrap();
            let (run, rest) = rest.split_once("v1h-").unwrap();
            assert_eq!(rest, run, "the rectangle closes back to its start");
            let (x, y, run): (usize, usize, usize) = (x.parse().unwrap(), y.parse().unwrap(), run.parse().unwrap());
            assert!(run > 0);
            for cx in x..x + run {
                assert!(!cells[y * side + cx], "modules are drawn once");
                cells[y * side + cx] = true;
            }
        }
        cells
    }

    #[test]
    fn a_small_matrix_is_drawn_as_merged_runs() {
        #[rustfmt::skip]
        let m = [
            true, true, false,
            false, true, true,
            true, false, true,
        ];
        assert_eq!(matrix_path(3, &m), "M4 4h2v1h-2zM5 5h2v1h-2zM4 6h1v1h-1zM6 6h1v1h-1z");
        assert_eq!(matrix_path(0, &m), "");
        assert_eq!(matrix_path(3, &[false; 9]), "");
    }

    #[test]
    fn a_real_code_decodes_back_to_its_matrix_inside_the_quiet_zone() {
        let url = "http://127.0.0.1:4321/api/consents/urn%3Auuid%3Aabc/check?purpose=https%3A%2F%2Fw3id.org%2Fdpv%23X";
        let (width, matrix) = matrix(url.as_bytes()).unwrap();
        // The crate's own encoder agrees on the size (byte mode is what it picks for a URL).
        assert_eq!(width, qrcode::QrCode::new(url.as_bytes()).unwrap().width());
        let (side, path) = drawing(url).unwrap();
        assert_eq!(side, width + 2 * QUIET_ZONE);
        let drawn = decode(&path, side);
        assert_eq!(drawn.iter().filter(|d| **d).count(), matrix.iter().filter(|d| **d).count());
        for y in 0..side {
            for x in 0..side {
                let inside =
                    (QUIET_ZONE..QUIET_ZONE + width).contains(&x) && (QUIET_ZONE..QUIET_ZONE + width).contains(&y);
                let expected = inside && matrix[(y - QUIET_ZONE) * width + (x - QUIET_ZONE)];
                assert_eq!(drawn[y * side + x], expected, "module ({x}, {y})");
            }
        }
    }

    #[test]
    fn data_too_long_for_a_qr_code_draws_nothing() {
        assert!(drawing(&"x".repeat(5000)).is_none());
    }
}
