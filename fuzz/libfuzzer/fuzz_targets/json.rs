//! libFuzzer entry point of the `json` target (see `spate_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (spate_fuzz::target("json").expect("a known target"))(data);
});
