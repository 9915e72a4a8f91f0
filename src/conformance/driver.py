"""throttlebox conformance driver: replays a seeded schedule through a real client-side system.

Embedded in the throttlebox binary (src/conformance/driver.py) and written next to the lab's
results; run with the lab's Python (`.ci/install-python-deps`). Usage:

    python driver.py MODE SCHEDULE.jsonl CONFIG.json

MODE is one of
  sdk       the OpenAI Python SDK (AsyncAzureOpenAI, its own retries) against CONFIG["endpoint"]
            (a LiteLLM proxy or one mock resource);
  priority  the SDK over openai-priority-loadbalancer's AsyncLoadBalancer transport, with
            CONFIG["backends"] = [{"host", "priority"}] (the library replaces only the host);
  router    the LiteLLM Router library built from the YAML file CONFIG["litellm_config"]
            (model_list, router_settings, litellm_settings) as the proxy builds it.

Each schedule line is one request ({"id", "at_s", "deployment", "prompt_tokens", "max_tokens",
"stream"}); it is sent at its intended time (open loop) whatever earlier requests do. As each
request ends the driver prints one line `RECORD {json}` on stdout (flushed, so the lab sees
every outcome as it happens and keeps them if the system under test dies): {"id", "at_s",
"outcome", "status", "ttft_s" and "e2e_s" (from the intended send time), "send_lag_s",
"error", "tries"}. "outcome" is the application's view: "ok" | "throttled" (a backend's 429
passed through) | "exhausted" (the balancer's own answer: LiteLLM's "No deployments
available", the priority balancer's empty-bodied 429) | "server_error" | "client_error" |
"broken_stream" (an HTTP answer whose body broke off) | "transport_error" (no HTTP answer at
all: connection refused or reset, the server closed without answering; "error" names it) |
"timeout". "status" is the HTTP status the application saw, 0 for none. "tries" (SDK modes) is
every HTTP attempt the client made, its own retries included: [seconds from the intended send
when the answer's head arrived (or the attempt failed), status (0: no answer), the answer's
retry-after-ms, retry-after and llm_provider-retry-after headers]. The driver bounds itself:
CONFIG["deadline_s"] after the last intended send it cancels what is still open (outcome
"timeout") and exits. Before the schedule it warms the system up (CONFIG["warmup"], see
`warm_up`) and prints "WARMED <answered> <sent>", when the lab reads the backends' counters
so the warm-up is not counted. Prints "DRIVER-DONE <requests>" last.
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


def describe(error):
    """The transport failure under an SDK or LiteLLM exception, e.g. "ConnectError: [Errno 111]
    Connection refused"."""
    inner = error
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__
    return f"{type(inner).__name__}: {inner}"[:300]


TRY_HEADERS = ("retry-after-ms", "retry-after", "llm_provider-retry-after")
REQUEST_ID = "x-throttlebox-lab-request"


class Tries:
    """Every HTTP attempt of each request, the SDK's own retries included, from httpx's event
    hooks (the request carries its schedule id in a header)."""

    def __init__(self):
        self.by_id = {}

    def hooks(self):
        return {"request": [self.on_request], "response": [self.on_response]}

    async def on_request(self, request):
        key = request.headers.get(REQUEST_ID)
        if key is not None:
            self.by_id.setdefault(key, []).append([time.monotonic(), 0, None, None, None])

    async def on_response(self, response):
        key = response.request.headers.get(REQUEST_ID)
        tries = self.by_id.get(key)
        if tries:
            tries[-1][0] = time.monotonic()
            tries[-1][1] = response.status_code
            for index, name in enumerate(TRY_HEADERS):
                tries[-1][2 + index] = response.headers.get(name)

    def take(self, key, intended):
        return [[round(t[0] - intended, 6)] + t[1:] for t in self.by_id.pop(key, [])]


