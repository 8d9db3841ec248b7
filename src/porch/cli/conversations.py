"""``porch conversations merge``: merge conversations as the company's administrator."""

from __future__ import annotations

import argparse
import json

from porch import ids
from porch.cli.common import add_data_dir
from porch.cli.teams import run_as_admin
from porch.domain import conversations, merge
from porch.domain.principal import Principal
from porch.store.conversations import Conversation
from porch.store.db import Database


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("conversations", help="manage conversations")
    csub = p.add_subparsers(dest="conversations_cmd", required=True)
    m = csub.add_parser("merge", help="merge conversations into a survivor")
    add_data_dir(m)
    m.add_argument("--company", default=None, help="cmp_… or the company's name")
    m.add_argument("--json", action="store_true")
    m.add_argument("target", help="the surviving conversation (cnv_…)")
    m.add_argument("sources", nargs="+", help="the conversations merged into it (cnv_…)")
    m.set_defaults(func=merge_)


def merge_(args: argparse.Namespace) -> None:
    async def action(db: Database, principal: Principal) -> tuple[Conversation, list[int]]:
        target = await conversations.access_conversation(db, principal=principal, ref=args.target)
        sources = await merge.access_sources(
            db, principal=principal, target=target, refs=list(args.sources)
        )
        survivor = await merge.do_merge_conversations(
            db, principal=principal, target=target, sources=sources
        )
        return survivor, [s.id for s in sources]

    survivor, merged = run_as_admin(args, action)
    sid = ids.encode(ids.CONVERSATION, survivor.id)
    merged_ids = [ids.encode(ids.CONVERSATION, k) for k in merged]
    if args.json:
        print(json.dumps({"id": sid, "merged_conversation_ids": merged_ids}))
    else:
        print(f"Merged {', '.join(merged_ids)} into {sid}")
