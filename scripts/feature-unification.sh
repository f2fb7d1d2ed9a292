#!/usr/bin/env bash
# Checks that building giayto-server alone resolves every dependency with the features a
# whole-workspace build gives it, so `cargo build --release --workspace` followed by
# `cargo run --release -p giayto-server` rebuilds nothing (workspace-hack/ supplies the
# difference). Lists each crate whose features differ and exits 1; exit 0 when none does.
set -euo pipefail
cd "$(dirname "$0")/.."
features() {
  cargo tree "$@" -e no-dev -f '{p} {f}' --prefix none | sed 's/ (\*)$//' \
    | awk '{ key = $1 " " $2; f = "-"; i = 3; if ($3 == "(proc-macro)") { key = key " host"; i = 4 }
             if (NF >= i) f = $i; print key "\t" f }' \
    | sort -u
}
server=$(features -p giayto-server)
workspace=$(features --workspace)
# Crates both builds compile whose feature sets differ (each set compared whole).
diff_out=$(join -t $'\t' <(echo "$server" | awk -F'\t' '{a[$1] = a[$1] "|" $2} END {for (k in a) print k "\t" a[k]}' | sort) \
                         <(echo "$workspace" | awk -F'\t' '{a[$1] = a[$1] "|" $2} END {for (k in a) print k "\t" a[k]}' | sort) \
  | awk -F'\t' '{ n = split($2, s, "|"); m = split($3, w, "|"); delete seen; for (i = 2; i <= m; i++) seen[w[i]] = 1;
                  for (i = 2; i <= n; i++) if (!(s[i] in seen)) { print $1 ": server alone " $2 ", workspace " $3; break } }')
if [ -n "$diff_out" ]; then
  echo "features differ between -p giayto-server and --workspace (add them to workspace-hack/Cargo.toml):" >&2
  echo "$diff_out" >&2
  exit 1
fi
echo "giayto-server alone resolves the workspace's features"
