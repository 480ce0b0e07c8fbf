"""Use cases: one function each. Load, ask the domain, change, append history, commit once."""
