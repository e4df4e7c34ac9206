"""The app's place on the desktop: its desktop id, its icon, and its launcher entry.

The entry (`io.callviewer.CallViewer.desktop`), the AppStream metainfo and the icons live
under resources/ (installed as callviewer.resources), the one copy of each: a pip install
carries them, and `callviewer install-desktop` copies them into the user's XDG data folder
with the entry's Exec pointing at this install's `callviewer-gui`, so the app appears in
the launcher, opens on a double-click, and its window groups under its own icon.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from callviewer.atomic import write_bytes
from callviewer.errors import ExpectedError
from callviewer.paths import resource_dir

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

log = logging.getLogger(__name__)

# The reverse-DNS name of the app: its .desktop file, icon and AppStream id, and the
# name Qt gives the window (setDesktopFileName) so the dock matches it to the entry.
DESKTOP_ID = "io.callviewer.CallViewer"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
GUI_SCRIPT = "callviewer-gui"


class DesktopError(ExpectedError):
    """The launcher entry cannot be installed, in a sentence for the user."""


def icon_theme_dir() -> Path:
    """The bundled icons in the freedesktop `hicolor` theme layout."""
    return resource_dir() / "icons" / "hicolor"


def icon_files() -> list[tuple[int | None, Path]]:
    """Every bundled icon file as (pixel size, path); the scalable SVG has no size."""
    theme = icon_theme_dir()
    files: list[tuple[int | None, Path]] = [
        (size, theme / f"{size}x{size}" / "apps" / f"{DESKTOP_ID}.png") for size in ICON_SIZES]
    files.append((None, theme / "scalable" / "apps" / f"{DESKTOP_ID}.svg"))
    return files


def entry_file() -> Path:
    """The bundled .desktop entry, its Exec naming `callviewer-gui` on PATH."""
    return resource_dir() / "desktop" / f"{DESKTOP_ID}.desktop"


def metainfo_file() -> Path:
    """The bundled AppStream metainfo."""
    return resource_dir() / "desktop" / f"{DESKTOP_ID}.metainfo.xml"


def app_icon() -> QIcon:
    """The app's icon, one exact PNG for each size from 16 to 512 px.

    The PNGs are rendered from the SVG (packaging/linux/render_icons.py), so they are the
    drawing at each size; the SVG itself is used only if the PNGs are missing. Needs a
    QGuiApplication.
    """
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon

    icon = QIcon()
    scalable = None
    for size, path in icon_files():
        if size is None:
            scalable = path
        elif path.is_file():
            icon.addFile(str(path), QSize(size, size))
    if icon.isNull() and scalable is not None and scalable.is_file():
        icon = QIcon(str(scalable))
    return icon


def data_home(prefix: Path | None = None) -> Path:
    """Where the entry goes: `prefix`, else $XDG_DATA_HOME, else ~/.local/share."""
    if prefix is not None:
        return Path(prefix)
    configured = os.environ.get("XDG_DATA_HOME", "")
    # The specification ignores a relative value.
    if configured and Path(configured).is_absolute():
        return Path(configured)
    return Path.home() / ".local" / "share"


def gui_command() -> Path:
    """The absolute path of the program a launcher runs to open the window.

    A bundle's own executable; else this install's `callviewer-gui` script, beside the
    running Python (a virtual environment that is not on PATH), in the install schemes'
    script folders, or on PATH.
    """
    import shutil
    import sysconfig

    if getattr(sys, "frozen", False):
        return Path(sys.executable).absolute()
    name = GUI_SCRIPT + (".exe" if os.name == "nt" else "")
    folders = [Path(sys.executable).absolute().parent, Path(sysconfig.get_path("scripts"))]
    if f"{os.name}_user" in sysconfig.get_scheme_names():  # pip install --user
        folders.append(Path(sysconfig.get_path("scripts", f"{os.name}_user")))
    for folder in folders:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(GUI_SCRIPT)
    if found:
        return Path(found).absolute()
    raise DesktopError(f"{GUI_SCRIPT} was not found beside {sys.executable} nor on PATH; "
                       "install Call Viewer with pip first (pip install .), then run this again.")


def launcher_entry(command: Path) -> str:
    """The bundled .desktop entry with its Exec and TryExec naming `command` by full path."""
    text = entry_file().read_text(encoding="utf-8")
    text = re.sub(r"(?m)^Exec=\S+", lambda _: "Exec=" + _escape_string(exec_argument(str(command))),
                  text, count=1)
    return re.sub(r"(?m)^TryExec=.*$", lambda _: "TryExec=" + _escape_string(str(command)), text,
                  count=1)


def exec_argument(argument: str) -> str:
    """One argument of an Exec key, quoted as the Desktop Entry Specification asks.

    The result is still to be escaped as a string value (`_escape_string`).
    """
    argument = argument.replace("%", "%%")
    if any(char in _RESERVED for char in argument):
        argument = '"' + re.sub(r'(["`$\\])', r"\\\1", argument) + '"'
    return argument


_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def _escape_string(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
            .replace("\r", "\\r"))


def installed_files(prefix: Path | None = None) -> list[Path]:
    """Where `install_desktop` puts each file, entry first."""
    home = data_home(prefix)
    paths = [home / "applications" / f"{DESKTOP_ID}.desktop",
             home / "metainfo" / f"{DESKTOP_ID}.metainfo.xml"]
    for size, _ in icon_files():
        folder = "scalable" if size is None else f"{size}x{size}"
        suffix = ".svg" if size is None else ".png"
        paths.append(home / "icons" / "hicolor" / folder / "apps" / f"{DESKTOP_ID}{suffix}")
    return paths


def install_desktop(prefix: Path | None = None) -> list[Path]:
    """Install the launcher entry, metainfo and icons for the current user; the paths written.

    `prefix` is the data folder to install into (default $XDG_DATA_HOME or
    ~/.local/share; /usr/local/share installs for everyone). The entry's Exec names this
    install's `callviewer-gui` by full path, so it works from a virtual environment
    that is not on PATH. Raises DesktopError when there is nothing to point it at.
    """
    command = gui_command()
    entry, *others = installed_files(prefix)
    sources = [metainfo_file(), *(path for _, path in icon_files())]
    for source in sources:
        if not source.is_file():
            raise DesktopError(f"{source} is missing from this install of Call Viewer; "
                               "reinstall it with pip.")
    for source, target in zip(sources, others, strict=True):
        _put(target, source.read_bytes())
    _put(entry, launcher_entry(command).encode("utf-8"))  # last: it names the icon
    _refresh(data_home(prefix))
    return [entry, *others]


def uninstall_desktop(prefix: Path | None = None) -> list[Path]:
    """Remove what `install_desktop` installed; the paths removed."""
    removed = []
    for path in installed_files(prefix):
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(path)
    if removed:
        _refresh(data_home(prefix))
    return removed


def _put(target: Path, data: bytes) -> None:
    """Write whole or not at all: launchers watch these folders and read what appears."""
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(target, data, mode=0o644)


def _refresh(home: Path) -> None:
    """Tell the desktop: the MIME cache of the entries, and the icon theme's time stamp.

    An icon cache is refreshed only where one already exists: a cache made here would
    hide icons that other programs later add without refreshing it.
    """
    applications = home / "applications"
    if applications.is_dir():
        _run("update-desktop-database", "-q", str(applications))
    theme = home / "icons" / "hicolor"
    if theme.is_dir():
        with contextlib.suppress(OSError):
            os.utime(theme)  # an older cache is then ignored
        if (theme / "icon-theme.cache").is_file():
            _run("gtk-update-icon-cache", "-q", "-t", "-f", str(theme))


def _run(tool: str, *args: str) -> None:
    import shutil
    import subprocess

    path = shutil.which(tool)
    if path is None:
        log.debug("%s is not installed; skipped", tool)
        return
    try:
        done = subprocess.run([path, *args], capture_output=True, text=True, timeout=60,
                              check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("%s failed: %s", tool, exc)
        return
    if done.returncode:
        log.warning("%s exited with %s: %s", tool, done.returncode, done.stderr.strip())
