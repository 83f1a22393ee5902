"""End-to-end: the latent explorer in a real browser (headless Chromium driven by Playwright).

Test A serves the Voila app (notebooks/explorer_app.ipynb), test B opens the explorer in JupyterLab
(chapter 05, or the app notebook while the shipped model or chapter 05 is missing) and runs all
cells from the Run menu. Both click a category, move a continuous slider and check that the
image's PNG bytes changed and that the page shows no error. A third test serves the app with a
broken model file and expects a readable message. Screenshots go to test-artifacts/.

Needs Debian's Chromium at /usr/bin/chromium (or INFOGAN_CHROMIUM=path); Playwright never downloads
a browser here. If Chromium cannot start the tests FAIL; set INFOGAN_BROWSER_TESTS=0 to skip them.
The servers run with pytest's own Python and are stopped (with their kernels) after the tests.
"""

import base64
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
APP = NOTEBOOKS / "explorer_app.ipynb"
CHAPTER = NOTEBOOKS / "05_latent_explorer.ipynb"
SHIPPED_MODEL = ROOT / "infogan_utils" / "pretrained" / "mnist.npz"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("INFOGAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What a failing cell or a failed model load looks like on the page.
ERROR_TEXT = re.compile(r"Traceback|\w+Error\b|error when executing|cannot start|cannot draw|Kernel (died|error)")

pytestmark = pytest.mark.skipif(os.environ.get("INFOGAN_BROWSER_TESTS") == "0",
                                reason="INFOGAN_BROWSER_TESTS=0: browser tests switched off")

HOW_TO_FIX = ("install Chromium (Debian: apt-get install chromium) or point INFOGAN_CHROMIUM at it; "
              "set INFOGAN_BROWSER_TESTS=0 to skip the browser tests")


# --- fixtures: the browser, a model file, the servers -------------------------------------------

@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser tests need the playwright package: pip install -e '.[test]'; " + HOW_TO_FIX,
                    pytrace=False)
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: " + HOW_TO_FIX, pytrace=False)
    with sync_playwright() as playwright:
        chromium, failure = None, None
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        except Exception as error:  # playwright's errors carry the browser's own log
            failure = f"Chromium at {CHROMIUM} could not start: {error}\n" + HOW_TO_FIX
        if failure:
            pytest.fail(failure, pytrace=False)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def model_env(tmp_path_factory):
    """Environment for the servers: the shipped model if it exists, else a model file made here."""
    if SHIPPED_MODEL.exists():
        return {}
    from explorer_model import write_untrained_model

    path = write_untrained_model(tmp_path_factory.mktemp("browser-model") / "model.npz")
    return {"INFOGAN_EXPLORER_MODEL": str(path)}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid):
    """Ids of all processes below ``pid`` (the kernels of a Jupyter or Voila server)."""
    children = {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Server:
    """A server subprocess with its log; ``stop()`` ends it and every process it started."""

    def __init__(self, name, command, env, tmp_path, port):
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = tmp_path / f"{name}.log"
        full_env = dict(os.environ, INFOGAN_QUICK="1", TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1",
                        JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
                        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_PLATFORM_DIRS="1", **env)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        self.wait_until_listening()

    def log_tail(self, lines=30):
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_until_listening(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}",
                            pytrace=False)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"{self.name} did not listen on port {self.port} within {timeout} s:\n{self.log_tail()}",
                    pytrace=False)

    def stop(self):
        if self.process.poll() is None:
            children = descendants(self.process.pid)
            self.process.send_signal(signal.SIGINT)  # Jupyter servers shut their kernels down on SIGINT/SIGTERM
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            for pid in children:  # kernels that outlived their server
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.log.close()


@pytest.fixture  # one test each: stopped (with its kernel) as soon as the test ends
def voila_server(model_env, tmp_path_factory):
    port = free_port()
    command = [sys.executable, "-m", "voila", str(APP.relative_to(ROOT)), "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1", "--show_tracebacks=True"]
    server = Server("voila", command, model_env, tmp_path_factory.mktemp("voila"), port)
    yield server
    server.stop()


