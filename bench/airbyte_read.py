"""Airbyte's ``source-front`` read of a Front-compatible API, for bench/sync.py.

    /tmp/airbyte-venv/bin/python bench/airbyte_read.py --manifest manifest.yaml --url URL
        --token TOKEN --streams conversations,conversations_messages,… [--page-limit 100]

Runs in its own virtualenv (airbyte-cdk's pins clash with Porch's), never imports Porch. It
reads the manifest as it is, rewrites only ``definitions.base_requester.url_base`` to ``URL``,
builds airbyte-cdk's declarative source from it (``ConcurrentDeclarativeSource``, what
``source-declarative-manifest`` runs, at the manifest's own concurrency), reads ``--streams``
as full refreshes from ``start_date`` 2000-01-01, and prints one JSON line: records per stream,
seconds, and the errors the source logged. Every ``PROGRESS`` seconds it prints the counts so
far too (``"progress": true``), so a read stopped at the bench's timeout still gives a rate.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

# airbyte-cdk and PyYAML live in the Airbyte virtualenv only (not Porch's).
import yaml  # type: ignore[import-untyped,unused-ignore]
from airbyte_cdk.models import (  # type: ignore[import-not-found,unused-ignore]
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    DestinationSyncMode,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import (  # type: ignore[import-not-found,unused-ignore]
    ConcurrentDeclarativeSource,
)

PROGRESS = 30.0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--manifest", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--streams", required=True)
    p.add_argument("--page-limit", default="100")
    args = p.parse_args()
    with open(args.manifest) as f:
        manifest: dict[str, Any] = yaml.safe_load(f)
    manifest["definitions"]["base_requester"]["url_base"] = args.url.rstrip("/") + "/"
    config = {
        "api_key": args.token,
        "start_date": "2000-01-01T00:00:00Z",
        "page_limit": str(args.page_limit),
    }
    wanted = [s.strip() for s in args.streams.split(",") if s.strip()]
    logger = logging.getLogger("airbyte")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    discovered = ConcurrentDeclarativeSource(source_config=manifest, config=config).discover(
        logger, config
    )
    streams = {s.name: s for s in discovered.streams}
    unknown = sorted(set(wanted) - set(streams))
    if unknown:
        raise SystemExit(f"not in the manifest: {', '.join(unknown)}")
    catalog = ConfiguredAirbyteCatalog(
        streams=[
            ConfiguredAirbyteStream(
                stream=streams[name],
                sync_mode=SyncMode.full_refresh,
                destination_sync_mode=DestinationSyncMode.append,
            )
            for name in wanted
        ]
    )
    source = ConcurrentDeclarativeSource(
        source_config=manifest, config=config, catalog=catalog, state=[]
    )
    counts = dict.fromkeys(wanted, 0)
    errors: list[str] = []
    started = time.monotonic()
    shown = started
    for message in source.read(logger, config, catalog, state=[]):
        now = time.monotonic()
        if now - shown >= PROGRESS:
            shown = now
            line = {"progress": True, "records": counts, "seconds": now - started}
            print(json.dumps(line), flush=True)
        if message.type == Type.RECORD and message.record is not None:
            counts[message.record.stream] = counts.get(message.record.stream, 0) + 1
        elif message.type == Type.TRACE and message.trace is not None:
            error = getattr(message.trace, "error", None)
            if error is not None:
                errors.append(str(error.message)[:300])
        elif (
            message.type == Type.LOG
            and message.log is not None
            and str(message.log.level.value) in ("ERROR", "FATAL")
        ):
            errors.append(str(message.log.message)[:300])
    seconds = time.monotonic() - started
    print(json.dumps({"records": counts, "seconds": seconds, "errors": errors[:20]}), flush=True)


if __name__ == "__main__":
    main()
