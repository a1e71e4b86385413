"""JupyterLab in a real browser: a student notebook runs, a figure renders, the first unanswered
exercise shows its NotImplementedError, and nbgrader's extensions work ("Validate" on a completed
notebook reports success).

Drives Debian's Chromium (/usr/bin/chromium) headless with Playwright; nothing is downloaded at
run time.  Skips, with the reason, where Chromium or Playwright is absent (`make test` installs
both on Debian).  The screenshots are kept in build/test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.course import REPO_ROOT, get_chapter
from autograder.examples import write_examples

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "build" / "test-artifacts"
CHAPTER = get_chapter("ch01_keras_api")

if not CHROMIUM.exists():
    pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
                allow_module_level=True)
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free localhost port, serving copies of the notebooks."""
    root = tmp_path_factory.mktemp("lab")
    home = tmp_path_factory.mktemp("lab-home")
    folder = root / CHAPTER.name
    folder.mkdir()
    shutil.copy(CHAPTER.student_notebook, folder / CHAPTER.student_notebook.name)
    examples = {e.student_id: e for e in write_examples(CHAPTER, home / "examples")}
    shutil.copy(examples["example-complete"].path, folder / "completed.ipynb")
    shutil.copy(examples["example-partial"].path, folder / "partial.ipynb")
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    # Every cell in the page, not only those in view (JupyterLab 4 renders long notebooks in
    # windows), so the last cell of a notebook can be found and run like any other.
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    # nbgrader's Validate runs the notebook with a 30 s limit per cell by default; a busy machine
    # can take longer over the lessons' training cells, so give it the grader's own limit.
    (home / "config").mkdir()
    (home / "config" / "nbgrader_config.py").write_text("c.Execute.timeout = 300\n")
    port, token = _free_port(), secrets.token_hex(16)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "rt"),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server_log = (ARTIFACTS / "jupyterlab-server.log").open("w", encoding="utf-8")
    server = subprocess.Popen(
        [str(bin_dir / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
         f"--LabApp.user_settings_dir={home / 'settings'}",
         f"--LabApp.workspaces_dir={home / 'workspaces'}"],
        cwd=root, env=env, stdout=server_log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("JupyterLab did not start within 120 s")
            time.sleep(0.5)
    yield url, token
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    server_log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield chromium
        chromium.close()


def _open(browser, lab, name: str):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    workspace = name.replace(".", "-")  # each page its own workspace: only this notebook open
    page.goto(f"{url}/lab/workspaces/{workspace}/tree/{CHAPTER.name}/{name}?token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=120_000)
    _wait_for_kernel(page, lab, f"{CHAPTER.name}/{name}")
    return page


def _kernel_state(lab, path: str) -> str | None:
    """The execution state the server reports for the notebook's kernel (None: no kernel)."""
    url, token = lab
    with urllib.request.urlopen(f"{url}/api/sessions?token={token}", timeout=10) as reply:
        sessions = json.load(reply)
    states = [s["kernel"].get("execution_state") for s in sessions
              if s.get("path") == path and s.get("kernel")]
    return states[0] if states else None


def _wait_for_kernel(page, lab, path: str, timeout: float = 300) -> None:
    """Until the server reports the notebook's kernel idle.  On a loaded machine JupyterLab
    can open a notebook before it has the list of kernels: it then starts none and asks with
    "Select Kernel", "No Kernel" chosen (seen twice, and answering that dialog with its default
    button left the notebook without a kernel, so Run All asked again).  Such a dialog is
    answered with Python 3 (:func:`_close_dialogs`); a notebook still without a kernel after
    20 s is given one through Kernel > Change Kernel."""
    deadline = time.monotonic() + timeout
    asked = time.monotonic() + 20
    while (state := _kernel_state(lab, path)) != "idle":
        if time.monotonic() > deadline:
            raise AssertionError(f"{path}: no idle kernel after {timeout:.0f} s (state {state}; "
                                 f"the server's log is in {ARTIFACTS})")
        _close_dialogs(page)
        if state is None and time.monotonic() > asked:
            _menu(page, "Kernel", "Change Kernel")
            asked = time.monotonic() + 20
        page.wait_for_timeout(1_000)


def _close_dialogs(page) -> None:
    """A dialog JupyterLab opened by itself blocks every click (seen twice, on a loaded machine,
    before Run All): its text is printed and logged with a screenshot in the artifacts, and it is
    closed with its default button, else its cancel button, else Escape, as many times as
    dialogs come up in 120 s ("Select Kernel" always with Python 3 chosen, then its default
    button).  The test's own assertions still decide."""
    dialogs = page.locator(".jp-Dialog")
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while dialogs.count():
        if time.monotonic() > deadline:
            raise AssertionError(f"JupyterLab's dialogs would not close: {seen}")
        dialog = dialogs.first
        text = _dialog_text(dialog)
        seen.append(text)
        print(f"JupyterLab opened a dialog by itself: {text!r}")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-unexpected-dialog.png"))
        with (ARTIFACTS / "jupyterlab-unexpected-dialogs.txt").open("a", encoding="utf-8") as log:
            log.write(text + "\n---\n")
        if text.startswith("Select Kernel"):
            _choose_python(dialog)
            tried = 0  # its default button: start the kernel chosen
        else:
            tried = seen.count(text) - 1
        _dismiss(page, dialog, tried)
        for _ in range(60):  # this dialog gone: none left, or another one in front
            if not dialogs.count() or _dialog_text(dialogs.first) != text:
                break
            page.wait_for_timeout(500)


def _choose_python(dialog) -> None:
    """In "Select Kernel", choose the Python 3 kernel (the list may offer "No Kernel" first)."""
    try:
        choice = dialog.locator("select").first
        label = next(o for o in choice.locator("option").all_inner_texts() if "Python 3" in o)
        choice.select_option(label=label, timeout=10_000)
    except (playwright_api.Error, StopIteration):
        pass  # no list, or no Python kernel in it: the default button decides


def _dialog_text(dialog) -> str:
    try:
        return dialog.inner_text(timeout=5_000)
    except playwright_api.Error:
        return ""  # closed meanwhile


def _dismiss(page, dialog, tried: int) -> None:
    """Close a dialog the first way it offers (default button, cancel button, warning button,
    Escape), or the next way when the same dialog is still there after ``tried`` attempts."""
    ways = [dialog.locator(f".jp-Dialog-button{kind}").first
            for kind in (".jp-mod-accept", ".jp-mod-reject", ".jp-mod-warn")]
    ways = [way for way in ways if _present(way)]
    if tried < len(ways):
        try:
            ways[tried].click(timeout=10_000)
            return
        except playwright_api.Error:
            pass  # covered or gone: Escape instead
    try:
        dialog.focus(timeout=5_000)
    except playwright_api.Error:
        pass
    page.keyboard.press("Escape")


def _present(locator) -> bool:
    try:
        return locator.count() > 0
    except playwright_api.Error:
        return False


def _menu(page, top: str, item: str) -> None:
    _close_dialogs(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def _run_all(page) -> None:
    """Run All Cells, clicked again if no cell has started within 30 s (a menu click that
    lands while JupyterLab is still settling can be lost)."""
    started = page.locator(".jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]")).first
    for _ in range(3):
        _menu(page, "Run", "Run All Cells")
        try:
            started.wait_for(timeout=30_000)
            return
        except playwright_api.TimeoutError:
            page.keyboard.press("Escape")  # close a menu left open
    raise AssertionError("Run All Cells did not start any cell")


def _wait_or_screenshot(page, locator, name: str, timeout: int) -> None:
    try:
        locator.wait_for(timeout=timeout)
    except playwright_api.TimeoutError:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-timeout.png"), full_page=True)
        raise


def test_a_student_notebook_runs_in_jupyterlab(browser, lab):
    page = _open(browser, lab, CHAPTER.student_notebook.name)
    _run_all(page)
    error = page.locator(".jp-OutputArea-output", has_text="NotImplementedError").first
    _wait_or_screenshot(page, error, "jupyterlab-student-notebook", 300_000)
    assert page.locator(".jp-RenderedImage img").count() >= 1, "no figure rendered"
    # Run All stops at the first error: it must be the first unanswered question's stub.
    error.scroll_into_view_if_needed()
    cell = error.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')][1]")
    text = cell.text_content() or ""
    assert "# YOUR CODE HERE" in text and "q01" in text, text[:300]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab-student-notebook.png"))
    page.close()


def test_nbgrader_extensions_load_and_validate_passes(browser, lab):
    page = _open(browser, lab, "completed.ipynb")
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "Nbgrader" in menus, f"nbgrader's menu is missing from JupyterLab: {menus}"
    toolbar = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar")
    toolbar.get_by_text("Validate", exact=True).first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=300_000)
    page.wait_for_function(
        "() => !document.querySelector('.jp-Dialog')?.innerText.includes('Validating')",
        timeout=300_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab-nbgrader-validate.png"))
    assert "Success! Your notebook passes all the tests." in dialog.inner_text()
    page.close()


def _select_last_code_cell(page) -> None:
    """Click the last code cell's prompt (which selects it and shows its code), again while
    JupyterLab is still laying the notebook out and the element found is replaced."""
    for _ in range(10):
        cell = page.locator(".jp-Notebook .jp-CodeCell").last
        try:
            cell.scroll_into_view_if_needed(timeout=10_000)
            cell.locator(".jp-InputPrompt").click(timeout=10_000)
            if "jp-mod-active" in (cell.get_attribute("class", timeout=10_000) or ""):
                return
        except playwright_api.Error:
            pass  # detached or not yet stable: look it up again
        page.wait_for_timeout(2_000)
    raise AssertionError("the notebook's last cell could not be selected")


def test_check_my_notebook_runs_in_jupyterlab(browser, lab):
    """The partial example's last cell, run in JupyterLab, finds the notebook it belongs to,
    runs it from the top in a fresh kernel and lists what is missing."""
    page = _open(browser, lab, "partial.ipynb")
    _select_last_code_cell(page)
    _menu(page, "Run", "Run Selected Cell")
    report = page.locator(".jp-OutputArea-output", has_text="before you hand in").last
    _wait_or_screenshot(page, report, "jupyterlab-check-my-notebook", 400_000)
    text = report.inner_text()
    assert text.startswith("Check my notebook: partial.ipynb as saved at"), text[:200]
    assert "- Not answered yet (" in text and "- Checks that fail (1):" in text
    assert "more checks run when your work is graded" in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab-check-my-notebook.png"))
    page.close()


CONTRAST = """() => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const worst = [];
  for (const el of document.querySelectorAll("body *")) {
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const fg = lum(getComputedStyle(el).color);
    const bg = lum(getComputedStyle(document.body).backgroundColor);
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) worst.push([el.tagName, el.textContent.slice(0, 40), ratio]);
  }
  return {worst, overflow: document.documentElement.scrollWidth > window.innerWidth};
}"""


def test_the_feedback_page_reads_on_a_phone_with_aa_contrast(browser, tmp_path):
    """A feedback page at a phone's width: totals first, no sideways scrolling, and every piece
    of text at WCAG AA contrast or better, as the browser computes the colours."""
    from autograder.reports import feedback_html
    from autograder.results import Outcome, Status, SubmissionResult, TestOutcome
    from autograder.term import settle

    tests = (TestOutcome("q01-check", "Question 1", 1, 1, Outcome.PASSED),
             TestOutcome("q02-check", "Question 2", 0, 1, Outcome.NOT_ANSWERED,
                         "not answered: the answer cell still raises NotImplementedError"),
             TestOutcome("ex2-binary-metrics-check", "Exercise 2", 0, 3, Outcome.FAILED,
                         "failed: precision must be TP / (TP + FP), a float between 0 and 1"),
             TestOutcome("ex3-image-classifier-check", "Exercise 3", 0, 3, Outcome.STOPPED,
                         "stopped after 300 s: this check did not finish within the time limit"))
    result = SubmissionResult("s123", CHAPTER.name, 1, 8, Status.GRADED, tests)
    path = tmp_path / "s123.html"
    path.write_text(feedback_html(settle(result, [])), encoding="utf-8")
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.goto(path.as_uri())
    found = page.evaluate(CONTRAST)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feedback-page-phone.png"), full_page=True)
    assert found["worst"] == [] and not found["overflow"], found
    totals = page.locator(".totals").bounding_box()
    table = page.locator("table").bounding_box()
    assert totals["y"] < table["y"] and totals["width"] <= 390
    page.close()
