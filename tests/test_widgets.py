"""The latent explorer's pieces without a browser: render functions, redraws, the bad-file message.

The tests build their own model file (an untrained generator, see ``explorer_model.py``) so they
need neither MNIST nor the shipped weights; one test uses the shipped model when it is present.
"""

import io

import numpy as np
import pytest
from PIL import Image

from explorer_model import write_untrained_model
from tolerances import SAME_NETWORK
from infogan_utils.inference import SMALL_BATCH, inference_function, run_generator
from infogan_utils.pretrained import PRETRAINED_DIR, load_pretrained
from infogan_utils.widgets import (ONE_DIGIT, SLIDER_RANGE, LatentExplorer, explorer_or_message, render_digit,
                                   render_sweep)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return write_untrained_model(tmp_path_factory.mktemp("explorer") / "model.npz")


@pytest.fixture(scope="module")
def model(model_file):
    return load_pretrained(path=model_file)


def decode(png):
    assert png.startswith(PNG_SIGNATURE)
    picture = Image.open(io.BytesIO(png))
    picture.load()  # raises on a broken file
    return np.asarray(picture)


def test_render_digit_is_a_png_that_follows_every_code(model):
    png, info = render_digit(model, 0, [0.0, 0.0], noise_seed=0)
    pixels = decode(png)
    assert pixels.shape == (28 * 8, 28 * 8) and pixels.dtype == np.uint8
    assert pixels.std() > 0  # not a blank image
    assert render_digit(model, 0, [0.0, 0.0], noise_seed=0)[0] == png  # deterministic
    for other in ((3, [0.0, 0.0], 0), (0, [1.5, 0.0], 0), (0, [0.0, -1.5], 0), (0, [0.0, 0.0], 7)):
        changed = render_digit(model, other[0], other[1], noise_seed=other[2])[0]
        assert changed != png, f"the image did not change for category/codes/seed {other}"
        assert np.abs(decode(changed).astype(int) - pixels).max() > 0
    assert 0 <= info["predicted_class"] <= 9
    assert 0.0 <= info["probability"] <= 1.0
    assert len(info["predicted_continuous"]) == 2


def test_render_sweep_is_a_row_that_follows_the_other_codes(model):
    png = render_sweep(model, 2, [0.0, 0.5], sweep_index=0, noise_seed=0)
    pixels = decode(png)
    assert pixels.shape[1] > 8 * pixels.shape[0]  # a row of 9 digits
    assert render_sweep(model, 2, [1.0, 0.5], sweep_index=0) == png  # the swept code's own value is ignored
    assert render_sweep(model, 5, [0.0, 0.5], sweep_index=0) != png
    assert render_sweep(model, 2, [0.0, -0.5], sweep_index=0) != png
    assert render_sweep(model, 2, [0.0, 0.5], sweep_index=1) != png
    with pytest.raises(ValueError, match="sweep_index"):
        render_sweep(model, 2, [0.0, 0.5], sweep_index=2)


def test_render_rejects_values_the_sliders_cannot_reach(model):
    with pytest.raises(ValueError, match=r"categorical values must be whole numbers 0\.\.9"):
        render_digit(model, 10, [0.0, 0.0])
    with pytest.raises(ValueError, match=r"continuous values must lie in \[-2, 2\]"):
        render_digit(model, 0, [SLIDER_RANGE[1] + 1, 0.0])


def latent_batch(model, size, seed=0):
    rng = np.random.default_rng(seed)
    return model.spec.build_input(model.spec.sample_noise(size, rng), rng.integers(0, 10, size),
                                  rng.uniform(-2, 2, (size, 2)))


