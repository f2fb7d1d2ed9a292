#!/usr/bin/env bash
# Builds giayto-bindings, generates its Kotlin bindings with the workspace's own
# uniffi-bindgen and compiles and runs the Kotlin test program on the JVM (kotlinx-coroutines),
# builds the Python wheel with maturin, installs it with pip in a venv and runs the asyncio
# Python test with it, all against a running giayto-server; and checks that the Swift
# bindings kept in mobile-demo/swift are current. Installs what a fresh Debian machine lacks
# (JNA, kotlinx-coroutines, a JDK, kotlinc from the npm package kotlin-compiler, maturin from
# PyPI, cached under target/tools).
# Usage: scripts/test-bindings.sh                 run everything
#        scripts/test-bindings.sh --update-swift  regenerate the Swift kept in mobile-demo/swift
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

kotlin_version=2.4.20
target_dir=${CARGO_TARGET_DIR:-$root/target}
tools=$target_dir/tools
work=$target_dir/bindings-test
lib_dir=$target_dir/debug
lib=$lib_dir/libgiayto_bindings.so
swift_dir=$root/mobile-demo/swift

# --- tools -------------------------------------------------------------------------------
need_apt=()
[ -f /usr/share/java/jna.jar ] || need_apt+=(libjna-java)
# kotlinx-coroutines 1.0.1 is the newest any registry here offers; see bindings/README.md.
[ -f /usr/share/java/kotlinx-coroutines-core.jar ] || need_apt+=(libkotlinx-coroutines-java)
[ -f /usr/share/java/atomicfu.jar ] || need_apt+=(libkotlinx-atomicfu-java)
command -v javac >/dev/null || need_apt+=(default-jdk-headless)
command -v npm >/dev/null || need_apt+=(npm)
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
command -v curl >/dev/null || need_apt+=(curl)
command -v openssl >/dev/null || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing packages: ${need_apt[*]} (run as root to install)" >&2; exit 1
  fi
fi
jna=/usr/share/java/jna.jar
coroutines=/usr/share/java/kotlinx-coroutines-core.jar:/usr/share/java/atomicfu.jar

kotlin_home=$tools/kotlin-compiler-$kotlin_version/package
if [ ! -x "$kotlin_home/bin/kotlinc" ]; then
  echo "== installing kotlinc $kotlin_version from npm (kotlin-compiler)"
  mkdir -p "$tools"
  (cd "$tools" && npm pack --silent "kotlin-compiler@$kotlin_version" >/dev/null)
  mkdir -p "$tools/kotlin-compiler-$kotlin_version"
  tar xzf "$tools/kotlin-compiler-$kotlin_version.tgz" -C "$tools/kotlin-compiler-$kotlin_version"
  rm -f "$tools/kotlin-compiler-$kotlin_version.tgz"
fi
kotlinc=$kotlin_home/bin/kotlinc
kotlin_stdlib=$kotlin_home/lib/kotlin-stdlib.jar

maturin_version=1.16.0
venv=$tools/python-venv
if [ ! -x "$venv/bin/maturin" ] || [ "$("$venv/bin/maturin" --version)" != "maturin $maturin_version" ]; then
  echo "== installing maturin $maturin_version from PyPI in $venv"
  rm -rf "$venv" && python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "maturin==$maturin_version"
fi

# --- build and generate ------------------------------------------------------------------
echo "== cargo build (bindings, uniffi-bindgen, server)"
cargo build --locked -p giayto-bindings -p uniffi-bindgen -p giayto-server

rm -rf "$work" && mkdir -p "$work"
bindgen() { "$target_dir/debug/uniffi-bindgen" generate --no-format --library "$lib" "$@"; }
echo "== generating Kotlin"
bindgen --language kotlin --out-dir "$work/gen" >/dev/null

