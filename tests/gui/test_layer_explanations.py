"""Every layer type a pipeline can hold, imported ONNX types included, has a sentence saying what
it does, in English and in Portuguese; the Kernels dock shows it translated."""

from __future__ import annotations

import pytest

from engine import i18n
from engine.layers import LAYER_TYPES
from engine.layers.imported import register_onnx_layers
from gui.layer_explanations import LAYER_EXPLANATIONS, explain_layer_type
from tests.gui.i18n_support import english_words


def test_every_layer_type_is_explained():
    register_onnx_layers()
    assert sorted(set(LAYER_TYPES) - set(LAYER_EXPLANATIONS)) == []


@pytest.fixture
def portuguese():
    i18n.set_language("pt_BR")
    yield
    i18n.set_language("en")


def test_explanations_are_translated(portuguese):
    for type_name, english in LAYER_EXPLANATIONS.items():
        text = explain_layer_type(type_name)
        assert text != english and text.strip(), (type_name, text)  # formulas keep x, mean
    assert "SiLU" in explain_layer_type("SiLU")


def test_the_kernels_dock_explains_a_layer_without_kernels_in_portuguese(portuguese):
    from engine.graph.node import Node
    from engine.layers import ReLU
    from gui.docks.kernels import KernelsDock

    text = KernelsDock.explain(Node("relu1", ReLU(), ("input",)))
    assert text.startswith("<b>relu1</b>: ") and not english_words(text)
