"""deploy/: the Dockerfile, the compose file of the specialized topology and the systemd units, checked without
Docker or systemd: each file is parsed (YAML, unit INI, env files) and the exact opnode command line and OP_NODE_*
environment it gives is run through the real CLI up to the node's start (container and host paths mapped to a
temporary directory); every one must start-parse with no unknown flag and no warning, light nodes must follow a
source node of the same topology, and each node must reach an engine of its own with the shared JWT secret."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (docker compose env_file and systemd EnvironmentFile syntax for these simple files)."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", key), f"{path.name}: {line!r}"
        out[key] = value
    return out


def mapped(env: dict[str, str], paths: dict[str, Path]) -> dict[str, str]:
    """Container/host paths of the files to directories of this test."""
    out = {}
    for k, v in env.items():
        for prefix, local in paths.items():
            if v.startswith(prefix):
                v = str(local) + v[len(prefix):]
        out[k] = v
    return out


# ----------------------------------------------------------------------------------------------------- Dockerfile


def test_dockerfile_installs_the_wheel_on_slim_python_and_runs_opnode():
    lines = [ln.strip() for ln in (DEPLOY / "Dockerfile").read_text().splitlines()]
    instr = [ln for ln in lines if ln and not ln.startswith("#")]
    froms = [ln.split()[1] for ln in instr if ln.startswith("FROM ")]
    assert froms and all(re.fullmatch(r"python:3\.1[1-9]-slim", f) for f in froms), froms
    # the build context holds every package the wheel is made of (pyproject's packages.find)
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {ln.split()[1] for ln in instr if ln.startswith("COPY ") and "--from" not in ln}
    assert {p.rstrip("*") for p in include} <= copied and "pyproject.toml" in copied
    for d in (p.rstrip("*") for p in include):
        assert (ROOT / d).is_dir()
    text = "\n".join(instr)
    assert "pip wheel --no-cache-dir --no-deps -w /dist ." in text
    assert '--only-binary :all: "$whl"' in text  # the base image builds nothing from source
    assert json.loads(next(ln for ln in instr if ln.startswith("ENTRYPOINT "))[len("ENTRYPOINT "):]) == ["opnode"]
    assert next(ln for ln in instr if ln.startswith("USER ")) == "USER opnode"


# ----------------------------------------------------------------------------------------------------- compose


def _interpolate(value, variables: dict[str, str]):
    """docker compose's ${VAR}, ${VAR:-default} and ${VAR:?error} with the values of .env.example."""
    if isinstance(value, dict):
        return {k: _interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m):
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise AssertionError(f"{name} is required: {arg}")
        return arg or ""

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}", sub, value)


@pytest.fixture(scope="module")
def compose():
    raw = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return _interpolate(raw, read_env_file(DEPLOY / ".env.example"))


def _opnode_services(compose) -> dict[str, dict]:
    image = compose["services"]["jwt-init"]["image"]
    return {n: s for n, s in compose["services"].items() if s.get("image") == image and n != "jwt-init"}


def _service_env(svc: dict) -> dict[str, str]:
    env: dict[str, str] = {}
    for f in svc.get("env_file", []):
        env.update(read_env_file(DEPLOY / f))
    env.update({k: str(v) for k, v in (svc.get("environment") or {}).items()})
    return env


def test_compose_has_the_specialized_topology(compose):
    nodes = _opnode_services(compose)
    lights = {n for n, s in nodes.items() if "OP_NODE_L2_FOLLOW_SOURCE" in _service_env(s)}
    sources = set(nodes) - lights
    assert len(sources) == 2 and len(lights) == 2, nodes.keys()
    engine_image = compose["services"]["el-source-a"]["image"]
    assert engine_image == read_env_file(DEPLOY / ".env.example")["EL_IMAGE"]
    for name, svc in nodes.items():
        env = _service_env(svc)
        engine = urlsplit(env["OP_NODE_L2_ENGINE_RPC"]).hostname
        assert compose["services"][engine]["image"] == engine_image  # the engine of the user's choice
        assert engine in svc["depends_on"]
        # node and engine share the JWT secret volume
        assert "jwt:/jwt:ro" in svc["volumes"] and "jwt:/jwt:ro" in compose["services"][engine]["volumes"]
        assert env["OP_NODE_L2_ENGINE_AUTH"].startswith("/jwt/")
        assert "/jwt/jwt.txt" in compose["services"][engine]["command"]
        if name in lights:
            src = urlsplit(env["OP_NODE_L2_FOLLOW_SOURCE"])
            assert src.hostname in sources and src.port == int(_service_env(nodes[src.hostname])["OP_NODE_RPC_PORT"])
            assert src.hostname in svc["depends_on"]
            assert compose["services"][src.hostname].get("profiles") == svc.get("profiles")
    # the JWT secret is written before any engine starts
    assert "jwt:/jwt" in compose["services"]["jwt-init"]["volumes"]
    for name in ("el-source-a", "el-light-a"):
        assert compose["services"][name]["depends_on"]["jwt-init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", ["source-a", "light-a", "source-b", "light-b"])