bindgen --language swift --out-dir "$work/swift" >/dev/null
# generated file : where mobile-demo/swift keeps it
swift_files=("Giayto.swift:Sources/Giayto/Giayto.swift"
             "GiaytoFFI.h:Sources/GiaytoFFI/include/GiaytoFFI.h"
             "GiaytoFFI.modulemap:Sources/GiaytoFFI/include/module.modulemap")
if [ "${1:-}" = --update-swift ]; then
  for pair in "${swift_files[@]}"; do
    mkdir -p "$(dirname "$swift_dir/${pair#*:}")"
    cp "$work/swift/${pair%%:*}" "$swift_dir/${pair#*:}"
  done
  echo "updated mobile-demo/swift/Sources"; exit 0
fi
echo "== checking the Swift bindings in mobile-demo/swift are current"
swift_stale=0
for pair in "${swift_files[@]}"; do
  generated=$work/swift/${pair%%:*}; kept=$swift_dir/${pair#*:}
  if ! diff -q "$generated" "$kept" >/dev/null 2>&1; then
    echo "stale: mobile-demo/swift/${pair#*:} differs from freshly generated ${pair%%:*}" >&2
    swift_stale=1
  fi
done
if [ "$swift_stale" != 0 ]; then
  echo "run scripts/test-bindings.sh --update-swift and commit the result" >&2
  exit 1
fi
echo "swift: bindings current"

# --- a running giayto-server in demo mode, on a free loopback port -------------------------
server_dir=$work/server
mkdir -p "$server_dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export GIAYTO_SERVER=http://127.0.0.1:$port
GIAYTO_BIND=127.0.0.1:$port GIAYTO_PUBLIC_URL=$GIAYTO_SERVER GIAYTO_DEMO=true \
  GIAYTO_DATABASE_URL="sqlite://$server_dir/giayto.db?mode=rwc" \
  GIAYTO_MASTER_KEY_FILE=$server_dir/master.key \
  "$target_dir/debug/giayto-server" >"$server_dir/stdout" 2>"$server_dir/stderr" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$GIAYTO_SERVER/readyz" >/dev/null 2>&1 && grep -q '^  police ' "$server_dir/stdout" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$server_dir/stderr" >&2; echo "giayto-server exited" >&2; exit 1; }
  sleep 0.2
done
police_key=$(awk '$1 == "police" { print $2 }' "$server_dir/stdout")
[ -n "$police_key" ] || { echo "no police API key in the server's output" >&2; exit 1; }

# Publishes the fixture licence as document $1; prints "offer-uri tx-code".
# Each language's test takes two: one to receive, one to receive and cancel.
publish_licence() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["document_id"]=sys.argv[2]; print(json.dumps(d))' \
    bindings/tests/fixtures/driving-licence.json "$1" |
  curl -fsS -X POST "$GIAYTO_SERVER/api/v1/documents" -H "Authorization: Bearer $police_key" \
    -H 'Content-Type: application/json' --data-binary @- |
  python3 -c 'import json,sys; o=json.load(sys.stdin)["offer"]; print(o["offer_uri_by_reference"], o["tx_code"])'
}

