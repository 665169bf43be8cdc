"""Starts the ACME CSE (extracted from its git dir) on this machine for scripts/interop/acme.sh.

Our code, not ACME's: it adapts the machine to ACME, never ACME's oneM2M behaviour.
  * import-only stand-ins for what Debian's Python lacks (the harness shims of the conformance suite for coapthon,
    websockets.sync, paho.mqtt.enums and plotext; here the text UI and flask_cors, both switched off in acme.ini);
  * shapely 1.8 and rdflib 6 names that ACME imports from newer releases;
  * a client certificate for ACME's outgoing HTTPS: ACME's HTTP client (requests) has no setting for one, and every
    CSE-to-CSE hop into Warden must be mutual TLS. The CSE certificate of ACME's CSE-ID is presented and the peer
    is verified against the interop CA, as a TLS sidecar in client mode would do.
Environment: INTEROP_SHIMS (dir with coapthon/ and preload.py), INTEROP_PYLIB (dir with tinydb/), INTEROP_ACME
(dir with acmecse/), INTEROP_CLIENT_CERT, INTEROP_CLIENT_KEY, INTEROP_CA. Arguments are ACME's.
"""
import enum
import os
import runpy
import sys
import types

sys.path[0:0] = [os.environ['INTEROP_SHIMS'], os.environ['INTEROP_PYLIB'], os.environ['INTEROP_ACME']]
import preload  # noqa: E402,F401  (installs the stand-ins)

import shapely  # noqa: E402
import shapely.geometry  # noqa: E402
for name in ('Point', 'Polygon', 'LineString', 'MultiPoint', 'MultiLineString', 'MultiPolygon'):
    if not hasattr(shapely, name):
        setattr(shapely, name, getattr(shapely.geometry, name))

from rdflib import ConjunctiveGraph, Dataset, Graph  # noqa: E402
for cls in (Dataset, ConjunctiveGraph):
    if not hasattr(cls, 'get_graph'):
        cls.get_graph = lambda self, identifier: Graph(store=self.store, identifier=identifier)


class ACMETuiQuitReason(enum.IntEnum):
    undefined = 0
    quitTUI = 1
    quitAll = 2
    restart = 3


class ACMETuiApp:
    def __init__(self, *args, **kwargs):
        raise RuntimeError('the text UI is not available here ([textui] startWithTUI=false)')


tui = types.ModuleType('acmecse.textui.ACMETuiApp')
tui.ACMETuiApp, tui.ACMETuiQuitReason = ACMETuiApp, ACMETuiQuitReason
sys.modules['acmecse.textui.ACMETuiApp'] = tui


def _no_cors(*args, **kwargs):
    raise RuntimeError('flask_cors is not available here: keep [http.cors] enable=false')


cors = types.ModuleType('flask_cors')
cors.CORS = _no_cors
sys.modules['flask_cors'] = cors

import requests.sessions  # noqa: E402

_cert, _key, _ca = os.environ['INTEROP_CLIENT_CERT'], os.environ['INTEROP_CLIENT_KEY'], os.environ['INTEROP_CA']
_request = requests.sessions.Session.request


def _request_with_credential(self, method, url, *args, **kwargs):
    if isinstance(url, str) and url.startswith('https://'):
        kwargs['cert'] = (_cert, _key)
        kwargs['verify'] = _ca
    return _request(self, method, url, *args, **kwargs)


requests.sessions.Session.request = _request_with_credential

sys.argv = ['acmecse'] + sys.argv[1:]
runpy.run_module('acmecse', run_name='__main__', alter_sys=True)
