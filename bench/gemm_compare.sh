#!/usr/bin/env bash
# Measures our GEMM (JMH) and numpy on OpenBLAS on the same shapes in one sitting, with 1 and
# 2 threads, and writes bench/results/gemm.md.
#
# Usage: [GEMM_ROUNDS=3] bench/gemm_compare.sh
# Needs root (or the packages already installed) for libopenblas0-pthread, python3-numpy and
# python3-threadpoolctl. Takes about 11 minutes; each case runs JMH and numpy back to back, in
# GEMM_ROUNDS rounds that alternate which side goes first.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3
RESULTS=bench/results
mkdir -p "$RESULTS"

# numpy must run on OpenBLAS: Debian's python3-numpy alone links the reference BLAS.
missing=()
for pkg in libopenblas0-pthread python3-numpy python3-threadpoolctl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi
"$PYTHON" bench/gemm_compare.py --check-blas

mvn -B -ntp -q -pl bench -am -DskipTests package
# the options bin/transact runs with: the Vector API module and, where offered, huge pages
JAVA_OPTIONS=$(bin/jvm-options)
read -r -a JAVA_FLAGS <<<"$JAVA_OPTIONS"
LANES=$(java "${JAVA_FLAGS[@]}" -cp bench/target/benchmarks.jar dev.transact4j.bench.VectorInfo 2>/dev/null)
"$PYTHON" bench/gemm_compare.py --jar bench/target/benchmarks.jar --lanes "$LANES" --jvm-options "$JAVA_OPTIONS" \
  --log "$RESULTS/gemm-jmh.log" --out "$RESULTS/gemm.md" --rounds "${GEMM_ROUNDS:-3}"
echo "Wrote $RESULTS/gemm.md"
