"""The tools are scripts, not a package: their folders go on the import path for the unit tests."""

import os
import sys

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (TOOLS, os.path.join(TOOLS, "parity"), os.path.join(TOOLS, "protocols")):
    if p not in sys.path:
        sys.path.insert(0, p)
