#!/usr/bin/env python3
"""Checks the deployment files against the code, since CI cannot run them.

- Every YAML file of the checkout parses.
- Every `handoff` command line of docker-compose.yml and deploy/k8s/ names
  subcommands and flags that `handoff <subcommand> --help` lists, and the
  real parser accepts it whole (HANDOFF_PARSE_ONLY: parse, run nothing).
- The topics of deploy/k8s/topics.yaml are what `handoff topics --print
  topics` plans with the compose file's own `topics` flags.
- The ACLs of deploy/compose/kafka/acls.sh and of deploy/k8s/users.yaml are
  exactly the table of `handoff topics --print acls`, the SCRAM users the
  compose brokers create are its principals (and the admin), and each
  service logs in as a principal that exists.

Usage: check_deploy.py [--root DIR] [--handoff BIN]
Prints one line per check; exits 1 listing every problem found.
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

SKIP_DIRS = {".git", ".venv", "target", "node_modules"}
ADMIN = "admin"


class Check:
    def __init__(self, root: Path, handoff: str):
        self.root = root
        self.handoff = handoff
        self.problems: list[str] = []
        self.help_cache: dict[tuple, str] = {}

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def run(self, args: list[str], parse_only: bool = False) -> subprocess.CompletedProcess:
        env = dict(os.environ)
        if parse_only:
            env["HANDOFF_PARSE_ONLY"] = "1"
        return subprocess.run([self.handoff, *args], capture_output=True, text=True, env=env)

    # -- YAML -------------------------------------------------------------

    def yaml_files(self) -> list[Path]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            found += [Path(dirpath) / f for f in filenames if f.endswith((".yml", ".yaml"))]
        return sorted(found)

    def load_all(self) -> dict[Path, list]:
        docs = {}
        for path in self.yaml_files():
            try:
                docs[path] = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
            except yaml.YAMLError as e:
                self.fail(self.rel(path), f"does not parse: {e}")
        print(f"yaml      {len(docs)} files parse")
        return docs

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    # -- command lines ----------------------------------------------------

    def help_of(self, words: tuple) -> str:
        if words not in self.help_cache:
            out = self.run([*words, "--help"])
            self.help_cache[words] = out.stdout if out.returncode == 0 else ""
        return self.help_cache[words]

    @staticmethod
    def subcommands(help_text: str) -> set[str]:
        block = re.search(r"^Commands:\n((?:  .*\n)+)", help_text, re.M)
        return set(re.findall(r"^  (\S+)", block.group(1), re.M)) if block else set()

    @staticmethod
    def flags(help_text: str) -> set[str]:
        return set(re.findall(r"(?:^|\s|,)(--[a-z0-9-]+|-[A-Za-z])\b", help_text))

    def check_command(self, where: str, args: list[str]) -> None:
        args = [str(a) for a in args]
        path: tuple = ()
        rest = list(args)
        while rest and rest[0] in self.subcommands(self.help_of(path)):
            path += (rest.pop(0),)
        if not path:
            self.fail(where, f"`handoff {' '.join(args)}`: no such subcommand `{args[0] if args else ''}`")
            return
        known = self.flags(self.help_of(path))
        for word in rest:
            flag = word.split("=", 1)[0]
            if flag.startswith("-") and flag not in known:
                self.fail(where, f"`handoff {' '.join(path)}` has no flag {flag} (see `handoff {' '.join(path)} --help`)")
        parsed = self.run(args, parse_only=True)
        if parsed.returncode != 0:
            self.fail(where, f"`handoff {' '.join(args)}` is refused: {parsed.stderr.strip()}")

    def compose_services(self, docs: dict) -> dict:
        compose = docs.get(self.root / "docker-compose.yml", [{}])
        return (compose[0] or {}).get("services", {}) if compose else {}

    @staticmethod
    def is_handoff(service: dict) -> bool:
        return str(service.get("image", "")).startswith("handoff") or service.get("build") is not None

    def k8s_containers(self, docs: dict):
        for path, items in docs.items():
            if "deploy/k8s" not in self.rel(path):
                continue
            for doc in items:
                if not isinstance(doc, dict) or doc.get("kind") not in ("Deployment", "StatefulSet", "Job"):
                    continue
                name = doc["metadata"]["name"]
                for c in doc["spec"]["template"]["spec"]["containers"]:
                    yield f"{self.rel(path)} {doc['kind']} {name}", c

    def check_commands(self, docs: dict) -> int:
        n = 0
        for name, service in self.compose_services(docs).items():
            if self.is_handoff(service):
                self.check_command(f"docker-compose.yml service {name}", service.get("command", []))
                n += 1
        for where, container in self.k8s_containers(docs):
            if str(container.get("image", "")).startswith("handoff"):
                self.check_command(where, container.get("command", []) + container.get("args", []))
                n += 1
        print(f"commands  {n} handoff command lines checked against --help and the parser")
        return n

    # -- topics -----------------------------------------------------------

    def table(self, args: list[str]) -> list[dict]:
        out = self.run(args)
        if out.returncode != 0:
            self.fail("handoff " + " ".join(args), out.stderr.strip())
            return []
        lines = [l.split("\t") for l in out.stdout.splitlines() if l]
        return [dict(zip(lines[0], row)) for row in lines[1:]]

    def check_topics(self, docs: dict) -> None:
        topics_service = self.compose_services(docs).get("topics", {})
        flags = [str(a) for a in topics_service.get("command", [])[1:]]
        planned = {t["topic"]: t for t in self.table(["topics", "--print", "topics", *flags])}
        replication = flags[flags.index("--replication-factor") + 1] if "--replication-factor" in flags else "1"
        declared = {}
        for path, items in docs.items():
            for doc in items:
                if isinstance(doc, dict) and doc.get("kind") == "KafkaTopic":
                    spec = doc["spec"]
                    declared[spec.get("topicName", doc["metadata"]["name"])] = (self.rel(path), spec)
        for name in sorted(set(planned) - set(declared)):
            self.fail("deploy/k8s", f"no KafkaTopic for {name}, which Handoff creates")
        for name in sorted(set(declared) - set(planned)):
            self.fail(declared[name][0], f"KafkaTopic {name} is not a topic Handoff knows")
        for name in sorted(set(planned) & set(declared)):
            where, spec = declared[name]
            plan, config = planned[name], spec.get("config", {})
            want = {
                "partitions": (plan["partitions"], spec.get("partitions")),
                "replicas": (replication, spec.get("replicas")),
                "retention.ms": (plan["retention.ms"], config.get("retention.ms")),
                "min.insync.replicas": (plan["min.insync.replicas"], config.get("min.insync.replicas", "-")),
            }
            for key, (code, manifest) in want.items():
                if str(code) != str(manifest):
                    self.fail(where, f"KafkaTopic {name}: {key} is {manifest}, Handoff creates {code}")
        print(f"topics    {len(planned)} planned, {len(declared)} KafkaTopics compared")

    # -- ACLs -------------------------------------------------------------

    def check_acls(self, docs: dict) -> None:
        code = {(a["principal"], a["operation"], a["resource"], a["name"]) for a in self.table(["topics", "--print", "acls"])}
        principals = {a[0] for a in code}

        script = self.root / "deploy/compose/kafka/acls.sh"
        compose = set(re.findall(r"^allow (\S+) (\S+) (topic|group) (\S+)\s*$", script.read_text(), re.M)) if script.exists() else set()
        self.compare(self.rel(script), compose, code)

        strimzi, users = set(), set()
        for path, items in docs.items():
            for doc in items:
                if isinstance(doc, dict) and doc.get("kind") == "KafkaUser":
                    user = doc["metadata"]["name"]
                    users.add(user)
                    for acl in (doc["spec"].get("authorization") or {}).get("acls", []):
                        r = acl["resource"]
                        if r.get("patternType", "literal") != "literal":
                            self.fail(self.rel(path), f"KafkaUser {user}: {r['name']} is a {r['patternType']} pattern; grant literal names only")
                        for op in acl.get("operations", [acl.get("operation")]):
                            strimzi.add((user, op, r["type"], r["name"]))
        self.compare("deploy/k8s/users.yaml", strimzi, code)
        if users != principals | {ADMIN}:
            self.fail("deploy/k8s/users.yaml", f"KafkaUsers {sorted(users)} are not the principals {sorted(principals | {ADMIN})}")

        start = self.root / "deploy/compose/kafka/start.sh"
        listed = re.search(r"^for user in (.*); do", start.read_text(), re.M) if start.exists() else None
        scram = set(listed.group(1).split()) if listed else set()
        if scram != principals | {ADMIN}:
            self.fail(self.rel(start), f"SCRAM users {sorted(scram)} are not the principals {sorted(principals | {ADMIN})}")

        logins = [(f"docker-compose.yml service {n}", s.get("environment", {}) or {}) for n, s in self.compose_services(docs).items()]
        for where, c in self.k8s_containers(docs):
            logins.append((where, {e["name"]: e.get("value") for e in c.get("env", [])}))
        for where, env in logins:
            user = env.get("HANDOFF_KAFKA__SASL_USERNAME")
            if user is not None and user not in principals | {ADMIN}:
                self.fail(where, f"logs in as {user}, who is not a principal of `handoff topics --print acls`")
        print(f"acls      {len(code)} ACLs of {len(principals)} principals compared with acls.sh and users.yaml")

    def compare(self, where: str, manifest: set, code: set) -> None:
        for acl in sorted(code - manifest):
            self.fail(where, "missing ACL: {} may {} {} {}".format(*acl))
        for acl in sorted(manifest - code):
            self.fail(where, "ACL the code does not expect: {} may {} {} {}".format(*acl))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--handoff", default=os.environ.get("HANDOFF_BIN", "handoff"))
    args = parser.parse_args()
    check = Check(args.root.resolve(), args.handoff)
    docs = check.load_all()
    check.check_commands(docs)
    check.check_topics(docs)
    check.check_acls(docs)
    if check.problems:
        print(f"\n{len(check.problems)} problem(s) in the deployment files:", file=sys.stderr)
        for p in check.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print("deploy    every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
