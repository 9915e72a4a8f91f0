"""throttlebox conformance driver: replays a seeded schedule through a real client-side system.

Embedded in the throttlebox binary (src/conformance/driver.py) and written next to the lab's
results; run with the lab's Python (`.ci/install-python-deps`). Usage:

    python driver.py MODE SCHEDULE.jsonl OUT.jsonl CONFIG.json

MODE is one of
  sdk       the OpenAI Python SDK (AsyncAzureOpenAI, its own retries) against CONFIG["endpoint"]
            (a LiteLLM proxy or one mock resource);
  priority  the SDK over openai-priority-loadbalancer's AsyncLoadBalancer transport, with
            CONFIG["backends"] = [{"host", "priority"}] (the library replaces only the host);
  router    the LiteLLM Router library built from the YAML file CONFIG["litellm_config"]
            (model_list, router_settings, litellm_settings) as the proxy builds it.

Each schedule line is one request ({"id", "at_s", "deployment", "prompt_tokens", "max_tokens",
"stream"}); it is sent at its intended time (open loop) whatever earlier requests do. Each
output line is one request's outcome as the calling application saw it: {"id", "outcome"
("ok" | "throttled" | "exhausted" | "server_error" | "client_error" | "connect_error" |
"timeout"), "status", "ttft_s" and "e2e_s" (from the intended send time), "send_lag_s"}.
"exhausted" is the balancer's own answer (LiteLLM's "No deployments available", the priority
balancer's empty-bodied 429); "throttled" a backend's 429 passed through. The driver bounds
itself: CONFIG["deadline_s"] after the last intended send it cancels what is still open
(outcome "timeout") and exits. Prints "DRIVER-DONE <requests>" last.
"""

import asyncio
import json
import sys
import time


def prompt_text(tokens):
    # The same synthetic prompt as throttlebox's load engine (workload::prompt_text).
    return " the" * tokens


def load_schedule(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def outcome_of_status(status, exhausted):
    if status == 429:
        return "exhausted" if exhausted else "throttled"
    if status >= 500:
        return "server_error"
    return "client_error"


class Sender:
    """Sends one request through the system under test; returns (status, ttft_from_send)."""

    async def send(self, request):
        raise NotImplementedError


def chat_kwargs(request):
    kwargs = {
        "model": request["deployment"],
        "messages": [{"role": "user", "content": prompt_text(request["prompt_tokens"])}],
        "stream": request["stream"],
    }
    if request.get("max_tokens") is not None:
        kwargs["max_tokens"] = request["max_tokens"]
    if request["stream"]:
        kwargs["stream_options"] = {"include_usage": True}
    return kwargs


async def consume(response, stream, started):
    """Reads the whole answer; returns the time of the first content token (streams)."""
    if not stream:
        return None
    first = None
    async for chunk in response:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.monotonic() - started
    return first


class SdkSender(Sender):
    def __init__(self, config, http_client=None):
        import openai

        self.openai = openai
        self.client = openai.AsyncAzureOpenAI(
            azure_endpoint=config["endpoint"],
            api_key=config.get("api_key", "throttlebox-lab"),
            api_version=config.get("api_version", "2024-10-21"),
            max_retries=config.get("max_retries", 2),
            timeout=config.get("timeout_s", 120.0),
            http_client=http_client,
        )
        self.exhausted_marker = config.get("exhausted_marker")

    def is_exhausted(self, error):
        response = getattr(error, "response", None)
        body = response.content if response is not None else b""
        if self.exhausted_marker == "empty-body":
            return body == b""
        if self.exhausted_marker:
            return self.exhausted_marker.encode() in body
        return False

    async def send(self, request):
        started = time.monotonic()
        try:
            response = await self.client.chat.completions.create(**chat_kwargs(request))
            ttft = await consume(response, request["stream"], started)
            return 200, "ok", ttft
        except self.openai.APIStatusError as error:
            status = error.status_code
            return status, outcome_of_status(status, self.is_exhausted(error)), None
        except self.openai.APITimeoutError:
            return 0, "timeout", None
        except self.openai.APIConnectionError:
            return 0, "connect_error", None


class PrioritySender(SdkSender):
    def __init__(self, config):
        import httpx
        from openai_priority_loadbalancer import AsyncLoadBalancer, Backend

        backends = [Backend(b["host"], b["priority"]) for b in config["backends"]]
        transport = AsyncLoadBalancer(backends)
        config = dict(config, exhausted_marker="empty-body")
        super().__init__(config, http_client=httpx.AsyncClient(transport=transport))


class RouterSender(Sender):
    def __init__(self, config):
        import litellm
        import yaml

        with open(config["litellm_config"], encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        for key, value in (document.get("litellm_settings") or {}).items():
            setattr(litellm, key, value)
        self.litellm = litellm
        self.router = litellm.Router(
            model_list=document["model_list"], **(document.get("router_settings") or {})
        )

    async def send(self, request):
        started = time.monotonic()
        try:
            response = await self.router.acompletion(**chat_kwargs(request))
            ttft = None
            if request["stream"]:
                async for chunk in response:
                    if ttft is None and chunk.choices and chunk.choices[0].delta.content:
                        ttft = time.monotonic() - started
            return 200, "ok", ttft
        except Exception as error:  # the Router raises litellm's and its own exception types
            status = getattr(error, "status_code", None)
            text = str(error)
            if "No deployments available" in text:
                return 429, "exhausted", None
            if isinstance(status, int):
                return status, outcome_of_status(status, False), None
            if isinstance(error, self.litellm.Timeout):
                return 0, "timeout", None
            return 0, "connect_error", None


async def run(mode, schedule, out_path, config):
    sender = {"sdk": SdkSender, "priority": PrioritySender, "router": RouterSender}[mode](config)
    results = []
    t0 = time.monotonic()

    async def one(request):
        intended = t0 + request["at_s"]
        delay = intended - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.monotonic()
        record = {"id": request["id"], "outcome": "timeout", "status": 0, "ttft_s": None,
                  "e2e_s": None, "send_lag_s": round(sent - intended, 6)}
        results.append(record)
        status, outcome, ttft = await sender.send(request)
        end = time.monotonic()
        record.update(status=status, outcome=outcome, e2e_s=round(end - intended, 6))
        if ttft is not None:
            record["ttft_s"] = round(sent - intended + ttft, 6)

    tasks = [asyncio.ensure_future(one(request)) for request in schedule]
    last = max((request["at_s"] for request in schedule), default=0.0)
    deadline = last + config.get("deadline_s", 120.0)
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, t0 + deadline - time.monotonic()))
    for task in pending:
        task.cancel()
    with open(out_path, "w", encoding="utf-8") as handle:
        for record in sorted(results, key=lambda r: r["id"]):
            handle.write(json.dumps(record) + "\n")
    return len(results)


def main():
    mode, schedule_path, out_path, config_path = sys.argv[1:5]
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    schedule = load_schedule(schedule_path)
    count = asyncio.run(run(mode, schedule, out_path, config))
    print(f"DRIVER-DONE {count}", flush=True)


if __name__ == "__main__":
    main()
