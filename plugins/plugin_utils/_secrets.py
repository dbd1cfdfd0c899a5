# Copyright (c) dockerwin.registry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry's secrets: CA, server certificate and key, htpasswd users, http.secret.

Pure functions over file contents (bytes) and role inputs: the action plugin reads the files that exist on
the registry host, ``plan()`` decides what each file must hold, and the plugin writes only the files that
differ. Nothing here returns key material in a form meant for output: ``Plan.facts`` is public (names,
fingerprints, dates, user names), ``Plan.files`` is written to the host and never returned.

New TLS material is minted by community.crypto on the controller (roles/windows_registry/tasks/secrets_mint.yml),
not here. ``mint_plan()`` says what the host lacks (``Plan.mint``, public) and which kept PEMs the minting needs
(``Plan.sources``: the CA key that signs, the server key a renewal keeps; secret); ``plan()`` then takes the
minted PEMs and checks them like files read from the host. Reading certificates stays with ``cryptography`` (a
dependency of ansible-core and community.crypto): the plan needs checks that community.crypto's info modules do
not make (signed by this CA, key and certificate a pair), in one pass over bytes that never leave this process.
bcrypt hashes with ``bcrypt``.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import re
import secrets
from dataclasses import dataclass, field

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError as exc:  # the action plugin checks this before any use
    CRYPTOGRAPHY_IMPORT_ERROR = exc
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

# Logical files and where they live: the CA key stays out of the folder the container mounts.
CA_KEY = "ca_key"
CA_CERT = "ca_cert"
SERVER_KEY = "server_key"
SERVER_CERT = "server_cert"
TLS_CA = "tls_ca"
HTPASSWD = "htpasswd"
HTTP_SECRET = "http_secret"
LAYOUT = {
    CA_KEY: ("ca", "ca.key"),
    CA_CERT: ("ca", "ca.crt"),
    SERVER_KEY: ("tls", "server.key"),
    SERVER_CERT: ("tls", "server.crt"),
    TLS_CA: ("tls", "ca.crt"),
    HTPASSWD: ("auth", "htpasswd"),
    HTTP_SECRET: ("auth", "http.secret"),
}
# Files the registry process reads: a change to one of them must recreate the container.
USED_BY_REGISTRY = (SERVER_KEY, SERVER_CERT, TLS_CA, HTPASSWD, HTTP_SECRET)

TLS_MODES = ("none", "self_signed", "provided")
AUTH_MODES = ("none", "htpasswd")
CA_DAYS = 3650
CA_ORGANIZATION = "dockerwin.registry"
BCRYPT_ROUNDS = 10
BCRYPT_MAX_BYTES = 72
_USER_RE = re.compile(r"^[^:\s]+$")
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class SecretsError(ValueError):
    pass


@dataclass
class Plan:
    files: dict = field(default_factory=dict)  # logical name -> bytes to write (changed files only)
    keep: dict = field(default_factory=dict)  # logical name -> bytes already right on the host
    facts: dict = field(default_factory=dict)  # public facts, safe to return
    reasons: list = field(default_factory=list)  # why files change, without secrets
    warnings: list = field(default_factory=list)
    mint: dict = field(default_factory=dict)  # what community.crypto must make first: "ca", "server_key", "server_cert"
    sources: dict = field(default_factory=dict)  # logical name -> kept PEM the minting needs (secret, never output)

    def content(self, name):
        return self.files.get(name, self.keep.get(name))

    def digest(self):
        """sha256 over the files the registry reads; goes into a container label (not reversible)."""
        sha = hashlib.sha256()
        for name in USED_BY_REGISTRY:
            data = self.content(name)
            if data is not None:
                sha.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return sha.hexdigest()


# -- parsing ---------------------------------------------------------------------------------------
def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def load_certs(data):
    """Every PEM certificate in data (bytes or str); [] for None or garbage."""
    if not data:
        return []
    if isinstance(data, str):
        data = data.encode()
    found = []
    for block in _PEM_CERT.findall(data):
        try:
            found.append(x509.load_pem_x509_certificate(block))
        except ValueError:
            return []
    return found


