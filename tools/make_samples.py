"""Draw the bundled sample images into assets/samples/ (deterministic: same bytes every run).

Each image is drawn at twice its size and shrunk with area averaging, which anti-aliases every
edge. Run from the repository root:

    python tools/make_samples.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.io.media import write_image  # noqa: E402  (needs the repository on sys.path)

W, H = 640, 480
S = 2  # supersampling factor
AA = cv2.LINE_AA


def _p(*xy: float) -> tuple[int, ...]:
    """Scale final-image coordinates to the supersampled canvas."""
    return tuple(round(v * S) for v in xy)


def _pts(points) -> np.ndarray:
    return (np.asarray(points, dtype=np.float64) * S).round().astype(np.int32)


def _vgradient(top, bottom, h=H * S, w=W * S) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]  # (h, 1, 1)
    col = (1 - t) * np.float32(top) + t * np.float32(bottom)  # (h, 1, 3)
    return np.ascontiguousarray(np.broadcast_to(col, (h, w, 3)))


def _finish(canvas: np.ndarray) -> np.ndarray:
    img = np.clip(canvas, 0, 255).astype(np.uint8)
    return cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA)


def _regular_polygon(cx, cy, r, n, rot=0.0, inner=None) -> np.ndarray:
    """Vertices of a regular polygon, or of a star when ``inner`` (inner radius) is given."""
    k = 2 * n if inner else n
    ang = rot + np.arange(k) * 2 * np.pi / k - np.pi / 2
    rad = np.where(np.arange(k) % 2 == 1, inner, r) if inner else np.full(k, r)
    return _pts(np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], axis=1))


def shapes() -> np.ndarray:
    """Colored shapes with soft shadows on a warm gradient: edges, corners and colors."""
    bg = _vgradient((244, 238, 222), (196, 210, 228))
    items = [  # (kind, geometry, RGB color)
        ("circle", (120, 130, 78), (222, 52, 52)),
        ("poly", _pts([(255, 200), (330, 48), (405, 200)]), (46, 170, 88)),
        ("rrect", ((535, 140), (150, 110), 18), (40, 92, 200)),
        ("poly", _regular_polygon(120, 350, 82, 5, inner=36), (250, 196, 30)),
        ("ellipse", ((310, 355), (105, 55), -25), (160, 60, 180)),
        ("poly", _regular_polygon(520, 355, 70, 6, rot=np.pi / 6), (245, 125, 35)),
    ]

    def draw(img, color=None, dx=0, dy=0):
        for kind, g, c in items:
            c = color if color is not None else c
            if kind == "circle":
                cv2.circle(img, _p(g[0] + dx, g[1] + dy), g[2] * S, c, -1, AA)
            elif kind == "poly":
                cv2.fillPoly(img, [g + np.int32([dx * S, dy * S])], c, AA)
            elif kind == "ellipse":
                (cx, cy), (ax, ay), ang = g
                cv2.ellipse(img, _p(cx + dx, cy + dy), _p(ax, ay), ang, 0, 360, c, -1, AA)
            else:
                (cx, cy), (rw, rh), ang = g
                box = cv2.boxPoints(((cx + dx, cy + dy), (rw, rh), ang))
                cv2.fillPoly(img, [_pts(box)], c, AA)

    shadow = np.zeros((H * S, W * S), np.float32)
    draw(shadow, color=1.0, dx=7, dy=9)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 7 * S)
    canvas = bg * (1 - 0.35 * shadow[:, :, None])
    draw(canvas)
    # Outlines and a fan of thin lines: edges at many orientations, thin and thick.
    cv2.circle(canvas, _p(120, 130), 78 * S, (120, 20, 20), 3 * S, AA)
    cv2.circle(canvas, _p(120, 130), 34 * S, (255, 255, 255), 10 * S, AA)
    cv2.polylines(canvas, [_regular_polygon(120, 350, 82, 5, inner=36)], True, (90, 60, 0), 3, AA)
    for k in range(16):  # a small sunburst: one thin edge at every 22.5 degrees
        a = np.pi * k / 8
        x0, y0 = 330 + 11 * np.cos(a), 238 - 11 * np.sin(a)
        x1, y1 = 330 + 30 * np.cos(a), 238 - 30 * np.sin(a)
        cv2.line(canvas, _p(x0, y0), _p(x1, y1), (40, 40, 50), int(1.5 * S), AA)
    cv2.circle(canvas, _p(535, 140), 26 * S, (250, 250, 250), -1, AA)
    return _finish(canvas)


def _panel(kind: str, size: int) -> np.ndarray:
    """One (size, size) float texture in 0..1."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    c = size / 2
    if kind.startswith("checker"):
        p = float(kind[7:]) * S
        return ((np.floor(x / p) + np.floor(y / p)) % 2).astype(np.float32)
    if kind.startswith("stripes"):  # stripes<angle>: bars along that direction
        a = np.deg2rad(float(kind[7:]))
        u = -x * np.sin(a) + y * np.cos(a)
        return (np.sin(2 * np.pi * u / (14 * S)) > 0).astype(np.float32)
    if kind == "zone":  # zone plate: frequency grows with radius, every orientation
        r2 = (x - c) ** 2 + (y - c) ** 2
        return 0.5 + 0.5 * np.cos(np.pi * r2 / (size * 3.5))  # below Nyquist up to the corners
    if kind == "star":  # Siemens star: 24 spokes
        return (np.sin(12 * np.arctan2(y - c, x - c)) > 0).astype(np.float32)
    if kind == "dots":
        p = 20 * S
        d = np.hypot((x % p) - p / 2, (y % p) - p / 2)
        return np.clip((6 * S - d) / S + 0.5, 0, 1)
    if kind == "chirp":  # vertical bars whose frequency rises left to right
        return 0.5 + 0.5 * np.cos(2 * np.pi * (x / size) ** 2 * 28)
    if kind == "bricks":
        bh, bw, m = 20 * S, 40 * S, 3 * S
        row = np.floor(y / bh)
        xx = (x + (row % 2) * bw / 2) % bw
        mortar = ((y % bh) < m) | (xx < m)
        return np.where(mortar, 0.9, 0.25).astype(np.float32)
    raise ValueError(kind)


