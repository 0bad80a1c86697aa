"""The commented starter policy `guard init` writes."""

STARTER_POLICY = """\
# guard user policy. Layers: the built-in catalogue (guard policy path), then this file.
# Test it with `guard policy test`; see the effective rules with `guard policy show`.

[settings]
default = "review"            # review | deny: what happens to commands no rule matches
when_no_reviewer = "deny"     # deny | allow, when nobody can be asked (irreversible: always deny)
review_timeout = "120s"       # an unanswered prompt denies after this long
require_identity = false      # true: every agent needs `guard agent add NAME` and its token

# Whitelist: reviewed patterns that run without asking. Each token is a glob matched against one
# argument; `**` matches any number of arguments. Irreversible commands still go to a human.
# [[allow]]
# id = "tests"
# match = ["pytest **", "python -m pytest **"]
# examples = ["pytest -q tests/"]

# Always ask a human, even if whitelisted (adds to the built-in irreversibility catalogue).
# [[irreversible]]
# id = "prod-deploy"
# match = "make deploy **"
# reason = "deploys to production"
# examples = ["make deploy ENV=prod"]

# Never run.
# [[deny]]
# id = "no-curl-to-shell"
# match = "curl **"
# flags = ["--upload-file", "-T"]
# reason = "uploads files"
"""
