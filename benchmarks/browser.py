"""Debian's chromium, driven by Playwright, as the review station's benchmark and tests start it.

Nothing downloads a browser: Playwright is pointed at the system's chromium, started headless
with the background networking that a closed machine refuses switched off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


def launch(playwright: Any, profile: Path | str, **options: Any) -> Any:
    """A browser context on a fresh profile folder (``options`` go to Playwright as they are)."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), args=list(ARGS), headless=True, **options
    )
