"""Command-line pieces shared by the hardening tests that drive pytest as a user would.

`LEAN` turns off plugins this project's environment has but the scenarios never use
(schemathesis and hypothesis alone cost ~3 s per interpreter): each xdist worker and
subprocess starts in under a second, while pytest-recording and the harness plugin still
load from their entry points exactly as in a user's run.
"""

from __future__ import annotations

LEAN = ["-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:syrupy"]
LEAN += ["-p", "no:typeguard"]
RECORD = ["--record-mode=once", *LEAN]
# Nothing listens on port 9: a request that reached the network would fail loudly.
OFFLINE = ["--record-mode=none", "--block-network", "--vlmrun-base-url", "http://127.0.0.1:9/v1", *LEAN]