def textures() -> np.ndarray:
    """A 4 x 3 board of checkers, stripes, rings and spokes: orientations and frequencies."""
    size = 160 * S
    layout = [
        [("checker8", (1, 1, 1)), ("checker20", (1, 1, 1)), ("stripes0", (0.2, 0.5, 1)),
         ("stripes90", (1, 0.45, 0.1))],
        [("stripes45", (1, 1, 1)), ("stripes135", (1, 1, 1)), ("zone", (1, 1, 1)),
         ("star", (1, 1, 1))],
        [("dots", (0.15, 0.75, 0.35)), ("chirp", (1, 1, 1)), ("bricks", (0.8, 0.35, 0.25)),
         ("plaid", None)],
    ]
    canvas = np.zeros((H * S, W * S, 3), np.float32)
    for r, row in enumerate(layout):
        for c, (kind, tint) in enumerate(row):
            if kind == "plaid":  # two colored gratings crossing: color and orientation at once
                a = _panel("stripes0", size)
                b = _panel("stripes90", size)
                tile = 255 * np.stack([0.15 + 0.75 * a, 0.2 + 0.3 * (a * b), 0.25 + 0.7 * b], -1)
            else:
                v = _panel(kind, size)[:, :, None]
                dark, light = np.float32((20, 22, 28)), 255 * np.float32(tint)
                tile = dark + v * (light - dark)
            canvas[r * size : (r + 1) * size, c * size : (c + 1) * size] = tile
    # Thin frames between the panels, so that each panel reads as one swatch.
    for k in range(1, 4):
        cv2.line(canvas, (k * size, 0), (k * size, H * S), (128, 128, 128), 2 * S)
    for k in range(1, 3):
        cv2.line(canvas, (0, k * size), (W * S, k * size), (128, 128, 128), 2 * S)
    return _finish(canvas)


def colors() -> np.ndarray:
    """A hue/saturation wheel, additive R, G, B circles, pure color blocks and a gray ramp."""
    h, w = H * S, W * S
    canvas = np.full((h, w, 3), 34, np.float32)
    # Color wheel: hue = angle, saturation = distance from the center, full value.
    cx, cy, r = 170 * S, 190 * S, 150 * S
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    dist = np.hypot(x - cx, y - cy)
    hue = (np.degrees(np.arctan2(cy - y, x - cx)) % 360) / 2  # OpenCV hue: 0..180
    sat = np.clip(dist / r, 0, 1) * 255
    hsv = np.stack([hue, sat, np.full_like(hue, 255)], -1).astype(np.uint8)
    wheel = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32)
    inside = np.clip(r - dist + 0.5, 0, 1)[:, :, None]
    canvas = canvas * (1 - inside) + wheel * inside
    # Additive RGB: three light discs on black, mixing to cyan, magenta, yellow and white.
    light = np.zeros((h, w, 3), np.float32)
    for k, (dx, dy) in enumerate([(0, -46), (-42, 28), (42, 28)]):
        disc = np.zeros((h, w), np.float32)
        cv2.circle(disc, _p(475 + dx, 180 + dy), 78 * S, 255.0, -1, AA)
        light[:, :, k] = disc
    box = (slice(25 * S, 335 * S), slice(330 * S, 620 * S))
    canvas[box] = light[box]  # the discs on a black panel: light adds up, no background
    blocks = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 255, 255), (255, 0, 255),
              (255, 255, 0), (0, 0, 0), (255, 255, 255)]
    for k, col in enumerate(blocks):
        x0 = 20 + k * 76
        cv2.rectangle(canvas, _p(x0, 360), _p(x0 + 68, 410), col, -1)
        cv2.rectangle(canvas, _p(x0, 360), _p(x0 + 68, 410), (90, 90, 90), S)
    ramp = np.linspace(0, 255, 600 * S, dtype=np.float32)
    canvas[428 * S : 462 * S, 20 * S : 620 * S] = ramp[None, :, None]
    return _finish(canvas)


