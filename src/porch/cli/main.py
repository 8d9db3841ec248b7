"""Entry point of the ``porch`` console script."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from porch.cli import apps as apps_cmd
from porch.cli import (
    channels,
    contacts,
    conversations,
    email,
    init,
    intake,
    migrate_cmd,
    oauth,
    rules,
    search,
    serve,
    sync,
    teammates,
    teams,
    tokens,
    webhooks,
    worker,
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="porch", description="A shared inbox that speaks Front's API")
    sub = p.add_subparsers(dest="command", required=True)
    modules = (
        init,
        serve,
        tokens,
        teams,
        teammates,
        conversations,
        migrate_cmd,
        search,
        intake,
        email,
        channels,
        contacts,
        worker,
        apps_cmd,
        webhooks,
        rules,
        oauth,
        sync,
    )
    for module in modules:
        module.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)
