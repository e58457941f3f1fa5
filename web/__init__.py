"""web: not built yet (see the open issues)."""
