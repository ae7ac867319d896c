"""Bundled data: sample images, pipelines, label files, icons and the stylesheet."""

from pathlib import Path

ASSETS = Path(__file__).resolve().parent


def asset_path(*parts: str) -> Path:
    """Return the path of a bundled asset, e.g. ``asset_path("pipelines", "default.json")``."""
    return ASSETS.joinpath(*parts)
