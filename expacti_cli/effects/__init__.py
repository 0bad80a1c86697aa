"""What a command does: its effects, and which of them are protected.

`resolve` turns one simple command (a shell-analysis `Part`, or a prefix-mode argv) into typed
effects using its program's grammar and the line's state; `judge` decides which protected
effects a matching allow rule may lift. Import-free on purpose (the allowed path pays only for
the modules it uses).
"""