@pytest.fixture  # one test each: stopped (with its kernel) as soon as the test ends
def voila_server_with_a_broken_model(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("voila-broken")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 this is not a model")
    port = free_port()
    command = [sys.executable, "-m", "voila", str(APP.relative_to(ROOT)), "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1", "--show_tracebacks=True"]
    server = Server("voila-broken", command, {"INFOGAN_EXPLORER_MODEL": str(broken)}, tmp_path, port)
    yield server
    server.stop()


def lab_notebook():
    """Chapter 05 once it and the shipped model exist, else the app notebook (INFOGAN_LAB_NOTEBOOK=path
    picks another notebook)."""
    if os.environ.get("INFOGAN_LAB_NOTEBOOK"):
        return pathlib.Path(os.environ["INFOGAN_LAB_NOTEBOOK"])
    if CHAPTER.exists() and SHIPPED_MODEL.exists():
        return CHAPTER
    return APP


LAB_SETTINGS = {  # no news pop-up, no update check, no autosave
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        '{"fetchNews": "false", "checkForUpdates": false}',
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": '{"autosave": false}',
}


@pytest.fixture  # one test each: stopped (with its kernel) as soon as the test ends
def lab_server(model_env, tmp_path_factory):
    """JupyterLab on a copy of the notebook without its outputs (JupyterLab saves notebooks; the
    repository's stay untouched)."""
    port = free_port()
    tmp_path = tmp_path_factory.mktemp("lab")
    root = tmp_path / "notebooks"
    root.mkdir()
    notebook = json.loads(lab_notebook().read_text(encoding="utf-8"))
    for cell in notebook["cells"]:  # a fresh notebook: prompts then show what this run did
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (root / lab_notebook().name).write_text(json.dumps(notebook), encoding="utf-8")
    for name, text in LAB_SETTINGS.items():
        (tmp_path / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "settings" / name).write_text(text)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--IdentityProvider.token=",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
               f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
               f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
        command.append("--allow-root")
    server = Server("jupyterlab", command, model_env, tmp_path, port)
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # Offline and fast: only the local server is reachable (badges and fonts from the web are not fetched).
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]).*"), lambda route: route.abort())
    page = context.new_page()
    page.page_errors = []
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture(scope="module")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    for stale in ARTIFACTS.glob("*_timeout.png"):  # from an earlier failed run
        stale.unlink()
    return ARTIFACTS


# --- helpers ------------------------------------------------------------------------------------

def image_bytes(image):
    """The PNG bytes behind an ipywidgets Image element (its src is a blob: URL)."""
    encoded = image.evaluate("""async (element) => {
        const data = new Uint8Array(await (await fetch(element.src)).arrayBuffer());
        let text = "";
        for (const byte of data) text += String.fromCharCode(byte);
        return btoa(text);
    }""")
    data = base64.b64decode(encoded)
    assert data.startswith(PNG_SIGNATURE), "the explorer's image is not a PNG"
    return data


def wait_for_new_image(page, image, old_src, timeout=30):
    """Wait until the image's src differs from ``old_src`` and then stays put for a moment."""
    deadline = time.monotonic() + timeout
    src = image.get_attribute("src")
    while src == old_src:
        assert time.monotonic() < deadline, "the image did not change"
        page.wait_for_timeout(200)
        src = image.get_attribute("src")
    while True:  # several redraws may be in flight (one per slider step)
        page.wait_for_timeout(700)
        newer = image.get_attribute("src")
        if newer == src or time.monotonic() > deadline:
            return newer
        src = newer


def check_no_error(text, where):
    match = ERROR_TEXT.search(text)
    assert match is None, f"{where} shows an error ({match.group(0)!r}):\n{text[max(0, match.start() - 300):][:1200]}"


