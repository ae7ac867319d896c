"""Small translations: shift the input by a few pixels and measure how much each layer moves.

The lecture says pooling makes a representation roughly invariant to small shifts of the input.
:func:`compare_translation` tests that on one conv + ReLU + max-pool block built from a weight;
:func:`compare_translation_pipeline` on any layers of a whole pipeline. Changes are relative
(:func:`relative_change`), so that layers of different scale compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import ops as F
from engine.i18n import _
from engine.lecture.comparisons import nearest_conv_index
from engine.ops.shapes import ShapeError

__all__ = [
    "ShiftChange",
    "TranslationComparison",
    "compare_translation",
    "compare_translation_pipeline",
    "layers_to_compare",
    "relative_change",
    "shift_image",
]

_POOLS = {"MaxPool2d", "AvgPool2d"}


def shift_image(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move the content of a (C, H, W) image by (dy, dx) pixels; the border is repeated.

    Examples
    --------
    >>> shift_image(np.arange(4.0).reshape(1, 1, 4), 0, 1).tolist()
    [[[0.0, 0.0, 1.0, 2.0]]]
    """
    x = np.asarray(x, np.float32)
    if x.ndim != 3:
        raise ShapeError(_("the image must have shape (C, H, W), not {shape}").format(
            shape=x.shape))
    h, w = x.shape[1:]
    # Index maps clipped to the image repeat the edge row/column into the vacated border.
    rows = np.clip(np.arange(h) - dy, 0, h - 1)
    cols = np.clip(np.arange(w) - dx, 0, w - 1)
    return x[:, rows[:, None], cols[None, :]]


@dataclass(frozen=True)
class TranslationComparison:
    """How much conv maps and pooled maps change when the input moves by a few pixels."""

    dy: int
    dx: int
    conv_change: float       # mean |after - before| / mean |before| of the conv maps
    pool_change: float       # the same for the pooled maps
    conv_diff: np.ndarray    # (H', W') mean over maps of |after - before|
    pool_diff: np.ndarray    # (H'', W'')


def relative_change(before: np.ndarray, after: np.ndarray) -> float:
    """``mean |after - before| / mean |before|``: 0 = unchanged, 1 = as large as the layer.

    Dividing by the layer's own mean size lets layers of different scale compare. Two all-zero
    arrays give 0; a change from all zeros gives infinity.

    Examples
    --------
    >>> relative_change(np.array([1.0, 3.0]), np.array([2.0, 2.0]))
    0.5
    """
    scale = float(np.mean(np.abs(before)))
    diff = float(np.mean(np.abs(after - before)))
    if scale == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return diff / scale


def compare_translation(x, weight, dy=0, dx=1, pool=2, padding="same",
                        relu=True) -> TranslationComparison:
    """Shift the input, recompute conv and max-pooled maps, and measure how much each moved.

    Parameters
    ----------
    x : array (C, H, W)
    weight : array (C_out, C, kh, kw) or (C, kh, kw)
    dy, dx : int
        The shift in pixels (the lecture's "small translation": 1 to 3).
    pool : int
        Max-pooling window and stride.
    padding : int or "same"
    relu : bool
        Apply ReLU before pooling, as a conv block does.

    Returns
    -------
    TranslationComparison
        ``conv_change`` and ``pool_change`` are relative (0 = unchanged, 1 = as large as the
        maps themselves), so layers of different scale compare.
    """
    x = np.asarray(x, np.float32)
    weight = np.asarray(weight, np.float32)
    if weight.ndim == 3:
        weight = weight[None]
    maps = []
    for image in (x, shift_image(x, dy, dx)):
        conv = F.conv2d(image, weight, padding=padding)
        if relu:
            conv = F.relu(conv)
        maps.append((conv, F.max_pool2d(conv, pool)))
    (conv_a, pool_a), (conv_b, pool_b) = maps
    return TranslationComparison(
        dy, dx,
        relative_change(conv_a, conv_b),
        relative_change(pool_a, pool_b),
        np.abs(conv_b - conv_a).mean(axis=0),
        np.abs(pool_b - pool_a).mean(axis=0),
    )


@dataclass(frozen=True)
class ShiftChange:
    """How much one layer's output moved when the input was shifted."""

    name: str
    change: float       # mean |after - before| / mean |before|
    diff: np.ndarray    # (H, W) mean over maps of |after - before|


def compare_translation_pipeline(pipeline, x, dy: int, dx: int, names) -> list[ShiftChange]:
    """Run ``pipeline`` on ``x`` (C, H, W) and on ``x`` shifted by (dy, dx); compare ``names``.

    Parameters
    ----------
    pipeline : Pipeline
    x : array (C, H, W)
    dy, dx : int
        The shift in pixels (see :func:`shift_image`).
    names : sequence of str
        Nodes whose maps are compared, in the order wanted; the input's name
        (``pipeline.input_name``) may be among them.

    Returns
    -------
    list of ShiftChange
        One per name, in the order of ``names``.

    Examples
    --------
    >>> from engine.layers import Conv2d, MaxPool2d
    >>> from engine.graph.pipeline import Pipeline
    >>> p = Pipeline.chain([Conv2d(3, 2, 3, padding=1), MaxPool2d(2)])
    >>> x = np.random.default_rng(0).random((3, 8, 8), dtype=np.float32)
    >>> [c.name for c in compare_translation_pipeline(p, x, 0, 1, ["conv1", "pool1"])]
    ['conv1', 'pool1']
    """
    shifted = shift_image(x, dy, dx)
    before, after = pipeline.forward(x), pipeline.forward(shifted)
    before[pipeline.input_name], after[pipeline.input_name] = x, shifted
    unknown = [name for name in names if name not in before]
    if unknown:
        raise ValueError(_("the pipeline has no layer named {values}; "
                           "it has {values2}").format(
            values=', '.join(map(repr, unknown)), values2=', '.join(before)))
    out = []
    for name in names:
        a, b = before[name], after[name]
        out.append(ShiftChange(name, relative_change(a, b), np.abs(b - a).mean(axis=0)))
    return out


def layers_to_compare(pipeline, index: int) -> tuple[list[str], str | None]:
    """The layers a translation test looks at around the layer at ``index``.

    Returns
    -------
    names : list of str
        The conv layer at or before ``index`` (else the first after it), then the layers up to
        and including the first pooling layer after it; only the conv layer when another conv
        layer comes first or no pooling layer follows. Empty without any conv layer.
    pool : str or None
        That pooling layer's name, None if there is none.
    """
    conv = nearest_conv_index(pipeline, index)
    if conv is None:
        return [], None
    names = []
    for node in pipeline.nodes[conv:]:
        names.append(node.name)
        if node.layer.type_name in _POOLS:
            return names, node.name
        if len(names) > 1 and node.layer.type_name == "Conv2d":
            return names[:1], None  # another conv before any pooling
    return names[:1], None
