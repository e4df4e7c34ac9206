"""The Qt Widgets views of Call Viewer: one module per view, its models beside it."""
