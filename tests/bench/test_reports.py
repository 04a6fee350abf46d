"""Benchmark reports name files the same way on every machine."""

from __future__ import annotations

from bench import ROOT, repo_path


def test_a_file_in_the_repository_is_named_from_the_repository_root(tmp_path) -> None:
    assert repo_path(ROOT / "models" / "demo-128.safetensors") == "models/demo-128.safetensors"
    assert repo_path(ROOT / "models" / ".." / "models" / "x.safetensors") == "models/x.safetensors"


def test_other_paths_stay_as_given_and_none_is_empty(tmp_path) -> None:
    assert repo_path(tmp_path / "w.safetensors") == str(tmp_path / "w.safetensors")
    assert repo_path(None) == "" and repo_path("") == ""
