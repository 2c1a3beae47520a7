"""vatl annotate: answer a run's queries in the browser; the run retrains between them and resumes any time."""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from vatl.annotate import DEFAULT_HOST, DEFAULT_PORT
from vatl.commands._args import nonnegative_int, positive_int

if TYPE_CHECKING:
    from vatl.atl.runner import RunSpec

HELP = "annotate a run's queries in the browser (a local web page; the model retrains between queries)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path, help="run folder made by `vatl run` (its inputs.json and config.json "
                                              "reopen the video, the checkpoint and the settings)")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help="address to listen on (default %(default)s: this machine only)")
    p.add_argument("--port", type=nonnegative_int, default=DEFAULT_PORT,
                   help="port to listen on (default %(default)s; 0: any free port)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N or auto (default: the run's own)")
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: 1, docs/results/threads.md)")


def run(args: argparse.Namespace) -> int:
    from vatl.atl.runner import spec_from_run_folder
    from vatl.estimator.device import configure_threads

    configure_threads(args.threads)
    spec = spec_from_run_folder(args.run_dir)
    if args.device is not None:
        spec = replace(spec, device=args.device)
    return serve(spec, args.host, args.port)


def serve(spec: RunSpec, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Open the run of ``spec``, print the page's URL and serve it until Ctrl-C (also `vatl run --oracle
    browser`)."""
    from vatl.annotate.annotator import Annotator
    from vatl.annotate.server import AnnotatorServer
    from vatl.commands._progress import CycleTable

    table = CycleTable(title=f"vatl annotate · {Path(spec.out_dir)}")
    annotator = Annotator.open(spec, forward=table.on_event)
    try:
        server = AnnotatorServer(annotator, host, port)
        url = server.bind()
        annotator.start()
        print(f"annotate {annotator.session.video.name} (N = {annotator.session.video.num_samples}) in the browser:")
        print(url, flush=True)
        print("every answer is saved as it is given; Ctrl-C stops the server and "
              f"`vatl annotate {spec.out_dir}` picks up where it stopped", flush=True)
        if not _is_loopback(host):
            print(f"warning: listening on {host}: other machines can reach the page; the token in the URL is "
                  "its only protection (no TLS)", flush=True)
        with table:
            server.serve()
    finally:
        busy = annotator.status()["busy"]
        annotator.close(timeout=0)
    if busy:
        print("stopped while the session was working: the answers are saved and the cycle is redone on the "
              "next start")
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
