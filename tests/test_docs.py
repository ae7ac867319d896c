"""The documents' pictures and links point at files that exist in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             ROOT / "assets" / "README.md", ROOT / "assets" / "models" / "README.md"]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_local_link_and_picture_exists(document):
    targets = [t for t in LINK.findall(document.read_text(encoding="utf-8"))
               if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    missing = [t for t in targets if not (document.parent / t.split("#")[0]).exists()]
    assert not missing, f"{document.name} links to missing files: {missing}"


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n\s*```", quick, flags=re.S)
    assert [c.strip() for c in commands] == [
        "pip install -e . && cnn-explorer",
        'pip install -e ".[test]" && python -m pytest',
    ]
    assert commands[1].strip() in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
