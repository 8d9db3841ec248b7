"""The Channel API: what a partner pushes into Porch on its channel.

Messages (``inbound_messages``, ``outbound_messages``) and every call operation are accepted
the way custom-channel messages are (``domain/incoming.py``): checked, committed to the intake
as one row of kind ``channel_api`` and answered 202; the intake worker then writes them in the
order accepted (``receive``). A message threads, in this order, into the conversation of the
message its ``referenced_message_external_id`` names, into the latest conversation of the
channel with the same ``external_conversation_id`` (kept as the message's ``thread_ref``), or
into a new conversation. An ``external_id`` already on the channel is not written twice (the
same message_uid is answered again). Calls are messages of type ``call`` threaded by
``call:<parent_external_call_id or external_call_id>``; their status changes, transcripts,
summaries and recordings follow as events (Front's ``call_*`` types where Front has one) on
the call's conversation.
"""
