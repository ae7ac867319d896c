"""The guided tour's stops, as data: what each one shows and says, following the lecture.

A :class:`TourStop` names a pipeline, a sample image, the panels to show (column by column), the
layer to select and, for the players, the lecture example to load; :data:`STOPS` lists them in
the lecture's order. The code that applies a stop to the window is in :mod:`gui.tour`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "STOPS",
    "ConvSetup",
    "PoolSetup",
    "TourStop",
    "channels_pipeline",
    "conv_layer_pipeline",
    "one_by_one_pipeline",
    "padding_pipeline",
    "sobel_pipeline",
    "stops",
    "stride_pipeline",
]


@dataclass(frozen=True)
class ConvSetup:
    """What the convolution player shows at a stop: a lecture example and its settings."""

    source: str = "lecture_7x7"  # a key of gui.docks.conv_player.SOURCES
    stride: int = 1
    padding: int = 0
    step: int = 0  # -1: the last step, with the whole output filled in


@dataclass(frozen=True)
class PoolSetup:
    """What the pooling player shows: the lecture's 4x4 example at a given step."""

    step: int = 0


@dataclass(frozen=True)
class TourStop:
    """One stop of the tour.

    Attributes
    ----------
    title, text, formula : str
        What the tour panel shows; the formula in plain text with Unicode symbols.
    pipeline : str or callable
        A bundled pipeline name, or a function that builds the Pipeline.
    sample : str or None
        The bundled sample to show, unless the user asked to keep their own source;
        None keeps the live source whatever the option says.
    columns : tuple of tuples of str
        The panels to show, as columns left to right (each column stacked top to bottom),
        to the right of the tour panel. Every other panel is hidden.
    widths : tuple of int
        Width in pixels of each column at the default window size.
    layer, selected_map : int
        The layer to select (index into the pipeline) and the map within it (-1: none).
    show_channels : bool
        The input panel shows the R, G, B and gray channels.
    normalization : str
        Which values share one colour scale in the maps: "map", "layer" or "global".
    conv, pool : ConvSetup or PoolSetup or None
        The example the convolution and pooling players are set to.
    calls : tuple of (panel key, method name, arguments)
        Public methods of panels to call once the stop is set up, e.g.
        ``("parameters", "show_example", ("conv32",))``.
    heights : tuple of (panel key, pixels)
        Heights of stacked panels at the default window size.
    """

    title: str
    text: str
    formula: str
    pipeline: str | Callable
    sample: str | None
    columns: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...] = ()
    layer: int = 0
    selected_map: int = -1
    show_channels: bool = False
    normalization: str = "layer"
    conv: ConvSetup | None = None
    pool: PoolSetup | None = None
    calls: tuple[tuple[str, str, tuple], ...] = ()
    heights: tuple[tuple[str, int], ...] = ()

    def build_pipeline(self):
        """The stop's Pipeline (a fresh one each time)."""
        from engine.resolve import resolve_pipeline

        if callable(self.pipeline):
            return self.pipeline()
        return resolve_pipeline(self.pipeline)

    def dock_keys(self) -> tuple[str, ...]:
        """Every panel the stop shows, in column order."""
        return tuple(key for column in self.columns for key in column)


def stops() -> tuple[TourStop, ...]:
    """The tour's stops, in the lecture's order."""
    return STOPS


# -- the pipelines the stops build ------------------------------------------------------------
def _gray_conv(name: str, presets: list[str], **settings):
    """One 3x3 convolution of the gray image with the given kernel presets."""
    from engine.graph.pipeline import InputSpec, Pipeline
    from engine.layers import Conv2d

    conv = Conv2d(1, len(presets), 3, weight_source={"presets": presets}, **settings)
    return Pipeline.chain([conv], names=[name], input_spec=InputSpec(1, "gray"), name=name)


