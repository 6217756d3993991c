//! The settings' storage panel: whether the browser keeps the vault for good, and the space used.

use yew::prelude::*;

use crate::i18n::{Text, fill};
use crate::services::vault::{self, StorageStatus};
use crate::state::use_app;

/// `bytes` in MiB with one decimal, rounded half to even like `{:.1}` on the exact quotient, but in
/// integers: float formatting would add 14 kB (core's float-to-decimal code and tables) to the wasm.
fn mebibytes(bytes: u64) -> String {
    const MIB: u128 = 1_048_576;
    let tenths = u128::from(bytes) * 10;
    let (mut rounded, rest) = (tenths / MIB, tenths % MIB);
    if rest > MIB / 2 || (rest == MIB / 2 && rounded % 2 == 1) {
        rounded += 1;
    }
    format!("{}.{}", rounded / 10, rounded % 10)
}

/// What the browser says of the wallet's storage, read when the panel opens.
#[function_component(StoragePanel)]
pub fn storage_panel() -> Html {
    let l = use_app().lang;
    let storage = use_state(|| None::<StorageStatus>);
    {
        let storage = storage.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move { storage.set(Some(vault::storage_status().await)) });
        });
    }
    html! {
        <section class="panel" aria-labelledby="set-storage">
            <h2 id="set-storage">{ l.t(Text::SetStorage) }</h2>
            { match &*storage {
                None => html! { <p>{ l.t(Text::Loading) }</p> },
                Some(s) => html! {
                    <dl>
                        <dt>{ l.t(Text::StoragePersistence) }</dt>
                        <dd>{ l.t(if s.persisted { Text::StoragePersistent } else { Text::StorageEvictable }) }</dd>
                        if let (Some(usage), Some(quota)) = (s.usage, s.quota) {
                            <dt>{ l.t(Text::StorageUsage) }</dt>
                            <dd>{ l.fill(&fill::StorageUsageValue { used: &mebibytes(usage), quota: &mebibytes(quota) }) }</dd>
                        }
                    </dl>
                },
            } }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::mebibytes;

    /// The integer rounding must print exactly what float formatting printed before it.
    #[test]
    fn mebibytes_match_float_formatting() {
        let float = |bytes: u64| format!("{:.1}", bytes as f64 / 1_048_576.0);
        let mut samples: Vec<u64> = (0..100_000).collect();
        for k in 0..2_000u64 {
            // Around each tenth of a MiB, and at each half tenth (an exact tie when the division is exact,
            // where rounding goes to even).
            let tenth = k * 1_048_576 / 10;
            samples.extend([tenth.saturating_sub(1), tenth, tenth + 1, (2 * k + 1) * 524_288 / 10]);
        }
        samples.extend([1 << 30, 5 << 30, (1 << 40) + 52_429, u64::from(u32::MAX), 1 << 52]);
        for bytes in samples {
            assert_eq!(mebibytes(bytes), float(bytes), "{bytes} bytes");
        }
        assert_eq!(mebibytes(1_572_864), "1.5");
        assert_eq!(mebibytes(104_857), "0.1");
    }
}
