"""How the tests' moto servers are set up, in one place: the in-process server of the session (tests/conftest.py,
``_moto_server``) and the module servers, each a process of its own (``python -m tests.moto_server POLICY...``,
the ``moto_url`` fixture). No pytest here: the module servers' processes import only this and moto."""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import sys
from typing import Any


def only_used_managed_policies(names: tuple[str, ...]) -> None:
    """Make moto's IAM (in this process) load only the AWS managed policies ``names`` of its bundle: it parses all
    ~1,200 whenever it builds an account's IAM (every reset, every further account a test acts in: ~0.7 s each)."""
    import moto.iam.models
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    bundled = json.loads(aws_managed_policies_data)
    subset = json.dumps({name: bundled[name] for name in names})
    # moto's IAM backend reads this module attribute when it builds an account (moto 5.1).
    setattr(moto.iam.models, "aws_managed_policies_data", subset)  # noqa: B010 (moto does not export the name)


def cache_moto_module_list() -> None:
    """moto's server lists its own package folder (~180 stat calls) on every request to find the service
    (moto 5.2 ``werkzeug_app.get_backend_for_host``), about a quarter of the CPU a request costs; the list
    cannot change while the server runs, so it is read once."""
    import moto.backends

    modules = tuple(moto.backends.list_of_moto_modules())
    setattr(moto.backends, "list_of_moto_modules", lambda: modules)  # noqa: B010 (moto does not export the name)


def one_private_key_for_symmetric_kms_keys() -> None:
    """moto makes a 2,048-bit RSA private key for every KMS key it creates, symmetric ones too (moto 5.2
    ``kms.models.Key``: ~30 ms each), and creates a KMS key for every DynamoDB table (its default encryption) and
    every ``CreateKey``. A symmetric key's private half is never used: KMS signs and verifies only with asymmetric
    keys, and moto signs only with a key whose usage is ``SIGN_VERIFY``. So every symmetric key of this process shares
    one; an asymmetric key still gets its own."""
    import moto.kms.models

    generate = getattr(moto.kms.models, "generate_private_key")  # noqa: B009 (moto does not export the name)
    shared = functools.cache(lambda: generate("SYMMETRIC_DEFAULT"))

    def private_key(key_spec: str) -> Any:
        return shared() if key_spec == "SYMMETRIC_DEFAULT" else generate(key_spec)

    setattr(moto.kms.models, "generate_private_key", private_key)  # noqa: B010 (moto does not export the name)


def start(managed_policies: tuple[str, ...]) -> Any:
    """A moto server on 127.0.0.1 at a free port, in a thread of this process, started."""
    from moto.server import ThreadedMotoServer

    only_used_managed_policies(managed_policies)
    cache_moto_module_list()
    one_private_key_for_symmetric_kms_keys()
    # werkzeug logs every request at INFO (to stderr, and into pytest's log capture of the test that made it).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


def freeze_what_was_built() -> None:
    """Python's cyclic garbage collector, tuned for a long-lived test process (the pytest workers after collection,
    tests/conftest.py; the module servers once started): everything made so far (the imports: moto, botocore's
    models, pytest, the bindings) is frozen out of its scans, and it runs after 50,000 new container objects
    instead of 700. Objects are still freed as soon as nothing refers to them; only cycles wait a little longer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def serve(managed_policies: tuple[str, ...]) -> None:
    """A module server's process: moto keeps its accounts in module globals, so two servers in one process share
    (and reset) the same state. It loads ``managed_policies``, as an account set up once for a whole module
    usually attaches some, prints its address and runs until its standard input closes."""
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    server = start(managed_policies)
    freeze_what_was_built()
    host, port = server.get_host_and_port()
    print(f"{host}:{port}", flush=True)
    # Until the test module's fixture closes the pipe. The server's thread is a daemon and ends with the process;
    # moto's ``stop()`` would first wait out ``serve_forever``'s 0.5 s poll.
    sys.stdin.read()


if __name__ == "__main__":
    serve(tuple(sys.argv[1:]))
