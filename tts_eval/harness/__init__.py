"""The lm-eval adapter: the only package that imports lm-eval.

``model`` (the ``tts-vllm`` LM), ``requests`` (gen_kwargs -> sampling spec and seeds),
``hook`` (makes model and tasks visible to the stock CLI), ``task_hooks`` / ``task_data``
/ ``task_paths`` (what the task YAMLs call), ``evaluate`` (a run saved like the CLI's).
Kept empty: the ``.pth`` hook imports ``harness.hook`` at every interpreter start.
"""
