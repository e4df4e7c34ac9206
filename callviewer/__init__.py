"""Call Viewer: browse, play and annotate phone calls answered by people and AI agents."""

__version__ = "0.1.0"
