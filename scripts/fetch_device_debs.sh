#!/usr/bin/env bash
# Downloads (here, where the registries are reachable) what bench/run_device.sh needs on the GPU
# machine, which reaches none; carry both folders with the device call (both are git-ignored):
#   .debs/  Debian packages of HDF5, CLI11, GoogleTest and OpenBLAS (unpacked under /tmp/deps there);
#   .whl/   VBMicrolensing for that machine's Python 3.12 (the CPU reference of the forward-model
#           benchmarks), and the CUDA 13.0 compute-sanitizer (used only when the machine's toolkit
#           has none).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .debs .whl
(cd .debs && apt-get download libhdf5-dev libhdf5-103-1 libhdf5-hl-100 libsz2 libaec0 libcli11-dev libgtest-dev \
  libopenblas-dev libopenblas0 libopenblas0-pthread libopenblas-pthread-dev libblas-dev libblas3 libgfortran5)
plat=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_25_x86_64
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${plat[@]}" \
  -d .whl VBMicrolensing "nvidia-cuda-sanitizer-api==13.0.*"
du -sh .debs .whl
