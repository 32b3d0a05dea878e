#!/usr/bin/env bash
# Usage: tools/slurm_run.sh TOOL PARTITION JOB_NAME [tool args...]
# Runs tools/TOOL on a slurm partition (GPUS, GPUS_PER_NODE, CPUS_PER_TASK,
# SRUN_ARGS from the environment). Used by slurm_train.sh and slurm_test.sh.
set -x
TOOL=$1
PARTITION=$2
JOB_NAME=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u "$(dirname "$0")/$TOOL" "${@:4}" --launcher="slurm"
