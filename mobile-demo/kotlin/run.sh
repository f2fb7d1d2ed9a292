#!/usr/bin/env bash
# Builds the giayto library and its Kotlin bindings, compiles the console phone and runs it
# with the given arguments (see `run.sh` with no arguments for the commands).
# Usage: mobile-demo/kotlin/run.sh [--release] [--home DIR] wallet|verifier|types ...
# --release loads the optimized library (as an app ships it; use it for `bench`, whose Rust
# baseline, bindings/examples/verify_bench.rs, runs with --release too).
# Needs what scripts/test-bindings.sh installs (JNA, kotlinx-coroutines, a JDK, kotlinc under
# target/tools).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
profile=debug
cargo_profile=()
if [ "${1:-}" = "--release" ]; then
  profile=release
  cargo_profile=(--release)
  shift
fi
target_dir=${CARGO_TARGET_DIR:-target}
kotlin_home=$(ls -d "$target_dir"/tools/kotlin-compiler-*/package 2>/dev/null | tail -1)
[ -x "$kotlin_home/bin/kotlinc" ] || { echo "kotlinc missing: run scripts/test-bindings.sh once" >&2; exit 1; }
coroutines=/usr/share/java/kotlinx-coroutines-core.jar:/usr/share/java/atomicfu.jar
[ -f /usr/share/java/kotlinx-coroutines-core.jar ] || { echo "kotlinx-coroutines missing: run scripts/test-bindings.sh once" >&2; exit 1; }
out=$target_dir/mobile-demo-kotlin-$profile
lib=$target_dir/$profile/libgiayto_bindings.so
cargo build --quiet --locked "${cargo_profile[@]}" -p giayto-bindings -p uniffi-bindgen >&2
# Rebuild the jars only when the library or the demo sources changed.
if [ ! -f "$out/app.jar" ] || [ -n "$(find "$lib" mobile-demo/kotlin/src -newer "$out/app.jar" 2>/dev/null)" ]; then
  rm -rf "$out" && mkdir -p "$out"
  "$target_dir/$profile/uniffi-bindgen" generate --no-format --library "$lib" --language kotlin --out-dir "$out/gen" >/dev/null
  echo "compiling the demo (kotlinc, about a minute)…" >&2
  "$kotlin_home/bin/kotlinc" -nowarn -classpath "/usr/share/java/jna.jar:$coroutines" -d "$out/bindings.jar" \
    "$out/gen/vn/giayto/giayto_bindings.kt" bindings/tests/kotlin/compat/*.kt 2>&1 | grep -v '^warning:' >&2 || true
  "$kotlin_home/bin/kotlinc" -nowarn -classpath "/usr/share/java/jna.jar:$coroutines:$out/bindings.jar" -d "$out/app.jar" \
    mobile-demo/kotlin/src/*.kt 2>&1 | grep -v '^warning:' >&2 || true
  [ -f "$out/app.jar" ] || { echo "kotlinc failed" >&2; exit 1; }
fi
exec java -Djna.library.path="$(cd "$target_dir/$profile" && pwd)" \
  -cp "/usr/share/java/jna.jar:$coroutines:$out/bindings.jar:$out/app.jar:$kotlin_home/lib/kotlin-stdlib.jar" \
  vn.giayto.demo.MainKt "$@"
