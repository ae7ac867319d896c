"""Colour constants shared by the readers, the preprocessing and the window; no OpenCV here."""

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
"""ITU-R BT.601 weights of R, G, B in gray: the engine's gray input and the Input panel's."""
LUMA.flags.writeable = False
