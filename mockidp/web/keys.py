"""Typed application keys (aiohttp ``web.AppKey``)."""

from __future__ import annotations

from aiohttp import web

from ..state import IdPState

STATE = web.AppKey("mockidp_state", IdPState)
