#!/usr/bin/env python3
"""scaleacross: solve a data set. ``python solve.py --help`` lists the options."""

import sys

from model.cli import main

if __name__ == "__main__":
    sys.exit(main())
