"""Screenshots of the portal for docs/: the caseload and a child's page, taken in
Debian's Chromium from a running web app (for example on the demo database).

    .venv/bin/python -m bot demo
    .venv/bin/python -m bot web &
    .venv/bin/python -m scripts.portal_screenshots http://127.0.0.1:8000 \\
        sanne@demo.mijnstem.invalid 'the demo password' docs/
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
COLOURS = 96  # palette PNGs: small files for the README


def _shrink(path: Path) -> None:
    image = Image.open(path).convert("RGB")
    image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main(base: str, email: str, password: str, out: str) -> int:
    folder = Path(out)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 820}, locale="nl-NL")
        page.goto(f"{base}/portal/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/portal/$"))
        page.screenshot(path=str(folder / "portal-caseload.png"))
        # The child with the most on their page: the first one with an overdue answer.
        link = page.locator("tr.overdue a").first
        if link.count() == 0:
            link = page.locator("table.caseload a").first
        link.click()
        page.wait_for_selector("img#circle")
        page.screenshot(path=str(folder / "portal-child.png"), full_page=True)
        browser.close()
    for name in ("portal-caseload.png", "portal-child.png"):
        _shrink(folder / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
