//! libFuzzer entry point of the `asl` target (see `spate_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (spate_fuzz::target("asl").expect("a known target"))(data);
});