def load_key(data):
    """An unencrypted PEM private key, or None when data is empty or not one."""
    if not data:
        return None
    if isinstance(data, str):
        data = data.encode()
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        return None


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _public_der(key_or_cert):
    public = key_or_cert.public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def not_after(cert):
    return cert.not_valid_after_utc


def cert_names(cert):
    """The names a certificate is valid for: its SAN DNS names and IP addresses, as strings."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return names


def normalize_names(names):
    """Names as the certificate will hold them: IPs in canonical form, DNS names lower-case; order kept."""
    out = []
    for name in names or []:
        name = str(name).strip()
        if not name:
            continue
        try:
            value = str(ipaddress.ip_address(name))
        except ValueError:
            if not re.match(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$", name):
                raise SecretsError(
                    "windows_registry_tls_names holds %r, which is neither a DNS name nor an IP address" % name
                ) from None
            value = name.lower()
        if value not in out:
            out.append(value)
    return out


def signed_by(cert, ca_cert):
    """True when ca_cert's key signed cert (and the issuer name matches)."""
    if cert.issuer != ca_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# -- htpasswd ----------------------------------------------------------------------------------------
def parse_htpasswd(data):
    """{user: hash} from an htpasswd file (bytes or None); lines that are not user:hash are dropped."""
    users = {}
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, dummy, hashed = line.partition(":")
        users[name] = hashed
    return users


def check_users(users):
    seen = set()
    for index, user in enumerate(users or []):
        name = str((user or {}).get("name") or "")
        password = (user or {}).get("password")
        if not _USER_RE.match(name):
            raise SecretsError("windows_registry_users[%d].name=%r: a user name is not empty and holds no ':' or blanks" % (index, name))
        if name in seen:
            raise SecretsError("windows_registry_users names %r twice: each user once" % name)
        seen.add(name)
        if not password:
            raise SecretsError("windows_registry_users[%d] (%s) has no password" % (index, name))
        if len(str(password).encode("utf-8")) > BCRYPT_MAX_BYTES:
            raise SecretsError("windows_registry_users[%d] (%s): the password is longer than %d bytes, which bcrypt "
                               "cannot hash; use a shorter one" % (index, name, BCRYPT_MAX_BYTES))


def _checkpw(password, hashed):
    import bcrypt

    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        return False


def htpasswd_text(users, existing, rounds=BCRYPT_ROUNDS):
    """(bytes of the htpasswd file, added, changed, removed user names). A user whose password still matches
    the hash on the host keeps that hash, so an unchanged password changes nothing."""
    import bcrypt

    old = parse_htpasswd(existing)
    lines, added, changed = [], [], []
    for user in users:
        name, password = str(user["name"]), str(user["password"])
        hashed = old.get(name)
        if hashed is None or not _checkpw(password, hashed):
            (added if hashed is None else changed).append(name)
            hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")
        lines.append("%s:%s\n" % (name, hashed))
    removed = [name for name in old if name not in {str(u["name"]) for u in users}]
    return "".join(lines).encode("ascii"), added, changed, removed


# -- the plan ----------------------------------------------------------------------------------------
@dataclass
class Inputs:
    tls: str = "none"
    names: list = field(default_factory=list)
    valid_days: int = 365
    renew_days: int = 30
    certificate: str = ""  # provided: PEM (leaf, maybe followed by its chain)
    chain: str = ""
    key: str = ""
    ca: str = ""
    auth: str = "none"
    users: list = field(default_factory=list)
    realm: str = "Registry"
    # Scale-out: one http.secret for every replica of a group (given by the operator or read from the first replica).
    http_secret: str = ""


def _wanter(existing, result):
    """want(name, data): the file must hold data; kept when the host already has it, else written."""
    def want(name, data):
        if existing.get(name) == data:
            result.keep[name] = data
        else:
            result.files[name] = data
    return want


def mint_plan(existing, inputs, now=None):
    """What community.crypto must mint for tls=self_signed, from the TLS files on the host: Plan.mint (empty when
    nothing), Plan.sources and Plan.reasons. The same decisions as plan(), which then takes the minted PEMs."""
    result = Plan()
    if inputs.tls == "self_signed":
        _self_signed(existing, inputs, normalize_names(inputs.names), now or utcnow(), result, _wanter(existing, result), {})
    return result


