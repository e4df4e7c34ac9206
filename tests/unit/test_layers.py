"""The layering holds: the import-linter contracts of pyproject.toml, and playback's Qt.

`lint-imports` checks every contract over the source tree (not the installed copy: it
puts the working directory first on the path). It sees an external package by its top
name only, so that playback takes QtCore alone from PySide6 is checked here, by reading
its imports.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLAYBACK_QT = {"PySide6", "PySide6.QtCore"}  # signals, timers, QObject: no widget, no paint


def test_the_import_contracts_are_kept():
    done = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
         "--no-cache", "--no-logo"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    report = done.stdout[done.stdout.find("Contracts"):] + done.stderr
    assert done.returncode == 0 and " 0 broken" in done.stdout, report


def qt_modules(source: str) -> set[str]:
    """The PySide6 modules a module's source imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("PySide6")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("PySide6"):
            found.add(node.module)
            if node.module == "PySide6":
                found |= {f"PySide6.{alias.name}" for alias in node.names}
    return found


def test_playback_takes_only_qtcore_from_qt():
    used = {path.name: qt_modules(path.read_text(encoding="utf-8"))
            for path in sorted((ROOT / "callviewer" / "playback").glob("*.py"))}
    assert {name: sorted(modules - PLAYBACK_QT) for name, modules in used.items()
            if modules - PLAYBACK_QT} == {}
    assert any(used.values())  # the check reads real imports


def test_a_widget_import_in_playback_would_be_caught():
    source = "from PySide6.QtCore import QObject\n\ndef f():\n    from PySide6 import QtGui\n"
    assert qt_modules(source) - PLAYBACK_QT == {"PySide6.QtGui"}
    assert qt_modules("import PySide6.QtWidgets\n") - PLAYBACK_QT == {"PySide6.QtWidgets"}