def test_compose_services_start_with_their_env(compose, start, tmp_path, service):
    svc = compose["services"][service]
    (tmp_path / "jwt").mkdir()
    (tmp_path / "jwt" / "jwt.txt").write_text("ab" * 32)  # what jwt-init writes
    env = mapped(_service_env(svc), {"/jwt": tmp_path / "jwt", "/data": tmp_path / "data"})
    argv = shlex.split(svc["command"]) if isinstance(svc.get("command"), str) else svc.get("command") or []
    s = start(argv, env)
    assert s.code == 0 and s.config is not None, s.err
    assert s.warnings == [], s.warnings
    c = s.config
    assert c.rollup.l2_chain_id == 11155420 and c.rpc.addr == "0.0.0.0" and c.rpc.port == 9545
    assert c.metrics.enabled
    if service.startswith("light"):
        assert c.follow_source.url == env["OP_NODE_L2_FOLLOW_SOURCE"] and not c.beacon.url
    else:
        assert c.follow_source is None and c.beacon.url and c.safedb_path == str(tmp_path / "data" / "safedb")


# ----------------------------------------------------------------------------------------------------- systemd


def read_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit: section -> [(key, value)] in order (keys such as EnvironmentFile repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if m := re.fullmatch(r"\[(\w+)\]", line):
            current = sections.setdefault(m.group(1), [])
            continue
        key, sep, value = line.partition("=")
        assert current is not None and sep, f"{path.name}: {line!r}"
        current.append((key.strip(), value.strip()))
    return sections


def _installed_env_file(unit_path: str) -> Path:
    """Where each /etc/opnode/*.env of a unit comes from in this repository."""
    name = Path(unit_path).name
    return DEPLOY / ("env" if name == "common.env" else "systemd") / name


@pytest.mark.parametrize("unit", ["opnode-source.service", "opnode-light.service"])
def test_systemd_units_start_with_their_environment_files(start, tmp_path, unit):
    u = read_unit(DEPLOY / "systemd" / unit)
    assert {"Unit", "Service", "Install"} <= set(u)
    service = dict(u["Service"])
    assert service["Type"] == "simple" and service["Restart"] == "on-failure" and service["KillSignal"] == "SIGTERM"
    env: dict[str, str] = {}
    files = [v for k, v in u["Service"] if k == "EnvironmentFile"]
    assert files and all(f.startswith("/etc/opnode/") for f in files)
    for f in files:  # later files win, as in systemd
        env.update(read_env_file(_installed_env_file(f)))
    state = "/var/lib/" + service["StateDirectory"]
    assert service["WorkingDirectory"] == state
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "jwt.txt").write_text("ab" * 32)
    env = mapped(env, {"/etc/opnode": tmp_path / "etc", state: tmp_path / "state"})
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == "/opt/opnode/bin/opnode"
    s = start(argv[1:], env)
    assert s.code == 0 and s.config is not None, s.err
    assert s.warnings == [], s.warnings
    c = s.config
    assert c.l2.url == "http://127.0.0.1:8551" and c.l2.jwt_secret == bytes.fromhex("ab" * 32)
    if "light" in unit:
        assert c.follow_source is not None and c.follow_source.url == env["OP_NODE_L2_FOLLOW_SOURCE"]
    else:
        assert c.follow_source is None and c.beacon.url and c.safedb_path.startswith(str(tmp_path / "state"))


def test_an_unknown_op_node_variable_is_warned_as_op_node_does(start, tmp_path):
    """op-service ValidateEnvVars: a misspelt variable in an env file is named at start (one WARN each)."""
    (tmp_path / "jwt.txt").write_text("ab" * 32)
    env = {"OP_NODE_NETWORK": "op-sepolia", "OP_NODE_L1_ETH_RPC": "http://l1:8545", "OP_NODE_L2_ENGINE_RPC":
           "http://l2:8551", "OP_NODE_L2_ENGINE_AUTH": str(tmp_path / "jwt.txt"),
           "OP_NODE_L2_FOLLOW_SOURCE": "http://source:9545", "OP_NODE_LOG_FORMAT": "json",
           "OP_NODE_METRICS_ENABLD": "true", "OP_NODE_OVERRIDE_LAGOON": "1900000000"}
    s = start([], env)
    assert s.code == 0, s.err
    records = [json.loads(e) for e in s.err if e.startswith("{")]
    unknown = [r for r in records if r["msg"] == "Unknown env var"]
    assert unknown == [{**unknown[0], "lvl": "warn", "prefix": "OP_NODE", "env_var": "OP_NODE_METRICS_ENABLD=true"}]
