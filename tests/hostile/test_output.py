"""What reaches the terminal: names from files are printed escaped, codec libraries add no line
of their own, and no file the app reads can run code (a scan of the source)."""

from __future__ import annotations

import ast
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest

from tests.engine import onnx_models
from tests.hostile import makers as mk
from tests.hostile.harness import ROOT, assert_one_line, run_cli

NASTY = {
    "csi-clear-screen": "\x1b[2J\x1b[H",
    "csi-red": "\x1b[31mred\x1b[0m",
    "osc-title": "\x1b]0;owned\x07",
    "c1-csi": "\x9b31m",
    "newline": "two\nlines",
    "carriage-return": "over\rwrite",
    "backspace": "abc\b\b\b",
    "delete": "del\x7f",
    "bidi-override": "abc\u202edcba",
    "line-separator": "a\u2028b",
    "zero-width": "zero\u200bwidth",
}
CONTROL = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + [
    "\u202e", "\u2028", "\u200b"]


def _clean(text: str) -> bool:
    return not any(c in text for c in CONTROL if c != "\n")


@pytest.mark.parametrize("name", NASTY.values(), ids=NASTY.keys())
def test_names_from_a_pipeline_file_are_printed_escaped(tmp_path, capfd, name):
    data = mk.pipeline([{"type": "ReLU", "name": name}], name=name, description=name)
    path = mk.write_json(tmp_path / "p.json", data)
    code, out, err = run_cli(capfd, ["summary", str(path)])
    assert code == 0 and err == ""
    assert _clean(out)
    assert len(out.splitlines()) == len(_plain_summary(tmp_path, capfd).splitlines())
    duplicate = mk.pipeline([{"type": "ReLU", "name": name}, {"type": "Tanh", "name": name}])
    code, _out, err = run_cli(capfd, ["summary", str(mk.write_json(path, duplicate))])
    assert_one_line(code, err, "is used twice")
    assert _clean(err.rstrip("\n"))


def _plain_summary(tmp_path: Path, capfd) -> str:
    data = mk.pipeline([{"type": "ReLU", "name": "plain"}], name="plain")
    _code, out, _err = run_cli(capfd, ["summary", str(mk.write_json(tmp_path / "q.json", data))])
    return out


@pytest.mark.parametrize("name", list(NASTY.values())[:4], ids=list(NASTY)[:4])
def test_names_from_an_onnx_model_are_printed_escaped(tmp_path, capfd, name):
    g = onnx_models.GraphBuilder((1, 3, 8, 8))
    y = g.node("Relu", ["input"], outputs=[name])
    path = tmp_path / "net.onnx"
    onnx.save(g.model([y]), str(path))
    code, out, err = run_cli(capfd, ["summary", str(path)])
    assert code == 0 and err == "" and _clean(out)
    assert repr(name)[1:-1].split("\\")[1][:3] in out  # shown as its escape, e.g. x1b


@pytest.mark.parametrize("name", ["\x1b[31mmissing.json", "bell\x07.png", "new\nline.json"])
def test_file_names_in_errors_are_escaped(tmp_path, capfd, name):
    argv = (["summary", str(tmp_path / name)] if name.endswith(".json")
            else ["run", "edges", str(tmp_path / name), "--out", str(tmp_path / "o")])
    code, _out, err = run_cli(capfd, argv)
    assert_one_line(code, err, "")
    assert _clean(err.rstrip("\n"))


def _png_with(extra: bytes) -> bytes:
    ok, data = cv2.imencode(".png", np.full((8, 8, 3), 90, np.uint8))
    assert ok
    data = data.tobytes()
    return data[:33] + extra + data[33:]  # right after IHDR


LIBPNG_WARNINGS = {
    "iccp-too-short": mk.chunk(b"iCCP", b"ICC\x00\x00" + zlib.compress(bytes(200))),
    "text-bad-crc": mk.chunk(b"tEXt", b"Comment\x00hi", crc=0),
    "srgb-wrong-length": mk.chunk(b"sRGB", b"\x00\x00"),
    "gamma-zero": mk.chunk(b"gAMA", struct.pack(">I", 0)),
}


@pytest.mark.parametrize("extra", LIBPNG_WARNINGS.values(), ids=LIBPNG_WARNINGS.keys())
def test_libpng_warnings_stay_off_the_terminal(tmp_path, capfd, extra):
    path = tmp_path / "warn.png"
    path.write_bytes(_png_with(extra))
    code, out, err = run_cli(capfd, ["run", "edges", str(path), "--out", str(tmp_path / "o")])
    assert code == 0 and "wrote" in out
    assert err == ""  # libpng's own "libpng warning: ..." lines went to a scratch file


def test_after_an_error_only_the_error_line_is_printed(tmp_path, capfd):
    """A model whose sidecar warns, run on a file that is no image: one line, the error's."""
    path = tmp_path / "net.onnx"
    onnx.save(onnx_models.plain_chain(), str(path))
    (tmp_path / "net.preprocess.json").write_text("{broken")
    (tmp_path / "x.png").write_text("text")
    code, _out, err = run_cli(capfd, ["run", str(path), str(tmp_path / "x.png"), "--out",
                                      str(tmp_path / "o")])
    assert_one_line(code, err, "not an image file")


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else "?"


SOURCES = sorted([*ROOT.joinpath("engine").rglob("*.py"), *ROOT.joinpath("gui").rglob("*.py"),
                  ROOT / "main.py"])


@pytest.mark.parametrize("source", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_no_file_the_app_reads_can_run_code(source):
    """No pickle, no eval or exec, and every np.load says allow_pickle=False."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            assert not {"pickle", "marshal", "shelve", "dill", "cloudpickle"} & {
                n.split(".")[0] for n in names}, f"{source}: imports {names}"
    for call in _calls(tree):
        name = _dotted(call.func)
        assert name not in ("eval", "exec", "compile", "__import__"), f"{source}: {name}()"
        if name.split(".")[-1] == "load" and name.split(".")[0] in ("np", "numpy"):
            flags = {k.arg: k.value for k in call.keywords}
            assert "allow_pickle" in flags and isinstance(flags["allow_pickle"], ast.Constant) \
                and flags["allow_pickle"].value is False, f"{source}: np.load without it"
        assert name != "yaml.load", f"{source}: yaml.load can build objects"
