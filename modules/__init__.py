"""Reusable constructs, one concern per file. Raw provider resources live here, not in stacks."""
