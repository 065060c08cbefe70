"""Rules of the linalg ops (see rules/spec.py for what an entry holds)."""
