"""The Qt-free building blocks the window's session reader uses too: JSON with limits, typed
fields, the memory budget, regular files only, printable text, a muted stderr."""

from __future__ import annotations

import json
import os
import time

import pytest

from engine.io import budget
from engine.io.fields import FieldError, Fields
from engine.io.files import FileProblem, read_regular
from engine.io.safe_json import MAX_DEPTH, JsonError, load_file, loads, nesting_depth
from engine.io.terminal import muted_stderr, printable
from tests.hostile import makers as mk

SESSION = {"source": "a.png", "layer": 2, "paused": False, "zoom": 1.5, "docks": ["maps"],
           "view": {"colormap": "viridis"}}


@pytest.mark.parametrize(("text", "depth"), [
    ("1", 0), ("[]", 1), ('{"a": [[1]]}', 3), ('["]]]]", "[[[["]', 1),
    ('["\\"[[[", 1]', 1), ('"\\\\"', 0), ("[" * 1000 + "]" * 1000, 1000),
])
def test_nesting_depth_counts_brackets_outside_strings(text, depth):
    assert nesting_depth(text) == depth


def test_a_million_levels_are_measured_without_recursion_and_fast():
    start = time.perf_counter()
    with pytest.raises(JsonError, match="nest 1000000 levels deep"):
        loads("[" * 1_000_000 + "]" * 1_000_000, "s.json")
    assert time.perf_counter() - start < 2.0
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH, "s.json") is not None


@pytest.mark.parametrize(("text", "fragment"), [
    ('{"a": NaN}', "NaN is not a number JSON allows"),
    ('{"a": -Infinity}', "-Infinity is not a number"),
    ('{"a": 1e400}', "1e400 is too large for a number"),
    ('{"a": -1e400}', "-1e400 is too large"),
    ('{"a": 1, "a": 2}', "the key 'a' is given twice"),
    ('{"a": ' + "1" * 4400 + "}", "4300 digits"),
    ('{"a": 1', "ends early"),
    ("\ufeff", "Unexpected UTF-8 BOM"),
])
def test_json_that_python_would_take_but_json_does_not_allow(text, fragment):
    with pytest.raises(JsonError, match=fragment) as info:
        loads(text, "s.json")
    assert str(info.value).startswith("s.json: ")


@pytest.mark.parametrize(("make", "fragment"), [
    (mk.fifo, "named pipe"), (mk.device, "device"), (mk.unix_socket, "socket"),
    (lambda p: p.mkdir(), "folder"), (lambda p: None, "does not exist"),
    (lambda p: mk.sparse(p, 40 << 20), "bytes allowed"),
    (lambda p: p.write_bytes(b"\x80abc"), "not a text file"),
])
def test_json_files_must_be_small_regular_text_files(tmp_path, make, fragment):
    path = tmp_path / "session.json"
    make(path)
    with pytest.raises(JsonError, match=fragment):
        load_file(path, "session.json")


def test_a_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "s.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(SESSION).encode())
    assert load_file(path) == SESSION


FIELD_ERRORS = [
    ("integer", "layer", "Infinity", "must be a whole number from 0 to 99, not 'Infinity'"),
    ("integer", "layer", True, "must be a whole number from 0 to 99, not True"),
    ("integer", "layer", 2.0, "not 2.0"),
    ("integer", "layer", 10**400, "not 1000"),
    ("integer", "layer", [1], "not [1]"),
    ("integer", "layer", -1, "not -1"),
    ("number", "zoom", "1.5", "must be a finite number from 0.1 to 10, not '1.5'"),
    ("number", "zoom", 10**400, "must be a finite number"),
    ("number", "zoom", float("inf"), "not Infinity"),
    ("number", "zoom", float("nan"), "not nan"),
    ("boolean", "paused", 0, "must be true or false, not 0"),
    ("text", "source", 5, "must be text, not 5"),
    ("text", "source", "x" * 5000, "is 5,000 characters long"),
    ("path", "source", "", "must be a file path"),
    ("path", "source", "a\0b", "must be a file path"),
    ("path", "source", ["a.png"], "must be text, not ['a.png']"),
    ("items", "docks", "maps", "must be a list [...], not 'maps'"),
    ("items", "docks", list(range(20_000)), "has 20,000 items"),
]


