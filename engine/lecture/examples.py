"""The lecture's worked examples as ready-made inputs, and a crop helper.

The examples use small whole numbers so that every product and sum the players show can be
checked by hand. The translation test (shifting the input) is in :mod:`engine.lecture.translation`.
"""

from __future__ import annotations

import numpy as np

from engine.i18n import _
from engine.lecture.traces import MAX_SIDE, TraceError
from engine.ops.shapes import conv_output_size, conv_params, fc_equivalent_params, pair

__all__ = [
    "LECTURE_POOL_INPUT",
    "LECTURE_POOL_OUTPUT",
    "SOBEL_X",
    "VOLUME_SIDE",
    "crop_around",
    "lecture_7x7",
    "lecture_volume",
    "lecture_volume_summary",
]

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)

#: The lecture's max-pooling slide: 2x2 windows, stride 2.
LECTURE_POOL_INPUT = np.array(
    [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], np.float32
)
LECTURE_POOL_OUTPUT = np.array([[6, 8], [3, 4]], np.float32)

#: Side of the lecture's input volume (32x32x3): larger than a crop, so the player shows its
#: numbers on hover and as colours.
VOLUME_SIDE = 32


def lecture_7x7() -> tuple[np.ndarray, np.ndarray]:
    """The lecture's 7x7 input and a 3x3 filter (Sobel X), in small whole numbers.

    Returns
    -------
    x : array (1, 7, 7)
        A soft diagonal edge with values 0 to 3, so the products stay small.
    weight : array (1, 3, 3)
        The lecture's kernel X.

    Examples
    --------
    >>> x, w = lecture_7x7()
    >>> x.shape, w.shape
    ((1, 7, 7), (1, 3, 3))
    """
    x = np.array(
        [
            [0, 0, 1, 2, 3, 3, 3],
            [0, 0, 1, 2, 3, 3, 3],
            [0, 1, 2, 3, 3, 3, 2],
            [0, 1, 2, 3, 3, 2, 1],
            [1, 2, 3, 3, 2, 1, 0],
            [1, 2, 3, 3, 2, 1, 0],
            [2, 3, 3, 2, 1, 0, 0],
        ],
        np.float32,
    )
    return x[None], SOBEL_X[None].copy()


def lecture_volume(sample: str = "shapes") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lecture's 32x32x3 input and its layer of ten 5x5x3 filters (stride 1, padding 2).

    The filters and biases are those of the bundled ``lecture`` pipeline, so the player and
    the pipeline compute the same maps. The input is a bundled sample cut to 32x32 and
    scaled to whole numbers 0 to 9 (``round(9 * pixel / 255)``) rather than the pipeline's
    0 to 1: every input cell then holds a single digit, readable even in the small cells of
    a 36x36 padded grid, and a product (digit x weight of about 0.2) keeps two significant
    digits in the player's two-decimal format. Convolution is linear, so each map is the
    pipeline's map of the unscaled image times about 9.

    Parameters
    ----------
    sample : str
        Name of a bundled sample image (without ".png").

    Returns
    -------
    x : array (3, 32, 32)
    weight : array (10, 3, 5, 5)
    bias : array (10,)

    Examples
    --------
    >>> x, w, b = lecture_volume()
    >>> x.shape, w.shape, b.shape, int(x.min()) >= 0, int(x.max()) <= 9
    ((3, 32, 32), (10, 3, 5, 5), (10,), True, True)
    """
    from assets import asset_path
    from engine.graph.spec import load_bundled
    from engine.io.media import read_image, resize_to, to_input

    conv = load_bundled("lecture").nodes[0].layer
    side = VOLUME_SIDE
    image = resize_to(read_image(asset_path("samples", f"{sample}.png")), side, side)
    x = np.round(to_input(image) * 9).astype(np.float32)  # (3, 32, 32), whole numbers 0-9
    weight = np.asarray(conv.weight, np.float32).copy()  # (10, 3, 5, 5)
    bias = conv.bias
    bias = np.zeros(weight.shape[0], np.float32) if bias is None else np.asarray(bias, np.float32)
    return x, weight, bias.copy()


def lecture_volume_summary(in_shape=(3, 32, 32), n_filters=10, kernel_size=5, stride=1,
                           padding=2) -> dict:
    """The lecture's numbers for a conv layer: output volume, parameters, dense equivalent.

    Examples
    --------
    >>> s = lecture_volume_summary()
    >>> s["out_shape"], s["out_volume"], s["params"], s["fc_params"]
    ((10, 32, 32), 10240, 760, 94402560)
    """
    c, h, w = in_shape
    oh = conv_output_size(h, kernel_size, stride, padding)
    ow = conv_output_size(w, kernel_size, stride, padding)
    params = conv_params(c, n_filters, kernel_size)
    return {
        "out_shape": (n_filters, oh, ow),
        "out_volume": n_filters * oh * ow,
        "params": params,
        "params_formula": f"{n_filters} x ({kernel_size} x {kernel_size} x {c} + 1) = {params}",
        "fc_params": fc_equivalent_params((c, h, w), n_filters),
        "fc_formula": f"({h} x {w} x {c} + 1) x ({h} x {w} x {c}) x {n_filters}",
    }


def crop_around(x, cy: int, cx: int, size=MAX_SIDE) -> tuple[np.ndarray, tuple[int, int]]:
    """Cut a window of at most ``MAX_SIDE`` pixels a side around a point of a (C, H, W) image.

    The window is moved inside the image when the point is near a border, and shrinks only
    when the image itself is smaller.

    Returns
    -------
    crop : array (C, h, w)
    origin : (y0, x0), the crop's top-left corner in the image

    Examples
    --------
    >>> crop, origin = crop_around(np.zeros((3, 100, 80)), 0, 79, 8)
    >>> crop.shape, origin
    ((3, 8, 8), (0, 72))
    """
    x = np.asarray(x, np.float32)
    if x.ndim != 3:
        raise TraceError(_("the image must have shape (C, H, W), not {shape}").format(
            shape=x.shape))
    sh, sw = pair(size, "crop size")
    if min(sh, sw) < 1 or max(sh, sw) > MAX_SIDE:
        raise TraceError(_("the crop size must be 1 to {max_side} pixels, not {sh}x{sw}").format(
            max_side=MAX_SIDE, sh=sh, sw=sw))
    h, w = x.shape[1:]
    sh, sw = min(sh, h), min(sw, w)
    y0 = int(np.clip(cy - sh // 2, 0, h - sh))
    x0 = int(np.clip(cx - sw // 2, 0, w - sw))
    return x[:, y0:y0 + sh, x0:x0 + sw].copy(), (y0, x0)
