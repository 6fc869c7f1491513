"""arch2vec: unsupervised architecture representations and neural architecture search."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("arch2vec")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
