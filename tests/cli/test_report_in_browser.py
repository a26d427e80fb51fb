"""The HTML report opens in headless Chromium with no console errors and every figure loaded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium and chromium-driver (see .ci/run)")
        pytest.skip("chromium and chromedriver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,2000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.mark.slow
def test_report_renders_without_console_errors_and_figures_load(browser, demo_dir, tmp_path):
    out = demo_dir
    browser.get((out / "report.html").as_uri())
    images = browser.execute_script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);")
    assert len(images) >= 4
    assert all(complete and width > 100 for complete, width, _ in images), images
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    headings = [h.text for h in browser.find_elements("tag name", "h2")]
    assert headings[:4] == ["Key findings", "Baseline characteristics", "Trial summary", "Response groups compared"]
    assert "Exploratory analysis of 34 patients" in browser.find_element("tag name", "section").text
    # readable at 1280 px: no table is cut off (issue 23: Table 1's SMD column was)
    cut = browser.execute_script(
        "return Array.from(document.querySelectorAll('.scroll'))"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.previousElementSibling.innerText.slice(0, 40));"
    )
    assert cut == []
    header = browser.execute_script(
        "return Array.from(document.querySelectorAll('table')[0].rows[0].cells).map(c => c.innerText);"
    )
    assert header[-2:] == ["p", "SMD"] and header[1].startswith("NR, N = 10")
    shot = Path(os.environ.get("REPORT_SCREENSHOT", tmp_path / "report.png"))
    assert browser.save_screenshot(str(shot))
