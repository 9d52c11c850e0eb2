"""Roles and what each may do.

``viewer`` reads; ``operator`` also changes what is served (deploys, rollbacks,
canaries, traffic and experiments, configs, models); ``admin`` also manages users,
tokens and scenes. ``data-reader`` may only read data through ``/v1/data/read``.
"""

from __future__ import annotations

from prism_platform.db.records import Role

VIEWER: Role = "viewer"
OPERATOR: Role = "operator"
ADMIN: Role = "admin"
DATA_READER: Role = "data-reader"
ROLES: tuple[Role, ...] = (VIEWER, OPERATOR, ADMIN, DATA_READER)

_GRANTS: dict[Role, frozenset[Role]] = {
    VIEWER: frozenset({VIEWER, DATA_READER}),
    OPERATOR: frozenset({VIEWER, OPERATOR, DATA_READER}),
    ADMIN: frozenset({VIEWER, OPERATOR, ADMIN, DATA_READER}),
    DATA_READER: frozenset({DATA_READER}),
}


def grants(role: Role, needed: Role) -> bool:
    """Whether a user of ``role`` may do what needs ``needed``."""
    return needed in _GRANTS.get(role, frozenset())
