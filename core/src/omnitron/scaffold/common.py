"""Files every scaffolded package has."""

PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.20"]
build-backend = "hatchling.build"

[project]
name = "$distribution"
version = "0.1.0"
description = "$DESCRIPTION"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["omnitron-core==0.1.0"]

[project.optional-dependencies]
test = ["pytest>=8", "anyio>=4.4", "tomli-w>=1.0"]

[project.entry-points.omnitron]
$name = "$module.plugin"

[tool.hatch.build.targets.wheel]
packages = ["src/$module"]

[tool.pytest.ini_options]
addopts = ["--strict-markers", "-ra"]
filterwarnings = ["error"]
"""

INIT = '''"""$DESCRIPTION"""
'''
