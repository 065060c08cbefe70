"""Rules of the nn ops (see rules/spec.py for what an entry holds)."""
