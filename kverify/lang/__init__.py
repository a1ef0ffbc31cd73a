"""The modeling language: grammar, AST, lowering to the IR."""

from kverify.lang.load import list_variants, load_spec
from kverify.lang.parser import parse

__all__ = ["list_variants", "load_spec", "parse"]
