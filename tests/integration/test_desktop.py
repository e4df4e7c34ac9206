"""The app on the Linux desktop: its launcher entry, metainfo and icons, installed and launched.

The validators and X tools are Debian packages that `packaging/debian.sh test` installs;
a missing one fails the test with the package to install, so CI can never skip them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage, QImageReader

from callviewer import __version__
from callviewer.desktop import (
    DESKTOP_ID,
    ICON_SIZES,
    app_icon,
    entry_file,
    icon_files,
    launcher_entry,
    metainfo_file,
)

REPO = Path(__file__).resolve().parents[2]
# What a graphical session hands a program it launches: no variable of the test run.
SESSION_PATH = "/usr/local/bin:/usr/bin:/bin"


def tool(name: str, package: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=SESSION_PATH)
    assert path, f"{name} is not installed: apt-get install {package} (packaging/debian.sh test)"
    return path


def desktop_keys(text: str) -> dict[str, str]:
    """The keys of the [Desktop Entry] group."""
    keys, group = {}, None
    for line in text.splitlines():
        if line.startswith("["):
            group = line.strip()
        elif group == "[Desktop Entry]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            keys[key.strip()] = value.strip()
    return keys


def exec_argv(exec_value: str) -> list[str]:
    """The Exec key as a launcher runs it with no files: unescaped, unquoted, no field codes."""
    value = re.sub(r"\\(.)", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r"}
                   .get(m.group(1), m.group(1)), exec_value)
    argv, current, quoted, pending, i = [], "", False, False, 0
    while i < len(value):
        char = value[i]
        if quoted and char == "\\" and i + 1 < len(value):
            current, i = current + value[i + 1], i + 2
            continue
        if char == '"':
            quoted, pending = not quoted, True
        elif char == " " and not quoted:
            if current or pending:
                argv.append(current)
            current, pending = "", False
        else:
            current += char
        i += 1
    if current or pending:
        argv.append(current)
    argv = [arg for arg in argv if not re.fullmatch(r"%[fFuUdDnNickvm]", arg)]
    return [arg.replace("%%", "%") for arg in argv]


def callviewer(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callviewer", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def clean_env(home: Path, **extra: str) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("XDG_") and key not in ("CALLVIEWER_DB", "HOME")}
    return {**env, "HOME": str(home), **extra}


def test_the_entry_and_metainfo_validate():
    validate = tool("desktop-file-validate", "desktop-file-utils")
    result = subprocess.run([validate, str(entry_file())], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"\b(error|warning):", result.stdout), result.stdout
    keys = desktop_keys(entry_file().read_text(encoding="utf-8"))
    assert keys["Icon"] == DESKTOP_ID and keys["Exec"] == "callviewer-gui %F"
    assert keys["Terminal"] == "false" and keys["Name"] == "Call Viewer"

    appstream = tool("appstreamcli", "appstream")
    result = subprocess.run([appstream, "validate", "--no-net", str(metainfo_file())],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    component = ET.parse(metainfo_file()).getroot()
    assert component.findtext("id") == DESKTOP_ID
    assert component.findtext("launchable") == f"{DESKTOP_ID}.desktop"
    newest = component.find("releases/release")
    assert newest is not None and newest.get("version") == __version__, \
        "the metainfo's newest release must be callviewer.__version__"


def test_exec_names_any_path_so_that_a_launcher_runs_it(tmp_path):
    odd = Path("/opt/my apps/$HOME's 100%/\"quoted\"\\back/bin/callviewer-gui")
    entry = tmp_path / f"{DESKTOP_ID}.desktop"
    entry.write_text(launcher_entry(odd), encoding="utf-8")
    result = subprocess.run([tool("desktop-file-validate", "desktop-file-utils"), str(entry)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    keys = desktop_keys(entry.read_text(encoding="utf-8"))
    assert exec_argv(keys["Exec"]) == [str(odd)]
    assert keys["Exec"].endswith(" %F")


def test_the_icon_has_every_size(qapp):
    icon = app_icon()
    assert not icon.isNull()
    assert sorted(size.width() for size in icon.availableSizes()) == list(ICON_SIZES)
    for size in ICON_SIZES:
        image = icon.pixmap(QSize(size, size)).toImage()
        assert (image.width(), image.height()) == (size, size)
        assert image.pixelColor(size // 2, size // 2).alpha() == 255  # drawn, not blank


def test_the_pngs_ico_and_icns_are_rendered_from_the_svg(qapp):
    """Every file has its size, and the committed PNGs are the SVG as it is now drawn."""
    spec = importlib.util.spec_from_file_location(
        "render_icons", REPO / "packaging" / "linux" / "render_icons.py")
    render_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render_icons)
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(render_icons.MASTER))
    for size, path in icon_files():
        if size is None:
            assert path.read_bytes() == render_icons.MASTER.read_bytes()
            continue
        committed = QImage(str(path)).convertToFormat(QImage.Format.Format_ARGB32)
        fresh = QImage.fromData(render_icons.render(renderer, size)).convertToFormat(
            QImage.Format.Format_ARGB32)
        assert (committed.width(), committed.height()) == (size, size), path
        diff = sum(abs(a - b) for a, b in zip(bytes(committed.constBits()),
                                              bytes(fresh.constBits()), strict=True))
        assert diff / (size * size * 4) < 2, \
            f"{path} differs from the SVG: run python packaging/linux/render_icons.py"
    for path, expected in ((render_icons.ICO, sorted(render_icons.ICO_SIZES)),
                           (render_icons.ICNS, [size for _, size in render_icons.ICNS_TYPES])):
        reader = QImageReader(str(path))
        sizes = []
        for number in range(reader.imageCount()):
            reader.jumpToImage(number)
            sizes.append(reader.read().width())
        assert sizes == expected, path


def test_install_desktop_then_the_launcher_opens_the_window(tmp_path):
    """Installed into a fresh XDG_DATA_HOME, the entry's Exec line opens the window the way
    a launcher runs it: no terminal, no arguments, a fresh HOME, the real X11 platform."""
    xvfb_run = tool("xvfb-run", "xvfb xauth")
    tool("xwininfo", "x11-utils")
    data = tmp_path / "data"
    installed = callviewer("install-desktop", env=clean_env(tmp_path / "installer",
                                                             XDG_DATA_HOME=str(data)))
    assert installed.returncode == 0, installed.stderr
    entry = data / "applications" / f"{DESKTOP_ID}.desktop"
    assert str(entry) in installed.stdout
    expected = [entry, data / "metainfo" / f"{DESKTOP_ID}.metainfo.xml",
                *(data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{DESKTOP_ID}.png"
                  for size in ICON_SIZES),
                data / "icons" / "hicolor" / "scalable" / "apps" / f"{DESKTOP_ID}.svg"]
    assert [path for path in expected if not path.is_file()] == []
    result = subprocess.run([tool("desktop-file-validate", "desktop-file-utils"), str(entry)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    keys = desktop_keys(entry.read_text(encoding="utf-8"))
    command = exec_argv(keys["Exec"])
    assert Path(command[0]).is_absolute() and os.access(command[0], os.X_OK), command
    assert keys["TryExec"] == command[0]

    home = tmp_path / "home"
    home.mkdir()
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    session = {"PATH": SESSION_PATH, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
               "LANG": "C.UTF-8", "CALLVIEWER_VLC_ARGS": "--aout=dummy",
               "LAUNCH_LOG": str(tmp_path / "app.log")}
    wrapper = tmp_path / "launch.sh"
    wrapper.write_text(LAUNCH)
    launched = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", "sh", str(wrapper), *command],
        env=session, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90)
    log = (tmp_path / "app.log").read_text(errors="replace") if (tmp_path / "app.log").exists() \
        else ""
    assert launched.returncode == 0, launched.stdout + launched.stderr + log
    window = re.search(r'^window: (0x[0-9a-f]+) "([^"]*)": \("([^"]*)" "([^"]*)"\)\s+(\d+)x(\d+)',
                       launched.stdout, re.M)
    assert window, launched.stdout
    _, title, _, wm_class, width, height = window.groups()
    assert "Call Viewer" in title
    assert wm_class == keys["StartupWMClass"], "StartupWMClass must be the class Qt gives"
    assert int(width) >= 600 and int(height) >= 400, "the main window, not a message box"
    assert (home / ".local" / "share" / "callviewer" / "callviewer.sqlite3").is_file()


def test_install_desktop_defaults_to_the_home_data_folder_and_removes_what_it_put(tmp_path):
    env = clean_env(tmp_path)
    installed = callviewer("install-desktop", env=env)
    assert installed.returncode == 0, installed.stderr
    share = tmp_path / ".local" / "share"
    entry = share / "applications" / f"{DESKTOP_ID}.desktop"
    assert entry.is_file()
    files = [path for path in share.rglob("*") if path.is_file()]
    removed = callviewer("install-desktop", "--remove", env=env)
    assert removed.returncode == 0, removed.stderr
    assert f"Removed {len(ICON_SIZES) + 3} files" in removed.stdout
    left = [path for path in share.rglob("*") if path.is_file()]
    assert [path for path in left if DESKTOP_ID in path.name] == []
    assert {path.name for path in files} - {path.name for path in left} >= {entry.name}
    again = callviewer("install-desktop", "--remove", env=env)
    assert again.returncode == 0 and "Nothing to remove" in again.stdout


def test_the_gui_entry_point_passes_files_to_import(monkeypatch):
    from callviewer import cli

    opened = []
    monkeypatch.setattr(cli, "open_window", lambda args: opened.append(args) or 0)
    assert cli.gui_main([]) == 0
    assert opened[-1].paths == [] and opened[-1].db is None
    assert cli.gui_main(["--db", "x.sqlite3", "a.json", "b c/d.ndjson"]) == 0
    assert opened[-1].paths == [Path("a.json"), Path("b c/d.ndjson")]
    assert opened[-1].db == "x.sqlite3"


# Run by xvfb-run: start the launcher's command in the background as a launcher would
# (stdin from /dev/null), wait up to 20 s for its window to map, check it still runs, end it.
LAUNCH = r"""
"$@" </dev/null >"$LAUNCH_LOG" 2>&1 &
app=$!
tries=0
while [ "$tries" -lt 200 ]; do
    if ! kill -0 "$app" 2>/dev/null; then
        wait "$app"
        echo "the app exited with status $? before its window mapped"
        exit 1
    fi
    for id in $(xwininfo -root -tree 2>/dev/null | grep 'Call Viewer' | awk '{print $1}'); do
        if xwininfo -id "$id" 2>/dev/null | grep -q 'Map State: IsViewable'; then
            sleep 0.3
            if ! kill -0 "$app" 2>/dev/null; then
                echo "the app exited just after its window mapped"
                exit 1
            fi
            echo "window: $(xwininfo -root -tree | grep "^ *$id ")" | sed 's/window: */window: /'
            kill "$app"
            wait "$app"
            exit 0
        fi
    done
    sleep 0.1
    tries=$((tries + 1))
done
echo "no window titled Call Viewer mapped within 20 s"
xwininfo -root -tree
kill "$app"
exit 1
"""
