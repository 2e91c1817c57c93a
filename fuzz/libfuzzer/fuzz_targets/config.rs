//! libFuzzer entry point of the `config` target (see `spate_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (spate_fuzz::target("config").expect("a known target"))(data);
});
