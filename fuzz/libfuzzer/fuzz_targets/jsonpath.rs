//! libFuzzer entry point of the `jsonpath` target (see `spate_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (spate_fuzz::target("jsonpath").expect("a known target"))(data);
});
