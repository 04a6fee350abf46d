"""bench/gpu_check.py: its plan, its deadlines, its report; and (slow) the whole --quick run on the CPU."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import gpu_check

ROOT = Path(__file__).resolve().parents[2]


def test_the_plan_measures_both_models_in_every_precision_and_compiles_the_default_first() -> None:
    plan = gpu_check.Plan.make("cpu", quick=False, budget_s=480, backend="auto")
    assert plan.models[0][0] == "celebamask-256" and plan.models[1] == ("demo-128", str(gpu_check.DEMO))
    assert plan.train_preset == "celebamask-256" and plan.train_batches == [8, 16] and plan.strip == 16
    eager = plan.eager_cases("celebamask-256")
    assert [c["precision"] for c in eager] == ["fp32", "bf16", "fp32"] and eager[-1]["token_chunk"] == 0
    compiled = plan.compiled_cases()
    assert compiled[:2] == [("celebamask-256", None, "fp32", "default"), ("demo-128", str(gpu_check.DEMO), "fp32",
                                                                          "default")]
    assert plan.compile_backend == "inductor"
    quick = gpu_check.Plan.make("cpu", quick=True, budget_s=180, backend="auto")
    assert quick.models[0][0] == "tiny" and quick.compile_backend == "aot_eager"
    assert quick.compiled_cases() == [("tiny", None, "fp32", "default")]


def test_a_child_past_its_deadline_is_killed_and_what_it_printed_is_kept() -> None:
    code = "import time; print('RESULT {\"n\": 1}', flush=True); time.sleep(60)"
    t0 = time.monotonic()
    outcome = gpu_check.run_process([sys.executable, "-c", code], timeout=3)
    assert time.monotonic() - t0 < 30
    assert outcome.timed_out and outcome.records == [{"n": 1}] and "deadline" in (outcome.error or "")


def test_a_case_printed_in_two_lines_becomes_one_record() -> None:
    lines = [{"image": "a", "edit_s": 1.0, "peak_memory_mb": 10.0}, {"image": "b", "edit_s": 2.0},
             {"image": "a", "strip_n": 16, "peak_memory_mb": 30.0}]
    assert gpu_check.merged(lines) == [{"image": "a", "edit_s": 1.0, "peak_memory_mb": 30.0, "strip_n": 16},
                                       {"image": "b", "edit_s": 2.0}]


def test_a_crashing_child_is_an_error_with_its_message() -> None:
    outcome = gpu_check.run_process([sys.executable, "-c", "raise SystemExit('no GPU here')"], timeout=30)
    assert not outcome.timed_out and outcome.records == [] and "no GPU here" in (outcome.error or "")


def test_a_part_that_runs_out_of_time_is_skipped_and_recorded(tmp_path: Path) -> None:
    check = gpu_check.Check(gpu_check.Plan.make("cpu", quick=True, budget_s=0, backend="auto"), tmp_path)
    check.run()
    report = check.report()
    assert {p["status"] for p in report["parts"].values()} == {"skipped"}
    assert report["ok"] and not report["inference"] and all(p["notes"] for p in report["parts"].values())


def test_junit_results_become_counts_and_failure_messages(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.cuda.test_x" name="test_ok" time="0.5"/>'
        '<testcase classname="tests.cuda.test_x" name="test_bad" time="1.0"><failure message="AssertionError: 12 dB">'
        "trace</failure></testcase>"
        '<testcase classname="tests.cuda.test_x" name="test_fp16" time="0"><skipped message="no fp16"/></testcase>'
        "</testsuite></testsuites>"
    )
    result = gpu_check.read_junit(junit)
    assert result["counts"] == {"passed": 1, "failed": 1, "skipped": 1}
    assert result["cases"][1] == {"test": "tests.cuda.test_x::test_bad", "outcome": "failed", "seconds": 1.0,
                                  "message": "AssertionError: 12 dB"}


def test_the_report_stays_strict_json_and_the_table_names_the_failures() -> None:
    report = gpu_check.finite({
        "plan": {"device": "cuda", "quick": False, "budget_s": 480.0, "strip": 16},
        "machine": {"gpu": "NVIDIA H200", "torch": "2.11.0", "cuda": "13.0", "cpu": "x", "cores": 16},
        "wall_s": 400.0, "ok": False, "failed_parts": ["tests"],
        "parts": {"tests": {"name": "tests", "status": "failed", "seconds": 60.0, "started": 1,
                            "notes": ["pytest tests/cuda: 1 failed, 0 errors"]}},
        "tests": {"counts": {"passed": 10, "failed": 1},
                  "cases": [{"test": "t::bf16", "outcome": "failed", "seconds": 1.0, "message": "29 dB"}]},
        "inference": [{"model": "celebamask-256", "weights": "random", "precision": "bf16", "compiled": None,
                       "pixel_slices": 0, "first_full_s": 1.2, "full_s": 0.012, "edit_s": 0.0041,
                       "strip_sequential_s": 0.07, "strip_batched_s": 0.02, "peak_memory_mb": 900.0,
                       "error_vs_fp32": {"max_abs_8bit": 0.0, "mean_abs_8bit": 0.0, "psnr_db": float("inf")}}],
        "training": [{"preset": "celebamask-256", "batch": 8, "precision": "bf16 autocast", "g_step_ms": 90.0,
                      "d_step_ms": 30.0, "step_ms": 120.0, "images_per_s": 66.7, "peak_memory_mb": 20000.0}],
    })
    json.dumps(report, allow_nan=False)
    table = gpu_check.markdown(report)
    assert "FAILED: tests" in table and "`t::bf16`: 29 dB" in table
    assert "| celebamask-256 (random) | bf16 | — | whole map |" in table and "**4.1**" in table and "exact" in table
    assert "| celebamask-256 | 8 | bf16 autocast | 90.0 | 30.0 | 120.0 | **66.7** |" in table


@pytest.mark.slow
def test_the_quick_check_runs_every_part_on_the_cpu(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    proc = subprocess.run([sys.executable, "bench/gpu_check.py", "--device", "cpu", "--quick", "--json", str(out),
                           "--markdown", str(tmp_path / "gpu.md")], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["parts"]["tests"]["status"] == "ok" and report["tests"]["counts"]["passed"] >= 4
    assert {r["model"] for r in report["inference"] if not r["compiled"]} == {"tiny", "demo-128"}
    assert any(r["compiled"] for r in report["inference"]), report["parts"]["compiled"]
    assert [r["batch"] for r in report["training"]] == [2]
    assert all(r["error_vs_fp32"] is not None for r in report["inference"] if r["model"] == "tiny")
    assert "| tiny (random) | fp32 |" in (tmp_path / "gpu.md").read_text()
