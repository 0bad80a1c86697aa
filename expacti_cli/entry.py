"""Placeholder while the core gate is written."""


def main() -> int:
    return 70
