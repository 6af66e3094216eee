"""After-sales tests move real money through the payment emulators: they use the payments tests' live
server (the whole app with the emulators mounted, on loopback) and its fault switches."""

from __future__ import annotations

import os
import tempfile

from tests.payments.conftest import faults, live_server  # noqa: F401  (fixtures)

os.environ.setdefault("FENQI_AFTERSALES_PHOTO_DIR", tempfile.mkdtemp(prefix="fenqi-aftersales-photos-"))
