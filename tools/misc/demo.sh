#!/usr/bin/env bash
# The main job on bundled data (run through `make demo`):
#  1. the HQ-YTVIS evaluator on the bundled toy case (tests/data/eval/toy);
#  2. VMT-R50 inference through the user path (tools/test.py) on the real
#     frames of the parity kit, with its pseudo-weights regenerated and
#     converted, then Tube-Mask/Boundary AP of that output against the
#     original VMT's output on the same frames.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
SHARED=${SHARED:-../shared}
OUT=${OUT:-work_dirs/demo}
mkdir -p "$OUT"

echo "== 1/3 evaluator on the bundled toy case"
$PY tools/analysis_tools/hqvis_eval.py tests/data/eval/toy/gt.json \
    tests/data/eval/toy/pred.json --out "$OUT/toy_metrics.json"

if [ ! -f "$SHARED/parity/make_weights.py" ]; then
    echo "error: the parity kit is not at $SHARED/parity (set SHARED=...)" >&2
    exit 1
fi
echo "== 2/3 regenerate and convert the parity pseudo-weights"
[ -f "$OUT/vmt_r50_seed0.pth" ] || \
    $PY "$SHARED/parity/make_weights.py" --seed 0 --out "$OUT/vmt_r50_seed0.pth"
$PY tools/model_converters/vmt_to_mmvmt.py "$OUT/vmt_r50_seed0.pth" \
    "$OUT/vmt_r50_mmvmt.pth" --arch r50

echo "== 3/3 VMT-R50 on the 'small' clip (3 frames, 176x144 -> 440x360)"
$PY tools/test.py configs/vmt/vmt_r50.py "$OUT/vmt_r50_mmvmt.pth" \
    --data-root "$SHARED/parity/small/data" --format-only \
    --work-dir "$OUT/small" > "$OUT/small_test.log" 2>&1 \
    || { tail -20 "$OUT/small_test.log"; exit 1; }
$PY tools/misc/results_as_gt.py "$SHARED/parity/small/data/valid.json" \
    "$SHARED/parity/small/expected/results.json" "$OUT/original_as_gt.json"
$PY tools/analysis_tools/hqvis_eval.py "$OUT/original_as_gt.json" \
    "$OUT/small/results.json" --out "$OUT/small_vs_original.json"
echo "results: $OUT/small/results.json (AP against the original: $OUT/small_vs_original.json)"
