"""`actions-runtime serve|gateway|worker|run`: the single console entry point."""
from __future__ import annotations

import argparse
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="actions-runtime", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="gateway + workers (+ embedded redis-server when ACTIONS_REDIS_URL is unset)")
    sub.add_parser("gateway", help="the HTTP gateway alone, against ACTIONS_REDIS_URL")
    sub.add_parser("worker", help="one worker process, against ACTIONS_REDIS_URL")
    run = sub.add_parser("run", help="run one action file locally through the sandbox")
    run.add_argument("action", help="path to the action's Python file")
    run.add_argument("--trigger", required=True, help="trigger id, e.g. post-login")
    run.add_argument("--event", required=True, help="path to the event JSON file")
    run.add_argument("--secret", action="append", default=[], metavar="K=V", help="a secret (repeatable)")
    run.add_argument("--handler", default=None, help="handler to call (default: the trigger's first)")
    run.add_argument("--timeout-s", type=float, default=None, help="per-action limit (default 5)")
    run.add_argument("--allow-host", action="append", default=[], metavar="ENTRY",
                     help="let fetch() reach this egress allow-list entry, e.g. api.example.com "
                          "(repeatable; loopback also needs ACTIONS_EGRESS_ALLOW_LOOPBACK=1)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        from runtime.cli.local_run import run_local

        return run_local(args)
    if args.command == "serve":
        from runtime.cli.serve import serve

        return serve()
    if args.command == "gateway":
        from runtime.gateway.main import run_gateway

        return run_gateway()
    from worker.main import run_worker

    return run_worker()

