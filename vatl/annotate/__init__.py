"""The browser annotator: a person answers the session's queries in a web page, cycle after cycle.

A thin local web server over :class:`~vatl.atl.session.ATLSession`'s ``query()`` / ``update()``; the
session validates every answer and owns the run's state on disk. Modules:

* :mod:`.drafts` — the answers given so far to the current query, saved after every answer;
* :mod:`.progress` — what the background worker is doing (estimating, retraining epoch k of E_c);
* :mod:`.views` — the JSON the page shows (the query with predictions and track neighbours, the run);
* :mod:`.images` — frames as JPEG, by sample id only;
* :mod:`.annotator` — the session behind the page: answers, undo, submit and stop, one background worker;
* :mod:`.security` — the URL token and the request-size limit;
* :mod:`.app` — the HTTP routes (Starlette); :mod:`.server` — uvicorn on 127.0.0.1;
* ``static/`` — the page (one HTML file, plain JavaScript and CSS, no build step).
"""

DEFAULT_HOST = "127.0.0.1"  # this machine only
DEFAULT_PORT = 8765
