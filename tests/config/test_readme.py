import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def test_every_environment_variable_read_by_the_settings_is_in_the_readme():
    settings_source = (PROJECT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env(?:_bool|_int|_list)?\(\s*"([A-Z_]+)"', settings_source))
    readme = (PROJECT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))
    assert len(read) > 15
    assert read - documented == set()
    assert documented - read == set()


def test_the_readme_gives_the_two_commands():
    readme = (PROJECT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_every_folder_and_file_the_readme_names_is_there():
    readme = (PROJECT / "README.md").read_text()
    named = set(re.findall(r"`([a-z_]+/(?:[a-z_]+(?:/|\.py|\.yaml))?)`", readme))
    assert {"config/", "matching/engine.py", "api/openapi.yaml"} <= named
    assert sorted(path for path in named if not (PROJECT / path).exists()) == []
