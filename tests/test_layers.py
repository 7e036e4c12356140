"""The import contracts in pyproject.toml hold, and each one can fail.

CI runs ``lint-imports`` on the tree. Here a scratch copy of the package gets one forbidden
import per contract, and lint-imports must report every contract broken: a contract that
cannot fail checks nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

FORBIDDEN = {
    # file in the scratch copy -> a line that breaks one contract
    "tts_eval/strategies/base.py": "import vllm  # only engines/ may",
    "tts_eval/report/runs.py": "import lm_eval  # only harness/ may",
    "tts_eval/grading/types.py": "import tts_eval.records  # grading stands alone",
    "tts_eval/engines/base.py": "import tts_eval.strategies  # a lower layer importing a higher",
}
CONTRACTS = {
    "tts_eval/strategies/base.py": "Only engines/ imports vLLM",
    "tts_eval/report/runs.py": "Only harness/ imports lm-eval",
    "tts_eval/grading/types.py": "grading/ imports no other tts_eval package (usable on its own)",
    "tts_eval/engines/base.py": "Layers: each package imports only the packages below it",
}


def scratch_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "tts_eval", tmp_path / "tts_eval",
                    ignore=shutil.ignore_patterns("models", "__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_scratch_copy_keeps_every_contract(tmp_path):
    proc = lint_imports(scratch_copy(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "0 broken" in proc.stdout


def test_each_contract_fails_on_a_forbidden_import(tmp_path):
    root = scratch_copy(tmp_path)
    for relative, line in FORBIDDEN.items():
        path = root / relative
        path.write_text(path.read_text() + f"\n{line}\n")
    proc = lint_imports(root)
    assert proc.returncode != 0
    for relative, contract in CONTRACTS.items():
        assert f"{contract} BROKEN" in proc.stdout, (relative, proc.stdout[-3000:])
    summary = proc.stdout[proc.stdout.index("Contracts:"):].splitlines()[0]
    assert summary.strip() == f"Contracts: 0 kept, {len(CONTRACTS)} broken.", proc.stdout[-3000:]
