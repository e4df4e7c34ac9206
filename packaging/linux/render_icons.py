"""Render Call Viewer's icons from the one master drawing, resources/icons/callviewer.svg.

    python packaging/linux/render_icons.py

writes, all committed so that nothing is rendered at build or run time:

- resources/icons/hicolor/NxN/apps/io.callviewer.CallViewer.png for N in 16..512 and
  resources/icons/hicolor/scalable/apps/io.callviewer.CallViewer.svg (the freedesktop
  icon theme layout: `callviewer install-desktop` copies it, the window's icon reads it);
- packaging/windows/callviewer.ico (16 to 256 px) and packaging/macos/callviewer.icns
  (16 to 1024 px) for the bundles.

It needs only PySide6 (a runtime dependency): QSvgRenderer draws the SVG, the same renderer
the app uses, and the .ico and .icns containers are written here (both simply hold PNGs).
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

REPO = Path(__file__).resolve().parents[2]
MASTER = REPO / "resources" / "icons" / "callviewer.svg"
HICOLOR = REPO / "resources" / "icons" / "hicolor"
ICO = REPO / "packaging" / "windows" / "callviewer.ico"
ICNS = REPO / "packaging" / "macos" / "callviewer.icns"
DESKTOP_ID = "io.callviewer.CallViewer"  # callviewer.desktop.DESKTOP_ID

PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
# Apple's PNG-holding icon types and the pixel size each holds.
ICNS_TYPES = (("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256),
              ("ic09", 512), ("ic10", 1024), ("ic11", 32), ("ic12", 64), ("ic13", 256),
              ("ic14", 512))


def render(renderer: QSvgRenderer, size: int) -> bytes:
    """The drawing at size × size pixels, as PNG bytes."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG", 0):
        raise RuntimeError(f"could not encode the {size} px icon as PNG")
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding each PNG (PNG-compressed entries, Windows Vista and later)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        data = pngs[size]
        side = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding a PNG for each of Apple's sizes (and their @2x twins)."""
    body = b"".join(kind.encode("ascii") + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    print(path.relative_to(REPO))


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    renderer = QSvgRenderer(str(MASTER))
    if not renderer.isValid():
        print(f"render_icons: {MASTER} is not an SVG Qt can draw", file=sys.stderr)
        return 1
    sizes = {*PNG_SIZES, *ICO_SIZES, *(size for _, size in ICNS_TYPES)}
    pngs = {size: render(renderer, size) for size in sorted(sizes)}
    for size in PNG_SIZES:
        write(HICOLOR / f"{size}x{size}" / "apps" / f"{DESKTOP_ID}.png", pngs[size])
    scalable = HICOLOR / "scalable" / "apps" / f"{DESKTOP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MASTER, scalable)
    print(scalable.relative_to(REPO))
    write(ICO, ico({size: pngs[size] for size in ICO_SIZES}))
    write(ICNS, icns(pngs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
