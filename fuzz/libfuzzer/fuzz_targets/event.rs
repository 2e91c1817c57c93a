//! libFuzzer entry point of the `event` target (see `spate_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (spate_fuzz::target("event").expect("a known target"))(data);
});
