"""The engine's refusals read in Brazilian Portuguese when that language is chosen.

A refused pipeline file, an impossible stride and a bad op argument each give the catalog's
sentence with its numbers in place; a formula inside a message keeps the lecture's notation.
"""

import numpy as np
import pytest

from engine import i18n
from engine import ops as F
from engine.graph.spec import FORMAT, VERSION, SpecError, pipeline_from_dict
from engine.layers import Conv2d, LayerError


@pytest.fixture
def portuguese():
    i18n.set_language("pt_BR")
    yield
    i18n.set_language("en")


def _pipeline_file(stride: int = 1, file_format: str = FORMAT) -> dict:
    return {
        "format": file_format,
        "version": VERSION,
        "input": {"channels": 3, "color": "rgb", "height": 7, "width": 7},
        "layers": [{"type": "Conv2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3,
                    "stride": stride}],
    }


def _refusal(data: dict) -> str:
    with pytest.raises(SpecError) as info:
        pipeline_from_dict(data, "t.json")
    return str(info.value)


def test_a_refused_pipeline_file_reads_in_portuguese(portuguese):
    assert _refusal(_pipeline_file(file_format="other")) == (
        f"t.json, campo 'format': não é um arquivo de pipeline: format é 'other', esperado"
        f" {FORMAT!r}")


def test_an_impossible_stride_reads_in_portuguese_with_the_formula_as_written(portuguese):
    assert _refusal(_pipeline_file(stride=3)) == (
        "t.json: camada 0 (Conv2d), campo 'stride': não serve para a entrada declarada 3x7x7:"
        " Conv2d: altura: o passo (stride) 3 não se encaixa: (7 - 3 + 2*0)/3 + 1 = 7/3 = 2.33;"
        " o piso descarta 1 pixel da borda")


def test_a_stride_of_zero_and_a_kernel_too_large_read_in_portuguese(portuguese):
    with pytest.raises(LayerError, match=r"^Conv2d: stride deve ser pelo menos 1, não 0$"):
        Conv2d(3, 8, 3, stride=0)
    with pytest.raises(ValueError, match=r"^conv2d: o kernel 5x5 é maior que a entrada"
                                         r" preenchida 3x3$"):
        F.conv2d(np.zeros((1, 3, 3), np.float32), np.zeros((1, 1, 5, 5), np.float32))


def test_english_comes_back_after_portuguese():
    i18n.set_language("pt_BR")
    i18n.set_language("en")
    assert _refusal(_pipeline_file(stride=3)).endswith(
        "stride 3 does not fit: (7 - 3 + 2*0)/3 + 1 = 7/3 = 2.33; the floor drops 1 border pixel")


def test_the_ledger_note_on_a_floored_size_reads_in_portuguese(portuguese):
    assert Conv2d(1, 1, 3, stride=3).floor_note((1, 7, 8)) == (
        "o piso descarta 1 pixel da borda na altura e 2 na largura: nenhuma janela os alcança")


def test_where_the_kernels_came_from_reads_in_portuguese(portuguese):
    conv = Conv2d(3, 1, 3, weight_source={"preset": "sobel_x"})
    assert conv.kernel_source == ("predefinido sobel_x sobre a luminância"
                                  " (0.299 R + 0.587 G + 0.114 B)")
