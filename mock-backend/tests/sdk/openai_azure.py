"""The official openai-python SDK (AzureOpenAI client) against aoai-mock.

Usage: python3 openai_azure.py BASE_URL

BASE_URL is a listener of the fleet started by tests/sdk_python.rs (api key "sdk-key"):
  chat   gpt-4o, 12 completion tokens, zero latency
  embed  text-embedding-3-small
  tiny   gpt-4o, 60 RPM with the 1 s request window: one request per second

Each check raises AssertionError with a message saying what the SDK saw. On success the last
line of stdout is `SDK-CHECKS-PASSED openai=<version>`. Bounded: SIGALRM after 60 s, 20 s
per request.
"""

import signal
import sys
import time

import openai
from openai import AzureOpenAI

API_VERSION = "2024-10-21"
COMPLETION_TOKENS = 12
MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Name three colours."},
]
# openai-python's first retry backs off at most INITIAL_RETRY_DELAY (0.5 s) without a header.
SDK_DEFAULT_FIRST_BACKOFF_S = 0.5


def client(base_url, max_retries=0, http_client=None):
    return AzureOpenAI(
        azure_endpoint=base_url,
        api_key="sdk-key",
        api_version=API_VERSION,
        max_retries=max_retries,
        timeout=20.0,
        http_client=http_client,
    )


def check_chat(base_url):
    reply = client(base_url).chat.completions.create(
        model="chat", messages=MESSAGES, max_tokens=100
    )
    assert reply.id.startswith("chatcmpl-"), f"chat id {reply.id!r}"
    assert reply.object == "chat.completion", reply.object
    choice = reply.choices[0]
    assert choice.finish_reason == "stop", f"finish_reason {choice.finish_reason!r}"
    assert choice.message.role == "assistant", choice.message.role
    assert choice.message.content, "empty completion text"
    usage = reply.usage
    assert usage is not None, "no usage on a non-streamed completion"
    assert usage.completion_tokens == COMPLETION_TOKENS, f"usage {usage}"
    assert usage.prompt_tokens > 0, f"usage {usage}"
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, f"usage {usage}"
    return usage.prompt_tokens


def check_stream(base_url, prompt_tokens):
    stream = client(base_url).chat.completions.create(
        model="chat",
        messages=MESSAGES,
        max_tokens=100,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, content_chunks, finish, usage, ids = "", 0, None, None, set()
    for chunk in stream:
        if chunk.id:
            ids.add(chunk.id)
        if chunk.usage is not None:
            assert usage is None, "two usage chunks"
            assert chunk.choices == [], f"usage chunk carries choices: {chunk.choices}"
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta and choice.delta.content:
                text += choice.delta.content
                content_chunks += 1
            if choice.finish_reason is not None:
                finish = choice.finish_reason
    assert len(ids) == 1, f"one id per stream, saw {ids}"
    assert finish == "stop", f"stream finish_reason {finish!r}"
    assert text, "the stream carried no content"
    assert usage is not None, "include_usage: no usage chunk"
    assert usage.completion_tokens == COMPLETION_TOKENS, f"stream usage {usage}"
    assert content_chunks == COMPLETION_TOKENS, f"{content_chunks} content chunks, one per token expected"
    assert usage.prompt_tokens == prompt_tokens, f"stream prompt tokens {usage} vs plain {prompt_tokens}"
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, f"stream usage {usage}"


def check_embeddings(base_url):
    # The SDK asks for base64 by default and decodes it to floats.
    reply = client(base_url).embeddings.create(model="embed", input=["hello world", "colours"])
    assert [d.index for d in reply.data] == [0, 1], f"indices {[d.index for d in reply.data]}"
    for item in reply.data:
        assert len(item.embedding) == 1536, f"{len(item.embedding)} dimensions"
        assert all(isinstance(x, float) for x in item.embedding), "non-float embedding"
    assert reply.usage.prompt_tokens > 0, f"usage {reply.usage}"
    assert reply.usage.total_tokens == reply.usage.prompt_tokens, f"usage {reply.usage}"
    sized = client(base_url).embeddings.create(model="embed", input="hello", dimensions=256)
    assert len(sized.data[0].embedding) == 256, "dimensions=256 ignored"


class WireLog:
    """httpx event hooks: what the SDK sent and received, with monotonic times."""

    def __init__(self):
        self.events = []

    def on_request(self, request):
        retry = request.headers.get("x-stainless-retry-count")
        self.events.append(("request", time.monotonic(), retry))

    def on_response(self, response):
        self.events.append(("response", time.monotonic(), response.status_code, response.headers.get("retry-after-ms")))


def check_retry_honours_429_headers(base_url):
    log = WireLog()
    # DefaultHttpxClient: the SDK's own HTTP client class (whichever httpx flavour it ships with).
    http_client = openai.DefaultHttpxClient(event_hooks={"request": [log.on_request], "response": [log.on_response]})
    sdk = client(base_url, max_retries=2, http_client=http_client)
    # The first request takes the deployment's only slot of this second; the second is refused
    # with retry-after-ms and the SDK's own retry loop must wait that long, then succeed.
    sdk.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=5)
    log.events.clear()
    reply = sdk.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=5)
    assert reply.choices[0].message.content, "the retried request returned no text"
    kinds = [(e[0], e[2]) for e in log.events]
    assert kinds == [("request", "0"), ("response", 429), ("request", "1"), ("response", 200)], (
        f"expected one 429 then one retry (x-stainless-retry-count 1) that succeeds, saw {kinds}"
    )
    refused_at, retry_after_ms = log.events[1][1], log.events[1][3]
    assert retry_after_ms is not None, "the 429 carried no retry-after-ms"
    wanted = int(retry_after_ms) / 1000.0
    assert wanted > SDK_DEFAULT_FIRST_BACKOFF_S, (
        f"retry-after-ms {retry_after_ms} is within the SDK's own backoff; the check cannot tell them apart"
    )
    waited = log.events[2][1] - refused_at
    assert waited >= wanted, f"the SDK retried after {waited:.3f} s, before retry-after-ms {retry_after_ms}"
    print(f"429 retry: retry-after-ms={retry_after_ms} waited={waited:.3f}s")


def main():
    signal.alarm(60)
    base_url = sys.argv[1]
    prompt_tokens = check_chat(base_url)
    print("chat: ok")
    check_stream(base_url, prompt_tokens)
    print("stream with usage: ok")
    check_embeddings(base_url)
    print("embeddings: ok")
    check_retry_honours_429_headers(base_url)
    print(f"SDK-CHECKS-PASSED openai={openai.__version__}")


if __name__ == "__main__":
    main()
