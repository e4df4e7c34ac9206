"""The labels the views share: record text shown as text, and titles."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel


def plain_label(text: str, muted: bool = False) -> QLabel:
    """A label that shows record text as text, selectable, wrapped."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    if muted:
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def titled(label: QLabel, scale: float = 1.0) -> QLabel:
    """`label` made a title: bold, `scale` times its font's size."""
    font = label.font()
    if scale != 1.0:
        font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    return label
