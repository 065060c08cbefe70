"""Rules of the indexing ops (see rules/spec.py for what an entry holds)."""
