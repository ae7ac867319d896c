"""What each layer type does, in a sentence or two: the layer form and the Kernels dock show it.

Every type a pipeline can hold has one, the layer types only imported ONNX models use included
(a test checks that none is missing), so selecting any layer of any network says what it does.
"""

from __future__ import annotations

from engine.i18n import N_, _

__all__ = ["LAYER_EXPLANATIONS", "explain_layer_type"]

LAYER_EXPLANATIONS = {
    "Conv2d": N_("A convolution slides each filter over the input and sums weight times value "
              "at every position: one output map per filter."),
    "ReLU": N_("ReLU keeps positive values and sets negative ones to zero: max(0, x)."),
    "LeakyReLU": N_("Leaky ReLU keeps positive values and multiplies negative ones by a small "
                 "slope, so they are not lost entirely."),
    "Sigmoid": N_("Sigmoid squashes every value into (0, 1): 1 / (1 + e^-x)."),
    "Tanh": N_("Tanh squashes every value into (-1, 1), keeping its sign."),
    "Hardtanh": N_("Hardtanh clips every value to a fixed range."),
    "MaxPool2d": N_("Max pooling keeps the largest value of each window: the maps get smaller "
                 "and small shifts of the image matter less. It has no weights."),
    "AvgPool2d": N_("Average pooling replaces each window by its mean: a blur that shrinks the "
                 "maps. It has no weights."),
    "GlobalAvgPool2d": N_("Global average pooling turns each map into one number, its mean."),
    "BatchNorm2d": N_("Batch norm shifts and scales each channel with stored statistics: "
                   "(x - mean) / sqrt(var + eps) * weight + bias."),
    "Flatten": N_("Flatten lays the stacked maps out as one long vector."),
    "Linear": N_("A fully connected layer: every output is a weighted sum of all inputs."),
    "Softmax": N_("Softmax turns scores into probabilities that sum to one."),
    "Add": N_("Add sums its inputs element by element (a skip connection)."),
    "Concat": N_("Concat stacks the maps of its inputs along the channel axis."),
    "Dropout": N_("Dropout sets random values to zero while a network trains, so that it does not "
                  "lean on any one of them; when it runs, it passes its input through."),
    # the layer types of imported networks
    "SiLU": N_("SiLU (swish) multiplies each value by its sigmoid, x / (1 + e^-x): like ReLU "
               "for large values, but smooth, and slightly negative for small negative ones."),
    "HardSwish": N_("Hard swish is a cheap SiLU made of straight pieces: x * clip(x + 3, 0, 6) / "
                    "6 (MobileNetV3)."),
    "HardSigmoid": N_("Hard sigmoid is a sigmoid made of straight pieces: clip(alpha * x + beta, "
                      "0, 1)."),
    "GELU": N_("GELU weighs each value by the chance that a standard normal value is smaller: "
               "x * Phi(x), a smooth ReLU (ConvNeXt, transformers)."),
    "ELU": N_("ELU keeps positive values and bends negative ones smoothly towards -alpha."),
    "SELU": N_("SELU is an ELU with fixed scales chosen so that activations keep a mean of 0 "
               "and a variance of 1 from layer to layer."),
    "PReLU": N_("PReLU is a leaky ReLU whose negative slope was learned, one per channel or "
                "shared."),
    "Clip": N_("Clip limits every value to a range (ReLU6 is a clip to 0 to 6)."),
    "Softplus": N_("Softplus is a smooth ReLU: log(1 + e^x)."),
    "Erf": N_("Erf is the error function, which exact GELU is built from."),
    "Sqrt": N_("Square root of every value."),
    "Reciprocal": N_("One divided by every value."),
    "Exp": N_("e to the power of every value."),
    "Log": N_("Natural logarithm of every value."),
    "Abs": N_("Absolute value of every value."),
    "Neg": N_("Changes the sign of every value."),
    "LogSoftmax": N_("Log-softmax gives the logarithms of softmax's probabilities, which is "
                     "steadier to compute."),
    "Mul": N_("Multiplies its inputs value by value, or by a constant; a small input is "
              "repeated to fit (a squeeze-and-excitation gate scales each channel this way)."),
    "Sub": N_("Subtracts value by value (a mean image, say), repeating a small input to fit."),
    "Div": N_("Divides value by value (by a standard deviation, say), repeating a small input "
              "to fit."),
    "Pow": N_("Raises values to a power, value by value."),
    "Sum": N_("Adds its inputs value by value, repeating small ones to fit."),
    "Max": N_("Keeps the larger of its inputs at every position."),
    "Min": N_("Keeps the smaller of its inputs at every position."),
    "AddConstant": N_("Adds a stored constant, such as the bias after a matrix product."),
    "MatMul": N_("A matrix product with stored weights: a fully connected layer written out."),
    "LayerNorm": N_("Layer norm rescales the values of each position (or each sample) to mean 0 "
                    "and variance 1, then applies a learned scale and shift."),
    "InstanceNorm2d": N_("Instance norm rescales each map of each image to mean 0 and variance "
                         "1, then applies a learned scale and shift per channel."),
    "LocalResponseNorm": N_("Local response normalization divides each value by the activity "
                            "of neighbouring channels at the same place (AlexNet, GoogLeNet)."),
    "ConvTranspose2d": N_("A transposed convolution spreads each input value over a window of "
                          "the output, weighted by the filter: it makes maps larger (U-Nets, "
                          "decoders)."),
    "Resize": N_("Resize scales the maps to a new height and width by nearest or linear "
                 "interpolation."),
    "LpPool2d": N_("Lp pooling replaces each window by the p-norm of its values: between "
                   "average (p = 1) and max pooling (large p)."),
    "Pad": N_("Pad adds a border around each map: zeros, a constant, or a reflection."),
    "Reshape": N_("Reshape lays the same values out in a new shape."),
    "Transpose": N_("Transpose reorders the axes of its input."),
    "Slice": N_("Slice keeps a range of channels or positions."),
    "Gather": N_("Gather picks the listed channels or positions, in the listed order."),
    "ReduceMean": N_("Averages over the listed axes."),
    "ReduceMax": N_("Keeps the largest value over the listed axes."),
    "ReduceMin": N_("Keeps the smallest value over the listed axes."),
    "ReduceSum": N_("Sums over the listed axes."),
    "Identity": N_("Identity passes its input through unchanged."),
}


def explain_layer_type(type_name: str) -> str:
    """The translated sentence for ``type_name``; a plain one for a type that has none."""
    text = LAYER_EXPLANATIONS.get(type_name)
    if text is None:
        return _("{type_name} computes its output from its input.").format(type_name=type_name)
    return _(text)
