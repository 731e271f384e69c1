"""Security gate: project policy rules over synthesized JSON, and checkov with its listed exceptions."""
