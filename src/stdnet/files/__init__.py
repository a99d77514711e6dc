"""What reaches the disk and the user: HDF5 files, CSV tables, expected errors, progress.

The package's modules are imported by name (``from stdnet.files import <module>``);
importing the package itself loads none of them, so that light callers stay light.
"""

__all__ = [
    "errors",
    "io",
    "progress",
    "tables",
]
