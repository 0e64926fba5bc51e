"""One module per endpoint; each exposes ``async def handle(request)``."""
