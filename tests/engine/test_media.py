"""engine.io.media: every image format and kind, broken files, video files and cameras.

Test images are written with cv2 here; expected RGB values are worked out by hand.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from engine.graph.pipeline import InputSpec
from engine.io.media import (
    MediaError,
    VideoReader,
    list_cameras,
    read_image,
    resize_longest,
    resize_to,
    to_input,
    write_image,
)


def _rgb_pattern(h: int = 24, w: int = 32) -> np.ndarray:
    """An RGB image whose channels all differ, so a channel swap cannot pass unnoticed."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) % 256], -1).astype(np.uint8)


def _write(path: Path, array: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), array)
    return path


@pytest.mark.parametrize("ext", [".png", ".bmp", ".tiff", ".webp"])
def test_lossless_formats_read_as_rgb(tmp_path, ext):
    rgb = _rgb_pattern()
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if ext == ".webp" else []  # > 100: lossless WebP
    path = tmp_path / f"img{ext}"
    assert cv2.imwrite(str(path), rgb[:, :, ::-1], params)  # cv2 writes BGR
    out = read_image(path)
    assert out.shape == (24, 32, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, rgb)


def test_jpeg_is_close_and_in_rgb_order(tmp_path):
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:, :, 0] = 220  # pure-ish red: a BGR mix-up would make it blue
    path = _write(tmp_path / "red.jpg", rgb[:, :, ::-1])
    out = read_image(path)
    assert out.shape == (32, 32, 3)
    assert out[..., 0].mean() > 200 and out[..., 2].mean() < 20


def test_gray_becomes_three_equal_channels(tmp_path):
    gray = _rgb_pattern()[:, :, 0]
    out = read_image(_write(tmp_path / "gray.png", gray))
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], gray)


def test_rgba_is_composited_on_white(tmp_path):
    bgra = np.zeros((2, 3, 4), np.uint8)
    bgra[0, 0] = (0, 0, 200, 255)  # opaque red
    bgra[0, 1] = (0, 0, 200, 0)  # fully transparent: white, whatever the color
    bgra[0, 2] = (0, 0, 0, 128)  # half-transparent black over white: 127
    bgra[1, :] = (10, 20, 30, 255)
    out = read_image(_write(tmp_path / "rgba.png", bgra))
    assert out.shape == (2, 3, 3)
    assert out[0, 0].tolist() == [200, 0, 0]
    assert out[0, 1].tolist() == [255, 255, 255]
    expected = round(255 * (1 - 128 / 255))
    assert out[0, 2].tolist() == [expected] * 3
    assert out[1, 0].tolist() == [30, 20, 10]


