"""`pip install ./python` works: the package builds into a wheel holding every module and the
run-config defaults, with numpy its only hard dependency (and tomli before Python 3.11) and torch
behind an extra."""
import os
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_wheel_builds_with_every_module(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", os.path.join(ROOT, "python"), "-w", str(tmp_path)],
                   check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = [p for p in os.listdir(tmp_path) if p.endswith(".whl")]
    names = zipfile.ZipFile(tmp_path / wheel).namelist()
    modules = sorted(f for f in os.listdir(os.path.join(ROOT, "python", "sonodual")) if f.endswith((".py", ".toml")))
    assert sorted(n.split("/")[1] for n in names if n.startswith("sonodual/")) == modules
    metadata = zipfile.ZipFile(tmp_path / wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requires = [l for l in metadata.splitlines() if l.startswith("Requires-Dist:")]
    assert [r for r in requires if "extra ==" not in r] == ["Requires-Dist: numpy", "Requires-Dist: tomli; python_version < \"3.11\""]
    assert any("torch" in r and "extra == \"torch\"" in r for r in requires)
    assert any("crc32c" in r and "extra == \"fast\"" in r for r in requires)