def test_compiled_inference_gives_what_a_direct_call_gives_at_any_batch_size(model):
    """The explorer's compiled path (one graph for G, one for D) against the eager Keras call it replaced."""
    from keras import ops

    for size in (1, 9, 3):
        latent = latent_batch(model, size, seed=size)
        direct = np.asarray(model.generator(latent, training=False))
        fast = run_generator(model.generator, latent)
        assert fast.shape == (size, 28, 28, 1) and fast.dtype == np.float32
        assert np.allclose(fast, direct, **SAME_NETWORK)
        outputs = model.discriminator(direct, training=False)
        probabilities, means = model.predict_codes(fast)
        assert np.allclose(probabilities, ops.convert_to_numpy(ops.softmax(outputs["categorical_logits"])), **SAME_NETWORK)
        assert np.allclose(means, np.asarray(outputs["continuous_mean"]), **SAME_NETWORK)
    # One trace serves every batch size: a new size costs no retracing (no pause in the explorer).
    assert inference_function(model.generator).experimental_get_tracing_count() == 1
    assert inference_function(model.discriminator).experimental_get_tracing_count() == 1
    assert inference_function(model.generator) is inference_function(model.generator)


def test_generate_goes_through_the_compiled_path_up_to_a_small_batch_and_agrees_beyond(model, monkeypatch):
    import infogan_utils.inference as inference

    calls = []
    monkeypatch.setattr(inference, "run_generator", lambda *args: calls.append(args) or run_generator(*args))
    labels = np.arange(SMALL_BATCH + 1) % 10
    continuous = np.zeros((SMALL_BATCH + 1, 2), "float32")
    noise = model.spec.sample_noise(SMALL_BATCH + 1, np.random.default_rng(1))
    small = model.generate(noise[:4], labels[:4], continuous[:4])
    assert len(calls) == 1
    large = model.generate(noise, labels, continuous)  # the eager call, as before
    assert len(calls) == 1
    assert np.allclose(small, large[:4], **SAME_NETWORK)


def test_compiled_inference_with_xla_agrees(model):
    latent = latent_batch(model, 2, seed=5)
    expected = np.asarray(model.generator(latent, training=False))
    assert np.allclose(run_generator(model.generator, latent, jit_compile=True), expected, **SAME_NETWORK)


def test_compiled_inference_refuses_bad_input_and_keeps_no_model_alive():
    import gc
    import weakref

    import keras

    inputs = keras.Input((3,))
    network = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match=r"latent must have shape \(n, 3\), got \(2, 4\)"):
        run_generator(network, np.zeros((2, 4)))
    assert run_generator(network, np.ones((2, 3))).shape == (2, 2)
    reference = weakref.ref(network)
    del network
    gc.collect()
    assert reference() is None, "the cache of compiled functions kept a deleted model alive"
    two = keras.Input((3,))
    with pytest.raises(ValueError, match="one input"):
        inference_function(keras.Model([inputs, two], keras.layers.Add()([inputs, two])))


def test_explorer_redraws_when_a_value_is_set_in_code(model):
    explorer = LatentExplorer(model)
    assert len(explorer.redraw_ms) == 1 and bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    seen = [bytes(explorer.image.value)]
    for change in (lambda: setattr(explorer.category, "value", 3),
                   lambda: setattr(explorer.sliders[0], "value", 1.5),
                   lambda: setattr(explorer.sliders[1], "value", -1.0),
                   lambda: setattr(explorer.noise_seed, "value", 11)):
        change()
        assert bytes(explorer.image.value) not in seen
        seen.append(bytes(explorer.image.value))
    assert len(explorer.redraw_ms) == 5
    assert "Q reads class" in explorer.status.value
    explorer.show_sweep("c3")
    height, width = decode(bytes(explorer.image.value)).shape
    assert width > 8 * height
    assert "sweeping c3" in explorer.status.value
    explorer.show_digit()
    assert decode(bytes(explorer.image.value)).shape[0] == decode(bytes(explorer.image.value)).shape[1]
    assert "Q reads class" in explorer.status.value and len(explorer.redraw_ms) == 7
    with pytest.raises(ValueError, match=r"continuous codes are c2, c3; got 'c4'"):
        explorer.show_sweep("c4")
    assert explorer.mode.value == ONE_DIGIT