def move_slider_with_keys(page, explorer, index, presses=8):
    """Focus slider ``index``'s handle and press the arrow key that moves it away from its nearer end."""
    handle = explorer.locator(".widget-slider .noUi-handle").nth(index)
    readout = explorer.locator(".widget-slider .widget-readout").nth(index)
    before = readout.inner_text().strip()
    handle.focus()
    key = "ArrowLeft" if float(before) > 0 else "ArrowRight"
    for _ in range(presses):
        page.keyboard.press(key)
    page.wait_for_function("([element, before]) => element.textContent.trim() !== before",
                           arg=[readout.element_handle(), before], timeout=10_000)
    return before, readout.inner_text().strip()


def drag_slider_to_end(page, explorer, index):
    """Drag slider ``index``'s handle with the mouse past the far end of its track."""
    readout = explorer.locator(".widget-slider .widget-readout").nth(index)
    before = readout.inner_text().strip()
    track = explorer.locator(".widget-slider .noUi-target").nth(index).bounding_box()
    box = explorer.locator(".widget-slider .noUi-handle").nth(index).bounding_box()
    target_x = track["x"] - 20 if float(before) > 0 else track["x"] + track["width"] + 20
    expected = "-2.0" if float(before) > 0 else "2.0"
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(target_x, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    page.wait_for_function("([element, expected]) => element.textContent.trim() === expected",
                           arg=[readout.element_handle(), expected], timeout=10_000)
    return before, expected


def exercise_explorer(page, explorer, name, artifacts, drag=True):
    """Click another category and move c2 with the keyboard (and c3 with the mouse); the image must
    change every time."""
    image = explorer.locator(".widget-image").first
    image.wait_for(state="visible", timeout=60_000)
    page.wait_for_function("element => element.src && element.src.startsWith('blob:')",
                           arg=image.element_handle(), timeout=60_000)
    explorer.scroll_into_view_if_needed()
    explorer.screenshot(path=str(artifacts / f"{name}_before.png"))
    src, seen = image.get_attribute("src"), [image_bytes(image)]

    active = explorer.locator(".widget-toggle-buttons button.mod-active").inner_text().strip()
    category = "3" if active != "3" else "4"
    explorer.locator(".widget-toggle-buttons button", has_text=re.compile(rf"^\s*{category}\s*$")).click()
    src = wait_for_new_image(page, image, src)
    assert image_bytes(image) not in seen, f"clicking category {category} did not change the image"
    seen.append(image_bytes(image))

    before, after = move_slider_with_keys(page, explorer, 0)
    src = wait_for_new_image(page, image, src)
    assert image_bytes(image) not in seen, f"moving c2 from {before} to {after} with the keyboard did not change the image"
    seen.append(image_bytes(image))

    if drag:
        before, after = drag_slider_to_end(page, explorer, 1)
        wait_for_new_image(page, image, src)
        assert image_bytes(image) not in seen, f"dragging c3 from {before} to {after} did not change the image"
    explorer.screenshot(path=str(artifacts / f"{name}_after.png"))
    status = explorer.locator(".widget-html").last.inner_text()
    assert re.search(r"Q reads class|sweeping", status), f"unexpected status line {status!r}"
    return status


# --- the tests ----------------------------------------------------------------------------------

def test_voila_app_redraws_when_the_controls_move(voila_server, page, artifacts):
    page.goto(voila_server.url + "/", timeout=120_000)
    try:
        page.wait_for_selector(".widget-toggle-buttons, .infogan-message", timeout=120_000)
    except Exception:
        page.screenshot(path=str(artifacts / "voila_timeout.png"), full_page=True)
        raise AssertionError(f"the Voila page showed no explorer within 120 s; page text:\n"
                             f"{page.inner_text('body')[:2000]}\nserver log:\n{voila_server.log_tail()}")
    page.screenshot(path=str(artifacts / "voila_page_before.png"), full_page=True)
    check_no_error(page.inner_text("body"), "the Voila app")
    explorer = page.locator(".widget-hbox:has(.widget-toggle-buttons):has(.widget-image)").first
    exercise_explorer(page, explorer, "voila_explorer", artifacts)
    page.screenshot(path=str(artifacts / "voila_page_after.png"), full_page=True)
    check_no_error(page.inner_text("body"), "the Voila app")
    assert not page.page_errors, f"JavaScript errors on the Voila page: {page.page_errors}"


def test_voila_app_explains_a_broken_model_file(voila_server_with_a_broken_model, page, artifacts):
    for attempt in range(2):  # the server stays up: a second visit gets the same message
        page.goto(voila_server_with_a_broken_model.url + "/", timeout=120_000)
        message = page.locator(".infogan-message")
        message.wait_for(timeout=120_000)
        text = message.inner_text()
        assert "The latent explorer cannot start" in text and "broken.npz" in text, text
        assert "is damaged and cannot be read" in text, text
        assert "Traceback" not in page.inner_text("body")
        assert page.locator(".widget-image").count() == 0
    page.screenshot(path=str(artifacts / "voila_broken_model.png"), full_page=True)
    assert voila_server_with_a_broken_model.process.poll() is None, "the Voila server stopped"


def run_all_cells(page):
    """Run → Run All Cells from the menu bar."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


ALL_CELLS_RAN = """() => {
    const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'));
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""
ANY_CELL_STARTED = """() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""


def test_jupyterlab_runs_the_explorer_notebook(lab_server, page, artifacts):
    notebook = lab_notebook()
    kernel_idle = ".jp-StatusBar-TextItem:text-matches('\\\\| Idle$')"  # "Python 3 (ipykernel) | Idle"
    explorer = page.locator(".jp-OutputArea-output .widget-hbox:has(.widget-toggle-buttons):has(.widget-image)").first
    step = "opening the notebook"
    try:
        page.goto(f"{lab_server.url}/lab/tree/{notebook.name}", timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        step = "waiting for the kernel"
        page.wait_for_selector(kernel_idle, timeout=180_000)  # Run All before this would be lost
        step = "Run All Cells"
        for attempt in range(3):  # a Run All sent while the kernel connection settles can be dropped
            run_all_cells(page)
            try:
                page.wait_for_function(ANY_CELL_STARTED, timeout=15_000)
                break
            except Exception:
                if attempt == 2:
                    raise
        step = "waiting for the explorer widget"
        explorer.wait_for(state="attached", timeout=180_000)
        step = "waiting for every cell to finish"
        page.wait_for_function(ALL_CELLS_RAN, timeout=180_000)
        page.wait_for_selector(kernel_idle, timeout=60_000)
    except Exception as error:
        page.screenshot(path=str(artifacts / "lab_timeout.png"), full_page=True)
        raise AssertionError(f"{notebook.name} in JupyterLab: failed at {step!r}: {error}\n"
                             f"server log:\n{lab_server.log_tail()}") from None
    outputs = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    check_no_error(outputs, f"{notebook.name} in JupyterLab")
    page.screenshot(path=str(artifacts / "lab_before.png"))
    exercise_explorer(page, explorer, "lab_explorer", artifacts, drag=False)
    page.screenshot(path=str(artifacts / "lab_after.png"))
    outputs = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())
    check_no_error(outputs, f"{notebook.name} in JupyterLab")


def test_error_pattern_catches_what_failures_look_like():
    for text in ("Traceback (most recent call last)", "ValueError: bad", "There was an error when executing cell",
                 "The latent explorer cannot start: x could not be loaded."):
        assert ERROR_TEXT.search(text)
    assert not ERROR_TEXT.search("Q reads class 3 (97%), continuous codes +0.10, -0.20 · 12 ms")
