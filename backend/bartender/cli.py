"""The `bartender` command: serve | migrate | demo | loadtest."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from bartender.settings import Settings

log = logging.getLogger("bartender")


def _configure_logging(settings: Settings) -> None:
    from bartender.observe.logging import configure

    configure(settings.log_level, settings.log_format)


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Settings]:
    """Settings with a migrated database: DATABASE_URL when given, else the embedded
    PostgreSQL in the data directory (stopped on exit and on SIGTERM)."""
    from bartender.db.migrate import migrate

    embedded = None
    if not settings.database_url:
        from bartender.db.embedded import EmbeddedPostgres

        embedded = EmbeddedPostgres(settings.data_dir)
        settings = dataclasses.replace(settings, database_url=embedded.start())
        embedded.stop_on_sigterm()
    try:
        assert settings.database_url
        asyncio.run(migrate(settings.database_url))
        yield settings
    finally:
        if embedded is not None:
            embedded.stop()


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    with _database(settings):
        print("migrations applied")
    return 0


def cmd_demo(settings: Settings, _args: argparse.Namespace) -> int:
    from bartender.demo import seed_demo

    with _database(settings) as settings:
        asyncio.run(seed_demo(settings))
    return 0


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit and return it: every websocket is a file
    descriptor, and the usual soft limit of 1024 makes an instance fail every request at ~990
    sockets ("too many open files") long before its CPU or memory are the limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Linux refuses an unlimited soft limit for open files: then take the kernel's ceiling
    target = hard if hard != resource.RLIM_INFINITY else _nr_open()
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _nr_open() -> int:
    try:
        return int(Path("/proc/sys/fs/nr_open").read_text())
    except (OSError, ValueError):
        return 1 << 20


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from bartender.app import create_app

    log.info("open files limit: %d (each websocket uses one)", raise_open_files_limit())
    with _database(settings) as settings:
        if args.demo:
            from bartender.demo import seed_demo

            asyncio.run(seed_demo(settings))
        config = uvicorn.Config(
            create_app(settings),
            host=args.host,
            port=args.port,
            lifespan="on",
            # stock messages are small; deflate costs 2.5x memory per socket for little gain
            ws_per_message_deflate=False,
            # client frames over this close with 1009 before they are buffered whole
            ws_max_size=settings.ws_max_frame_bytes,
            ws=settings.ws_impl,
            # the app reads X-Forwarded-For itself, only from BARTENDER_TRUSTED_PROXIES
            proxy_headers=False,
            log_level=settings.log_level.lower(),
            # our root handler formats uvicorn's lines too (text or JSON); its access log
            # stays off: BARTENDER_ACCESS_LOG enables ours (route template, request id)
            log_config=None,
            access_log=False,
        )
        log.info("BarTender on http://%s:%d", args.host, args.port)
        uvicorn.Server(config).run()
    return 0


def cmd_loadtest(loadtest_args: list[str]) -> int:
    """Run the load tester (bartender/loadtest/: part of the installed package)."""
    from bartender.loadtest.command import main as loadtest_main

    return loadtest_main(loadtest_args)


def cmd_mode(settings: Settings, args: argparse.Namespace) -> int:
    """The emergency switch (realtime/control.py): effective on every instance within a
    second, through PostgreSQL (no Redis needed)."""
    import asyncpg

    from bartender.realtime import control

    async def run(database_url: str) -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await control.set_override(conn, args.bar, args.mode, None)
        finally:
            await conn.close()

    if args.bar is None and args.mode == "push":
        print("--all takes poll or auto (push for every bar is what auto means)", file=sys.stderr)
        return 2
    with _database(settings) as settings:
        assert settings.database_url
        asyncio.run(run(settings.database_url))
    print(f"live mode of {args.bar or 'every bar'}: {args.mode}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bartender", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="serve the API and the PWA (embedded PostgreSQL when DATABASE_URL is unset)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="seed the demo bar 'Chez Fatou' and print its logins"
    )
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="seed the demo bar and exit").set_defaults(func=cmd_demo)
    mode = sub.add_parser("mode", help="force one bar or every bar into poll (or back to auto)")
    scope = mode.add_mutually_exclusive_group(required=True)
    scope.add_argument("--bar", type=uuid.UUID, help="the bar's id")
    scope.add_argument("--all", action="store_true", help="every bar (poll or auto)")
    mode.add_argument("mode", choices=["poll", "push", "auto"])
    mode.set_defaults(func=cmd_mode)
    # listed for --help; its own arguments are parsed by the load tester (see below)
    sub.add_parser("loadtest", help="websocket fan-out load test (`bartender loadtest --help`)")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["loadtest"]:
        return cmd_loadtest(argv[1:])
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    _configure_logging(settings)
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())
