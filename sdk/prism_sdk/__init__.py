"""prism_sdk: everything a strategy script may use from the platform.

A strategy imports only this package (plus numpy, scikit-learn and the like).
"""

from . import bandit, diversity, ranking, rules, stages
from ._acm import (
    ACM_VERSION,
    Acm,
    AcmSigner,
    acm_prefix_for,
    acm_suffix,
    parse_acm,
)
from ._acm import (
    MACS as ACM_MACS,
)
from ._acm_fields import AcmError, channel_name, extra_token
from ._acm_keys import AcmKeyring, verify_acm
from ._assign import SLOTS, assign_layers, bucket_index, slot_of, slot_table
from ._config import StrategyConfig
from ._context import Context
from ._errors import BudgetExceeded, DeadlineExceeded, PrismError, StrategyError
from ._items import FilterResult, Item
from ._request import MAX_SIZE, Request
from ._trace import Stage, Tracer
from .data import (
    DataBackend,
    DataClient,
    Event,
    LocalBackend,
    MockBackend,
    Read,
    RedisBackend,
    RemoteBackend,
    Scored,
)

__version__ = "0.1.0"

__all__ = [
    "ACM_MACS",
    "ACM_VERSION",
    "Acm",
    "AcmError",
    "AcmKeyring",
    "AcmSigner",
    "BudgetExceeded",
    "Context",
    "DataBackend",
    "DataClient",
    "DeadlineExceeded",
    "Event",
    "FilterResult",
    "Item",
    "LocalBackend",
    "MAX_SIZE",
    "MockBackend",
    "PrismError",
    "Read",
    "RedisBackend",
    "RemoteBackend",
    "Request",
    "SLOTS",
    "Scored",
    "Stage",
    "StrategyConfig",
    "StrategyError",
    "Tracer",
    "acm_prefix_for",
    "acm_suffix",
    "assign_layers",
    "bandit",
    "bucket_index",
    "channel_name",
    "diversity",
    "extra_token",
    "parse_acm",
    "ranking",
    "rules",
    "slot_of",
    "slot_table",
    "stages",
    "verify_acm",
]
