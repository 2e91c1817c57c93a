//! libFuzzer entry point of the `run` target (see `spate_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (spate_fuzz::target("run").expect("a known target"))(data);
});
