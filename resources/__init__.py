"""Bundled data files (installed as the package callviewer.resources)."""
