"""Minimal setup.py: all metadata lives in pyproject.toml.

It exists so that pip builds the C engine (csrc/) through ``cffi_modules``
(runtime/_build.py, cffi API mode) into ``spikec.runtime._engine``.  Because the repository
root is the ``spikec`` package (``package-dir = {"spikec": "."}``), setuptools would otherwise
install this very file as the module ``spikec.setup``; the build_py override below drops it.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py as _build_py

# Top-level files of the repository root that are build scaffolding, not modules of
# the spikec package.
_NOT_MODULES = {"setup"}


class build_py(_build_py):
    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        if package != "spikec":
            return modules
        return [m for m in modules if m[1] not in _NOT_MODULES]


# Every folder with an __init__.py below the root is a subpackage (targets/<chip>/ included);
# tests, benchmarks and build output are not part of the package.
_SUBPACKAGES = find_packages(".", exclude=["tests", "tests.*", "bench", "bench.*", "build", "build.*"])

setup(cmdclass={"build_py": build_py}, cffi_modules=["runtime/_build.py:ffibuilder"],
      packages=["spikec"] + [f"spikec.{p}" for p in _SUBPACKAGES])