def test_explorer_controls_cannot_leave_their_ranges(model):
    import traitlets

    explorer = LatentExplorer(model)
    explorer.sliders[0].value = 5.0
    assert explorer.sliders[0].value == SLIDER_RANGE[1]
    explorer.sliders[1].value = -5.0
    assert explorer.sliders[1].value == SLIDER_RANGE[0]
    explorer.noise_seed.value = -3
    assert explorer.noise_seed.value == 0
    with pytest.raises(traitlets.TraitError):
        explorer.category.value = 10
    assert list(explorer.category.options) == [(str(digit), digit) for digit in range(10)]  # MNIST: named by digit
    assert "cannot draw" not in explorer.status.value


def test_slow_redraws_switch_the_sliders_to_release_only(model):
    explorer = LatentExplorer(model, slow_ms=0.0)
    assert all(slider.continuous_update for slider in explorer.sliders)  # the warm-up redraw alone does not
    for seed in range(1, 5):
        explorer.noise_seed.value = seed
    assert not any(slider.continuous_update for slider in explorer.sliders)
    fast = LatentExplorer(model, slow_ms=1e9)
    for seed in range(1, 5):
        fast.noise_seed.value = seed
    assert all(slider.continuous_update for slider in fast.sliders)


def test_explorer_or_message_gives_the_explorer_for_a_good_file(model_file):
    widget = explorer_or_message(path=model_file)
    assert widget.explorer is not None
    assert bytes(widget.explorer.image.value).startswith(PNG_SIGNATURE)
    assert widget is widget.explorer.widget


@pytest.mark.parametrize("content", [None, b"", b"not a model", "truncated", "wrong arrays"])
def test_explorer_or_message_explains_a_missing_or_corrupt_file(tmp_path, model_file, content):
    import ipywidgets

    path = tmp_path / "model <1>.npz"  # the name is shown escaped
    if content == "truncated":
        data = model_file.read_bytes()
        content = data[:len(data) // 2]
    elif content == "wrong arrays":
        np.savez(path, meta=np.array('{"spec": {}}'), **{"generator/0000": np.zeros(3)})
    if isinstance(content, bytes):
        path.write_bytes(content)
    widget = explorer_or_message(path=path)
    assert isinstance(widget, ipywidgets.HTML) and widget.explorer is None
    assert "infogan-message" in widget.value
    assert "The latent explorer cannot start" in widget.value
    assert "model &lt;1&gt;.npz" in widget.value and "<1>" not in widget.value


def test_explorer_or_message_without_the_shipped_model(monkeypatch, tmp_path):
    import infogan_utils.pretrained as pretrained

    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", tmp_path)
    widget = explorer_or_message()
    assert widget.explorer is None and "unknown pretrained model" in widget.value


@pytest.mark.skipif(not (PRETRAINED_DIR / "mnist.npz").exists(), reason="the shipped model is not exported yet")
def test_the_shipped_model_draws_the_digit_it_is_asked_for():
    widget = explorer_or_message()
    explorer = widget.explorer
    assert explorer is not None, widget.value
    agree = 0
    for digit in range(10):
        explorer.category.value = digit
        agree += f"Q reads class <b>{digit}</b>" in explorer.status.value
    assert agree >= 8, f"Q read back only {agree} of 10 categories"


def test_make_explore_serves_the_app_notebook_with_voila():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    makefile = (root / "Makefile").read_text()
    match = re.search(r"^explore: install\b.*?\n((?:\t.*\n?)+)", makefile, re.M)
    assert match, "the Makefile needs an `explore: install` target"
    recipe = match.group(1)
    assert "-m voila notebooks/explorer_app.ipynb" in recipe and "--no-browser" in recipe
    assert "127.0.0.1" in recipe and "http://" in recipe  # localhost only, and it prints the URL
    app = (root / "notebooks" / "explorer_app.ipynb").read_text()
    assert "explorer_or_message(" in app and "INFOGAN_EXPLORER_MODEL" in app
