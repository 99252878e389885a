"""Settings of the test suite: the real settings, with a test-only key and plain HTTP (the test client).

Set before :mod:`config.settings` is read, and inherited by the processes the tests start (workers,
``manage.py``). Deployment settings are tested by running ``manage.py check --deploy`` in a child process
with the production environment (tests/test_accounts_deploy.py).
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-key-" + "k7Qp2xVn9Lw4Rt8Zc3Hm6Yb1Jd5Fg0Su")
os.environ.setdefault("PLAIN_HTTP_INTRANET", "true")

from .settings import *  # noqa: F403
