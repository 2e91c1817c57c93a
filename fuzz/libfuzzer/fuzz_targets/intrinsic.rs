//! libFuzzer entry point of the `intrinsic` target (see `spate_fuzz`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (spate_fuzz::target("intrinsic").expect("a known target"))(data);
});
