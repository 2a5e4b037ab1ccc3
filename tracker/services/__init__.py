"""Use cases: each function takes a Session first, validates, writes and commits."""
