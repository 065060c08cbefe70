"""Rules of the elementwise ops (see rules/spec.py for what an entry holds)."""
