"""Light or dark, as the system is.

Where the platform theme gives Qt a palette of the right scheme (KDE, GNOME with
its Qt theme, Windows, macOS) nothing is changed. Where the system says dark but
Qt was left with a light palette (GNOME without a Qt theme, some window managers),
the Fusion style gets a dark palette. ``CALLVIEWER_COLOR_SCHEME=dark|light``
overrides the system. The app's glyphs (▶ ⏸, the chat bubbles) take their colours
from the palette, so they read in both.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ENV_VAR = "CALLVIEWER_COLOR_SCHEME"
Role = QPalette.ColorRole

_DARK = {
    Role.Window: "#2b2b2b", Role.WindowText: "#e6e6e6", Role.Base: "#1e1e1e",
    Role.AlternateBase: "#262626", Role.Text: "#e6e6e6", Role.Button: "#353535",
    Role.ButtonText: "#e6e6e6", Role.BrightText: "#ff6b6b", Role.Highlight: "#2f65ca",
    Role.HighlightedText: "#ffffff", Role.ToolTipBase: "#333333", Role.ToolTipText: "#eeeeee",
    Role.PlaceholderText: "#8a8a8a", Role.Link: "#7aa7ff", Role.LinkVisited: "#b18cff",
    Role.Light: "#505050", Role.Midlight: "#404040", Role.Mid: "#444444",
    Role.Dark: "#222222", Role.Shadow: "#111111",
}
_DISABLED = (Role.WindowText, Role.Text, Role.ButtonText)


def dark_palette() -> QPalette:
    """Fusion's colours for a dark scheme."""
    palette = QPalette()
    for role, color in _DARK.items():
        palette.setColor(role, QColor(color))
    for role in _DISABLED:
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#808080"))
    return palette


def is_dark(palette: QPalette) -> bool:
    return palette.color(Role.Window).lightness() < 128


def wanted_scheme(app: QApplication) -> Qt.ColorScheme:
    """The scheme to show: the override, else the system's."""
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced == "dark":
        return Qt.ColorScheme.Dark
    if forced == "light":
        return Qt.ColorScheme.Light
    return app.styleHints().colorScheme()


def apply_scheme(app: QApplication) -> None:
    """Make the palette match the wanted scheme, leaving a matching platform palette alone."""
    scheme = wanted_scheme(app)
    if scheme == Qt.ColorScheme.Dark and not is_dark(app.palette()):
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    elif scheme == Qt.ColorScheme.Light and is_dark(app.palette()):
        app.setPalette(app.style().standardPalette())


def follow_color_scheme(app: QApplication) -> None:
    """Apply the scheme now and whenever the system switches."""
    apply_scheme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_scheme(app))


# The outcome badges' colours (ui/badges.py): (text, fill) on a light and on a dark base.
# Each pair keeps a contrast of 4.5:1 or more (WCAG AA for small text); the words and the
# glyphs tell the outcomes apart without them.
_OUTCOME_COLORS = {
    #               light: text, fill          dark: text, fill
    "answered":    (("#1b6b2f", "#e2f3e5"), ("#8fdca0", "#1d3a25")),
    "missed":      (("#9a3f00", "#fde6d2"), ("#ffb27a", "#4a2a12")),
    "failed":      (("#a1221b", "#fbe1df"), ("#ff9b92", "#4d1d1a")),
    "busy":        (("#7a5600", "#fbefc6"), ("#f2cf6b", "#433812")),
    "canceled":    (("#4d4d4d", "#ebebeb"), ("#c8c8c8", "#3a3a3a")),
    "voicemail":   (("#4f37a0", "#ebe5fb"), ("#c9b8ff", "#342a52")),
    "in_progress": (("#00645a", "#d9f1ed"), ("#7adccd", "#153c37")),
    "unknown":     (("#4d4d4d", "#f0f0f0"), ("#c8c8c8", "#333333")),
}


def outcome_colors(outcome: str, palette: QPalette) -> tuple[QColor, QColor]:
    """An outcome badge's text and fill colours for the palette's scheme."""
    light, dark = _OUTCOME_COLORS.get(outcome, _OUTCOME_COLORS["unknown"])
    text, fill = dark if is_dark(palette) else light
    return QColor(text), QColor(fill)
