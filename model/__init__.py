"""scaleacross: geographically distributed AI data-center design by mixed-integer optimization.

The flow is one direction, one module per stage:
``load`` (read and validate a data set) → ``network`` (candidate routes and paths) →
``precheck`` (cheap infeasibility checks in planner terms) → ``build`` (the Pyomo model) →
``solver`` (HiGHS, outcome record) → ``extract`` (result tables) → ``export`` (atomic write).
"""

__version__ = "0.1.0"