@pytest.mark.parametrize("ext", [".png", ".tiff"])
def test_16_bit_is_scaled_to_8_bits(tmp_path, ext):
    values = np.array([[0, 257, 65535], [32768, 1000, 65280]], np.uint16)
    bgr = np.stack([values, values // 2, values // 4], -1)
    out = read_image(_write(tmp_path / f"deep{ext}", bgr))
    for c, div in zip((2, 1, 0), (1, 2, 4), strict=True):  # RGB out = reversed BGR in
        expected = np.rint((values // div) / 257.0)
        np.testing.assert_array_equal(out[:, :, c], expected)


def test_16_bit_gray_tiff(tmp_path):
    gray = np.array([[0, 65535], [25700, 514]], np.uint16)
    out = read_image(_write(tmp_path / "gray16.tiff", gray))
    assert out[:, :, 0].tolist() == [[0, 255], [100, 2]]
    np.testing.assert_array_equal(out[:, :, 0], out[:, :, 2])


def test_non_ascii_path(tmp_path):
    rgb = _rgb_pattern()
    folder = tmp_path / "Ümläut ñ 画像"
    folder.mkdir()
    write_image(folder / "bild.png", rgb)  # write_image must handle the path too
    np.testing.assert_array_equal(read_image(folder / "bild.png"), rgb)


def test_write_image_round_trip_gray_and_rgb(tmp_path):
    rgb = _rgb_pattern()
    write_image(tmp_path / "a.png", rgb)
    write_image(tmp_path / "g.png", rgb[:, :, 1])
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "g.png")[:, :, 0], rgb[:, :, 1])
    with pytest.raises(MediaError, match="uint8"):
        write_image(tmp_path / "f.png", rgb.astype(np.float32))
    with pytest.raises(MediaError, match="unknown image type"):
        write_image(tmp_path / "a.notanimage", rgb)


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="does not exist"):
        read_image(tmp_path / "nope.png")


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(MediaError, match="folder"):
        read_image(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        read_image(tmp_path / "empty.png")


def test_text_file_is_not_an_image(tmp_path):
    (tmp_path / "notes.png").write_text("these are notes, not pixels\n" * 20)
    with pytest.raises(MediaError, match="not an image"):
        read_image(tmp_path / "notes.png")


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".tiff", ".webp"])
def test_truncated_file(tmp_path, ext):
    ok, data = cv2.imencode(ext, _rgb_pattern(64, 64))
    assert ok
    path = tmp_path / f"cut{ext}"
    path.write_bytes(data.tobytes()[: data.size // 2])
    with pytest.raises(MediaError, match="truncated or damaged"):
        read_image(path)


def test_huge_image_is_refused_by_its_header_before_decoding(tmp_path):
    # A PNG header that claims 20000 x 20000 pixels, followed by almost nothing.
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk)
    with pytest.raises(MediaError, match=r"20000 x 20000 = 400\.0 megapixels"):
        read_image(path)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".tiff", ".webp"])
def test_size_limit_applies_to_every_format(tmp_path, ext):
    path = _write(tmp_path / f"img{ext}", _rgb_pattern(30, 40))
    with pytest.raises(MediaError, match=r"40 x 30 .*too large|too large: 40 x 30"):
        read_image(path, max_pixels=1000)
    assert read_image(path, max_pixels=1200).shape == (30, 40, 3)


def _luma_reference(rgb: np.ndarray) -> np.ndarray:
    h, w, _ = rgb.shape
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            r, g, b = (float(v) for v in rgb[y, x])
            out[y, x] = (0.299 * r + 0.587 * g + 0.114 * b) / 255.0
    return out


def test_to_input_rgb_and_gray():
    rgb = _rgb_pattern(6, 5)
    x = to_input(rgb, InputSpec(channels=3, color="rgb"))
    assert x.shape == (3, 6, 5) and x.dtype == np.float32 and x.flags.c_contiguous
    for c in range(3):
        np.testing.assert_allclose(x[c], rgb[:, :, c] / 255.0, atol=1e-7)
    g = to_input(rgb, InputSpec(channels=1, color="gray"))
    assert g.shape == (1, 6, 5) and g.dtype == np.float32
    np.testing.assert_allclose(g[0], _luma_reference(rgb), atol=1e-6)
    assert g.min() >= 0.0 and g.max() <= 1.0
    np.testing.assert_array_equal(to_input(rgb), x)  # no spec: RGB


def test_to_input_rejects_channel_counts_an_image_cannot_give():
    # InputSpec itself refuses this combination; an ONNX model's spec may still ask for it.
    spec = SimpleNamespace(channels=4, color="rgb")
    with pytest.raises(MediaError, match="expects 4 input channels"):
        to_input(_rgb_pattern(4, 4), spec)


def test_resize_longest():
    img = _rgb_pattern(48, 64)
    assert resize_longest(img, None) is img
    assert resize_longest(img, 64) is img
    assert resize_longest(img, 32).shape == (24, 32, 3)
    assert resize_longest(img, 128).shape == (96, 128, 3)
    assert resize_longest(img[:, :10], 24).shape == (24, 5, 3)
    # INTER_AREA when shrinking by 2 is the mean of each 2x2 block.
    flat = np.zeros((4, 4), np.uint8)
    flat[:2, :2] = 200
    assert resize_longest(flat, 2).tolist() == [[200, 0], [0, 0]]
    with pytest.raises(MediaError, match="at least 1 pixel"):
        resize_longest(img, 0)


