"""A sanity check after Adebayo et al. 2018: saliency must depend on what the network learned.

Randomizing the weights of the last layers (cascading from the top, with the fresh weights
``engine.train.reinitialize`` draws) must change the saliency maps: their Spearman rank
correlation with the trained network's maps falls below 0.5.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.explain import saliency
from engine.train import reinitialize
from tests.engine.explain.nets import drawn_shapes


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1, ties sharing their mean rank (as Spearman's coefficient needs)."""
    values = values.ravel()
    order = np.argsort(values, kind="stable")
    r = np.empty(values.size)
    r[order] = np.arange(values.size)
    _unique, group, count = np.unique(values, return_inverse=True, return_counts=True)
    return (np.bincount(group, weights=r) / count)[group]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / np.sqrt((ra * ra).sum() * (rb * rb).sum()))


def test_the_rank_correlation_is_spearmans():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(50), rng.standard_normal(50)
    d = ranks(a) - ranks(b)
    assert spearman(a, b) == pytest.approx(1 - 6 * (d * d).sum() / (50 * (50 ** 2 - 1)))
    assert spearman(a, a) == pytest.approx(1.0) and spearman(a, -a) == pytest.approx(-1.0)
    np.testing.assert_allclose(ranks(np.array([3.0, 1.0, 3.0, 2.0])), [2.5, 0, 2.5, 1])


def randomized(pipeline, names, seed=1):
    fresh = reinitialize(pipeline, seed=seed)
    return pipeline._with_nodes([dataclasses.replace(node, layer=fresh[node.name].layer)
                                 if node.name in names else node for node in pipeline])


def test_randomizing_the_last_layers_changes_the_saliency_maps():
    pipeline, x, labels = drawn_shapes(12, seed=31)
    trained = saliency(pipeline, x, target=labels).map
    medians = []
    for names in (("fc2",), ("fc2", "fc1"), ("fc2", "fc1", "conv3")):
        changed = randomized(pipeline, names)
        assert all(changed[n].layer != pipeline[n].layer for n in names)
        maps = saliency(changed, x, target=labels).map
        medians.append(np.median([spearman(a, b) for a, b in zip(trained, maps, strict=True)]))
    assert medians[-1] < 0.5, medians
    assert medians[-1] < medians[0]  # the more layers randomized, the less alike
    same = saliency(pipeline, x, target=labels).map
    assert spearman(trained[0], same[0]) == pytest.approx(1.0)
