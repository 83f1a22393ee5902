"""Figures: image grids, code traversals, training curves and the confusion matrix."""

import io
import math
import pathlib

import numpy as np


def tile_images(images, columns=10, padding=1, pad_value=1.0):
    """Tile images in [0, 1], greyscale (n, h, w[, 1]) or RGB (n, h, w, 3), into one array, row-major,
    ``columns`` per row: (height, width) for greyscale, (height, width, 3) for RGB."""
    images = np.asarray(images, dtype="float32")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or len(images) == 0 or images.shape[3:] not in ((), (3,)):
        raise ValueError(f"expected a non-empty stack of greyscale (n, h, w[, 1]) or RGB (n, h, w, 3) images, "
                         f"got shape {images.shape}")
    n, height, width = images.shape[:3]
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    grid = np.full((rows * (height + padding) + padding, columns * (width + padding) + padding) + images.shape[3:],
                   pad_value, dtype="float32")
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        grid[top:top + height, left:left + width] = image
    return grid


def image_to_png(image, scale=1):
    """Encode an image in [0, 1] as PNG bytes: a 2-D greyscale array as dark ink on white (as MNIST is usually
    shown), an RGB array (h, w, 3) as it is."""
    from PIL import Image

    image = np.clip(np.asarray(image), 0.0, 1.0)
    pixels = (255 * (image if image.ndim == 3 else 1.0 - image)).round().astype(np.uint8)
    picture = Image.fromarray(pixels, mode="RGB" if image.ndim == 3 else "L")
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def save_image_grid(images, path, columns=10, scale=2):
    """Save a tiled grid of images to ``path`` as PNG."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_to_png(tile_images(images, columns), scale=scale))
    return path


def plot_image_grid(images, columns=10, title=None, ax=None, row_labels=None, column_labels=None):
    """Show images in a grid with matplotlib; returns the axes."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    columns = max(1, min(columns, len(images)))
    if ax is None:
        rows = math.ceil(len(images) / columns)
        _, ax = plt.subplots(figsize=(0.6 * columns + 0.6, 0.6 * rows + 0.4))
    grid = tile_images(images, columns)
    if grid.ndim == 3:  # RGB
        ax.imshow(grid, interpolation="nearest")
    else:
        ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    height, width = images.shape[1] + 1, images.shape[2] + 1
    ax.set_xticks([] if column_labels is None else [width * (i + 0.5) for i in range(len(column_labels))])
    ax.set_yticks([] if row_labels is None else [height * (i + 0.5) for i in range(len(row_labels))])
    if column_labels is not None:
        ax.set_xticklabels(column_labels, fontsize=8)
    if row_labels is not None:
        ax.set_yticklabels(row_labels, fontsize=8)
    ax.tick_params(length=0)
    if title:
        ax.set_title(title)
    return ax


def plot_traversal(model, continuous_index, values=np.linspace(-2.0, 2.0, 10), noise_seed=0, ax=None,
                   title=None, rows=None, row_labels=None):
    """The paper's Figure 2 layout for one continuous code: rows are the categorical values, columns
    vary code ``continuous_index`` over ``values`` (beyond the training range -1..1 by default).

    ``rows`` picks and orders the categorical values shown (default: all, in order), e.g. sorted by
    the digit each category was matched to; ``row_labels`` names them (default: the values).
    """
    rows = list(range(model.spec.categorical_dims[0])) if rows is None else [int(k) for k in rows]
    noise, categorical, continuous = model.spec.traversal(continuous_index, values, noise_seed=noise_seed,
                                                          rows=rows)
    images = model.generate(noise, categorical, continuous)
    title = title or f"rows: categorical code, columns: c{continuous_index + 2} from {values[0]:g} to {values[-1]:g}"
    return plot_image_grid(images, columns=len(values), title=title, ax=ax,
                           row_labels=row_labels if row_labels is not None else [str(k) for k in rows],
                           column_labels=[f"{v:.1f}" for v in values])


def plot_history(history, ax=None, mi_max=math.log(10)):
    """Loss curves and the categorical L_I with its maximum ln K drawn as a dashed line.

    ``history`` maps metric names to lists (as in ``keras.callbacks.History.history`` or the run's
    ``history.csv`` read with :func:`read_history`).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(10, 3.2))
    steps = history.get("step", np.arange(1, len(history["d_loss"]) + 1))
    for name in ("d_loss", "g_loss"):
        ax[0].plot(steps, history[name], label=name)
    ax[0].set_xlabel("step" if "step" in history else "epoch")
    ax[0].set_ylabel("loss")
    ax[0].set_title("adversarial + information losses")
    ax[0].legend()
    if "categorical_mi" in history:
        ax[1].plot(steps, history["categorical_mi"], label="categorical $L_I$")
        ax[1].axhline(mi_max, color="gray", linestyle="--", label=f"ln {round(math.exp(mi_max))} = {mi_max:.2f}")
        # From 0, or lower when L_I starts below 0 (Q worse than a uniform guess), so that no value is cut off.
        ax[1].set_ylim(min(0.0, float(np.nanmin(history["categorical_mi"])) * 1.1), mi_max * 1.1)
        ax[1].set_xlabel(ax[0].get_xlabel())
        ax[1].set_ylabel("nats")
        ax[1].set_title("mutual-information lower bound $L_I$")
        ax[1].legend(loc="lower right")
    return ax


def plot_confusion_matrix(matrix, ax=None, title="true digit vs category (after matching)",
                          column_labels=None):
    """Draw a confusion matrix (rows: true labels, columns: categories) with its counts."""
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.8))
    ax.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        ax.text(column, row, str(count), ha="center", va="center", fontsize=7,
                color="white" if count > matrix.max() / 2 else "black")
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))
    if column_labels is not None:
        ax.set_xticklabels(column_labels)
    ax.set_xlabel("category")
    ax.set_ylabel("true label")
    ax.set_title(title)
    return ax


def read_history(path):
    """Read a Keras ``CSVLogger`` file into a dict of float lists."""
    import csv

    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{path} holds no training history")
    return {key: [float(row[key]) for row in rows] for key in rows[0]}
