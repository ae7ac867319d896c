"""Named kernel presets, their expansion to multi-channel filters, and seeded initializers.

A preset is a 2-D kernel. A conv filter on an RGB image needs one 2-D slice per input
channel; :func:`expand_kernel` builds it in one of a few documented ways ("luma" by default,
so that a Sobel on RGB gives the same map as the Sobel on the gray image).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from engine.i18n import N_, _, ngettext

__all__ = [
    "EXPAND_MODES",
    "LUMA",
    "PRESETS",
    "PRESET_DESCRIPTIONS",
    "describe_expansion",
    "expand_kernel",
    "get_preset",
    "glorot_init",
    "he_init",
    "initialize",
]

# ITU-R BT.601 weights, the ones OpenCV's RGB -> gray conversion uses.
LUMA = (0.299, 0.587, 0.114)

EXPAND_MODES = ("luma", "each", "red", "green", "blue", "channel:i")


def _binomial(n: int) -> np.ndarray:
    row = np.array([math.comb(n - 1, i) for i in range(n)], dtype=np.float64)
    return np.outer(row, row) / row.sum() ** 2


def _frozen(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float32)
    array.setflags(write=False)
    return array


_SOBEL = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
_SCHARR = [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]
_PREWITT = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]

PRESETS: dict[str, np.ndarray] = {
    "identity": _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_blur": _frozen(np.full((3, 3), 1 / 9)),
    "gaussian_3": _frozen(_binomial(3)),
    "gaussian_5": _frozen(_binomial(5)),
    "gaussian_7": _frozen(_binomial(7)),
    "sharpen": _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "emboss": _frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "outline": _frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "sobel_x": _frozen(_SOBEL),
    "sobel_y": _frozen(np.transpose(_SOBEL)),
    "scharr_x": _frozen(_SCHARR),
    "scharr_y": _frozen(np.transpose(_SCHARR)),
    "prewitt_x": _frozen(_PREWITT),
    "prewitt_y": _frozen(np.transpose(_PREWITT)),
}

PRESET_DESCRIPTIONS: dict[str, str] = {
    "identity": N_("passes the image through unchanged"),
    "box_blur": N_("3x3 mean: every pixel becomes the average of its neighbourhood"),
    "gaussian_3": N_("3x3 Gaussian blur (binomial weights 1 2 1)"),
    "gaussian_5": N_("5x5 Gaussian blur (binomial weights 1 4 6 4 1)"),
    "gaussian_7": N_("7x7 Gaussian blur (binomial weights 1 6 15 20 15 6 1)"),
    "sharpen": N_("boosts a pixel against its four neighbours"),
    "emboss": N_("relief effect: bright where the image gets brighter towards the bottom right"),
    "outline": N_("Laplacian: bright on edges and spots in any direction, zero on flat areas"),
    "sobel_x": N_("vertical edges: positive where the image gets brighter to the right"),
    "sobel_y": N_("horizontal edges: positive where the image gets brighter downwards"),
    "scharr_x": N_("vertical edges, like Sobel X with better rotation symmetry"),
    "scharr_y": N_("horizontal edges, like Sobel Y with better rotation symmetry"),
    "prewitt_x": N_("vertical edges with equal row weights"),
    "prewitt_y": N_("horizontal edges with equal column weights"),
}


def get_preset(name: str) -> np.ndarray:
    """Return a writable float32 copy of the preset ``name``.

    Examples
    --------
    >>> get_preset("sobel_x")[0]
    array([-1.,  0.,  1.], dtype=float32)
    """
    try:
        return PRESETS[name].copy()
    except KeyError:
        known = ", ".join(PRESETS)
        raise ValueError(_("unknown kernel preset {name!r}; known presets: {known}").format(
            name=name, known=known)) from None


def _channel_of(mode: str, in_channels: int) -> int | None:
    """The one channel a single-channel mode uses, or None for luma / each."""
    if mode in ("luma", "each"):
        return None
    if mode in ("red", "green", "blue"):
        if in_channels != 3:
            raise ValueError(
                _("expand mode {mode!r} needs an RGB input (3 channels), not {in_channels}").format(
                    mode=mode, in_channels=in_channels)
            )
        return ("red", "green", "blue").index(mode)
    if mode.startswith("channel:"):
        text = mode.removeprefix("channel:")
        if not text.isdigit():
            raise ValueError(_("expand mode {mode!r}: write the channel as a number, e.g. "
                               "channel:0").format(mode=mode))
        index = int(text)
        if index >= in_channels:
            raise ValueError(
                _("expand mode {mode!r}: the input has {in_channels} channels (0 to"
                  " {last})").format(mode=mode, in_channels=in_channels, last=in_channels - 1)
            )
        return index
    raise ValueError(
        _("unknown expand mode {mode!r}; use luma, each, red, green, blue or channel:<i>").format(
            mode=mode)
    )


def expand_kernel(kernel2d, in_channels: int, mode: str = "luma") -> np.ndarray:
    """Turn a 2-D kernel into one filter over ``in_channels`` channels.

    Modes
    -----
    ``"luma"`` (default)
        RGB: the kernel weighted by 0.299 / 0.587 / 0.114 on R / G / B, so the filter's map
        equals the kernel applied to the gray (luma) image. Other channel counts: ``k / C``
        on every channel (the kernel applied to the channel mean).
    ``"each"``
        The same kernel on every channel, summed: the map is C times the luma-like response.
    ``"red"``, ``"green"``, ``"blue"``, ``"channel:i"``
        The kernel on one channel, zeros on the others.

    Returns
    -------
    numpy.ndarray
        ``(in_channels, kh, kw)`` float32.

    Examples
    --------
    >>> expand_kernel(PRESETS["identity"], 3)[:, 1, 1]
    array([0.299, 0.587, 0.114], dtype=float32)
    """
    k = np.asarray(kernel2d, dtype=np.float64)
    if k.ndim != 2:
        raise ValueError(_("a kernel to expand must be 2-D, not of shape {shape}").format(
            shape=k.shape))
    if in_channels < 1:
        raise ValueError(_("in_channels must be at least 1, not {in_channels}").format(
            in_channels=in_channels))
    channel = _channel_of(mode, in_channels)
    out = np.zeros((in_channels, *k.shape))  # (C_in, kh, kw)
    if mode == "luma":
        weights = LUMA if in_channels == 3 else (1.0 / in_channels,) * in_channels
        for c, w in enumerate(weights):
            out[c] = w * k
    elif mode == "each":
        out[:] = k
    else:
        out[channel] = k
    return out.astype(np.float32)


def describe_expansion(mode: str, in_channels: int) -> str:
    """One phrase telling how a 2-D preset became a filter, for the ledger's note.

    Examples
    --------
    >>> describe_expansion("luma", 3)
    'on luma (0.299 R + 0.587 G + 0.114 B)'
    """
    channel = _channel_of(mode, in_channels)
    if mode == "luma":
        if in_channels == 1:
            return _("on the single channel")
        if in_channels == 3:
            return _("on luma (0.299 R + 0.587 G + 0.114 B)")
        return _("on the mean of the {n} channels").format(n=in_channels)
    if mode == "each":
        return _("on each of the {n} channels, summed").format(n=in_channels)
    if mode in _ONE_COLOR:
        return _(_ONE_COLOR[mode])
    return _("on channel {channel} only").format(channel=channel)


# The phrases of describe_expansion for the color modes, translated where shown.
_ONE_COLOR = {"red": N_("on the red channel only"), "green": N_("on the green channel only"),
              "blue": N_("on the blue channel only")}


def _fans(shape: Sequence[int]) -> tuple[int, int]:
    if len(shape) < 2 or any(s < 1 for s in shape):
        raise ValueError(_("an initializer needs a shape of at least 2 positive sizes, not "
                           "{shape}").format(shape=shape))
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def he_init(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """He (Kaiming) normal weights: std ``sqrt(2 / fan_in)``, for layers followed by ReLU.

    ``fan_in`` is ``C_in * kh * kw`` for a conv weight ``(C_out, C_in, kh, kw)``.

    Examples
    --------
    >>> he_init((8, 3, 3, 3), seed=0).shape
    (8, 3, 3, 3)
    """
    fan_in, _ = _fans(shape)
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(tuple(shape)) * math.sqrt(2.0 / fan_in)).astype(np.float32)


def glorot_init(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """Glorot (Xavier) uniform weights in ``+-sqrt(6 / (fan_in + fan_out))``.

    Examples
    --------
    >>> float(abs(glorot_init((10, 20), seed=1)).max()) <= (6 / 30) ** 0.5
    True
    """
    fan_in, fan_out = _fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    rng = np.random.default_rng(seed)
    return rng.uniform(-limit, limit, tuple(shape)).astype(np.float32)


INITIALIZERS = {"he": he_init, "glorot": glorot_init}


def initialize(init: str, shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """Seeded weights by initializer name ("he" or "glorot")."""
    try:
        function = INITIALIZERS[init]
    except KeyError:
        raise ValueError(_("unknown initializer {init!r}; use he or glorot").format(
            init=init)) from None
    return function(shape, seed)


def _filter_from_entry(entry, expand: str, in_channels: int, kernel: tuple[int, int]):
    """One filter ``(C_in, kh, kw)`` and its short description from a ``presets`` entry."""
    if isinstance(entry, str):
        name, mode, values = entry, expand, None
    elif isinstance(entry, dict) and set(entry) <= {"preset", "expand"} and "preset" in entry:
        name, mode, values = entry["preset"], entry.get("expand", expand), None
    elif isinstance(entry, dict) and set(entry) == {"values"}:
        name, mode, values = None, None, entry["values"]
    else:
        raise ValueError(
            _("a presets entry must be a preset name, {{'preset': ..., 'expand': ...}} or"
              " {{'values': ...}}, not {entry!r}").format(entry=entry)
        )
    if values is not None:
        array = np.asarray(values, dtype=np.float32)
        if array.shape != (in_channels, *kernel):
            raise ValueError(
                _("explicit filter values have shape {shape}, the layer needs"
                  " {needed}").format(shape=array.shape, needed=(in_channels, *kernel))
            )
        return array, "values"
    k = get_preset(name)
    if k.shape != kernel:
        raise ValueError(
            _("preset {name} is {ph}x{pw} but the layer's kernel is"
              " {kh}x{kw}").format(
                name=name, ph=k.shape[0], pw=k.shape[1], kh=kernel[0], kw=kernel[1])
        )
    suffix = "" if mode == expand else f" ({describe_expansion(mode, in_channels)})"
    return expand_kernel(k, in_channels, mode), name + suffix


def build_weight(source: dict, out_channels: int, in_channels: int,
                 kernel_size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """Conv weights ``(C_out, C_in, kh, kw)`` and a description from a weight source.

    Sources (the ``weights`` object of a pipeline file, minus explicit arrays):

    - ``{"init": "he" | "glorot", "seed": 0}``: seeded random weights;
    - ``{"preset": "sobel_x", "expand": "luma"}``: every filter is the expanded preset;
    - ``{"presets": [...], "expand": "luma"}``: one entry per filter, each a preset name,
      ``{"preset": name, "expand": mode}`` or ``{"values": (C_in, kh, kw) nested lists}``.

    Examples
    --------
    >>> w, text = build_weight({"preset": "sobel_x"}, 1, 3, (3, 3))
    >>> w.shape, text
    ((1, 3, 3, 3), 'preset sobel_x on luma (0.299 R + 0.587 G + 0.114 B)')
    """
    shape = (out_channels, in_channels, *kernel_size)
    if not isinstance(source, dict):
        raise ValueError(_("a weight source must be an object, not {source!r}").format(
            source=source))
    keys = set(source)
    if keys <= {"init", "seed"} and "init" in keys:
        seed = source.get("seed", 0)
        return initialize(source["init"], shape, seed), _("{init} seed {seed}").format(
            init=source["init"], seed=str(seed))
    if keys <= {"preset", "expand"} and "preset" in keys:
        expand = source.get("expand", "luma")
        one, _text = _filter_from_entry(source["preset"], expand, in_channels, tuple(kernel_size))
        weight = np.broadcast_to(one, shape).copy()
        return weight, _("preset {name} {expansion}").format(
            name=source["preset"], expansion=describe_expansion(expand, in_channels))
    if keys <= {"presets", "expand"} and "presets" in keys:
        expand = source.get("expand", "luma")
        entries = source["presets"]
        if not isinstance(entries, list) or len(entries) != out_channels:
            count = len(entries) if isinstance(entries, list) else "not a list"
            raise ValueError(_("presets needs one entry per filter ({out_channels}), got "
                               "{count}").format(out_channels=out_channels, count=count))
        built = [_filter_from_entry(e, expand, in_channels, tuple(kernel_size)) for e in entries]
        weight = np.stack([w for w, _ in built])  # (C_out, C_in, kh, kw)
        names = ", ".join(text for _, text in built if text != "values")
        explicit = [str(i + 1) for i, (_, text) in enumerate(built) if text == "values"]
        parts = [_("presets {names} {expansion}").format(
            names=names, expansion=describe_expansion(expand, in_channels))] if names else []
        if explicit:
            parts.append(ngettext("explicit values for filter {filters}",
                                  "explicit values for filters {filters}", len(explicit)).format(
                filters=", ".join(explicit)))
        return weight, "; ".join(parts)
    raise ValueError(
        _("unknown weight source keys {keys}; use init+seed, preset+expand or"
          " presets+expand").format(keys=sorted(keys))
    )
