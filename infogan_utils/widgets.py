"""The latent explorer: ipywidgets controls that drive a trained generator.

:func:`render_digit` and :func:`render_sweep` are plain functions (tested on their own);
:class:`LatentExplorer` wires them to widgets. The image is a ``widgets.Image`` holding PNG bytes,
which redraws far faster than a new matplotlib figure.
"""

import time

import numpy as np

from .plotting import image_to_png, tile_images
from .pretrained import CONTINUOUS_RANGE

SLIDER_RANGE = CONTINUOUS_RANGE  # the sliders reach exactly the values generate() accepts


def render_digit(model, category, continuous, noise_seed=0, scale=8):
    """PNG bytes of one generated digit and the Q head's reading of it.

    Returns ``(png_bytes, info)`` where ``info`` holds the predicted class, its probability and
    the predicted continuous codes.
    """
    continuous = np.asarray(continuous, dtype="float32").reshape(1, -1)
    image = model.generate(None, [int(category)], continuous, seed=int(noise_seed))
    probabilities, means = model.predict_codes(image)
    info = {
        "predicted_class": int(probabilities[0].argmax()),
        "probability": float(probabilities[0].max()),
        "predicted_continuous": [float(v) for v in means[0]],
    }
    return image_to_png(tile_images(image, padding=0), scale=scale), info


def render_sweep(model, category, continuous, sweep_index, noise_seed=0, steps=9, scale=3):
    """PNG bytes of a row of digits in which continuous code ``sweep_index`` runs over the slider range
    while the category, the other codes and the noise stay fixed."""
    continuous = np.asarray(continuous, dtype="float32")
    if not 0 <= sweep_index < continuous.size:
        raise ValueError(f"sweep_index must be in 0..{continuous.size - 1}, got {sweep_index}")
    values = np.linspace(*SLIDER_RANGE, steps, dtype="float32")
    codes = np.tile(continuous, (steps, 1))
    codes[:, sweep_index] = values
    noise = model.spec.sample_noise(1, np.random.default_rng(int(noise_seed)))
    images = model.generate(np.repeat(noise, steps, axis=0), [int(category)] * steps, codes)
    return image_to_png(tile_images(images, columns=steps), scale=scale)


ONE_DIGIT = -1  # the view menu's value for one digit; a sweep's value is its code's index (0 for c2)


