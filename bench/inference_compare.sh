#!/usr/bin/env bash
# Measures prefill and greedy decode tokens/s of our LlamaForCausalLM (InferenceBench) and of a
# plain-PyTorch Llama (bench/torch_inference.py) on the tiny and small configurations, with 1 and
# 2 threads, in one sitting, and writes bench/results/inference.md.
#
# Usage: [INFERENCE_ROUNDS=3] bench/inference_compare.sh [extra InferenceBench and torch_inference.py options,
#        such as --repeats 5 or --configs tiny]
# Needs root (or the packages already installed) for python3-torch and libopenblas0-openmp.
# Takes about 3 minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3
RESULTS=bench/results
OURS="$RESULTS/inference-ours.jsonl"
THEIRS="$RESULTS/inference-torch.jsonl"
mkdir -p "$RESULTS"

# Debian's default OpenBLAS (pthreads) runs its own threads beside torch's OpenMP threads, and two
# torch threads end up slower than one. torch gets the OpenMP build through LD_LIBRARY_PATH
# instead; the system-wide BLAS alternative stays as it is.
OPENMP_BLAS=/usr/lib/x86_64-linux-gnu/openblas-openmp
missing=()
for pkg in python3-torch libopenblas0-openmp; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing ${missing[*]}"
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi
[ -e "$OPENMP_BLAS/libblas.so.3" ] || { echo "$OPENMP_BLAS/libblas.so.3 is missing; install libopenblas0-openmp" >&2; exit 1; }

mvn -B -ntp -q -pl bench -am -DskipTests package

# the options bin/transact runs with: the Vector API module and, where offered, huge pages
read -r -a JAVA_OPTIONS <<<"$(bin/jvm-options)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$OURS"
: >"$THEIRS"
# Rounds alternate the two sides, and the report keeps each side's fastest round, so that a slow
# spell of the shared machine does not fall on one side only.
ROUNDS=${INFERENCE_ROUNDS:-3}
for threads in 1 2; do
  for round in $(seq 1 "$ROUNDS"); do
    echo "transact4j, $threads thread(s), round $round of $ROUNDS"
    java "${JAVA_OPTIONS[@]}" -Xmx2g -cp bench/target/benchmarks.jar \
      dev.transact4j.bench.InferenceBench --threads "$threads" "$@" 2>/dev/null | tee -a "$OURS"

    # With libgomp's default wait policy, threads spin at every barrier. When another job runs on
    # one of the two cores, a spinning thread waits for a descheduled one, and two threads ran 30
    # times slower than one here. PASSIVE makes waiting threads sleep, so a shared machine suits it.
    echo "PyTorch, $threads thread(s), round $round of $ROUNDS"
    LD_LIBRARY_PATH="$OPENMP_BLAS" OMP_WAIT_POLICY=PASSIVE \
      "$PYTHON" bench/torch_inference.py --threads "$threads" "$@" | tee -a "$THEIRS"
  done
done

# How fast our decode-step products read weight sets of growing size: where the last-level cache
# stops holding them.
WORKING_SET="$RESULTS/inference-working-set.jsonl"
java "${JAVA_OPTIONS[@]}" -Xmx2g -cp bench/target/benchmarks.jar \
  dev.transact4j.bench.InferenceBench --working-set --threads 1,2 2>/dev/null | tee "$WORKING_SET"

# Where our prefill and decode time goes: one Java Flight Recorder run per configuration on one
# thread, because samples of the pool's worker threads do not show which phase they belong to.
PROFILE="$RESULTS/inference-profile.jsonl"
: >"$PROFILE"
for config in tiny small; do
  echo "Profiling $config"
  java "${JAVA_OPTIONS[@]}" -Xmx2g \
    "-XX:StartFlightRecording=filename=$RESULTS/decode-$config.jfr,settings=profile,jdk.ExecutionSample#period=1ms" \
    -cp bench/target/benchmarks.jar dev.transact4j.bench.InferenceBench --threads 1 --configs "$config" \
    --warmup 2 --repeats 4 >"$RESULTS/decode-$config.out" 2>&1
  "$PYTHON" bench/decode_profile.py "$RESULTS/decode-$config.jfr" --bench-output "$RESULTS/decode-$config.out" \
    --config "$config" --threads 1 | tee -a "$PROFILE"
  rm -f "$RESULTS/decode-$config.jfr" "$RESULTS/decode-$config.out"
done

"$PYTHON" bench/inference_report.py --ours "$OURS" --torch "$THEIRS" --profile "$PROFILE" --working-set "$WORKING_SET" \
  --load-before "$LOAD_BEFORE" --command "bench/inference_compare.sh${*:+ $*}" --out "$RESULTS/inference.md"
echo "Wrote $RESULTS/inference.md"
