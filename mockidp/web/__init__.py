"""The HTTP face of the IdP: aiohttp app, middleware, one handler module per endpoint."""
