"""The menus and the toolbar, declared as data: each entry names its text, the method it calls,
its shortcut and its tooltip. :func:`gui.actions.build_menus` builds them."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

from engine.i18n import N_

RESOLUTIONS = ((320, "320"), (480, "480"), (640, "640"), (None, N_("Full")))

MENUS = (("file", N_("&File")), ("edit", N_("&Edit")), ("view", N_("&View")),
         ("playback", N_("&Playback")),
         ("train", N_("&Train")), ("help", N_("&Help")))
_STD = QKeySequence.StandardKey  # platform keys for undo / redo
# (menu, (name, text, "owner.method", shortcut, tooltip, checkable)), or a marker for a separator
# ("-") or a generated group ("samples", "bundled", "docks", "workspaces", "resolution").
MENU_ACTIONS = (
    ("file", ("open_image", N_("Open &image..."), "window.ask_open_image", "Ctrl+O",
              N_("Open a PNG, JPEG, BMP, TIFF or WebP image"), False)),
    ("file", ("open_video", N_("Open &video..."), "window.ask_open_video", "Ctrl+Shift+O",
              N_("Open a video file; it plays in a loop"), False)),
    ("file", ("open_camera", N_("Open &camera..."), "window.ask_open_camera", "Ctrl+K",
              N_("Use a webcam as the source"), False)),
    ("file", "samples"),
    ("file", "-"),
    ("file", ("open_pipeline", N_("Open &pipeline..."), "window.ask_open_pipeline", "Ctrl+Shift+P",
              N_("Open a pipeline file (.json)"), False)),
    ("file", ("open_model", N_("Open &model..."), "window.ask_open_model", "Ctrl+M",
              N_("Open a trained network in ONNX format (.onnx)"), False)),
    ("file", ("save_pipeline", N_("&Save pipeline as..."), "window.ask_save_pipeline", "Ctrl+S",
              N_("Save the current pipeline to a file"), False)),
    ("file", ("gallery", N_("Model &gallery..."), "window.show_gallery", None,
              N_("Download a pretrained classifier from the ONNX Model Zoo and open it"),
              False)),
    ("file", ("export", N_("&Export..."), "window.ask_export", "Ctrl+Shift+E",
              N_("Write the pipeline as ONNX, PyTorch source or a numpy script"), False)),
    ("file", "bundled"),
    ("file", "-"),
    ("file", ("snapshot", N_("Save s&napshot..."), "window.ask_snapshot", "Ctrl+Shift+S",
              N_("Save a picture of the whole window as PNG"), False)),
    ("file", "-"),
    ("file", ("quit", N_("&Quit"), "window.close", "Ctrl+Q", N_("Close CNN Explorer"), False)),
    ("edit", ("undo", N_("&Undo"), "session.undo", _STD.Undo,
              N_("Undo the last change to the pipeline"), False)),
    ("edit", ("redo", N_("&Redo"), "session.redo", _STD.Redo,
              N_("Redo the pipeline change last undone"), False)),
    ("edit", "-"),
    ("edit", ("preprocess", N_("Input &preprocessing..."), "window.edit_preprocessing", None,
              N_("How frames are resized and scaled for a trained network"), False)),
    ("view", "workspaces"),
    ("view", "docks"),
    ("view", ("reset_layout", N_("&Reset layout"), "window.reset_layout", None,
              N_("Put every panel of the workspace back where it was at first"), False)),
    ("view", "-"),
    ("view", "resolution"),
    ("view", ("channels", N_("Show R, G, B &channels"), "window.set_show_channels", "Ctrl+R",
              N_("Show the input's red, green, blue and gray channels"), True)),
    ("playback", ("pause", N_("Pause"), "window.set_paused", "Space",
                  N_("Pause or resume the video or camera"), True)),
    ("playback", ("step", N_("Step &frame"), "live.step", ".",
                  N_("Pause and advance one frame"), False)),
    ("playback", "-"),
    ("playback", ("next_layer", N_("&Next layer"), "window.next_layer", "PgDown",
                  N_("Select the next layer"), False)),
    ("playback", ("previous_layer", N_("P&revious layer"), "window.previous_layer", "PgUp",
                  N_("Select the previous layer"), False)),
    ("train", ("train_start", N_("&Start or go on"), "window.train_start", "F5",
               N_("Train: a new run from the Train workspace's panels, or go on with the"
                  " paused one"), False)),
    ("train", ("train_pause", N_("&Pause"), "window.train_pause", "F6",
               N_("Pause training after the current batch"), False)),
    ("train", ("train_step", N_("Step one &batch"), "window.train_step", "F10",
               N_("Train on one batch, then pause"), False)),
    ("train", ("train_epoch", N_("Step one &epoch"), "window.train_epoch", "Shift+F10",
               N_("Train to the end of the current epoch, then pause"), False)),
    ("train", ("train_stop", N_("S&top"), "window.train_stop", "Shift+F5",
               N_("End the run; the network keeps what it learned"), False)),
    ("train", ("train_reset", N_("&Reset"), "window.train_reset", "Ctrl+Shift+F5",
               N_("Forget the run: the next Start begins with fresh weights"), False)),
    ("train", "-"),
    ("train", ("train_use", N_("&Use the trained network"), "window.train_use", None,
               N_("Run the trained network on the Input, with its predictions"), False)),
    ("train", ("train_save", N_("Sa&ve the trained network..."), "window.train_save", None,
               N_("Save the trained network as a pipeline file"), False)),
    ("train", ("train_export", N_("E&xport the trained network..."), "window.train_export",
               None, N_("Export the trained network as ONNX, PyTorch source or a numpy-only"
                        " script"), False)),
    ("help", ("welcome", N_("&Welcome and first steps"), "window.show_welcome", None,
              N_("What the workspaces are, three things to try, and the guided tour"), False)),
    ("help", ("shortcuts", N_("&Keyboard shortcuts"), "window.show_shortcuts", "F1",
              N_("List every keyboard shortcut"), False)),
    ("help", ("about", N_("&About CNN Explorer"), "window.show_about", None,
              N_("What CNN Explorer is"), False)),
)
TOOLBAR = ("open_image", "open_video", "open_camera", "-", "pause", "step", "previous_layer",
           "next_layer", "-", "resolution", "channels")