@pytest.mark.parametrize(("reader", "name", "value", "message"), FIELD_ERRORS)
def test_typed_fields_name_the_file_and_the_field(reader, name, value, message):
    fields = Fields({**SESSION, name: value}, "session.json")
    limits = {"integer": {"low": 0, "high": 99}, "number": {"low": 0.1, "high": 10}}
    with pytest.raises(FieldError) as info:
        getattr(fields, reader)(name, **limits.get(reader, {}))
    assert str(info.value).startswith(f"session.json, field '{name}': ")
    assert message in str(info.value)


def test_typed_fields_read_good_values_defaults_and_nested_objects():
    fields = Fields(SESSION, "session.json").only(SESSION)
    assert fields.integer("layer", low=0) == 2 and fields.number("zoom") == 1.5
    assert fields.path("source") == "a.png" and fields.items("docks") == ["maps"]
    assert fields.boolean("missing", default=True) is True
    view = fields.child("view")
    assert view.text("colormap", choices=["viridis", "gray"]) == "viridis"
    with pytest.raises(FieldError, match=r"field 'view.colormap': must be one of gray"):
        view.text("colormap", choices=["gray"])
    with pytest.raises(FieldError, match=r"field 'layer': is required"):
        Fields({}, "s.json").integer("layer")
    with pytest.raises(FieldError, match=r"field 'zom': unknown key \(did you mean 'zoom'\?\)"):
        Fields({"zom": 1}, "s.json").only(["zoom"])
    with pytest.raises(FieldError, match=r"^s.json: must be an object"):
        Fields([1], "s.json")


@pytest.mark.parametrize(("text", "size"), [
    ("1073741824", 1 << 30), ("512M", 512 << 20), ("1.5G", 3 << 29), ("2 GiB", 2 << 30),
    ("64k", 64 << 10)])
def test_budget_sizes(text, size):
    assert budget.parse_size(text) == size


def test_the_budget_is_read_from_the_environment_and_the_address_space(monkeypatch):
    monkeypatch.setenv(budget.ENV, "100M")
    assert budget.memory_budget() <= 100 << 20
    with pytest.raises(budget.BudgetError, match=r"x would need 200.0 MiB .* budget of 100.0 MiB"):
        budget.check_allocation("x", 200 << 20)
    monkeypatch.setenv(budget.ENV, "lots")
    with pytest.raises(budget.BudgetError, match="CNN_EXPLORER_MEMORY_BUDGET is not valid"):
        budget.memory_budget()
    monkeypatch.delenv(budget.ENV)
    assert budget.memory_budget() <= budget.CAP
    monkeypatch.setattr(budget, "_address_space_left", lambda: 10 << 20)
    assert budget.memory_budget() == 9 << 20
    assert budget.ENV not in os.environ  # read, never written


@pytest.mark.parametrize(("make", "fragment"), [
    (mk.fifo, "named pipe"), (mk.device, "device"), (lambda p: p.write_bytes(bytes(10)), "10")])
def test_read_regular(tmp_path, make, fragment):
    path = tmp_path / "f"
    make(path)
    with pytest.raises(FileProblem, match=fragment):
        read_regular(path, max_bytes=5)


@pytest.mark.parametrize(("text", "shown"), [
    ("plain", "plain"), ("Ação", "Ação"), ("C:\\dir\\file", "C:\\dir\\file"),
    ("\x1b[31m", "\\x1b[31m"), ("a\nb", "a\\nb"), ("\x9b", "\\x9b"), ("\u202e", "\\u202e"),
    ("tab\there\\", "tab\\there\\\\"), ("\U000e0041", "\\U000e0041"), ("\xa0nbsp", "\xa0nbsp"),
])
def test_printable(text, shown):
    assert printable(text) == shown


def test_muted_stderr_hides_c_level_writes_and_restores(capfd):
    with muted_stderr():
        os.write(2, b"libpng warning: iCCP: known incorrect sRGB profile\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
