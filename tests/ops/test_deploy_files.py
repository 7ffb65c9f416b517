"""The shipped deploy files are valid where this machine can check them: `nginx -t` on the
nginx config, `systemd-analyze verify` on the unit, and the compose file and Kubernetes
manifests parsed (PyYAML) and checked for the structure they exist for. Docker and a cluster
are not available here; images are not built."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.nginx import nginx_binary, render_nginx_conf

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _kubernetes() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    kustomization = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()):
            assert doc["apiVersion"] and doc["metadata"]["name"], name
            docs[doc["kind"]] = doc
    return docs


def test_shipped_nginx_conf_passes_nginx_t(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(tmp_path, listen_port=18080, upstream_ports=(18001, 18002)))
    run = subprocess.run(
        [nginx_binary(), "-t", "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    assert "test is successful" in run.stderr


def test_nginx_conf_retries_refused_connects_but_never_a_sent_post() -> None:
    text = (DEPLOY / "nginx.conf").read_text()
    directives = [line.split("#")[0].strip() for line in text.splitlines()]
    assert "proxy_next_upstream error timeout;" in directives
    assert "proxy_next_upstream_tries 2;" in directives
    assert not any("non_idempotent" in d for d in directives)  # a sent sale is never replayed
    assert not any("ip_hash" in d or "sticky" in d for d in directives)
    workers = int(re.search(r"worker_connections (\d+);", text).group(1))  # type: ignore[union-attr]
    assert workers >= 8192  # Debian's 768 ran out with idle sockets
    for slow in ("client_header_timeout", "client_body_timeout"):
        seconds = int(re.search(rf"{slow} (\d+)s;", text).group(1))  # type: ignore[union-attr]
        assert seconds <= 15
    ws = text[text.index("location /ws") :]
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws


def test_systemd_unit_verifies_and_sets_the_open_files_limit(tmp_path: Path) -> None:
    unit = (DEPLOY / "bartender@.service").read_text()
    assert (
        re.search(r"^LimitNOFILE=(\d+)$", unit, re.M)
        and int(
            re.search(r"^LimitNOFILE=(\d+)$", unit, re.M).group(1)  # type: ignore[union-attr]
        )
        >= 65536
    )
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here (the unit's text was checked)")
    # verify checks ExecStart exists: point it at this environment's `bartender`
    bartender = Path(sys.executable).with_name("bartender")
    assert bartender.exists(), "the package's console script is not installed"
    instance = tmp_path / "bartender@8001.service"
    instance.write_text(unit.replace("/usr/local/bin/bartender", str(bartender)))
    run = subprocess.run(
        [analyze, "verify", str(instance)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr


def test_compose_runs_two_apps_behind_nginx_with_postgres_and_redis() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"app1", "app2", "postgres", "redis", "nginx", "migrate"} <= set(services)
    for name in ("app1", "app2"):
        app = services[name]
        assert app["build"]["dockerfile"] == "deploy/Dockerfile"
        env = app["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["DATABASE_URL"]
        )
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert app["ulimits"]["nofile"]["soft"] >= 65536
    assert services["migrate"]["command"] == ["bartender", "migrate"]
    nginx = services["nginx"]
    assert "./nginx.conf:/etc/bartender/nginx.conf:ro" in nginx["volumes"]
    script = " ".join(nginx["command"])
    # the rewrite targets must exist in the shipped config, or nginx would proxy nowhere
    conf = (DEPLOY / "nginx.conf").read_text()
    for upstream in re.findall(r"s/([\d.:]+)/app\d:8000/", script):
        assert f"server {upstream} " in conf
    assert len(re.findall(r"s/([\d.:]+)/app\d:8000/", script)) == 2
    assert services["postgres"]["healthcheck"]["test"]


def test_dockerfile_is_small_non_root_and_carries_pwa_and_migrations() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(stages) == 2 and all(s.endswith("-slim") or " AS " in s for s in stages)
    assert re.search(r"^USER 10001$", text, re.M)
    for needed in ("COPY migrations migrations", "COPY pwa pwa", "COPY backend backend"):
        assert needed in text
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"migrations" = "bartender/_migrations"' in pyproject  # they travel in the wheel
    assert '"pwa" = "bartender/_pwa"' in pyproject


def test_kubernetes_manifests_have_probes_prestop_pdb_hpa_and_ingress() -> None:
    docs = _kubernetes()
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= set(docs)
    deployment = docs["Deployment"]
    labels = deployment["spec"]["selector"]["matchLabels"]
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["labels"] == labels
    (container,) = pod["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health"
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    pre_stop_s = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    # the grace period covers the preStop and the app's own 1012 close and drain
    assert pod["spec"]["terminationGracePeriodSeconds"] >= pre_stop_s + 20
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    ports = {p["name"] for p in container["ports"]}
    assert docs["Service"]["spec"]["selector"] == labels
    assert docs["Service"]["spec"]["sessionAffinity"] == "None"
    assert docs["Service"]["spec"]["ports"][0]["targetPort"] in ports
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    hpa = docs["HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    ingress = docs["Ingress"]
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > 25  # ping
    assert "non_idempotent" not in annotations["nginx.ingress.kubernetes.io/proxy-next-upstream"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == docs["Service"]["metadata"]["name"]
    assert docs["Job"]["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "bartender",
        "migrate",
    ]


def test_procfile_migrates_before_release_and_serves_on_port() -> None:
    lines = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert lines["release"] == "bartender migrate"
    assert lines["web"].startswith("bartender serve --host 0.0.0.0 --port ${PORT")
