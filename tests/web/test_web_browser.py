"""The web view in a real browser: Debian's headless Chromium driven by Selenium (chromium-driver).

A person searches for a clip, opens its copies, is refused a restore as a viewer, and queues one as an
operator; a worker node runs it and the restored bytes are the clip's. A screenshot of every page goes
to the test artifacts ($LTO_ARCHIVE_TEST_ARTIFACTS, default test-artifacts/web/)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lto_archive import create_app

from ..conftest import require_tool
from .conftest import CLIPS, Archive

ARTIFACTS = Path(os.environ.get("LTO_ARCHIVE_TEST_ARTIFACTS", "test-artifacts")) / "web"
WAIT_S = 60


@pytest.fixture
def server(pg_archive: Archive) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(pg_archive.catalog, secret="browser-test"), host="127.0.0.1",
                                        port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    ready = threading.Event()
    while not srv.started and thread.is_alive():
        ready.wait(0.05)
    assert srv.started, "the web view did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=WAIT_S)


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = require_tool("chromium")
    driver_path = require_tool("chromedriver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def log_in(driver, base: str, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "do-login").click()
    # the login redirects to /search: wait for that page before reading its header (an element of the page
    # being left can vanish while it is read, which Chromium reports as a stale node or an inspector error)
    wait = WebDriverWait(driver, WAIT_S, ignored_exceptions=(WebDriverException,))
    wait.until(ec.url_contains("/search"))
    wait.until(lambda d: f"{name} (" in d.find_element(By.CSS_SELECTOR, "header .who").text)


def test_search_copies_restore_as_operator_refused_as_viewer(server: str, browser, pg_archive: Archive,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    d, base = browser, server
    d.get(f"{base}/search")
    d.find_element(By.ID, "q").send_keys("A001C007")
    d.find_element(By.ID, "search").click()
    links = d.find_elements(By.CSS_SELECTOR, "#results a.file")
    assert [a.text for a in links] == [f"A001_C007/{CLIPS[0]}"]
    shot(d, "search")
    links[0].click()
    assert d.find_element(By.ID, "path").text == f"A001_C007/{CLIPS[0]}"
    copies = d.find_elements(By.CSS_SELECTOR, "#copies tr.copy")
    assert len(copies) == 1 and "WEB001L9" in copies[0].text and "never proven" not in copies[0].text
    assert not d.find_elements(By.ID, "restore-form")          # read-only without a login
    shot(d, "file")
    d.find_element(By.LINK_TEXT, "WEB001L9").click()
    assert d.find_element(By.ID, "location").text == "Vault, shelf 3"
    shot(d, "cartridge")

    # a viewer reads, and is refused an action even when the form is forged in the page
    log_in(d, base, "victor", "viewer-pass")
    d.get(f"{base}/files/A001_C007/{CLIPS[0]}")
    assert not d.find_elements(By.ID, "restore-form")
    d.execute_script("""const f = document.createElement('form'); f.method = 'post'; f.action = '/restore';
        for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], ['path', arguments[0]],
                              ['dest', '/tmp/x'], ['barcode', 'WEB001L9']]) {
            const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }
        document.body.appendChild(f); f.submit();""", f"A001_C007/{CLIPS[0]}")
    assert "operator role" in d.find_element(By.ID, "error").text
    shot(d, "refused-as-viewer")
    d.find_element(By.ID, "logout").click()
    # the logout redirects to /search: wait until that page says nobody is logged in, or the next page asked for
    # can be replaced by the redirect still in flight
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(d, WAIT_S, ignored_exceptions=(WebDriverException,)).until(
        lambda drv: drv.find_elements(By.ID, "login-link"))

    # an operator queues the restore; a worker node runs it
    log_in(d, base, "olive", "operator-pass")
    d.get(f"{base}/files/A001_C007/{CLIPS[0]}")
    dest = tmp_path / "for-editorial"
    d.find_element(By.ID, "dest").send_keys(str(dest))
    d.find_element(By.ID, "restore").click()
    job = d.find_element(By.ID, "job-id").text
    assert d.find_element(By.ID, "state").text == "todo"
    shot(d, "job-queued")
    worker = subprocess.run([sys.executable, "-m", "lto_archive_cli.main", "worker", "--device",
                             f"vtape:{pg_archive.tape}", "--catalog", pg_archive.catalog, "--once", "--poll", "0.2"],
                            capture_output=True, timeout=300)
    assert worker.returncode == 0, worker.stderr.decode()
    d.get(f"{base}/jobs/{job}")
    assert d.find_element(By.ID, "state").text == "succeeded"
    shot(d, "job-done")
    restored = dest / "A001_C007" / CLIPS[0]
    assert restored.read_bytes() == (pg_archive.card / CLIPS[0]).read_bytes()
    d.get(f"{base}/jobs")
    assert job in d.find_element(By.ID, "jobs").text
    d.get(f"{base}/custody")
    assert "write" in d.find_element(By.ID, "custody").text
    shot(d, "custody")