def channels_pipeline():
    """Three identity filters, one per colour: the maps are the R, G and B channels."""
    from engine.graph.pipeline import Pipeline
    from engine.layers import Conv2d

    source = {"presets": [{"preset": "identity", "expand": c} for c in ("red", "green", "blue")]}
    conv = Conv2d(3, 3, 3, padding=1, bias=False, weight_source=source)
    return Pipeline.chain([conv], names=["rgb"], name="R, G, B channels")


def sobel_pipeline():
    """Sobel X and Sobel Y on the gray image, padding 1, no ReLU (signs stay visible)."""
    return _gray_conv("sobel", ["sobel_x", "sobel_y"], padding=1)


def stride_pipeline():
    """Sobel X with stride 2 and no padding: the live map is about half the frame's size."""
    return _gray_conv("stride2", ["sobel_x"], stride=2)


def padding_pipeline():
    """Sobel X with stride 1 and padding 1: the map keeps the frame's size."""
    return _gray_conv("pad1", ["sobel_x"], padding=1)


def conv_layer_pipeline():
    """The default pipeline's eight hand-picked 3x3x3 filters without padding."""
    from engine.graph.pipeline import Pipeline
    from engine.resolve import resolve_pipeline

    conv1 = resolve_pipeline("default").nodes[0].layer.replace(padding=0)
    return Pipeline.chain([conv1], names=["conv1"], name="eight filters")


def one_by_one_pipeline():
    """Eight 3x3 filters and ReLU, then a 1x1 convolution that mixes the 8 maps into 4."""
    from engine.graph.pipeline import Pipeline
    from engine.layers import Conv2d, ReLU
    from engine.resolve import resolve_pipeline

    conv1 = resolve_pipeline("default").nodes[0].layer
    mix = Conv2d(8, 4, 1, seed=7)
    return Pipeline.chain([conv1, ReLU(), mix], names=["conv1", "relu1", "mix1x1"],
                          name="1x1 mixing")


