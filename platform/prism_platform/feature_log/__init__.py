"""Feature logging on the serving path: the rows a model scored for the items a request
returned, buffered off the request path and stored next to the event log, so training
uses the features as served."""

from prism_platform.feature_log.record import LoggedRows, records_of
from prism_platform.feature_log.store import FeatureStore, open_feature_store
from prism_platform.feature_log.writer import FeatureLogWriter, open_feature_log

__all__ = [
    "FeatureLogWriter",
    "FeatureStore",
    "LoggedRows",
    "open_feature_log",
    "open_feature_store",
    "records_of",
]
