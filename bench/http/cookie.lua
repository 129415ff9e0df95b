-- wrk script: sends the session cookie from TUOYU_COOKIE ("tuoyu_session=…")
-- with every request, so wrk measures an authenticated endpoint.
wrk.headers["Cookie"] = os.getenv("TUOYU_COOKIE")
