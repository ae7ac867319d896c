"""File > Samples: the bundled images as thumbnails, photographs first, then the drawn ones."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QProxyStyle, QStyle

from engine.i18n import N_, _
from gui.session import SourceSpec, is_photograph, list_samples, sample_path

THUMBNAIL = 48  # pixels: big enough to tell the pictures apart, 11 of them fit an 800-px screen
# What each sample is good for (the menu's tooltips); a sample without a note gets a generic one.
NOTES = {
    "cat": N_("A cat's face: fur texture, whiskers and round eyes at several scales."),
    "coffee": N_("A red cup on a wooden table: strong colour channels, ellipses and wood grain."),
    "astronaut": N_("A portrait with a flag: saturated red, white and blue, a face, fine print."),
    "rocket": N_("A rocket on its launch pad at dusk: thin towers, lights and a smooth sky."),
    "brick": N_("A brick wall in perspective (gray): one dominant edge direction per filter."),
    "grass": N_("Grass blades (gray): fine texture with every orientation."),
    "shapes": N_("Drawn shapes in pure colours: each edge filter sees different sides."),
    "textures": N_("Drawn stripes, checkers and rings: orientation, frequency and aliasing."),
    "colors": N_("Drawn colour wheel and light discs: the R, G and B channels."),
    "street": N_("A drawn street: windows, bricks, fence bars, text and digits."),
    "digits": N_("Drawn digits 0 to 9 in several hands: strokes and slants."),
}


class _ThumbnailStyle(QProxyStyle):
    """Draws a menu's icons at :data:`THUMBNAIL` pixels instead of the small-icon size."""

    def pixelMetric(self, metric, option=None, widget=None) -> int:
        if metric == QStyle.PixelMetric.PM_SmallIconSize:
            return THUMBNAIL
        return super().pixelMetric(metric, option, widget)


# The bundled samples' menu texts, translated where shown; others: their file name.
SAMPLE_TITLES = {"cat": N_("Cat"), "coffee": N_("Coffee"), "astronaut": N_("Astronaut"),
                 "rocket": N_("Rocket"), "brick": N_("Brick"), "grass": N_("Grass"),
                 "colors": N_("Colors"), "digits": N_("Digits"), "shapes": N_("Shapes"),
                 "street": N_("Street"), "textures": N_("Textures")}


def sample_title(name: str) -> str:
    """The menu text of a sample: ``"street_corner"`` -> ``"Street corner"``."""
    title = SAMPLE_TITLES.get(name)
    return _(title) if title else name.replace("_", " ").capitalize()


def fill_samples_menu(menu: QMenu, open_source: Callable[[SourceSpec], None]) -> None:
    """Add one action per bundled sample to ``menu``, with its picture as a thumbnail.

    The icons load their file only when the menu is first painted, so start-up reads nothing.
    """
    style = _ThumbnailStyle()
    style.setParent(menu)  # a style set on a widget is not owned by it
    menu.setStyle(style)
    menu.setToolTipsVisible(True)
    names = list_samples()
    for heading, group in ((_("Photographs"), [n for n in names if is_photograph(n)]),
                           (_("Drawn"), [n for n in names if not is_photograph(n)])):
        if not group:
            continue
        menu.addSection(heading)
        for name in group:
            spec = SourceSpec(kind="sample", sample=name)
            action = menu.addAction(QIcon(str(sample_path(name))), sample_title(name),
                                    lambda s=spec: open_source(s))
            note = NOTES.get(name)
            action.setToolTip(_(note) if note else
                              _("Show the bundled sample image '{name}'.").format(name=name))
            action.setData(name)
