#!/usr/bin/env python3
"""scaleacross: solve a data set, or re-check a written design.

    python solve.py DATASET_DIR [options]        design (python solve.py --help)
    python solve.py verify RESULT_DIR [--data D] independent re-check of a design
"""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["verify"]:
        from model.verify import main as verify_main

        sys.exit(verify_main(sys.argv[2:]))
    from model.cli import main
    from model.highs_direct import exit_now

    exit_now(main())  # at once when a HiGHS run was left behind (model/highs_direct.py)
