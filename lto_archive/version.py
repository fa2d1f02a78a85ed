"""The package's version, in a module of its own so that submodules never import the root package."""

__version__ = "0.1.0"
