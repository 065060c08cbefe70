"""Rules of the shape ops (see rules/spec.py for what an entry holds)."""
