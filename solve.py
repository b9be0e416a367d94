#!/usr/bin/env python3
"""scaleacross: solve a data set, or re-check a written design.

python solve.py DATASET_DIR [options]        design (python solve.py --help)
python solve.py verify RESULT_DIR [--data D] independent re-check of a design
"""

import sys

if __name__ == "__main__":
    # The imports below (pandas, Pyomo, NetworkX, ...) are made with the garbage collector
    # off and then frozen: they live as long as the process (model/heap.py).
    from model.heap import frozen_imports

    if sys.argv[1:2] == ["verify"]:
        with frozen_imports():
            from model.verify import main as verify_main

        sys.exit(verify_main(sys.argv[2:]))
    with frozen_imports():
        from model.cli import main
        from model.highs_direct import exit_now

    exit_now(main())  # at once when a HiGHS run was left behind (model/highs_direct.py)
