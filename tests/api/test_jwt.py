"""`jwt` authentication. `keygen DIR` makes an RSA key pair (pure Python,
no crypto package) and writes DIR/jwks.json (its public key, and an HS256
`oct` key) and DIR/private.json; `check DIR` then signs tokens against a
server whose [api.auth] names that JWKS, issuer https://issuer.test and
audience spate, and checks what it accepts and refuses."""

import base64
import hashlib
import hmac
import json
import os
import random
import sys
import time

from common import PASS, ROLE, raw

SECRET = b"spate-hs256-test-secret-0123456789"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def probable_prime(bits):
    while True:
        n = random.getrandbits(bits) | (1 << (bits - 1)) | 1
        if all(n % p for p in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)) and miller_rabin(n):
            return n


def miller_rabin(n, rounds=20):
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        x = pow(random.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def keygen(folder):
    e = 65537
    while True:
        p, q = probable_prime(1024), probable_prime(1024)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            break
    n, d = p * q, pow(e, -1, (p - 1) * (q - 1))
    jwks = {"keys": [
        {"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig", "n": b64(int_bytes(n)), "e": b64(int_bytes(e))},
        {"kty": "oct", "kid": "hs-1", "k": b64(SECRET)},
    ]}
    with open(os.path.join(folder, "jwks.json"), "w") as f:
        json.dump(jwks, f)
    with open(os.path.join(folder, "private.json"), "w") as f:
        json.dump({"n": n, "d": d}, f)


DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def token(folder, claims, alg="RS256", kid="rsa-1", tamper=False):
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims).encode())
    signed = f"{header}.{payload}".encode()
    if alg == "HS256":
        signature = hmac.new(SECRET, signed, hashlib.sha256).digest()
    else:
        key = json.load(open(os.path.join(folder, "private.json")))
        size = (key["n"].bit_length() + 7) // 8
        digest = DIGEST_INFO + hashlib.sha256(signed).digest()
        em = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
        signature = pow(int.from_bytes(em, "big"), key["d"], key["n"]).to_bytes(size, "big")
    if tamper:
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    return f"{header}.{payload}.{b64(signature)}"


def check(folder):
    now = int(time.time())
    good = {"iss": "https://issuer.test", "aud": "spate", "exp": now + 600, "sub": "tester"}

    def create(name, bearer):
        headers = {"Authorization": "Bearer " + bearer} if bearer else {}
        return raw("CreateStateMachine", {"name": name, "definition": PASS, "roleArn": ROLE, "type": "EXPRESS"}, headers)

    status, answer = create("jwt-rs", token(folder, good))
    assert status == 200, answer
    status, answer = create("jwt-hs", token(folder, dict(good, aud=["other", "spate"]), alg="HS256", kid="hs-1"))
    assert status == 200, answer
    for bearer, expected in [
        (None, (400, "UnrecognizedClientException")),
        (token(folder, good, tamper=True), (403, "AccessDeniedException")),
        (token(folder, dict(good, exp=now - 10)), (403, "AccessDeniedException")),
        (token(folder, dict(good, iss="https://evil.test")), (403, "AccessDeniedException")),
        (token(folder, dict(good, aud="someone-else")), (403, "AccessDeniedException")),
        (token(folder, good, alg="none"), (403, "AccessDeniedException")),
        ("not.a.token", (403, "AccessDeniedException")),
    ]:
        status, answer = create("jwt-bad", bearer)
        assert (status, answer.get("__type")) == expected, (bearer, status, answer)
    status, answer = raw("ListStateMachines", {}, {"Authorization": "Bearer " + token(folder, good)})
    assert sorted(m["name"] for m in answer["stateMachines"]) == ["jwt-hs", "jwt-rs"], answer


if __name__ == "__main__":
    {"keygen": keygen, "check": check}[sys.argv[1]](sys.argv[2])
    print("ok")
