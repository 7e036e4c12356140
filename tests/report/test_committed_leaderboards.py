"""What the repository ships under leaderboards/ is reproduced by its documented commands:
the toy world tables from the stored runs, byte for byte, and the CI regression gate's
stored baseline from the command the workflow runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BOARD = REPO / "leaderboards" / "toy"
BASELINE = REPO / "leaderboards" / "baselines" / "toy-medium-majority8"
WORKFLOW = REPO / ".github" / "workflows" / "tts-regression.yml"


def test_the_toy_tables_are_regenerated_identically_from_the_stored_runs(tmp_path):
    out = tmp_path / "toy"
    proc = subprocess.run(["bash", str(REPO / "leaderboards" / "run_toy.sh"), "--tables",
                           str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shipped = sorted(p.name for p in BOARD.iterdir())
    assert shipped == sorted(p.name for p in out.iterdir())
    assert "index.html" in shipped and "arith_tts.md" in shipped
    for name in shipped:
        assert (out / name).read_bytes() == (BOARD / name).read_bytes(), name


def test_the_workflow_runs_the_baseline_command_and_gates_on_compare():
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["toy-world-gate"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    assert "bash leaderboards/baseline_run.sh runs/candidate" in commands
    assert f"tts-eval compare leaderboards/baselines/{BASELINE.name} runs/candidate" in commands
    assert "exit ${{ steps.compare.outputs.code }}" in commands


@pytest.mark.vllm
def test_the_gate_passes_a_candidate_run_of_the_unchanged_model(tmp_path, bin_dir):
    """The workflow's two commands, as written, against the stored baseline: the same
    model and seed must not read as a regression (nor as an incomparable run)."""
    candidate = tmp_path / "candidate"
    proc = subprocess.run(["bash", str(REPO / "leaderboards" / "baseline_run.sh"),
                           str(candidate)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    gate = subprocess.run([str(bin_dir / "tts-eval"), "compare", str(BASELINE), str(candidate)],
                          capture_output=True, text=True)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "no regression shown" in gate.stdout and gate.stdout.count("| ok |") == 5