class SdkSender(Sender):
    def __init__(self, config, http_client=None):
        import openai

        self.openai = openai
        self.tries = Tries()
        if http_client is None:
            http_client = openai.DefaultAsyncHttpxClient(event_hooks=self.tries.hooks())
        else:
            http_client.event_hooks = self.tries.hooks()
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
        kwargs = chat_kwargs(request)
        kwargs["extra_headers"] = {REQUEST_ID: str(request["id"])}
        try:
            response = await self.client.chat.completions.create(**kwargs)
        except self.openai.APIStatusError as error:
            status = error.status_code
            return status, outcome_of_status(status, self.is_exhausted(error)), None, None
        except self.openai.APITimeoutError:
            return 0, "timeout", None, None
        except self.openai.APIConnectionError as error:
            return 0, "transport_error", None, describe(error)
        try:
            ttft = await consume(response, request["stream"], started)
            return 200, "ok", ttft, None
        except Exception as error:  # the body broke off after a 200 head
            return 200, "broken_stream", None, describe(error)

    def take_tries(self, request, intended):
        return self.tries.take(str(request["id"]), intended)


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
        except Exception as error:  # the Router raises litellm's and its own exception types
            status = getattr(error, "status_code", None)
            text = str(error)
            if "No deployments available" in text:
                return 429, "exhausted", None, None
            if isinstance(status, int):
                return status, outcome_of_status(status, False), None, None
            if isinstance(error, self.litellm.Timeout):
                return 0, "timeout", None, None
            return 0, "transport_error", None, describe(error)
        try:
            ttft = None
            if request["stream"]:
                async for chunk in response:
                    if ttft is None and chunk.choices and chunk.choices[0].delta.content:
                        ttft = time.monotonic() - started
            return 200, "ok", ttft, None
        except Exception as error:
            return 200, "broken_stream", None, describe(error)

    def take_tries(self, request, intended):
        return None


EMITTED = [0]


def emit(record):
    sys.stdout.write("RECORD " + json.dumps(record) + "\n")
    sys.stdout.flush()
    EMITTED[0] += 1


async def warm_up(sender, schedule, warmup):
    """Warms the system under test before the schedule: `rounds` rounds of `requests`
    concurrent one-token requests (concurrent, so a least-busy router spreads them over its
    deployments), then `settle_s` for them to leave the backends' request windows. A cold
    LiteLLM proxy answered its first requests 0.6-1.3 s late (TTFT 1.1-1.7 s where the mock
    gives ~0.4 s; docs/conformance.md), which delays the schedule's first admissions and so
    every rate window after them; the simulator has no cold start. Prints "WARMED <answered> <sent>"."""
    if not schedule or warmup.get("rounds", 0) <= 0:
        print("WARMED 0 0", flush=True)
        return
    first = schedule[0]
    answered = sent = 0
    for round_index in range(warmup["rounds"]):
        batch = []
        for index in range(warmup["requests"]):
            request = dict(first, id=f"warmup-{round_index}-{index}", prompt_tokens=1,
                           max_tokens=1)
            batch.append(request)
        results = await asyncio.gather(*(sender.send(request) for request in batch))
        for request in batch:
            sender.take_tries(request, 0.0)
        sent += len(batch)
        answered += sum(1 for status, *_ in results if status > 0)
    print(f"WARMED {answered} {sent}", flush=True)
    await asyncio.sleep(warmup.get("settle_s", 11.0))


async def run(mode, schedule, config):
    sender = {"sdk": SdkSender, "priority": PrioritySender, "router": RouterSender}[mode](config)
    await warm_up(sender, schedule, config.get("warmup") or {})
    open_records = {}
    t0 = time.monotonic()

    async def one(request):
        intended = t0 + request["at_s"]
        delay = intended - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.monotonic()
        record = {"id": request["id"], "at_s": request["at_s"], "outcome": "timeout",
                  "status": 0, "ttft_s": None, "e2e_s": None,
                  "send_lag_s": round(sent - intended, 6), "error": None, "tries": None}
        open_records[request["id"]] = record
        status, outcome, ttft, error = await sender.send(request)
        end = time.monotonic()
        record.update(status=status, outcome=outcome, e2e_s=round(end - intended, 6), error=error,
                      tries=sender.take_tries(request, intended))
        if ttft is not None:
            record["ttft_s"] = round(sent - intended + ttft, 6)
        del open_records[request["id"]]
        emit(record)

    tasks = [asyncio.ensure_future(one(request)) for request in schedule]
    last = max((request["at_s"] for request in schedule), default=0.0)
    deadline = last + config.get("deadline_s", 120.0)
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, t0 + deadline - time.monotonic()))
    for task in pending:
        task.cancel()
    for request_id in sorted(open_records):
        emit(open_records[request_id])
    return EMITTED[0]


def main():
    mode, schedule_path, config_path = sys.argv[1:4]
    with open(config_path, encoding="utf-8") as handle:
        config = json.load(handle)
    schedule = load_schedule(schedule_path)
    count = asyncio.run(run(mode, schedule, config))
    print(f"DRIVER-DONE {count}", flush=True)


if __name__ == "__main__":
    main()
