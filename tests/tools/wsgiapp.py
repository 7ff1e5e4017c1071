# wsgiapp.py: the demo app's routes as a WSGI application, for running a
# real third-party server (gunicorn) under baton in the tests:
# GET / -> "ok", /sleep?ms=N -> "ok" after N ms, /pid -> the worker's pid.
import os
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        body = b"ok\n"
    elif path == "/sleep":
        q = parse_qs(environ.get("QUERY_STRING", ""))
        time.sleep(int(q.get("ms", ["0"])[0]) / 1000.0)
        body = b"ok\n"
    elif path == "/pid":
        body = ("%d\n" % os.getpid()).encode()
    else:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
