"""fusioncell: a supervised joint fusion mechanism on a signed, verifiable log."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fusioncell")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
