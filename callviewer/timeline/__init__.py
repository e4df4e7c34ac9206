"""The call's timeline without Qt: peaks, who spoke when, silences and statistics."""