def _text(img, text, org, scale, color, thickness=2, font=cv2.FONT_HERSHEY_DUPLEX):
    """Blend anti-aliased text into a float canvas (putText draws on uint8 images only)."""
    mask = np.zeros(img.shape[:2], np.uint8)
    cv2.putText(mask, text, _p(*org), font, scale * S, 255, thickness * S, AA)
    a = (mask.astype(np.float32) / 255)[:, :, None]
    img[:] = img * (1 - a) + np.float32(color) * a


def street() -> np.ndarray:
    """A house on a street: straight edges, repeating windows, bricks, text and digits."""
    canvas = _vgradient((120, 170, 230), (215, 230, 245))
    cv2.circle(canvas, _p(560, 70), 60 * S, (250, 235, 190), -1, AA)
    cv2.circle(canvas, _p(560, 70), 36 * S, (255, 244, 170), -1, AA)
    hills = [(0, 290), (90, 240), (200, 265), (330, 225), (470, 262), (640, 235), (640, 330),
             (0, 330)]
    cv2.fillPoly(canvas, [_pts(hills)], (110, 160, 100), AA)
    # Road in perspective with a dashed center line, and a sidewalk.
    cv2.fillPoly(canvas, [_pts([(0, 400), (640, 400), (640, 480), (0, 480)])], (70, 72, 78))
    cv2.rectangle(canvas, _p(0, 385), _p(640, 400), (185, 182, 175), -1)
    for x0 in range(10, 640, 70):
        cv2.rectangle(canvas, _p(x0, 437), _p(x0 + 40, 443), (245, 205, 60), -1)
    # House: brick wall, roof, windows with panes, door with its number.
    wall = (slice(200 * S, 385 * S), slice(60 * S, 340 * S))
    yy, xx = np.mgrid[wall].astype(np.float32)
    row = np.floor(yy / (12 * S))
    mortar = ((yy % (12 * S)) < 2 * S) | (((xx + (row % 2) * 12 * S) % (24 * S)) < 2 * S)
    canvas[wall] = np.where(mortar[:, :, None], (215, 205, 195), (176, 78, 58))
    cv2.fillPoly(canvas, [_pts([(40, 205), (200, 105), (360, 205)])], (70, 55, 60), AA)
    cv2.rectangle(canvas, _p(270, 120), _p(295, 170), (120, 60, 50), -1)
    for wx, wy in [(85, 230), (245, 230), (85, 310)]:
        cv2.rectangle(canvas, _p(wx - 4, wy - 4), _p(wx + 54, wy + 54), (245, 245, 240), -1)
        cv2.rectangle(canvas, _p(wx, wy), _p(wx + 50, wy + 50), (100, 150, 205), -1)
        cv2.line(canvas, _p(wx + 25, wy), _p(wx + 25, wy + 50), (245, 245, 240), 3 * S)
        cv2.line(canvas, _p(wx, wy + 25), _p(wx + 50, wy + 25), (245, 245, 240), 3 * S)
    cv2.rectangle(canvas, _p(175, 285), _p(225, 385), (60, 95, 70), -1)
    cv2.circle(canvas, _p(215, 338), 3 * S, (230, 200, 90), -1, AA)
    cv2.rectangle(canvas, _p(250, 300), _p(320, 340), (250, 248, 240), -1)
    _text(canvas, "27", (257, 333), 1.1, (30, 40, 90), 2, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
    # Picket fence: a row of vertical bars.
    for x0 in range(350, 640, 18):
        cv2.fillPoly(canvas, [_pts([(x0, 385), (x0, 335), (x0 + 5, 328), (x0 + 10, 335),
                                    (x0 + 10, 385)])], (248, 248, 244), AA)
    cv2.rectangle(canvas, _p(345, 348), _p(640, 354), (235, 235, 230), -1)
    # Tree and street sign.
    cv2.rectangle(canvas, _p(440, 250), _p(456, 336), (105, 70, 45), -1)
    for (tx, ty, tr) in [(448, 215, 48), (415, 240, 34), (482, 240, 34), (448, 180, 34)]:
        cv2.circle(canvas, _p(tx, ty), tr * S, (50, 120, 60), -1, AA)
    cv2.rectangle(canvas, _p(585, 230), _p(591, 392), (120, 125, 130), -1)
    cv2.rectangle(canvas, _p(530, 205), _p(636, 240), (30, 110, 60), -1)
    cv2.rectangle(canvas, _p(533, 208), _p(633, 237), (240, 240, 240), S)
    _text(canvas, "MAIN ST", (541, 230), 0.55, (245, 245, 245), 1)
    # A car with a number plate.
    cv2.rectangle(canvas, _p(60, 415), _p(250, 460), (200, 40, 45), -1)
    cv2.fillPoly(canvas, [_pts([(95, 415), (120, 388), (195, 388), (220, 415)])], (200, 40, 45),
                 AA)
    cv2.fillPoly(canvas, [_pts([(108, 413), (126, 393), (155, 393), (155, 413)])],
                 (170, 210, 235), AA)
    cv2.fillPoly(canvas, [_pts([(162, 413), (162, 393), (190, 393), (208, 413)])],
                 (170, 210, 235), AA)
    for wx in (100, 210):
        cv2.circle(canvas, _p(wx, 460), 17 * S, (25, 25, 28), -1, AA)
        cv2.circle(canvas, _p(wx, 460), 7 * S, (180, 180, 185), -1, AA)
    cv2.rectangle(canvas, _p(122, 432), _p(188, 452), (250, 250, 250), -1)
    _text(canvas, "CNN 42", (126, 448), 0.45, (20, 20, 20), 1, cv2.FONT_HERSHEY_SIMPLEX)
    return _finish(canvas)


def digits() -> np.ndarray:
    """Digits 0-9 written in several fonts on lined paper, each glyph slightly tilted."""
    rng = np.random.default_rng(2026)
    h, w = H * S, W * S
    canvas = np.empty((h, w, 3), np.float32)
    canvas[:] = (250, 248, 238)
    for y0 in range(70, 480, 36):
        cv2.line(canvas, _p(0, y0), _p(640, y0), (170, 200, 230), S, AA)
    cv2.line(canvas, _p(52, 0), _p(52, 480), (230, 120, 120), S, AA)
    fonts = [cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
             cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
             cv2.FONT_HERSHEY_SCRIPT_SIMPLEX]
    inks = [(25, 40, 120), (20, 20, 25), (25, 40, 120), (150, 30, 30), (20, 20, 25),
            (20, 90, 60)]
    cell = 56 * S
    for r, (font, ink) in enumerate(zip(fonts, inks, strict=True)):
        for k in range(10):
            glyph = np.zeros((cell, cell), np.uint8)
            scale = rng.uniform(1.5, 1.9) * S
            thick = int(rng.integers(2, 5)) * S
            (tw, th), _ = cv2.getTextSize(str(k), font, scale, thick)
            org = ((cell - tw) // 2, (cell + th) // 2)
            cv2.putText(glyph, str(k), org, font, scale, 255, thick, AA)
            rot = cv2.getRotationMatrix2D((cell / 2, cell / 2), rng.uniform(-14, 14), 1.0)
            glyph = cv2.warpAffine(glyph, rot, (cell, cell))[:, :, None] / np.float32(255)
            x0 = (62 + k * 57 + rng.uniform(-3, 3)) * S
            y0 = (30 + r * 72 + rng.uniform(-3, 3)) * S
            ys, xs = slice(int(y0), int(y0) + cell), slice(int(x0), int(x0) + cell)
            canvas[ys, xs] = canvas[ys, xs] * (1 - glyph) + np.float32(ink) * glyph
    return _finish(canvas)


SAMPLES = {
    "shapes.png": shapes,
    "textures.png": textures,
    "colors.png": colors,
    "street.png": street,
    "digits.png": digits,
}


def main(out_dir: Path = ROOT / "assets" / "samples") -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, draw in SAMPLES.items():
        write_image(out_dir / name, draw())
        print(f"wrote {out_dir / name}")


if __name__ == "__main__":
    main()
