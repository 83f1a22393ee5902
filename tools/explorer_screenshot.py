"""Take the README's screenshot of the latent explorer app (docs/explorer.png).

Serves notebooks/explorer_app.ipynb with Voila on a free localhost port, opens it in headless
Chromium (Debian's /usr/bin/chromium through Playwright), picks a category and moves c2, and saves
a screenshot of the page.

    python tools/explorer_screenshot.py                      # the shipped model
    python tools/explorer_screenshot.py --model FILE.npz     # another exported model file
"""

import argparse
import os
import pathlib
import re
import socket
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="an exported model file (default: the shipped model)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "explorer.png"))
    parser.add_argument("--category", type=int, default=3)
    parser.add_argument("--c2-steps", type=int, default=8, help="arrow-key presses on c2 (0.1 each)")
    parser.add_argument("--chromium", default=os.environ.get("INFOGAN_CHROMIUM", "/usr/bin/chromium"))
    arguments = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if arguments.model:
        env["INFOGAN_EXPLORER_MODEL"] = str(pathlib.Path(arguments.model).resolve())
    server = subprocess.Popen([sys.executable, "-m", "voila", "notebooks/explorer_app.ipynb", "--no-browser",
                               f"--port={port}", "--Voila.ip=127.0.0.1"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=arguments.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 900, "height": 1000})
            page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]).*"), lambda route: route.abort())
            page.goto(f"http://127.0.0.1:{port}/", timeout=180_000)
            page.wait_for_selector(".widget-toggle-buttons", timeout=180_000)
            image = page.locator(".widget-image").first
            source = image.get_attribute("src")
            page.locator(".widget-toggle-buttons button", has_text=re.compile(rf"^\s*{arguments.category}\s*$")).click()
            page.locator(".widget-slider .noUi-handle").first.focus()
            for _ in range(arguments.c2_steps):
                page.keyboard.press("ArrowRight")
            page.wait_for_function("s => document.querySelector('.widget-image').src !== s", arg=source)
            page.wait_for_timeout(1500)
            page.locator(".widget-slider .noUi-handle").first.blur()
            # the widget area without the badge line (its images are not fetched offline)
            box = page.locator(".widget-hbox").first.bounding_box()
            status = page.locator(".widget-hbox .widget-html").last.bounding_box()
            bottom = max(box["y"] + box["height"], status["y"] + status["height"])
            output = pathlib.Path(arguments.output)
            output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(output), full_page=True,
                            clip={"x": 0, "y": box["y"] - 12, "width": box["x"] + box["width"] + 16,
                                  "height": bottom - box["y"] + 24})
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"Wrote {output} ({output.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