# -- the stops --------------------------------------------------------------------------------
STOPS: tuple[TourStop, ...] = (
    TourStop(
        "A digital image",
        "To a computer a colour picture is three grids of numbers of the same size: how much "
        "red, green and blue each pixel has, from 0 to 255. The Input panel splits the frame "
        "into those grids. The network receives them divided by 255: on the right, map 0 "
        "is R, map 1 is G and map 2 is B (hover them to read the values).",
        "image: H × W × 3 numbers, 0 … 255\n"
        "gray = 0.299 R + 0.587 G + 0.114 B",
        channels_pipeline, "astronaut",
        (("source",), ("maps",)), (380, 580),
        show_channels=True,
    ),
    TourStop(
        "Convolution: finding edges",
        "A kernel is a small grid of weights that slides over the image. At each position the "
        "pixels under it are multiplied by the weights and added up, which gives one output "
        "pixel. Sobel X responds where the image gets brighter to the right, Sobel Y where it "
        "gets brighter downwards (red: positive, blue: negative).",
        "g(x,y) = Σₛ Σₜ w(s,t) · f(x+s, y+t)\n"
        "Sobel X = [−1 0 1; −2 0 2; −1 0 1]\n"
        "Sobel Y = [−1 −2 −1; 0 0 0; 1 2 1]",
        sobel_pipeline, "shapes",
        (("source", "maps"), ("kernels",)), (575, 400),
        heights=(("source", 250),),
    ),
    TourStop(
        "A conv layer: n filters, n maps",
        "A convolution layer holds many filters, each as deep as its input: 3×3×3 on a colour "
        "image. Every filter gives one activation map, and the n maps are stacked into a new "
        "image with n channels. Without padding a 3×3 filter cannot sit on the outermost "
        "pixels, so each map loses one pixel on every side.",
        "input:   W × H × 3\n"
        "filters: n of 3 × 3 × 3\n"
        "output:  (W − 2) × (H − 2) × n\n"
        "here n = 8: eight maps, stacked",
        conv_layer_pipeline, "cat",
        (("stepper", "maps"), ("kernels",)), (575, 400),
        normalization="map", heights=(("stepper", 300),),
    ),
    TourStop(
        "Stride and output size",
        "The stride is how far the filter jumps between two positions: on the lecture's 7×7 "
        "input a 3×3 filter fits 5 times per row with stride 1 and 3 times with stride 2. "
        "With stride 3, shown in the player, the windows do not tile the input: no window "
        "reaches the last row and column (hatched red), and the floor drops them. Change S "
        "in the player to see the other cases.",
        "out = (N − F)/S + 1\n"
        "S = 1: (7 − 3)/1 + 1 = 5 → 5×5\n"
        "S = 2: (7 − 3)/2 + 1 = 3 → 3×3\n"
        "S = 3: (7 − 3)/3 + 1 = 2.33\n"
        "       → does not fit: floor = 2,\n"
        "       1 row and 1 column dropped",
        stride_pipeline, "textures",
        (("conv_player", "maps"), ("ledger",)), (620, 350),
        heights=(("conv_player", 480),),
        conv=ConvSetup("lecture_7x7", stride=3, padding=0, step=3),
    ),
    TourStop(
        "Zero padding",
        "Padding adds a border of zeros around the input, so the filter can also be centred on "
        "the edge pixels. With a 3×3 filter, stride 1 and a 1-pixel border, the 7×7 input "
        "gives a 7×7 output. In general a border of (F − 1)/2 keeps the size.",
        "out = (N − F + 2P)/S + 1\n"
        "  = (7 − 3 + 2·1)/1 + 1 = 7 → 7×7\n"
        "P = (F − 1)/2 keeps the size:\n"
        "F = 3, 5, 7  →  P = 1, 2, 3",
        padding_pipeline, "shapes",
        (("conv_player", "maps"), ("ledger",)), (620, 350),
        heights=(("conv_player", 480),),
        conv=ConvSetup("lecture_7x7", stride=1, padding=1, step=2),
    ),
    TourStop(
        "Output volume and parameters",
        "The lecture's layer: a 32×32×3 input, ten 5×5 filters, stride 1, padding 2 (in the "
        "player, pick one of the ten and step it over the sample cut to 32×32). Each filter has "
        "5·5·3 weights and one bias, so the layer learns 760 numbers, however large the image. "
        "A fully connected layer from that input to the same 32×32×10 output needs "
        "31,467,520 weights (3.1 × 10⁷); the lecture's ≈ 10⁸ gives each filter its own "
        "input-sized fully connected layer.",
        "(32 − 5 + 2·2)/1 + 1 = 32\n"
        "output: 32×32×10 = 10,240 values\n"
        "parameters: 10 × (5×5×3 + 1) = 760\n"
        "fully connected, 3,072 → 10,240:\n"
        "  (3,072 + 1) × 10,240\n"
        "  = 31,467,520 ≈ 3.1 × 10⁷\n"
        "lecture, 3,072 → 3,072 per filter:\n"
        "  (32·32·3 + 1) × (32·32·3) × 10\n"
        "  = 94,402,560 ≈ 10⁸\n"
        "200 × 200 RGB, one dense layer:\n"
        "  (120,000 + 1) × 120,000\n"
        "  ≈ 14.4 × 10⁹",
        "lecture", "shapes",
        (("parameters",), ("conv_player", "ledger")), (290, 680),
        conv=ConvSetup("lecture_volume", stride=1, padding=2, step=-1),
        calls=(("parameters", "show_example", ("conv32",)),),
        # The ledger needs two rows; the player's two stacked 5x5 grids want the height.
        heights=(("conv_player", 600),),
    ),
    TourStop(
        "1×1 convolutions",
        "A 1×1 filter looks at one pixel at a time, but through all of its channels: each "
        "output channel is a weighted sum of the input channels at that pixel. It changes "
        "the depth of a volume without touching its width and height, which makes the "
        "layers after it cheaper.",
        "y_k = Σ_c w_k,c · x_c + b_k\n"
        "      (at every pixel)\n"
        "8 → 4 channels: 4 × (1·1·8 + 1)\n"
        "              = 36 parameters",
        one_by_one_pipeline, "colors",
        (("channel_mixing", "maps"), ("ledger",)), (580, 390),
        layer=2, heights=(("channel_mixing", 500),),
    ),
    TourStop(
        "Max pooling",
        "Pooling shrinks every map by keeping one summary of each window; max pooling keeps "
        "the largest value. On the lecture's 4×4 map, 2×2 windows with stride 2 give "
        "[[6, 8], [3, 4]]. Since only the winner of each window counts, a small shift of the "
        "input changes the pooled map less than the conv map.",
        "2×2 max, stride 2:\n"
        "(4 − 2)/2 + 1 = 2 → 2×2\n"
        "1 1 2 4\n"
        "5 6 7 8   →   6 8\n"
        "3 2 1 0       3 4\n"
        "1 2 3 4",
        "edges", "shapes",
        (("pool_player", "translation"), ("ledger",)), (610, 350),
        layer=2, pool=PoolSetup(step=3), heights=(("pool_player", 380), ("translation", 350)),
    ),
    TourStop(
        "A typical ConvNet",
        "A ConvNet repeats a small block: convolution, ReLU, max pooling. Each block halves "
        "the width and height and adds maps, so deeper layers have smaller and more numerous "
        "maps, and each of their units depends on a larger patch of the input (click a unit "
        "in the receptive-field panel). The ledger lists every layer's size and parameters.",
        "3 × H × W\n"
        "→ [conv 3×3, ReLU, pool 2×2] × 3\n"
        "→ 32 × H/8 × W/8\n"
        "parameters: 224 + 1,168 + 4,640\n"
        "          = 6,032\n"
        "a conv3 unit sees 18 × 18 pixels",
        "default", "coffee",
        (("stepper", "ledger"), ("receptive_field",)), (510, 460),
        layer=6, heights=(("stepper", 280),),
    ),
    TourStop(
        "Looking inside: filters and maps",
        "To see what a network does, look at its filters and at what its layers output. The "
        "Kernels panel draws each filter of the first layer: edge detectors, a blur, a "
        "sharpener and two colour-opponent filters. The maps, after ReLU, show where in the "
        "frame each filter responds; pick a deeper layer in the maps panel for later, less "
        "obvious ones.",
        "map_k = ReLU(Σ_c w_k,c ∗ x_c + b_k)\n"
        "one filter → one map\n"
        "8 filters → 8 maps",
        "default", "digits",
        (("kernels",), ("maps",)), (400, 575),
        layer=1, normalization="map",
    ),
    TourStop(
        "What a unit responds to",
        "Deeper filters are hard to read from their weights, so ask what their unit responds "
        "to. The Explain panel grows, from noise, the picture that excites the selected map "
        "most and gives the map's weight in the top class's score; click another map to ask "
        "about it. Choose a folder of pictures there to see the nine patches that excite it "
        "most.",
        "x* = argmax_x mean A_c(x)\n"
        "x += η · ∇ₓ mean A_c   (ascent)\n"
        "α_c = mean_ij ∂y_k / ∂A_c,ij\n"
        "      (map c's weight for class k)",
        "shapes", "shapes",
        (("maps",), ("explain",)), (470, 500),
        layer=4, selected_map=5, normalization="map",
        calls=(("explain", "show_channel", ()),),
    ),
    TourStop(
        "How filters learn",
        "Nobody drew the filters of a trained network: training found them. Here the shapes "
        "network starts from random weights and trains on drawn shapes for a few seconds, each "
        "step nudging every weight against its gradient, so the loss falls in the curves. The "
        "filters themselves (right) still look like noise, since their random start is still "
        "in them, but the pictures beside them show what training added: edge and colour "
        "detectors, growing step by step.",
        "w ← w − η · ∂loss/∂w\n"
        "  (every weight, every step)\n"
        "loss = −log p(true class)\n"
        "what was learned = w − w_start",
        "shapes", "shapes",
        (("train_curves",), ("train_filters",)), (480, 500),
        calls=(("train_filters", "learn_for_tour", ()),),
    ),
)
