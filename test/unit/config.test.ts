import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ConfigError, defaultConfig, loadConfig } from '../../src/config/config.js';
import { parsePeerCas, parsePeers } from '../../src/config/peers.js';
import { tempDatabase } from '../harness.js';

const WARDEN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));

describe('configuration', () => {
  it('has a default for every key', () => {
    const c = defaultConfig();
    assert.equal(c.cse.type, 'IN');
    assert.equal(c.cse.id, 'id-in');
    assert.equal(c.cse.rn, 'cse-in');
    assert.equal(c.http.host, '127.0.0.1');
    assert.equal(c.http.port, 8080);
    assert.equal(c.security.admin, 'CAdmin');
    assert.equal(c.storage.path, 'data/warden.sqlite');
  });

  it('allows CSE links through MQTT only over mqtts with a client certificate, and a mqtts registrar only as that broker', () => {
    const tls = { 'tls.cert': 'c.pem', 'tls.key': 'c.key', 'tls.ca': 'ca.pem', 'cse.id': 'id-mn', 'cse.rn': 'cse-mn', 'cse.type': 'MN' };
    const broker = { 'mqtt.enabled': 'true', 'mqtt.url': 'mqtts://127.0.0.1:8883', 'mqtt.ca': 'ca.pem', 'mqtt.cert': 'c.pem', 'mqtt.key': 'c.key' };
    assert.throws(() => loadConfig({ flags: { ...broker, 'mqtt.url': 'mqtt://127.0.0.1:1883', 'mqtt.cseLinks': 'true' } }), /mqtt\.cseLinks: CSE links over MQTT need/);
    assert.throws(() => loadConfig({ flags: { ...broker, 'mqtt.cert': '', 'mqtt.cseLinks': 'true' } }), /mqtt\.cseLinks/);
    assert.throws(() => loadConfig({ flags: { ...tls, ...broker, 'registrar.url': 'mqtts://127.0.0.1:8883', 'registrar.cseId': 'id-in', 'registrar.rn': 'cse-in' } }), /registrar\.url: an mqtts:\/\/ registrar must be the broker of mqtt\.url, with mqtt\.cseLinks=true/);
    assert.throws(() => loadConfig({ flags: { ...tls, ...broker, 'mqtt.cseLinks': 'true', 'registrar.url': 'mqtts://10.0.0.1:8883', 'registrar.cseId': 'id-in', 'registrar.rn': 'cse-in' } }), /must be the broker of mqtt\.url/);
    assert.throws(() => loadConfig({ flags: { ...tls, 'registrar.url': 'mqtt://127.0.0.1:1883' } }), /registrar\.url/);
    const linked = loadConfig({ flags: { ...tls, ...broker, 'mqtt.cseLinks': 'true', 'registrar.url': 'mqtts://127.0.0.1:8883', 'registrar.cseId': 'id-in', 'registrar.rn': 'cse-in', 'registrar.poa': 'mqtts://127.0.0.1:8883' } });
    assert.equal(linked.mqtt.cseLinks, true);
    assert.equal(linked.registrar.url, 'mqtts://127.0.0.1:8883');
  });

  it("takes peer SPs (peers.list) only on an IN-CSE with TLS, as SP-ID/CSE-ID=https URL of another SP, each once", () => {
    const tls = { 'tls.cert': 'c.pem', 'tls.key': 'c.key', 'tls.ca': 'ca.pem', 'http.tls': 'true', 'tls.clientAuth': 'optional', 'cse.spid': 'sp-a.example.net' };
    const ok = loadConfig({ flags: { ...tls, 'peers.list': 'sp-b.example.net/id-in=https://10.0.0.2:8443, sp-c.example.net/in-c=https://in.sp-c.example:443' } });
    assert.deepEqual(parsePeers(ok.peers.list, ok.cse.spid), [
      { spId: 'sp-b.example.net', csi: '/id-in', url: 'https://10.0.0.2:8443' },
      { spId: 'sp-c.example.net', csi: '/in-c', url: 'https://in.sp-c.example:443' },
    ]);
    assert.throws(() => loadConfig({ flags: { 'cse.spid': 'sp-a.example.net', 'peers.list': 'sp-b.example.net/id-in=https://10.0.0.2:8443' } }), /peers\.list: peer SPs need tls\.cert/);
    assert.throws(() => loadConfig({ flags: { ...tls, 'tls.clientAuth': 'none', 'peers.list': 'sp-b.example.net/id-in=https://10.0.0.2:8443' } }), /peers\.list: peer SPs need http\.tls=true and tls\.clientAuth/);
    assert.throws(() => loadConfig({ flags: { ...tls, 'cse.type': 'MN', 'cse.id': 'id-mn', 'cse.rn': 'cse-mn', 'peers.list': 'sp-b.example.net/id-in=https://10.0.0.2:8443' } }), /peers\.list: only an IN-CSE/);
    assert.throws(() => loadConfig({ flags: { ...tls, 'peers.list': 'sp-b.example.net/id-in=http://10.0.0.2:8080' } }), /peers\.list: .* is not SP-ID\/CSE-ID=https/);
    assert.throws(() => loadConfig({ flags: { ...tls, 'peers.list': 'SP-A.example.net/id-in=https://10.0.0.2:8443' } }), /own SP/);
    assert.throws(() => loadConfig({ flags: { ...tls, 'peers.list': 'sp-b.example.net/id-in=https://a:1,SP-B.example.net/x=https://b:1' } }), /listed twice/);
  });

  it('takes the CAs of peer SPs (peers.ca) as one file for one peer, else one SP-ID=file for each peer', () => {
    const tls = { 'tls.cert': 'c.pem', 'tls.key': 'c.key', 'tls.ca': 'ca.pem', 'http.tls': 'true', 'tls.clientAuth': 'optional', 'cse.spid': 'sp-a.example.net' };
    const one = 'sp-b.example.net/id-in=https://10.0.0.2:8443';
    const two = `${one},sp-c.example.net/id-in=https://10.0.0.3:8443`;
    const peers = (list: string): ReturnType<typeof parsePeers> => parsePeers(list, 'sp-a.example.net');
    assert.deepEqual(parsePeerCas(loadConfig({ flags: { ...tls, 'peers.list': one, 'peers.ca': '/etc/warden/b=ca.pem' } }).peers.ca, peers(one)), [{ path: '/etc/warden/b=ca.pem', spIds: ['sp-b.example.net'] }]);
    const named = loadConfig({ flags: { ...tls, 'peers.list': two, 'peers.ca': 'SP-C.example.net=/c.pem, sp-b.example.net=/b.pem' } });
    assert.deepEqual(parsePeerCas(named.peers.ca, peers(two)), [
      { path: '/c.pem', spIds: ['sp-c.example.net'] },
      { path: '/b.pem', spIds: ['sp-b.example.net'] },
    ]);
    assert.throws(() => loadConfig({ flags: { ...tls, 'peers.list': two, 'peers.ca': '/both.pem' } }), /peers\.ca: peers\.list names 2 peer SPs/);
    assert.throws(() => loadConfig({ flags: { ...tls, 'peers.list': two, 'peers.ca': 'sp-b.example.net=/b.pem' } }), /no CA file is named for peer SP sp-c\.example\.net/);
    assert.throws(() => loadConfig({ flags: { ...tls, 'peers.list': two, 'peers.ca': 'sp-b.example.net=/b.pem,sp-d.example.net=/d.pem' } }), /sp-d\.example\.net is no SP of peers\.list/);
    assert.throws(() => loadConfig({ flags: { ...tls, 'peers.list': two, 'peers.ca': 'sp-b.example.net=/b.pem,SP-B.example.net=/c.pem' } }), /named twice/);
  });

  it('layers file < environment < flag', () => {
    const file = tempDatabase().replace(/warden\.sqlite$/, 'config.json');
    writeFileSync(file, JSON.stringify({ http: { port: 1000 }, cse: { id: 'from-file', rn: 'file-rn' } }));
    const fileOnly = loadConfig({ file });
    assert.equal(fileOnly.http.port, 1000);
    const env = loadConfig({ file, env: { WARDEN_HTTP_PORT: '2000', WARDEN_CSE_ID: 'from-env' } });
    assert.equal(env.http.port, 2000);
    assert.equal(env.cse.id, 'from-env');
    assert.equal(env.cse.rn, 'file-rn');
    const flag = loadConfig({ file, env: { WARDEN_HTTP_PORT: '2000' }, flags: { 'http.port': '3000' } });
    assert.equal(flag.http.port, 3000);
  });

  it('names the key and the problem of an invalid value', () => {
    assert.throws(() => loadConfig({ flags: { 'http.port': '70000' } }), (e: unknown) => e instanceof ConfigError && /http\.port: 70000 is out of range/.test(e.message));
    assert.throws(() => loadConfig({ flags: { 'cse.type': 'XX' } }), /cse\.type: 'XX' is not one of IN, MN, ASN/);
    assert.throws(() => loadConfig({ env: { WARDEN_HTTP_PORT: 'eighty' } }), /http\.port: 'eighty' is not an integer \(from environment WARDEN_HTTP_PORT\)/);
    assert.throws(() => loadConfig({ flags: { 'cse.id': 'bad id/x' } }), /cse\.id/);
    assert.throws(() => loadConfig({ flags: { 'no.such': '1' } }), /unknown configuration key 'no\.such'/);
  });

  it('warden --help lists the keys; an invalid configuration stops start-up with one line', () => {
    const help = spawnSync(process.execPath, [WARDEN, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /warden <command>/);
    assert.match(help.stdout, /--http\.port=<v>/);
    const bad = spawnSync(process.execPath, [WARDEN, 'serve', '--http.port=-1'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /invalid configuration: http\.port/);
  });
});
