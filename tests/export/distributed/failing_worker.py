"""``wecom-async worker`` in a process whose store (``objstore.FailingStore``) raises a
botocore-like error (no ``OSError``) once, at a chosen call::

    python -m tests.export.distributed.failing_worker CALL worker ARGS...
"""

from __future__ import annotations

import sys

from tests.export.distributed.objstore import BackendError, FailingStore, reset_failing
from wecom_async.export.cli import main

if __name__ == "__main__":
    reset_failing()
    call = sys.argv[1]
    FailingStore.plan[call] = [BackendError(f"ClientError (SlowDown) at {call}"), 1]
    raise SystemExit(main(sys.argv[2:]))
