"""The stock lm-eval CLI sees tts-vllm and our tasks with no --include_path."""

from __future__ import annotations

import subprocess
import sys


def run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_model_is_registered_lazily_without_importing_vllm():
    out = run(
        "import sys\n"
        "from lm_eval.api.registry import get_model\n"
        "cls = get_model('tts-vllm')\n"
        "print(cls.__module__, cls.__name__, 'vllm' in sys.modules)\n"
        "get_model('dummy')  # stock models still resolve\n"
    )
    # Resolving the class imports our model module, but vLLM waits for an engine.
    assert out.split() == ["tts_eval.lm_eval_model", "TTSVLLM", "False"]


def test_task_manager_indexes_our_tasks_and_keeps_user_paths(tmp_path):
    (tmp_path / "mine.yaml").write_text(
        "task: my_extra_task\ndataset_path: x\noutput_type: generate_until\n"
        "doc_to_text: q\ndoc_to_target: a\n"
    )
    out = run(
        "from lm_eval.tasks import TaskManager\n"
        f"tm = TaskManager(include_path={str(tmp_path)!r})\n"
        "print(' '.join(t for t in tm.all_tasks if 'tts' in t or 'my_extra' in t))\n"
        "print('gsm8k' in tm.all_tasks)\n"
    )
    names, stock = out.splitlines()
    assert set(names.split()) == {"math500_tts", "aime24_tts", "aime25_tts",
                                  "gpqa_diamond_tts", "tts_core", "my_extra_task", "arith_tts",
                                  *(f"arith_tts_l{level}" for level in range(1, 6))}
    assert stock == "True"


def test_lm_eval_ls_tasks_lists_our_tasks(bin_dir):
    proc = subprocess.run([str(bin_dir / "lm_eval"), "ls", "tasks"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for name in ("math500_tts", "aime24_tts", "aime25_tts", "gpqa_diamond_tts", "tts_core"):
        assert name in proc.stdout


def test_tasks_ship_in_the_wheel(tmp_path):
    import zipfile
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(repo)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("tts_eval-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tts_eval_lm_eval_hook.pth" in names
    assert "tts_eval/_tasks/tts_core/math500_tts.yaml" in names
    assert "tts_eval/_tasks/tts_core/utils.py" in names
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "[lm_eval.models]" in entry_points and "tts-vllm" in entry_points
