#!/usr/bin/env python3
"""CI checks of the Docker Compose stack that need no Docker engine (.ci/run).

    check-compose.py config COMPOSE_BINARY      the compose file, its defaults, .env.example
    check-compose.py migrations COMPOSE_BINARY  the stack migrates with the tests' sql/

COMPOSE_BINARY is Docker Compose v2 (`docker-compose`, standalone). `migrations`
also needs the PyPI package `dockerfile` (BuildKit's own Dockerfile parser) on
PYTHONPATH. Each check prints what it verified and exits non-zero on the first problem.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "compose" / ".env.example"


def fail(message):
    print(f"check-compose: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def ok(message):
    print(f"check-compose: ok: {message}")


def compose(binary, *args, env_file=None):
    """`docker-compose -f compose/docker-compose.yml [--env-file F] ARGS`, in an empty
    environment and without compose/.env, so that only the compose file's own defaults
    (or the given env file) count. Returns stdout; any warning on stderr is an error
    (an unset variable is only a warning to compose)."""
    command = [binary, "-f", str(COMPOSE_FILE)]
    if env_file is not None:
        command += ["--env-file", str(env_file)]
    command += list(args)
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
    if (COMPOSE_FILE.parent / ".env").exists():
        fail("compose/.env exists; these checks need the defaults alone (move it away)")
    result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT)
    if result.returncode != 0 or result.stderr.strip():
        fail(f"`{' '.join(command[1:])}` exited {result.returncode}:\n{result.stderr.strip()}")
    return result.stdout


def readme_variables():
    """Every variable of README.md's gateway and worker tables (first column)."""
    names = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \|", line)
        if match:
            names.add(match.group(1))
    if len(names) < 20:
        fail(f"found only {len(names)} variables in README.md's tables; has their format changed?")
    return names


def check_config(binary):
    # 1. The file is valid for Compose v2 (its schema and its semantics: references
    #    between services, depends_on conditions, deploy.replicas, ...), and every
    #    variable resolves without an environment or a .env file.
    defaults = compose(binary, "config")
    ok("the compose file is valid, and every variable has a default (no .env, empty environment)")

    # 2. .env.example documents the defaults: resolving with it changes nothing.
    with_example = compose(binary, "config", env_file=ENV_EXAMPLE)
    if with_example != defaults:
        import difflib

        diff = "\n".join(
            difflib.unified_diff(
                defaults.splitlines(), with_example.splitlines(), "defaults", ".env.example", lineterm=""
            )
        )
        fail(f"compose/.env.example and the `:-` defaults of the compose file disagree:\n{diff}")
    ok("compose/.env.example holds exactly the compose file's defaults")

    # 3. Every setting of the README's tables is in .env.example (set, or listed in a
    #    `# NAME=` line saying why the stack fixes it).
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    missing = sorted(readme_variables() - listed)
    if missing:
        fail(f"compose/.env.example does not list these README.md settings: {', '.join(missing)}")
    ok("compose/.env.example lists every gateway and worker setting of README.md")

    # 4. What `--scale gateway=4 --scale worker=3` needs: no fixed name, no host port.
    services = json.loads(compose(binary, "config", "--format", "json"))["services"]
    for name in ("gateway", "worker"):
        service = services[name]
        if service.get("container_name") or service.get("ports"):
            fail(f"service {name} has a container_name or host ports: it could not be scaled")
        if service.get("deploy", {}).get("replicas") != 2:
            fail(f"service {name} should start 2 replicas")
    ok("gateway and worker run 2 replicas each and can be scaled (no container_name, no host ports)")


def check_migrations(binary):
    import dockerfile  # PyPI `dockerfile`: BuildKit's parser, as `docker build` reads the file

    # The tests apply the repository's sql/ folder.
    test_support = (ROOT / "Tests" / "TestSupport" / "TestDatabase.swift").read_text()
    if '.appendingPathComponent("sql")' not in test_support:
        fail("Tests/TestSupport/TestDatabase.swift no longer reads the repository's sql/ folder; update this check")
    sql_files = sorted(p.name for p in (ROOT / "sql").glob("*.sql"))
    if not sql_files:
        fail("sql/ holds no migrations")

    # The image copies that folder from the build context (the repository root) into
    # the runtime stage, and points OCPP_MIGRATIONS_DIR at it.
    commands = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    last_stage = max(i for i, c in enumerate(commands) if c.cmd.upper() == "FROM")
    runtime = commands[last_stage:]
    copies = [c for c in runtime if c.cmd.upper() == "COPY" and not any(f.startswith("--from") for f in c.flags)]
    sql_copies = [c for c in copies if c.value[:-1] == ("sql",)]
    if len(sql_copies) != 1:
        fail("the Dockerfile's runtime stage should `COPY sql <dir>` once, from the build context")
    image_sql_dir = sql_copies[0].value[-1].rstrip("/")
    environment = {}
    for command in runtime:
        if command.cmd.upper() == "ENV":
            values = command.value
            environment.update(zip(values[0::2], values[1::2]))
    if environment.get("OCPP_MIGRATIONS_DIR", "").rstrip("/") != image_sql_dir:
        fail(f"the Dockerfile should set OCPP_MIGRATIONS_DIR={image_sql_dir} (it sets "
             f"{environment.get('OCPP_MIGRATIONS_DIR')!r})")
    ok(f"the image copies sql/ ({len(sql_files)} files) to {image_sql_dir}, and OCPP_MIGRATIONS_DIR points there")

    # .dockerignore (an allow-list) lets sql/ into the build context.
    ignore_lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    if "!sql" not in ignore_lines or any(re.match(r"^(sql|\*\*/\*\.sql|\*\.sql)", line) for line in ignore_lines):
        fail(".dockerignore should let sql/ in (`!sql`) and exclude none of its files")
    ok(".dockerignore sends sql/ to the builder")

    # The compose stack builds that image from the repository root, and its migrate
    # service runs `ocpp-worker migrate` with the image's OCPP_MIGRATIONS_DIR: nothing
    # overrides the variable and nothing is mounted over the folder.
    services = json.loads(compose(binary, "config", "--format", "json"))["services"]
    migrate = services.get("migrate") or fail("the compose file has no migrate service")
    build = migrate.get("build") or fail("the migrate service should build the image")
    if Path(build["context"]).resolve() != ROOT or build.get("dockerfile", "Dockerfile") != "Dockerfile":
        fail(f"the migrate service should build ./Dockerfile from the repository root, not {build}")
    if migrate.get("command") != ["ocpp-worker", "migrate"]:
        fail(f"the migrate service should run `ocpp-worker migrate`, not {migrate.get('command')}")
    for name in ("migrate", "worker"):
        service = services[name]
        if "OCPP_MIGRATIONS_DIR" in (service.get("environment") or {}):
            fail(f"service {name} overrides OCPP_MIGRATIONS_DIR; the image's {image_sql_dir} must be used")
        for volume in service.get("volumes") or []:
            if str(volume.get("target", "")).rstrip("/") in (image_sql_dir, str(Path(image_sql_dir).parent)):
                fail(f"service {name} mounts {volume.get('target')} over the image's migrations")
    for name in ("gateway", "worker"):
        if services[name].get("image") != migrate.get("image"):
            fail(f"service {name} should run the image the migrate service builds ({migrate.get('image')})")
    ok("compose's migrate service builds the repository's Dockerfile and applies the image's "
       f"{image_sql_dir}; gateway and worker run the same image")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("config", "migrations"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    {"config": check_config, "migrations": check_migrations}[sys.argv[1]](sys.argv[2])


if __name__ == "__main__":
    main()
