"""One module per place calls are synced from (see callviewer/sync/connection.py)."""
