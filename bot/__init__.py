"""dutybot: everything with side effects (store, services, Telegram, CLI)."""
