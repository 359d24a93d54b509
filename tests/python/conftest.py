"""Shared fixtures: the installed lensflow package (never the source tree) and the C++ programs.

tests/python/run.sh installs the package into a temporary virtual environment with `pip install .`
and runs pytest there; LENSFLOW_BUILD_DIR points at the C++ build whose programs the bit-for-bit
tests call (they skip, saying why, when it is not set).
"""
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def build_dir():
    d = os.environ.get("LENSFLOW_BUILD_DIR")
    if not d:
        pytest.skip("LENSFLOW_BUILD_DIR not set: no C++ build to compare with (tests/python/run.sh sets it)")
    return pathlib.Path(d)


@pytest.fixture(scope="session")
def magnify_exe(build_dir):
    exe = build_dir / "apps" / "lensflow-magnify"
    if not exe.exists():
        pytest.skip(f"{exe} not built (LENSFLOW_BUILD_APPS=OFF?)")
    return exe
