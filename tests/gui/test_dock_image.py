"""Copy as image and Save as image: every registered panel, at twice its size."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QMenu

from gui.dock_image import copy_dock_image, save_dock_image
from gui.layout import DOCKS

from .test_main_window import press


def test_every_dock_copies_at_twice_its_size(qtbot, main_window):
    clipboard = QGuiApplication.clipboard()
    for spec in DOCKS:
        dock = main_window.docks[spec.key]
        dock.show()
        dock.raise_()
        QApplication.processEvents()
        clipboard.clear()
        copy_dock_image(dock)
        image = clipboard.image()
        size = dock.widget().size()
        assert not image.isNull(), spec.key
        assert (image.width(), image.height()) == (2 * size.width(), 2 * size.height()), spec.key
        # Drawn, not blank: more than one colour in the picture.
        assert len({image.pixel(x, y) for x in range(0, image.width(), 7)
                    for y in range(0, image.height(), 7)}) > 1, spec.key


def test_ctrl_shift_c_copies_the_focused_dock_and_save_writes_a_png(qtbot, main_window,
                                                                      tmp_path):
    main_window.activateWindow()
    qtbot.waitActive(main_window)
    ledger = main_window.docks["ledger"]
    table = ledger.widget().table if hasattr(ledger.widget(), "table") else ledger.widget()
    table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                    and ledger.isAncestorOf(QApplication.focusWidget()), timeout=3000)
    QGuiApplication.clipboard().clear()
    press(QApplication.focusWidget(), Qt.Key.Key_C,
          Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    image = QGuiApplication.clipboard().image()
    assert image.width() == 2 * ledger.widget().width()
    path = tmp_path / "ledger.png"
    assert save_dock_image(ledger, path)
    saved = QImage(str(path))
    assert saved.format() != QImage.Format.Format_Invalid
    assert (saved.width(), saved.height()) == (image.width(), image.height())
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not save_dock_image(ledger, tmp_path / "missing" / "x.png")


def test_the_dock_context_menu_offers_copy_save_and_fill(qtbot, main_window, monkeypatch):
    shown = []
    monkeypatch.setattr(QMenu, "popup", lambda menu, _pos, _at=None: shown.append(
        [a.text() for a in menu.actions() if a.text()]))
    maps = main_window.docks["maps"]
    maps.customContextMenuRequested.emit(QPoint(10, 5))
    assert shown == [["Copy as image", "Save as image...", "Fill the screen"]]
