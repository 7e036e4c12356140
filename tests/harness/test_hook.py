"""The stock lm-eval CLI sees tts-vllm and our tasks with no --include_path."""

from __future__ import annotations

import os
import subprocess
import sys

TTS_TASKS = {"math500_tts", "aime24_tts", "aime25_tts", "gpqa_diamond_tts", "tts_core",
             "arith_tts", *(f"arith_tts_l{level}" for level in range(1, 6))}


def run(code: str, **env: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def write_task(folder, name="my_extra_task"):
    (folder / f"{name}.yaml").write_text(
        f"task: {name}\ndataset_path: x\noutput_type: generate_until\n"
        "doc_to_text: q\ndoc_to_target: a\n"
    )


def test_model_is_registered_lazily_without_importing_vllm():
    out = run(
        "import sys\n"
        "from lm_eval.api.registry import get_model\n"
        "cls = get_model('tts-vllm')\n"
        "print(cls.__module__, cls.__name__, 'vllm' in sys.modules)\n"
        "get_model('dummy')  # stock models still resolve\n"
    )
    # Resolving the class imports our model module, but vLLM waits for an engine.
    assert out.split() == ["tts_eval.harness.model", "TTSVLLM", "False"]


def test_task_manager_indexes_our_tasks_and_keeps_user_paths(tmp_path):
    write_task(tmp_path)
    out = run(
        "from lm_eval.tasks import TaskManager\n"
        f"tm = TaskManager(include_path={str(tmp_path)!r})\n"
        "print(' '.join(t for t in tm.all_tasks if 'tts' in t or 'my_extra' in t))\n"
        "print('gsm8k' in tm.all_tasks)\n"
    )
    names, stock = out.splitlines()
    assert set(names.split()) == TTS_TASKS | {"my_extra_task"}
    assert stock == "True"


def test_include_defaults_false_sees_only_the_given_paths(tmp_path):
    """lm-eval's contract (its test_include_defaults_false_with_custom_path): a manager
    without the defaults indexes exactly the include_path it was given, ours included."""
    write_task(tmp_path)
    out = run(
        "from lm_eval.tasks import TaskManager\n"
        f"tm = TaskManager(include_defaults=False, include_path={str(tmp_path)!r})\n"
        "print(' '.join(tm.all_tasks))\n"
        "print(repr(tm.include_path))\n"
        "print(len(TaskManager(include_defaults=False).all_tasks))\n"
        "default = TaskManager(include_path=[" + repr(str(tmp_path)) + "])\n"
        "print(repr(default.include_path))\n"
    )
    names, given, bare, given_default = out.splitlines()
    assert names.split() == ["my_extra_task"]
    assert given == repr(str(tmp_path)) and given_default == repr([str(tmp_path)])
    assert bare == "0"


def test_off_switch_leaves_lm_eval_untouched(tmp_path):
    out = run(
        "from lm_eval.api.registry import get_model\n"
        "from lm_eval.tasks import TaskManager\n"
        "print(any(t in TaskManager().all_tasks for t in ['math500_tts', 'arith_tts']))\n"
        "try:\n"
        "    get_model('tts-vllm')\n"
        "    print('registered')\n"
        "except Exception:\n"
        "    print('unregistered')\n",
        TTS_EVAL_LM_EVAL_HOOK="0",
    )
    assert out.split() == ["False", "unregistered"]


def test_lm_eval_ls_tasks_lists_our_tasks(bin_dir):
    proc = subprocess.run([str(bin_dir / "lm_eval"), "ls", "tasks"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for name in ("math500_tts", "aime24_tts", "aime25_tts", "gpqa_diamond_tts", "tts_core"):
        assert name in proc.stdout


def test_tasks_ship_in_the_wheel(tmp_path):
    import zipfile
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(repo)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("tts_lm_eval-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "tts_eval_lm_eval_hook.pth" in names
    assert "tts_eval/_tasks/math500/math500_tts.yaml" in names
    assert "tts_eval/_tasks/_shared/_tts_common_yaml" in names
    assert "tts_eval/_tasks/math500/utils.py" in names
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "[lm_eval.models]" in entry_points and "tts-vllm" in entry_points
