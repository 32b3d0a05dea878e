#!/usr/bin/env bash
# The main job on bundled data (run through `make demo`):
#  1. generate the toy dataset (data/toy) unless it exists;
#  2. train the toy config on CPU (TOY_EPOCHS epochs, default 32);
#  3. test it: both APs printed, results written;
#  4. render overlays of a few val videos;
#  5. released-model path: VMT-R50 through tools/test.py on the real frames
#     of the parity kit (pseudo-weights regenerated and converted), scored
#     against the original VMT's output on the same frames.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
SHARED=${SHARED:-../shared}
OUT=${OUT:-work_dirs/demo}
EPOCHS=${TOY_EPOCHS:-32}
mkdir -p "$OUT"

echo "== 1/5 toy dataset"
[ -f data/toy/val.json ] || $PY tools/misc/make_toy_dataset.py --out data/toy

echo "== 2/5 train configs/vmt/vmt_r18_toy.py for $EPOCHS epochs (CPU)"
$PY tools/train.py configs/vmt/vmt_r18_toy.py --work-dir "$OUT/toy" \
    --cfg-options train_cfg.max_epochs=$EPOCHS train_cfg.val_interval=$EPOCHS \
    "param_scheduler.0.milestones=[$((EPOCHS * 4 / 5))]" \
    > "$OUT/toy_train.log" 2>&1 || { tail -30 "$OUT/toy_train.log"; exit 1; }
grep -E "Epoch\(train\).*\[[0-9]+/[0-9]+\]" "$OUT/toy_train.log" | \
    sed -E 's/.*(Epoch\(train\) +\[[0-9]+\]\[[0-9]+\/[0-9]+\]).*  (loss: [0-9.]+).*/\1 \2/' | \
    awk 'NR % 4 == 0'

echo "== 3/5 test (Tube-Mask AP and Tube-Boundary AP on the toy val split)"
$PY tools/test.py configs/vmt/vmt_r18_toy.py "$OUT/toy/epoch_$EPOCHS.pth" \
    --work-dir "$OUT/toy_test" \
    --cfg-options test_evaluator.outfile_prefix="$OUT/toy_test" \
    > "$OUT/toy_test.log" 2>&1 || { tail -30 "$OUT/toy_test.log"; exit 1; }
grep -oE "hqvis/(mask|boundary)_AP: [0-9.]+" "$OUT/toy_test.log"

echo "== 4/5 overlays of val videos"
$PY tools/misc/render_results.py data/toy data/toy/val.json \
    "$OUT/toy_test/results.json" "$OUT/render" --videos 4

if [ ! -f "$SHARED/parity/make_weights.py" ]; then
    echo "(the parity kit is not at $SHARED/parity: step 5 skipped)"
    exit 0
fi
echo "== 5/5 released VMT-R50 path on real frames (parity kit, pseudo-weights)"
[ -f "$OUT/vmt_r50_seed0.pth" ] || \
    $PY "$SHARED/parity/make_weights.py" --seed 0 --out "$OUT/vmt_r50_seed0.pth" > /dev/null
$PY tools/model_converters/vmt_to_mmvmt.py "$OUT/vmt_r50_seed0.pth" \
    "$OUT/vmt_r50_mmvmt.pth" --arch r50 > /dev/null
$PY tools/test.py configs/vmt/vmt_r50.py "$OUT/vmt_r50_mmvmt.pth" \
    --data-root "$SHARED/parity/small/data" --format-only \
    --work-dir "$OUT/small" > "$OUT/small_test.log" 2>&1 \
    || { tail -20 "$OUT/small_test.log"; exit 1; }
$PY tools/misc/results_as_gt.py "$SHARED/parity/small/data/valid.json" \
    "$SHARED/parity/small/expected/results.json" "$OUT/original_as_gt.json"
$PY tools/analysis_tools/hqvis_eval.py "$OUT/original_as_gt.json" \
    "$OUT/small/results.json" --out "$OUT/small_vs_original.json" | \
    grep -E "^Tube|IoU=0.50:0.95 \| area=   all \| maxDets=100"
echo "done: toy results $OUT/toy_test/results.json, overlays $OUT/render/"
