//! Starts the wallet in the page; everything else lives in the library.

fn main() {
    souverain_wallet::start();
}
