"""File > Export: the current pipeline as ONNX, PyTorch source or a numpy-only script."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog

from engine.i18n import N_, _

__all__ = ["FORMAT_NAMES", "ask_export", "export_current"]

# format -> (the name shown, the file filter)
FORMAT_NAMES = {
    "onnx": (N_("ONNX model (.onnx)"), N_("ONNX models (*.onnx)")),
    "pytorch": (N_("PyTorch module source (.py + .npz)"), N_("Python files (*.py)")),
    "numpy": (N_("NumPy-only script (.py + .npz)"), N_("Python files (*.py)")),
}


def export_current(window, fmt: str, path: str) -> bool:
    """Export the session's pipeline; at the input size of the latest frame when the pipeline
    declares none. A failure is one message in the status bar."""
    from engine.export import export_pipeline

    pipeline = window.session.pipeline
    latest = getattr(getattr(window, "live", None), "latest", None)
    shape = None
    if pipeline.input_spec.shape is None and latest is not None:
        shape = tuple(latest.input.shape[-3:])
    try:
        files = export_pipeline(pipeline, fmt, path, shape)
    except (OSError, ValueError) as error:
        window._error(_("Could not export the pipeline: {error}").format(error=error))
        return False
    window.session.message.emit("info", _("Exported to {files}.").format(
        files=", ".join(str(f) for f in files)))
    return True


def ask_export(window) -> bool:
    """Ask for a format and a file, then export."""
    names = [_(name) for name, _filter in FORMAT_NAMES.values()]
    chosen, ok = QInputDialog.getItem(window, _("Export pipeline"), _("Format:"), names, 0,
                                      False)
    if not ok:
        return False
    fmt = list(FORMAT_NAMES)[names.index(chosen)]
    suggested = (window.session.pipeline.name or "pipeline") + (".onnx" if fmt == "onnx"
                                                                else ".py")
    path, _filter = QFileDialog.getSaveFileName(window, _("Export pipeline"), suggested,
                                                _(FORMAT_NAMES[fmt][1]))
    return bool(path) and export_current(window, fmt, path)
