"""Before Qt starts: will its xcb platform plugin load, and is there a display to show on?

Qt 6.5+ aborts the whole process when the xcb plugin cannot load, and its message always blames
xcb-cursor, even when that library is installed and another one is missing. This module, free of
Qt, finds which of the plugin's libraries cannot be loaded and says so in one line that names
the packages to install and the headless alternative. It runs before ``QApplication`` exists.

The check only speaks when Qt would pick xcb: on Linux, with ``QT_QPA_PLATFORM`` unset (and no
Wayland session, where Qt tries its Wayland plugin first) or naming xcb.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from engine.i18n import _
from gui.elf_needed import ElfError, read_dynamic

EXIT_CODE = 2
# Qt loads this one with dlopen at run time (6.5 to 6.8) instead of linking it.
DLOPENED = ("libxcb-cursor.so.0",)
# The Debian and Ubuntu package that provides each library the xcb plugin may need.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}


def can_load(soname: str) -> bool:
    """Can the dynamic loader find and load the library ``soname`` (with its own needs)?"""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def chosen_platform(env: Mapping[str, str]) -> str:
    """The platform plugin Qt will try first: ``QT_QPA_PLATFORM``'s first entry, else
    ``"wayland"`` in a Wayland session, else ``"xcb"`` (Qt's default on Linux)."""
    named = env.get("QT_QPA_PLATFORM", "").strip()
    if named:
        return named.split(";")[0].split(":")[0].strip().lower()
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return "wayland"
    return "xcb"


def xcb_plugin(env: Mapping[str, str]) -> Path | None:
    """The installed PySide6's ``libqxcb.so`` (found without importing Qt), or None."""
    folders = [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(":") if p]
    spec = importlib.util.find_spec("PySide6")
    if spec is not None and spec.origin:
        folders.append(Path(spec.origin).parent / "Qt" / "plugins" / "platforms")
    for folder in folders:
        if (folder / "libqxcb.so").is_file():
            return folder / "libqxcb.so"
    return None


def missing_libraries(plugin: Path, load: Callable[[str], bool] | None = None) -> list[str]:
    """The sonames the xcb plugin needs that cannot be loaded, in the order first met.

    Libraries that Qt bundles beside itself (found through the RUNPATH) are followed to their
    own needs; every other one must come from the system and is tried with ``load``.
    """
    load = load or can_load
    missing: list[str] = []
    seen: set[str] = set()
    queue = [plugin]
    while queue:
        try:
            info = read_dynamic(queue.pop(0))
        except (OSError, ElfError):
            continue  # not readable as ELF: leave the verdict to Qt
        for soname in info.needed:
            if soname in seen:
                continue
            seen.add(soname)
            bundled = next((Path(d) / soname for d in info.search_dirs
                            if (Path(d) / soname).is_file()), None)
            if bundled is not None:
                queue.append(bundled)
            elif not load(soname):
                missing.append(soname)
    missing.extend(s for s in DLOPENED if s not in seen and not load(s))
    return missing


def packages_for(sonames: list[str]) -> list[str]:
    """The Debian/Ubuntu packages providing ``sonames`` (the soname itself when unknown)."""
    return list(dict.fromkeys(DEBIAN_PACKAGES.get(s, s) for s in sonames))


def can_connect(display: str) -> bool:
    """Does the X server named by ``display`` accept a connection from us?"""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return False
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return connection is not None and xcb.xcb_connection_has_error(connection) == 0
    finally:
        if connection is not None:
            xcb.xcb_disconnect(connection)


def platform_problem(
    env: Mapping[str, str] | None = None,
    load: Callable[[str], bool] | None = None,
    connect: Callable[[str], bool] | None = None,
    system: str | None = None,
) -> str | None:
    """One line saying why Qt would abort on start, or None when the window can open.

    ``load`` and ``connect`` stand in for the dynamic loader (:func:`can_load`) and the X
    server (:func:`can_connect`) in tests.
    """
    env = os.environ if env is None else env
    load, connect = load or can_load, connect or can_connect
    system = sys.platform if system is None else system
    if not system.startswith("linux") or chosen_platform(env) != "xcb":
        return None
    plugin = xcb_plugin(env)
    if plugin is None:
        return None  # a Qt without the xcb plugin: Qt's own message says more than we can
    missing = missing_libraries(plugin, load)
    if missing:
        return _(
            "Qt cannot open a window: its xcb platform plugin needs {libraries}, which cannot "
            "be loaded. Install them (Debian and Ubuntu: sudo apt install {packages}), or run "
            "without a window with QT_QPA_PLATFORM=offscreen."
        ).format(libraries=", ".join(missing), packages=" ".join(packages_for(missing)))
    display = env.get("DISPLAY", "")
    if not display:
        return _(
            "No display to open a window on: neither DISPLAY nor WAYLAND_DISPLAY is set. "
            "Start CNN Explorer from a desktop session, or run without a window with "
            "QT_QPA_PLATFORM=offscreen (for example with --screenshot)."
        )
    if not connect(display):
        return _(
            "Cannot connect to the X display {display} named by DISPLAY: is the X server running "
            "and may this user use it? Without a screen, run with QT_QPA_PLATFORM=offscreen."
        ).format(display=display)
    return None


def exit_if_qt_cannot_start(prog: str) -> int | None:
    """Print the problem as one line on stderr and return the exit code, or None if fine."""
    problem = platform_problem()
    if problem is None:
        return None
    print(f"{prog}: {problem}", file=sys.stderr)
    return EXIT_CODE