class LatentExplorer:
    """Widgets for the category (0-9), each continuous code and the noise seed, and the digit they make.

    ``display(explorer.widget)`` shows it. Setting a control's ``value`` from code redraws too, which
    is how a non-interactive run (tests, nbval) exercises the callback. If redraws take longer
    than ``slow_ms`` (median of the last few, the warm-up excluded) the sliders switch to
    redrawing only on release.
    """

    def __init__(self, model, code_names=None, slow_ms=100.0):
        import ipywidgets as widgets

        self.model = model
        self.slow_ms = slow_ms
        spec = model.spec
        self.code_keys = [f"c{index + 2}" for index in range(spec.continuous_dim)]  # what show_sweep takes
        names = code_names or self.code_keys
        labels = list(range(spec.categorical_dims[0]))
        # a model trained on a folder of classes names its buttons after the subfolders
        classes = [model.class_name(label) if hasattr(model, "class_name") else str(label) for label in labels]
        self.category = widgets.ToggleButtons(options=list(zip(classes, labels)), value=0, description="category",
                                              style={"button_width": f"{max(32, 8 * max(map(len, classes)) + 12)}px"})
        # Room for labels such as "c3: slant+ thickness+" without squeezing the slider's track.
        label_width = 7 * max(len(name) for name in names) + 12
        self.sliders = [widgets.FloatSlider(value=0.0, min=SLIDER_RANGE[0], max=SLIDER_RANGE[1], step=0.1,
                                            description=name, continuous_update=True, readout_format=".1f",
                                            style={"description_width": f"{label_width}px"},
                                            layout=widgets.Layout(width=f"{label_width + 260}px"))
                        for name in names]
        self.noise_seed = widgets.BoundedIntText(value=0, min=0, max=2**31 - 1, description="noise seed")
        views = [("one digit", ONE_DIGIT)] + [(f"sweep {name}", index) for index, name in enumerate(names)]
        self.mode = widgets.Dropdown(options=views, value=ONE_DIGIT, description="view")
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()
        self.redraw_ms = []
        controls = [self.category, *self.sliders, self.noise_seed, self.mode]
        for control in controls:
            control.observe(self._on_change, names="value")
        # The controls keep their natural width; a wide sweep image scales down instead of squeezing them.
        self.widget = widgets.HBox([widgets.VBox(controls, layout=widgets.Layout(flex="0 0 auto")),
                                    widgets.VBox([self.image, self.status], layout=widgets.Layout(flex="0 1 auto"))])
        self.redraw()

    def continuous_values(self):
        return [slider.value for slider in self.sliders]

    def show_digit(self):
        """Switch the view to one digit with Q's reading of it (the view menu's "one digit")."""
        self.mode.value = ONE_DIGIT

    def show_sweep(self, code):
        """Switch the view to a sweep of one continuous code from -2 to 2; ``code`` is its name, ``"c2"`` for
        the first continuous code, ``"c3"`` for the second and so on."""
        if code not in self.code_keys:
            raise ValueError(f"this model's continuous codes are {', '.join(self.code_keys)}; got {code!r}")
        self.mode.value = self.code_keys.index(code)

    def redraw(self):
        """Draw the current setting; returns the time it took in milliseconds."""
        started = time.perf_counter()
        try:
            if self.mode.value == ONE_DIGIT:
                png, info = render_digit(self.model, self.category.value, self.continuous_values(),
                                         self.noise_seed.value)
                codes = ", ".join(f"{v:+.2f}" for v in info["predicted_continuous"])
                read = info["predicted_class"]
                read = self.model.class_name(read) if hasattr(self.model, "class_name") else read
                message = (f"Q reads class <b>{read}</b> ({info['probability']:.0%}), "
                           f"continuous codes {codes}")
            else:
                png = render_sweep(self.model, self.category.value, self.continuous_values(), self.mode.value,
                                   self.noise_seed.value)
                message = f"sweeping {self.sliders[self.mode.value].description} from {SLIDER_RANGE[0]:g} to {SLIDER_RANGE[1]:g}"
        except ValueError as error:
            self.status.value = f"<span style='color:#b00'>cannot draw: {error}</span>"
            return None
        self.image.value = png
        elapsed = 1000 * (time.perf_counter() - started)
        self.redraw_ms.append(elapsed)
        self.status.value = f"{message} · {elapsed:.0f} ms"
        # The first redraw includes TensorFlow's warm-up, and one slow redraw may be a busy moment:
        # decide on the median of the last few redraws after the first.
        recent = self.redraw_ms[1:][-5:]
        if len(recent) >= 3 and float(np.median(recent)) > self.slow_ms:
            for slider in self.sliders:
                slider.continuous_update = False
        return elapsed

    def _on_change(self, change):
        self.redraw()


def message_widget(title, detail="", hint=""):
    """An HTML widget with a readable error box (used when the explorer cannot start).

    The box has the CSS class ``infogan-message`` so that tests and apps can find it.
    """
    import html

    import ipywidgets as widgets

    parts = [f"<b>{html.escape(title)}</b>"]
    if detail:
        parts.append(f"<div style='margin-top:4px'>{html.escape(detail)}</div>")
    if hint:
        parts.append(f"<div style='margin-top:4px;color:#444'>{html.escape(hint)}</div>")
    box = ("<div class='infogan-message' style='border:1px solid #d9a400;background:#fff8e1;"
           "padding:10px 14px;border-radius:4px;max-width:640px'>" + "".join(parts) + "</div>")
    return widgets.HTML(value=box)


def explorer_or_message(path=None, name="mnist", **explorer_options):
    """The latent explorer's widget for a pretrained model, or a readable message if it cannot load.

    Loads ``load_pretrained(name, path=path)`` and returns ``LatentExplorer(model).widget``; if the
    model file is missing, corrupt or made for another architecture, returns an HTML widget (see
    :func:`message_widget`) that says so instead of raising, so that an app (Voilà) stays up.
    ``explorer_options`` go to :class:`LatentExplorer`. The explorer object itself is available
    as the returned widget's ``explorer`` attribute (``None`` for the message).
    """
    from .pretrained import load_pretrained

    where = str(path) if path is not None else f"the shipped model {name!r}"
    try:
        model = load_pretrained(name, path=path)
    except Exception as error:  # an app must stay up whatever is wrong with the file
        detail = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
        widget = message_widget(
            f"The latent explorer cannot start: {where} could not be loaded.", detail,
            "Train and export a model (python -m infogan_utils train --export FILE), or reinstall "
            "the package to restore the shipped model file.")
        widget.explorer = None
        return widget
    if path is None and "code_names" not in explorer_options:
        from .results import trained_run_of_model

        run = trained_run_of_model(name)
        if run is not None:  # the shipped model: its sliders say what each code measurably controls
            explorer_options["code_names"] = run.code_names()
    explorer = LatentExplorer(model, **explorer_options)
    explorer.widget.explorer = explorer
    return explorer.widget
