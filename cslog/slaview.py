"""Transitional: what cslog.report still asks of the old slaview until it moves to store.policy()/calendar()."""
from __future__ import annotations

from types import SimpleNamespace

from cslog.config import error_at


def sla_setup(store):
    return SimpleNamespace(policy=store.policy(), calendar=store.calendar())


def config_error(store, message: str):
    return error_at(store.where, message)
