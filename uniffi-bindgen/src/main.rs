//! `uniffi-bindgen`: generates the Kotlin, Swift and Python bindings of giayto-bindings from
//! the built library (`generate --library target/debug/libgiayto_bindings.so`), with the
//! same UniFFI version as the library, so the generated code matches its scaffolding.

fn main() {
    uniffi::uniffi_bindgen_main()
}
