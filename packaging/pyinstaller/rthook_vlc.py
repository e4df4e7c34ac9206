"""PyInstaller runtime hook: point python-vlc and libVLC at the bundle's own copies.

Runs before the app's code. python-vlc reads PYTHON_VLC_LIB_PATH (the libvlc file to
load) and PYTHON_VLC_MODULE_PATH (its plugins folder) when it is first imported; libVLC
reads VLC_PLUGIN_PATH. Nothing is loaded here: VLC still loads on first use. A bundle
built without libVLC (none in it) uses the machine's VLC, as a pip install does.
"""

import os
import sys
from pathlib import Path


def _use_bundled_vlc() -> None:
    base = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    if sys.platform == "win32":
        lib, core = base / "libvlc.dll", base / "libvlccore.dll"
    elif sys.platform == "darwin":
        lib, core = base / "libvlc.dylib", base / "libvlccore.dylib"
    else:
        lib, core = base / "libvlc.so.5", base / "libvlccore.so.9"
    plugins = base / "vlc" / "plugins"
    if not (lib.is_file() and core.is_file() and plugins.is_dir()):
        return
    os.environ["PYTHON_VLC_LIB_PATH"] = str(lib)
    os.environ["PYTHON_VLC_MODULE_PATH"] = str(plugins)
    os.environ["VLC_PLUGIN_PATH"] = str(plugins)
    if sys.platform == "win32":
        # libvlc.dll finds libvlccore.dll beside it.
        os.add_dll_directory(str(base))


if getattr(sys, "frozen", False):
    _use_bundled_vlc()
