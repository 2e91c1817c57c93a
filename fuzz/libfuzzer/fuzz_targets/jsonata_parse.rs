//! libFuzzer entry point of the `jsonata_parse` target (see `spate_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (spate_fuzz::target("jsonata_parse").expect("a known target"))(data);
});
