-- wrk: POST the body in $BENCH_BODY with the AOAI headers (same request to mock and nginx).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["api-key"] = "bench"
