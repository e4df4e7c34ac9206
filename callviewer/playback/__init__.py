"""Playing recordings."""
