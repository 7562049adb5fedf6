"""The package keeps its layers: no import cycles, search never imports ingest, one reader of the environment."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "paperscope"


def _checker():
    spec = importlib.util.spec_from_file_location("check_cycles", ROOT / "tools" / "check_cycles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cycle_checker_finds_a_cycle_and_the_package_has_none():
    checker = _checker()
    assert checker.find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert checker.find_cycle({"a": {"b"}, "b": set()}) is None
    assert checker.main() == 0


def test_search_does_not_import_ingest():
    for module in ("search.py", "rank.py", "index.py"):
        text = (SRC / module).read_text(encoding="utf-8")
        assert not re.search(r"from \.(pipeline|sources)\b|import paperscope\.(pipeline|sources)", text), module


def test_only_config_reads_paperscope_environment_variables():
    readers = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")
               if re.search(r"environ(\.get)?\(?\[?[\"']PAPERSCOPE_", p.read_text(encoding="utf-8"))]
    assert readers in ([], ["config.py"]), readers


def test_settings_doc_is_generated_from_the_one_declaration():
    from paperscope.config import settings_markdown

    assert settings_markdown() in (ROOT / "docs" / "settings.md").read_text(encoding="utf-8"), (
        "regenerate docs/settings.md: see its first paragraph")
