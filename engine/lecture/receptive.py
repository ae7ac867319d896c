"""Receptive fields for the lecture panels.

The arithmetic lives in :mod:`engine.graph.receptive`, one layer down, so that the explanations
(:mod:`engine.explain`, the top-9 patches' crops) can use it without importing the lecture;
this module keeps the lecture's import path.
"""

from engine.graph.receptive import ReceptiveField, Region, receptive_field

__all__ = ["ReceptiveField", "Region", "receptive_field"]
