#!/usr/bin/env bash
# The long fuzz campaign (issue 19): every target for FIELDPROOF_FUZZ_SECS (600) seconds on the
# corpus kept in ~/.cache/fieldproof-fuzz (the one .ci/run's short runs go on from), with the
# same bounds as CI. Prints each target's executions, coverage (libFuzzer's `cov` and `ft`),
# corpus size and peak memory; an input that crashes, hangs or exhausts memory is left in
# fuzz/artifacts/<target> and fails the campaign. Run from the repository: `bash fuzz/campaign.sh`.
set -uo pipefail
cd "$(dirname "$0")"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/fieldproof-fuzz
SECS=${FIELDPROOF_FUZZ_SECS:-600}
TARGETS=(${FIELDPROOF_FUZZ_TARGETS:-inspect multipart csv_rows policy summary chat})
bash make-seeds.sh "$CACHE" >/dev/null
cargo fuzz build -s none --target-dir "$CACHE/target" || exit 1
failed=0
printf '%-10s %12s %8s %8s %8s %8s %s\n' target executions cov ft corpus rss_mb result
for t in "${TARGETS[@]}"; do
  mkdir -p "$CACHE/corpus/$t"
  seeds="$PWD/seeds/$t"
  [[ "$t" == inspect ]] && seeds="$CACHE/seeds/inspect"
  dict=()
  [[ "$t" == inspect ]] && dict=(-dict=dict/images.dict)
  log="$CACHE/campaign-$t.log"
  cargo fuzz run -s none --target-dir "$CACHE/target" "$t" "$CACHE/corpus/$t" "$seeds" -- \
    -max_total_time="$SECS" -rss_limit_mb=512 -timeout=10 -max_len=262144 "${dict[@]}" -print_final_stats=1 > "$log" 2>&1
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")
  result=ok
  if compgen -G "artifacts/$t/*" >/dev/null; then result="FAILED: $(ls artifacts/$t | tr '\n' ' ')"; failed=1; fi
  printf '%-10s %12s %8s %8s %8s %8s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}" "${rss:-?}" "$result"
done
exit $failed
