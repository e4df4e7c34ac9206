"""A small modal form: labelled fields, OK and Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QWidget


def ask(parent: QWidget, title: str, rows: list[tuple[str, QWidget]]) -> bool:
    """Show the fields under their labels until OK (True) or Cancel (False)."""
    dialog = QDialog(parent, windowTitle=title)
    form = QFormLayout(dialog)
    for label, field in rows:
        form.addRow(label, field)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    return dialog.exec() == QDialog.DialogCode.Accepted
