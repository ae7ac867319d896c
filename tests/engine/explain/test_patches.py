"""Top-k patches per channel against a brute-force search written here."""

from __future__ import annotations

import numpy as np
import pytest

from engine.explain import ExplainError, crop, top_patches
from engine.graph.node import InputSpec
from engine.graph.pipeline import Pipeline
from engine.graph.receptive import receptive_field
from engine.layers import Conv2d, MaxPool2d, ReLU
from tests.engine.explain.nets import drawn_shapes, random_input


def conv_net() -> Pipeline:
    return Pipeline.chain([Conv2d(2, 4, 3, padding=1, seed=1), ReLU(), MaxPool2d(2),
                           Conv2d(4, 3, 3, seed=2)], input_spec=InputSpec(channels=2))


def brute_force(pipeline, inputs, layer, k, distinct):
    """Every candidate (value, input, position) sorted: highest value, then earlier input and
    position; with ``distinct`` only each input's first best position."""
    per_channel = None
    for i, x in enumerate(inputs):
        a = pipeline.forward(x)[layer]
        a = a.reshape(a.shape[0], -1)  # (C, positions)
        if per_channel is None:
            per_channel = [[] for _ in range(a.shape[0])]
        for c in range(a.shape[0]):
            if distinct:
                best = max(range(a.shape[1]), key=lambda p, c=c: (a[c, p], -p))
                per_channel[c].append((float(a[c, best]), i, best, x.shape))
            else:
                per_channel[c] += [(float(a[c, p]), i, p, x.shape) for p in range(a.shape[1])]
    return [sorted(cands, key=lambda t: (-t[0], t[1], t[2]))[:k] for cands in per_channel]


def inputs_with_ties_and_two_sizes():
    a, b, c = (random_input(2, 10, 10, seed=s) for s in (1, 2, 3))
    d = random_input(2, 14, 12, seed=4)
    flat = np.full((2, 10, 10), 0.5, np.float32)  # every position ties
    return [a, b, a, d, c, flat, d, a, flat]


@pytest.mark.parametrize("distinct", [True, False])
@pytest.mark.parametrize(("layer", "k", "batch"), [("conv2", 4, 2), ("relu1", 9, 16),
                                                   ("conv2", 30, 3)])
def test_top_patches_match_a_brute_force_search(layer, k, batch, distinct):
    pipeline, inputs = conv_net(), inputs_with_ties_and_two_sizes()
    top = top_patches(pipeline, iter(inputs), layer, k=k, distinct=distinct, batch=batch)
    expected = brute_force(pipeline, inputs, layer, k, distinct)
    assert top.count == len(inputs) and top.layer == layer and not top.stopped
    assert len(top.patches) == len(expected)
    for c, (ours, theirs) in enumerate(zip(top.patches, expected, strict=True)):
        assert [(p.index, p.y * pipeline.shapes(inputs[p.index].shape)[layer][2] + p.x)
                for p in ours] == [(i, pos) for _v, i, pos, _s in theirs], c
        np.testing.assert_allclose([p.value for p in ours], [v for v, *_ in theirs], rtol=1e-6)
        for p in ours:
            field = receptive_field(pipeline, inputs[p.index].shape, layer, c, p.y, p.x)
            assert p.region == field.input_region and p.channel == c


def test_crops_lie_under_the_receptive_field():
    pipeline, x, _labels = drawn_shapes(6, seed=2)
    top = top_patches(pipeline, list(x), "conv2", k=3)
    best = top.patches[5][0]
    r = best.region
    patch = crop(x[best.index], r)
    assert patch.shape == (3, r.height, r.width) and r.height <= 10  # 5 + 1 + 2 * 2
    np.testing.assert_array_equal(patch, x[best.index][:, r.y0:r.y1 + 1, r.x0:r.x1 + 1])
    picture = x[best.index].transpose(1, 2, 0)
    assert crop(picture, r, channels_first=False).shape == (r.height, r.width, 3)
    vector = top_patches(pipeline, list(x), "fc1", k=2)
    assert vector.patches[0][0].region.height == 64  # a dense unit sees the whole input
    assert top.to_dict()["channels"][5][0]["index"] == best.index


def test_stop_and_progress_and_bad_requests():
    pipeline, inputs = conv_net(), inputs_with_ties_and_two_sizes()
    seen = []
    top = top_patches(pipeline, inputs, "conv2", batch=2, progress=seen.append,
                      stop=lambda: len(seen) >= 2)
    assert top.stopped and top.count == 3 and seen == [2, 3]  # a new size starts a batch
    with pytest.raises(ExplainError, match="at least one input"):
        top_patches(pipeline, [], "conv2")
    with pytest.raises(ExplainError, match="k must be"):
        top_patches(pipeline, inputs, "conv2", k=0)



def test_top_patches_of_a_folder_and_of_a_video(tmp_path):
    import cv2

    from engine.explain.inputs import folder_inputs, image_files, prepare, video_inputs
    from engine.io.media import MediaError, read_image, write_image
    from engine.train import make_dataset

    pipeline = drawn_shapes(1, seed=0)[0]
    images, _labels = make_dataset(5, seed=12)
    (tmp_path / "more").mkdir()
    for i, image in enumerate(images):
        write_image(tmp_path / ("more" if i % 2 else ".") / f"{i}.png", image)
    (tmp_path / "notes.txt").write_text("not a picture")
    files = image_files(tmp_path)
    assert [f.name for f in files] == ["0.png", "2.png", "4.png", "1.png", "3.png"]
    top = top_patches(pipeline, folder_inputs(files, pipeline), "conv3", k=2)
    direct = [prepare(read_image(f), pipeline) for f in files]
    assert top.count == 5 and top.to_dict() == top_patches(pipeline, direct, "conv3",
                                                           k=2).to_dict()
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 64))
    for image in images:
        writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    writer.release()
    frames = list(video_inputs(video, pipeline, every=2))
    assert len(frames) == 3 and frames[0].shape == (3, 64, 64)
    assert top_patches(pipeline, video_inputs(video, pipeline, limit=4), "fc1", k=3).count == 4
    (tmp_path / "empty").mkdir()
    with pytest.raises(MediaError, match="no pictures"):
        image_files(tmp_path / "empty")
    with pytest.raises(MediaError, match="not a folder"):
        image_files(tmp_path / "missing")
