"""Program grammars: one description per program, read by every part of guard.

`programs/*.toml` holds one table per program (what its options and operands mean, which
subcommands change what, which variables it reads); `schema` validates it and derives the views
its readers need (the rule matcher, the shell analysis, the effect model). Import-free on
purpose: the allowed path pays only for the modules it uses.
"""
