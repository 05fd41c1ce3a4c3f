"""How many days ahead ``--check`` warns and ``--renew`` replaces, by default.

A module of its own so that ``--help`` can print the defaults without
loading the actions that apply them.
"""

CHECK_WARN_DAYS = 30
RENEW_BEFORE_DAYS = 30
