"""Images and videos that are no such thing: special files, damaged headers, formats the app does
not read, sizes over the limits. Each through `run` (exit 2, one line) and the Python API."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.io.media import MediaError, VideoReader, read_image
from tests.hostile import makers as mk
from tests.hostile.harness import Case, assert_api, assert_one_line, params, run_cli

DAMAGED = "probably truncated or damaged"
NOT_READ = "which this app does not read"


def _file(name: str, write):
    """A case whose image is made by ``write(path)`` (bytes are written as they are)."""

    def make(tmp: Path):
        path = tmp / name
        if isinstance(write, bytes):
            path.write_bytes(write)
        elif write is not None:
            write(path)
        return ["run", "edges", str(path), "--out", str(tmp / "out")], lambda: read_image(path)

    return make


def _png_8x8() -> bytes:
    ok, data = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    assert ok
    return data.tobytes()


def _loop(path: Path) -> None:
    path.symlink_to(path)


IMAGES = [
    Case("missing", _file("missing.png", None), "the file does not exist"),
    Case("folder", _file("dir.png", Path.mkdir), "it is a folder, not a file"),
    Case("fifo", _file("pipe.png", mk.fifo), "named pipe (FIFO), not a regular file"),
    Case("device", _file("zero.png", mk.device), "it is a device, not a regular file"),
    Case("socket", _file("sock.png", mk.unix_socket), "it is a socket, not a regular file"),
    Case("symlink-loop", _file("loop.png", _loop), "symbolic links"),
    Case("under-a-file", lambda tmp: _file("x.png", None)(tmp / "plain"), "not a directory"),
    Case("name-too-long", _file("n" * 300 + ".png", None), "file name too long"),
    Case("empty", _file("empty.png", b""), "the file is empty"),
    Case("text", _file("notes.png", b"just some notes\n"), "it is not an image file"),
    Case("png-cut-after-ihdr", _file("cut.png", _png_8x8()[:40]), DAMAGED),
    Case("png-ihdr-not-first", _file("order.png", mk.png(extra=b"")[:8] + mk.chunk(b"tEXt", b"a")),
         DAMAGED),
    Case("png-bad-pixels", _file("bad.png", mk.png(8, 8, extra=mk.chunk(b"IDAT", b"xx"))),
         "cannot be decoded"),
    Case("jpeg-soi-only", _file("soi.jpg", b"\xff\xd8"), DAMAGED),
    Case("jpeg-scan-before-frame", _file("sos.jpg", b"\xff\xd8" + mk.jpeg_segment(0xDA, b"\0")),
         DAMAGED),
    Case("jpeg-zero-length-segment", _file("zero.jpg", b"\xff\xd8\xff\xe0\x00\x00" + bytes(9)),
         DAMAGED),
    Case("jpeg-frame-no-data", _file("frame.jpg", mk.jpeg(16, 16)), "cannot be decoded"),
    Case("gif-signature-only", _file("sig.gif", b"GIF89a"), DAMAGED),
    Case("gif-no-image", _file("empty.gif", mk.gif(16, 16)[:13] + b";"), DAMAGED),
    Case("gif-garbage-pixels", _file("junk.gif", mk.gif(16, 16)[:-7] + b"\x09\x05abcde\0;"),
         "cannot be decoded"),
    Case("bmp-signature-only", _file("bm.bmp", b"BM"), DAMAGED),
    Case("bmp-no-pixels", _file("head.bmp", mk.bmp(16, 16)), "cannot be decoded"),
    Case("tiff-directory-past-end", _file("far.tif", b"II*\x00" + struct.pack("<I", 1 << 30)),
         DAMAGED),
    Case("tiff-without-width", _file("nowidth.tif", mk.tiff(16, 16).replace(
        struct.pack("<HH", 256, 4), struct.pack("<HH", 999, 4), 1)), DAMAGED),
    Case("webp-unknown-chunk", _file("odd.webp", b"RIFF\x10\0\0\0WEBPVP8Z" + bytes(16)), DAMAGED),
    Case("webp-bad-start-code", _file("lossy.webp", b"RIFF\x20\0\0\0WEBPVP8 " + bytes(24)),
         DAMAGED),
    Case("avif", _file("photo.png", b"\0\0\0\x1cftypavif" + bytes(20)), "AVIF image, " + NOT_READ),
    Case("jpeg-2000", _file("x.png", b"\0\0\0\x0cjP  \r\n\x87\n" + bytes(20)), NOT_READ),
    Case("radiance-hdr", _file("x.png", b"#?RADIANCE\n"), "Radiance HDR image"),
    Case("sun-raster", _file("x.png", b"\x59\xa6\x6a\x95" + bytes(28)), "Sun raster image"),
    Case("pfm", _file("x.png", b"PF\n20000 20000\n-1\n"), "PFM image"),
    Case("pgm", _file("x.png", b"P5 20000 20000 255\n"), "PNM image"),
    Case("bigtiff", _file("x.tif", b"II+\x00\x08\x00\x00\x00" + bytes(16)), "BigTIFF image"),
    Case("just-over-100-megapixels", _file("big.png", mk.png(10001, 10000)),
         "10001 x 10000 = 100.0 megapixels"),
]


@pytest.mark.parametrize("case", params(IMAGES))
def test_image_through_the_command_line(tmp_path, capfd, case):
    (tmp_path / "plain").write_text("a file, not a folder")
    argv, _api = case.make(tmp_path)
    code, out, err = run_cli(capfd, argv)
    assert_one_line(code, err, case.fragment)
    assert out == "" and not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", params(IMAGES))
def test_image_through_the_api(tmp_path, case):
    (tmp_path / "plain").write_text("a file, not a folder")
    _argv, api = case.make(tmp_path)
    assert_api(api, MediaError, case.fragment)


@pytest.mark.parametrize(("limit", "fragment"), [
    ("64K", "decoding image"), ("1K", "reading image")])
def test_images_over_the_memory_budget(tmp_path, capfd, monkeypatch, limit, fragment):
    path = tmp_path / "wide.png"
    path.write_bytes(mk.png(4000, 4000, extra=bytes(2000)))
    monkeypatch.setenv("CNN_EXPLORER_MEMORY_BUDGET", limit)
    code, _out, err = run_cli(capfd, ["run", "edges", str(path), "--out", str(tmp_path / "o")])
    line = assert_one_line(code, err, fragment)
    assert "more than the budget of" in line and "CNN_EXPLORER_MEMORY_BUDGET" in line
    assert_api(lambda: read_image(path), MediaError, fragment)


VIDEOS = [
    ("fifo", mk.fifo, "named pipe"), ("device", mk.device, "device"),
    ("folder", Path.mkdir, "folder"), ("missing", None, "does not exist"),
    ("text", lambda p: p.write_text("not a video"), "not a video file"),
]


@pytest.mark.parametrize(("make", "fragment"), [pytest.param(m, f, id=i) for i, m, f in VIDEOS])
def test_video_that_is_not_a_video_file(tmp_path, make, fragment):
    path = tmp_path / "clip.mp4"
    if make is not None:
        make(path)
    assert_api(lambda: VideoReader(path), MediaError, fragment)