def test_resize_to_center_crops_then_scales():
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, 20:60] = 255  # the central square is white, the sides black
    out = resize_to(img, 20, 20)
    assert out.shape == (20, 20, 3) and out.min() == 255
    assert resize_to(img, 40, 80) is img


def _write_video(path: Path, fourcc: str, n: int = 6, size=(64, 48)) -> list[int]:
    """Write n frames whose red level encodes the frame number; return those levels."""
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 12.0, (w, h))
    assert writer.isOpened()
    levels = [20 + 40 * i for i in range(n)]
    for level in levels:
        frame = np.zeros((h, w, 3), np.uint8)
        frame[:, :, 2] = level  # BGR: red
        writer.write(frame)
    writer.release()
    return levels


@pytest.mark.parametrize(("ext", "fourcc"), [(".avi", "MJPG"), (".mp4", "mp4v")])
def test_video_reads_rgb_frames_and_loops(tmp_path, ext, fourcc):
    path = tmp_path / f"clip{ext}"
    levels = _write_video(path, fourcc)
    with VideoReader(path) as video:
        assert video.fps == pytest.approx(12.0)
        assert video.frame_count == len(levels)
        reds = []
        for _ in range(2 * len(levels) + 1):
            frame = video.read()
            assert frame is not None and frame.shape == (48, 64, 3) and frame.dtype == np.uint8
            assert frame[:, :, 2].mean() < 12  # red stays red: RGB order
            reds.append(frame[:, :, 0].mean())
    expected = levels + levels + levels[:1]
    np.testing.assert_allclose(reds, expected, atol=8)
    assert video.read() is None  # closed by the context manager


def test_video_without_loop_ends(tmp_path):
    path = tmp_path / "clip.avi"
    levels = _write_video(path, "MJPG", n=3)
    video = VideoReader(path, loop=False)
    frames = [video.read() for _ in range(len(levels))]
    assert all(f is not None for f in frames)
    assert video.read() is None
    video.close()
    video.close()  # twice is fine


def test_video_errors(tmp_path):
    with pytest.raises(MediaError, match="does not exist"):
        VideoReader(tmp_path / "missing.mp4")
    (tmp_path / "junk.mp4").write_text("not a video at all")
    with pytest.raises(MediaError, match="not a video"):
        VideoReader(tmp_path / "junk.mp4")
    with pytest.raises(MediaError, match="folder"):
        VideoReader(tmp_path)


def test_camera_that_does_not_open():
    with pytest.raises(MediaError, match="camera 97 cannot be opened"):
        VideoReader(97)
    with pytest.raises(MediaError, match="0 or more"):
        VideoReader(-1)


def test_list_cameras_returns_indices_that_open(monkeypatch):
    import engine.io.media

    made = []

    class FakeCapture:
        """Cameras 0 and 2 open; every capture records whether it was released."""

        def __init__(self, index, *_args):
            self.index, self.released = index, False
            made.append(self)

        def isOpened(self):
            return self.index in (0, 2)

        def release(self):
            self.released = True

    monkeypatch.setattr(engine.io.media.cv2, "VideoCapture", FakeCapture)
    assert list_cameras(max_index=4) == [0, 2]
    assert sorted(c.index for c in made) == [0, 1, 2, 3, 4]
    assert all(c.released for c in made)  # the ones that opened too: the device is freed
    made.clear()
    assert list_cameras(max_index=1) == [0]
    assert [c.index for c in made] == [0, 1]


@pytest.mark.parametrize(
    ("ext", "params"),
    [
        (".png", []),
        (".jpg", []),
        (".bmp", []),
        (".tiff", []),
        (".webp", []),
        (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),
    ],
)
def test_header_size_is_read_without_decoding(ext, params):
    from engine.io.headers import header_size as _header_size

    ok, data = cv2.imencode(ext, np.zeros((30, 41, 3), np.uint8), params)
    assert ok
    assert _header_size(data.tobytes()) == (41, 30)
