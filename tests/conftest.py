"""Test set-up shared by every test: headless Qt before anything imports it."""

import os

# Qt aborts the whole process when there is no display and no platform is named.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
