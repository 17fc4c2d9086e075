"""propnet's experiment toolkit: runs the paper's targets, mask comparisons and job lists with one job runner,
and turns run folders into reports with honest statistics (scipy, statsmodels).

Entry point: scripts/lab (`scripts/lab --help`). Facts about data sets, config keys and seed lists come from the
propnet binary's JSON (binary.py); nothing here restates them.
"""
