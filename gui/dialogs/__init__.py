"""Dialogs: small modal windows that edit one thing and return it."""
