"""Phone and SMS for 叫应: the provider adapter (Alibaba Cloud voice and SMS), the worker that places
queued calls and texts, and the HTTP endpoint for the provider's receipts and the SMS 收到 link.
The services decide who is called (bot/services/callouts/contacts.py); this package only talks
to the provider."""
