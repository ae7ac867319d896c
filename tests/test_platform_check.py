"""The check that runs before Qt: missing xcb libraries and a missing display, in one line."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import main
from gui import platform_check
from gui.elf_needed import ElfError, read_dynamic
from gui.platform_check import chosen_platform, missing_libraries, platform_problem

ICCCM, KEYSYMS, CURSOR = "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"


def elf(needed: list[str], runpath: str = "", wide: bool = True, order: str = "<") -> bytes:
    """A minimal shared object: one PT_LOAD, one PT_DYNAMIC with DT_NEEDED entries and a
    string table, laid out the way a linker does (the string table's address != its offset)."""
    strings = b"\0"
    offsets = []
    for name in [*needed, runpath]:
        offsets.append(len(strings))
        strings += name.encode() + b"\0"
    tags = [(1, o) for o in offsets[: len(needed)]]
    if runpath:
        tags.append((29, offsets[-1]))
    vaddr_shift = 0x1000  # string table mapped at file offset + 0x1000
    ph_size, dyn_size = (56, 16) if wide else (32, 8)
    header_size = 64 if wide else 52
    dyn_offset = header_size + 2 * ph_size
    str_offset = dyn_offset + (len(tags) + 2) * dyn_size
    tags += [(5, str_offset + vaddr_shift), (0, 0)]
    dyn_format, ph_format = (order + "qQ", order + "IIQQQQQQ") if wide else (
        order + "iI", order + "IIIIIIII")
    dynamic = b"".join(struct.pack(dyn_format, t, v) for t, v in tags)
    end = str_offset + len(strings)
    if wide:
        load = struct.pack(ph_format, 1, 5, 0, vaddr_shift, vaddr_shift, end, end, 0x1000)
        dyn = struct.pack(ph_format, 2, 6, dyn_offset, dyn_offset + vaddr_shift, 0,
                          len(dynamic), len(dynamic), 8)
        header = b"\x7fELF" + bytes([2, 1 if order == "<" else 2, 1]) + bytes(9)
        header += struct.pack(order + "HHIQQQIHHHHHH", 3, 62, 1, 0, header_size, 0, 0,
                              header_size, ph_size, 2, 64, 0, 0)
    else:
        load = struct.pack(ph_format, 1, 0, vaddr_shift, vaddr_shift, end, end, 5, 0x1000)
        dyn = struct.pack(ph_format, 2, dyn_offset, dyn_offset + vaddr_shift, 0,
                          len(dynamic), len(dynamic), 6, 4)
        header = b"\x7fELF" + bytes([1, 1 if order == "<" else 2, 1]) + bytes(9)
        header += struct.pack(order + "HHIIIIIHHHHHH", 3, 3, 1, 0, header_size, 0, 0,
                              header_size, ph_size, 2, 40, 0, 0)
    assert len(header) == header_size
    return header + load + dyn + dynamic + strings


@pytest.mark.parametrize(("wide", "order"), [(True, "<"), (False, "<"), (False, ">")])
def test_elf_reader_finds_needed_libraries_and_expands_origin(tmp_path, wide, order):
    path = tmp_path / "libplugin.so"
    path.write_bytes(elf(["libQt6Core.so.6", CURSOR], "$ORIGIN/../lib:/opt/x", wide, order))
    info = read_dynamic(path)
    assert info.needed == ("libQt6Core.so.6", CURSOR)
    assert info.search_dirs == (f"{tmp_path}/../lib", "/opt/x")


def test_elf_reader_refuses_a_file_that_is_not_elf(tmp_path):
    path = tmp_path / "libnot.so"
    path.write_bytes(b"#!/bin/sh\n" + bytes(100))
    with pytest.raises(ElfError, match="not an ELF file"):
        read_dynamic(path)


def fake_qt(tmp_path: Path) -> Path:
    """plugins/platforms/libqxcb.so -> (RUNPATH) lib/libQt6XcbQpa.so.6 -> system libraries."""
    platforms, lib = tmp_path / "plugins" / "platforms", tmp_path / "lib"
    platforms.mkdir(parents=True)
    lib.mkdir()
    plugin = platforms / "libqxcb.so"
    plugin.write_bytes(elf(["libQt6XcbQpa.so.6", "libc.so.6"], "$ORIGIN/../../lib"))
    (lib / "libQt6XcbQpa.so.6").write_bytes(
        elf([CURSOR, ICCCM, KEYSYMS, "libc.so.6"], "$ORIGIN"))
    return plugin


def test_bundled_qt_libraries_are_followed_and_only_system_ones_are_loaded(tmp_path):
    tried: list[str] = []

    def load(soname: str) -> bool:
        tried.append(soname)
        return soname not in (ICCCM, KEYSYMS)

    assert missing_libraries(fake_qt(tmp_path), load) == [ICCCM, KEYSYMS]
    assert "libQt6XcbQpa.so.6" not in tried  # found beside Qt, not asked of the system
    assert tried.count("libc.so.6") == 1


def test_the_installed_xcb_plugin_missing_icccm_and_keysyms_is_not_blamed_on_cursor():
    """The issue's case on the real PySide6: libxcb-cursor0 present, two others missing."""
    plugin = platform_check.xcb_plugin({})
    assert plugin is not None and plugin.name == "libqxcb.so"
    assert missing_libraries(plugin, lambda s: s not in (ICCCM, KEYSYMS)) == [ICCCM, KEYSYMS]


def test_the_runtime_loaded_cursor_library_is_checked_too(tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(elf(["libc.so.6"]))
    assert missing_libraries(plugin, lambda s: s != CURSOR) == [CURSOR]


def test_the_real_loader_tells_present_from_absent_libraries():
    assert platform_check.can_load("libc.so.6")
    assert not platform_check.can_load("libcnn-explorer-nowhere.so.7")


@pytest.mark.parametrize(("env", "platform"), [
    ({}, "xcb"),
    ({"QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
    ({"QT_QPA_PLATFORM": "xcb:nograb;wayland"}, "xcb"),
    ({"QT_QPA_PLATFORM": "Wayland;xcb"}, "wayland"),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "wayland"),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11"}, "xcb"),
])
def test_the_platform_qt_tries_first(env, platform):
    assert chosen_platform(env) == platform


def nothing_loads(_soname: str) -> bool:
    return False


@pytest.mark.parametrize(("env", "system"), [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
    ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "linux"),
    ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "linux"),
    ({}, "darwin"),
    ({}, "win32"),
])
def test_no_check_when_qt_will_not_use_xcb(env, system):
    assert platform_problem(env, load=nothing_loads, system=system) is None


def test_no_display_is_one_line_naming_offscreen():
    problem = platform_problem({}, load=lambda s: True, system="linux")
    assert problem is not None and "\n" not in problem
    assert "DISPLAY" in problem and "QT_QPA_PLATFORM=offscreen" in problem


def test_an_x_server_that_refuses_is_named():
    problem = platform_problem({"DISPLAY": ":77"}, load=lambda s: True,
                               connect=lambda d: False, system="linux")
    assert problem is not None and ":77" in problem and "QT_QPA_PLATFORM=offscreen" in problem
    assert platform_problem({"DISPLAY": ":77"}, load=lambda s: True, connect=lambda d: True,
                            system="linux") is None


def test_main_stops_with_one_line_and_exit_code_2_when_libraries_are_missing(
    monkeypatch, capsys
):
    """Simulate the issue's machine: xcb-cursor installed, icccm and keysyms missing."""
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(platform_check, "can_load", lambda s: s not in (ICCCM, KEYSYMS))
    monkeypatch.setattr(platform_check, "can_connect", lambda d: pytest.fail("not reached"))
    assert main.main([]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cnn-explorer: ")
    assert f"{ICCCM}, {KEYSYMS}" in lines[0]
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1)" in lines[0]
    assert "QT_QPA_PLATFORM=offscreen" in lines[0]
    assert "cursor" not in lines[0]


def test_main_without_any_display_stops_with_exit_code_2(monkeypatch, capsys):
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(platform_check, "can_load", lambda s: True)
    assert main.main(["--fresh"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "neither DISPLAY nor WAYLAND_DISPLAY" in err