def plan(existing, inputs, now=None, minted=None):
    """What each secret file must hold, from the files on the host (`existing`: logical name -> bytes or None) and
    what community.crypto minted for mint_plan() (`minted`: logical name -> PEM; empty when nothing was asked).
    Plan.mint is not empty when something still has to be minted."""
    now = now or utcnow()
    result = Plan()
    want = _wanter(existing, result)
    minted = {name: data for name, data in (minted or {}).items() if data}

    if inputs.tls not in TLS_MODES:
        raise SecretsError("windows_registry_tls=%r: use one of %s" % (inputs.tls, ", ".join(TLS_MODES)))
    if inputs.auth not in AUTH_MODES:
        raise SecretsError("windows_registry_auth=%r: use one of %s" % (inputs.auth, ", ".join(AUTH_MODES)))
    names = normalize_names(inputs.names)
    if inputs.tls == "self_signed":
        _self_signed(existing, inputs, names, now, result, want, minted)
    elif inputs.tls == "provided":
        _provided(existing, inputs, names, now, result, want)
    result.facts["tls"] = inputs.tls

    if inputs.auth == "htpasswd":
        check_users(inputs.users)
        if not inputs.users:
            raise SecretsError("windows_registry_auth=htpasswd needs at least one user in windows_registry_users")
        text, added, changed, removed = htpasswd_text(inputs.users, existing.get(HTPASSWD))
        want(HTPASSWD, text)
        for label, who in (("added", added), ("changed password", changed), ("removed", removed)):
            if who:
                result.reasons.append("htpasswd: %s %s" % (label, ", ".join(who)))
        result.facts.update(users=[str(u["name"]) for u in inputs.users], users_added=added, users_changed=changed,
                            users_removed=removed, realm=inputs.realm)
    result.facts["auth"] = inputs.auth

    secret = (existing.get(HTTP_SECRET) or b"").strip()
    if inputs.http_secret:
        secret = shared_http_secret(inputs.http_secret)
        if existing.get(HTTP_SECRET) != secret + b"\n":
            result.reasons.append("http.secret: set to the replicas' shared secret")
    elif len(secret) < 32:
        secret = secrets.token_urlsafe(48).encode("ascii")
        result.reasons.append("http.secret: generated")
    want(HTTP_SECRET, secret + b"\n")
    return result


def shared_http_secret(value):
    """The replicas' shared http.secret as bytes; refused (without echoing it) when short or not plain ASCII."""
    text = str(value).strip()
    if len(text) < 32 or not all(33 <= ord(c) < 127 for c in text):
        raise SecretsError("windows_registry_http_secret: use at least 32 printable ASCII characters without spaces "
                           "(for example: openssl rand -base64 48), the same on every replica (value not shown)")
    return text.encode("ascii")


