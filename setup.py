"""Build hook: ship the top-level ``scenarios/`` folder inside the package as ``coach/scenarios``.

The persona library stays at the top of the repository (where people look for it and the
docs point), but an installed package cannot read files outside itself, so a wheel needs a
copy inside ``coach/``. A ``package-dir`` mapping of a data-only ``coach.scenarios`` package
would do the same but needs the package list written out by hand (``find`` does not see
mapped folders), which every new subpackage would have to remember; copying at build time
keeps ``packages.find``. An editable install or a checkout on ``PYTHONPATH`` needs no copy:
``coach.scenario.SCENARIO_DIR`` falls back to the checkout's ``scenarios/``.
All other configuration is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithPersonas(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "coach" / "scenarios"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted((ROOT / "scenarios").glob("*.yaml")):
            self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildPyWithPersonas})
