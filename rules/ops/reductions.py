"""Rules of the reductions ops (see rules/spec.py for what an entry holds)."""
