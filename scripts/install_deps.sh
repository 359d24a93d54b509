#!/usr/bin/env bash
# Installs what lensflow needs on a fresh Debian machine (apt-get for the C++ side, pip for the
# Python readers and plots). Safe to run again: it skips what is present.
set -euo pipefail
apt_pkgs=(cmake g++ make libgtest-dev libgmock-dev libcli11-dev libhdf5-dev hdf5-tools libopenblas-dev)
# MPI (optional: runs across processes and nodes, docs/mpi.md); the tests use mpirun.
apt_pkgs+=(libopenmpi-dev openmpi-bin)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
# Python side: h5py/numpy to read our files, matplotlib for the evaluation plots.
if ! python3 -c "import h5py, numpy, matplotlib" >/dev/null 2>&1; then
  python3 -m pip install -q h5py numpy matplotlib
fi
# Python package tests (tests/python): venv, pytest, and the codes its comparisons run against.
if ! python3 -c "import ensurepip" >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv
fi
if ! python3 -c "import pytest, MulensModel, VBMicrolensing" >/dev/null 2>&1; then
  python3 -m pip install -q pytest MulensModel VBMicrolensing
fi
