"""The moto emulator's server, started by scripts/local-services.ts, with three costs taken away.

moto's server finds the backend of every request by listing its own package directory (a
directory listing and about 180 `stat` calls a request), writes one access-log line a request to
a pipe that Node then reads, and finds a secret by scanning every secret it holds. Measured on the
test machine (GetSecretValue, moto's CPU time a call): 5.4 ms with 20 secrets and 5.2 ms with
3,000 before, 2.9 ms and 2.8-3.2 ms after. The listing cannot change while the server runs, so it
is taken once; access lines are dropped (errors are still logged); a secret asked for by the name
it is stored under is found at once. Nothing else differs from `python -m moto.server`, whose
arguments this takes.
"""

import logging
import sys

import moto.backends as backends
from moto.secretsmanager.models import SecretsStore
from moto.server import main

_list = getattr(backends, "list_of_moto_modules", None)
if callable(_list):
    _modules = tuple(_list())
    backends.list_of_moto_modules = lambda: iter(_modules)

# A secret is found by scanning every secret the server holds (its name or ARN compared), twice a
# request: the cost grows with every secret a long run creates. The store's keys are the secrets'
# names (a replica's, its ARN), so a key held as it is is answered at once; anything else (a
# partial ARN, a full one) still takes moto's own scan.
_getitem, _contains, _get = SecretsStore.__getitem__, SecretsStore.__contains__, SecretsStore.get
SecretsStore.__getitem__ = lambda self, key: dict.__getitem__(self, key) if dict.__contains__(self, key) else _getitem(self, key)
SecretsStore.__contains__ = lambda self, key: dict.__contains__(self, key) or _contains(self, key)
SecretsStore.get = lambda self, key, default=None: dict.__getitem__(self, key) if dict.__contains__(self, key) else _get(self, key)

logging.getLogger("werkzeug").setLevel(logging.ERROR)

if __name__ == "__main__":
    main(sys.argv[1:])
