"""Training scripts for the bundled networks (optional extra: ``pip install -e ".[train]"``)."""
