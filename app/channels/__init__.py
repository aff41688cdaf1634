"""Third-party delivery platforms (美团 / 饿了么-style): signed inbound orders, and status changes
written back through a durable outbox."""
