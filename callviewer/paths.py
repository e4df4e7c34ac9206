"""The platform's folders for the app's data, settings and logs, and its bundled resources."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "callviewer"


def data_dir() -> Path:
    """The user data folder: the default database lives here."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    """The platform's log folder for this app."""
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def resource_dir() -> Path:
    """The installed copy of the repository's `resources/` folder.

    Run from a source checkout (tests, `python -m callviewer` in the repository),
    the package is the folder beside `resources/`, which is used directly.
    """
    from importlib import resources

    try:
        return Path(str(resources.files("callviewer.resources")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "resources"


def demo_dir() -> Path:
    """The bundled demo dataset."""
    return resource_dir() / "demo"
