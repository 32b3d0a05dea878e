#!/usr/bin/env bash
# Usage: tools/dist_run.sh TOOL NPROC [tool args...]
# Runs tools/TOOL with torchrun, one process per GPU (or per CPU worker with
# the gloo backend). Used by dist_train.sh and dist_test.sh.
TOOL=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
$PYTHON -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$NPROC \
    --master_port=$PORT \
    "$(dirname "$0")/$TOOL" \
    "${@:3}" \
    --launcher pytorch