def _self_signed(existing, inputs, names, now, result, want, minted):
    if not names:
        raise SecretsError("windows_registry_tls=self_signed needs windows_registry_tls_names: the registry's DNS names "
                           "and IP addresses, as clients reach it (the first is the certificate's common name)")
    if inputs.renew_days >= inputs.valid_days:
        raise SecretsError("windows_registry_tls_renew_days=%d must be less than windows_registry_tls_valid_days=%d, "
                           "or every run would renew the certificate" % (inputs.renew_days, inputs.valid_days))
    # The CA: kept while its key and certificate on the host are a pair; otherwise a new one is minted.
    ca_key = load_key(existing.get(CA_KEY))
    ca_cert = _first(load_certs(existing.get(CA_CERT)))
    ca_is_new = ca_key is None or ca_cert is None or _public_der(ca_key) != _public_der(ca_cert)
    if ca_is_new:
        if existing.get(CA_KEY) or existing.get(CA_CERT):
            result.reasons.append("CA: the key or certificate on the host is unreadable or they do not match; a new CA is made")
        else:
            result.reasons.append("CA: created")
        ca_key, ca_cert = _minted_ca(minted, now)
        if ca_cert is None:
            result.mint["ca"] = {"common_name": ("%s CA %s" % (CA_ORGANIZATION, names[0]))[:64],
                                 "organization_name": CA_ORGANIZATION, "valid_days": CA_DAYS}
        else:
            want(CA_KEY, _pem_bytes(minted[CA_KEY]))
    else:
        want(CA_KEY, existing[CA_KEY])
        if not_after(ca_cert) <= now:
            raise SecretsError("the registry's CA expired on %s: clients would refuse every certificate it signs; "
                               "remove ca.key and ca.crt from the CA folder on the host to make a new CA (clients must "
                               "then trust the new one)" % not_after(ca_cert).isoformat())
        if not_after(ca_cert) <= now + datetime.timedelta(days=inputs.valid_days):
            result.warnings.append("the registry's CA expires on %s, before a new server certificate would: plan a new CA"
                                   % not_after(ca_cert).date().isoformat())
    if ca_cert is not None:
        ca_bytes = cert_pem(ca_cert)
        want(CA_CERT, ca_bytes)
        want(TLS_CA, ca_bytes)

    # The server key: kept while it reads; a renewal signs a new certificate for the same key.
    server_key = load_key(existing.get(SERVER_KEY))
    key_is_new = server_key is None
    if key_is_new:
        result.reasons.append("server key: created")
        server_key = _minted_key(minted, SERVER_KEY, "server key")
        if server_key is None:
            result.mint["server_key"] = {}
        else:
            want(SERVER_KEY, _pem_bytes(minted[SERVER_KEY]))
    else:
        want(SERVER_KEY, existing[SERVER_KEY])

    # The server certificate: re-issued when it is missing, from another CA or key, for other names, or expiring.
    server = _first(load_certs(existing.get(SERVER_CERT)))
    problem = _server_problem(server, None if ca_is_new else ca_cert, None if key_is_new else server_key, names, now,
                              inputs.renew_days)
    if problem:
        result.reasons.append("server certificate: %s" % problem)
        server = _minted_server(minted, ca_cert, server_key, names, now, inputs.renew_days)
        if server is None:
            rsa_key = isinstance(server_key, rsa.RSAPrivateKey)  # a kept RSA key also enciphers (TLS 1.2 RSA kx)
            result.mint["server_cert"] = {
                "common_name": names[0][:64],
                "subject_alt_name": [("IP:%s" if _is_ip(n) else "DNS:%s") % n for n in names],
                "key_usage": ["digitalSignature", "keyEncipherment"] if rsa_key else ["digitalSignature"],
                "valid_days": inputs.valid_days,
            }
            if not ca_is_new:
                result.sources.update({CA_KEY: existing[CA_KEY], CA_CERT: cert_pem(ca_cert)})
            if not key_is_new:
                result.sources[SERVER_KEY] = existing[SERVER_KEY]
        else:
            want(SERVER_CERT, cert_pem(server))
    else:
        want(SERVER_CERT, existing[SERVER_CERT])
    if server is not None and ca_cert is not None:
        _tls_facts(result, server, ca_cert, names)


def _first(items):
    return items[0] if items else None


def _is_ip(name):
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _pem_bytes(data):
    data = data.encode("ascii") if isinstance(data, str) else data
    return data.strip() + b"\n"


def _server_problem(server, ca_cert, server_key, names, now, renew_days):
    """Why a server certificate cannot stay (None when it can). ca_cert / server_key None: they are new."""
    if server is None:
        return "created"
    if ca_cert is None:
        return "issued by the new CA"
    if not signed_by(server, ca_cert):
        return "not signed by the registry's CA; re-issued"
    if server_key is None:
        return "issued for the new server key"
    if _public_der(server) != _public_der(server_key):
        return "does not match the server key; re-issued"
    if sorted(cert_names(server)) != sorted(names):
        return "names %s become %s; re-issued" % (", ".join(cert_names(server)), ", ".join(names))
    if not_after(server) <= now + datetime.timedelta(days=renew_days):
        return "expires on %s, within %d days; renewed" % (not_after(server).date().isoformat(), renew_days)
    return None


def _minted_key(minted, name, what):
    """A minted private key, or None when none was given; refused when it is not one."""
    if not minted.get(name):
        return None
    key = load_key(minted[name])
    if key is None:
        raise SecretsError("the %s minted by community.crypto is not an unencrypted PEM private key" % what)
    return key


