#!/usr/bin/env bash
# One GPU session in one command: environment, the gpu-marked tests, and
# bench_gpu.py, everything written to one folder ($OUT, else ./gpu_out).
#
#   bash benchmarks/gpu_session.sh [STAGES]
#
# STAGES (comma-separated, default "env,tests,bench-gpu,bench-cpu") lets a
# second, shorter command rerun only what the first one left.  Each stage has
# its own time limit so that one slow stage cannot eat the others; the logs
# are written as they go, so a command stopped at its limit still returns
# what it had.  Sized for the device tool's 10-minute command limit on an
# H100/H200 machine with 16 CPU cores.
#
# The GPU image lacks array-api-compat: download its wheel into .whl/ first
# (python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12
#  --platform manylinux_2_28_x86_64 -d .whl array-api-compat) and carry .whl.
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
STAGES=${1:-env,tests,bench-gpu,bench-cpu}
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# Carried wheels (packages the GPU image lacks, e.g. array-api-compat).
if compgen -G ".whl/*.whl" > /dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
has() { [[ ",$STAGES," == *",$1,"* ]]; }

if has env; then
    {
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
        nproc; free -g | head -2
        $PY - <<'PY'
import numpy, scipy, sklearn, cupy
print("numpy", numpy.__version__, "scipy", scipy.__version__, "sklearn", sklearn.__version__)
print("cupy", cupy.__version__, "CUDA runtime", cupy.cuda.runtime.runtimeGetVersion(),
      "driver", cupy.cuda.runtime.driverGetVersion())
numpy.show_config()
PY
    } > "$OUT/env.txt" 2>&1
fi
if has tests; then
    timeout 200 $PY -m pytest -m gpu -q -p no:cacheprovider -rf tests \
        > "$OUT/pytest_gpu.log" 2>&1
    echo "exit $?" >> "$OUT/pytest_gpu.log"
fi
if has bench-gpu; then
    timeout 200 $PY benchmarks/bench_gpu.py --backends cupy --sizes 5000,10000,20000 \
        --tasks 100 --hetero 20000 --out "$OUT/bench_cupy.md" > "$OUT/bench_cupy.log" 2>&1
    echo "exit $?" >> "$OUT/bench_cupy.log"
fi
if has bench-cpu; then
    # numpy on the same machine's CPU: what the 10x goal compares against.
    timeout 300 $PY benchmarks/bench_gpu.py --backends numpy --sizes 20000 \
        --parts floor,shared --cpu-max-n 20000 --tasks 100 --hetero 20000 \
        --out "$OUT/bench_numpy_20k.md" > "$OUT/bench_numpy_20k.log" 2>&1
    echo "exit $?" >> "$OUT/bench_numpy_20k.log"
fi
if has bench-approx; then
    # The approximate path on the GPU: N = 1e7 heterogeneous rows, T = 100, m = 2000.
    timeout 240 $PY benchmarks/bench_approximation.py --device cuda --rows 10000000 \
        --tasks 100 --components 2000 --steps 20 --parts scale,steps \
        > "$OUT/bench_approx_gpu.log" 2>&1
    echo "exit $?" >> "$OUT/bench_approx_gpu.log"
fi
if has bench-cpu-shared; then
    # numpy's shared fit at n = 20,000 alone (its eigh floor was measured apart).
    timeout 300 $PY benchmarks/bench_gpu.py --backends numpy --sizes 20000 \
        --parts shared --cpu-max-n 20000 --tasks 100 \
        --out "$OUT/bench_numpy_shared20k.md" > "$OUT/bench_numpy_shared20k.log" 2>&1
    echo "exit $?" >> "$OUT/bench_numpy_shared20k.log"
fi
if has bench-neural; then
    # The neural module at a size that fills the GPU, against the host CPU.
    timeout 240 $PY benchmarks/bench_gpu.py --backends numpy,cupy --parts neural \
        --hetero 200000 --neural-rows 200000 --neural-width 1024 --neural-batch 4096 \
        --neural-epochs 1 --cpu-max-n 200000 --out "$OUT/bench_neural.md" \
        > "$OUT/bench_neural.log" 2>&1
    echo "exit $?" >> "$OUT/bench_neural.log"
fi
if has bench-cpu-rest; then
    timeout 300 $PY benchmarks/bench_gpu.py --backends numpy --sizes 5000,10000 \
        --parts floor,shared,path,structure,hetero,dm,neural --cpu-max-n 20000 \
        --tasks 100 --hetero 20000 --out "$OUT/bench_numpy_rest.md" \
        > "$OUT/bench_numpy_rest.log" 2>&1
    echo "exit $?" >> "$OUT/bench_numpy_rest.log"
fi
ls -la "$OUT"
