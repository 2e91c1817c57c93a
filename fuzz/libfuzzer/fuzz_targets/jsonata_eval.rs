//! libFuzzer entry point of the `jsonata_eval` target (see `spate_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (spate_fuzz::target("jsonata_eval").expect("a known target"))(data);
});