def _minted_ca(minted, now):
    """(key, certificate) of a minted CA, or (None, None) when none was given; refused unless a valid CA pair."""
    key = _minted_key(minted, CA_KEY, "CA key")
    cert = _first(load_certs(minted.get(CA_CERT)))
    if key is None and cert is None:
        return None, None
    if key is None or cert is None or _public_der(key) != _public_der(cert):
        raise SecretsError("the CA minted by community.crypto lacks its key or certificate, or they are not a pair")
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca or not_after(cert) <= now:
        raise SecretsError("the CA certificate minted by community.crypto is not a CA certificate valid now")
    return key, cert


def _minted_server(minted, ca_cert, server_key, names, now, renew_days):
    """The minted server certificate, or None when none was given; refused unless the CA, key, names and validity fit."""
    if not minted.get(SERVER_CERT):
        return None
    cert = _first(load_certs(minted[SERVER_CERT]))
    if cert is None:
        problem = "not a PEM certificate"
    elif ca_cert is None or server_key is None:
        problem = "minted without the CA or the server key it needs"
    else:
        problem = _server_problem(cert, ca_cert, server_key, names, now, renew_days)
    if problem:
        raise SecretsError("the server certificate minted by community.crypto does not fit: %s" % problem)
    return cert


def _provided(existing, inputs, names, now, result, want):
    missing = [o for o, v in (("windows_registry_tls_certificate", inputs.certificate), ("windows_registry_tls_key", inputs.key)) if not v]
    if missing:
        raise SecretsError("windows_registry_tls=provided needs %s (PEM content, or the matching *_src path on the controller)"
                           % " and ".join(missing))
    certs = load_certs(inputs.certificate)
    if not certs:
        raise SecretsError("windows_registry_tls_certificate holds no PEM certificate")
    chain = load_certs(inputs.chain) if inputs.chain else []
    if inputs.chain and not chain:
        raise SecretsError("windows_registry_tls_chain holds no PEM certificate")
    key = load_key(inputs.key)
    if key is None:
        raise SecretsError("windows_registry_tls_key is not an unencrypted PEM private key (decrypt it first, for example "
                           "from Ansible Vault)")
    leaf = certs[0]
    if _public_der(leaf) != _public_der(key):
        raise SecretsError("windows_registry_tls_key does not belong to windows_registry_tls_certificate (%s)"
                           % leaf.subject.rfc4514_string())
    if not_after(leaf) <= now:
        raise SecretsError("windows_registry_tls_certificate expired on %s: give a valid certificate" % not_after(leaf).isoformat())
    if not_after(leaf) <= now + datetime.timedelta(days=inputs.renew_days):
        result.warnings.append("the provided certificate expires on %s, within windows_registry_tls_renew_days=%d: "
                               "replace it" % (not_after(leaf).date().isoformat(), inputs.renew_days))
    uncovered = [n for n in names if n not in cert_names(leaf)]
    if uncovered:
        result.warnings.append("the provided certificate is not valid for %s (it names %s)"
                               % (", ".join(uncovered), ", ".join(cert_names(leaf)) or "no SAN"))
    full = []
    for cert in certs + chain:
        if cert not in full:
            full.append(cert)
    want(SERVER_CERT, b"".join(cert_pem(c) for c in full))
    given_key = inputs.key.encode() if isinstance(inputs.key, str) else inputs.key
    want(SERVER_KEY, given_key.strip() + b"\n")
    ca_certs = load_certs(inputs.ca) if inputs.ca else []
    if inputs.ca and not ca_certs:
        raise SecretsError("windows_registry_tls_ca holds no PEM certificate")
    if ca_certs:
        top = full[-1]
        if not any(signed_by(top, ca) or top == ca for ca in ca_certs):
            raise SecretsError("windows_registry_tls_ca did not sign the certificate chain (its last certificate is issued "
                               "by %s): give the CA that clients are to trust" % top.issuer.rfc4514_string())
        want(TLS_CA, b"".join(cert_pem(c) for c in ca_certs))
    _tls_facts(result, leaf, ca_certs[0] if ca_certs else None, cert_names(leaf))


def _tls_facts(result, server, ca_cert, names):
    result.facts.update(
        names=names,
        not_after=not_after(server).isoformat(),
        fingerprint_sha256=fingerprint(server),
        ca_fingerprint_sha256=fingerprint(ca_cert) if ca_cert is not None else "",
        ca_cert=cert_pem(ca_cert).decode("ascii") if ca_cert is not None else "",
    )
