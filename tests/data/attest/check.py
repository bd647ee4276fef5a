#!/usr/bin/env python3
"""Check a kaieval attestation without kaieval: the Python standard library
and python3-cryptography only.

usage: check.py ENVELOPE ARCHIVE_DIR PUB.pem [PUB.pem ...]

Every public key must have signed the DSSE envelope (signature over the
PAE of payloadType and payload), and every subject of the in-toto
statement must have the SHA-256 of the archive's file.  Prints what holds
or fails; exit 0 only when everything holds."""
import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def pae(payload_type, body):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def signed_by(key, message, sigs):
    for s in sigs:
        try:
            sig = base64.b64decode(s["sig"], validate=True)
            if isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(sig, message)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
            else:
                return False
            return True
        except (InvalidSignature, ValueError):
            continue
    return False


def main(envelope_path, archive, pubkeys):
    with open(envelope_path, "rb") as f:
        envelope = json.load(f)
    body = base64.b64decode(envelope["payload"], validate=True)
    message = pae(envelope["payloadType"], body)
    failed = 0
    if envelope["payloadType"] != "application/vnd.in-toto+json":
        print("payloadType is not in-toto")
        failed += 1
    for path in pubkeys:
        with open(path, "rb") as f:
            key = serialization.load_pem_public_key(f.read())
        if signed_by(key, message, envelope["signatures"]):
            print("signature ok:", path)
        else:
            print("signature FAILED:", path)
            failed += 1
    statement = json.loads(body)
    if statement["_type"] != "https://in-toto.io/Statement/v1":
        print("not an in-toto Statement v1")
        failed += 1
    for subject in statement["subject"]:
        with open(os.path.join(archive, subject["name"]), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != subject["digest"]["sha256"]:
            print("subject FAILED:", subject["name"])
            failed += 1
    print("subjects:", len(statement["subject"]))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
