#!/usr/bin/env bash
# Downloads (here, where Debian's registry is reachable) the .deb files that bench/run_device.sh
# unpacks on the GPU machine, which reaches no registry. Output: .debs/ (git-ignored; carry it).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .debs
cd .debs
apt-get download libhdf5-dev libhdf5-103-1 libhdf5-hl-100 libsz2 libaec0 libcli11-dev libgtest-dev \
  libopenblas-dev libopenblas0 libopenblas0-pthread libopenblas-pthread-dev libblas-dev libblas3 libgfortran5
ls -la
