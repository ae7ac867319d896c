"""Hand-drawn-looking shapes, drawn from a seed: the bundled classifier's data set.

Every image is drawn from a seed, so the data set is the same on every machine and nothing is
downloaded. The drawings imitate what a user makes with a marker on paper held to the webcam, or
with the mouse on the app's drawing canvas: wobbly outlines (sometimes filled) of varying
thickness, size, rotation and position, on a light background with uneven lighting and noise.

The bundled classifier (``assets/models/shapes.npz``) was trained on exactly these pictures;
``training/shapes_data.py`` imports them from here, so keep every random draw in its order.

Examples
--------
>>> images, labels = make_dataset(16, seed=0)
>>> images.shape, images.dtype, labels[:4].tolist()
((16, 64, 64, 3), dtype('uint8'), [2, 3, 3, 2])
"""

from __future__ import annotations

import itertools

import numpy as np

from engine.i18n import _

__all__ = ["CLASSES", "SIZE", "draw_shape", "make_dataset"]

CLASSES = ("circle", "triangle", "square", "star", "cross", "heart", "arrow", "smiley")
SIZE = 64


def _polygon(n: int, radius: float, phase: float) -> np.ndarray:
    angles = phase + np.arange(n) * 2 * np.pi / n
    return np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius  # (n, 2)


def _resample(points: np.ndarray, closed: bool, per_edge: int = 12) -> np.ndarray:
    """Insert points along each edge so that a wobble bends the edges, not only the corners."""
    pts = np.vstack([points, points[:1]]) if closed else points
    t = np.linspace(0, 1, per_edge, endpoint=False)[:, None]  # (per_edge, 1)
    segs = [a + (b - a) * t for a, b in itertools.pairwise(pts)]
    out = np.vstack(segs)
    return out if closed else np.vstack([out, pts[-1:]])


def _outline(name: str, rng: np.random.Generator) -> list[tuple[np.ndarray, bool]]:
    """Return the strokes of one shape in unit coordinates (about [-1, 1]) as (points, closed)."""
    if name == "circle":
        aspect = rng.uniform(0.8, 1.2)
        pts = _polygon(40, 1.0, 0.0) * [aspect, 1 / aspect]
        return [(pts, True)]
    if name == "triangle":
        return [(_resample(_polygon(3, 1.0, -np.pi / 2), True), True)]
    if name == "square":
        return [(_resample(_polygon(4, 1.0, np.pi / 4), True), True)]
    if name == "star":
        outer = _polygon(5, 1.0, -np.pi / 2)
        inner = _polygon(5, rng.uniform(0.35, 0.5), -np.pi / 2 + np.pi / 5)
        pts = np.empty((10, 2))
        pts[0::2], pts[1::2] = outer, inner
        return [(_resample(pts, True, 6), True)]
    if name == "cross":
        w = rng.uniform(0.25, 0.4)
        pts = np.array([[-w, -1], [w, -1], [w, -w], [1, -w], [1, w], [w, w], [w, 1], [-w, 1],
                        [-w, w], [-1, w], [-1, -w], [-w, -w]])
        return [(_resample(pts, True, 5), True)]
    if name == "heart":
        t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        return [(np.stack([x, y], axis=1) / 17.0, True)]
    if name == "arrow":
        head = rng.uniform(0.35, 0.55)
        shaft = _resample(np.array([[-1.0, 0.0], [1.0, 0.0]]), False)
        tip = _resample(np.array([[1 - head, -head], [1.0, 0.0], [1 - head, head]]), False)
        return [(shaft, False), (tip, False)]
    if name == "smiley":
        face = _polygon(40, 1.0, 0.0)
        t = np.linspace(0.2 * np.pi, 0.8 * np.pi, 16)
        mouth = np.stack([np.cos(t), np.sin(t)], axis=1) * 0.55
        eye = _polygon(10, 0.1, 0.0)
        left, right = eye + np.array([-0.35, -0.3]), eye + np.array([0.35, -0.3])
        return [(face, True), (mouth, False), (left, True), (right, True)]
    raise ValueError(_("There is no shape named {name!r}").format(name=name))


def draw_shape(label: int, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """Draw one example of class ``label`` as an (size, size, 3) uint8 RGB image."""
    import cv2  # here, not at the top: importing the engine does not load OpenCV

    name = CLASSES[label]
    scale = 4  # draw large, then shrink: smooth anti-aliased strokes
    big = size * scale
    paper = rng.uniform(180, 255, size=3)
    img = np.empty((big, big, 3), np.float32)
    img[:] = paper
    # Uneven lighting: a linear gradient across the sheet.
    gy, gx = np.mgrid[0:big, 0:big].astype(np.float32) / big - 0.5
    light = 1 + rng.uniform(-0.25, 0.25) * gx + rng.uniform(-0.25, 0.25) * gy
    img *= light[..., None]
    ink = rng.uniform(0, 110, size=3) if rng.random() < 0.7 else rng.uniform(0, 200, size=3) * [
        1, 0.5, 0.5][:: rng.choice([1, -1])]
    any_direction = name in ("circle", "arrow")
    angle = rng.uniform(-0.35, 0.35) + (rng.uniform(0, 2 * np.pi) if any_direction else 0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    radius = rng.uniform(0.45, 0.8) * big / 2
    center = big / 2 + rng.uniform(-0.15, 0.15, size=2) * big
    sx, sy = rng.uniform(0.85, 1.15, size=2)
    thickness = int(rng.uniform(1.0, 4.5) * scale)
    filled = rng.random() < 0.2 and name not in ("arrow", "smiley")
    wobble = rng.uniform(0.0, 0.045)
    for pts, closed in _outline(name, rng):
        pts = pts * [sx, sy]
        pts = pts + rng.normal(0, wobble, size=pts.shape)
        pts = pts @ rot.T * radius + center
        poly = np.round(pts * 16).astype(np.int32)[None]  # fixed-point, 4 fractional bits
        if filled and closed:
            cv2.fillPoly(img, poly, ink.tolist(), cv2.LINE_AA, shift=4)
        cv2.polylines(img, poly, closed, ink.tolist(), thickness, cv2.LINE_AA, shift=4)
    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        small = cv2.GaussianBlur(small, (3, 3), rng.uniform(0.3, 1.0))
    small += rng.normal(0, rng.uniform(0, 8), size=small.shape)
    return np.clip(small, 0, 255).astype(np.uint8)


def make_dataset(n: int, seed: int, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Return ``n`` images (n, size, size, 3) uint8 and their labels (n,) int64, balanced."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(CLASSES)
    rng.shuffle(labels)
    images = np.stack([draw_shape(int(lbl), rng, size) for lbl in labels])
    return images, labels.astype(np.int64)
