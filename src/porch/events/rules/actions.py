"""The action types a rule can take (docs/rules.md lists their configs). Every one goes through
the domain's ``do_*`` functions with the rule's principal, so its events carry the rule as
their source."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from porch import ids
from porch.domain import comments as comments_domain
from porch.domain import conversations as conversations_domain
from porch.domain import custom_fields
from porch.domain import outbound as outbound_domain
from porch.domain.errors import BadRequest
from porch.domain.inboxes import access_inbox
from porch.domain.message_templates.access import access_template
from porch.domain.principal import Principal
from porch.domain.tags import access_tag
from porch.domain.teammates import access_teammate
from porch.domain.teams import access_team
from porch.events.rules.conditions import Refs
from porch.events.rules.registry import Action, Config, action, keys
from porch.events.rules.runtime import Act
from porch.events.webhooks import enqueue_rule_webhook
from porch.store import rules as rules_store
from porch.store import tags as tags_store
from porch.store import teammates as teammates_store
from porch.store import teams as teams_store
from porch.store.db import Reader
from porch.store.teammates import Teammate

Ref = Annotated[str, Field(min_length=1, max_length=100)]


class RuleActionFailed(Exception):
    """An action could not be done (recorded in the run; the other actions go on)."""


def _name(t: Teammate) -> str:
    full = f"{t.first_name} {t.last_name}".strip()
    return full or t.email


async def _teammate_name(conn: Reader, company_id: int, ref: str) -> str:
    key = ids.decode(ids.TEAMMATE, ref)
    found = await teammates_store.get(conn, company_id=company_id, key=key) if key else None
    return _name(found) if found else ref


async def _assign(act: Act, teammate_ref: str | None) -> None:
    await conversations_domain.do_set_assignee(
        act.db, principal=act.principal, conv=await act.conversation(), ref=teammate_ref
    )


@action
class Assign(Action):
    """Assign the conversation to a teammate."""

    type = "assign"

    class Config(Config):
        teammate_id: Ref

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await access_teammate(conn, principal=principal, ref=self.config.teammate_id)

    async def run(self, act: Act) -> None:
        await _assign(act, self.config.teammate_id)

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        return f"Assign to {await _teammate_name(conn, company_id, self.config.teammate_id)}"


@action
class AssignInTeam(Action):
    """Assign to an available member of a team: in turn (``round_robin``, the rule remembers
    who was last) or to whoever has the fewest open conversations (``least_loaded``)."""

    type = "assign_team"

    class Config(Config):
        team_id: Ref
        strategy: Literal["round_robin", "least_loaded"] = "round_robin"

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await access_team(conn, principal=principal, ref=self.config.team_id)

    async def run(self, act: Act) -> None:
        (team_key,) = keys(ids.TEAM, [self.config.team_id], "team")
        members = sorted(
            (
                t
                for t in await teammates_store.of_teams(
                    act.tx, company_id=act.rule.company_id, team_ids=[team_key]
                )
                if t.is_available and not t.is_blocked and t.type == "user"
            ),
            key=lambda t: t.id,
        )
        if not members:
            raise RuleActionFailed("the team has no available teammate")
        if self.config.strategy == "least_loaded":
            load = await rules_store.open_load(
                act.tx, company_id=act.rule.company_id, keys=[t.id for t in members]
            )
            chosen = min(members, key=lambda t: (load.get(t.id, 0), t.id))
        else:
            last = act.memory.get(f"round_robin:{team_key}")
            later = [t for t in members if last is not None and t.id > last]
            chosen = later[0] if later else members[0]
            act.memory[f"round_robin:{team_key}"] = chosen.id
        await _assign(act, ids.encode(ids.TEAMMATE, chosen.id))

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        key = ids.decode(ids.TEAM, self.config.team_id)
        team = await teams_store.get(conn, company_id=company_id, key=key) if key else None
        how = "in turn" if self.config.strategy == "round_robin" else "to the least loaded"
        return f"Assign {how} in {team.name if team else self.config.team_id}"


@action
class AssignFromContactField(Action):
    """Assign to the teammate whose email is in a custom field of the sender's contact
    (e.g. "Account owner")."""

    type = "assign_from_contact_field"

    class Config(Config):
        field: Annotated[str, Field(min_length=1, max_length=200)]

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        names = {
            f.name
            for f in await custom_fields.definitions(
                conn, principal=principal, object_type="contact"
            )
        }
        if self.config.field not in names:
            raise BadRequest(f"No contact custom field is named {self.config.field!r}")

    async def run(self, act: Act) -> None:
        value = (await act.facts.contact_fields()).get(self.config.field)
        if not isinstance(value, str) or not value:
            raise RuleActionFailed(f"the sender's contact has no {self.config.field!r}")
        found = await teammates_store.by_email(
            act.tx, company_id=act.rule.company_id, email=value.strip().lower()
        )
        if found is None:
            raise RuleActionFailed(f"no teammate has the email {value!r}")
        await _assign(act, ids.encode(ids.TEAMMATE, found.id))

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        return f"Assign to the contact's {self.config.field}"


class NoConfig(Config):
    pass


@action
class Unassign(Action):
    type = "unassign"
    Config = NoConfig

    async def run(self, act: Act) -> None:
        await _assign(act, None)


class TagsConfig(Config):
    tag_ids: Annotated[Refs, Field(min_length=1)]


async def _tag_names(conn: Reader, company_id: int, refs: list[str]) -> str:
    out = []
    for ref in refs:
        key = ids.decode(ids.TAG, ref)
        tag = await tags_store.get(conn, company_id=company_id, key=key) if key else None
        out.append(tag.name if tag else ref)
    return ", ".join(out)


class _Retag(Action):
    Config = TagsConfig
    add: bool

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        for ref in self.config.tag_ids:
            await access_tag(conn, principal=principal, ref=ref)

    async def run(self, act: Act) -> None:
        await conversations_domain.do_change_tags(
            act.db,
            principal=act.principal,
            conv=await act.conversation(),
            refs_=list(self.config.tag_ids),
            add=self.add,
        )

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        names = await _tag_names(conn, company_id, self.config.tag_ids)
        return f"Tag with {names}" if self.add else f"Remove tag {names}"


@action
class AddTags(_Retag):
    type = "tag"
    add = True


@action
class RemoveTags(_Retag):
    type = "untag"
    add = False


async def _patch(act: Act, changes: dict[str, Any]) -> None:
    await conversations_domain.do_update_conversation(
        act.db, principal=act.principal, conv=await act.conversation(), changes=changes
    )


@action
class Archive(Action):
    type = "archive"
    Config = NoConfig

    async def run(self, act: Act) -> None:
        await _patch(act, {"status": "archived"})


@action
class Reopen(Action):
    type = "reopen"
    Config = NoConfig

    async def run(self, act: Act) -> None:
        await _patch(act, {"status": "open"})


@action
class MarkSpam(Action):
    """Move the conversation to spam (Porch's ``spam`` state, logged as
    ``conversation_spammed``)."""

    type = "mark_spam"
    Config = NoConfig

    async def run(self, act: Act) -> None:
        await _patch(act, {"status": "spam"})

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        return "Mark as spam"


@action
class Move(Action):
    type = "move"

    class Config(Config):
        inbox_id: Ref

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await access_inbox(conn, principal=principal, ref=self.config.inbox_id)

    async def run(self, act: Act) -> None:
        await _patch(act, {"inbox_id": self.config.inbox_id})

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        return f"Move to inbox {self.config.inbox_id}"


@action
class SetConversationField(Action):
    """Set one custom field of the conversation (the others stay)."""

    type = "set_conversation_field"

    class Config(Config):
        field: Annotated[str, Field(min_length=1, max_length=200)]
        value: str | int | float | bool

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await custom_fields.check_values(
            conn,
            principal=principal,
            object_type="conversation",
            values={self.config.field: self.config.value},
        )

    async def run(self, act: Act) -> None:
        conv = await act.conversation()
        await _patch(act, {"custom_fields": {**conv.fields, self.config.field: self.config.value}})

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        return f"Set {self.config.field} to {self.config.value}"


@action
class AddComment(Action):
    type = "comment"

    class Config(Config):
        body: Annotated[str, Field(min_length=1, max_length=10_000)]
        author_id: Ref | None = None

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        comments_domain.check_body(self.config.body)
        if self.config.author_id is not None:
            await access_teammate(conn, principal=principal, ref=self.config.author_id)

    async def run(self, act: Act) -> None:
        await comments_domain.do_add_comment(
            act.db,
            principal=act.principal,
            conversation=await act.conversation(),
            body=self.config.body,
            author_ref=self.config.author_id,
            is_pinned=False,
        )

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        return f"Comment: {self.config.body[:80]}"


@action
class ReplyWithTemplate(Action):
    """Reply to the sender of the latest inbound message with a message template, on the
    conversation's channel, as ``POST /conversations/{id}/messages`` would."""

    type = "reply_template"

    class Config(Config):
        template_id: Ref
        archive: bool = False

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await access_template(conn, principal=principal, ref=self.config.template_id)

    async def run(self, act: Act) -> None:
        template = await access_template(
            act.tx, principal=act.principal, ref=self.config.template_id
        )
        sender = await act.facts.sender()
        msg = await act.facts.message()
        if sender is None or msg is None or not msg.is_inbound:
            raise RuleActionFailed("the conversation has no inbound message to reply to")
        conv = await act.conversation()
        channel = await outbound_domain.reply_channel(
            act.db, principal=act.principal, conversation=conv, channel=None
        )
        await outbound_domain.do_send(
            act.db,
            principal=act.principal,
            channel=channel,
            conversation=conv,
            out=outbound_domain.Outgoing(
                to=[sender["handle"]],
                cc=[],
                bcc=[],
                sender_name=None,
                subject=template.subject,
                author_ref=None,
                body=template.body,
                archive=self.config.archive,
                tag_refs=[],
                signature_ref=None,
            ),
        )

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        return f"Reply with template {self.config.template_id}"


@action
class SendWebhook(Action):
    """Send the triggering event (or its preview) to a URL: a Front rule webhook."""

    type = "webhook"

    class Config(Config):
        url: Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://\S+$")]
        preview: bool = False

    async def run(self, act: Act) -> None:
        await enqueue_rule_webhook(
            act.tx,
            company_id=act.rule.company_id,
            rule_id=act.rule.id,
            url=self.config.url,
            event_id=act.event["id"],
            preview=self.config.preview,
        )

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        return f"Send to webhook {self.config.url}"
