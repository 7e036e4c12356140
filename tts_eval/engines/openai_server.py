"""Generation on OpenAI-compatible completion servers (``vllm serve``, SGLang, TGI): how one
evaluation spreads over many machines.

The client keeps what a strategy relies on: prompts go as token ids (so continuations and
the run store see exactly what was sent), completions come back with their token ids where
the server offers them (vLLM's ``return_token_ids``; otherwise the text is tokenised
locally), every request carries its own seed, and token counts come from the server's
``usage``.

Several servers share the requests: at most ``max_concurrency`` in flight, each sent to the
healthy server with the fewest in flight. A request that fails by connection, timeout or a
5xx answer is sent again, to another server when there is one, after an exponential backoff
with jitter; a server that failed rests for a while before it gets new requests. Only a
response that arrived is counted, so a request lost with a dying server is neither lost nor
counted twice. A 4xx answer is the request's own fault (too long a prompt, a bad parameter)
and is raised at once with the server's message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from tts_eval.engines.base import (
    Completion,
    GeneratesEach,
    Generation,
    Prompt,
    SamplingSpec,
    check_batch,
)
from tts_eval.engines.model_files import ModelFiles

log = logging.getLogger(__name__)

API_KEY_ENV = "OPENAI_API_KEY"  # sent as a bearer token when set
REST_SECONDS = 5.0  # a server that just failed gets no new requests for this long


class ServerError(RuntimeError):
    """No server could answer a request within the retry budget, or a server refused it."""


def parse_base_urls(value: str) -> list[str]:
    """``http://a:8000/v1,http://b:8000/v1`` (commas or semicolons) -> the URLs, each ending
    in ``/v1``."""
    urls = [u.strip().rstrip("/") for u in value.replace(";", ",").split(",") if u.strip()]
    if not urls:
        raise ValueError("base_url is empty; give one or more server URLs, e.g. "
                         "base_url=http://127.0.0.1:8000/v1")
    return [u if u.endswith("/v1") else f"{u}/v1" for u in urls]


@dataclass
class _Server:
    url: str
    in_flight: int = 0
    resting_until: float = 0.0
    failures: int = 0
    served: int = 0


class ServerEngine(GeneratesEach, ModelFiles):
    """The Engine protocol over one or more servers that serve ``pretrained`` (whose
    tokenizer and config are read locally, as ``ModelFiles``)."""

    def __init__(self, pretrained: str, base_urls: Sequence[str], *,
                 served_model: str | None = None, max_concurrency: int = 64,
                 request_timeout: float = 600.0, max_retries: int = 6,
                 backoff_seconds: float = 0.5, **model_file_args: Any) -> None:
        super().__init__(pretrained, model_file_args)
        if max_concurrency < 1 or max_retries < 0 or request_timeout <= 0:
            raise ValueError("max_concurrency must be >= 1, max_retries >= 0 and "
                             "request_timeout > 0")
        self.servers = [_Server(url) for url in base_urls]
        self._served_model = served_model
        self.max_concurrency = max_concurrency
        self.request_timeout = request_timeout
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        key = os.environ.get(API_KEY_ENV)
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._server_max_len: int | None = None

    # What the servers say about themselves ---------------------------------------------

    def _models(self) -> tuple[str, int | None]:
        """The served model's name and context length, from the first server that answers
        ``GET /models``."""
        errors = []
        for server in self.servers:
            try:
                response = httpx.get(f"{server.url}/models", headers=self._headers, timeout=30)
                response.raise_for_status()
                models = response.json().get("data") or []
            except (httpx.HTTPError, ValueError) as exc:
                errors.append(f"{server.url}: {exc}")
                continue
            chosen = next((m for m in models if m.get("id") == self._served_model), None)
            if chosen is None and self._served_model is None and models:
                chosen = models[0]
            if chosen is None:
                names = ", ".join(m.get("id", "?") for m in models) or "none"
                raise ServerError(f"{server.url} does not serve {self._served_model!r} (it "
                                  f"serves: {names}); set served_model= to one of them")
            return chosen["id"], chosen.get("max_model_len")
        raise ServerError(_unreachable(errors))

    @property
    def served_model(self) -> str:
        if self._served_model is None or self._server_max_len is None:
            self._served_model, self._server_max_len = self._models()
        return self._served_model

    @property
    def max_model_len(self) -> int:
        if self.engine_args.get("max_model_len"):
            return int(self.engine_args["max_model_len"])
        self.served_model  # noqa: B018  (asks the servers once)
        return int(self._server_max_len or super().max_model_len)

    # Generation ----------------------------------------------------------------

    def generate_each(self, prompts: Sequence[Prompt],
                      specs: Sequence[SamplingSpec]) -> Iterator[tuple[int, Generation]]:
        """(index, Generation) as each request's answer arrives."""
        check_batch(prompts, specs)
        if not prompts:
            return
        token_ids = [self.token_ids(p, s.add_special_tokens)
                     for p, s in zip(prompts, specs, strict=True)]
        bodies = [self._body(ids, spec) for ids, spec in zip(token_ids, specs, strict=True)]
        loop = asyncio.new_event_loop()
        client = httpx.AsyncClient(headers=self._headers, timeout=self.request_timeout,
                                   limits=httpx.Limits(max_connections=self.max_concurrency))
        gate = asyncio.Semaphore(self.max_concurrency)

        async def one(index: int) -> tuple[int, Generation]:
            async with gate:
                answer = await self._post(client, bodies[index])
            return index, self._generation(token_ids[index], answer)

        tasks = [loop.create_task(one(i)) for i in range(len(bodies))]
        pending = set(tasks)
        try:
            while pending:
                done, pending = loop.run_until_complete(
                    asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED))
                for task in done:
                    yield task.result()
        finally:
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending))
            loop.run_until_complete(client.aclose())
            loop.close()

    def _body(self, ids: list[int], spec: SamplingSpec) -> dict[str, Any]:
        room = self.max_model_len - len(ids)
        if room < 1:
            raise ValueError(f"prompt of {len(ids)} tokens leaves no room to generate within "
                             f"max_model_len={self.max_model_len}")
        body: dict[str, Any] = {
            "model": self.served_model, "prompt": ids, "n": spec.n,
            "temperature": spec.temperature, "top_p": spec.top_p,
            "max_tokens": min(spec.max_tokens, room), "return_token_ids": True,
        }
        if spec.top_k > 0:
            body["top_k"] = spec.top_k
        if spec.stop:
            body["stop"] = list(spec.stop)
        if spec.seed is not None:
            body["seed"] = spec.seed
        body.update(dict(spec.extra))
        return body

    def _pick(self) -> _Server:
        now = time.monotonic()
        ready = [s for s in self.servers if s.resting_until <= now] or self.servers
        return min(ready, key=lambda s: (s.resting_until > now, s.in_flight, s.failures))

    async def _post(self, client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
        errors: list[str] = []
        for attempt in range(self.max_retries + 1):
            server = self._pick()
            server.in_flight += 1
            try:
                response = await client.post(f"{server.url}/completions", json=body)
            except httpx.HTTPError as exc:  # refused, reset, timed out: the server's trouble
                errors.append(f"{server.url}: {type(exc).__name__} {exc}".strip())
            else:
                if response.status_code < 400:
                    server.served += 1
                    return response.json()
                if response.status_code < 500 and response.status_code != 429:
                    raise ServerError(f"{server.url} refused a request ({response.status_code}"
                                      f"): {response.text[:500]}")
                errors.append(f"{server.url}: HTTP {response.status_code} "
                              f"{response.text[:200]}")
            finally:
                server.in_flight -= 1
            server.failures += 1
            server.resting_until = time.monotonic() + REST_SECONDS
            if attempt < self.max_retries:
                delay = self.backoff_seconds * 2 ** attempt
                await asyncio.sleep(delay * (0.5 + random.random()))  # jitter: no stampede
        raise ServerError(_unreachable(errors[-len(self.servers):], self.max_retries + 1))

    def _generation(self, prompt_ids: list[int], answer: dict[str, Any]) -> Generation:
        completions = []
        for choice in sorted(answer["choices"], key=lambda c: c.get("index", 0)):
            ids = choice.get("token_ids")
            if ids is None:  # a server without token ids: the text, tokenised here
                ids = self.token_ids(choice["text"], add_special_tokens=False)
            completions.append(Completion(
                text=choice["text"], completion_tokens=len(ids),
                finish_reason=choice.get("finish_reason"), token_ids=tuple(ids),
                stop_reason=choice.get("stop_reason")))
        usage = answer.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        return Generation(prompt_tokens=len(prompt_ids),
                          cached_prompt_tokens=int(details.get("cached_tokens") or 0),
                          completions=completions)


def _unreachable(errors: Sequence[str], attempts: int | None = None) -> str:
    tried = f" after {attempts} attempts" if attempts else ""
    return (f"no server answered{tried}: {'; '.join(errors) or 'no servers'}. Check that "
            "each base_url is a running OpenAI-compatible server (e.g. `vllm serve MODEL "
            "--host 127.0.0.1 --port 8000` and base_url=http://127.0.0.1:8000/v1), or raise "
            "max_retries / request_timeout; the results stored so far are kept and a rerun "
            "reuses them")
