"""Arrays beside a pipeline file that are not numbers, not .npz archives or not beside it; pipeline
files and models that are no regular files. Through `summary` and the Python API."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.graph.spec import SpecError
from engine.onnx.importer import OnnxImportError
from tests.hostile import makers as mk
from tests.hostile.harness import Case, assert_api, assert_one_line, params, run_cli

GOOD = np.zeros((2, 3, 3, 3), np.float32)


def _with(npz_name: str, write, key: str = "w"):
    """A pipeline reading ``key`` of ``npz_name`` (relative to its folder), made by ``write``."""

    def make(tmp: Path):
        (tmp / "elsewhere").mkdir()
        if write is not None:
            write(tmp / "net" / npz_name if not os.path.isabs(npz_name) else Path(npz_name), tmp)
        path = mk.write_json(tmp / "net" / "p.json", mk.conv_from_npz(npz_name, key))
        return ["summary", str(path)], lambda: engine.load_pipeline(path)

    return make


def _arrays(**arrays):
    return lambda path, _tmp: mk.npz(path, **arrays)


def _bytes(data: bytes):
    return lambda path, _tmp: path.write_bytes(data)


def _halved(path: Path, _tmp) -> None:
    np.savez(path, w=GOOD)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _bad_crc(path: Path, _tmp) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("w.npy", _npy(GOOD))
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # a byte of the member's data: the CRC no longer matches
    path.write_bytes(bytes(data))


def _npy(array) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _outside(path: Path, tmp: Path) -> None:
    np.savez(tmp / "elsewhere" / "w.npz", w=GOOD)


def _link_out(path: Path, tmp: Path) -> None:
    np.savez(tmp / "elsewhere" / "w.npz", w=GOOD)
    path.symlink_to(tmp / "elsewhere" / "w.npz")


def _special(make):
    return lambda path, _tmp: make(path)


NOT_NUMBERS = [
    Case("npz-nan", _with("w.npz", _arrays(w=np.full((2, 3, 3, 3), np.nan, np.float32))),
         "array 'w' holds NaN or infinite values"),
    Case("npz-inf", _with("w.npz", _arrays(w=np.where(GOOD == 0, np.inf, 0).astype(np.float32))),
         "holds NaN or infinite values"),
    Case("npz-float64-overflows-float32", _with("w.npz", _arrays(w=np.full((2, 3, 3, 3), 1e300))),
         "holds NaN or infinite values"),
    Case("npz-pickled-objects", _with("w.npz", _arrays(w=np.array([{"x": 1}], dtype=object))),
         "holds Python objects, which are never loaded"),
    Case("npz-strings", _with("w.npz", _arrays(w=np.array(["abc"]))), "holds <U3 values"),
    Case("npz-complex", _with("w.npz", _arrays(w=GOOD.astype(np.complex64))), "complex64 values"),
    Case("npz-records", _with("w.npz", _arrays(w=np.zeros(3, dtype=[("a", "<f4")]))),
         "holds structured records"),
    Case("npy-where-npz-belongs", _with("w.npy", lambda p, _t: np.save(p, GOOD)),
         "it is a single .npy array, not an .npz archive"),
    Case("npz-text", _with("w.npz", _bytes(b"not a zip")), "it is not an .npz archive"),
    Case("npz-halved", _with("w.npz", _halved), "it is not an .npz archive"),
    Case("npz-bad-crc", _with("w.npz", _bad_crc), "the file is probably damaged"),
    Case("npz-member-cut-short", _with("w.npz", lambda p, _t: mk.npz_lying(p, (54,), bytes(8))),
         "declares 54 values of float32"),
    Case("npz-missing-key", _with("w.npz", _arrays(other=GOOD)), "w.npz has no array 'w'"),
    Case("npz-wrong-shape", _with("w.npz", _arrays(w=np.zeros((5,), np.float32))), "weight"),
]

PATHS = [
    Case("npz-parent-folder", _with("../elsewhere/w.npz", _outside),
         "must be in the pipeline file's folder or below it"),
    Case("npz-absolute", lambda tmp: _with(str(tmp / "elsewhere" / "w.npz"), _outside)(tmp),
         "no absolute path"),
    Case("npz-etc-passwd", _with("/etc/passwd", None), "no absolute path"),
    Case("npz-symlink-out", _with("w.npz", _link_out), "leads out of the pipeline file's folder"),
    Case("npz-fifo", _with("w.npz", _special(mk.fifo)), "named pipe (FIFO)"),
    Case("npz-symlink-to-device", _with("w.npz", _special(mk.device)), "leads out of the"),
    Case("npz-folder", _with("w.npz", _special(Path.mkdir)), "it is a folder"),
    Case("npz-socket", _with("w.npz", _special(mk.unix_socket)), "it is a socket"),
    Case("npz-missing", _with("w.npz", None), "the file does not exist"),
]


@pytest.mark.parametrize("case", params(NOT_NUMBERS + PATHS))
def test_arrays_through_the_command_line(tmp_path, capfd, case):
    (tmp_path / "net").mkdir()
    argv, _api = case.make(tmp_path)
    code, out, err = run_cli(capfd, argv)
    line = assert_one_line(code, err, case.fragment)
    assert out == "" and "layer 0 (Conv2d), field 'weights'" in line


@pytest.mark.parametrize("case", params(NOT_NUMBERS + PATHS))
def test_arrays_through_the_api(tmp_path, case):
    (tmp_path / "net").mkdir()
    _argv, api = case.make(tmp_path)
    assert_api(api, SpecError, case.fragment)


def test_arrays_below_the_folder_are_fine(tmp_path):
    (tmp_path / "sub").mkdir()
    np.savez(tmp_path / "sub" / "w.npz", w=GOOD + 1)
    path = mk.write_json(tmp_path / "p.json", mk.conv_from_npz("sub/w.npz"))
    np.testing.assert_array_equal(engine.load_pipeline(path).nodes[0].layer.weight, GOOD + 1)


SPECIAL = [("fifo", mk.fifo, "named pipe (FIFO)"), ("device", mk.device, "it is a device"),
           ("socket", mk.unix_socket, "it is a socket")]


@pytest.mark.parametrize(("make", "fragment"), [pytest.param(m, f, id=i) for i, m, f in SPECIAL])
@pytest.mark.parametrize("suffix", [".json", ".onnx"])
def test_pipeline_and_model_files_must_be_regular(tmp_path, capfd, make, fragment, suffix):
    path = make(tmp_path / f"net{suffix}")
    code, _out, err = run_cli(capfd, ["summary", str(path)])
    assert_one_line(code, err, fragment)
    error = SpecError if suffix == ".json" else OnnxImportError
    assert_api(lambda: engine.resolve_pipeline(path), error, fragment)