# --- Kotlin ------------------------------------------------------------------------------
echo "== compiling the generated Kotlin, the Kotlin demo phone and the Kotlin test (kotlinc $kotlin_version)"
# compat/ declares the one coroutines 1.5 marker the generated code names (see its header).
"$kotlinc" -nowarn -classpath "$jna:$coroutines" -d "$work/bindings.jar" \
  "$work/gen/vn/giayto/giayto_bindings.kt" bindings/tests/kotlin/compat/*.kt 2>&1 | grep -v '^warning:' || true
[ -f "$work/bindings.jar" ] || { echo "kotlinc failed on the generated bindings" >&2; exit 1; }
"$kotlinc" -nowarn -classpath "$jna:$coroutines:$work/bindings.jar" -d "$work/test.jar" \
  mobile-demo/kotlin/src/Platform.kt mobile-demo/kotlin/src/Main.kt bindings/tests/kotlin/BindingsTest.kt bindings/tests/kotlin/TestSupport.kt
echo "== running the Kotlin test"
read -r GIAYTO_OFFER_URI GIAYTO_TX_CODE < <(publish_licence "kotlin-test-$port")
read -r GIAYTO_CANCEL_OFFER_URI GIAYTO_CANCEL_TX_CODE < <(publish_licence "kotlin-cancel-$port")
export GIAYTO_OFFER_URI GIAYTO_TX_CODE GIAYTO_CANCEL_OFFER_URI GIAYTO_CANCEL_TX_CODE
java -Djna.library.path="$lib_dir" \
  -cp "$jna:$coroutines:$work/bindings.jar:$work/test.jar:$kotlin_stdlib" BindingsTestKt

# --- Kotlin: purpose credentials (bindings/tests/kotlin/PurposeTest.kt) ---------------------
"$kotlinc" -nowarn -classpath "$jna:$coroutines:$work/bindings.jar" -d "$work/purpose-test.jar" \
  mobile-demo/kotlin/src/Platform.kt bindings/tests/kotlin/PurposeTest.kt bindings/tests/kotlin/TestSupport.kt
echo "== running the Kotlin purpose-credential test"
read -r GIAYTO_PURPOSE_OFFER_URI GIAYTO_PURPOSE_TX_CODE < <(publish_licence "kotlin-purposes-$port")
GIAYTO_PURPOSE_OFFER_URI=$GIAYTO_PURPOSE_OFFER_URI GIAYTO_PURPOSE_TX_CODE=$GIAYTO_PURPOSE_TX_CODE \
  java -Djna.library.path="$lib_dir" \
  -cp "$jna:$coroutines:$work/bindings.jar:$work/purpose-test.jar:$kotlin_stdlib" PurposeTestKt
# --- Kotlin: answering an OpenID4VP request (bindings/tests/kotlin/PresentationTest.kt) ---
echo "== OpenID4VP: a verifier registrar and a verifier (openssl), registered on the trust list"
vp=$work/openid4vp
mkdir -p "$vp"
openssl ecparam -name prime256v1 -genkey -noout -out "$vp/ca.key.pem"
openssl req -x509 -new -key "$vp/ca.key.pem" -subj "/CN=giayto test verifier registrar" -days 2 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" -out "$vp/ca.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$vp/verifier.key.pem"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=DNS:desk.benhvien.example\n' >"$vp/leaf.ext"
openssl req -new -key "$vp/verifier.key.pem" -subj "/CN=Bach Mai Hospital desk" -out "$vp/verifier.csr"
openssl x509 -req -in "$vp/verifier.csr" -CA "$vp/ca.pem" -CAkey "$vp/ca.key.pem" -CAcreateserial \
  -days 2 -extfile "$vp/leaf.ext" -out "$vp/verifier.pem" 2>/dev/null
vp_admin() {
  GIAYTO_PUBLIC_URL=$GIAYTO_SERVER GIAYTO_DEMO=false GIAYTO_DATABASE_URL="sqlite://$server_dir/giayto.db?mode=rwc" \
    GIAYTO_MASTER_KEY_FILE=$server_dir/master.key "$target_dir/debug/giayto-server" verifier "$@" >/dev/null
}
vp_admin anchor-add --cert "$vp/ca.pem"
vp_admin add --cert "$vp/verifier.pem" --name-vi "Bệnh viện Bạch Mai" --name-en "Bach Mai Hospital" \
  --may-request driving_licence=family_name,given_name
[ -d tests/interop/openid4vp/node_modules ] || (cd tests/interop/openid4vp && npm ci --silent --no-audit --no-fund)
echo "== the independent OpenID4VP verifier (npm) asks; the Kotlin wallet answers"
GIAYTO_VERIFIER_KEY=$vp/verifier.key.pem \
GIAYTO_VERIFIER_X5C=$(openssl x509 -in "$vp/verifier.pem" -outform DER | base64 -w0) \
GIAYTO_DCQL='{"credentials":[{"id":"licence","format":"dc+sd-jwt","meta":{"vct_values":["https://giayto.gov.vn/vct/driving_licence"]},"claims":[{"path":["family_name"]},{"path":["given_name"]}]}]}' \
  node tests/interop/openid4vp/verifier.mjs >"$vp/verifier.out" &
vp_pid=$!
for _ in $(seq 1 100); do [ -s "$vp/verifier.out" ] && break; sleep 0.2; done
GIAYTO_VP_REQUEST=$(head -1 "$vp/verifier.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["invocation"])')
read -r GIAYTO_OFFER_URI GIAYTO_TX_CODE < <(publish_licence "kotlin-vp-$port")
export GIAYTO_VP_REQUEST GIAYTO_OFFER_URI GIAYTO_TX_CODE
"$kotlinc" -nowarn -classpath "$jna:$coroutines:$work/bindings.jar" -d "$work/presentation-test.jar" \
  mobile-demo/kotlin/src/Platform.kt bindings/tests/kotlin/PresentationTest.kt bindings/tests/kotlin/TestSupport.kt
java -Djna.library.path="$lib_dir" \
  -cp "$jna:$coroutines:$work/bindings.jar:$work/presentation-test.jar:$kotlin_stdlib" PresentationTestKt
wait "$vp_pid" || { echo "the npm verifier refused the Kotlin wallet's answer: $(tail -1 "$vp/verifier.out")" >&2; exit 1; }
echo "npm verifier: $(tail -1 "$vp/verifier.out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("accepted" if r["accepted"] else r)')"
# --- Kotlin: the citizen account (issue 14) -----------------------------------------------
echo "== compiling and running the Kotlin account test"
"$kotlinc" -nowarn -classpath "$jna:$coroutines:$work/bindings.jar" -d "$work/account-test.jar" \
  mobile-demo/kotlin/src/Platform.kt bindings/tests/kotlin/AccountTest.kt bindings/tests/kotlin/TestSupport.kt
GIAYTO_POLICE_KEY=$police_key java -Djna.library.path="$lib_dir" \
  -cp "$jna:$coroutines:$work/bindings.jar:$work/account-test.jar:$kotlin_stdlib" AccountTestKt

# --- Python ------------------------------------------------------------------------------
echo "== building the Python wheel (maturin) and installing it in $venv"
"$venv/bin/maturin" build --quiet -m bindings/Cargo.toml --out "$work/wheels" >&2
"$venv/bin/pip" install --quiet --force-reinstall --no-deps "$work"/wheels/giayto-*.whl
echo "== running the Python test"
read -r GIAYTO_OFFER_URI GIAYTO_TX_CODE < <(publish_licence "python-test-$port")
read -r GIAYTO_CANCEL_OFFER_URI GIAYTO_CANCEL_TX_CODE < <(publish_licence "python-cancel-$port")
export GIAYTO_OFFER_URI GIAYTO_TX_CODE GIAYTO_CANCEL_OFFER_URI GIAYTO_CANCEL_TX_CODE
# From another directory, so `import giayto` can only find the installed package.
(cd "$work" && "$venv/bin/python" "$root/bindings/tests/python/test_bindings.py")

# --- Python: purpose credentials (bindings/tests/python/test_purposes.py) ------------------
echo "== running the Python purpose-credential test"
read -r GIAYTO_PURPOSE_OFFER_URI GIAYTO_PURPOSE_TX_CODE < <(publish_licence "python-purposes-$port")
(cd "$work" && GIAYTO_PURPOSE_OFFER_URI=$GIAYTO_PURPOSE_OFFER_URI GIAYTO_PURPOSE_TX_CODE=$GIAYTO_PURPOSE_TX_CODE \
  "$venv/bin/python" "$root/bindings/tests/python/test_purposes.py")
