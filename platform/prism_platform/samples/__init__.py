"""Traffic sampling into a replay log: each scene's ``sample_rate`` of its users (by a
hash of the user id, so a sampled user's whole session is kept) have their requests and
what the node answered recorded off the request path, for ``prism samples export``."""

from prism_platform.samples.export import export_lines, parse_since, user_hasher
from prism_platform.samples.log import MemorySampleLog, SampleLog
from prism_platform.samples.record import Sample, sample_of
from prism_platform.samples.writer import SampleWriter, open_sample_log, open_sample_writer

__all__ = [
    "MemorySampleLog",
    "Sample",
    "SampleLog",
    "SampleWriter",
    "export_lines",
    "open_sample_log",
    "open_sample_writer",
    "parse_since",
    "sample_of",
    "user_hasher",
]
