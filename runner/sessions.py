"""boto3 sessions of the data roles' credentials that share one botocore model loader.

Each botocore session reads the service models and endpoint rules (JSON files of tens of MB once
parsed) through its `data_loader` component, a `botocore.loaders.Loader` that caches what it
loaded for its own session only. A worker makes one session per data role, so each would parse
its own copy. Every session here registers one shared Loader instead (the botocore session's
public `register_component`), made as botocore makes its own (`create_loader` of the session's
`data_path`, AWS_DATA_PATH, one Loader per path): the models are read-only data, and the
credentials, region and configuration stay each session's own. Thread safety: the Loader's
cache is a dict filled on first use; two threads loading the same model at once both parse it
and one copy is kept, which costs time once and is never wrong.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
import botocore.loaders
import botocore.session


@cache
def shared_loader(data_path: str | None = None) -> botocore.loaders.Loader:
    """The one Loader of a data path (None: botocore's default search paths)."""
    return botocore.loaders.create_loader(data_path)


def session(**credentials: Any) -> boto3.Session:
    """A boto3 session with these credentials (boto3.Session's arguments) and the shared loader."""
    core = botocore.session.get_session()  # a new botocore session, not the default one
    core.register_component("data_loader", shared_loader(core.get_config_variable("data_path")))
    return boto3.Session(botocore_session=core, **credentials)
