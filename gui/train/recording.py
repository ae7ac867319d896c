"""Your own classes: frames recorded from the webcam, a video or the drawing canvas. Qt-free.

A recorded data set is an ordinary image folder, ``<data>/datasets/<name>/<class>/0001.png``,
so it trains like any folder (``cnn-explorer train PIPELINE --data <that folder>``) and survives
a restart. Frames are stored with their longest side at most :data:`STORED_SIDE` pixels; the
training reads them at the network's input size.

Examples
--------
>>> import tempfile, numpy as np
>>> classes = RecordedClasses(Path(tempfile.mkdtemp()) / "mine")
>>> classes.add_class(" cup ")
'cup'
>>> path = classes.add_frame("cup", np.zeros((240, 320, 3), np.uint8))
>>> path.name, classes.count("cup"), classes.problem()
('0001.png', 1, 'Add at least two classes: a classifier learns to tell classes apart.')
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np

from engine.i18n import _
from gui.session import data_dir

__all__ = ["DEFAULT_DATASET", "STORED_SIDE", "RecordedClasses", "datasets_dir",
           "list_datasets"]

DEFAULT_DATASET = "my-classes"
STORED_SIDE = 160  # pixels: plenty for 64 x 64 networks, small files
_BAD = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")


def datasets_dir() -> Path:
    """Where recorded data sets are kept."""
    return data_dir() / "datasets"


def list_datasets(root: Path | None = None) -> list[str]:
    """The names of the recorded data sets, sorted."""
    root = datasets_dir() if root is None else root
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def clean_name(name: str) -> str:
    """A class or data set name that is a safe folder name; ValueError with a sentence if not."""
    text = " ".join(str(name).split())
    if not text or text in (".", "..") or text.startswith(".") or _BAD.search(text):
        raise ValueError(_("{name!r} cannot be a name: use letters, digits, spaces or dashes,"
                           " not / \\ : * ? \" < > | and not a leading dot").format(name=name))
    return text


class RecordedClasses:
    """The class folders of one recorded data set (made on first use)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @property
    def name(self) -> str:
        return self.folder.name

    def classes(self) -> list[str]:
        """The class names (the subfolders), sorted as training sorts them."""
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    def frames(self, name: str) -> list[Path]:
        """The frame files of class ``name``, oldest first."""
        folder = self.folder / name
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")

    def count(self, name: str) -> int:
        return len(self.frames(name))

    def add_class(self, name: str) -> str:
        """Make the folder of a new class; returns the cleaned name."""
        name = clean_name(name)
        if name in self.classes():
            raise ValueError(_("There is already a class called {name!r}.").format(name=name))
        (self.folder / name).mkdir(parents=True)
        return name

    def delete_class(self, name: str) -> None:
        """Delete class ``name`` and all its frames."""
        folder = self.folder / clean_name(name)
        if folder.parent == self.folder and folder.is_dir():
            shutil.rmtree(folder)

    def add_frame(self, name: str, frame: np.ndarray) -> Path:
        """Store an (H, W, 3) uint8 RGB frame as the next PNG of class ``name``."""
        from engine.io.media import resize_longest, write_image

        folder = self.folder / clean_name(name)
        folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.stem) for p in self.frames(name) if p.stem.isdigit()]
        path = folder / f"{max(numbers, default=0) + 1:04d}.png"
        frame = np.asarray(frame, np.uint8)
        if frame.ndim == 2:
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        if max(frame.shape[:2]) > STORED_SIDE:
            frame = resize_longest(frame, STORED_SIDE)
        write_image(path, np.ascontiguousarray(frame[:, :, :3]))
        return path

    def delete_frames(self, paths) -> int:
        """Delete the given frame files of this data set; returns how many went."""
        gone = 0
        for path in paths:
            path = Path(path)
            if path.parent.parent == self.folder and path.is_file():
                path.unlink()
                gone += 1
        return gone

    def problem(self) -> str | None:
        """Why these classes cannot train yet, in one sentence; None when they can."""
        names = self.classes()
        empty = [n for n in names if not self.count(n)]
        if empty:
            return _("Class {name!r} has no frames yet: hold Record to take some, or delete"
                     " the class.").format(name=empty[0])
        if len(names) < 2:
            return _("Add at least two classes: a classifier learns to tell classes apart.")
        return None
