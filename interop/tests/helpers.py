"""Shared plumbing for the Python interoperability tests: running `souverain`, keys, SD-JWT surgery."""

import base64
import json
import os
from pathlib import Path
import re
import subprocess
import time

BIN = os.environ.get("SOUVERAIN_BIN", str(Path(__file__).resolve().parents[2] / "target" / "debug" / "souverain"))

# Both JOSE names for Ed25519: RFC 8037's `EdDSA` and RFC 9864's fully specified `Ed25519`.
ED25519_ALGS = ["EdDSA", "Ed25519"]

CLAIMS = {
    "given_name": "Marie",
    "family_name": "Dupont",
    "birthdate": "1990-04-12",
    "address": {"street_address": "3 rue de la Mairie", "locality": "Saint-Martin", "postal_code": "38000"},
    "nationalities": ["FR", "DE"],
}
ALL_PATHS = [
    "/given_name",
    "/family_name",
    "/birthdate",
    "/address",
    "/address/locality",
    "/address/postal_code",
    "/nationalities",
    "/nationalities/1",
]
ISS = "https://mairie.example.fr"
VCT = "https://mairie.example.fr/vct/resident"
REGISTERED = {"iss", "vct", "iat", "nbf", "exp", "cnf", "status", "sub"}


def now():
    return int(time.time())


def user_claims(payload):
    return {k: v for k, v in payload.items() if k not in REGISTERED}


def key_core(jwk):
    """The members that identify a public key (RFC 7638), to compare JWKs written by two tools."""
    return {k: jwk[k] for k in ("kty", "crv", "x", "y") if k in jwk}


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.json = json.loads(proc.stdout)
        except ValueError:
            self.json = None


def souverain(args, stdin=None):
    return Result(subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=60))


def souverain_ok(args, stdin=None):
    r = souverain(args, stdin)
    assert r.code == 0, f"souverain {' '.join(args)} exited {r.code}: {r.stdout}{r.stderr}"
    return r


def require_binary():
    """Fails (never skips) when the binary or a needed subcommand is missing."""
    assert os.path.exists(BIN), f"souverain binary not found at {BIN} (set SOUVERAIN_BIN)"
    help_text = subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout
    for sub in ("keygen", "pubkey", "issue", "present", "verify"):
        assert re.search(rf"^\s+{sub}\b", help_text, re.M), f"souverain has no `{sub}` subcommand yet:\n{help_text}"


def has_flag(sub, flag):
    p = subprocess.run([BIN, sub, "--help"], capture_output=True, text=True)
    return flag in p.stdout + p.stderr


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64u(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_header(compact: str) -> dict:
    return json.loads(unb64u(compact.split(".")[0]))


def jwt_payload(compact: str) -> dict:
    return json.loads(unb64u(compact.split(".")[1]))


def split_sd_jwt(sd_jwt: str):
    parts = sd_jwt.split("~")
    return parts[0], parts[1:-1], parts[-1]


def tamper_disclosure(sd_jwt: str, name: str, new_value) -> str:
    """Replaces the disclosure of property `name` by a well-formed one (same salt, other value) whose
    digest nothing in the signed payload refers to."""
    jwt, disclosures, kb = split_sd_jwt(sd_jwt)
    out, found = [], False
    for d in disclosures:
        arr = json.loads(unb64u(d))
        if len(arr) == 3 and arr[1] == name:
            found = True
            d = b64u(json.dumps([arr[0], name, new_value]).encode())
        out.append(d)
    assert found, f"no disclosure for {name}"
    return "~".join([jwt, *out, kb])
