"""The HTTP side of remote engines: several OpenAI-compatible servers behind one pool.

At most ``max_concurrency`` requests are in flight, each sent to the healthy server with the
fewest in flight. A request that fails by connection, timeout or a 5xx (or 429) answer is
sent again, to another server when there is one, after an exponential backoff with jitter;
a server that failed rests for a while before it gets new requests. Only an answer that
arrived counts, so a request lost with a dying server is neither lost nor counted twice. A
4xx answer is the request's own fault (too long a prompt, a bad parameter) and is raised at
once with the server's message.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

API_KEY_ENV = "OPENAI_API_KEY"  # sent as a bearer token when set
REST_SECONDS = 5.0  # a server that just failed gets no new requests for this long


class ServerError(RuntimeError):
    """No server could answer a request within the retry budget, or a server refused it."""


def parse_base_urls(value: str) -> list[str]:
    """``http://a:8000/v1;http://b:8000/v1`` (semicolons or commas) -> the URLs, each
    ending in ``/v1``."""
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


class ServerPool:
    """Servers of one model, and how requests reach them."""

    def __init__(self, base_urls: Sequence[str], *, served_model: str | None = None,
                 max_concurrency: int = 64, request_timeout: float = 600.0,
                 max_retries: int = 6, backoff_seconds: float = 0.5) -> None:
        if max_concurrency < 1 or max_retries < 0 or request_timeout <= 0:
            raise ValueError("max_concurrency must be >= 1, max_retries >= 0 and "
                             "request_timeout > 0")
        self.servers = [_Server(url) for url in base_urls]
        self._served_model = served_model
        self._max_len: int | None = None
        self._asked = False
        self.max_concurrency = max_concurrency
        self.request_timeout = request_timeout
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        key = os.environ.get(API_KEY_ENV)
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}

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
        """The model name the servers serve (asked once)."""
        if not self._asked:  # once: a server that states no context length is asked no more
            self._served_model, self._max_len = self._models()
            self._asked = True
        return self._served_model  # type: ignore[return-value]

    @property
    def max_model_len(self) -> int | None:
        """The servers' context length, when they state it."""
        self.served_model  # noqa: B018  (asks the servers once)
        return self._max_len

    def run(self, path: str, bodies: Sequence[dict[str, Any]]
            ) -> Iterator[tuple[int, dict[str, Any]]]:
        """POST each body to ``path`` (under the base URL's ``/v1``, or from the server's
        root when it starts with ``//``, as vLLM's ``//pooling``); (index, answer) as each
        answer arrives. Requests still out when the caller stops early (or raises) are
        cancelled."""
        if not bodies:
            return
        loop = asyncio.new_event_loop()
        client = httpx.AsyncClient(headers=self._headers, timeout=self.request_timeout,
                                   limits=httpx.Limits(max_connections=self.max_concurrency))
        gate = asyncio.Semaphore(self.max_concurrency)

        async def one(index: int) -> tuple[int, dict[str, Any]]:
            async with gate:
                return index, await self._post(client, path, bodies[index])

        pending = {loop.create_task(one(i)) for i in range(len(bodies))}
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

    def _pick(self) -> _Server:
        now = time.monotonic()
        ready = [s for s in self.servers if s.resting_until <= now] or self.servers
        return min(ready, key=lambda s: (s.resting_until > now, s.in_flight, s.failures))

    async def _post(self, client: httpx.AsyncClient, path: str,
                    body: dict[str, Any]) -> dict[str, Any]:
        errors: list[str] = []
        for attempt in range(self.max_retries + 1):
            server = self._pick()
            server.in_flight += 1
            try:
                base = server.url.removesuffix("/v1") if path.startswith("//") else server.url
                response = await client.post(f"{base}/{path.lstrip('/')}", json=body)
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

def _unreachable(errors: Sequence[str], attempts: int | None = None) -> str:
    tried = f" after {attempts} attempts" if attempts else ""
    return (f"no server answered{tried}: {'; '.join(errors) or 'no servers'}. Check that "
            "each base_url is a running OpenAI-compatible server (e.g. `vllm serve MODEL "
            "--host 127.0.0.1 --port 8000` and base_url=http://127.0.0.1:8000/v1), or raise "
            "max_retries / request_timeout; the results stored so far are kept and a rerun "
            "reuses them")
