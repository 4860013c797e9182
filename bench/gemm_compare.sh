#!/usr/bin/env bash
# Measures our GEMM (JMH) and numpy on OpenBLAS on the same shapes in one sitting, with 1 and
# 2 threads, and writes bench/results/gemm.md.
#
# Usage: bench/gemm_compare.sh [extra JMH options]
# Needs root (or the packages already installed) for libopenblas0-pthread, python3-numpy and
# python3-threadpoolctl. Takes about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3
RESULTS=bench/results
JSON="$RESULTS/gemm-jmh.json"
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
JAVA_FLAGS=(--add-modules jdk.incubator.vector)
LANES=$(java "${JAVA_FLAGS[@]}" -cp bench/target/benchmarks.jar dev.transact4j.bench.VectorInfo 2>/dev/null)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# Another JMH run on this machine holds /tmp/jmh.lock: wait for it rather than run beside it.
rm -f "$JSON"
for attempt in $(seq 1 30); do
  status=0
  java "${JAVA_FLAGS[@]}" -jar bench/target/benchmarks.jar 'GemmBench|MachineBench' \
    -wi 2 -w 500ms -i 3 -r 500ms -rf json -rff "$JSON" "$@" >"$RESULTS/gemm-jmh.log" 2>&1 || status=$?
  if grep -q 'Unable to acquire the JMH lock' "$RESULTS/gemm-jmh.log"; then
    echo "Another JMH run holds the lock; retrying in 20 s (attempt $attempt)"
    sleep 20
    continue
  fi
  [ "$status" -eq 0 ] || { echo "JMH failed with status $status; see $RESULTS/gemm-jmh.log" >&2; exit 1; }
  break
done
[ -s "$JSON" ] || { echo "JMH wrote no results to $JSON; see $RESULTS/gemm-jmh.log" >&2; exit 1; }

"$PYTHON" bench/gemm_compare.py --jmh "$JSON" --lanes "$LANES" --load-before "$LOAD_BEFORE" \
  --out "$RESULTS/gemm.md"
echo "Wrote $RESULTS/gemm.md"
