#!/usr/bin/env python3
"""scaleacross: solve a data set, or re-check a written design.

python solve.py DATASET_DIR [options]        design (python solve.py --help)
python solve.py verify RESULT_DIR [--data D] independent re-check of a design
"""

import gc
import sys

if __name__ == "__main__":
    # The imports below (pandas, Pyomo, NetworkX, ...) make some 100,000 objects that live
    # as long as the process. Collecting while they are made, and walking them again in
    # every full collection of the run, cost a tenth of a small run (Japan: imports 0.74 ->
    # 0.47 s, whole run 2.73 -> 2.42 s, docs/model.md). Frozen, the collector skips them.
    gc.disable()
    if sys.argv[1:2] == ["verify"]:
        from model.verify import main as verify_main

        gc.freeze()
        gc.enable()
        sys.exit(verify_main(sys.argv[2:]))
    from model.cli import main
    from model.highs_direct import exit_now

    gc.freeze()
    gc.enable()
    exit_now(main())  # at once when a HiGHS run was left behind (model/highs_direct.py)
