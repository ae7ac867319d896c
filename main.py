"""Entry point placeholder, replaced by the foundation work."""
