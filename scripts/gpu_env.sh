# Sourced by the GPU scripts: points the data loader at the carried tarball and stops early, with one clear
# line, when the data, a CUDA torch (not asked for when DRY_RUN=1) or the project's dependencies are missing.
# Expects PY to be set.
export NASBENCH_SUITE_CIFAR10=${NASBENCH_SUITE_CIFAR10:-.data/cifar10-jpeg.tar.gz}
export NASBENCH_SUITE_CACHE=${NASBENCH_SUITE_CACHE:-.data}
export PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH}

if [ ! -e "$NASBENCH_SUITE_CIFAR10" ]; then
  echo "error: no CIFAR-10 at $NASBENCH_SUITE_CIFAR10; copy ../shared/data/cifar10/cifar10-jpeg.tar.gz to .data/" \
       "or point NASBENCH_SUITE_CIFAR10 at any CIFAR-10 source (\`nasbench-suite data cifar10 --download\`)" >&2
  exit 2
fi
if [ "${DRY_RUN:-0}" != 1 ] && ! $PY -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "error: $PY's torch sees no CUDA GPU" >&2
  exit 2
fi
if ! $PY -c "import nasbench_suite.cli.commands, PIL, h5py"; then
  echo "error: $PY lacks the project's dependencies; pip install -e '.[train]' (offline: from a wheelhouse in .whl/)" >&2
  exit 2
fi
