"""StoreLink hardware bridge: the store PC's scale and receipt printers, connected out to the server."""
__version__ = "1.0"
