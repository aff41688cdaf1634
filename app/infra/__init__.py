"""Infrastructure: how StoreLink talks to its database and serves HTTP. Business packages use the unit
of work (`unit_of_work`) and their own data-access modules; nothing here knows orders or stock.

- engine.py         engine set-up (SQLite pragmas, BEGIN IMMEDIATE, pool options)
- unit_of_work.py   one transaction per state change, side effects after commit
- group_commit.py   SQLite group commit under gevent (one COMMIT per batch of units of work)
- fastsql.py        prebuilt statements for the hot paths
- wal_checkpoint.py SQLite WAL checkpoints on a background thread
- http_server.py    the gevent HTTP server as StoreLink runs it
- json_provider.py  orjson as Flask's JSON provider
"""
